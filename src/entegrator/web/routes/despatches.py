"""Despatch advices (e-İrsaliye): ``/irsaliyeler/giden`` and ``/irsaliyeler/gelen`` (lists
with the invoices' filters and cursor paging), ``/irsaliyeler/{id}`` (facts, lines, event
timeline, downloads) and, on an incoming despatch still in its 7 days, the answer form
(irsaliye yanıtı) that calls ``DespatchService.receipt`` as the API's
``POST /api/v1/incoming-despatches/{id}/receipt`` does."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from entegrator.documents.errors import DocumentError
from entegrator.documents.irsaliye import LineAnswer
from entegrator.documents.model import DespatchDraft
from entegrator.errors import EntegratorError
from entegrator.rendering import CONTENT_SECURITY_POLICY
from entegrator.runtime import Runtime
from entegrator.services.accounts import PortalUser
from entegrator.services.despatches import DESPATCH_WINDOW
from entegrator.store.documents import DocumentRow
from entegrator.store.events import list_events
from entegrator.store.search import DocumentFilters, search_documents
from entegrator.web import despatch_text, labels
from entegrator.web.auth import CurrentUser, NotFoundPageError, RuntimeDep, Writer
from entegrator.web.i18n import translate
from entegrator.web.render import language, render
from entegrator.web.routes.invoices import (
    PAGE,
    ListQuery,
    _BadFilterError,
    _file_name,
    _signed_xml,
    _timeline,
    encode_cursor,
    load_document,
    parse_query,
    renderer_of,
)

__all__ = ["KIND", "despatch_status", "router", "to_answer"]

assert despatch_text.DESPATCH_MESSAGES  # noqa: S101 - its words are in the table

router = APIRouter()

KIND = "despatch"
DIRECTIONS = {"giden": "out", "gelen": "in"}
# A form posts 4 fields a line, and a form is read up to 1,000 fields (Starlette): larger
# despatches are answered through the API.
MAX_LINES = 240
_MAX_DIGITS = 20

# (status, status_code) -> (Turkish, English, badge): GİB's words for a despatch's state.
_DESPATCH_STATUSES: dict[tuple[str, str | None], tuple[str, str, str]] = {
    ("received", None): ("Yanıt bekliyor", "Waiting for your answer", "warn"),
    ("accepted", "received"): ("Kabul edildi", "Accepted", "ok"),
    ("accepted", "partly-rejected"): ("Kısmen kabul edildi", "Partly accepted", "warn"),
    ("accepted", "no-answer"): (
        "Kabul edildi (7 günde yanıt verilmedi)",
        "Accepted (no answer in 7 days)",
        "ok",
    ),
    ("rejected", "rejected"): ("Reddedildi", "Rejected", "bad"),
    ("rejected", None): ("Reddedildi", "Rejected", "bad"),
}
_OUT_WAITING = ("Alıcının yanıtı bekleniyor", "Waiting for the receiver's answer", "info")


def despatch_status(doc: DocumentRow, lang: str) -> tuple[str, str]:
    """The label and badge class of a despatch's status."""
    entry = _DESPATCH_STATUSES.get((doc.status, doc.status_code)) or _DESPATCH_STATUSES.get(
        (doc.status, None)
    )
    if doc.direction == "out" and doc.status == "delivered":
        entry = _OUT_WAITING
    if entry is None or (doc.direction == "out" and doc.status == "received"):
        return (
            labels.status_label(doc.status, lang, direction=doc.direction, code=doc.status_code),
            labels.status_badge(doc.status, direction=doc.direction, code=doc.status_code),
        )
    return (entry[1] if lang == "en" else entry[0]), entry[2]


def days_left(doc: DocumentRow, now: dt.datetime) -> int | None:
    """Whole days left to answer an incoming despatch (None: not answerable any more)."""
    if doc.direction != "in" or doc.status != "received":
        return None
    left = doc.created_at + DESPATCH_WINDOW - now
    if left <= dt.timedelta(0):
        return None
    return left.days


def to_answer(runtime: Runtime, user: PortalUser, limit: int = 20) -> list[tuple[DocumentRow, int]]:
    """Incoming despatches still waiting for an answer within their 7 days, oldest first."""
    now = runtime.clock()
    with runtime.db.tenant(user.tenant_id) as conn:
        rows = search_documents(
            conn,
            user.tenant_id,
            direction="in",
            filters=DocumentFilters(status="received"),
            limit=200,
            kind=KIND,
        )
    waiting = [(d, n) for d in rows if (n := days_left(d, now)) is not None]
    waiting.sort(key=lambda x: x[0].created_at)
    return waiting[:limit]


# -- lists -------------------------------------------------------------------------------------


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
            kind=KIND,
            order=query.order,
        )
    page = rows[: query.limit]
    more = len(rows) > query.limit and bool(page)
    return page, encode_cursor(page[-1], query.order) if more else None


_STATUS_FILTER = {
    "in": ("received", "accepted", "rejected"),
    "out": ("validated", "signed", "queued", "sent", "delivered", "accepted", "rejected", "failed"),
}
# The filter's words where a despatch's differ from an invoice's.
_FILTER_WORDS = {
    ("in", "received"): ("Yanıt bekliyor", "Waiting for your answer"),
    ("out", "delivered"): _OUT_WAITING[:2],
}


def _filter_statuses(direction: str) -> dict[str, tuple[str, ...]]:
    return {
        k: _FILTER_WORDS.get((direction, k), labels.STATUSES[k][:2])
        for k in _STATUS_FILTER[direction]
    }


_LIST_ORDERS = ("new", "issue_date_desc", "issue_date_asc")


def _list(request: Request, runtime: Runtime, user: PortalUser, which: str) -> Response:
    direction = DIRECTIONS[which]
    lang = language(request)
    title = translate(f"despatch.{which}", lang)
    params = dict(request.query_params)
    error = None
    try:
        if params.get("sort") and params["sort"] not in _LIST_ORDERS:
            raise _BadFilterError("sort")
        query = parse_query(params)
        rows, next_cursor = _search(runtime, user, direction, query)
    except _BadFilterError as bad:
        error = translate("list.bad_filter", lang, where=bad.where)
        query = ListQuery(DocumentFilters(), "new", PAGE, None, {})
        rows, next_cursor = [], None
    next_query = urlencode({**query.raw, "cursor": next_cursor}) if next_cursor else None
    template = "despatch_rows.html" if request.headers.get("HX-Request") else "despatches.html"
    return render(
        request,
        template,
        title=title,
        which=which,
        direction=direction,
        rows=[(d, *despatch_status(d, lang)) for d in rows],
        q=query.raw,
        orders=list(_LIST_ORDERS),
        statuses=_filter_statuses(direction),
        next_query=next_query,
        first_page=query.cursor is None,
        error=error,
        status_code=422 if error else 200,
    )


@router.get("/irsaliyeler/giden", response_class=HTMLResponse)
def outgoing(request: Request, runtime: RuntimeDep, user: CurrentUser) -> Response:
    return _list(request, runtime, user, "giden")


@router.get("/irsaliyeler/gelen", response_class=HTMLResponse)
def incoming(request: Request, runtime: RuntimeDep, user: CurrentUser) -> Response:
    return _list(request, runtime, user, "gelen")


# -- one despatch ----------------------------------------------------------------------------


def _load(runtime: Runtime, user: PortalUser, document_id: uuid.UUID) -> DocumentRow:
    return load_document(runtime, user, document_id, KIND)


def _lines(runtime: Runtime, user: PortalUser, doc: DocumentRow) -> DespatchDraft | None:
    from entegrator.documents.parse import parse_despatch

    xml = _signed_xml(runtime, user, doc)
    if xml is None:
        return None
    try:
        return parse_despatch(xml)
    except (DocumentError, ValueError):
        return None


@dataclass
class AnswerForm:
    """What the user typed, per line (text as typed), and the errors per field."""

    values: dict[str, str]
    errors: dict[str, str]


def _answers_of_events(events: list[Any]) -> list[dict[str, Any]]:
    for event in reversed(events):
        data = event.data
        if isinstance(data, dict) and data.get("answer") == "receipt":
            lines = data.get("lines")
            return [x for x in lines if isinstance(x, dict)] if isinstance(lines, list) else []
    return []


def view_page(
    request: Request,
    runtime: Runtime,
    user: PortalUser,
    document_id: uuid.UUID,
    *,
    form: AnswerForm | None = None,
    notice: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    doc = _load(runtime, user, document_id)
    lang = language(request)
    with runtime.db.tenant(user.tenant_id) as conn:
        events = list_events(conn, user.tenant_id, doc.document_id)
    despatch = _lines(runtime, user, doc)
    now = runtime.clock()
    left = days_left(doc, now)
    label, badge = despatch_status(doc, lang)
    title = f"{translate('despatch.title', lang)} {doc.number or ''}".strip()
    return render(
        request,
        "despatch.html",
        title=title,
        doc=doc,
        despatch=despatch,
        status_label=label,
        status_badge=badge,
        days_left=left,
        can_answer=left is not None
        and user.role in ("owner", "accountant")
        and despatch is not None,
        line_form=despatch is not None and len(despatch.lines) <= MAX_LINES,
        max_lines=MAX_LINES,
        form=form or AnswerForm({}, {}),
        answered=_answers_of_events(events),
        timeline=_timeline(events, lang),
        labels=labels,
        notice=notice,
        error=error,
        status_code=status_code,
    )


@router.get("/irsaliyeler/{document_id:uuid}", response_class=HTMLResponse)
def despatch(
    request: Request,
    document_id: uuid.UUID,
    runtime: RuntimeDep,
    user: CurrentUser,
    ok: str | None = None,
) -> Response:
    lang = language(request)
    notice = translate("despatch.answered", lang) if ok == "yanit" else None
    return view_page(request, runtime, user, document_id, notice=notice)


@router.get("/irsaliyeler/{document_id:uuid}/xml")
def despatch_xml(document_id: uuid.UUID, runtime: RuntimeDep, user: CurrentUser) -> Response:
    doc = _load(runtime, user, document_id)
    xml = _signed_xml(runtime, user, doc)
    if xml is None:
        raise NotFoundPageError
    return Response(
        xml,
        media_type="application/xml",
        headers={"Content-Disposition": f'attachment; filename="{_file_name(doc)}.xml"'},
    )


@router.get("/irsaliyeler/{document_id:uuid}/yanit.xml")
def receipt_xml(document_id: uuid.UUID, runtime: RuntimeDep, user: CurrentUser) -> Response:
    doc = _load(runtime, user, document_id)
    xml = runtime.despatches.receipt_xml(user.tenant_id, doc.document_id)
    if xml is None:
        raise NotFoundPageError
    return Response(
        xml,
        media_type="application/xml",
        headers={"Content-Disposition": f'attachment; filename="{_file_name(doc)}-yanit.xml"'},
    )


@router.get("/irsaliyeler/{document_id:uuid}/pdf")
async def despatch_pdf(
    request: Request, document_id: uuid.UUID, runtime: RuntimeDep, user: CurrentUser
) -> Response:
    doc = await run_in_threadpool(_load, runtime, user, document_id)
    xml = await run_in_threadpool(_signed_xml, runtime, user, doc)
    if xml is None:
        raise NotFoundPageError
    view = await renderer_of(request).pdf(xml, cancelled=False)
    return Response(
        view.pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{_file_name(doc)}.pdf"'},
    )


@router.get("/irsaliyeler/{document_id:uuid}/gorunum")
async def despatch_html(
    request: Request, document_id: uuid.UUID, runtime: RuntimeDep, user: CurrentUser
) -> Response:
    doc = await run_in_threadpool(_load, runtime, user, document_id)
    xml = await run_in_threadpool(_signed_xml, runtime, user, doc)
    if xml is None:
        raise NotFoundPageError
    view = await renderer_of(request).html(xml, cancelled=False)
    return Response(
        view.html,
        media_type="text/html; charset=utf-8",
        headers={
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "X-Content-Type-Options": "nosniff",
        },
    )


# -- the answer (irsaliye yanıtı) --------------------------------------------------------------


def _quantity(text: str) -> Decimal | None:
    """``12,5`` (Turkish) or ``12.5``; Decimal(0) when empty; None when it is no quantity."""
    raw = text.strip().replace(" ", "")
    if not raw:
        return Decimal(0)
    if "," in raw:
        raw = raw.replace(".", "").replace(",", ".")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        return None
    if not value.is_finite() or value < 0 or value.adjusted() >= _MAX_DIGITS - 8:
        return None
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -8:  # more than 8 decimals
        return None
    return value


def parse_answer(
    fields: dict[str, str], despatch: DespatchDraft, lang: str
) -> tuple[dict[int, LineAnswer], dict[str, str]]:
    """The answers by line number from the form's fields, and the errors by field name."""
    answers: dict[int, LineAnswer] = {}
    errors: dict[str, str] = {}
    for n, line in enumerate(despatch.lines, start=1):
        amounts: dict[str, Decimal] = {}
        for part in ("rejected", "short", "oversupply"):
            name = f"{part}_{n}"
            value = _quantity(fields.get(name, ""))
            if value is None:
                errors[name] = translate("despatch.bad_quantity", lang)
            else:
                amounts[part] = value
        reason_name = f"reason_{n}"
        reason = " ".join(fields.get(reason_name, "").split())
        if len(reason) > 500 or any(ord(c) < 32 for c in reason):
            errors[reason_name] = translate("despatch.bad_reason", lang)
            continue
        if len(amounts) < 3:
            continue
        if amounts["rejected"] > 0 and not reason:
            errors[reason_name] = translate("despatch.reason_needed", lang)
        if reason and amounts["rejected"] == 0:
            errors[f"rejected_{n}"] = translate("despatch.reason_without_rejected", lang)
        if amounts["rejected"] + amounts["short"] > line.quantity:
            errors[f"short_{n}"] = translate(
                "despatch.too_much", lang, quantity=str(line.quantity), unit=line.unit_code
            )
        if any(amounts.values()) or reason:
            answers[n] = LineAnswer(
                rejected=amounts["rejected"],
                reject_reason=reason or None,
                short=amounts["short"],
                oversupply=amounts["oversupply"],
            )
    return answers, errors


@router.post("/irsaliyeler/{document_id:uuid}/yanit")
async def answer(
    request: Request, document_id: uuid.UUID, runtime: RuntimeDep, user: Writer
) -> Response:
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str) and len(v) <= 2000}
    return await run_in_threadpool(_answer, request, runtime, user, document_id, fields)


def _answer(
    request: Request,
    runtime: Runtime,
    user: PortalUser,
    document_id: uuid.UUID,
    fields: dict[str, str],
) -> Response:
    doc = _load(runtime, user, document_id)
    if doc.direction != "in":
        raise NotFoundPageError
    lang = language(request)
    despatch = _lines(runtime, user, doc)
    if despatch is None:  # pragma: no cover - an incoming despatch is stored as delivered
        raise NotFoundPageError
    if fields.get("mode") != "all" and len(despatch.lines) > MAX_LINES:
        return view_page(
            request,
            runtime,
            user,
            document_id,
            error=translate("despatch.too_many_lines", lang, limit=MAX_LINES),
            status_code=422,
        )
    if fields.get("mode") == "all":
        answers: dict[int, LineAnswer] = {}
    else:
        answers, errors = parse_answer(fields, despatch, lang)
        if errors:
            return view_page(
                request,
                runtime,
                user,
                document_id,
                form=AnswerForm(fields, errors),
                error=translate("despatch.fix_fields", lang),
                status_code=422,
            )
    try:
        runtime.despatches.receipt(user, doc.document_id, answers=answers)
    except EntegratorError as exc:
        message = exc.text_en if lang == "en" else exc.text_tr
        status = exc.http_status if 400 <= exc.http_status < 500 else 409
        return view_page(
            request,
            runtime,
            user,
            document_id,
            form=AnswerForm(fields, {}),
            error=message,
            status_code=status,
        )
    return RedirectResponse(f"/irsaliyeler/{document_id}?ok=yanit", status_code=303)
