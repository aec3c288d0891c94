"""İrsaliye kontrolleri: the cross-field checks of despatch and receipt drafts.

Each problem carries a machine code, where (the JSON path) and a Turkish and an English
message. The rules follow GİB's e-İrsaliye schematron and guides (``ubl-tr.md`` §11–12).
"""

from __future__ import annotations

import re
from decimal import Decimal

from entegrator.documents.checks import _check_party, _Collector, _fmt
from entegrator.documents.codes import is_in
from entegrator.documents.errors import DraftError, Problem
from entegrator.documents.identifiers import tckn as tckn_id
from entegrator.documents.model import Address, DespatchDraft, ReceiptDraft

__all__ = [
    "PLATE",
    "check_despatch",
    "check_receipt",
    "ensure_despatch_buildable",
    "ensure_receipt_buildable",
]

# Türk plakası: il kodu (01–81), harfler, rakamlar. GİB's schematron checks only the
# schemeID (PLAKA, DORSE); the form is our stricter rule for what we send (docs/despatch.md).
PLATE = re.compile(r"^(0[1-9]|[1-7][0-9]|8[01])[A-Z]+[0-9]+$")
KUNYENO_LENGTH = 19
_POSTAL = re.compile(r"^(0[1-9]|[1-7][0-9]|8[01])[0-9]{3}$")


def _check_unit(c: _Collector, unit_code: str, where: str) -> None:
    if not is_in("UnitCodeList", unit_code):
        c.add(
            "UNIT_CODE_UNKNOWN",
            f"{where}.unit_code",
            f"'{unit_code}' GİB birim kod listesinde yok (adet için C62, kg için KGM)",
            f"'{unit_code}' is not in GİB's unit code list (C62 for pieces, KGM for kg)",
        )


def _check_delivery_address(c: _Collector, a: Address, where: str) -> None:
    if a.postal_zone is None or not _POSTAL.match(a.postal_zone):
        c.add(
            "POSTAL_ZONE_FORMAT",
            f"{where}.postal_zone",
            "teslimat adresinin posta kodu il koduyla başlayan 5 haneli bir sayı olmalı",
            "the delivery address needs a 5-digit postal code starting with a province code",
        )


def _check_plate(c: _Collector, plate: str, where: str, what_tr: str, what_en: str) -> None:
    if not PLATE.match(plate):
        c.add(
            "PLATE_FORMAT",
            where,
            f"{what_tr} '{plate}' geçerli bir Türk plakası değil (örnek: 34ABC123)",
            f"{what_en} '{plate}' is not a Turkish plate (e.g. 34ABC123)",
        )


def check_despatch(draft: DespatchDraft) -> list[Problem]:
    """Every cross-field problem of a despatch draft (empty when it can be built)."""
    c = _Collector()
    _check_party(c, draft.supplier, "supplier", placeholder_ok=False)
    _check_party(c, draft.customer, "customer", placeholder_ok=False)
    for name in ("buyer_customer", "seller_supplier", "originator_customer"):
        party = getattr(draft, name)
        if party is not None:
            _check_party(c, party, name, placeholder_ok=False)
    if draft.type == "MATBUDAN" and draft.paper_document is None:
        c.add(
            "PAPER_DOCUMENT_MISSING",
            "paper_document",
            "MATBUDAN irsaliyede matbu belgenin numarası ve tarihi (paper_document) zorunlu",
            "a MATBUDAN despatch needs the paper note's number and date (paper_document)",
        )
    if draft.type != "MATBUDAN" and draft.paper_document is not None:
        c.add(
            "PAPER_DOCUMENT_UNEXPECTED",
            "paper_document",
            "matbu belge (paper_document) yalnız MATBUDAN irsaliyede verilir",
            "paper_document is only for a MATBUDAN despatch",
        )
    s = draft.shipment
    _check_delivery_address(c, s.delivery_address, "shipment.delivery_address")
    if not s.drivers and s.carrier is None:
        c.add(
            "DRIVER_OR_CARRIER_MISSING",
            "shipment",
            "sevkiyatta en az bir şoför (drivers) ya da taşıyıcı firma (carrier) olmalı",
            "the shipment needs at least one driver (drivers) or a carrier",
        )
    if s.drivers and s.plate is None:
        c.add(
            "PLATE_MISSING",
            "shipment.plate",
            "şoför verilen sevkiyatta araç plakası (plate) zorunlu",
            "a shipment with drivers needs the vehicle plate (plate)",
        )
    if s.plate is not None:
        _check_plate(c, s.plate, "shipment.plate", "araç plakası", "the vehicle plate")
    for i, trailer in enumerate(s.trailer_plates):
        _check_plate(c, trailer, f"shipment.trailer_plates[{i}]", "dorse plakası", "trailer plate")
    for i, driver in enumerate(s.drivers):
        if not tckn_id.is_valid(driver.tckn):
            c.add(
                "TCKN_FORMAT",
                f"shipment.drivers[{i}].tckn",
                f"şoförün TCKN'si '{driver.tckn}' geçerli değil (11 hane, sağlama basamakları)",
                f"the driver's TCKN '{driver.tckn}' is not valid (11 digits, check digits)",
            )
    if s.carrier is not None:
        _check_party(c, s.carrier, "shipment.carrier", placeholder_ok=False)
    kunye = draft.profile == "HKSIRSALIYE"
    for i, line in enumerate(draft.lines):
        where = f"lines[{i}]"
        _check_unit(c, line.unit_code, where)
        if (line.outstanding_quantity is None) != (line.outstanding_reason is None):
            c.add(
                "OUTSTANDING_INCOMPLETE",
                where,
                "kısmi gönderimde kalan miktar ve nedeni birlikte verilir",
                "a partial shipment gives outstanding_quantity and outstanding_reason together",
            )
        kunyes = [x for x in line.additional_item_ids if x.scheme_id == "KUNYENO"]
        if kunye and not kunyes:
            c.add(
                "KUNYENO_MISSING",
                f"{where}.additional_item_ids",
                "HKSIRSALIYE satırında künye numarası (KUNYENO) zorunlu",
                "a HKSIRSALIYE line needs its künye number (KUNYENO)",
            )
        for x in kunyes:
            # GİB's schematron counts, on a HKSIRSALIYE, the lines with a 19-character KUNYENO.
            if len(x.value.strip()) != KUNYENO_LENGTH:
                c.add(
                    "KUNYENO_FORMAT",
                    f"{where}.additional_item_ids",
                    f"künye numarası '{x.value}' 19 karakter olmalı",
                    f"the künye number '{x.value}' must have 19 characters",
                )
    return c.problems


def check_receipt(draft: ReceiptDraft, despatch: DespatchDraft | None = None) -> list[Problem]:
    """Every cross-field problem of a receipt draft; with the answered ``despatch``, also
    that each line answers one of its lines and received + rejected + short = despatched."""
    c = _Collector()
    _check_party(c, draft.customer, "customer", placeholder_ok=False)
    _check_party(c, draft.supplier, "supplier", placeholder_ok=False)
    for name in ("buyer_customer", "seller_supplier"):
        party = getattr(draft, name)
        if party is not None:
            _check_party(c, party, name, placeholder_ok=False)
    if draft.actual_delivery_date < draft.despatch_date:
        c.add(
            "DELIVERY_BEFORE_DESPATCH",
            "actual_delivery_date",
            "teslim tarihi irsaliye tarihinden önce olamaz",
            "the delivery date cannot be before the despatch's date",
        )
    seen: set[str] = set()
    for i, line in enumerate(draft.lines):
        where = f"lines[{i}]"
        _check_unit(c, line.unit_code, where)
        if line.rejected is not None and line.reject_reason is None:
            c.add(
                "REJECT_REASON_MISSING",
                f"{where}.reject_reason",
                "reddedilen miktarın nedeni (reject_reason) zorunlu",
                "a rejected quantity needs its reason (reject_reason)",
            )
        if line.despatch_line_id in seen:
            c.add(
                "DESPATCH_LINE_TWICE",
                f"{where}.despatch_line_id",
                f"irsaliye satırı {line.despatch_line_id} iki kez yanıtlanmış",
                f"despatch line {line.despatch_line_id} is answered twice",
            )
        seen.add(line.despatch_line_id)
    if despatch is not None:
        _check_against(c, draft, despatch)
    return c.problems


def _check_against(c: _Collector, draft: ReceiptDraft, despatch: DespatchDraft) -> None:
    if despatch.ettn is not None and despatch.ettn.upper() != draft.despatch_ettn.upper():
        c.add(
            "DESPATCH_MISMATCH",
            "despatch_ettn",
            "yanıt bu irsaliyenin ETTN'sine atıf yapmıyor",
            "the answer does not refer to this despatch's ETTN",
        )
    if draft.despatch_date != despatch.issue_date:
        c.add(
            "DESPATCH_DATE_MISMATCH",
            "despatch_date",
            f"irsaliye tarihi {despatch.issue_date.isoformat()} olmalı",
            f"the despatch date must be {despatch.issue_date.isoformat()}",
        )
    for name, tr in (("customer", "alıcı"), ("supplier", "gönderici")):
        ours, theirs = getattr(draft, name), getattr(despatch, name)
        if ours.identifier != theirs.identifier:
            c.add(
                "PARTY_MISMATCH",
                f"{name}",
                f"yanıttaki {tr} ({ours.identifier}) irsaliyedeki ile ({theirs.identifier}) "
                "aynı olmalı",
                f"the answer's {name} ({ours.identifier}) must be the despatch's "
                f"({theirs.identifier})",
            )
    despatched = {str(n): line for n, line in enumerate(despatch.lines, start=1)}
    for i, line in enumerate(draft.lines):
        where = f"lines[{i}]"
        sent = despatched.get(line.despatch_line_id)
        if sent is None:
            c.add(
                "DESPATCH_LINE_UNKNOWN",
                f"{where}.despatch_line_id",
                f"irsaliyede {line.despatch_line_id} numaralı satır yok",
                f"the despatch has no line {line.despatch_line_id}",
            )
            continue
        total = line.received + (line.rejected or Decimal(0)) + (line.short or Decimal(0))
        if total != sent.quantity:
            c.add(
                "QUANTITIES_DO_NOT_ADD_UP",
                where,
                f"kabul + red + eksik = {_fmt(total)}, gönderilen miktar {_fmt(sent.quantity)}",
                f"received + rejected + short = {_fmt(total)}, despatched {_fmt(sent.quantity)}",
            )
        if line.unit_code != sent.unit_code:
            c.add(
                "UNIT_MISMATCH",
                f"{where}.unit_code",
                f"birim irsaliyedeki birimle ({sent.unit_code}) aynı olmalı",
                f"the unit must be the despatch line's unit ({sent.unit_code})",
            )
    missing = [n for n in despatched if n not in {x.despatch_line_id for x in draft.lines}]
    if missing:
        c.add(
            "DESPATCH_LINE_UNANSWERED",
            "lines",
            f"irsaliye satırları yanıtsız: {', '.join(missing)}",
            f"despatch lines without an answer: {', '.join(missing)}",
        )


def _ids(draft: DespatchDraft | ReceiptDraft, problems: list[Problem]) -> None:
    if draft.number is None:
        problems.append(
            Problem(
                "NUMBER_MISSING", "number", "belge numarası (number) yok", "the number is missing"
            )
        )
    if draft.ettn is None:
        problems.append(Problem("ETTN_MISSING", "ettn", "ETTN yok", "the ETTN is missing"))


def ensure_despatch_buildable(draft: DespatchDraft) -> DespatchDraft:
    """Check a despatch draft; raise :class:`DraftError` with every problem found."""
    problems = check_despatch(draft)
    _ids(draft, problems)
    if problems:
        raise DraftError(problems)
    return draft


def ensure_receipt_buildable(
    draft: ReceiptDraft, despatch: DespatchDraft | None = None
) -> ReceiptDraft:
    """Check a receipt draft (against its despatch when given); raise :class:`DraftError`."""
    problems = check_receipt(draft, despatch)
    _ids(draft, problems)
    if problems:
        raise DraftError(problems)
    return draft
