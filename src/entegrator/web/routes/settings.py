"""``/ayarlar``: API keys (a new key's secret shown once), webhooks, the seal (validity,
expiry warning, upload), number series, company details and logo. Admins only; the logo
itself may be read by every user of the tenant (views print it)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from entegrator.errors import EntegratorError
from entegrator.runtime import Runtime
from entegrator.services import company, portal_settings
from entegrator.services.company import DETAIL_FIELDS
from entegrator.web import forms_text as _texts  # noqa: F401 - registers the pages' words
from entegrator.web.auth import Admin, CurrentUser, NotFoundPageError, RuntimeDep
from entegrator.web.i18n import translate
from entegrator.web.render import language, render, security_headers

__all__ = ["router"]

router = APIRouter()

# Notices a redirect may name (``?bilgi=``): nothing else is shown.
NOTICES = {
    "anahtar-iptal": "settings.key_revoked",
    "webhook-kaldirildi": "settings.webhook_removed",
    "seriler": "settings.series_saved",
    "sirket": "settings.company_saved",
    "logo": "settings.logo_saved",
}
MAX_UPLOAD = 1024 * 1024


def _state(runtime: Runtime, user: Admin) -> dict[str, Any]:
    tenant = runtime.invoices.tenant_of(user.tenant_id)
    return {
        "tenant": tenant,
        "keys": portal_settings.list_keys(runtime.db, user.tenant_id),
        "key_roles": portal_settings.KEY_ROLES,
        "webhooks": [w for w in runtime.webhooks.endpoints_of(user) if w["active"]],
        "seal": portal_settings.seal_status(runtime.db, user.tenant_id, runtime.clock()),
        "series": runtime.invoices.series_defaults(user.tenant_id),
        "details": company.details(runtime.db, user.tenant_id),
        "detail_fields": DETAIL_FIELDS,
        "has_logo": company.logo(runtime.db, user.tenant_id) is not None,
    }


async def _page(
    request: Request,
    runtime: Runtime,
    user: Admin,
    *,
    status_code: int = 200,
    **values: Any,
) -> HTMLResponse:
    state = await run_in_threadpool(_state, runtime, user)
    state.update(values)
    state.setdefault("problems", {})
    return render(
        request,
        "forms/settings.html",
        title=translate("settings.title", language(request)),
        status_code=status_code,
        **state,
    )


def _message(request: Request, exc: EntegratorError) -> str:
    return exc.text_en if language(request) == "en" else exc.text_tr


@router.get("/ayarlar", response_class=HTMLResponse)
async def settings_page(
    request: Request, runtime: RuntimeDep, user: Admin, bilgi: str | None = None
) -> Response:
    key = NOTICES.get(bilgi or "")
    notice = translate(key, language(request)) if key else None
    return await _page(request, runtime, user, notice=notice)


@router.post("/ayarlar/anahtarlar", response_class=HTMLResponse)
async def create_key(
    request: Request,
    runtime: RuntimeDep,
    user: Admin,
    *,
    name: Annotated[str, Form(max_length=200)] = "",
    role: Annotated[str, Form(max_length=20)] = "api",
) -> Response:
    try:
        token = await run_in_threadpool(
            portal_settings.create_key, runtime.db, user, name=name, role=role
        )
    except EntegratorError as exc:
        return await _page(request, runtime, user, error=_message(request, exc), status_code=422)
    # The secret is in this answer only (not stored, never shown again): no redirect.
    return await _page(
        request,
        runtime,
        user,
        new_key=token,
        notice=translate("settings.key_created", language(request)),
    )


@router.post("/ayarlar/anahtarlar/{prefix}/iptal")
async def revoke_key(prefix: str, runtime: RuntimeDep, user: Admin) -> Response:
    if not (len(prefix) == 12 and prefix.isascii() and prefix.isalnum()):
        raise NotFoundPageError
    if not await run_in_threadpool(portal_settings.revoke_key, runtime.db, user, prefix):
        raise NotFoundPageError
    return RedirectResponse("/ayarlar?bilgi=anahtar-iptal#anahtarlar", status_code=303)


@router.post("/ayarlar/webhooklar", response_class=HTMLResponse)
async def add_webhook(
    request: Request,
    runtime: RuntimeDep,
    user: Admin,
    url: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        created = await run_in_threadpool(runtime.webhooks.register, user, url.strip(), None)
    except EntegratorError as exc:
        return await _page(
            request,
            runtime,
            user,
            problems={"webhook_url": _message(request, exc)},
            error=translate("settings.fix", language(request)),
            status_code=422,
        )
    return await _page(request, runtime, user, new_webhook=created)


@router.post("/ayarlar/webhooklar/{webhook_id}/kaldir")
async def remove_webhook(webhook_id: str, runtime: RuntimeDep, user: Admin) -> Response:
    try:
        ident = uuid.UUID(webhook_id)
    except ValueError:
        raise NotFoundPageError from None
    if not await run_in_threadpool(runtime.webhooks.unregister, user, ident):
        raise NotFoundPageError
    return RedirectResponse("/ayarlar?bilgi=webhook-kaldirildi#webhooklar", status_code=303)


@router.post("/ayarlar/muhur", response_class=HTMLResponse)
async def upload_seal(
    request: Request,
    runtime: RuntimeDep,
    user: Admin,
    *,
    seal: Annotated[UploadFile | None, File()] = None,
    password: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    data = await seal.read(portal_settings.MAX_SEAL_BYTES + 1) if seal is not None else b""
    try:
        imported = await run_in_threadpool(
            portal_settings.upload_seal,
            runtime.db,
            user,
            data,
            password,
            runtime.settings.key_bytes(),
        )
    except EntegratorError as exc:
        return await _page(
            request,
            runtime,
            user,
            problems={"seal": _message(request, exc)},
            error=translate("settings.fix", language(request)),
            status_code=422,
        )
    notice = translate("settings.seal_installed", language(request), waiting=imported.waiting)
    return await _page(request, runtime, user, notice=notice)


@router.post("/ayarlar/seriler", response_class=HTMLResponse)
async def save_series(
    request: Request,
    runtime: RuntimeDep,
    user: Admin,
    *,
    efatura: Annotated[str, Form(max_length=10)] = "",
    earsiv: Annotated[str, Form(max_length=10)] = "",
    internet: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    values = {
        k: v.strip().upper() or None
        for k, v in (("efatura", efatura), ("earsiv", earsiv), ("internet", internet))
    }
    try:
        await run_in_threadpool(
            lambda: runtime.invoices.set_series_defaults(user.tenant_id, actor=user.actor, **values)
        )
    except EntegratorError as exc:
        return await _page(
            request,
            runtime,
            user,
            problems={"series": _message(request, exc)},
            error=translate("settings.fix", language(request)),
            status_code=422,
        )
    return RedirectResponse("/ayarlar?bilgi=seriler#seriler", status_code=303)


@router.post("/ayarlar/sirket", response_class=HTMLResponse)
async def save_company(request: Request, runtime: RuntimeDep, user: Admin) -> Response:
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str) and k in DETAIL_FIELDS}
    problems = await run_in_threadpool(
        lambda: company.save_details(runtime.db, user.tenant_id, values, actor=user.actor)
    )
    if problems:
        return await _page(
            request,
            runtime,
            user,
            problems=problems,
            details_typed=values,
            error=translate("settings.fix", language(request)),
            status_code=422,
        )
    return RedirectResponse("/ayarlar?bilgi=sirket#sirket", status_code=303)


@router.post("/ayarlar/logo", response_class=HTMLResponse)
async def upload_logo(
    request: Request,
    runtime: RuntimeDep,
    user: Admin,
    *,
    logo: Annotated[UploadFile | None, File()] = None,
    remove: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    data = None if remove else (await logo.read(MAX_UPLOAD) if logo is not None else b"")
    try:
        await run_in_threadpool(
            lambda: company.save_logo(runtime.db, user.tenant_id, data, actor=user.actor)
        )
    except EntegratorError as exc:
        return await _page(
            request,
            runtime,
            user,
            problems={"logo": _message(request, exc)},
            error=translate("settings.fix", language(request)),
            status_code=422,
        )
    return RedirectResponse("/ayarlar?bilgi=logo#logo", status_code=303)


@router.get("/ayarlar/logo")
async def logo_image(runtime: RuntimeDep, user: CurrentUser) -> Response:
    found = await run_in_threadpool(company.logo, runtime.db, user.tenant_id)
    if found is None:
        raise NotFoundPageError
    data, media_type = found
    headers = security_headers()
    headers["Cache-Control"] = "private, max-age=300"
    return Response(data, media_type=media_type, headers=headers)
