"""Invoices: ``/faturalar/giden`` and ``/faturalar/gelen`` (lists with the API's filters,
sorting and cursor paging; a zip of the chosen ones' PDFs or XMLs), ``/faturalar/{id}`` (the
invoice, its event timeline, downloads, and the actions that apply)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import io
import json
import uuid
import zipfile
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from entegrator.errors import EntegratorError
from entegrator.rendering import CONTENT_SECURITY_POLICY
from entegrator.rendering.sandbox import Renderer, RenderLimits
from entegrator.runtime import Runtime
from entegrator.services.accounts import PortalUser
from entegrator.services.answers import ANSWER_WINDOW
from entegrator.services.earsiv_cancel import CANCELLABLE, cancel_invoice
from entegrator.store.blobs import get_blob
from entegrator.store.deliveries import Delivery, for_document
from entegrator.store.documents import DocumentRow, get_document
from entegrator.store.events import EventRow, list_events
from entegrator.store.ids import created_at
from entegrator.store.search import ORDERS, DocumentFilters, Position, search_documents
from entegrator.web import labels
from entegrator.web.auth import CurrentUser, NotFoundPageError, RuntimeDep, Writer
from entegrator.web.i18n import translate
from entegrator.web.render import language, render

__all__ = ["router"]

router = APIRouter()

PAGE = 50
MAX_PAGE = 200
MAX_ZIP = 200
MAX_ZIP_PDF = 50
DIRECTIONS = {"giden": "out", "gelen": "in"}


# -- loading -----------------------------------------------------------------------------------


def load_document(
    runtime: Runtime, user: PortalUser, document_id: uuid.UUID, kind: str = "invoice"
) -> DocumentRow:
    """The tenant's document of ``kind`` (``invoice``, ``despatch``); 404 for anything else,
    another tenant's included."""
    if document_id.version != 7:
        raise NotFoundPageError
    with runtime.db.tenant(user.tenant_id) as conn:
        doc = get_document(conn, user.tenant_id, document_id, created_at(document_id))
    if doc is None or doc.kind != kind:
        raise NotFoundPageError
    return doc


def _signed_xml(runtime: Runtime, user: PortalUser, doc: DocumentRow) -> bytes | None:
    if doc.signed_sha256 is None:
        return None
    with runtime.db.tenant(user.tenant_id) as conn:
        return get_blob(conn, user.tenant_id, doc.signed_sha256)


def renderer_of(request: Request) -> Renderer:
    state = request.app.state
    if getattr(state, "renderer", None) is None:
        s = state.runtime.settings
        state.renderer = Renderer(
            RenderLimits(
                html_seconds=s.view_html_seconds,
                pdf_seconds=s.view_pdf_seconds,
                memory_mb=s.view_memory_mb,
                concurrency=s.view_concurrency,
                queue_seconds=s.view_queue_seconds,
            )
        )
    renderer: Renderer = state.renderer
    return renderer


# -- lists -------------------------------------------------------------------------------------


class _BadFilterError(Exception):
    def __init__(self, where: str) -> None:
        super().__init__(where)
        self.where = where


def parse_amount(value: str | None, where: str) -> Decimal | None:
    """``1.234,56`` (Turkish) or ``1234.56``; None when empty."""
    if value is None or not value.strip():
        return None
    text = value.strip().replace(" ", "")
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise _BadFilterError(where) from None
    if not amount.is_finite() or amount.adjusted() >= 18:
        raise _BadFilterError(where)
    return amount


def _date(value: str | None, where: str) -> dt.date | None:
    if value is None or not value.strip():
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise _BadFilterError(where) from None


def _plain(value: str | None, where: str, *, digits: bool = False) -> str | None:
    if value is None or not value.strip():
        return None
    text = value.strip()
    if len(text) > 100 or any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise _BadFilterError(where)
    if digits and not (text.isdigit() and len(text) in (10, 11)):
        raise _BadFilterError(where)
    return text


def encode_cursor(doc: DocumentRow, order: str) -> str:
    column = ORDERS[order][0]
    value: str | None = None
    if column is not None and "issue_date" in column:
        value = (doc.issue_date or dt.date(1, 1, 1)).isoformat()
    elif column is not None:
        value = str(doc.payable if doc.payable is not None else Decimal(-1))
    raw = json.dumps([doc.created_at.isoformat(), str(doc.document_id), value]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, order: str) -> Position:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        when, ident, value = json.loads(raw)
        column = ORDERS[order][0]
        parsed: dt.date | Decimal | None = None
        if column is not None and "issue_date" in column:
            parsed = dt.date.fromisoformat(value)
        elif column is not None:
            parsed = Decimal(value)
            if not parsed.is_finite():
                raise ValueError(value)
        return Position(dt.datetime.fromisoformat(when), uuid.UUID(ident), parsed)
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError, InvalidOperation):
        raise _BadFilterError("cursor") from None


@dataclass(frozen=True)
class ListQuery:
    filters: DocumentFilters
    order: str
    limit: int
    cursor: Position | None
    raw: dict[str, str]


_FILTER_NAMES = (
    "issued_from",
    "issued_to",
    "party",
    "status",
    "profile",
    "type",
    "number",
    "min_total",
    "max_total",
    "sort",
    "limit",
)


def parse_query(params: dict[str, str]) -> ListQuery:
    order = params.get("sort") or "new"
    if order not in ORDERS:
        raise _BadFilterError("sort")
    try:
        limit = int(params.get("limit") or PAGE)
    except ValueError:
        raise _BadFilterError("limit") from None
    if not 1 <= limit <= MAX_PAGE:
        raise _BadFilterError("limit")
    status = _plain(params.get("status"), "status")
    if status is not None and status not in labels.STATUSES:
        raise _BadFilterError("status")
    filters = DocumentFilters(
        issued_from=_date(params.get("issued_from"), "issued_from"),
        issued_to=_date(params.get("issued_to"), "issued_to"),
        party=_plain(params.get("party"), "party", digits=True),
        status=status,
        profile=_plain(params.get("profile"), "profile"),
        type=_plain(params.get("type"), "type"),
        number=_plain(params.get("number"), "number"),
        min_total=parse_amount(params.get("min_total"), "min_total"),
        max_total=parse_amount(params.get("max_total"), "max_total"),
    )
    cursor = params.get("cursor")
    raw = {k: params[k] for k in _FILTER_NAMES if params.get(k)}
    return ListQuery(filters, order, limit, decode_cursor(cursor, order) if cursor else None, raw)


def _search(
    runtime: Runtime, user: PortalUser, direction: str, query: ListQuery
) -> tuple[list[DocumentRow], str | None]:
    with runtime.db.tenant(user.tenant_id) as conn:
        rows = search_documents(
            conn,
            user.tenant_id,
            direction=direction,
            filters=query.filters,
            limit=query.limit + 1,
            cursor=query.cursor,
            order=query.order,
        )
    page = rows[: query.limit]
    more = len(rows) > query.limit and bool(page)
    return page, encode_cursor(page[-1], query.order) if more else None


def list_page(request: Request, runtime: Runtime, user: PortalUser, which: str) -> Response:
    direction = DIRECTIONS[which]
    lang = language(request)
    title = translate("nav.outgoing" if direction == "out" else "nav.incoming", lang)
    params = dict(request.query_params)
    error = None
    try:
        query = parse_query(params)
        rows, next_cursor = _search(runtime, user, direction, query)
    except _BadFilterError as bad:
        error = translate("list.bad_filter", lang, where=bad.where)
        query = ListQuery(DocumentFilters(), "new", PAGE, None, {})
        rows, next_cursor = [], None
    next_query = None
    if next_cursor is not None:
        from urllib.parse import urlencode

        next_query = urlencode({**query.raw, "cursor": next_cursor})
    template = "invoice_rows.html" if request.headers.get("HX-Request") else "invoices.html"
    return render(
        request,
        template,
        title=title,
        which=which,
        direction=direction,
        rows=rows,
        q=query.raw,
        orders=list(ORDERS),
        statuses=labels.STATUSES,
        profiles=labels.PROFILES,
        types=labels.TYPES,
        next_query=next_query,
        first_page=query.cursor is None,
        labels=labels,
        error=error,
        status_code=422 if error else 200,
    )


@router.get("/faturalar/giden", response_class=HTMLResponse)
def outgoing(request: Request, runtime: RuntimeDep, user: CurrentUser) -> Response:
    return list_page(request, runtime, user, "giden")


@router.get("/faturalar/gelen", response_class=HTMLResponse)
def incoming(request: Request, runtime: RuntimeDep, user: CurrentUser) -> Response:
    return list_page(request, runtime, user, "gelen")


@router.post("/faturalar/indir")
async def download_zip(request: Request, runtime: RuntimeDep, user: CurrentUser) -> Response:
    """The chosen invoices' signed XMLs or PDFs in one zip."""
    form = await request.form()
    kind = form.get("format")
    if kind not in ("xml", "pdf"):
        raise NotFoundPageError
    raw_ids = [v for v in form.getlist("ids") if isinstance(v, str)]
    limit = MAX_ZIP_PDF if kind == "pdf" else MAX_ZIP
    lang = language(request)
    if not raw_ids or len(raw_ids) > limit:
        return render(
            request,
            "error.html",
            title=translate("error.title", lang),
            message=translate("zip.count", lang, limit=limit),
            code="INVALID_SELECTION",
            status_code=422,
        )
    ids = []
    for raw in raw_ids:
        try:
            ids.append(uuid.UUID(raw))
        except ValueError:
            raise NotFoundPageError from None

    def collect() -> list[tuple[DocumentRow, bytes]]:
        found = []
        for ident in ids:
            doc = load_document(runtime, user, ident)
            xml = _signed_xml(runtime, user, doc)
            if xml is not None:
                found.append((doc, xml))
        return found

    docs = await run_in_threadpool(collect)
    buffer = io.BytesIO()
    renderer = renderer_of(request)
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        seen: set[str] = set()
        for doc, xml in docs:
            name = _file_name(doc)
            while name in seen:
                name += "_"
            seen.add(name)
            if kind == "xml":
                archive.writestr(f"{name}.xml", xml)
            else:
                logo = await run_in_threadpool(_logo_of, runtime, user.tenant_id, doc.direction)
                view = await renderer.pdf(xml, cancelled=doc.status == "cancelled", logo=logo)
                archive.writestr(f"{name}.pdf", view.pdf)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S")
    return Response(
        buffer.getvalue(),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="faturalar-{stamp}.zip"'},
    )


def _file_name(doc: DocumentRow) -> str:
    name = doc.number or str(doc.ettn)
    return "".join(c for c in name if c.isalnum() or c in "-_") or str(doc.document_id)


# -- one invoice --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Actions:
    answer: bool
    cancel: bool
    resend: bool


def actions_for(doc: DocumentRow, user: PortalUser, now: dt.datetime) -> Actions:
    """What the user may do with the invoice now (the server checks again on each action)."""
    writes = user.role in ("owner", "accountant")
    answer = (
        doc.direction == "in"
        and doc.profile == "TICARIFATURA"
        and doc.status == "received"
        and now - doc.created_at <= ANSWER_WINDOW
    )
    earsiv = doc.direction == "out" and doc.profile == "EARSIVFATURA"
    return Actions(
        answer=writes and answer,
        cancel=writes and earsiv and doc.status in CANCELLABLE,
        resend=writes and doc.direction == "out" and doc.signed_sha256 is not None,
    )


def _timeline(events: list[EventRow], lang: str) -> list[dict[str, Any]]:
    out = []
    for event in events:
        notes = []
        for key, value in sorted(event.data.items()):
            if isinstance(value, dict | list):
                continue
            explained = labels.explain_gib_code(value, lang) if "code" in key.lower() else None
            notes.append((key, explained or str(value)))
        out.append(
            {
                "at": event.at,
                "label": labels.event_label(event.type, lang),
                "type": event.type,
                "status": event.status,
                "actor": event.actor,
                "notes": notes,
            }
        )
    return out


def view_page(
    request: Request,
    runtime: Runtime,
    user: PortalUser,
    document_id: uuid.UUID,
    *,
    notice: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    doc = load_document(runtime, user, document_id)
    lang = language(request)
    with runtime.db.tenant(user.tenant_id) as conn:
        events = list_events(conn, user.tenant_id, doc.document_id)
        sent: list[Delivery] = (
            for_document(conn, user.tenant_id, doc.document_id) if doc.direction == "out" else []
        )
    now = runtime.clock()
    days_left = None
    if doc.direction == "in" and doc.profile == "TICARIFATURA" and doc.status == "received":
        days_left = max(0, (doc.created_at + ANSWER_WINDOW - now).days)
    title = f"{translate('invoice.title', lang)} {doc.number or ''}".strip()
    return render(
        request,
        "invoice.html",
        title=title,
        doc=doc,
        labels=labels,
        timeline=_timeline(events, lang),
        deliveries=sent,
        actions=actions_for(doc, user, now),
        days_left=days_left,
        notice=notice,
        error=error,
        status_code=status_code,
    )


_NOTICES = {
    "kabul": "invoice.accepted",
    "red": "invoice.rejected",
    "iptal": "invoice.cancelled",
    "eposta": "invoice.mail_queued",
}


def _logo_of(runtime: Runtime, tenant_id: uuid.UUID, direction: str) -> tuple[bytes, str] | None:
    """The tenant's logo on the views of what it issued (not on what others sent it)."""
    if direction != "out":
        return None
    from entegrator.services import company

    return company.logo(runtime.db, tenant_id)


@router.get("/faturalar/{document_id:uuid}", response_class=HTMLResponse)
def invoice(
    request: Request,
    document_id: uuid.UUID,
    runtime: RuntimeDep,
    user: CurrentUser,
    ok: str | None = None,
) -> Response:
    lang = language(request)
    notice = translate(_NOTICES[ok], lang) if ok in _NOTICES else None
    return view_page(request, runtime, user, document_id, notice=notice)


@router.get("/faturalar/{document_id:uuid}/xml")
def invoice_xml(document_id: uuid.UUID, runtime: RuntimeDep, user: CurrentUser) -> Response:
    doc = load_document(runtime, user, document_id)
    xml = _signed_xml(runtime, user, doc)
    if xml is None:
        raise NotFoundPageError
    return Response(
        xml,
        media_type="application/xml",
        headers={"Content-Disposition": f'attachment; filename="{_file_name(doc)}.xml"'},
    )


@router.get("/faturalar/{document_id:uuid}/pdf")
async def invoice_pdf(
    request: Request, document_id: uuid.UUID, runtime: RuntimeDep, user: CurrentUser
) -> Response:
    doc = await run_in_threadpool(load_document, runtime, user, document_id)
    xml = await run_in_threadpool(_signed_xml, runtime, user, doc)
    if xml is None:
        raise NotFoundPageError
    logo = await run_in_threadpool(_logo_of, runtime, user.tenant_id, doc.direction)
    view = await renderer_of(request).pdf(xml, cancelled=doc.status == "cancelled", logo=logo)
    return Response(
        view.pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{_file_name(doc)}.pdf"'},
    )


@router.get("/faturalar/{document_id:uuid}/gorunum")
async def invoice_html(
    request: Request, document_id: uuid.UUID, runtime: RuntimeDep, user: CurrentUser
) -> Response:
    doc = await run_in_threadpool(load_document, runtime, user, document_id)
    xml = await run_in_threadpool(_signed_xml, runtime, user, doc)
    if xml is None:
        raise NotFoundPageError
    logo = await run_in_threadpool(_logo_of, runtime, user.tenant_id, doc.direction)
    view = await renderer_of(request).html(xml, cancelled=doc.status == "cancelled", logo=logo)
    return Response(
        view.html,
        media_type="text/html; charset=utf-8",
        headers={
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "X-Content-Type-Options": "nosniff",
        },
    )


def _act(
    request: Request,
    runtime: Runtime,
    user: PortalUser,
    document_id: uuid.UUID,
    *,
    done: str,
    action: Any,
) -> Response:
    """Run an action; back to the invoice with its notice, or the page with the error."""
    lang = language(request)
    try:
        action()
    except EntegratorError as exc:
        message = exc.text_en if lang == "en" else exc.text_tr
        status = exc.http_status if 400 <= exc.http_status < 500 else 409
        return view_page(request, runtime, user, document_id, error=message, status_code=status)
    return RedirectResponse(f"/faturalar/{document_id}?ok={done}", status_code=303)


def _reason(value: str) -> str | None:
    text = " ".join(value.split())
    if not text or len(text) > 500:
        return None
    if any(ord(c) < 32 for c in text):
        return None
    return text


def _reason_needed(
    request: Request, runtime: Runtime, user: PortalUser, document_id: uuid.UUID
) -> Response:
    """The invoice's page again (422), saying that the action needs a reason."""
    error = translate("invoice.reason_needed", language(request))
    return view_page(request, runtime, user, document_id, error=error, status_code=422)


@router.post("/faturalar/{document_id:uuid}/kabul")
def accept(request: Request, document_id: uuid.UUID, runtime: RuntimeDep, user: Writer) -> Response:
    doc = load_document(runtime, user, document_id)
    if doc.direction != "in":
        raise NotFoundPageError
    return _act(
        request,
        runtime,
        user,
        document_id,
        done="kabul",
        action=lambda: runtime.answers.answer(user, doc.document_id, answer="KABUL", reason=None),
    )


@router.post("/faturalar/{document_id:uuid}/red")
def reject(
    request: Request,
    document_id: uuid.UUID,
    runtime: RuntimeDep,
    user: Writer,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    doc = load_document(runtime, user, document_id)
    if doc.direction != "in":
        raise NotFoundPageError
    text = _reason(reason)
    if text is None:
        return _reason_needed(request, runtime, user, document_id)
    return _act(
        request,
        runtime,
        user,
        document_id,
        done="red",
        action=lambda: runtime.answers.answer(user, doc.document_id, answer="RED", reason=text),
    )


@router.post("/faturalar/{document_id:uuid}/iptal")
def cancel(
    request: Request,
    document_id: uuid.UUID,
    runtime: RuntimeDep,
    user: Writer,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    doc = load_document(runtime, user, document_id)
    if doc.direction != "out":
        raise NotFoundPageError
    text = _reason(reason)
    if text is None:
        return _reason_needed(request, runtime, user, document_id)
    return _act(
        request,
        runtime,
        user,
        document_id,
        done="iptal",
        action=lambda: cancel_invoice(
            runtime.db,
            user.tenant_id,
            doc.document_id,
            reason=text,
            actor=user.actor,
            now=runtime.clock(),
        ),
    )


@router.post("/faturalar/{document_id:uuid}/eposta")
def resend(
    request: Request,
    document_id: uuid.UUID,
    runtime: RuntimeDep,
    user: Writer,
    email: Annotated[str, Form(max_length=320)] = "",
) -> Response:
    doc = load_document(runtime, user, document_id)
    if doc.direction != "out":
        raise NotFoundPageError
    return _act(
        request,
        runtime,
        user,
        document_id,
        done="eposta",
        action=lambda: runtime.deliveries.request_email(
            user.tenant_id, doc.document_id, email, requested_by="portal", actor=user.actor
        ),
    )
