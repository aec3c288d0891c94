"""``/faturalar/yeni``: the invoice form, its live totals, the buyer lookup, the PDF preview,
drafts, duplicating an outgoing invoice and returning (İADE) an incoming one.

The form works without script (every button posts the whole form); with htmx, the totals
follow the lines as they are typed and the buyer's e-Fatura status shows as soon as the
VKN/TCKN is typed. Issuing goes through ``InvoiceService.issue``, as ``POST /api/v1/invoices``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from entegrator.documents.codes import InvoiceTypeCode, ProfileID
from entegrator.documents.model import InvoiceDraft
from entegrator.errors import EntegratorError
from entegrator.runtime import Runtime
from entegrator.services import buyers, company, invoice_form
from entegrator.services.errors import DocumentNotFoundError
from entegrator.services.invoice_form import (
    FORM_LEVEL,
    FieldProblem,
    FormLine,
    InvoiceForm,
)
from entegrator.services.invoices import ValidationFailedError
from entegrator.store import drafts as draft_store
from entegrator.web import forms_text as _texts  # noqa: F401 - registers the pages' words
from entegrator.web.auth import NotFoundPageError, RuntimeDep, Writer
from entegrator.web.i18n import translate
from entegrator.web.render import language, render, security_headers
from entegrator.web.routes.invoices import renderer_of

__all__ = ["router"]

router = APIRouter()
ISTANBUL = ZoneInfo("Europe/Istanbul")
CURRENCIES = ("TRY", "USD", "EUR", "GBP")


def _today(runtime: Runtime) -> dt.date:
    return runtime.clock().astimezone(ISTANBUL).date()


def _choices() -> dict[str, Any]:
    return {
        "profiles": [
            (ProfileID.TEMELFATURA.value, "TEMELFATURA (e-Fatura)"),
            (ProfileID.TICARIFATURA.value, "TICARIFATURA (e-Fatura)"),
            (ProfileID.EARSIVFATURA.value, "EARSIVFATURA (e-Arşiv)"),
        ],
        "types": [
            (t.value, t.value)
            for t in InvoiceTypeCode
            if not t.value.startswith(("YTB", "HKS", "SARJ", "TEKNOLOJI"))
        ],
        "units": [(code, f"{name} ({code})") for code, name in invoice_form.UNITS.items()],
        "kdv_rates": [(r, f"%{r}") for r in invoice_form.KDV_RATES],
        "withholdings": invoice_form.withholding_options(),
        "exemptions": invoice_form.exemption_options(),
        "currencies": [(c, c) for c in CURRENCIES],
    }


async def _fields(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _draft(
    runtime: Runtime, user: Writer, form: InvoiceForm
) -> tuple[InvoiceDraft | None, list[FieldProblem]]:
    tenant = runtime.invoices.tenant_of(user.tenant_id)
    details = company.details(runtime.db, user.tenant_id)
    return invoice_form.to_draft(
        form,
        supplier_vkn=tenant.vkn,
        supplier_name=tenant.name,
        company=details,
        today=_today(runtime),
    )


def _check(
    runtime: Runtime, user: Writer, form: InvoiceForm
) -> tuple[InvoiceDraft | None, list[FieldProblem]]:
    """The draft and every problem (ours and GİB's), each on its field."""
    draft, problems = _draft(runtime, user, form)
    if draft is None:
        return None, problems
    checked, findings = runtime.invoices.check_draft(
        user.tenant_id, draft, series=form.series or None
    )
    return checked, invoice_form.findings_to_problems(findings)


def _page(
    request: Request,
    runtime: Runtime,
    user: Writer,
    form: InvoiceForm,
    *,
    problems: list[FieldProblem] | None = None,
    draft_id: str | None = None,
    notice: str | None = None,
    checked: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    lang = language(request)
    problems = problems or []
    errors = [p for p in problems if p.severity == "error"]
    with runtime.db.tenant(user.tenant_id) as conn:
        saved = draft_store.list_drafts(conn, user.tenant_id, limit=20)
    summary = None
    if errors:
        summary = translate("form.problems", lang, n=len(errors))
    elif checked:
        notice = notice or translate("form.valid", lang)
    return render(
        request,
        "forms/invoice_form.html",
        title=translate("form.title", lang),
        form=form,
        problems=invoice_form.problems_by_field(problems),
        form_level=FORM_LEVEL,
        preview=invoice_form.preview(form),
        draft_id=draft_id,
        drafts=saved,
        notice=notice,
        error=summary,
        status_code=status_code,
        **_choices(),
    )


@router.get("/faturalar/yeni", response_class=HTMLResponse)
async def new_invoice(
    request: Request,
    runtime: RuntimeDep,
    user: Writer,
    *,
    taslak: str | None = None,
    kopya: str | None = None,
    iade: str | None = None,
    alici: str | None = None,
    silindi: int = 0,
) -> Response:
    """An empty form, a saved draft (``taslak``), a copy of an outgoing invoice (``kopya``)
    or the return of an incoming one (``iade``)."""
    form = InvoiceForm()
    draft_id = None
    try:
        if taslak:
            row = await run_in_threadpool(_load_draft, runtime, user, taslak)
            form, draft_id = InvoiceForm.from_fields(row.form), str(row.draft_id)
        elif kopya or iade:
            form = await run_in_threadpool(
                invoice_form.form_of_document,
                runtime.db,
                user.tenant_id,
                kopya or iade or "",
                returning=iade is not None,
            )
    except DocumentNotFoundError:
        raise NotFoundPageError from None
    notice = translate("form.deleted", language(request)) if silindi else None
    if alici and not form.buyer_id:
        form.buyer_id = alici[:11]
    if not form.issue_date:
        form.issue_date = _today(runtime).isoformat()
    return await run_in_threadpool(
        lambda: _page(request, runtime, user, form, draft_id=draft_id, notice=notice)
    )


def _load_draft(runtime: Runtime, user: Writer, draft_id: str) -> draft_store.DraftRow:
    try:
        ident = uuid.UUID(draft_id)
    except ValueError:
        raise NotFoundPageError from None
    with runtime.db.tenant(user.tenant_id) as conn:
        row = draft_store.get_draft(conn, user.tenant_id, ident)
    if row is None:
        raise NotFoundPageError
    return row


@router.post("/faturalar/yeni/toplamlar", response_class=HTMLResponse)
async def totals(request: Request, user: Writer) -> Response:
    """The totals partial (htmx), computed by the server from the lines as typed."""
    form = InvoiceForm.from_fields(await _fields(request))
    return render(
        request,
        "forms/_totals.html",
        preview=invoice_form.preview(form),
        form=form,
    )


@router.post("/faturalar/yeni/alici", response_class=HTMLResponse)
async def buyer(request: Request, runtime: RuntimeDep, user: Writer) -> Response:
    """The buyer's status partial (htmx): e-Fatura or e-Arşiv, and its title filled in."""
    form = InvoiceForm.from_fields(await _fields(request))
    info = await run_in_threadpool(buyers.lookup_buyer, runtime.db, user.tenant_id, form.buyer_id)
    # Only what the lookup changes is swapped in: a field the user typed in is left alone.
    fill_name = bool(info.title and not form.buyer_name)
    if fill_name:
        form.buyer_name = info.title or ""
    routed = info.profile_for(form.profile)
    fill_profile = routed != form.profile
    form.profile = routed
    return render(
        request,
        "forms/_buyer.html",
        info=info,
        form=form,
        fill_name=fill_name,
        fill_profile=fill_profile,
        **_choices(),
    )


@router.post("/faturalar/yeni/onizleme")
async def pdf_preview(request: Request, runtime: RuntimeDep, user: Writer) -> Response:
    """The PDF of the unsigned draft, as it would be issued (with a provisional number)."""
    form = InvoiceForm.from_fields(await _fields(request))
    draft, problems = await run_in_threadpool(_draft, runtime, user, form)
    if draft is None:
        return await run_in_threadpool(
            _page, request, runtime, user, form, problems=problems, status_code=422
        )
    try:
        xml = await run_in_threadpool(
            runtime.invoices.preview_xml, user.tenant_id, draft, series=form.series or None
        )
    except EntegratorError as exc:
        problems = [
            FieldProblem(
                invoice_form.field_of(exc.where), exc.code, "error", exc.text_tr, exc.text_en
            )
        ]
        return await run_in_threadpool(
            _page, request, runtime, user, form, problems=problems, status_code=422
        )
    view = await renderer_of(request).pdf(xml)
    return Response(
        view.pdf,
        media_type="application/pdf",
        headers={
            **security_headers(),
            "Content-Disposition": 'inline; filename="onizleme.pdf"',
        },
    )


@router.post("/faturalar/yeni", response_class=HTMLResponse)
async def submit(request: Request, runtime: RuntimeDep, user: Writer) -> Response:
    """Every button of the form: ``islem`` is ``kontrol`` (check), ``satir`` (add a line),
    ``sil-<n>`` (remove line n), ``taslak`` (save as draft) or ``duzenle`` (issue)."""
    fields = await _fields(request)
    form = InvoiceForm.from_fields(fields)
    action = fields.get("islem", "kontrol")
    draft_id = fields.get("taslak_id") or None
    lang = language(request)
    if action == "satir":
        if len(form.lines) < invoice_form.MAX_FORM_LINES:
            form.lines.append(FormLine())
        return await run_in_threadpool(_page, request, runtime, user, form, draft_id=draft_id)
    if action.startswith("sil-") and action[4:].isdigit():
        index = int(action[4:])
        if 0 <= index < len(form.lines):
            del form.lines[index]
        form.lines = form.lines or [FormLine()]
        return await run_in_threadpool(_page, request, runtime, user, form, draft_id=draft_id)
    if action == "taslak":
        saved = await run_in_threadpool(_save_draft, runtime, user, form, draft_id)
        return await run_in_threadpool(
            _page,
            request,
            runtime,
            user,
            form,
            draft_id=str(saved),
            notice=translate("form.saved", lang),
        )
    draft, problems = await run_in_threadpool(_check, runtime, user, form)
    errors = [p for p in problems if p.severity == "error"]
    if action != "duzenle" or draft is None or errors:
        return await run_in_threadpool(
            _page,
            request,
            runtime,
            user,
            form,
            problems=problems,
            draft_id=draft_id,
            checked=True,
            status_code=422 if errors else 200,
        )
    try:
        result = await run_in_threadpool(
            runtime.invoices.issue, user, draft=draft, series=form.series or None
        )
    except ValidationFailedError as exc:
        return await run_in_threadpool(
            _page,
            request,
            runtime,
            user,
            form,
            problems=invoice_form.findings_to_problems(exc.findings),
            draft_id=draft_id,
            status_code=422,
        )
    except EntegratorError as exc:
        problems = [
            FieldProblem(
                invoice_form.field_of(exc.where), exc.code, "error", exc.text_tr, exc.text_en
            )
        ]
        return await run_in_threadpool(
            _page,
            request,
            runtime,
            user,
            form,
            problems=problems,
            draft_id=draft_id,
            status_code=exc.http_status if 400 <= exc.http_status < 500 else 422,
        )
    if draft_id:
        await run_in_threadpool(_delete_draft, runtime, user, draft_id)
    return RedirectResponse(f"/faturalar/{result.id}", status_code=303)


def _save_draft(
    runtime: Runtime, user: Writer, form: InvoiceForm, draft_id: str | None
) -> uuid.UUID:
    ident = None
    if draft_id:
        try:
            ident = uuid.UUID(draft_id)
        except ValueError:
            raise NotFoundPageError from None
    with runtime.db.tenant(user.tenant_id) as conn:
        saved = draft_store.save_draft(
            conn, user.tenant_id, ident, title=form.title, form=form.to_fields(), actor=user.actor
        )
    if saved is None:
        raise NotFoundPageError
    return saved


def _delete_draft(runtime: Runtime, user: Writer, draft_id: str) -> bool:
    try:
        ident = uuid.UUID(draft_id)
    except ValueError:
        return False
    with runtime.db.tenant(user.tenant_id) as conn:
        return draft_store.delete_draft(conn, user.tenant_id, ident)


@router.post("/faturalar/taslaklar/{draft_id}/sil")
async def delete_draft(draft_id: str, runtime: RuntimeDep, user: Writer) -> Response:
    if not await run_in_threadpool(_delete_draft, runtime, user, draft_id):
        raise NotFoundPageError
    return RedirectResponse("/faturalar/yeni?silindi=1", status_code=303)
