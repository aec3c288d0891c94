"""The statuses a document can be in, and the kinds of documents that move through them.

A status is what the document *is* now; an event (``events`` table) is what happened to it.
``status_code`` and ``status_detail`` beside the status say more (GİB's code, the answer, why
it waits) without being statuses of their own.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Direction", "DocumentKind", "DocumentStatus"]


class Direction(StrEnum):
    OUT = "out"  #: we issued it
    IN = "in"  #: GİB delivered it to us


class DocumentKind(StrEnum):
    INVOICE = "invoice"  #: e-Fatura and e-Arşiv Fatura (the profile tells which)
    DESPATCH = "despatch"  #: e-İrsaliye (DespatchAdvice)
    RECEIPT = "receipt"  #: e-İrsaliye answer (ReceiptAdvice)


class DocumentStatus(StrEnum):
    """Every status a document row can hold (the ``documents.status`` CHECK lists them)."""

    DRAFT = "draft"
    """Received from the ERP, not yet validated (only ever an event's status: issuing
    validates in the same transaction)."""

    VALIDATED = "validated"
    """Passed every validation layer and holds its number; waits for the worker to sign it
    (``status_code`` ``seal-missing`` while the tenant has no seal)."""

    SIGNED = "signed"
    """Carries the tenant's financial seal (an event's status: signing queues it at once)."""

    QUEUED = "queued"
    """Signed and waiting to leave: an e-Fatura for its envelope and GİB (``status_code``
    ``enveloped`` once packed, ``not-registered`` when the buyer is not in GİB's list), an
    e-Arşiv invoice for the e-Arşiv report (``earsiv-report``; the report carrying it is
    named in ``earsiv_report_items``)."""

    SENT = "sent"
    """GİB took the envelope (1000)."""

    PROCESSING = "processing"
    """GİB is checking it or has passed it on (1100, 1200, 1210, 1220): the receiver's
    answer is awaited."""

    DELIVERED = "delivered"
    """The receiver got it (1300). Final for TEMELFATURA; TICARIFATURA waits for the
    buyer's KABUL or RED, 8 days at most."""

    REJECTED_BY_GIB = "rejected_by_gib"
    """GİB refused the envelope (11xx): nothing was registered; fix and issue anew."""

    FAILED_DELIVERY = "failed_delivery"
    """GİB could not deliver it, or the receiver refused the envelope (1215, 1230)."""

    FAILED = "failed"
    """Could not be signed or sent (an expired seal, a corrupt blob, GİB refused the call
    itself); ``status_code`` says why."""

    ACCEPTED = "accepted"
    """The buyer accepted it (KABUL), or 8 days passed without an answer (``status_code``
    ``no-answer``)."""

    REJECTED = "rejected"
    """The buyer rejected it (RED); the reason is in ``status_detail``."""

    RETURNED = "returned"
    """The buyer returned it (IADE)."""

    REPORTED = "reported"
    """An e-Arşiv invoice GİB confirmed in an e-Arşiv report (``getBatchStatus`` 30); the
    report's id is in the event."""

    CANCELLED = "cancelled"
    """An e-Arşiv invoice its issuer cancelled (iptal); the cancellation goes to GİB in the
    next e-Arşiv report. Its number is never used again."""

    RECEIVED = "received"
    """An incoming document GİB delivered, filed for the tenant; a TICARIFATURA waits for
    the tenant's KABUL or RED."""
