"""What the API answers, as pydantic models: one model per answer, and the error shape.

The JSON is the API's contract (see ``docs/api.md``): amounts are decimal text (exact, never
floats), ETTNs upper-case, dates and times ISO 8601 as PostgreSQL gave them. Optional keys that
an answer leaves out (a finding's ``hint_en``, an error's ``where``) are unset, not null: the
routes answer with ``response_model_exclude_unset``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from entegrator.errors import EntegratorError
from entegrator.rules import MAX_FINDINGS, Report
from entegrator.rules import Finding as CoreFinding
from entegrator.store.deliveries import Delivery as DeliveryRow
from entegrator.store.documents import DocumentRow
from entegrator.store.events import EventRow

__all__ = [
    "AnswerResult",
    "CancelResult",
    "Delivery",
    "DeliveryList",
    "EarsivEntry",
    "EarsivReport",
    "EarsivReportList",
    "Error",
    "ErrorDetail",
    "Event",
    "Finding",
    "Health",
    "Invoice",
    "InvoiceDelivery",
    "InvoiceDeliveryList",
    "InvoicePage",
    "InvoiceSummary",
    "IssueResult",
    "Ready",
    "ReadyWarning",
    "RulePackRef",
    "SeriesDefaults",
    "SeriesDefaultsIn",
    "ValidationReport",
    "Webhook",
    "WebhookCreated",
    "WebhookList",
]

# Times keep their ISO form with the offset (``…+00:00``), as ``isoformat()`` writes it.
Timestamp = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
Amount = Annotated[
    str,
    WithJsonSchema(
        {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$", "examples": ["7200.00"]}
    ),
]


def _money(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


class Finding(BaseModel):
    """One problem found in a document (see ``docs/validation.md``)."""

    code: str
    severity: str
    source: str
    line: int | None
    xpath: str | None
    message_tr: str
    message_en: str
    hint: str | None
    hint_en: str | None = None

    @classmethod
    def of(cls, finding: CoreFinding) -> Finding:
        return cls.model_validate(finding.to_dict())


class ErrorDetail(BaseModel):
    code: str = Field(description="A stable machine code, e.g. DOCUMENT_NOT_FOUND")
    message_tr: str
    message_en: str
    where: str | None = Field(default=None, description="The field or part at fault, if known")


class Error(BaseModel):
    """Every error answer: the error, and for a document that is not valid its findings
    (at most 1,000; ``truncated`` counts those left out)."""

    error: ErrorDetail
    findings: list[Finding] | None = None
    truncated: int | None = None

    @classmethod
    def of(cls, exc: EntegratorError, findings: list[CoreFinding] | None = None) -> Error:
        error = ErrorDetail.model_validate(exc.to_dict())
        if findings is None:
            return cls(error=error)
        return cls(
            error=error,
            findings=[Finding.of(f) for f in findings[:MAX_FINDINGS]],
            truncated=max(0, len(findings) - MAX_FINDINGS),
        )

    def body(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_unset=True)


# -- documents -------------------------------------------------------------------------------


class Party(BaseModel):
    id: str | None = Field(description="VKN or TCKN")
    name: str | None


class Totals(BaseModel):
    line_extension: Amount | None
    tax_exclusive: Amount | None
    tax_total: Amount | None
    payable: Amount | None


class Links(BaseModel):
    xml: str
    html: str
    pdf: str


class Event(BaseModel):
    """One entry of a document's hash-chained event log."""

    seq: int
    at: Timestamp
    type: str
    status: str | None
    actor: str | None
    data: dict[str, Any]
    hash: str

    @classmethod
    def of(cls, event: EventRow) -> Event:
        return cls.model_validate(event.to_dict())


class InvoiceSummary(BaseModel):
    """An invoice as a search lists it."""

    id: str
    ettn: str = Field(description="Upper-case UUID")
    number: str | None
    status: str
    status_code: str | None
    status_detail: str | None
    direction: str
    profile: str | None
    type: str | None
    issue_date: dt.date | None
    sender: Party
    receiver: Party
    currency: str | None
    totals: Totals
    signed: bool
    created_at: Timestamp
    updated_at: Timestamp
    links: Links

    @classmethod
    def fields_of(cls, doc: DocumentRow) -> dict[str, Any]:
        # The links are the outgoing routes for both directions (as they always were); a
        # despatch advice's are its own routes.
        base = f"/api/v1/invoices/{doc.document_id}"
        if doc.kind == "despatch":
            route = "despatches" if doc.direction == "out" else "incoming-despatches"
            base = f"/api/v1/{route}/{doc.document_id}"
        return {
            "id": str(doc.document_id),
            "ettn": str(doc.ettn).upper(),
            "number": doc.number,
            "status": doc.status,
            "status_code": doc.status_code,
            "status_detail": doc.status_detail,
            "direction": doc.direction,
            "profile": doc.profile,
            "type": doc.type,
            "issue_date": doc.issue_date,
            "sender": Party(id=doc.sender_id, name=doc.sender_name),
            "receiver": Party(id=doc.receiver_id, name=doc.receiver_name),
            "currency": doc.currency,
            "totals": Totals(
                line_extension=_money(doc.line_extension),
                tax_exclusive=_money(doc.tax_exclusive),
                tax_total=_money(doc.tax_total),
                payable=_money(doc.payable),
            ),
            "signed": doc.signed_sha256 is not None,
            "created_at": doc.created_at.isoformat(),
            "updated_at": doc.updated_at.isoformat(),
            "links": Links(xml=f"{base}/xml", html=f"{base}/html", pdf=f"{base}/pdf"),
        }

    @classmethod
    def of(cls, doc: DocumentRow) -> InvoiceSummary:
        return cls(**cls.fields_of(doc))


class Invoice(InvoiceSummary):
    """One invoice with its event log."""

    events: list[Event]

    @classmethod
    def with_events(cls, doc: DocumentRow, events: list[EventRow]) -> Invoice:
        return cls(**cls.fields_of(doc), events=[Event.of(e) for e in events])


class InvoicePage(BaseModel):
    items: list[InvoiceSummary]
    next_cursor: str | None = Field(description="The cursor of the next page; null on the last")


class IssueResult(BaseModel):
    id: str
    ettn: str
    number: str
    status: str
    warnings: list[Finding]


class DespatchSummary(InvoiceSummary):
    """A despatch advice (e-İrsaliye) as a search lists it: an invoice's fields, without
    amounts (``totals`` are null), ``type`` SEVK or MATBUDAN."""

    @classmethod
    def of(cls, doc: DocumentRow) -> DespatchSummary:
        return cls(**cls.fields_of(doc))


class Despatch(DespatchSummary):
    """One despatch advice with its event log (the receipt answer is its ``answered``
    event: per line received, rejected, short and oversupplied quantities)."""

    events: list[Event]

    @classmethod
    def with_events(cls, doc: DocumentRow, events: list[EventRow]) -> Despatch:
        return cls(**cls.fields_of(doc), events=[Event.of(e) for e in events])


class DespatchPage(BaseModel):
    items: list[DespatchSummary]
    next_cursor: str | None = Field(description="The cursor of the next page; null on the last")


class ReceiptLineResult(BaseModel):
    line: str
    name: str
    unit: str
    received: str
    rejected: str
    reject_reason: str | None
    short: str
    oversupply: str


class ReceiptResult(BaseModel):
    """The receipt answer (irsaliye yanıtı) on its way to the despatch's sender."""

    id: str
    status: str
    status_code: str = Field(description="received, partly-rejected or rejected")
    receipt_number: str
    receipt_ettn: str
    envelope: str
    lines: list[ReceiptLineResult]


class AnswerResult(BaseModel):
    """The buyer's answer (KABUL/RED) on its way to the seller."""

    id: str
    status: str
    envelope: str


# -- webhooks --------------------------------------------------------------------------------


class Webhook(BaseModel):
    id: str
    url: str
    events: list[str]
    active: bool
    created_at: Timestamp


_Series = Annotated[
    str | None,
    Field(pattern=r"^[A-Z0-9]{3}$", description="3 characters of A-Z and 0-9 (seri)"),
]


class SeriesDefaults(BaseModel):
    """The default series per kind of invoice, used when a request names none."""

    efatura: str = Field(description="e-Fatura (TEMELFATURA, TICARIFATURA, …)")
    earsiv: str = Field(description="e-Arşiv (EARSIVFATURA)")
    internet: str = Field(description="e-Arşiv internet sales")


class SeriesDefaultsIn(BaseModel):
    """The defaults to change; a kind left out keeps its series."""

    model_config = ConfigDict(extra="forbid")

    efatura: _Series = None
    earsiv: _Series = None
    internet: _Series = None


class WebhookCreated(BaseModel):
    id: str
    url: str
    events: list[str]
    secret: str = Field(description="The signing secret, shown only in this answer")


class WebhookList(BaseModel):
    items: list[Webhook]


class Delivery(BaseModel):
    id: str
    event: str
    document_id: str | None
    status: str = Field(description="pending, delivered or failed")
    attempts: int
    last_status: int | None
    last_error: str | None
    created_at: Timestamp
    delivered_at: Timestamp | None


class DeliveryList(BaseModel):
    items: list[Delivery]


# -- deliveries of invoices to their buyers ------------------------------------------------


class InvoiceDelivery(BaseModel):
    id: str
    channel: str = Field(description="email or sms")
    address: str
    status: str = Field(description="queued, sent or failed")
    requested_by: str = Field(
        description="signing (automatic, e-Arşiv), api (a resend) or cancellation (the buyer told "
        "of a cancelled e-Arşiv invoice)"
    )
    attempts: int
    next_attempt_at: Timestamp | None = Field(description="When a queued one is tried next")
    last_error: str | None = Field(description="The server's answer to the last failed attempt")
    created_at: Timestamp
    sent_at: Timestamp | None

    @classmethod
    def of(cls, row: DeliveryRow) -> InvoiceDelivery:
        return cls(
            id=str(row.delivery_id),
            channel=row.channel,
            address=row.address,
            status=row.status,
            requested_by=row.requested_by,
            attempts=row.attempts,
            next_attempt_at=row.next_attempt_at.isoformat() if row.status == "queued" else None,
            last_error=row.last_error,
            created_at=row.created_at.isoformat(),
            sent_at=row.sent_at.isoformat() if row.sent_at else None,
        )


class InvoiceDeliveryList(BaseModel):
    items: list[InvoiceDelivery]


# -- validation and operations ---------------------------------------------------------------


class RulePackRef(BaseModel):
    """The rule pack a verdict was reached with (``entegrator rules list`` shows the same)."""

    name: str
    version: str
    fingerprint: str = Field(description="sha256 over the pack's schematron and schemas")


class ValidationReport(BaseModel):
    path: str
    valid: bool
    kind: str | None
    profile: str | None
    type: str | None
    purpose: str = Field(
        default="outbound",
        description="What the document was judged as: outbound (we send it), upload (an "
        "ERP's XML to send) or inbound (delivered by GİB); see docs/validation.md",
    )
    findings: list[Finding]
    truncated: int
    ms: float
    pack: RulePackRef | None = None

    @classmethod
    def of(cls, report: Report) -> ValidationReport:
        return cls.model_validate(report.to_dict())


class Health(BaseModel):
    status: str


class ReadyWarning(BaseModel):
    """Something for the operator that does not make the process unready."""

    code: str = Field(description="RULES_PACK_PENDING, RULES_PACK_OLD or EARSIV_OVERDUE")
    message_tr: str
    message_en: str


class Ready(BaseModel):
    """``status``: ready, migrating or unavailable; ``worker``: absent, starting, running,
    stopping or restarting."""

    status: str
    revision: str | None = None
    head: str | None = None
    detail: str | None = Field(default=None, description="Why the database did not answer")
    worker: str
    rules_pack: RulePackRef | None = Field(
        default=None, description="The rule pack outgoing documents are checked with today"
    )
    warnings: list[ReadyWarning] | None = Field(
        default=None,
        description="What needs attention without making the service unready: a newer rule "
        "pack waiting for its date, an old one in force, e-Arşiv invoices past their report "
        "deadline",
    )


# -- e-Arşiv reports -------------------------------------------------------------------------


class EarsivEntry(BaseModel):
    """An invoice (``fatura``) or a cancellation (``iptal``) a report carried."""

    kind: str
    document_id: str
    number: str


class EarsivReport(BaseModel):
    """One e-Arşiv report: its period (month) and part, what it carried, GİB's answer.

    ``status``: pending (to send), sent (GİB has it; followed with getBatchStatus),
    succeeded (GİB's 30) or failed (refused: ``gib_code``/``gib_text`` say why, and its
    entries go into the next report)."""

    id: str
    period: str = Field(description="YYYY-MM")
    part: int
    part_start: dt.date
    part_end: dt.date
    preparer: str
    invoices: int
    cancellations: int
    status: str
    gib_code: int | None = None
    gib_text: str | None = None
    attempts: int
    last_error: str | None = None
    created_at: Timestamp
    sent_at: Timestamp | None = None
    settled_at: Timestamp | None = None
    entries: list[EarsivEntry] | None = None

    @classmethod
    def from_row(cls, row: Any, entries: list[tuple[str, Any, str]] | None = None) -> EarsivReport:
        return cls(
            id=str(row.report_id),
            period=row.period.isoformat()[:7],
            part=row.part,
            part_start=row.part_start,
            part_end=row.part_end,
            preparer=row.preparer,
            invoices=row.invoices,
            cancellations=row.cancellations,
            status=row.status,
            gib_code=row.gib_code,
            gib_text=row.gib_text,
            attempts=row.attempts,
            last_error=row.last_error,
            created_at=row.created_at.isoformat(),
            sent_at=row.sent_at.isoformat() if row.sent_at else None,
            settled_at=row.settled_at.isoformat() if row.settled_at else None,
            entries=None
            if entries is None
            else [EarsivEntry(kind=k, document_id=str(d), number=n) for k, d, n in entries],
        )


class EarsivReportList(BaseModel):
    reports: list[EarsivReport]
    counts: dict[str, int] = Field(description="How many of the listed reports per status")


class CancelResult(BaseModel):
    """An e-Arşiv invoice cancelled: the cancellation goes to GİB in the next report."""

    id: str
    number: str
    status: str
    cancelled_on: dt.date
