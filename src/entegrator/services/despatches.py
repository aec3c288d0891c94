"""e-İrsaliye: issuing despatch advices, answering received ones, the 7-day window.

Issuing follows invoices (``services/invoices.py``): a draft (JSON) or UBL-TR XML is judged by
GİB's layers (XSD, schematron) and by ours (``documents/despatch_checks.py``), takes the next
number of the tenant's despatch series (counted apart from invoices), and is stored as a
document of kind ``despatch`` with the signing job's wake-up, in one transaction. Signing and
sending are the invoices' own (``SigningService``, ``SendingService``): the sender envelopes a
despatch from the tenant's despatch GB alias to the receiver's despatch PK alias, or to GİB's
despatch mailbox when the receiver is no e-İrsaliye user.

The receiver answers with a receipt advice (irsaliye yanıtı) within 7 days: ``receipt`` builds
it with ``receipt_for`` (received, rejected, short and oversupplied quantities per line),
numbers it from the tenant's receipt series, signs it and queues it in a POSTBOXENVELOPE to the
sender's GB alias, and records the answer on the incoming despatch, in one transaction. A
despatch is answered once. On the sender's side ``record_receipt`` gives the answer to the
outgoing despatch. After 7 days without an answer ``close_windows`` marks despatches
``accepted`` (``no-answer``) on both sides, as GİB counts them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from lxml import etree
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from entegrator import lifecycle
from entegrator.clock import Clock, utc_now
from entegrator.documents import safe_xml
from entegrator.documents.errors import DocumentError, DraftError, XMLError
from entegrator.documents.identifiers import numbering
from entegrator.documents.irsaliye import LineAnswer
from entegrator.documents.model import DespatchDraft, ReceiptDraft
from entegrator.documents.ns import CAC, CBC
from entegrator.envelope.sbdh import EnvelopeType
from entegrator.envelope.sbdh import build as build_envelope
from entegrator.envelope.zipping import pack
from entegrator.errors import EntegratorError
from entegrator.lifecycle import DocumentStatus
from entegrator.rules import DocumentValidator, Finding, Purpose, Severity, Source
from entegrator.services.billing import Meter
from entegrator.services.errors import RequestError
from entegrator.services.invoices import (
    ConflictError,
    IssueResult,
    NumberNotNextError,
    SeriesExhaustedError,
    ValidationFailedError,
    draft_findings,
    problem_findings,
    signer_lock,
)
from entegrator.services.seals import SealKeys
from entegrator.services.sending import wake_sender
from entegrator.store import (
    Database,
    aliases,
    blobs,
    documents,
    idempotency,
    outbound,
    repo,
    seals,
    tenants,
)
from entegrator.store import events as store_events
from entegrator.store import numbering as numbering_store
from entegrator.store.ids import created_at, uuid7

__all__ = [
    "DESPATCH_WINDOW",
    "DespatchService",
    "NotReceiptableError",
    "ReceiptOutcome",
    "despatch_facts",
    "receipt_outcome",
    "record_receipt",
]

DESPATCH = "despatch"
RECEIPT = "receipt"
DESPATCH_WINDOW = dt.timedelta(days=7)
_ISTANBUL = ZoneInfo("Europe/Istanbul")
_PROVISIONAL = "000000000"
_DESPATCH_TAG = "{urn:oasis:names:specification:ubl:schema:xsd:DespatchAdvice-2}DespatchAdvice"
SIGN_TASK = "entegrator.sign_pending"


class _TakenError(Exception):
    """Another request committed the same Idempotency-Key while this one was working."""


class NotReceiptableError(EntegratorError):
    code = "NOT_RECEIPTABLE"
    message_tr = "Bu irsaliye yanıtlanamaz: {detail_tr}"
    message_en = "This despatch advice cannot be answered: {detail_en}"
    http_status = 409


class ReceiptWindowClosedError(NotReceiptableError):
    code = "RECEIPT_WINDOW_CLOSED"
    message_tr = "İrsaliyenin 7 günlük yanıt süresi {closed} tarihinde doldu; yanıt verilemez"
    message_en = "The despatch advice's 7-day answer period ended on {closed}; it takes no answer"


class AlreadyAnsweredError(NotReceiptableError):
    code = "DESPATCH_ALREADY_ANSWERED"
    message_tr = "Bu irsaliye zaten yanıtlandı ({status})"
    message_en = "This despatch advice is answered already ({status})"


# -- what a despatch says ---------------------------------------------------------------------


def _text(root: etree._Element, path: str) -> str | None:
    value = root.findtext(path)
    return value.strip() if value is not None else None


def _party(root: etree._Element, role: str) -> tuple[str | None, str | None]:
    party = root.find(f"{CAC}{role}/{CAC}Party")
    if party is None:
        return None, None
    ident = None
    for node in party.findall(f"{CAC}PartyIdentification/{CBC}ID"):
        if node.get("schemeID") in ("VKN", "TCKN"):
            ident = (node.text or "").strip()
            break
    name = _text(party, f"{CAC}PartyName/{CBC}Name")
    if not name:
        first = _text(party, f"{CAC}Person/{CBC}FirstName") or ""
        family = _text(party, f"{CAC}Person/{CBC}FamilyName") or ""
        name = f"{first} {family}".strip() or None
    return ident, name


def despatch_facts(root: etree._Element) -> dict[str, Any]:
    """The searchable fields of a despatch advice tree (the columns invoices fill; a despatch
    carries no amounts, its goods value aside)."""
    sender_id, sender_name = _party(root, "DespatchSupplierParty")
    receiver_id, receiver_name = _party(root, "DeliveryCustomerParty")
    issue = _text(root, f"{CBC}IssueDate")
    try:
        issue_date = dt.date.fromisoformat(issue) if issue else None
    except ValueError:
        issue_date = None
    return {
        "profile": _text(root, f"{CBC}ProfileID"),
        "type": _text(root, f"{CBC}DespatchAdviceTypeCode"),
        "issue_date": issue_date,
        "sender_id": sender_id,
        "sender_name": sender_name,
        "receiver_id": receiver_id,
        "receiver_name": receiver_name,
        "currency": None,
        "line_extension": None,
        "tax_exclusive": None,
        "tax_total": None,
        "payable": None,
    }


# -- what a receipt answer means for its despatch ---------------------------------------------


@dataclass(frozen=True)
class ReceiptOutcome:
    status: DocumentStatus  # accepted or rejected
    code: str  # received, partly-rejected, rejected
    detail: str
    lines: list[dict[str, Any]]


def _q(value: Decimal | None) -> str:
    return format(value or Decimal(0), "f")


def receipt_outcome(receipt: ReceiptDraft) -> ReceiptOutcome:
    """The despatch's status after ``receipt``: ``rejected`` when nothing was received,
    ``accepted`` otherwise (``partly-rejected`` when a line was rejected or short)."""
    lines = [
        {
            "line": line.despatch_line_id,
            "name": line.name,
            "unit": line.unit_code,
            "received": _q(line.received),
            "rejected": _q(line.rejected),
            "reject_reason": line.reject_reason,
            "short": _q(line.short),
            "oversupply": _q(line.oversupply),
        }
        for line in receipt.lines
    ]
    received = sum((line.received for line in receipt.lines), Decimal(0))
    partial = any((line.rejected or 0) > 0 or (line.short or 0) > 0 for line in receipt.lines)
    refused = [
        f"{line.despatch_line_id}: {_q(line.rejected)} {line.unit_code}"
        + (f" ({line.reject_reason})" if line.reject_reason else "")
        for line in receipt.lines
        if (line.rejected or 0) > 0
    ]
    if received <= 0:
        return ReceiptOutcome(
            DocumentStatus.REJECTED,
            "rejected",
            "Tüm satırlar reddedildi / every line rejected: " + "; ".join(refused),
            lines,
        )
    if partial:
        short = [
            f"{line.despatch_line_id}: {_q(line.short)} {line.unit_code}"
            for line in receipt.lines
            if (line.short or 0) > 0
        ]
        parts = []
        if refused:
            parts.append("reddedilen / rejected " + "; ".join(refused))
        if short:
            parts.append("eksik / short " + "; ".join(short))
        return ReceiptOutcome(
            DocumentStatus.ACCEPTED,
            "partly-rejected",
            "Kısmen kabul / partly accepted: " + ", ".join(parts),
            lines,
        )
    return ReceiptOutcome(
        DocumentStatus.ACCEPTED, "received", "Tamamı teslim alındı / all received", lines
    )


def record_receipt(
    conn: Connection,
    tenant_id: uuid.UUID,
    document: bytes,
    *,
    envelope_id: str,
    now: dt.datetime,
) -> bool:
    """A receipt answer to one of our despatches arrived (in a POSTBOXENVELOPE through GİB):
    the despatch takes its status, with an event naming the answer and its lines. False when
    it names no despatch of ours or the despatch is answered (or closed) already."""
    from entegrator.documents.parse import parse_receipt

    receipt = parse_receipt(document)
    document_id = documents.outgoing_by_ettn(conn, tenant_id, receipt.despatch_ettn, kind=DESPATCH)
    if document_id is None:
        return False
    state = documents.lock_state(conn, tenant_id, document_id, created_at(document_id))
    if state is None or state.status not in ("sent", "processing", "delivered"):
        return False
    digest = blobs.put_blob(conn, tenant_id, document)
    outcome = receipt_outcome(receipt)
    lifecycle.move(
        conn,
        tenant_id,
        state,
        outcome.status,
        happened=[
            (
                "answered",
                outcome.status.value,
                {
                    "answer": "receipt",
                    "outcome": outcome.code,
                    "receipt_number": receipt.number,
                    "receipt_ettn": receipt.ettn,
                    "sha256": digest.hex(),
                    "envelope": envelope_id,
                    "lines": outcome.lines,
                },
            )
        ],
        actor="gib",
        now=now,
        code=outcome.code,
        detail=outcome.detail,
    )
    return True


def _close(
    conn: Connection, tenant_id: uuid.UUID, document_id: uuid.UUID, now: dt.datetime
) -> bool:
    state = documents.lock_state(conn, tenant_id, document_id, created_at(document_id))
    waiting = (
        ("received",)
        if state is not None and state.direction == "in"
        else (
            "sent",
            "processing",
            "delivered",
        )
    )
    if state is None or state.kind != DESPATCH or state.status not in waiting:
        return False
    reason = "7 gün içinde yanıt verilmedi / no answer within 7 days"
    lifecycle.move(
        conn,
        tenant_id,
        state,
        DocumentStatus.ACCEPTED,
        happened=[("answered", "accepted", {"answer": "no-answer", "reason": reason})],
        actor="system",
        now=now,
        code="no-answer",
        detail=reason,
    )
    return True


# -- the service --------------------------------------------------------------------------------


@dataclass
class _Prepared:
    root: etree._Element
    ettn: str
    number: str | None
    series: str | None
    year: int
    provisional: str | None
    source: str
    warnings: list[Finding]


def _renumber(root: etree._Element, old: str, new: str) -> None:
    old_uri, new_uri = f"#Signature_{old}", f"#Signature_{new}"
    for node in root.iter():
        if node.text == old:
            node.text = new
        elif node.text == old_uri:
            node.text = new_uri


def _refused(code: str, tr: str, en: str, where: str | None = None) -> ValidationFailedError:
    return ValidationFailedError(
        [
            Finding(
                code=code,
                severity=Severity.ERROR,
                source=Source.XML,
                xpath=where,
                message_tr=tr,
                message_en=en,
            )
        ]
    )


class DespatchService:
    """The e-İrsaliye use cases shared by the API, the CLI and the jobs."""

    def __init__(
        self,
        db: Database,
        validator: DocumentValidator,
        keys: SealKeys,
        *,
        clock: Clock = utc_now,
        meter: Meter | None = None,
    ) -> None:
        self.db = db
        self.keys = keys
        self.clock = clock
        # Bills each despatch in the transaction that issues it (``services.billing``).
        self.meter = meter
        self.validator = validator.for_purpose(Purpose.OUTBOUND)
        self.upload_validator = validator.for_purpose(Purpose.UPLOAD)

    # -- issuing -------------------------------------------------------------------------------

    def _prepare_draft(self, draft: DespatchDraft, series: str) -> _Prepared:
        from entegrator.documents.build import build_despatch
        from entegrator.documents.identifiers import ettn as ettn_ids

        ettn = (draft.ettn or ettn_ids.new()).upper()
        year = draft.issue_date.year
        provisional = None
        updates: dict[str, Any] = {"ettn": ettn}
        if draft.number is None:
            provisional = numbering.format_number(series, year, 1)[:-9] + _PROVISIONAL
            updates["number"] = provisional
        try:
            xml = build_despatch(draft.model_copy(update=updates))
        except DraftError as exc:
            raise ValidationFailedError(draft_findings(exc)) from None
        report, root = self.validator.validate_parsed(xml, name="draft")
        if not report.valid or root is None:
            raise ValidationFailedError(report.findings)
        return _Prepared(
            root=root,
            ettn=ettn,
            number=None if provisional else draft.number,
            series=series if provisional else None,
            year=year,
            provisional=provisional,
            source="json",
            warnings=[f for f in report.findings if f.severity is not Severity.ERROR],
        )

    def _prepare_xml(self, data: bytes, series: str) -> _Prepared:
        from entegrator.documents.despatch_checks import check_despatch
        from entegrator.documents.parse import parse_despatch_tree

        try:
            root = safe_xml.parse(data, max_bytes=self.upload_validator.settings.max_bytes)
        except XMLError as exc:
            raise _refused("xml-parse", exc.text_tr, exc.text_en) from None
        if root.tag != _DESPATCH_TAG:
            raise _refused(
                "xml-root",
                "Bu uç yalnız irsaliye (DespatchAdvice) kabul eder",
                "This endpoint accepts despatch advices (DespatchAdvice) only",
            )
        year = self.clock().astimezone(_ISTANBUL).year
        issue = _text(root, f"{CBC}IssueDate") or ""
        if len(issue) >= 4 and issue[:4].isdigit():
            year = int(issue[:4])
        provisional = None
        number: str | None = None
        node = root.find(f"{CBC}ID")
        current = (node.text or "").strip() if node is not None else ""
        if node is not None and not numbering.is_valid(current):
            provisional = numbering.format_number(series, year, 1)[:-9] + _PROVISIONAL
            node.text = provisional
            data = etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")
        else:
            number = current
        report, tree = self.upload_validator.validate_parsed(data, name="request")
        if not report.valid or tree is None:
            raise ValidationFailedError(report.findings)
        try:
            problems = check_despatch(parse_despatch_tree(tree))
        except DocumentError as exc:
            raise _refused(exc.code, exc.text_tr, exc.text_en) from None
        if problems:
            raise ValidationFailedError(problem_findings(problems))
        return _Prepared(
            root=tree,
            ettn=(_text(tree, f"{CBC}UUID") or "").upper(),
            number=number,
            series=series if provisional else None,
            year=year,
            provisional=provisional,
            source="xml",
            warnings=[f for f in report.findings if f.severity is not Severity.ERROR],
        )

    def issue(
        self,
        key: repo.ApiKey,
        *,
        draft: DespatchDraft | None = None,
        xml: bytes | None = None,
        series: str | None = None,
        idempotency_key: str | None = None,
        request_sha256: bytes = b"",
    ) -> IssueResult:
        """Validate, number and store one outgoing despatch advice and queue its signing.

        With ``idempotency_key`` a repeated request (the same ``request_sha256``) answers what
        the first one did and stores nothing; the key with another request is a conflict.
        Raises :class:`ValidationFailedError` (nothing stored), :class:`RequestError` or
        :class:`ConflictError` (number, ETTN or idempotency key already used)."""
        t = key.tenant_id
        if idempotency_key:
            replay = self._replay(t, idempotency_key, request_sha256)
            if replay is not None:
                return replay
        if series is not None:
            try:
                numbering.validate_series(series)
            except EntegratorError as exc:
                raise RequestError(
                    detail_tr=f"seri: {exc.text_tr}", detail_en=f"series: {exc.text_en}"
                ) from None
        with self.db.tenant(t) as conn:
            vkn = tenants.get_tenant(conn, t).vkn
            default, _ = tenants.despatch_series(conn, t)
        series = series or default
        prepared = (
            self._prepare_draft(draft, series)
            if draft is not None
            else self._prepare_xml(xml or b"", series)
        )
        facts = despatch_facts(prepared.root)
        if facts["sender_id"] != vkn:
            raise RequestError(
                where="DespatchSupplierParty",
                detail_tr=f"gönderici VKN/TCKN {facts['sender_id']} bu hesabın ({vkn}) değil",
                detail_en=f"the despatch supplier VKN/TCKN {facts['sender_id']} is not this "
                f"account's ({vkn})",
            )
        try:
            return self._store(key, vkn, prepared, facts, idempotency_key, request_sha256)
        except _TakenError:
            replay = self._replay(t, idempotency_key or "", request_sha256)
            if replay is None:  # pragma: no cover - the winner committed before we read
                raise ConflictError(
                    detail_tr="aynı Idempotency-Key ile eşzamanlı istek",
                    detail_en="a concurrent request with the same Idempotency-Key",
                ) from None
            return replay

    def _replay(self, tenant_id: uuid.UUID, key: str, request_sha256: bytes) -> IssueResult | None:
        with self.db.tenant(tenant_id) as conn:
            row = idempotency.find(conn, tenant_id, key)
        if row is None or row.status_code == 0:
            return None
        if row.request_sha256 != request_sha256:
            raise ConflictError(
                detail_tr=f"Idempotency-Key '{key}' başka bir istekle kullanılmış",
                detail_en=f"Idempotency-Key '{key}' was used with a different request",
            )
        r = row.response
        return IssueResult(
            id=uuid.UUID(r["id"]),
            ettn=r["ettn"],
            number=r["number"],
            status=r["status"],
            replayed=True,
        )

    def _store(  # noqa: PLR0917 - the prepared pieces of one request
        self,
        key: repo.ApiKey,
        vkn: str,
        p: _Prepared,
        facts: dict[str, Any],
        idempotency_key: str | None,
        request_sha256: bytes,
    ) -> IssueResult:
        t = key.tenant_id
        doc_id = uuid7(int(self.clock().timestamp() * 1000))
        created = created_at(doc_id)
        try:
            with self.db.tenant(t) as conn:
                if idempotency_key and not idempotency.claim(
                    conn, t, idempotency_key, request_sha256
                ):
                    raise _TakenError
                if self.meter is not None:
                    # Before the number, as for invoices: a refusal holds no series lock.
                    self.meter.charge(
                        conn, t, "despatch", event_key=str(doc_id), document_id=doc_id, at=created
                    )
                number, series = p.number, p.series
                if number is None:
                    assert series is not None and p.provisional is not None  # noqa: S101 - type narrowing
                    seq = numbering_store.next_number(conn, t, series, p.year, document=DESPATCH)
                    number = numbering.format_number(series, p.year, seq)
                    _renumber(p.root, p.provisional, number)
                else:
                    series, year, seq = numbering.split(number)
                    if not numbering_store.take_number(
                        conn, t, series, year, seq, document=DESPATCH
                    ):
                        last = numbering_store.last_number(conn, t, series, year, document=DESPATCH)
                        raise NumberNotNextError(
                            number=number,
                            expected=numbering.format_number(series, year, last + 1)
                            if last < numbering.MAX_SEQUENCE
                            else "-",
                            where="number",
                        )
                xml = etree.tostring(p.root.getroottree(), xml_declaration=True, encoding="UTF-8")
                digest = hashlib.sha256(xml).digest()
                chained = store_events.chain(
                    doc_id,
                    after_seq=0,
                    after_hash=store_events.GENESIS,
                    events=[
                        ("received", "draft", {"source": p.source, "sha256": digest.hex()}),
                        ("validated", "validated", {"warnings": len(p.warnings)}),
                        ("numbered", "validated", {"number": number}),
                    ],
                    actor=key.actor,
                    at=created,
                )
                result = IssueResult(
                    id=doc_id,
                    ettn=p.ettn,
                    number=number,
                    status=DocumentStatus.VALIDATED,
                    warnings=p.warnings,
                )
                documents.store_issued(
                    conn,
                    t,
                    doc_id,
                    created,
                    xml=xml,
                    status=DocumentStatus.VALIDATED.value,
                    number=number,
                    series=series,
                    ettn=p.ettn,
                    supplier_vkn=vkn,
                    facts=facts,
                    events=chained,
                    actor=key.actor,
                    idempotency_key=idempotency_key,
                    response=result.to_dict(),
                    wake=(repo.QUEUE, SIGN_TASK, signer_lock(t)),
                    kind=DESPATCH,
                )
                return result
        except IntegrityError as exc:
            constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", "") or ""
            if constraint == "numbering_series_last_value_check":
                raise SeriesExhaustedError(series=p.series, year=p.year) from None
            if constraint.startswith("document_keys"):
                what = "ETTN" if constraint == "document_keys_pkey" else "number"
                raise ConflictError(
                    detail_tr=f"bu {'ETTN' if what == 'ETTN' else 'irsaliye numarası'} "
                    "zaten kullanılmış",
                    detail_en=f"this {what} is already used",
                ) from None
            raise

    # -- answering ------------------------------------------------------------------------------

    def receipt(  # noqa: PLR0915 - one transaction, step by step
        self,
        key: repo.ApiKey,
        document_id: uuid.UUID,
        *,
        answers: Mapping[int, LineAnswer] | None = None,
        actual_delivery_date: dt.date | None = None,
        notes: Sequence[str] = (),
        now: dt.datetime | None = None,
    ) -> dict[str, Any]:
        """Answer an incoming despatch advice with a receipt advice (irsaliye yanıtı): built,
        numbered from the receipt series, signed and queued to the sender through GİB; the
        despatch takes the answer. ``answers`` by despatch line number (from 1); lines it
        does not name are received in full."""
        from entegrator.documents.build import build_receipt
        from entegrator.documents.identifiers import ettn as ettn_ids
        from entegrator.documents.irsaliye import receipt_for
        from entegrator.documents.parse import parse_despatch
        from entegrator.signing import sign

        t = key.tenant_id
        when = now or self.clock()
        local = when.astimezone(_ISTANBUL)
        with self.db.tenant(t) as conn:
            doc = repo.get_document(conn, t, document_id, created_at(document_id), for_update=True)
            if doc is None or doc.direction != "in" or doc.kind != DESPATCH:
                raise NotReceiptableError(
                    detail_tr="gelen irsaliye bulunamadı",
                    detail_en="no such incoming despatch advice",
                )
            if doc.status != "received":
                raise AlreadyAnsweredError(status=doc.status)
            if when - doc.created_at > DESPATCH_WINDOW:
                closed = (doc.created_at + DESPATCH_WINDOW).astimezone(_ISTANBUL)
                raise ReceiptWindowClosedError(closed=closed.strftime("%Y-%m-%d %H:%M"))
            pk = aliases.first_alias(conn, t, kind="PK", document="DespatchAdvice")
            signer = self.keys.signer(conn, t, seals.active_seal_id(conn, t))
            if pk is None or doc.gib_alias is None or signer is None:
                raise NotReceiptableError(
                    detail_tr="e-İrsaliye PK etiketi, göndericinin GB etiketi ya da mali "
                    "mühür eksik",
                    detail_en="an e-İrsaliye PK alias, the sender's GB alias or the seal is "
                    "missing",
                )
            if doc.signed_sha256 is None:  # pragma: no cover - an incoming one is as delivered
                raise LookupError(f"document {document_id} has no XML")
            despatch = parse_despatch(blobs.get_blob(conn, t, doc.signed_sha256))
            for n in answers or {}:
                if not 1 <= n <= len(despatch.lines):
                    raise RequestError(
                        where="lines",
                        detail_tr=f"irsaliyenin {n} numaralı satırı yok",
                        detail_en=f"the despatch advice has no line {n}",
                    )
            _, series = tenants.despatch_series(conn, t)
            # Built and judged under a provisional number; the series' counter is locked from
            # taking the number to the commit, so the heavy work comes before it.
            provisional = numbering.format_number(series, local.year, 1)[:-9] + _PROVISIONAL
            try:
                draft = receipt_for(
                    despatch,
                    number=provisional,
                    ettn=ettn_ids.new().upper(),
                    issue_date=local.date(),
                    issue_time=local.time().replace(microsecond=0, tzinfo=None),
                    actual_delivery_date=actual_delivery_date or local.date(),
                    answers=answers,
                    notes=list(notes),
                )
                built = build_receipt(draft, despatch)
            except DraftError as exc:
                raise ValidationFailedError(draft_findings(exc)) from None
            except ValueError as exc:
                raise RequestError(
                    where="lines",
                    detail_tr=f"yanıt satırları irsaliyeye uymuyor: {exc}",
                    detail_en=f"the answer's lines do not fit the despatch: {exc}",
                ) from None
            report, tree = self.validator.validate_parsed(built, name="receipt")
            if not report.valid or tree is None:
                raise ValidationFailedError(report.findings)
            seq = numbering_store.next_number(conn, t, series, local.year, document=RECEIPT)
            number = numbering.format_number(series, local.year, seq)
            _renumber(tree, provisional, number)
            xml = etree.tostring(tree.getroottree(), xml_declaration=True, encoding="UTF-8")
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
            digest = blobs.put_blob(conn, t, signed)
            outcome = receipt_outcome(draft)
            state = documents.lock_state(conn, t, document_id, doc.created_at)
            assert state is not None  # noqa: S101 - locked above
            lifecycle.move(
                conn,
                t,
                state,
                outcome.status,
                happened=[
                    (
                        "answered",
                        outcome.status.value,
                        {
                            "answer": "receipt",
                            "outcome": outcome.code,
                            "receipt_number": number,
                            "receipt_ettn": draft.ettn,
                            "sha256": digest.hex(),
                            "envelope": envelope_id,
                            "lines": outcome.lines,
                        },
                    )
                ],
                actor=key.actor,
                now=when,
                code=outcome.code,
                detail=outcome.detail,
            )
            repo.append_audit(
                conn,
                t,
                actor=key.actor,
                action="despatch.receipt",
                target=str(document_id),
                data={"receipt": number, "outcome": outcome.code},
            )
            wake_sender(conn, t)
        return {
            "id": str(document_id),
            "status": outcome.status.value,
            "status_code": outcome.code,
            "receipt_number": number,
            "receipt_ettn": draft.ettn,
            "envelope": envelope_id,
            "lines": outcome.lines,
        }

    def receipt_xml(self, tenant_id: uuid.UUID, document_id: uuid.UUID) -> bytes | None:
        """The signed receipt answer of a despatch (ours or the receiver's), or None."""
        with self.db.tenant(tenant_id) as conn:
            for event in reversed(store_events.list_events(conn, tenant_id, document_id)):
                data = event.data
                if (
                    isinstance(data, dict)
                    and data.get("answer") == "receipt"
                    and isinstance(data.get("sha256"), str)
                ):
                    return blobs.get_blob(conn, tenant_id, bytes.fromhex(data["sha256"]))
        return None

    def close_windows(self, now: dt.datetime | None = None) -> int:
        """Mark despatches unanswered for 7 days ``accepted`` (``no-answer``), both sides."""
        when = now or self.clock()
        with self.db.system() as conn:
            waiting = documents.unanswered_despatches(conn, created_before=when - DESPATCH_WINDOW)
        closed = 0
        for ref in waiting:
            with self.db.tenant(ref.tenant_id) as conn:
                closed += _close(conn, ref.tenant_id, ref.document_id, when)
        return closed
