"""What routes depend on, as named types: the runtime, the caller and its role.

``Principal`` is the authenticated API key (401 without a valid one, 429 while its address or
key prefix is throttled); ``Writer`` a key whose role may issue and answer documents;
``WebhookAdmin`` one that may manage webhooks (403 otherwise). Dependencies that touch the
database are plain functions: FastAPI runs them in the request threads, off the event loop.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from entegrator.api.errors import (
    ForbiddenError,
    InvalidAdminKeyError,
    InvalidApiKeyError,
    OperatorClosedError,
    TooManyAttemptsError,
    UnauthenticatedError,
)
from entegrator.api.throttle import FailureThrottle
from entegrator.rendering.sandbox import Renderer
from entegrator.runtime import Runtime, WorkerHealth
from entegrator.store import keys

__all__ = [
    "SETTINGS_ROLES",
    "WEBHOOK_ROLES",
    "WRITE_ROLES",
    "Credentials",
    "Operator",
    "Owner",
    "Principal",
    "RendererDep",
    "RuntimeDep",
    "SettingsAdmin",
    "WebhookAdmin",
    "WorkerDep",
    "Writer",
]

# Dependencies that do no I/O are ``async``: FastAPI runs them on the event loop, where a plain
# ``def`` would cost a hand-over to a request thread each (they share one GIL).
WRITE_ROLES = frozenset({"owner", "accountant", "api"})
WEBHOOK_ROLES = frozenset({"owner", "api"})
SETTINGS_ROLES = frozenset({"owner", "api"})
OWNER_ROLES = frozenset({"owner"})  # enrolment at GİB: the tenant's owner alone


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def get_renderer(request: Request) -> Renderer:
    renderer: Renderer = request.app.state.renderer
    return renderer


async def get_worker(request: Request) -> WorkerHealth | None:
    """The health of the worker this process runs beside the API (``serve --with-worker``)."""
    worker: WorkerHealth | None = request.app.state.worker
    return worker


async def get_throttle(request: Request) -> FailureThrottle:
    """The app's one failure throttle (each API process counts its own failures)."""
    throttle: FailureThrottle = request.app.state.throttle
    return throttle


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
RendererDep = Annotated[Renderer, Depends(get_renderer)]
WorkerDep = Annotated[WorkerHealth | None, Depends(get_worker)]

bearer = HTTPBearer(auto_error=False, description="An API key: `Bearer ent_…`")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


class KeyCache:
    """API keys recently found valid, for ``ttl`` seconds (one process's memory).

    An ERP sends many requests a second with one key: looking it up in the database for each
    one costs a hand-over to a request thread, more than the lookup itself. A revoked key is
    refused at most ``ttl`` seconds later; failed lookups are never kept."""

    def __init__(self, ttl: float = 1.0, size: int = 10_000) -> None:
        self.ttl = ttl
        self.size = size
        self._keys: dict[bytes, tuple[float, keys.ApiKey]] = {}

    def get(self, token: str, now: float) -> keys.ApiKey | None:
        hit = self._keys.get(hashlib.sha256(token.encode()).digest())
        return hit[1] if hit is not None and hit[0] > now else None

    def put(self, token: str, key: keys.ApiKey, now: float) -> None:
        if len(self._keys) >= self.size:
            self._keys.clear()
        self._keys[hashlib.sha256(token.encode()).digest()] = (now + self.ttl, key)


async def get_key_cache(request: Request) -> KeyCache:
    cache: KeyCache = request.app.state.key_cache
    return cache


def _lookup(runtime: Runtime, token: str) -> keys.ApiKey | None:
    with runtime.db.unscoped() as conn:
        return keys.authenticate(conn, token)


async def principal(
    request: Request,
    runtime: RuntimeDep,
    throttle: Annotated[FailureThrottle, Depends(get_throttle)],
    cache: Annotated[KeyCache, Depends(get_key_cache)],
    credentials: Credentials,
) -> keys.ApiKey:
    """The API key of the request, checked before its body is read."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise UnauthenticatedError
    token = credentials.credentials.strip()
    now = time.monotonic()
    known = cache.get(token, now)
    if known is not None:
        return known
    client = request.client.host if request.client else None
    # Guessing is throttled per address and per key prefix, before any key is looked up.
    counted = (("address", client), ("prefix", token[:16]))
    wait = throttle.wait(*counted)
    if wait > 0:
        raise TooManyAttemptsError(retry_after=math.ceil(wait))
    key = await run_in_threadpool(_lookup, runtime, token)  # the database, off the event loop
    if key is None:
        throttle.failed(*counted)
        raise InvalidApiKeyError
    cache.put(token, key, now)
    return key


Principal = Annotated[keys.ApiKey, Depends(principal)]


async def writer(key: Principal) -> keys.ApiKey:
    if key.role not in WRITE_ROLES:
        raise ForbiddenError(role=key.role)
    return key


async def webhook_admin(key: Principal) -> keys.ApiKey:
    if key.role not in WEBHOOK_ROLES:
        raise ForbiddenError(role=key.role)
    return key


async def settings_admin(key: Principal) -> keys.ApiKey:
    if key.role not in SETTINGS_ROLES:
        raise ForbiddenError(role=key.role)
    return key


async def owner(key: Principal) -> keys.ApiKey:
    if key.role not in OWNER_ROLES:
        raise ForbiddenError(role=key.role)
    return key


Owner = Annotated[keys.ApiKey, Depends(owner)]
Writer = Annotated[keys.ApiKey, Depends(writer)]
SettingsAdmin = Annotated[keys.ApiKey, Depends(settings_admin)]
WebhookAdmin = Annotated[keys.ApiKey, Depends(webhook_admin)]


async def operator(
    request: Request,
    runtime: RuntimeDep,
    throttle: Annotated[FailureThrottle, Depends(get_throttle)],
    credentials: Credentials,
) -> str:
    """The installation's operator (``ENTEGRATOR_ADMIN_KEY``), never a tenant's key; closed
    when no key is configured."""
    configured = runtime.settings.admin_key
    if configured is None or not configured.get_secret_value():
        raise OperatorClosedError
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise UnauthenticatedError
    client = request.client.host if request.client else None
    counted = (("address", client), ("prefix", "admin"))
    wait = throttle.wait(*counted)
    if wait > 0:
        raise TooManyAttemptsError(retry_after=math.ceil(wait))
    given = hashlib.sha256(credentials.credentials.strip().encode()).digest()
    wanted = hashlib.sha256(configured.get_secret_value().encode()).digest()
    if not hmac.compare_digest(given, wanted):
        throttle.failed(*counted)
        raise InvalidAdminKeyError
    return "operator"


Operator = Annotated[str, Depends(operator)]
