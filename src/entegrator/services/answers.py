"""KABUL/RED of TICARIFATURA invoices: answering ours, recording theirs, the 8-day window.

A buyer answers a TICARIFATURA invoice within 8 days with a signed ApplicationResponse
(KABUL or RED) in a POSTBOXENVELOPE from its PK alias to the seller's GB alias
(``envelope-and-transport.md`` §8). ``answer`` builds, signs and queues that envelope and
records the answer on the incoming invoice, in one transaction; the sender sends it like any
envelope. When the seller's side receives it, ``record_answer`` moves its outgoing invoice to
``accepted`` or ``rejected``. After 8 days without an answer the system no longer takes one
[practice: objections then go through other channels, ``overview.md`` §5]; ``close_windows``
marks such invoices ``accepted`` with ``status_code`` ``no-answer``, on both sides.

IADE is recorded when it arrives (``returned``); returns are normally made by issuing an IADE
type invoice, which needs no answer [practice].
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import Connection

from entegrator import lifecycle
from entegrator.clock import Clock, utc_now
from entegrator.documents.response import ResponseParty, build_application_response
from entegrator.envelope.sbdh import EnvelopeType
from entegrator.envelope.sbdh import build as build_envelope
from entegrator.envelope.zipping import pack
from entegrator.errors import EntegratorError
from entegrator.lifecycle import DocumentStatus
from entegrator.services.seals import SealKeys
from entegrator.services.sending import wake_sender
from entegrator.store import Database, aliases, documents, outbound, repo, seals
from entegrator.store.ids import created_at

__all__ = ["ANSWER_STATUS", "ANSWER_WINDOW", "AnswerService", "NotAnswerableError", "record_answer"]

ANSWER_STATUS = {"KABUL": "accepted", "RED": "rejected", "IADE": "returned"}
ANSWER_WINDOW = dt.timedelta(days=8)


class NotAnswerableError(EntegratorError):
    code = "NOT_ANSWERABLE"
    message_tr = "Bu fatura yanıtlanamaz: {detail_tr}"
    message_en = "This invoice cannot be answered: {detail_en}"
    http_status = 409


def record_answer(
    conn: Connection,
    tenant_id: uuid.UUID,
    document_id: uuid.UUID,
    *,
    answer: str,
    reason: str | None,
    envelope_id: str | None,
    actor: str,
    expect: str,
    now: dt.datetime,
    code: str | None = None,
) -> bool:
    """Move an invoice to the answer's status with an event, if it is in one of the ``expect``
    statuses (``a|b``); False (and nothing written) otherwise, so a repeat changes nothing."""
    state = documents.lock_state(conn, tenant_id, document_id, created_at(document_id))
    if state is None or state.status not in expect.split("|"):
        return False
    status = ANSWER_STATUS[answer]
    lifecycle.move(
        conn,
        tenant_id,
        state,
        DocumentStatus(status),
        happened=[
            ("answered", status, {"answer": answer, "reason": reason, "envelope": envelope_id})
        ],
        actor=actor,
        now=now,
        code=code or answer,
        detail=reason,
    )
    return True


class AnswerService:
    def __init__(self, db: Database, keys: SealKeys, *, clock: Clock = utc_now) -> None:
        self.db = db
        self.keys = keys
        self.clock = clock

    def answer(
        self,
        key: repo.ApiKey,
        document_id: uuid.UUID,
        *,
        answer: str,
        reason: str | None,
        now: dt.datetime | None = None,
    ) -> dict[str, Any]:
        """Accept (KABUL) or reject (RED) an incoming TICARIFATURA invoice."""
        from entegrator.signing import sign

        t = key.tenant_id
        when = now or self.clock()
        with self.db.tenant(t) as conn:
            doc = repo.get_document(conn, t, document_id, created_at(document_id), for_update=True)
            if doc is None or doc.direction != "in":
                raise NotAnswerableError(
                    detail_tr="gelen fatura bulunamadı", detail_en="no such incoming invoice"
                )
            if doc.profile != "TICARIFATURA":
                raise NotAnswerableError(
                    detail_tr=f"{doc.profile} senaryosu yanıt almaz",
                    detail_en=f"a {doc.profile} invoice takes no answer",
                )
            if doc.status != "received":
                raise NotAnswerableError(
                    detail_tr=f"zaten yanıtlandı ({doc.status})",
                    detail_en=f"already answered ({doc.status})",
                )
            if when - doc.created_at > ANSWER_WINDOW:
                raise NotAnswerableError(
                    detail_tr="8 günlük yanıt süresi geçti",
                    detail_en="the 8-day answer period is over",
                )
            pk = aliases.first_alias(conn, t, kind="PK", document="Invoice")
            seal_id = seals.active_seal_id(conn, t)
            signer = self.keys.signer(conn, t, seal_id)
            if pk is None or doc.gib_alias is None or signer is None:
                raise NotAnswerableError(
                    detail_tr="PK etiketi, satıcının GB etiketi ya da mali mühür eksik",
                    detail_en="a PK alias, the seller's GB alias or the seal is missing",
                )
            xml = build_application_response(
                answer=answer,  # type: ignore[arg-type]
                invoice_ettn=str(doc.ettn).upper(),
                invoice_date=doc.issue_date or when.date(),
                sender=ResponseParty(doc.receiver_id or "", doc.receiver_name or "-"),
                receiver=ResponseParty(doc.sender_id or "", doc.sender_name or "-"),
                reason=reason,
                issued=when,
            )
            signed = sign(xml, signer.key, signing_time=when, on_behalf=signer.on_behalf)
            packed = pack(
                build_envelope(
                    [signed],
                    sender_alias=pk,
                    receiver_alias=doc.gib_alias,
                    type=EnvelopeType.POSTBOXENVELOPE,
                    created=when,
                )
            )
            envelope_id = packed.name.removesuffix(".zip")
            outbound.insert_envelope(
                conn,
                t,
                envelope_id=envelope_id,
                kind="response",
                file_name=packed.name,
                md5=packed.md5,
                data=packed.data,
                receiver_alias=doc.gib_alias,
                document_id=document_id,
                document_created=doc.created_at,
            )
            record_answer(
                conn,
                t,
                document_id,
                answer=answer,
                reason=reason,
                envelope_id=envelope_id,
                actor=key.actor,
                expect="received",
                now=when,
            )
            repo.append_audit(
                conn,
                t,
                actor=key.actor,
                action=f"invoice.{answer.lower()}",
                target=str(document_id),
                data={"reason": reason},
            )
            wake_sender(conn, t)
        return {"id": str(document_id), "status": ANSWER_STATUS[answer], "envelope": envelope_id}

    def close_windows(self, now: dt.datetime | None = None) -> int:
        """Mark TICARIFATURA invoices unanswered for 8 days ``accepted`` (``no-answer``)."""
        when = now or self.clock()
        with self.db.system() as conn:
            waiting = documents.unanswered_ticarifatura(conn, created_before=when - ANSWER_WINDOW)
        closed = 0
        for ref in waiting:
            with self.db.tenant(ref.tenant_id) as conn:
                done = record_answer(
                    conn,
                    ref.tenant_id,
                    ref.document_id,
                    answer="KABUL",
                    reason="8 gün içinde yanıt verilmedi / no answer within 8 days",
                    envelope_id=None,
                    actor="system",
                    expect="delivered|processing|sent|received",
                    now=when,
                    code="no-answer",
                )
                closed += done
        return closed
