"""Validating without storing: ``/api/v1/validate``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool

from entegrator.api.bodies import content_type, validate_body
from entegrator.api.deps import Principal, RuntimeDep
from entegrator.api.responses import AUTH, BODY, errors
from entegrator.api.schemas import ValidationReport
from entegrator.rules import Purpose

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/validate", tags=["validation"])

_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": {"type": "object"}},
        "application/xml": {"schema": {"type": "string"}},
    },
}


@router.post(
    "",
    operation_id="validate_document",
    summary="Validate a document (UBL-TR XML or an invoice draft) without storing it",
    response_model_exclude_unset=True,
    responses=errors(
        *AUTH,
        *BODY,
        422,
        when={422: "A draft that cannot be read or has too many lines (findings list why)"},
    ),
    openapi_extra={"requestBody": _BODY},
)
async def validate_document(
    request: Request,
    runtime: RuntimeDep,
    key: Principal,
    purpose: Annotated[
        Purpose | None,
        Query(
            description="outbound (we send it), upload (an ERP's XML to send) or inbound "
            "(delivered by GİB). Default: as issuing would judge it, XML as upload and a "
            "draft as outbound."
        ),
    ] = None,
) -> ValidationReport:
    del key  # any role may validate
    body = await request.body()
    # A draft is parsed and built, and any document validated, off the event loop.
    report = await run_in_threadpool(
        validate_body,
        runtime.validator,
        body,
        content_type(request),
        max_lines=runtime.settings.max_draft_lines,
        purpose=purpose,
    )
    return ValidationReport.of(report)
