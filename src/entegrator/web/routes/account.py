"""``/hesap``: the user's own account (password, two-factor); ``/kullanicilar``: the
tenant's users, for admins (add a user, reset a password, which also lifts a lock-out)."""

from __future__ import annotations

import base64
import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from entegrator.services.accounts import AccountError, ActiveSession, totp_uri
from entegrator.web.auth import Admin, CurrentUser, NotFoundPageError, OptionalSession, RuntimeDep
from entegrator.web.i18n import translate
from entegrator.web.render import language, render

__all__ = ["router"]

router = APIRouter()


def _account_page(
    request: Request,
    runtime: RuntimeDep,
    user: CurrentUser,
    *,
    notice: str | None = None,
    error: str | None = None,
    totp_secret: str | None = None,
    status_code: int = 200,
) -> Response:
    lang = language(request)
    found = runtime.accounts.get_user(user.tenant_id, user.user_id)
    uri = None
    if totp_secret is not None:
        uri = totp_uri(base64.b32decode(totp_secret), user.email)
    return render(
        request,
        "account.html",
        title=translate("nav.account", lang),
        totp_on=found is not None and found.totp_secret is not None,
        totp_secret=totp_secret,
        totp_uri=uri,
        notice=notice,
        error=error,
        status_code=status_code,
    )


@router.get("/hesap", response_class=HTMLResponse)
def account(request: Request, runtime: RuntimeDep, user: CurrentUser) -> Response:
    return _account_page(request, runtime, user)


def _message(exc: AccountError, lang: str) -> str:
    return exc.text_en if lang == "en" else exc.text_tr


@router.post("/hesap/parola", response_class=HTMLResponse)
def change_password(
    request: Request,
    runtime: RuntimeDep,
    user: CurrentUser,
    session: OptionalSession,
    *,
    current: Annotated[str, Form(max_length=256)] = "",
    new: Annotated[str, Form(max_length=256)] = "",
    again: Annotated[str, Form(max_length=256)] = "",
) -> Response:
    lang = language(request)
    if new != again:
        return _account_page(
            request, runtime, user, error=translate("account.mismatch", lang), status_code=422
        )
    keep = session.token_hash if isinstance(session, ActiveSession) else None
    try:
        ok = runtime.accounts.change_password(user, current=current, new=new, keep_session=keep)
    except AccountError as exc:
        return _account_page(request, runtime, user, error=_message(exc, lang), status_code=422)
    if not ok:
        return _account_page(
            request,
            runtime,
            user,
            error=translate("account.wrong_current", lang),
            status_code=422,
        )
    return _account_page(request, runtime, user, notice=translate("account.changed", lang))


@router.post("/hesap/iki-adim", response_class=HTMLResponse)
def totp_start_or_confirm(
    request: Request,
    runtime: RuntimeDep,
    user: CurrentUser,
    secret: Annotated[str, Form(max_length=64)] = "",
    code: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Without a secret: a new one to scan; with a secret and a code: two-factor on."""
    lang = language(request)
    if not secret:
        fresh = base64.b32encode(runtime.accounts.new_totp_secret()).decode()
        return _account_page(request, runtime, user, totp_secret=fresh)
    try:
        raw = base64.b32decode(secret)
    except ValueError:
        raw = b""
    if len(raw) != 20 or not runtime.accounts.enable_totp(user, raw, code):
        return _account_page(
            request,
            runtime,
            user,
            totp_secret=secret if len(raw) == 20 else None,
            error=translate("login.totp_wrong", lang),
            status_code=422,
        )
    return _account_page(request, runtime, user, notice=translate("account.totp_on", lang))


@router.post("/hesap/iki-adim/kapat", response_class=HTMLResponse)
def totp_off(request: Request, runtime: RuntimeDep, user: CurrentUser) -> Response:
    runtime.accounts.disable_totp(user.tenant_id, user.user_id)
    lang = language(request)
    return _account_page(request, runtime, user, notice=translate("account.totp_off", lang))


# -- the tenant's users (admins) -----------------------------------------------------------


def _users_page(
    request: Request,
    runtime: RuntimeDep,
    user: Admin,
    *,
    notice: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    lang = language(request)
    return render(
        request,
        "users.html",
        title=translate("nav.users", lang),
        people=runtime.accounts.list_users(user.tenant_id),
        now=runtime.clock(),
        notice=notice,
        error=error,
        status_code=status_code,
    )


@router.get("/kullanicilar", response_class=HTMLResponse)
def users_list(request: Request, runtime: RuntimeDep, user: Admin) -> Response:
    return _users_page(request, runtime, user)


@router.post("/kullanicilar", response_class=HTMLResponse)
def users_create(
    request: Request,
    runtime: RuntimeDep,
    user: Admin,
    *,
    email: Annotated[str, Form(max_length=254)] = "",
    role: Annotated[str, Form(max_length=20)] = "viewer",
    password: Annotated[str, Form(max_length=256)] = "",
) -> Response:
    lang = language(request)
    if role not in ("owner", "accountant", "viewer"):
        raise NotFoundPageError
    try:
        runtime.accounts.create_user(user.tenant_id, email=email, role=role, password=password)
    except AccountError as exc:
        return _users_page(request, runtime, user, error=_message(exc, lang), status_code=422)
    return _users_page(request, runtime, user, notice=translate("users.created", lang))


@router.post("/kullanicilar/{user_id:uuid}/parola", response_class=HTMLResponse)
def users_reset(
    request: Request,
    user_id: uuid.UUID,
    runtime: RuntimeDep,
    user: Admin,
    password: Annotated[str, Form(max_length=256)] = "",
) -> Response:
    lang = language(request)
    if runtime.accounts.get_user(user.tenant_id, user_id) is None:
        raise NotFoundPageError
    try:
        runtime.accounts.reset_password(user.tenant_id, user_id, password)
    except AccountError as exc:
        return _users_page(request, runtime, user, error=_message(exc, lang), status_code=422)
    return _users_page(request, runtime, user, notice=translate("users.reset", lang))
