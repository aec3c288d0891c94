"""Envelopes GİB delivers to us: stored as received, then filed as the tenant's incoming documents.

``receive`` is what the ``/gib`` endpoint calls for a ``sendDocument`` from GİB. It checks the
transport (file name, MD5), reads the envelope header to learn whose alias it is addressed to,
and stores the raw envelope under that tenant *before* answering, together with the job that
will process it, in one transaction. A second delivery of the same envelope (GİB retries when
it missed our answer) is answered the same way and stored nothing twice.

``process_next`` then validates the envelope with GİB's layers (XSD, schematron, signatures)
and files every invoice and despatch advice (e-İrsaliye, kind ``despatch``) in it as an incoming
document (direction ``in``, status ``received``)
with its XML blob and first event; a refused envelope keeps the code it earned (11xx). A valid
seal other than the issuer's (an integrator signing on the issuer's behalf: GİB checked the
signer before it delivered) is no reason to refuse: its warning is kept in the invoice's
``received`` event.
Every delivered document envelope is answered with a system response through GİB; system
responses for our own envelopes (GİB's, and the receivers' that GİB forwards) move our
documents along (``SendingService.settle``).
"""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from cryptography import x509
from sqlalchemy import Connection

from entegrator.clock import Clock, utc_now
from entegrator.documents.authorities import GIB_ALIAS, GIB_VKN
from entegrator.envelope.errors import EnvelopeError
from entegrator.envelope.sbdh import Envelope, EnvelopeType
from entegrator.envelope.zipping import unpack
from entegrator.gib.checks import Checker, envelope_refusal
from entegrator.gib.codes import status
from entegrator.lifecycle import DocumentStatus
from entegrator.rules import DocumentValidator, Finding, Purpose, Severity
from entegrator.services.billing import Meter
from entegrator.services.despatches import despatch_facts, record_receipt
from entegrator.services.invoices import invoice_facts
from entegrator.services.sending import SendingService
from entegrator.services.webhooks import notify_document
from entegrator.store import Database, blobs, documents, events, inbound, parties, repo
from entegrator.store.ids import created_at, uuid7

__all__ = ["INBOUND_TASK", "InboundFault", "InboundService"]

log = logging.getLogger(__name__)

INBOUND_TASK = "entegrator.process_inbound"
_FILE_NAME = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\.zip$"
)
RECEIVED = "Zarf alındı."
_UBL = "urn:oasis:names:specification:ubl:schema:xsd:"
_DESPATCH_ROOT = f"{{{_UBL}DespatchAdvice-2}}DespatchAdvice"
_RECEIPT_ROOT = f"{_UBL}ReceiptAdvice-2"


def _is_receipt(document: bytes) -> bool:
    from entegrator.documents import safe_xml

    return safe_xml.parse(document).tag == f"{{{_RECEIPT_ROOT}}}ReceiptAdvice"


# The status an incoming invoice is filed in (the lifecycle's first for it).
_RECEIVED = DocumentStatus.RECEIVED


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


def _received(envelope_id: str, digest: bytes, warnings: Sequence[Finding]) -> dict[str, object]:
    """The ``received`` event's data: the envelope, the XML's digest, and the warnings about
    its signature (who sealed it), kept with the document."""
    data: dict[str, object] = {"envelope": envelope_id, "sha256": digest.hex()}
    if warnings:
        data["warnings"] = [w.to_dict() for w in warnings]
    return data


class InboundService:
    def __init__(
        self,
        db: Database,
        validator: DocumentValidator,
        sending: SendingService | None = None,
        *,
        trust: Sequence[x509.Certificate] = (),
        integrators: Collection[str] = (),
        require_gib_seal: bool = True,
        meter: Meter | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.db = db
        # Bills each filed invoice in the transaction that files it (never refused).
        self.meter = meter
        self.clock = clock
        # What GİB delivered is refused only for what GİB refuses; our own layers' findings
        # (arithmetic, identity, the signer's identity) are kept as warnings.
        self.validator = validator.for_purpose(Purpose.INBOUND)
        self.sending = sending  # answers delivered documents with a system response
        # Signatures on delivered documents must chain to these (Kamu SM's roots).
        self.trust = tuple(trust)
        # VKNs of integrators' seals: a document signed with one is filed with `sig-integrator`.
        self.integrators = frozenset(integrators)
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
            tenant_id = inbound.alias_tenant(conn, envelope.receiver.alias, _alias_kind(envelope))
            if tenant_id is None and envelope.type is EnvelopeType.SYSTEMENVELOPE:
                # GİB's system response to an answer we sent from a mailbox (PK): a KABUL/RED
                # or a receipt advice leaves from the PK alias, and its S_APR comes back there.
                tenant_id = inbound.alias_tenant(conn, envelope.receiver.alias, "PK")
        if tenant_id is None:
            raise InboundFault(2005, f"Etiket bu entegratörde değil: {envelope.receiver.alias}")
        envelope_id = file_name.removesuffix(".zip").upper()
        with self.db.tenant(tenant_id) as conn:
            stored = inbound.store_envelope(
                conn,
                tenant_id,
                envelope_id,
                file_name=file_name,
                md5=computed,
                data=data,
                envelope_type=envelope.type.value,
            )
            if stored:
                wake_inbound(conn, tenant_id)
                repo.append_audit(
                    conn,
                    tenant_id,
                    actor="gib",
                    action="envelope.receive",
                    target=envelope_id,
                    data={"type": envelope.type.value, "from": envelope.sender.alias},
                )
        return Received(tenant_id, envelope_id, computed, duplicate=not stored)

    def status_of(self, envelope_id: str) -> tuple[uuid.UUID, int, str] | None:
        """(tenant, code, detail) of a delivered envelope, for ``getApplicationResponse``."""
        with self.db.system() as conn:
            row = inbound.find(conn, envelope_id.upper())
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
            row = inbound.next_waiting(conn, tenant_id)
            if row is None:
                return False
            code, detail, envelope = self._file(
                conn, tenant_id, row.envelope_id, row.file_name, row.data
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
            inbound.record_outcome(conn, tenant_id, row.envelope_id, code=code, detail=detail)
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
        checked = envelope_refusal(
            self.validator,
            xml,
            envelope,
            checker=Checker.RECEIVER,
            name=file_name,
            trust=self.trust,
            integrators=self.integrators,
        )
        if checked.refused is not None:
            return checked.refused[0], checked.refused[1], envelope
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
        warnings = checked.warnings or ((),) * len(envelope.documents)
        for document, noted in zip(envelope.documents, warnings, strict=True):
            self._file_invoice(
                conn, tenant_id, envelope_id, document, envelope.sender.alias, warnings=noted
            )
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
        """A buyer's KABUL/RED/IADE of one of our invoices: the invoice takes it; a receiver's
        receipt advice (irsaliye yanıtı) of one of our despatches: the despatch takes it."""
        from entegrator.documents.response import read_response
        from entegrator.services.answers import ANSWER_STATUS, record_answer

        if _is_receipt(document):
            # An irsaliye yanıtı: the despatch it answers takes it.
            if not record_receipt(
                conn, tenant_id, document, envelope_id=envelope_id, now=self.clock()
            ):
                log.warning("receipt %s answers no waiting despatch of ours", envelope_id)
            return
        facts = read_response(document)
        status_ = ANSWER_STATUS.get(facts.response_code)
        if status_ is None:
            return
        document_id = documents.outgoing_by_ettn(conn, tenant_id, facts.reference)
        if document_id is None:
            log.warning("answer %s names no invoice of ours: %s", envelope_id, facts.reference)
            return
        record_answer(
            conn,
            tenant_id,
            document_id,
            answer=facts.response_code,
            reason=facts.description,
            envelope_id=envelope_id,
            actor="gib",
            expect="delivered|processing|sent",
            now=self.clock(),
        )

    def _file_invoice(
        self,
        conn: Connection,
        tenant_id: uuid.UUID,
        envelope_id: str,
        document: bytes,
        sender_alias: str,
        *,
        warnings: Sequence[Finding] = (),
    ) -> None:
        from entegrator.documents import safe_xml
        from entegrator.documents.ns import CBC

        root = safe_xml.parse(document)
        kind = "despatch" if root.tag == _DESPATCH_ROOT else "invoice"
        facts = despatch_facts(root) if kind == "despatch" else invoice_facts(root)
        ettn = (root.findtext(f"{CBC}UUID") or "").strip().upper()
        number = (root.findtext(f"{CBC}ID") or "").strip()
        doc_id = uuid7()
        created = created_at(doc_id)
        if not documents.claim_incoming_keys(
            conn,
            tenant_id,
            doc_id,
            created,
            ettn=ettn,
            sender_id=facts["sender_id"] or "",
            number=number,
            kind=kind,
        ):
            return  # the same document delivered before: filed once
        digest = blobs.put_blob(conn, tenant_id, document)
        chained = events.chain(
            doc_id,
            after_seq=0,
            after_hash=events.GENESIS,
            events=[("received", "received", _received(envelope_id, digest, warnings))],
            actor="gib",
            at=created,
        )
        documents.insert_incoming(
            conn,
            tenant_id,
            doc_id,
            created,
            status=_RECEIVED,
            number=number,
            ettn=ettn,
            sender_alias=sender_alias,
            xml_sha256=digest,
            facts=facts,
            events=chained,
            actor="gib",
            kind=kind,
        )
        if self.meter is not None:
            self.meter.charge(
                conn, tenant_id, "incoming", event_key=str(doc_id), document_id=doc_id, at=created
            )
        notify_document(conn, tenant_id, doc_id, "document.received")
        if facts["sender_id"]:
            parties.remember(conn, tenant_id, facts["sender_id"], facts["sender_name"] or "")
