"""Despatch advices (e-İrsaliye): ``/api/v1/despatches`` (issue, read, search) and
``/api/v1/incoming-despatches`` (read, search, and answer with a receipt advice)."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from entegrator.api import metrics
from entegrator.api.bodies import XML_TYPES, content_type
from entegrator.api.deps import Principal, RendererDep, RuntimeDep, Writer
from entegrator.api.errors import (
    DocumentNotFoundError,
    EmptyBodyError,
    InvalidParameterError,
    TooManyLinesError,
    UnsupportedMediaTypeError,
)
from entegrator.api.responses import AUTH, BODY, errors
from entegrator.api.routes import _documents as documents
from entegrator.api.schemas import Despatch, DespatchPage, DespatchSummary, IssueResult
from entegrator.api.schemas import ReceiptResult as ReceiptResultSchema
from entegrator.documents.errors import DraftError
from entegrator.documents.irsaliye import LineAnswer
from entegrator.documents.model import DespatchDraft
from entegrator.documents.model._base import xml_safe
from entegrator.documents.read import read_any_draft
from entegrator.runtime import Runtime
from entegrator.services.invoices import (
    IssueResult as Issued,
)
from entegrator.services.invoices import (
    RequestError,
    ValidationFailedError,
    draft_findings,
    problem_findings,
)
from entegrator.store.events import list_events
from entegrator.store.keys import ApiKey

__all__ = ["incoming_router", "router"]

KIND = "despatch"
PREFIX = "/api/v1/despatches"
INCOMING = "/api/v1/incoming-despatches"

router = APIRouter(prefix=PREFIX, tags=["despatches"])
incoming_router = APIRouter(prefix=INCOMING, tags=["incoming-despatches"])

_ISSUE_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": {"type": "object"}},
        "application/xml": {"schema": {"type": "string"}},
    },
}
_ISSUE_RESPONSES = errors(
    *AUTH,
    *BODY,
    402,
    403,
    409,
    415,
    422,
    when={
        409: "The ETTN is already used, or the number is not the despatch series' next "
        "(CONFLICT, NUMBER_NOT_NEXT, SERIES_EXHAUSTED)"
    },
)


def _draft(body: bytes, max_lines: int) -> DespatchDraft:
    try:
        draft = read_any_draft(body)
    except DraftError as exc:
        raise ValidationFailedError(draft_findings(exc)) from None
    if not isinstance(draft, DespatchDraft):
        from entegrator.documents.errors import Problem

        raise ValidationFailedError(
            problem_findings(
                [
                    Problem(
                        "NOT_A_DESPATCH",
                        "kind",
                        'taslak bir irsaliye değil: "kind": "despatch" olmalı',
                        'the draft is not a despatch advice: "kind" must be "despatch"',
                    )
                ]
            )
        )
    if len(draft.lines) > max_lines:
        raise TooManyLinesError(lines=len(draft.lines), limit=max_lines, where="lines")
    return draft


def _issue(  # noqa: PLR0917 - the request's parts
    runtime: Runtime,
    key: ApiKey,
    body: bytes,
    media_type: str,
    series: str | None,
    idempotency_key: str | None,
) -> Issued:
    if not body:
        raise EmptyBodyError
    # A replay is the same request: the same body, type and series.
    sha = hashlib.sha256(b"\0".join((media_type.encode(), (series or "").encode(), body)))
    try:
        if media_type in XML_TYPES:
            return runtime.despatches.issue(
                key,
                xml=body,
                series=series,
                idempotency_key=idempotency_key,
                request_sha256=sha.digest(),
            )
        if media_type not in ("application/json", ""):
            raise UnsupportedMediaTypeError
        draft = _draft(body, runtime.settings.max_draft_lines)
        return runtime.despatches.issue(
            key,
            draft=draft,
            series=series,
            idempotency_key=idempotency_key,
            request_sha256=sha.digest(),
        )
    except (ValidationFailedError, RequestError):
        metrics.REJECTED.inc()
        raise


@router.post(
    "",
    status_code=201,
    operation_id="issue_despatch",
    summary="Issue a despatch advice (e-İrsaliye) from a draft (JSON) or UBL-TR XML",
    response_model_exclude_unset=True,
    responses=_ISSUE_RESPONSES,
    openapi_extra={"requestBody": _ISSUE_BODY},
)
async def issue_despatch(
    request: Request,
    response: Response,
    runtime: RuntimeDep,
    key: Writer,
    *,
    series: Annotated[str | None, Query(description="3-character despatch series")] = None,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> IssueResult:
    body = await request.body()
    result = await run_in_threadpool(
        _issue, runtime, key, body, content_type(request), series, idempotency_key
    )
    response.headers["Location"] = f"{PREFIX}/{result.id}"
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return IssueResult.model_validate(result.to_dict())


def _one(runtime: Runtime, key: ApiKey, document_id: str, direction: str) -> Despatch:
    doc = documents.load(runtime, key, document_id, direction, KIND)
    with runtime.db.tenant(key.tenant_id) as conn:
        events = list_events(conn, key.tenant_id, doc.document_id)
    return Despatch.with_events(doc, events)


def _search(runtime: Runtime, key: ApiKey, direction: str, query: documents.Search) -> DespatchPage:
    page = documents.search(runtime, key, direction, query, KIND)
    return DespatchPage(
        items=[DespatchSummary.model_validate(i.model_dump()) for i in page.items],
        next_cursor=page.next_cursor,
    )


def _receipt_xml(runtime: Runtime, key: ApiKey, document_id: str, direction: str) -> Response:
    doc = documents.load(runtime, key, document_id, direction, KIND)
    xml = runtime.despatches.receipt_xml(key.tenant_id, doc.document_id)
    if xml is None:
        raise DocumentNotFoundError
    return Response(
        xml,
        media_type="application/xml",
        headers={"Content-Disposition": f'attachment; filename="{doc.number}-yanit.xml"'},
    )


_RECEIPT_FILE = {200: {"content": {"application/xml": {}}}, **documents.READ_RESPONSES}


# -- outgoing -----------------------------------------------------------------------------------


@router.get(
    "",
    operation_id="search_despatches",
    summary="Search outgoing despatch advices (newest first)",
    responses=documents.SEARCH_RESPONSES,
)
def search_despatches(
    runtime: RuntimeDep,
    key: Principal,
    query: Annotated[documents.Search, Depends(documents.search_query)],
) -> DespatchPage:
    return _search(runtime, key, "out", query)


@router.get(
    "/{document_id}",
    operation_id="get_despatch",
    summary="One despatch advice, with its event log (and its receipt answer)",
    responses=documents.READ_RESPONSES,
)
def get_despatch(document_id: str, runtime: RuntimeDep, key: Principal) -> Despatch:
    return _one(runtime, key, document_id, "out")


@router.get(
    "/{document_id}/xml",
    operation_id="get_despatch_xml",
    summary="The signed UBL-TR XML",
    response_class=Response,
    responses={200: {"content": {"application/xml": {}}}, **documents.FILE_RESPONSES},
)
def get_despatch_xml(document_id: str, runtime: RuntimeDep, key: Principal) -> Response:
    return documents.xml_response(runtime, key, document_id, "out", KIND)


@router.get(
    "/{document_id}/html",
    operation_id="get_despatch_html",
    summary="The despatch advice's view",
    response_class=Response,
    responses={200: {"content": {"text/html": {}}}, **documents.FILE_RESPONSES},
)
async def get_despatch_html(
    document_id: str, runtime: RuntimeDep, renderer: RendererDep, key: Principal
) -> Response:
    return await documents.html_response(runtime, renderer, key, document_id, "out", kind=KIND)


@router.get(
    "/{document_id}/pdf",
    operation_id="get_despatch_pdf",
    summary="The despatch advice's view as PDF",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, **documents.FILE_RESPONSES},
)
async def get_despatch_pdf(
    document_id: str, runtime: RuntimeDep, renderer: RendererDep, key: Principal
) -> Response:
    return await documents.pdf_response(runtime, renderer, key, document_id, "out", kind=KIND)


@router.get(
    "/{document_id}/receipt",
    operation_id="get_despatch_receipt",
    summary="The receiver's signed receipt answer (irsaliye yanıtı); 404 before it arrives",
    response_class=Response,
    responses=_RECEIPT_FILE,
)
def get_despatch_receipt(document_id: str, runtime: RuntimeDep, key: Principal) -> Response:
    return _receipt_xml(runtime, key, document_id, "out")


# -- incoming -----------------------------------------------------------------------------------


@incoming_router.get(
    "",
    operation_id="search_incoming_despatches",
    summary="Search incoming despatch advices (newest first)",
    responses=documents.SEARCH_RESPONSES,
)
def search_incoming_despatches(
    runtime: RuntimeDep,
    key: Principal,
    query: Annotated[documents.Search, Depends(documents.search_query)],
) -> DespatchPage:
    return _search(runtime, key, "in", query)


@incoming_router.get(
    "/{document_id}",
    operation_id="get_incoming_despatch",
    summary="One incoming despatch advice, with its event log",
    responses=documents.READ_RESPONSES,
)
def get_incoming_despatch(document_id: str, runtime: RuntimeDep, key: Principal) -> Despatch:
    return _one(runtime, key, document_id, "in")


@incoming_router.get(
    "/{document_id}/xml",
    operation_id="get_incoming_despatch_xml",
    summary="The signed UBL-TR XML as delivered",
    response_class=Response,
    responses={200: {"content": {"application/xml": {}}}, **documents.FILE_RESPONSES},
)
def get_incoming_despatch_xml(document_id: str, runtime: RuntimeDep, key: Principal) -> Response:
    return documents.xml_response(runtime, key, document_id, "in", KIND)


@incoming_router.get(
    "/{document_id}/html",
    operation_id="get_incoming_despatch_html",
    summary="The despatch advice's view",
    response_class=Response,
    responses={200: {"content": {"text/html": {}}}, **documents.FILE_RESPONSES},
)
async def get_incoming_despatch_html(
    document_id: str, runtime: RuntimeDep, renderer: RendererDep, key: Principal
) -> Response:
    return await documents.html_response(runtime, renderer, key, document_id, "in", kind=KIND)


@incoming_router.get(
    "/{document_id}/pdf",
    operation_id="get_incoming_despatch_pdf",
    summary="The despatch advice's view as PDF",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, **documents.FILE_RESPONSES},
)
async def get_incoming_despatch_pdf(
    document_id: str, runtime: RuntimeDep, renderer: RendererDep, key: Principal
) -> Response:
    return await documents.pdf_response(runtime, renderer, key, document_id, "in", kind=KIND)


_Quantity = Annotated[Decimal, Field(ge=0, max_digits=20, decimal_places=8)]
_Reason = Annotated[str, Field(min_length=1, max_length=500), AfterValidator(xml_safe)]


class ReceiptLineIn(BaseModel):
    """What happened to one despatch line; what is neither rejected nor short is received."""

    model_config = ConfigDict(extra="forbid")
    line: int = Field(ge=1, le=100_000, description="The despatch line's number, from 1")
    rejected: _Quantity | None = None
    reject_reason: _Reason | None = None
    short: _Quantity | None = None
    oversupply: _Quantity | None = None


class ReceiptIn(BaseModel):
    """The receipt answer: ``accept_all`` (every line received in full), or ``lines``."""

    model_config = ConfigDict(extra="forbid")
    accept_all: bool = False
    lines: list[ReceiptLineIn] = Field(default_factory=list, max_length=100_000)
    actual_delivery_date: dt.date | None = None
    notes: list[_Reason] = Field(default_factory=list, max_length=10)


@incoming_router.post(
    "/{document_id}/receipt",
    operation_id="answer_incoming_despatch",
    summary="Answer a despatch advice with a receipt advice (irsaliye yanıtı) through GİB",
    responses=errors(
        *AUTH,
        *BODY,
        403,
        404,
        409,
        422,
        when={
            409: "Answered already, or its 7 days have passed (DESPATCH_ALREADY_ANSWERED, "
            "RECEIPT_WINDOW_CLOSED, NOT_RECEIPTABLE)",
            422: "Neither accept_all nor lines, a line the despatch does not have, or more "
            "rejected and short than despatched",
        },
    ),
)
def answer_incoming_despatch(
    document_id: str, body: ReceiptIn, runtime: RuntimeDep, key: Writer
) -> ReceiptResultSchema:
    if body.accept_all == bool(body.lines):
        raise InvalidParameterError(
            where="lines", detail="either accept_all or lines (one answer per line)"
        )
    answers: dict[int, LineAnswer] = {}
    for line in body.lines:
        if line.line in answers:
            raise InvalidParameterError(where="lines", detail=f"line {line.line} given twice")
        answers[line.line] = LineAnswer(
            rejected=line.rejected or Decimal(0),
            reject_reason=line.reject_reason,
            short=line.short or Decimal(0),
            oversupply=line.oversupply or Decimal(0),
        )
    doc = documents.load(runtime, key, document_id, "in", KIND)
    done = runtime.despatches.receipt(
        key,
        uuid.UUID(str(doc.document_id)),
        answers=answers,
        actual_delivery_date=body.actual_delivery_date,
        notes=body.notes,
    )
    return ReceiptResultSchema.model_validate(done)


@incoming_router.get(
    "/{document_id}/receipt",
    operation_id="get_incoming_despatch_receipt",
    summary="Our signed receipt answer (irsaliye yanıtı); 404 before the despatch is answered",
    response_class=Response,
    responses=_RECEIPT_FILE,
)
def get_incoming_despatch_receipt(
    document_id: str, runtime: RuntimeDep, key: Principal
) -> Response:
    return _receipt_xml(runtime, key, document_id, "in")
