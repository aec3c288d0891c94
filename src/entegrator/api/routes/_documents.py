"""What the reading routes of outgoing and incoming invoices share: loading a document of the
tenant, its signed XML and views, and searching (the routes themselves are declared in
``invoices.py`` and ``incoming.py``)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Annotated

from fastapi import Query, Response
from fastapi.concurrency import run_in_threadpool

from entegrator.api.errors import (
    DocumentNotFoundError,
    InvalidAmountError,
    InvalidCursorError,
    NotSignedYetError,
)
from entegrator.api.responses import AUTH, errors
from entegrator.api.schemas import Invoice, InvoicePage, InvoiceSummary
from entegrator.rendering import CONTENT_SECURITY_POLICY
from entegrator.rendering.sandbox import Renderer
from entegrator.runtime import Runtime
from entegrator.store.blobs import get_blob
from entegrator.store.documents import DocumentRow, get_document
from entegrator.store.events import list_events
from entegrator.store.ids import created_at
from entegrator.store.keys import ApiKey
from entegrator.store.search import DocumentFilters, Position, search_documents

__all__ = [
    "FILE_RESPONSES",
    "READ_RESPONSES",
    "SEARCH_RESPONSES",
    "Search",
    "document",
    "html_response",
    "load",
    "pdf_response",
    "search",
    "xml_response",
]

MAX_PAGE = 200
_PLAIN = r"^[^\x00-\x1f\x7f]{1,100}$"  # a search term: no control characters
MAX_AMOUNT_DIGITS = 18  # amount filters beyond any invoice's total are refused

READ_RESPONSES = errors(*AUTH, 404)
# The XML and its views exist once the worker has signed the document (409 before); a view
# may find every renderer busy, or not render at all (503).
FILE_RESPONSES = errors(
    *AUTH,
    404,
    409,
    when={
        409: "The document is not signed yet (NOT_SIGNED_YET); retry shortly",
        503: "The database is away, or no view could be rendered in time "
        "(DATABASE_UNAVAILABLE, VIEW_BUSY, VIEW_UNAVAILABLE); see Retry-After",
    },
)
SEARCH_RESPONSES = errors(*AUTH, 422)


def load(
    runtime: Runtime, key: ApiKey, document_id: str, direction: str, kind: str = "invoice"
) -> DocumentRow:
    """The tenant's document of ``direction``; 404 for anything else, another tenant's
    document included (its existence is not revealed)."""
    try:
        ident = uuid.UUID(document_id)
    except ValueError:
        raise DocumentNotFoundError from None
    if ident.version != 7:
        raise DocumentNotFoundError
    with runtime.db.tenant(key.tenant_id) as conn:
        doc = get_document(conn, key.tenant_id, ident, created_at(ident))
    if doc is None or doc.direction != direction or doc.kind != kind:
        raise DocumentNotFoundError
    return doc


def document(
    runtime: Runtime, key: ApiKey, document_id: str, direction: str, kind: str = "invoice"
) -> Invoice:
    """The document with its event log."""
    doc = load(runtime, key, document_id, direction, kind)
    with runtime.db.tenant(key.tenant_id) as conn:
        events = list_events(conn, key.tenant_id, doc.document_id)
    return Invoice.with_events(doc, events)


def issuer_logo(runtime: Runtime, tenant_id: uuid.UUID, direction: str) -> tuple[bytes, str] | None:
    """The tenant's logo (Ayarlar) for the views of what it issued; None for what it received
    (that document is another company's)."""
    if direction != "out":
        return None
    from entegrator.services import company

    return company.logo(runtime.db, tenant_id)


def _signed(
    runtime: Runtime, key: ApiKey, document_id: str, direction: str, kind: str = "invoice"
) -> tuple[DocumentRow, bytes]:
    doc = load(runtime, key, document_id, direction, kind)
    if doc.signed_sha256 is None:
        raise NotSignedYetError(status=doc.status)
    with runtime.db.tenant(key.tenant_id) as conn:
        return doc, get_blob(conn, key.tenant_id, doc.signed_sha256)


def xml_response(
    runtime: Runtime, key: ApiKey, document_id: str, direction: str, kind: str = "invoice"
) -> Response:
    """The signed XML exactly as stored; its SHA-256 is the ETag."""
    doc, data = _signed(runtime, key, document_id, direction, kind)
    return Response(
        data,
        media_type="application/xml",
        headers={
            "Content-Disposition": f'attachment; filename="{doc.number}.xml"',
            "ETag": f'"{doc.signed_sha256.hex() if doc.signed_sha256 else ""}"',
        },
    )


def _view_headers(source: str, fallback: str | None) -> dict[str, str]:
    headers = {"X-Entegrator-Stylesheet": source}
    if fallback is not None:
        headers["X-Entegrator-View-Fallback"] = fallback
    return headers


async def html_response(
    runtime: Runtime,
    renderer: Renderer,
    key: ApiKey,
    document_id: str,
    direction: str,
    *,
    kind: str = "invoice",
) -> Response:
    """The view, rendered in a limited worker process and awaited without a thread."""
    doc, xml = await run_in_threadpool(_signed, runtime, key, document_id, direction, kind)
    logo = await run_in_threadpool(issuer_logo, runtime, key.tenant_id, direction)
    # A cancelled e-Arşiv invoice is stamped "İPTAL EDİLMİŞTİR" wherever it is shown.
    view = await renderer.html(xml, cancelled=doc.status == "cancelled", logo=logo)
    return Response(
        view.html,
        media_type="text/html; charset=utf-8",
        headers={
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "X-Content-Type-Options": "nosniff",
            **_view_headers(view.source, view.fallback),
        },
    )


async def pdf_response(
    runtime: Runtime,
    renderer: Renderer,
    key: ApiKey,
    document_id: str,
    direction: str,
    *,
    kind: str = "invoice",
) -> Response:
    doc, xml = await run_in_threadpool(_signed, runtime, key, document_id, direction, kind)
    logo = await run_in_threadpool(issuer_logo, runtime, key.tenant_id, direction)
    view = await renderer.pdf(xml, cancelled=doc.status == "cancelled", logo=logo)
    return Response(
        view.pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{doc.number}.pdf"',
            **_view_headers(view.source, view.fallback),
        },
    )


# -- searching -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Search:
    filters: DocumentFilters
    limit: int
    cursor: Position | None


def _amount(name: str, value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise InvalidAmountError(where=name) from None
    if not amount.is_finite() or amount.adjusted() >= MAX_AMOUNT_DIGITS:
        raise InvalidAmountError(where=name)
    return amount


def search_query(  # noqa: PLR0917 - one query parameter per filter
    issued_from: dt.date | None = None,
    issued_to: dt.date | None = None,
    party: Annotated[str | None, Query(pattern=r"^[0-9]{10,11}$")] = None,
    status: Annotated[str | None, Query(pattern=_PLAIN)] = None,
    profile: Annotated[str | None, Query(pattern=_PLAIN)] = None,
    type: Annotated[str | None, Query(pattern=_PLAIN)] = None,
    number: Annotated[str | None, Query(pattern=_PLAIN)] = None,
    min_total: str | None = None,
    max_total: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    cursor: str | None = None,
) -> Search:
    """The search's query parameters, parsed: 422 for an amount or cursor that is not one."""
    filters = DocumentFilters(
        issued_from=issued_from,
        issued_to=issued_to,
        party=party,
        status=status,
        profile=profile,
        type=type,
        number=number,
        min_total=_amount("min_total", min_total),
        max_total=_amount("max_total", max_total),
    )
    return Search(filters, limit, None if cursor is None else decode_cursor(cursor))


def search(
    runtime: Runtime, key: ApiKey, direction: str, query: Search, kind: str = "invoice"
) -> InvoicePage:
    """One page of the tenant's documents of ``kind``, newest first."""
    with runtime.db.tenant(key.tenant_id) as conn:
        rows = search_documents(
            conn,
            key.tenant_id,
            direction=direction,
            filters=query.filters,
            limit=query.limit + 1,  # one more: is there a next page?
            cursor=query.cursor,
            kind=kind,
        )
    page = rows[: query.limit]
    more = len(rows) > query.limit and bool(page)
    return InvoicePage(
        items=[InvoiceSummary.of(d) for d in page],
        next_cursor=encode_cursor(page[-1]) if more else None,
    )


def encode_cursor(doc: DocumentRow) -> str:
    raw = json.dumps([doc.created_at.isoformat(), str(doc.document_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> Position:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        when, ident = json.loads(raw)
        return Position(dt.datetime.fromisoformat(when), uuid.UUID(ident))
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError):
        raise InvalidCursorError(where="cursor") from None
