"""Incoming invoices: ``/api/v1/incoming`` (read, search, and answer a TICARIFATURA invoice
with KABUL or RED)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from pydantic import AfterValidator, BaseModel, Field

from entegrator.api.deps import Principal, RendererDep, RuntimeDep, Writer
from entegrator.api.errors import InvalidParameterError
from entegrator.api.responses import AUTH, BODY, errors
from entegrator.api.routes import _documents as documents
from entegrator.api.schemas import AnswerResult, Invoice, InvoicePage
from entegrator.documents.model._base import xml_safe

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
) -> InvoicePage:
    return documents.search(runtime, key, DIRECTION, query)


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
