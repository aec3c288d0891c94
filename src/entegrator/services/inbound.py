"""Envelopes GİB delivers to us: stored as received, then filed as the tenant's incoming documents.

``receive`` is what the ``/gib`` endpoint calls for a ``sendDocument`` from GİB. It checks the
transport (file name, MD5), reads the envelope header to learn whose alias it is addressed to,
and stores the raw envelope under that tenant *before* answering, together with the job that
will process it, in one transaction. A second delivery of the same envelope (GİB retries when
it missed our answer) is answered the same way and stored nothing twice.

``process_next`` then validates the envelope with GİB's layers (XSD, schematron, signatures)
and files every invoice in it as an incoming document (direction ``in``, status ``received``)
with its XML blob and first event; a refused envelope keeps the code it earned (11xx).
Every delivered document envelope is answered with a system response through GİB; system
responses for our own envelopes (GİB's, and the receivers' that GİB forwards) move our
documents along (``SendingService.settle``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from sqlalchemy import Connection, text

from entegrator.envelope.errors import EnvelopeError
from entegrator.envelope.sbdh import GIB_ALIAS, GIB_VKN, Envelope, EnvelopeType
from entegrator.envelope.zipping import unpack
from entegrator.gib.checks import envelope_refusal
from entegrator.gib.codes import status
from entegrator.rules import Severity, Validator
from entegrator.services.invoices import invoice_facts
from entegrator.services.sending import SendingService
from entegrator.services.webhooks import notify_document
from entegrator.store import Database, repo
from entegrator.store.ids import created_at, uuid7

__all__ = ["INBOUND_TASK", "InboundFault", "InboundService"]

log = logging.getLogger(__name__)

INBOUND_TASK = "entegrator.process_inbound"
_FILE_NAME = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\.zip$"
)
RECEIVED = "Zarf alındı."


class InboundFault(Exception):  # noqa: N818 - answered as a SOAP fault with GİB's code
    def __init__(self, code: int, msg: str) -> None:
        super().__init__(f"{code}: {msg}")
        self.code = code
        self.msg = msg


@dataclass(frozen=True)
class Received:
    tenant_id: uuid.UUID
    envelope_id: str
    md5: str
    duplicate: bool


def _alias_kind(envelope: Envelope) -> str:
    # Documents arrive at a mailbox (PK); replies and system responses at a sender unit (GB).
    return "PK" if envelope.type is EnvelopeType.SENDERENVELOPE else "GB"


def wake_inbound(conn: Connection, tenant_id: uuid.UUID) -> bool:
    return repo.wake(conn, INBOUND_TASK, tenant_id, lock=f"inbound:{tenant_id}")


class InboundService:
    def __init__(
        self,
        db: Database,
        validator: Validator,
        sending: SendingService | None = None,
        *,
        trust: Sequence[x509.Certificate] = (),
        require_gib_seal: bool = True,
    ) -> None:
        self.db = db
        self.validator = validator
        self.sending = sending  # answers delivered documents with a system response
        # Signatures on delivered documents must chain to these (Kamu SM's roots).
        self.trust = tuple(trust)
        # GİB's own system responses must carry GİB's seal to move our documents.
        self.require_gib_seal = require_gib_seal

    def receive(self, file_name: str, data: bytes, md5: str) -> Received:
        """Store a delivered envelope before it is acknowledged; raises :class:`InboundFault`."""
        if not _FILE_NAME.match(file_name):
            raise InboundFault(2006, "Zarf adı GUID olmalı")
        computed = hashlib.md5(data, usedforsecurity=False).hexdigest()
        if computed.lower() != md5.strip().lower():
            raise InboundFault(2000, "Özet değerleri farklı")
        try:
            envelope, _ = unpack(data, name=file_name)
        except EnvelopeError as exc:
            raise InboundFault(2005, f"Zarf okunamadı ({exc.gib_code}): {exc.text_tr}") from None
        with self.db.unscoped() as conn:
            tenant = conn.execute(
                text("SELECT entegrator_alias_tenant(:a, :k)"),
                {"a": envelope.receiver.alias, "k": _alias_kind(envelope)},
            ).scalar()
        if tenant is None:
            raise InboundFault(2005, f"Etiket bu entegratörde değil: {envelope.receiver.alias}")
        tenant_id = uuid.UUID(str(tenant))
        envelope_id = file_name.removesuffix(".zip").upper()
        with self.db.tenant(tenant_id) as conn:
            stored = conn.execute(
                text(
                    "INSERT INTO inbound_envelopes (tenant_id, envelope_id, file_name, md5, data, "
                    "envelope_type) VALUES (:t, :e, :f, :m, :d, :ty) "
                    "ON CONFLICT (tenant_id, envelope_id) DO NOTHING RETURNING envelope_id"
                ),
                {
                    "t": tenant_id,
                    "e": envelope_id,
                    "f": file_name,
                    "m": computed,
                    "d": data,
                    "ty": envelope.type.value,
                },
            ).first()
            if stored is not None:
                wake_inbound(conn, tenant_id)
                repo.append_audit(
                    conn,
                    tenant_id,
                    actor="gib",
                    action="envelope.receive",
                    target=envelope_id,
                    data={"type": envelope.type.value, "from": envelope.sender.alias},
                )
        return Received(tenant_id, envelope_id, computed, duplicate=stored is None)

    def status_of(self, envelope_id: str) -> tuple[uuid.UUID, int, str] | None:
        """(tenant, code, detail) of a delivered envelope, for ``getApplicationResponse``."""
        with self.db.system() as conn:
            row = conn.execute(
                text(
                    "SELECT tenant_id, status, code, detail FROM inbound_envelopes "
                    "WHERE envelope_id = :e"
                ),
                {"e": envelope_id.upper()},
            ).first()
        if row is None:
            return None
        code = row.code or (1200 if row.status == "processed" else 1100)
        return row.tenant_id, int(code), row.detail or ""

    def process_pending(self, tenant_id: uuid.UUID) -> int:
        done = 0
        while self.process_next(tenant_id):
            done += 1
        return done

    def process_next(self, tenant_id: uuid.UUID) -> bool:
        """Process the tenant's oldest waiting envelope; False when none is waiting."""
        with self.db.tenant(tenant_id) as conn:
            row = conn.execute(
                text(
                    "SELECT envelope_id, file_name, data FROM inbound_envelopes "
                    "WHERE tenant_id = :t AND status = 'received' ORDER BY received_at "
                    "LIMIT 1 FOR UPDATE SKIP LOCKED"
                ),
                {"t": tenant_id},
            ).first()
            if row is None:
                return False
            code, detail, envelope = self._file(
                conn, tenant_id, row.envelope_id, row.file_name, bytes(row.data)
            )
            if (
                self.sending is not None
                and envelope is not None
                and envelope.type in (EnvelopeType.SENDERENVELOPE, EnvelopeType.POSTBOXENVELOPE)
            ):
                self.sending.queue_system_response(
                    conn,
                    tenant_id,
                    answered=envelope,
                    code=code,
                    description=detail or status(code).text_tr,
                )
            conn.execute(
                text(
                    "UPDATE inbound_envelopes SET status = :s, code = :c, detail = :d, "
                    "processed_at = now() WHERE tenant_id = :t AND envelope_id = :e"
                ),
                {
                    "s": "processed" if code == 1200 else "refused",
                    "c": code,
                    "d": detail,
                    "t": tenant_id,
                    "e": row.envelope_id,
                },
            )
        return True

    def _file(
        self,
        conn: Connection,
        tenant_id: uuid.UUID,
        envelope_id: str,
        file_name: str,
        data: bytes,
    ) -> tuple[int, str | None, Envelope | None]:
        try:
            envelope, xml = unpack(data, name=file_name)
        except EnvelopeError as exc:
            return exc.gib_code or 1140, exc.text_tr, None
        refused = envelope_refusal(self.validator, xml, envelope, name=file_name, trust=self.trust)
        if refused is not None:
            return refused[0], refused[1], envelope
        if envelope.type is EnvelopeType.POSTBOXENVELOPE:
            for document in envelope.documents:
                self._file_answer(conn, tenant_id, envelope_id, document)
            return 1200, None, envelope
        if envelope.type is EnvelopeType.SYSTEMENVELOPE:
            for document in envelope.documents:
                self._file_system_response(conn, tenant_id, envelope_id, envelope, document)
            return 1200, None, envelope
        if envelope.type is not EnvelopeType.SENDERENVELOPE:
            return 1200, None, envelope
        for document in envelope.documents:
            self._file_invoice(conn, tenant_id, envelope_id, document, envelope.sender.alias)
        return 1200, None, envelope

    def _file_system_response(
        self,
        conn: Connection,
        tenant_id: uuid.UUID,
        envelope_id: str,
        envelope: Envelope,
        document: bytes,
    ) -> None:
        """A status for one of our envelopes: GİB's own (1200 or its 11xx refusal), or the
        receiver's, which GİB forwards: 1200 there means delivered (1300), anything else
        that the receiver refused it (1230)."""
        from entegrator.documents.response import read_response

        facts = read_response(document)
        if not facts.system or facts.status_code is None or self.sending is None:
            return
        doubt = self._system_response_doubt(envelope, document, facts.sender)
        if doubt is not None:
            # Not GİB's word: set aside (kept in the audit log); asking GİB settles the status.
            log.warning("system response %s set aside: %s", envelope_id, doubt)
            repo.append_audit(
                conn,
                tenant_id,
                actor="gib",
                action="system-response.refuse",
                target=envelope_id,
                data={"reference": facts.reference, "code": facts.status_code, "why": doubt},
            )
            return
        code = facts.status_code
        if facts.sender != GIB_VKN:
            code = 1300 if code == 1200 else 1230
        self.sending.settle(conn, tenant_id, facts.reference, code, facts.description)
        log.debug("system response %s: %s is %s", envelope_id, facts.reference, code)

    def _system_response_doubt(
        self, envelope: Envelope, document: bytes, sender: str | None
    ) -> str | None:
        """Why a system response may not move our documents, or None.

        GİB's own (sender VKN 3900383669) must come from GİB's alias and, unless configured
        otherwise, carry a signature by GİB's seal that chains to the trust anchors. A
        receiver's, which GİB forwards, need not be signed (GİB's reading); when it is, the
        signature must verify."""
        from entegrator.signing import verify

        signed = b"SignatureValue" in document
        if sender == GIB_VKN:
            if envelope.sender.alias != GIB_ALIAS or envelope.sender.identity != GIB_VKN:
                return f"GİB's response from {envelope.sender.alias} ({envelope.sender.identity})"
            if not signed:
                return "GİB's response is not sealed" if self.require_gib_seal else None
        elif not signed:
            return None
        if not self.trust:
            return "no trust anchors are configured"
        problems = [f for f in verify(document, trust=self.trust) if f.severity is Severity.ERROR]
        return f"{problems[0].code}: {problems[0].message_en}" if problems else None

    def _file_answer(
        self, conn: Connection, tenant_id: uuid.UUID, envelope_id: str, document: bytes
    ) -> None:
        """A buyer's KABUL/RED/IADE of one of our invoices: the invoice takes it."""
        from entegrator.documents.response import read_response
        from entegrator.services.answers import ANSWER_STATUS, record_answer

        facts = read_response(document)
        status_ = ANSWER_STATUS.get(facts.response_code)
        if status_ is None:
            return
        row = conn.execute(
            text(
                "SELECT document_id FROM document_keys WHERE tenant_id = :t "
                "AND direction = 'out' AND ettn = :e"
            ),
            {"t": tenant_id, "e": facts.reference.upper()},
        ).first()
        if row is None:
            log.warning("answer %s names no invoice of ours: %s", envelope_id, facts.reference)
            return
        record_answer(
            conn,
            tenant_id,
            row.document_id,
            answer=facts.response_code,
            reason=facts.description,
            envelope_id=envelope_id,
            actor="gib",
            expect="delivered|processing|sent",
        )

    def _file_invoice(
        self,
        conn: Connection,
        tenant_id: uuid.UUID,
        envelope_id: str,
        document: bytes,
        sender_alias: str,
    ) -> None:
        from entegrator.documents import safe_xml
        from entegrator.documents.ns import CBC

        root = safe_xml.parse(document)
        facts = invoice_facts(root)
        ettn = (root.findtext(f"{CBC}UUID") or "").strip().upper()
        number = (root.findtext(f"{CBC}ID") or "").strip()
        doc_id = uuid7()
        created = created_at(doc_id)
        known = conn.execute(
            text(
                "INSERT INTO document_keys (tenant_id, direction, ettn, sender_id, number, "
                "document_id, created_at) VALUES (:t, 'in', :e, :s, :n, :d, :c) "
                "ON CONFLICT DO NOTHING RETURNING document_id"
            ),
            {
                "t": tenant_id,
                "e": ettn,
                "s": facts["sender_id"] or "",
                "n": number,
                "d": doc_id,
                "c": created,
            },
        ).first()
        if known is None:
            return  # the same invoice delivered before: filed once
        digest = repo.put_blob(conn, tenant_id, document)
        events = repo.chain(
            doc_id,
            after_seq=0,
            after_hash=repo.GENESIS,
            events=[("received", "received", {"envelope": envelope_id, "sha256": digest.hex()})],
            actor="gib",
            at=created,
        )
        conn.execute(
            text(
                "INSERT INTO documents (tenant_id, document_id, created_at, direction, kind, "
                "profile, type, number, series, ettn, issue_date, sender_id, sender_name, "
                "receiver_id, receiver_name, currency, line_extension, tax_exclusive, tax_total, "
                "payable, status, gib_alias, xml_sha256, signed_sha256, event_count, head_hash, "
                "updated_at) VALUES (:t, :d, :c, 'in', 'invoice', :profile, :type, :number, "
                "NULL, :ettn, :issue_date, :sender_id, :sender_name, :receiver_id, "
                ":receiver_name, :currency, :line_extension, :tax_exclusive, :tax_total, "
                ":payable, 'received', :alias, :x, :x, :n, :h, :c)"
            ),
            {
                "t": tenant_id,
                "d": doc_id,
                "c": created,
                "number": number,
                "ettn": ettn,
                "x": digest,
                "n": events[-1].seq,
                "h": events[-1].hash,
                "alias": sender_alias,
                **facts,
            },
        )
        conn.execute(
            text(repo.EVENTS_INSERT),
            {"t": tenant_id, "d": doc_id, "at": created, "actor": "gib"}
            | repo.event_columns(events),
        )
        notify_document(conn, tenant_id, doc_id, "document.received")
        if facts["sender_id"]:
            conn.execute(
                text(
                    "INSERT INTO parties (tenant_id, vkn_tckn, name) VALUES (:t, :v, :n) "
                    "ON CONFLICT (tenant_id, vkn_tckn) DO NOTHING"
                ),
                {"t": tenant_id, "v": facts["sender_id"], "n": facts["sender_name"] or ""},
            )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
