"""Incoming invoices: ``/api/v1/incoming`` (read, search, and answer a TICARIFATURA invoice
with KABUL or RED), and the ERPs' inbox: ``?unacknowledged=true`` lists what a consumer has not
acknowledged yet, ``POST /ack`` acknowledges (see ``docs/erp.md`` for the guarantees)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from pydantic import AfterValidator, BaseModel, Field

from entegrator.api.deps import Principal, RendererDep, RuntimeDep, Writer
from entegrator.api.errors import InvalidParameterError
from entegrator.api.responses import AUTH, BODY, errors
from entegrator.api.routes import _documents as documents
from entegrator.api.schemas import AnswerResult, Invoice, InvoicePage, InvoiceSummary
from entegrator.documents.model._base import xml_safe
from entegrator.store.ids import created_at
from entegrator.store.inbox import CONSUMER_PATTERN, acknowledge, unacknowledged
from entegrator.store.keys import ApiKey

__all__ = ["router"]

DIRECTION = "in"

router = APIRouter(prefix="/api/v1/incoming", tags=["incoming"])

_ANSWER_RESPONSES = errors(
    *AUTH,
    *BODY,
    403,
    404,
    409,
    422,
    when={
        409: "The invoice takes no answer, is answered already, or its 8 days have passed "
        "(NOT_ANSWERABLE)"
    },
)


class AnswerIn(BaseModel):
    reason: Annotated[str | None, Field(max_length=500), AfterValidator(xml_safe)] = None


@router.get(
    "",
    operation_id="search_incoming",
    summary="Search incoming invoices (newest first)",
    responses=documents.SEARCH_RESPONSES,
)
def search_incoming(
    runtime: RuntimeDep,
    key: Principal,
    query: Annotated[documents.Search, Depends(documents.search_query)],
    unacknowledged: Annotated[
        bool,
        Query(
            description="Only documents the consumer has not acknowledged, oldest first "
            "(the cursor pages forward)"
        ),
    ] = False,
    consumer: Annotated[
        str | None,
        Query(
            pattern=CONSUMER_PATTERN,
            description="Whose acknowledgements count (with unacknowledged=true); "
            "by default the API key's own",
        ),
    ] = None,
) -> InvoicePage:
    if not unacknowledged:
        return documents.search(runtime, key, DIRECTION, query)
    return _unacknowledged(runtime, key, query, consumer_of(key, consumer))


MAX_ACK = 1000  # ids in one acknowledgement


def consumer_of(key: ApiKey, consumer: str | None) -> str:
    """The consumer named, or the API key's own (``key.<key id>``)."""
    return consumer if consumer is not None else f"key.{key.key_id.hex}"


def _unacknowledged(
    runtime: RuntimeDep, key: ApiKey, query: documents.Search, consumer: str
) -> InvoicePage:
    with runtime.db.tenant(key.tenant_id) as conn:
        rows = unacknowledged(
            conn,
            key.tenant_id,
            consumer=consumer,
            filters=query.filters,
            limit=query.limit + 1,
            after=query.cursor,
        )
    page = rows[: query.limit]
    more = len(rows) > query.limit and bool(page)
    return InvoicePage(
        items=[InvoiceSummary.of(d) for d in page],
        next_cursor=documents.encode_cursor(page[-1]) if more else None,
    )


class AckIn(BaseModel):
    ids: Annotated[
        list[Annotated[str, Field(max_length=64)]],
        Field(min_length=1, max_length=MAX_ACK, description="Document ids (at most 1,000)"),
    ]
    consumer: Annotated[
        str | None,
        Field(pattern=CONSUMER_PATTERN, description="By default the API key's own"),
    ] = None


class AckResult(BaseModel):
    consumer: str
    acknowledged: list[str] = Field(
        description="The ids acknowledged for the consumer, now or before (repeating is safe)"
    )
    unknown: list[str] = Field(
        description="Ids that are no incoming document of this tenant (nothing done)"
    )


@router.post(
    "/ack",
    operation_id="acknowledge_incoming",
    summary="Acknowledge incoming documents for a consumer (idempotent)",
    responses=errors(*AUTH, *BODY, 403, 422),
)
def acknowledge_incoming(runtime: RuntimeDep, key: Writer, body: AckIn) -> AckResult:
    consumer = consumer_of(key, body.consumer)
    parsed: dict[uuid.UUID, str] = {}
    unknown: list[str] = []
    for i, raw in enumerate(body.ids):
        try:
            ident = uuid.UUID(raw)
        except ValueError:
            raise InvalidParameterError(
                where=f"ids[{i}]", detail=f"ids[{i}]: not a document id"
            ) from None
        if ident.version == 7:
            parsed.setdefault(ident, raw)
        else:
            unknown.append(raw)
    with runtime.db.tenant(key.tenant_id) as conn:
        known = acknowledge(
            conn,
            key.tenant_id,
            consumer=consumer,
            document_ids=list(parsed),
            created=[created_at(i) for i in parsed],
            actor=key.actor,
        )
    unknown += [raw for ident, raw in parsed.items() if ident not in known]
    return AckResult(
        consumer=consumer,
        acknowledged=[str(i) for i in parsed if i in known],
        unknown=unknown,
    )


@router.get(
    "/{document_id}",
    operation_id="get_incoming",
    summary="One incoming invoice, with its event log",
    responses=documents.READ_RESPONSES,
)
def get_incoming(document_id: str, runtime: RuntimeDep, key: Principal) -> Invoice:
    return documents.document(runtime, key, document_id, DIRECTION)


@router.get(
    "/{document_id}/xml",
    operation_id="get_incoming_xml",
    summary="The signed UBL-TR XML as delivered",
    response_class=Response,
    responses={200: {"content": {"application/xml": {}}}, **documents.FILE_RESPONSES},
)
def get_incoming_xml(document_id: str, runtime: RuntimeDep, key: Principal) -> Response:
    return documents.xml_response(runtime, key, document_id, DIRECTION)


@router.get(
    "/{document_id}/html",
    operation_id="get_incoming_html",
    summary="The invoice view (its own XSLT, or entegrator's), with the QR code",
    response_class=Response,
    responses={200: {"content": {"text/html": {}}}, **documents.FILE_RESPONSES},
)
async def get_incoming_html(
    document_id: str, runtime: RuntimeDep, renderer: RendererDep, key: Principal
) -> Response:
    return await documents.html_response(runtime, renderer, key, document_id, DIRECTION)


@router.get(
    "/{document_id}/pdf",
    operation_id="get_incoming_pdf",
    summary="The invoice view as PDF",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, **documents.FILE_RESPONSES},
)
async def get_incoming_pdf(
    document_id: str, runtime: RuntimeDep, renderer: RendererDep, key: Principal
) -> Response:
    return await documents.pdf_response(runtime, renderer, key, document_id, DIRECTION)


@router.post(
    "/{document_id}/accept",
    operation_id="accept_incoming",
    summary="KABUL a TICARIFATURA invoice (signed answer sent through GİB)",
    responses=_ANSWER_RESPONSES,
)
def accept_incoming(
    document_id: str, runtime: RuntimeDep, key: Writer, body: AnswerIn | None = None
) -> AnswerResult:
    doc = documents.load(runtime, key, document_id, DIRECTION)
    reason = body.reason if body else None
    return AnswerResult(
        **runtime.answers.answer(key, doc.document_id, answer="KABUL", reason=reason)
    )


@router.post(
    "/{document_id}/reject",
    operation_id="reject_incoming",
    summary="RED a TICARIFATURA invoice, with the reason (signed answer sent through GİB)",
    responses=_ANSWER_RESPONSES,
)
def reject_incoming(
    document_id: str, runtime: RuntimeDep, key: Writer, body: AnswerIn | None = None
) -> AnswerResult:
    reason = body.reason if body else None
    if not reason:
        raise InvalidParameterError(where="reason", detail="reason: required to reject")
    doc = documents.load(runtime, key, document_id, DIRECTION)
    return AnswerResult(**runtime.answers.answer(key, doc.document_id, answer="RED", reason=reason))
