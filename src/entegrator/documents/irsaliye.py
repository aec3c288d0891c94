"""İrsaliye yanıtı hazırlama: a receipt draft answering a received despatch.

:func:`receipt_for` turns a despatch draft (as parsed from the received XML) into the
answer's draft: one line per despatch line, all received unless ``answers`` says otherwise.
The caller hands in the answer's number, ETTN and dates (the core reads no clock).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from entegrator.documents.model import DespatchDraft, ReceiptDraft, ReceiptLine

__all__ = ["LineAnswer", "receipt_for"]


@dataclass(frozen=True, slots=True)
class LineAnswer:
    """What happened to one despatch line: rejected (with reason), short and oversupply
    quantities, a late-delivery complaint; the received quantity is what is left of the
    despatched one."""

    rejected: Decimal = Decimal(0)
    reject_reason: str | None = None
    short: Decimal = Decimal(0)
    oversupply: Decimal = Decimal(0)
    timing_complaint: str | None = None


def receipt_for(
    despatch: DespatchDraft,
    *,
    number: str,
    ettn: str,
    issue_date: dt.date,
    actual_delivery_date: dt.date,
    issue_time: dt.time | None = None,
    answers: Mapping[int, LineAnswer] | None = None,
    notes: list[str] | None = None,
) -> ReceiptDraft:
    """The irsaliye yanıtı of ``despatch``; ``answers`` by despatch line number (from 1).

    Raises ``ValueError`` (a pydantic ``ValidationError``) when the despatch has no ETTN or
    an answer takes more than the line's quantity (received would be negative).
    """
    if despatch.ettn is None:
        raise ValueError("the despatch has no ETTN to answer")
    answers = answers or {}
    lines = []
    for n, line in enumerate(despatch.lines, start=1):
        a = answers.get(n, LineAnswer())
        lines.append(
            ReceiptLine(
                despatch_line_id=str(n),
                name=line.name,
                unit_code=line.unit_code,
                received=line.quantity - a.rejected - a.short,
                rejected=a.rejected or None,
                reject_reason=a.reject_reason,
                short=a.short or None,
                oversupply=a.oversupply or None,
                timing_complaint=a.timing_complaint,
                seller_item_id=line.seller_item_id,
            )
        )
    return ReceiptDraft(
        kind="receipt",
        profile=despatch.profile,
        number=number,
        ettn=ettn,
        customization_id=despatch.customization_id,
        issue_date=issue_date,
        issue_time=issue_time,
        notes=notes or [],
        despatch_ettn=despatch.ettn,
        despatch_date=despatch.issue_date,
        despatch_number=despatch.number,
        customer=despatch.customer,
        supplier=despatch.supplier,
        buyer_customer=despatch.buyer_customer,
        seller_supplier=despatch.seller_supplier,
        actual_delivery_date=actual_delivery_date,
        lines=lines,
    )
