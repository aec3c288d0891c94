"""Cancelling an e-Arşiv invoice (iptal): recorded now, reported to GİB in the next report.

``earsiv-and-others.md`` §1.3. The issuer may cancel an e-Arşiv invoice it has signed; the
cancellation (number, date, total) goes to GİB in the next e-Arşiv report as ``faturaIptal``,
after the invoice's own ``fatura`` entry (in the same report when it was not reported yet).
The number is never used again (the series never goes back). An e-Fatura is not cancelled
this way: its buyer answers it with RED, or returns it with an IADE invoice. The portal flow
with the buyer's approval (cancellation requests within 8 days for taxpayer buyers) is not
part of this; whether the report alone suffices for integrator users is [unconfirmed].

The status change fires ``document.status`` with status ``cancelled`` and an event
``cancelled`` {reason, cancelled_on}; the same transaction queues an e-mail telling the buyer
(number, date, reason; the view now says İPTAL EDİLMİŞTİR) through the invoice's own delivery
machinery (``deliveries.queue_cancellation``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from entegrator import lifecycle
from entegrator.documents.earsiv_report import ReportReadError, invoice_entry
from entegrator.errors import EntegratorError
from entegrator.lifecycle import DocumentStatus
from entegrator.services.deliveries import queue_cancellation
from entegrator.services.earsiv_reports import istanbul_day
from entegrator.store import Database, documents, earsiv, repo
from entegrator.store.ids import created_at

__all__ = [
    "CANCELLABLE",
    "AlreadyCancelledError",
    "Cancelled",
    "NotCancellableError",
    "NotEarsivError",
    "cancel_invoice",
]

# Signed and in GİB's hands (or on their way): queued for the report, or reported.
CANCELLABLE = frozenset({DocumentStatus.QUEUED, DocumentStatus.REPORTED})


class NotEarsivError(EntegratorError):
    code = "CANCEL_NOT_EARSIV"
    message_tr = (
        "Yalnızca e-Arşiv faturaları iptal edilebilir: e-Faturayı alıcı RED ile yanıtlar "
        "ya da IADE faturasıyla iade eder"
    )
    message_en = (
        "Only e-Arşiv invoices can be cancelled: an e-Fatura is answered by its buyer with RED "
        "or returned with an IADE invoice"
    )
    http_status = 409
    exit_code = 2


class AlreadyCancelledError(EntegratorError):
    code = "ALREADY_CANCELLED"
    message_tr = "Fatura zaten iptal edilmiş ({cancelled_on})"
    message_en = "The invoice is cancelled already ({cancelled_on})"
    http_status = 409
    exit_code = 2


class NotCancellableError(EntegratorError):
    code = "NOT_CANCELLABLE"
    message_tr = "Fatura {status} durumunda iptal edilemez: imzalanmış olmalı"
    message_en = "The invoice cannot be cancelled in status {status}: it must be signed"
    http_status = 409
    exit_code = 2


@dataclass(frozen=True)
class Cancelled:
    document_id: uuid.UUID
    number: str
    cancelled_on: dt.date
    status: str


def cancel_invoice(
    db: Database,
    tenant_id: uuid.UUID,
    document_id: uuid.UUID,
    *,
    reason: str,
    actor: str,
    now: dt.datetime,
) -> Cancelled:
    """Cancel one of the tenant's signed e-Arşiv invoices, in one transaction: the
    cancellation to report, the event, the status, the webhook. Raises ``LookupError`` for a
    document the tenant does not have, and :class:`NotEarsivError`,
    :class:`AlreadyCancelledError` or :class:`NotCancellableError` (all 409)."""
    created = created_at(document_id)
    with db.tenant(tenant_id) as conn:
        state = documents.lock_state(conn, tenant_id, document_id, created)
        row = documents.get_document(conn, tenant_id, document_id, created)
        if state is None or row is None or row.direction != "out":
            raise LookupError(f"no document {document_id}")
        if row.profile != "EARSIVFATURA":
            raise NotEarsivError()
        done = earsiv.get_cancellation(conn, tenant_id, document_id)
        if done is not None or state.status == DocumentStatus.CANCELLED:
            raise AlreadyCancelledError(cancelled_on=str(done.cancelled_on if done else "-"))
        if state.status not in CANCELLABLE or row.signed_sha256 is None:
            raise NotCancellableError(status=state.status)
        signed = repo.get_blob(conn, tenant_id, row.signed_sha256)
        try:
            total = invoice_entry(signed, file_name="", url="").total
        except ReportReadError:  # the report needs the total GİB knows: the payable amount
            total = str(row.payable or "0")
        day = istanbul_day(now)
        earsiv.insert_cancellation(
            conn,
            tenant_id,
            document_id=document_id,
            document_created=created,
            number=row.number or "",
            cancelled_on=day,
            total=total,
            reason=reason,
            actor=actor,
        )
        lifecycle.move(
            conn,
            tenant_id,
            state,
            DocumentStatus.CANCELLED,
            happened=[
                ("cancelled", "cancelled", {"reason": reason, "cancelled_on": day.isoformat()})
            ],
            actor=actor,
            now=now,
            code="earsiv-cancel-report",
            detail=reason,
        )
        queue_cancellation(conn, tenant_id, document_id, signed, actor=actor, now=now)
    return Cancelled(document_id, row.number or "", day, DocumentStatus.CANCELLED.value)
