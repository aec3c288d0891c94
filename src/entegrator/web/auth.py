"""Who is asking: the session cookie, the CSRF guard on every form, roles.

* ``CurrentUser``: the logged-in user (a ``PortalUser``, usable wherever the services take
  an API key); without a live session the page answers with a redirect to ``/giris``.
* ``require_role("owner", "accountant")``: a dependency that refuses (403) other roles;
  ``Writer`` (owner, accountant: may issue and answer documents) and ``Admin`` (owner) are
  the two the pages use.
* ``csrf_guard`` runs before every POST/PUT/PATCH/DELETE of the portal (an app-wide
  dependency): the form's ``csrf_token`` field, or the ``X-CSRF-Token`` header that htmx
  sends (``hx-headers`` on ``<body>``), must match the session's token; before login, the
  token of the login form's cookie. A form cannot forget it.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import secrets
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.concurrency import run_in_threadpool

from entegrator.runtime import Runtime
from entegrator.services.accounts import Accounts, ActiveSession, PortalUser

__all__ = [
    "ADMIN_ROLES",
    "LANG_COOKIE",
    "LOGIN_CSRF_COOKIE",
    "SESSION_COOKIE",
    "WRITE_ROLES",
    "Admin",
    "CsrfRefusedError",
    "CurrentUser",
    "ForbiddenPageError",
    "LoginRequiredError",
    "NotFoundPageError",
    "OptionalSession",
    "RuntimeDep",
    "Writer",
    "csrf_guard",
    "get_runtime",
    "optional_session",
    "require_role",
    "secure_cookies",
    "set_session_cookie",
]

SESSION_COOKIE = "entegrator_oturum"
LOGIN_CSRF_COOKIE = "entegrator_giris_csrf"
LANG_COOKIE = "entegrator_dil"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
WRITE_ROLES = frozenset({"owner", "accountant"})
ADMIN_ROLES = frozenset({"owner"})
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
log = logging.getLogger(__name__)


class LoginRequiredError(Exception):
    """No live session: the page sends the browser to ``/giris``."""

    def __init__(self, expired: bool = False) -> None:
        super().__init__("login required")
        self.expired = expired


class ForbiddenPageError(Exception):
    """The user's role may not do this (403)."""


class NotFoundPageError(Exception):
    """No such page or document for this tenant (404; another tenant's ids too)."""


class CsrfRefusedError(Exception):
    """A form without its CSRF token, or with another one (403)."""


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def _accounts(request: Request) -> Accounts:
    runtime: Runtime = request.app.state.runtime
    return runtime.accounts


async def optional_session(request: Request) -> ActiveSession | None:
    """The request's session (looked up once per request), or None."""
    if hasattr(request.state, "portal_session"):
        found: ActiveSession | None = request.state.portal_session
        return found
    token = request.cookies.get(SESSION_COOKIE)
    found = await run_in_threadpool(_accounts(request).session, token) if token else None
    request.state.portal_session = found
    return found


OptionalSession = Annotated[ActiveSession | None, Depends(optional_session)]


async def current_session(request: Request, session: OptionalSession) -> ActiveSession:
    if session is None or session.mfa_pending:
        raise LoginRequiredError(expired=SESSION_COOKIE in request.cookies)
    if not hasattr(request.state, "billing_banner"):
        request.state.billing_banner = await run_in_threadpool(
            billing_banner, request.app.state.runtime, session.user.tenant_id
        )
    return session


def billing_banner(runtime: Runtime, tenant_id: uuid.UUID) -> dict[str, Any] | None:
    """``BillingService.banner`` for the page's tenant (low or exhausted credits), read once
    per request; a failure to read it is logged and shows no banner rather than no page."""
    try:
        return runtime.billing.banner(tenant_id)
    except Exception:
        log.exception("the billing banner of tenant %s could not be read", tenant_id)
        return None


async def current_user(session: Annotated[ActiveSession, Depends(current_session)]) -> PortalUser:
    return session.user


CurrentUser = Annotated[PortalUser, Depends(current_user)]


def require_role(*roles: str) -> Callable[[PortalUser], Awaitable[PortalUser]]:
    """A dependency: the current user, when its role is one of ``roles`` (403 otherwise)."""
    allowed = frozenset(roles)

    async def check(user: CurrentUser) -> PortalUser:
        if user.role not in allowed:
            raise ForbiddenPageError
        return user

    return check


Writer = Annotated[PortalUser, Depends(require_role(*WRITE_ROLES))]
Admin = Annotated[PortalUser, Depends(require_role(*ADMIN_ROLES))]


async def csrf_guard(request: Request) -> None:
    """Refuses a state-changing request whose CSRF token is missing or wrong."""
    if request.method not in _UNSAFE:
        return
    session = await optional_session(request)
    if session is None and request.url.path == "/cikis":
        return  # logging out of a session that has ended already changes nothing
    expected = session.csrf_token if session is not None else request.cookies.get(LOGIN_CSRF_COOKIE)
    given = request.headers.get(CSRF_HEADER)
    form = None
    if given is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            given = value if isinstance(value, str) else None
    if not expected or not given or not hmac.compare_digest(expected, given):
        if form is not None:
            await form.close()  # an uploaded file's spool, which no page will close
        raise CsrfRefusedError


def new_login_csrf() -> str:
    return secrets.token_urlsafe(32)


def _loopback(host: str | None) -> bool:
    if host in (None, "localhost"):
        return host == "localhost"
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def secure_cookies(request: Request) -> bool:
    """Secure cookies, except over plain HTTP on loopback (``portal_secure_cookie``)."""
    runtime: Runtime = request.app.state.runtime
    mode = runtime.settings.portal_secure_cookie
    if mode != "auto":
        return mode == "always"
    return request.url.scheme == "https" or not _loopback(request.url.hostname)


def set_session_cookie(request: Request, response: Response, token: str | None) -> None:
    """The session cookie (HttpOnly, SameSite=Lax, Secure per ``secure_cookies``); None
    removes it."""
    if token is None:
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
        return
    response.set_cookie(
        SESSION_COOKIE,
        token,
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
    )
