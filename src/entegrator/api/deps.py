"""What routes depend on, as named types: the runtime, the caller and its role.

``Principal`` is the authenticated API key (401 without a valid one, 429 while its address or
key prefix is throttled); ``Writer`` a key whose role may issue and answer documents;
``WebhookAdmin`` one that may manage webhooks (403 otherwise). Dependencies that touch the
database are plain functions: FastAPI runs them in the request threads, off the event loop.
"""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from entegrator.api.errors import (
    ForbiddenError,
    InvalidApiKeyError,
    TooManyAttemptsError,
    UnauthenticatedError,
)
from entegrator.api.throttle import FailureThrottle
from entegrator.rendering.sandbox import Renderer
from entegrator.runtime import Runtime, WorkerHealth
from entegrator.store import keys

__all__ = [
    "WEBHOOK_ROLES",
    "WRITE_ROLES",
    "Credentials",
    "Principal",
    "RendererDep",
    "RuntimeDep",
    "WebhookAdmin",
    "WorkerDep",
    "Writer",
]

WRITE_ROLES = frozenset({"owner", "accountant", "api"})
WEBHOOK_ROLES = frozenset({"owner", "api"})


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def get_renderer(request: Request) -> Renderer:
    renderer: Renderer = request.app.state.renderer
    return renderer


def get_worker(request: Request) -> WorkerHealth | None:
    """The health of the worker this process runs beside the API (``serve --with-worker``)."""
    worker: WorkerHealth | None = request.app.state.worker
    return worker


def get_throttle(request: Request) -> FailureThrottle:
    """The app's one failure throttle (each API process counts its own failures)."""
    throttle: FailureThrottle = request.app.state.throttle
    return throttle


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
RendererDep = Annotated[Renderer, Depends(get_renderer)]
WorkerDep = Annotated[WorkerHealth | None, Depends(get_worker)]

bearer = HTTPBearer(auto_error=False, description="An API key: `Bearer ent_…`")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def principal(
    request: Request,
    runtime: RuntimeDep,
    throttle: Annotated[FailureThrottle, Depends(get_throttle)],
    credentials: Credentials,
) -> keys.ApiKey:
    """The API key of the request, checked before its body is read."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise UnauthenticatedError
    token = credentials.credentials.strip()
    client = request.client.host if request.client else None
    # Guessing is throttled per address and per key prefix, before any key is looked up.
    counted = (("address", client), ("prefix", token[:16]))
    wait = throttle.wait(*counted)
    if wait > 0:
        raise TooManyAttemptsError(retry_after=math.ceil(wait))
    with runtime.db.unscoped() as conn:
        key = keys.authenticate(conn, token)
    if key is None:
        throttle.failed(*counted)
        raise InvalidApiKeyError
    return key


Principal = Annotated[keys.ApiKey, Depends(principal)]


def writer(key: Principal) -> keys.ApiKey:
    if key.role not in WRITE_ROLES:
        raise ForbiddenError(role=key.role)
    return key


def webhook_admin(key: Principal) -> keys.ApiKey:
    if key.role not in WEBHOOK_ROLES:
        raise ForbiddenError(role=key.role)
    return key


Writer = Annotated[keys.ApiKey, Depends(writer)]
WebhookAdmin = Annotated[keys.ApiKey, Depends(webhook_admin)]
