"""Logging in and out: ``/giris`` (e-mail and password), ``/giris/dogrulama`` (the TOTP
code when two-factor is on), ``/cikis``, and the language switch ``/dil/{tr|en}``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from entegrator.web import formatting
from entegrator.web.auth import (
    LANG_COOKIE,
    LOGIN_CSRF_COOKIE,
    LoginRequiredError,
    OptionalSession,
    RuntimeDep,
    new_login_csrf,
    secure_cookies,
    set_session_cookie,
)
from entegrator.web.i18n import LANGUAGES, translate
from entegrator.web.render import language, render
from entegrator.web.throttle import AddressThrottle

__all__ = ["router", "safe_next"]

router = APIRouter()


def safe_next(value: str | None) -> str:
    """A local path to go to after login; anything else (another site) is the dashboard."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/panel"
    if any(ord(c) < 32 for c in value) or len(value) > 500:
        return "/panel"
    return value


def _login_page(
    request: Request,
    *,
    next_path: str,
    email: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or new_login_csrf()
    lang = language(request)
    response = render(
        request,
        "login.html",
        title=translate("login.title", lang),
        csrf_token=token,
        next_path=next_path,
        email=email,
        error=error,
        status_code=status_code,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
    )
    return response


@router.get("/giris", response_class=HTMLResponse)
async def login_form(
    request: Request, session: OptionalSession, sonra: str | None = None, bitti: int = 0
) -> Response:
    if session is not None and not session.mfa_pending:
        return RedirectResponse(safe_next(sonra), status_code=303)
    lang = language(request)
    notice_error = translate("login.expired", lang) if bitti else None
    return _login_page(request, next_path=safe_next(sonra), error=notice_error)


def _throttle(request: Request) -> AddressThrottle:
    throttle: AddressThrottle = request.app.state.login_throttle
    return throttle


@router.post("/giris", response_class=HTMLResponse)
async def login(
    request: Request,
    runtime: RuntimeDep,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    sonra: Annotated[str, Form(max_length=500)] = "/panel",
) -> Response:
    lang = language(request)
    address = request.client.host if request.client else None
    throttle = _throttle(request)
    if throttle.blocked(address):
        return _login_page(
            request,
            next_path=safe_next(sonra),
            email=email,
            error=translate("login.throttled", lang),
            status_code=429,
        )
    result = await run_in_threadpool(runtime.accounts.login, email, password, address=address)
    if not result.ok or result.token is None:
        throttle.failed(address)
        if result.reason == "locked":
            message = translate(
                "login.locked", lang, until=formatting.datetime(result.locked_until)
            )
        else:
            message = translate("login.invalid", lang)
        return _login_page(
            request, next_path=safe_next(sonra), email=email, error=message, status_code=401
        )
    target = "/giris/dogrulama?sonra=" if result.mfa_pending else ""
    response = RedirectResponse(
        (target + safe_next(sonra)) if target else safe_next(sonra), status_code=303
    )
    set_session_cookie(request, response, result.token)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


@router.get("/giris/dogrulama", response_class=HTMLResponse)
async def totp_form(
    request: Request, session: OptionalSession, sonra: str | None = None
) -> Response:
    if session is None:
        raise LoginRequiredError
    if not session.mfa_pending:
        return RedirectResponse(safe_next(sonra), status_code=303)
    lang = language(request)
    return render(
        request,
        "totp.html",
        title=translate("login.totp_title", lang),
        csrf_token=session.csrf_token,
        next_path=safe_next(sonra),
    )


@router.post("/giris/dogrulama", response_class=HTMLResponse)
async def totp_verify(
    request: Request,
    runtime: RuntimeDep,
    session: OptionalSession,
    code: Annotated[str, Form(max_length=10)] = "",
    sonra: Annotated[str, Form(max_length=500)] = "/panel",
) -> Response:
    if session is None:
        raise LoginRequiredError
    if not session.mfa_pending:
        return RedirectResponse(safe_next(sonra), status_code=303)
    ok = await run_in_threadpool(runtime.accounts.verify_second_factor, session, code)
    if not ok:
        lang = language(request)
        return render(
            request,
            "totp.html",
            title=translate("login.totp_title", lang),
            csrf_token=session.csrf_token,
            next_path=safe_next(sonra),
            error=translate("login.totp_wrong", lang),
            status_code=401,
        )
    return RedirectResponse(safe_next(sonra), status_code=303)


@router.post("/cikis")
async def logout(request: Request, runtime: RuntimeDep, session: OptionalSession) -> Response:
    if session is not None:
        await run_in_threadpool(runtime.accounts.logout, session)
    response = RedirectResponse("/giris", status_code=303)
    set_session_cookie(request, response, None)
    return response


@router.get("/dil/{lang}")
async def switch_language(request: Request, lang: str, sonra: str | None = None) -> Response:
    response = RedirectResponse(safe_next(sonra), status_code=303)
    if lang in LANGUAGES:
        response.set_cookie(
            LANG_COOKIE,
            lang,
            path="/",
            max_age=365 * 86400,
            samesite="lax",
            secure=secure_cookies(request),
            httponly=True,
        )
    return response
