"""Outgoing invoices: ``/api/v1/invoices`` (issue, read, search)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from entegrator.api import metrics
from entegrator.api.bodies import content_type, document_body
from entegrator.api.deps import Principal, RendererDep, RuntimeDep, Writer
from entegrator.api.responses import AUTH, BODY, errors
from entegrator.api.routes import _documents as documents
from entegrator.api.schemas import (
    CancelResult,
    Invoice,
    InvoiceDelivery,
    InvoiceDeliveryList,
    InvoicePage,
    IssueResult,
)
from entegrator.documents.model._base import xml_safe
from entegrator.runtime import Runtime
from entegrator.services.earsiv_cancel import cancel_invoice
from entegrator.services.invoices import IssueResult as Issued
from entegrator.services.invoices import RequestError, ValidationFailedError
from entegrator.store.keys import ApiKey

__all__ = ["router"]

PREFIX = "/api/v1/invoices"
DIRECTION = "out"

router = APIRouter(prefix=PREFIX, tags=["invoices"])

_ISSUE_RESPONSES = errors(
    *AUTH,
    *BODY,
    402,
    403,
    409,
    415,
    422,
    when={
        409: "The ETTN or Idempotency-Key is already used, or the number is not the series' "
        "next (CONFLICT, NUMBER_NOT_NEXT, SERIES_EXHAUSTED)"
    },
)
_ISSUE_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": {"type": "object"}},
        "application/xml": {"schema": {"type": "string"}},
    },
}


def _issue(
    runtime: Runtime,
    key: ApiKey,
    body: bytes,
    media_type: str,
    *,
    series: str | None,
    idempotency_key: str | None,
) -> Issued:
    parsed = document_body(
        body, media_type, series=series, max_lines=runtime.settings.max_draft_lines
    )
    try:
        result = runtime.invoices.issue(
            key,
            draft=parsed.draft,
            xml=parsed.xml,
            series=series,
            idempotency_key=idempotency_key,
            request_sha256=parsed.request_sha256,
        )
    except (ValidationFailedError, RequestError):
        metrics.REJECTED.inc()
        raise
    if not result.replayed:
        metrics.ISSUED.inc()
    return result


@router.post(
    "",
    status_code=201,
    operation_id="issue_invoice",
    summary="Issue an invoice from a draft (JSON) or UBL-TR XML",
    response_model_exclude_unset=True,
    responses=_ISSUE_RESPONSES,
    openapi_extra={"requestBody": _ISSUE_BODY},
)
async def issue_invoice(
    request: Request,
    response: Response,
    runtime: RuntimeDep,
    key: Writer,
    *,
    series: Annotated[str | None, Query(description="3-character series (seri)")] = None,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> IssueResult:
    # The caller is known (Writer) before its body is read; parsing and validating run in a
    # request thread, never on the event loop.
    body = await request.body()
    result = await run_in_threadpool(
        _issue,
        runtime,
        key,
        body,
        content_type(request),
        series=series,
        idempotency_key=idempotency_key,
    )
    response.headers["Location"] = f"{PREFIX}/{result.id}"
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return IssueResult.model_validate(result.to_dict())


@router.get(
    "/{document_id}",
    operation_id="get_invoice",
    summary="One invoice, with its event log",
    responses=documents.READ_RESPONSES,
)
def get_invoice(document_id: str, runtime: RuntimeDep, key: Principal) -> Invoice:
    return documents.document(runtime, key, document_id, DIRECTION)


@router.get(
    "/{document_id}/xml",
    operation_id="get_invoice_xml",
    summary="The signed UBL-TR XML",
    response_class=Response,
    responses={200: {"content": {"application/xml": {}}}, **documents.FILE_RESPONSES},
)
def get_invoice_xml(document_id: str, runtime: RuntimeDep, key: Principal) -> Response:
    return documents.xml_response(runtime, key, document_id, DIRECTION)


@router.get(
    "/{document_id}/html",
    operation_id="get_invoice_html",
    summary="The invoice view (its own XSLT, or entegrator's), with the QR code",
    response_class=Response,
    responses={200: {"content": {"text/html": {}}}, **documents.FILE_RESPONSES},
)
async def get_invoice_html(
    document_id: str, runtime: RuntimeDep, renderer: RendererDep, key: Principal
) -> Response:
    return await documents.html_response(runtime, renderer, key, document_id, DIRECTION)


@router.get(
    "/{document_id}/pdf",
    operation_id="get_invoice_pdf",
    summary="The invoice view as PDF",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, **documents.FILE_RESPONSES},
)
async def get_invoice_pdf(
    document_id: str, runtime: RuntimeDep, renderer: RendererDep, key: Principal
) -> Response:
    return await documents.pdf_response(runtime, renderer, key, document_id, DIRECTION)


@router.get(
    "",
    operation_id="search_invoices",
    summary="Search outgoing invoices (newest first)",
    responses=documents.SEARCH_RESPONSES,
)
def search_invoices(
    runtime: RuntimeDep,
    key: Principal,
    query: Annotated[documents.Search, Depends(documents.search_query)],
) -> InvoicePage:
    return documents.search(runtime, key, DIRECTION, query)


class CancelIn(BaseModel):
    reason: Annotated[str, Field(min_length=1, max_length=500), AfterValidator(xml_safe)]


@router.post(
    "/{document_id}/cancel",
    operation_id="cancel_invoice",
    summary="Cancel an e-Arşiv invoice (iptal): reported to GİB in the next e-Arşiv report",
    responses=errors(
        *AUTH,
        *BODY,
        403,
        404,
        409,
        422,
        when={
            409: "Not an e-Arşiv invoice (an e-Fatura is answered with RED or returned with "
            "IADE), cancelled already, or not signed yet (CANCEL_NOT_EARSIV, "
            "ALREADY_CANCELLED, NOT_CANCELLABLE)"
        },
    ),
)
def cancel_earsiv_invoice(
    document_id: str, body: CancelIn, runtime: RuntimeDep, key: Writer
) -> CancelResult:
    doc = documents.load(runtime, key, document_id, DIRECTION)
    done = cancel_invoice(
        runtime.db,
        key.tenant_id,
        doc.document_id,
        reason=body.reason,
        actor=key.actor,
        now=runtime.clock(),
    )
    return CancelResult(
        id=str(done.document_id),
        number=done.number,
        status=done.status,
        cancelled_on=done.cancelled_on,
    )


class DeliveryIn(BaseModel):
    """Where to send the invoice (again)."""

    model_config = ConfigDict(extra="forbid")
    email: Annotated[str, Field(min_length=3, max_length=254)]


@router.post(
    "/{document_id}/deliveries",
    status_code=202,
    operation_id="deliver_invoice",
    summary="Send a signed invoice (again) by e-mail, to the buyer or another address",
    responses=errors(
        *AUTH,
        *BODY,
        403,
        404,
        409,
        422,
        when={
            409: "The invoice is not signed yet (NOT_SIGNED_YET)",
            422: "Not an e-mail address (INVALID_EMAIL), or a malformed body",
        },
    ),
)
def deliver_invoice(
    document_id: str, body: DeliveryIn, response: Response, runtime: RuntimeDep, key: Writer
) -> InvoiceDelivery:
    doc = documents.load(runtime, key, document_id, DIRECTION)
    row = runtime.deliveries.request_email(key.tenant_id, doc.document_id, body.email)
    response.headers["Location"] = f"{PREFIX}/{doc.document_id}/deliveries"
    return InvoiceDelivery.of(row)


@router.get(
    "/{document_id}/deliveries",
    operation_id="list_invoice_deliveries",
    summary="The invoice's deliveries to its buyer (e-mail, SMS), oldest first, with outcomes",
    responses=documents.READ_RESPONSES,
)
def list_invoice_deliveries(
    document_id: str, runtime: RuntimeDep, key: Principal
) -> InvoiceDeliveryList:
    doc = documents.load(runtime, key, document_id, DIRECTION)
    rows = runtime.deliveries.listed(key.tenant_id, doc.document_id)
    return InvoiceDeliveryList(items=[InvoiceDelivery.of(r) for r in rows])
