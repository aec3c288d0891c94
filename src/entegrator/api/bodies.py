"""Request bodies that carry a document: an invoice draft (JSON) or UBL-TR XML.

Parsing a body is the edge's work; what the document means is the services'. These functions
are CPU work, and the routes run them in the request threads, never on the event loop.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from entegrator.api import metrics
from entegrator.api.errors import EmptyBodyError, TooManyLinesError, UnsupportedMediaTypeError
from entegrator.documents import read_draft
from entegrator.documents.errors import DraftError
from entegrator.documents.model import InvoiceDraft
from entegrator.rules import DocumentValidator, Purpose, Report
from entegrator.services.invoices import ValidationFailedError, draft_findings

__all__ = [
    "XML_TYPES",
    "DocumentBody",
    "content_type",
    "document_body",
    "parse_draft",
    "validate_body",
]

XML_TYPES = ("application/xml", "text/xml")


def content_type(request: Request) -> str:
    """The media type of the body, without parameters, lower-case ('' when absent)."""
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def parse_draft(body: bytes, *, max_lines: int) -> InvoiceDraft:
    """A draft from JSON, refused (422, every problem listed) when it does not read or has
    more lines than ``max_lines`` (``ENTEGRATOR_MAX_DRAFT_LINES``)."""
    try:
        draft = read_draft(body)  # every problem, an unknown field hiding none of the others
    except DraftError as exc:
        raise ValidationFailedError(draft_findings(exc)) from None
    if len(draft.lines) > max_lines:
        raise TooManyLinesError(lines=len(draft.lines), limit=max_lines, where="lines")
    return draft


@dataclass(frozen=True)
class DocumentBody:
    """An invoice to issue: a draft or XML, and the hash that makes a replay the same request."""

    draft: InvoiceDraft | None
    xml: bytes | None
    request_sha256: bytes


def document_body(
    body: bytes, media_type: str, *, series: str | None, max_lines: int
) -> DocumentBody:
    """The invoice in an issuing request: 422 when empty or not a draft, 415 when neither
    JSON nor XML."""
    if not body:
        raise EmptyBodyError
    # A replay is the same request: the same body, type and series.
    request_sha = hashlib.sha256(
        b"\0".join((media_type.encode(), (series or "").encode(), body))
    ).digest()
    if media_type in XML_TYPES:
        return DocumentBody(None, body, request_sha)
    if media_type not in ("application/json", ""):
        raise UnsupportedMediaTypeError
    try:
        return DocumentBody(parse_draft(body, max_lines=max_lines), None, request_sha)
    except ValidationFailedError:
        metrics.REJECTED.inc()
        raise


def validate_body(
    validator: DocumentValidator,
    body: bytes,
    media_type: str,
    *,
    max_lines: int,
    purpose: Purpose | None = None,
) -> Report:
    """The report on a body to validate without storing: XML as it is, a draft built first
    (with a placeholder number and ETTN when it has none).

    Without ``purpose``, as issuing would judge it: XML as an upload, a draft as outbound."""
    if purpose is None:
        purpose = Purpose.OUTBOUND if media_type == "application/json" else Purpose.UPLOAD
    validator = validator.for_purpose(purpose)
    if media_type == "application/json":
        from entegrator.documents import build_invoice
        from entegrator.documents.errors import DraftError

        draft = parse_draft(body, max_lines=max_lines)
        try:
            updates: dict[str, Any] = {}
            if draft.number is None:
                updates["number"] = f"TST{draft.issue_date.year}000000001"
            if draft.ettn is None:
                updates["ettn"] = str(uuid.uuid4())
            body = build_invoice(draft.model_copy(update=updates) if updates else draft)
        except DraftError as exc:
            raise ValidationFailedError(draft_findings(exc)) from None
    return validator.validate(body, name="request")
