"""Issuing outgoing invoices: validate → number → store → queue signing, in one transaction.

``InvoiceService.issue`` takes a draft (the document core's JSON model) or UBL-TR XML, runs
every validation layer, and only then, inside one transaction, takes the next number of the
series, stores the XML as a content-addressed blob, writes the document row, its first
events, an audit entry and the signing job. Either all of it is committed or none of it: a
number is never used twice and never skipped.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from lxml import etree
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from entegrator.clock import Clock, utc_now
from entegrator.documents import safe_xml
from entegrator.documents.codes import EARCHIVE_TYPE, INTERNET
from entegrator.documents.errors import DraftError, Problem, XMLError
from entegrator.documents.identifiers import numbering
from entegrator.documents.model import InvoiceDraft
from entegrator.documents.ns import CAC, CBC, INVOICE
from entegrator.errors import EntegratorError
from entegrator.lifecycle import DocumentStatus
from entegrator.rules import (
    DocumentValidator,
    Finding,
    Purpose,
    Report,
    Severity,
    Source,
)
from entegrator.services import earsiv_routing
from entegrator.services import series as series_service
from entegrator.services.billing import Meter
from entegrator.services.earsiv_routing import BuyerNotRegisteredError, BuyerRegisteredError
from entegrator.services.errors import RequestError
from entegrator.services.series import SeriesDefaults, SeriesKind, default_series, series_kind
from entegrator.store import Database, documents, gib_users, idempotency, repo, tenants
from entegrator.store import events as store_events
from entegrator.store import numbering as numbering_store
from entegrator.store.ids import created_at, uuid7
from entegrator.store.tenants import Tenant

__all__ = [
    "BuyerNotRegisteredError",
    "BuyerRegisteredError",
    "ConflictError",
    "InvoiceService",
    "IssueResult",
    "RequestError",
    "ValidationFailedError",
    "draft_findings",
    "problem_findings",
    "signer_lock",
    "wake_signer",
]

SIGN_TASK = "entegrator.sign_pending"
QUEUE = repo.QUEUE
_PROVISIONAL = "000000000"
TENANT_TTL = 30.0  # seconds a process trusts its copy of a tenant's VKN and series


class ValidationFailedError(EntegratorError):
    """The document breaks GİB's rules (or ours); nothing was stored."""

    code = "VALIDATION_FAILED"
    message_tr = "Belge doğrulanamadı: {errors} hata"
    message_en = "The document is not valid: {errors} errors"
    http_status = 422

    def __init__(self, findings: list[Finding] | None = None, **data: Any) -> None:
        self.findings = findings or []
        data.setdefault("errors", sum(1 for f in self.findings if f.severity is Severity.ERROR))
        super().__init__(**data)


class ConflictError(EntegratorError):
    code = "CONFLICT"
    message_tr = "Çakışma: {detail_tr}"
    message_en = "Conflict: {detail_en}"
    http_status = 409


class NumberNotNextError(ConflictError):
    code = "NUMBER_NOT_NEXT"
    message_tr = "{number} serinin sıradaki numarası değil; sıradaki: {expected}"
    message_en = "{number} is not the series' next number; the next one is {expected}"


class SeriesExhaustedError(ConflictError):
    code = "SERIES_EXHAUSTED"
    message_tr = "{series} serisinin {year} numaraları tükendi; başka bir seri kullanın"
    message_en = "Series {series} has no numbers left for {year}; use another series"


@dataclass(frozen=True)
class IssueResult:
    id: uuid.UUID
    ettn: str
    number: str
    status: str
    warnings: list[Finding] = field(default_factory=list)
    replayed: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "ettn": self.ettn,
            "number": self.number,
            "status": self.status,
            "warnings": [w.to_dict() for w in self.warnings],
        }


def _xml_kind(root: etree._Element) -> SeriesKind:
    """The series kind of an ERP's XML: its ProfileID and the internet-sale marker."""
    internet = any(
        _text(ref, f"{CBC}DocumentTypeCode") == EARCHIVE_TYPE
        and _text(ref, f"{CBC}DocumentType") == INTERNET
        for ref in root.iterfind(f"{CAC}AdditionalDocumentReference")
    )
    return series_kind(_text(root, f"{CBC}ProfileID"), internet=internet)


@dataclass
class _Prepared:
    root: etree._Element
    ettn: str
    number: str | None  # None: the series assigns it
    series: str | None
    year: int
    provisional: str | None
    source: str
    report: Report


def problem_findings(problems: Iterable[Problem]) -> list[Finding]:
    """A draft's problems as findings (source ``draft``), one per problem."""
    return [
        Finding(
            code=p.code,
            severity=Severity.ERROR,
            source=Source.DRAFT,
            xpath=p.where,
            message_tr=p.message_tr,
            message_en=p.message_en,
        )
        for p in problems
    ]


def draft_findings(exc: DraftError) -> list[Finding]:
    """The findings of a draft that cannot be built (at least one)."""
    return problem_findings(exc.problems) or [
        Finding(
            code=exc.code,
            severity=Severity.ERROR,
            source=Source.DRAFT,
            xpath=exc.where,
            message_tr=exc.text_tr,
            message_en=exc.text_en,
        )
    ]


def _text(root: etree._Element, path: str) -> str | None:
    value = root.findtext(path)
    return value.strip() if value is not None else None


def _amount(root: etree._Element, path: str) -> Decimal | None:
    value = _text(root, path)
    try:
        return Decimal(value) if value else None
    except InvalidOperation:
        return None


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


KDV = "0015"  # GİB's tax type code of KDV (katma değer vergisi)


def kdv_by_rate(root: etree._Element) -> str | None:
    """The invoice's KDV per rate from its document-level ``TaxTotal`` as JSON
    (``{"18": ["1000.00", "180.00"]}``: rate -> [taxable amount, tax]); None without KDV."""
    rates: dict[str, list[Decimal]] = {}
    for sub in root.findall(f"{CAC}TaxTotal/{CAC}TaxSubtotal"):
        code = _text(sub, f"{CAC}TaxCategory/{CAC}TaxScheme/{CBC}TaxTypeCode")
        if code != KDV:
            continue
        percent = _amount(sub, f"{CBC}Percent")
        taxable = _amount(sub, f"{CBC}TaxableAmount") or Decimal(0)
        tax = _amount(sub, f"{CBC}TaxAmount") or Decimal(0)
        if percent is None:
            continue
        whole = percent == percent.to_integral_value()
        key = str(int(percent)) if whole else str(percent.normalize())
        found = rates.setdefault(key, [Decimal(0), Decimal(0)])
        found[0] += taxable
        found[1] += tax
    if not rates:
        return None
    return json.dumps({k: [str(a), str(b)] for k, (a, b) in sorted(rates.items())})


def invoice_facts(root: etree._Element) -> dict[str, Any]:
    """The searchable fields of an invoice tree."""
    sender_id, sender_name = _party(root, "AccountingSupplierParty")
    receiver_id, receiver_name = _party(root, "AccountingCustomerParty")
    issue = _text(root, f"{CBC}IssueDate")
    try:
        issue_date = dt.date.fromisoformat(issue) if issue else None
    except ValueError:
        issue_date = None
    total = f"{CAC}LegalMonetaryTotal/"
    return {
        "profile": _text(root, f"{CBC}ProfileID"),
        "type": _text(root, f"{CBC}InvoiceTypeCode"),
        "issue_date": issue_date,
        "sender_id": sender_id,
        "sender_name": sender_name,
        "receiver_id": receiver_id,
        "receiver_name": receiver_name,
        "currency": _text(root, f"{CBC}DocumentCurrencyCode"),
        "line_extension": _amount(root, total + f"{CBC}LineExtensionAmount"),
        "tax_exclusive": _amount(root, total + f"{CBC}TaxExclusiveAmount"),
        "tax_total": _amount(root, f"{CAC}TaxTotal/{CBC}TaxAmount"),
        "payable": _amount(root, total + f"{CBC}PayableAmount"),
        "kdv": kdv_by_rate(root),
    }


def _renumber(root: etree._Element, old: str, new: str) -> None:
    """Put the assigned number wherever the provisional one stands (ID, signature URI, …)."""
    old_uri, new_uri = f"#Signature_{old}", f"#Signature_{new}"
    for node in root.iter():
        if node.text == old:
            node.text = new
        elif node.text == old_uri:
            node.text = new_uri


class InvoiceService:
    """The outgoing-invoice use cases shared by the API, the CLI and the portal."""

    def __init__(
        self,
        db: Database,
        validator: DocumentValidator,
        *,
        route: bool = False,
        meter: Meter | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.clock = clock
        self.db = db
        # Bills each invoice in its own transaction (``services.billing``); None: no metering.
        self.meter = meter
        # Drafts are built by us (outbound: every layer decides); XML an ERP hands us is
        # judged by GİB's layers and real amount mismatches (upload), see rules/purposes.py.
        self.validator = validator.for_purpose(Purpose.OUTBOUND)
        self.upload_validator = validator.for_purpose(Purpose.UPLOAD)
        # With GİB's user list at hand (``route``), every e-Fatura/e-Arşiv invoice is routed
        # at issue time: a registered buyer gets an e-Fatura, anyone else an e-Arşiv invoice.
        self.route = route
        self._tenants: dict[uuid.UUID, tuple[float, Tenant]] = {}

    # -- reading -----------------------------------------------------------------------------

    def tenant(self, conn: Connection, tenant_id: uuid.UUID) -> Tenant:
        return tenants.get_tenant(conn, tenant_id)

    def tenant_of(self, tenant_id: uuid.UUID) -> Tenant:
        """The tenant's VKN, name and series, as issuing uses them (cached briefly)."""
        return self._cached_tenant(tenant_id)

    def _cached_tenant(self, tenant_id: uuid.UUID) -> Tenant:
        """The tenant's VKN and series, read at most every ``TENANT_TTL`` seconds."""
        now = time.monotonic()
        hit = self._tenants.get(tenant_id)
        if hit is not None and hit[0] > now:
            return hit[1]
        with self.db.tenant(tenant_id) as conn:
            tenant = self.tenant(conn, tenant_id)
        self._tenants[tenant_id] = (now + TENANT_TTL, tenant)
        return tenant

    # -- issuing -----------------------------------------------------------------------------

    def series_defaults(self, tenant_id: uuid.UUID) -> SeriesDefaults:
        """The tenant's default series per kind (e-Fatura, e-Arşiv, internet sale)."""
        return series_service.get_series_defaults(self.db, tenant_id)

    def set_series_defaults(
        self, tenant_id: uuid.UUID, *, actor: str, **values: str | None
    ) -> SeriesDefaults:
        """Change the tenant's default series (see :mod:`entegrator.services.series`); this
        process uses them at once, others within ``TENANT_TTL`` seconds."""
        result = series_service.set_series_defaults(self.db, tenant_id, actor=actor, **values)
        self._tenants.pop(tenant_id, None)
        return result

    def _prepare_draft(self, draft: InvoiceDraft, series: str | None, tenant: Tenant) -> _Prepared:
        from entegrator.documents import build_invoice
        from entegrator.documents.identifiers import ettn as ettn_ids

        ettn = (draft.ettn or ettn_ids.new()).upper()
        year = draft.issue_date.year
        if draft.profile == "EARSIVFATURA" and draft.issue_time is None:
            # An e-Arşiv invoice always carries its issue time: the moment it is issued.
            now = self.clock().astimezone(ZoneInfo("Europe/Istanbul"))
            draft = draft.model_copy(update={"issue_time": now.time().replace(microsecond=0)})
        provisional = None
        if draft.number is None:
            kind = series_kind(draft.profile, internet=draft.internet_sale is not None)
            series = series or default_series(tenant, kind)
            provisional = numbering.format_number(series, year, 1)[:-9] + _PROVISIONAL
            draft = draft.model_copy(update={"number": provisional, "ettn": ettn})
        elif draft.ettn is None:
            draft = draft.model_copy(update={"ettn": ettn})
        xml = build_invoice(draft)
        report, root = self.validator.validate_parsed(xml, name="draft")
        assert root is not None  # noqa: S101 - type narrowing of an invariant
        return _Prepared(
            root=root,
            ettn=ettn,
            number=None if provisional else draft.number,
            series=series if provisional else None,
            year=year,
            provisional=provisional,
            source="json",
            report=report,
        )

    def _prepare_xml(self, data: bytes, series: str | None, tenant: Tenant) -> _Prepared:
        try:
            root = safe_xml.parse(data, max_bytes=self.validator.settings.max_bytes)
        except XMLError:
            root = None
        provisional = None
        number: str | None = None
        year = self.clock().astimezone(ZoneInfo("Europe/Istanbul")).year
        if root is not None and root.tag == f"{{{INVOICE}}}Invoice":
            issue = _text(root, f"{CBC}IssueDate") or ""
            if len(issue) >= 4 and issue[:4].isdigit():
                year = int(issue[:4])
            node = root.find(f"{CBC}ID")
            current = (node.text or "").strip() if node is not None else ""
            if node is not None and not numbering.is_valid(current):
                # No number yet (empty or a placeholder): the series assigns one.
                series = series or default_series(tenant, _xml_kind(root))
                provisional = numbering.format_number(series, year, 1)[:-9] + _PROVISIONAL
                node.text = provisional
                data = etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")
            else:
                number = current
        report, tree = self.upload_validator.validate_parsed(data, name="request")
        if not report.valid:
            raise ValidationFailedError(report.findings)
        if tree is None or report.kind not in ("invoice", "earchive"):
            raise ValidationFailedError(
                [
                    Finding(
                        code="xml-root",
                        severity=Severity.ERROR,
                        source=Source.XML,
                        message_tr="Bu uç yalnız fatura (Invoice) kabul eder",
                        message_en="This endpoint accepts invoices (Invoice) only",
                    )
                ]
            )
        ettn = (_text(tree, f"{CBC}UUID") or "").upper()
        return _Prepared(
            root=tree,
            ettn=ettn,
            number=number,
            series=series if provisional else None,
            year=year,
            provisional=provisional,
            source="xml",
            report=report,
        )

    def _replay(
        self, conn: Connection, tenant_id: uuid.UUID, key: str, request_sha256: bytes
    ) -> IssueResult | None:
        row = idempotency.find(conn, tenant_id, key)
        if row is None or row.status_code == 0:
            return None
        if row.request_sha256 != request_sha256:
            raise ConflictError(
                code_detail="idempotency-key-reused",
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

    def issue(
        self,
        key: repo.ApiKey,
        *,
        draft: InvoiceDraft | None = None,
        xml: bytes | None = None,
        series: str | None = None,
        idempotency_key: str | None = None,
        request_sha256: bytes | None = None,
    ) -> IssueResult:
        """Validate, number and store one outgoing invoice and queue its signing.

        Raises :class:`ValidationFailedError` (nothing stored), :class:`RequestError` or
        :class:`ConflictError` (number, ETTN or idempotency key already used).
        """
        t = key.tenant_id
        if request_sha256 is None:
            body = draft.model_dump_json().encode() if draft is not None else (xml or b"")
            request_sha256 = hashlib.sha256(body).digest()
        if idempotency_key:
            with self.db.tenant(t) as conn:
                replay = self._replay(conn, t, idempotency_key, request_sha256)
            if replay is not None:
                return replay
        tenant, prepared, facts, warnings = self._checked(t, draft, xml, series)
        try:
            return self._store(
                key, tenant, prepared, facts, warnings, idempotency_key, request_sha256
            )
        except _AlreadyTakenError:
            with self.db.tenant(t) as conn:
                replay = self._replay(conn, t, idempotency_key or "", request_sha256)
            if replay is None:  # pragma: no cover - the winner committed before we read
                raise ConflictError(
                    detail_tr="aynı Idempotency-Key ile eşzamanlı istek",
                    detail_en="a concurrent request with the same Idempotency-Key",
                ) from None
            return replay

    def check(
        self,
        key: repo.ApiKey,
        *,
        draft: InvoiceDraft | None = None,
        xml: bytes | None = None,
        series: str | None = None,
    ) -> list[Finding]:
        """Everything ``issue`` checks before it stores: the warnings, or the error ``issue``
        would raise (:class:`ValidationFailedError`, :class:`RequestError`…). Nothing is
        stored and no number is taken (a bulk import checks every document first)."""
        return self._checked(key.tenant_id, draft, xml, series)[3]

    def _checked(
        self,
        t: uuid.UUID,
        draft: InvoiceDraft | None,
        xml: bytes | None,
        series: str | None,
    ) -> tuple[Tenant, _Prepared, dict[str, Any], list[Finding]]:
        if series is not None:
            try:
                numbering.validate_series(series)
            except EntegratorError as exc:
                raise RequestError(
                    detail_tr=f"seri: {exc.text_tr}", detail_en=f"series: {exc.text_en}"
                ) from None
        tenant = self._cached_tenant(t)
        routed: list[Finding] = []
        if draft is not None and self.route:
            draft, routed = self._route_draft(t, draft)
        if draft is not None:
            try:
                prepared = self._prepare_draft(draft, series, tenant)
            except DraftError as exc:
                raise ValidationFailedError(draft_findings(exc)) from None
        else:
            prepared = self._prepare_xml(xml or b"", series, tenant)
        if not prepared.report.valid:
            raise ValidationFailedError(prepared.report.findings)
        facts = invoice_facts(prepared.root)
        if facts["sender_id"] != tenant.vkn:
            raise RequestError(
                where="AccountingSupplierParty",
                detail_tr=f"satıcı VKN/TCKN {facts['sender_id']} bu hesabın ({tenant.vkn}) değil",
                detail_en=f"the supplier VKN/TCKN {facts['sender_id']} is not this account's "
                f"({tenant.vkn})",
            )
        if draft is None and self.route:
            self._check_route(t, facts["profile"], facts["receiver_id"], where="ProfileID")
        warnings = routed + [
            f for f in prepared.report.findings if f.severity is not Severity.ERROR
        ]
        return tenant, prepared, facts, warnings

    def check_draft(
        self, tenant_id: uuid.UUID, draft: InvoiceDraft, *, series: str | None = None
    ) -> tuple[InvoiceDraft, list[Finding]]:
        """What :meth:`issue` would find in ``draft``, without storing anything: the draft as
        it would be issued (routed to e-Fatura or e-Arşiv) and every finding (the portal
        shows them before the user issues). A routing refusal is a finding on ``profile``."""
        tenant = self._cached_tenant(tenant_id)
        routed: list[Finding] = []
        if self.route:
            try:
                draft, routed = self._route_draft(tenant_id, draft)
            except RequestError as exc:
                return draft, [
                    Finding(
                        code=exc.code,
                        severity=Severity.ERROR,
                        source=Source.DRAFT,
                        xpath=exc.where,
                        message_tr=exc.text_tr,
                        message_en=exc.text_en,
                    )
                ]
        try:
            prepared = self._prepare_draft(draft, series, tenant)
        except DraftError as exc:
            return draft, draft_findings(exc)
        return draft, routed + list(prepared.report.findings)

    def preview_xml(
        self, tenant_id: uuid.UUID, draft: InvoiceDraft, *, series: str | None = None
    ) -> bytes:
        """The unsigned XML :meth:`issue` would store for ``draft``, with a provisional
        number (``…000000000``): for a preview before issuing."""
        tenant = self._cached_tenant(tenant_id)
        if self.route:
            draft, _ = self._route_draft(tenant_id, draft)
        prepared = self._prepare_draft(draft, series, tenant)
        return etree.tostring(prepared.root.getroottree(), xml_declaration=True, encoding="UTF-8")

    # -- routing (``earsiv_routing``) --------------------------------------------------------

    def _registered(self, tenant_id: uuid.UUID, identifier: str | None) -> bool | None:
        """Whether GİB lists the buyer as an e-Fatura user; None while the list is empty
        (never fetched: nothing can be decided)."""
        with self.db.tenant(tenant_id) as conn:
            return gib_users.is_registered(conn, identifier or "")

    def _route_draft(
        self, tenant_id: uuid.UUID, draft: InvoiceDraft
    ) -> tuple[InvoiceDraft, list[Finding]]:
        if not earsiv_routing.routed(draft.profile):
            return draft, []
        buyer = draft.customer.vkn or draft.customer.tckn
        return earsiv_routing.route_draft(draft, self._registered(tenant_id, buyer))

    def _check_route(
        self, tenant_id: uuid.UUID, profile: str | None, buyer: str | None, *, where: str
    ) -> None:
        if earsiv_routing.routed(profile):
            registered = self._registered(tenant_id, buyer)
            earsiv_routing.check_profile(profile, buyer, registered, where=where)

    def _store(  # noqa: PLR0917 - the prepared pieces of one request
        self,
        key: repo.ApiKey,
        tenant: Tenant,
        p: _Prepared,
        facts: dict[str, Any],
        warnings: list[Finding],
        idempotency_key: str | None,
        request_sha256: bytes,
    ) -> IssueResult:
        """One transaction. The series row is locked from the moment the number is taken until
        the commit, so everything after it is a single statement: requests on one series
        queue on that lock, and the shorter it is held, the more of them pass per second."""
        t = key.tenant_id
        # The id carries the instant the invoice reached the platform, on the platform's clock
        # (the e-Arşiv report's day and deadline are counted from it).
        doc_id = uuid7(int(self.clock().timestamp() * 1000))
        created = created_at(doc_id)
        try:
            with self.db.tenant(t) as conn:
                # Claim the key first: a concurrent twin waits here for our commit.
                if idempotency_key and not idempotency.claim(
                    conn, t, idempotency_key, request_sha256
                ):
                    raise _AlreadyTakenError
                if self.meter is not None:
                    # Before the number: a refusal (no credits left) holds no series lock, and
                    # the usage record commits or rolls back with the invoice.
                    self.meter.charge(
                        conn,
                        t,
                        "earsiv" if facts["profile"] == "EARSIVFATURA" else "efatura",
                        event_key=str(doc_id),
                        document_id=doc_id,
                        at=created,
                    )
                number = p.number
                series = p.series
                if number is None:
                    assert series is not None and p.provisional is not None  # noqa: S101 - type narrowing
                    seq = numbering_store.next_number(
                        conn, t, series, p.year
                    )  # the lock starts here
                    number = numbering.format_number(series, p.year, seq)
                    _renumber(p.root, p.provisional, number)
                else:
                    # A number the ERP chose must be its series' next one: numbers are
                    # consecutive, without gaps (VUK), and a number far ahead would leave
                    # the series unable to give the ones in between.
                    series, year, seq = numbering.split(number)
                    if not numbering_store.take_number(conn, t, series, year, seq):
                        last = numbering_store.last_number(conn, t, series, year)
                        raise NumberNotNextError(
                            number=number,
                            expected=numbering.format_number(series, year, last + 1)
                            if last < numbering.MAX_SEQUENCE
                            else "-",
                            where="number",
                        )
                xml = etree.tostring(p.root.getroottree(), xml_declaration=True, encoding="UTF-8")
                digest = hashlib.sha256(xml).digest()
                events = store_events.chain(
                    doc_id,
                    after_seq=0,
                    after_hash=store_events.GENESIS,
                    events=[
                        ("received", "draft", {"source": p.source, "sha256": digest.hex()}),
                        (
                            "validated",
                            "validated",
                            # The purpose it was judged by: a later check must use the same.
                            {"warnings": len(warnings), "purpose": p.report.purpose.value},
                        ),
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
                    warnings=warnings,
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
                    supplier_vkn=tenant.vkn,
                    facts=facts,
                    events=events,
                    actor=key.actor,
                    idempotency_key=idempotency_key,
                    response=result.to_dict(),
                    wake=(QUEUE, SIGN_TASK, signer_lock(t)),
                )
                return result
        except IntegrityError as exc:
            constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", "") or ""
            if constraint == "numbering_series_last_value_check":  # past 999999999
                raise SeriesExhaustedError(series=p.series, year=p.year) from None
            if constraint.startswith("document_keys"):
                what = "ETTN" if constraint == "document_keys_pkey" else "number"
                raise ConflictError(
                    detail_tr=f"bu {'ETTN' if what == 'ETTN' else 'fatura numarası'} "
                    "zaten kullanılmış",
                    detail_en=f"this {what} is already used",
                ) from None
            raise


class _AlreadyTakenError(Exception):
    """Another request committed the same Idempotency-Key while this one was working."""


def signer_lock(tenant_id: uuid.UUID) -> str:
    return f"sign:{tenant_id}"


def wake_signer(conn: Connection, tenant_id: uuid.UUID) -> bool:
    """Make sure a signing job for the tenant is waiting, in the caller's transaction.

    The documents in ``validated`` are the durable to-do list; the job only wakes a worker,
    which signs them one after the other. Several requests share one waiting job.
    """
    return repo.wake(conn, SIGN_TASK, tenant_id, lock=signer_lock(tenant_id))
