"""Layer 5: identity and business rules GİB does not check but an integrator must.

* VKN/TCKN checksums of the parties (``checks.md`` §1–2), of invoices and of despatch and
  receipt advices (:func:`check_advice`: their parties, the carrier and the driver). GİB
  checks only the length and its own sample VKN fails the checksum, so a bad checksum is a
  **warning** by default; ``ValidationSettings.id_checksum = error`` makes it an error.
  The e-Arşiv placeholder TCKN ``11111111111`` of an unidentified final consumer and the
  placeholder VKN ``2222222222`` of a foreign buyer without a Turkish tax number are accepted
  for EARSIVFATURA customers.
* The invoice number's year is the issue date's year.
* The ETTN is a UUID in 8-4-4-4-12 form.
* The issue date is not after ``today`` (the caller's date in Europe/Istanbul; this module
  reads no clock) and not before 2005.
* The profile × type combination is one GİB allows.
* Returns (IADE types) carry a billing reference to the returned invoice; export invoices
  (IHRACAT) name a buyer (BuyerCustomerParty).
* KDV percents other than today's 0/1/10/20 draw a warning (8 and 18 were abolished in July 2023).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

from lxml import etree

from entegrator.documents.codes import InvoiceTypeCode, ProfileID, allowed_types
from entegrator.documents.identifiers import ettn, numbering, tckn, vkn
from entegrator.documents.ns import CAC as _CAC
from entegrator.documents.ns import CBC as _CBC
from entegrator.findings import Finding, Severity, Source
from entegrator.findings.paths import child, element_path, line_of

__all__ = ["check", "check_advice"]

_RETURN_TYPES = frozenset({"IADE", "TEVKIFATIADE", "YTBIADE", "YTBTEVKIFATIADE"})
_CURRENT_KDV = frozenset({Decimal(0), Decimal(1), Decimal(10), Decimal(20)})
_CURRENT_KDV_TEXT = frozenset({"0", "1", "10", "20", "0.00", "1.00", "10.00", "20.00", "0.0"})
_LINE_KDV_PERCENTS = etree.XPath(
    "cac:InvoiceLine/cac:TaxTotal/cac:TaxSubtotal"
    "[cac:TaxCategory/cac:TaxScheme/cbc:TaxTypeCode = '0015']/cbc:Percent",
    namespaces={
        "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
        "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    },
)


def _finding(  # noqa: PLR0917 - code, severity, place, two messages, two hints
    code: str,
    severity: Severity,
    node: etree._Element,
    tr: str,
    en: str,
    hint: str | None = None,
    hint_en: str | None = None,
    attribute: str | None = None,
) -> Finding:
    return Finding(
        code=code,
        severity=severity,
        source=Source.IDENTITY,
        line=line_of(node),
        xpath=element_path(node, attribute),
        message_tr=tr,
        message_en=en,
        hint=hint,
        hint_en=hint_en,
    )


_INVOICE_ROLES = ("AccountingSupplierParty", "AccountingCustomerParty", "BuyerCustomerParty")
# e-İrsaliye and its answer (ubl-tr.md §11-12): the wrapped parties, then the carrier.
_ADVICE_ROLES = (
    "DespatchSupplierParty",
    "DeliveryCustomerParty",
    "BuyerCustomerParty",
    "SellerSupplierParty",
    "OriginatorCustomerParty",
)
_CARRIER = (_CAC + "Shipment", _CAC + "Delivery", _CAC + "CarrierParty")
_DRIVER_IDS = etree.XPath(
    "cac:Shipment/cac:ShipmentStage/cac:DriverPerson/cbc:NationalityID",
    namespaces={"cac": _CAC[1:-1], "cbc": _CBC[1:-1]},
)


def _wrapped(root: etree._Element, roles: tuple[str, ...]) -> Iterator[tuple[str, etree._Element]]:
    """(role, cac:Party) of each ``<role>/cac:Party`` present."""
    for role in roles:
        party = child(root, _CAC + role, _CAC + "Party")
        if party is not None:
            yield role, party


def _tckn_finding(role: str, ident: etree._Element, value: str, checksum: Severity) -> Finding:
    return _finding(
        "id-tckn-checksum",
        checksum,
        ident,
        f"{role}: TCKN {value} kontrol haneleri tutmuyor",
        f"{role}: TCKN {value} fails its check digits",
        "T.C. kimlik numarasını kimlik belgesinden kontrol edin.",
        "Check the identity number against the person's ID card.",
    )


def _parties(
    parties: Iterable[tuple[str, etree._Element]], profile: str, checksum: Severity
) -> Iterator[Finding]:
    for role, party in parties:
        idents = (
            ident
            for holder in party.iterchildren(_CAC + "PartyIdentification")
            for ident in holder.iterchildren(_CBC + "ID")
        )
        for ident in idents:
            scheme = ident.get("schemeID")
            value = (ident.text or "").strip()
            earsiv_customer = (
                role == "AccountingCustomerParty" and profile == ProfileID.EARSIVFATURA
            )
            if (
                scheme == "VKN"
                and len(value) == 10
                and value.isdigit()
                and not vkn.is_valid(value)
                and not (earsiv_customer and value == vkn.PLACEHOLDER)
            ):
                yield _finding(
                    "id-vkn-checksum",
                    checksum,
                    ident,
                    f"{role}: VKN {value} kontrol hanesi tutmuyor",
                    f"{role}: VKN {value} fails its check digit",
                    "Vergi kimlik numarasını vergi levhasından kontrol edin.",
                    "Check the tax number against the party's tax certificate.",
                )
            if scheme == "TCKN" and len(value) == 11 and value.isdigit():
                placeholder = value == tckn.PLACEHOLDER and earsiv_customer
                if not placeholder and not tckn.is_valid(value):
                    yield _tckn_finding(role, ident, value, checksum)


def check_advice(root: etree._Element, *, checksum: Severity = Severity.WARNING) -> list[Finding]:
    """Identity findings of a DespatchAdvice or ReceiptAdvice: the VKN/TCKN checksums of its
    parties (``DespatchSupplierParty``, ``DeliveryCustomerParty`` and the optional buyer,
    seller, originator and carrier) and of the driver's TCKN (``DriverPerson/NationalityID``,
    ``ubl-tr.md`` §11)."""
    parties = list(_wrapped(root, _ADVICE_ROLES))
    carrier = child(root, *_CARRIER)
    if carrier is not None:
        parties.append(("CarrierParty", carrier))
    out = list(_parties(parties, "", checksum))
    drivers: Any = _DRIVER_IDS(root)
    for ident in drivers:
        value = (ident.text or "").strip()
        if len(value) == 11 and value.isdigit() and not tckn.is_valid(value):
            out.append(_tckn_finding("DriverPerson", ident, value, checksum))
    return out


def _dates_and_numbers(root: etree._Element, today: dt.date) -> Iterator[Finding]:
    issue_node = root.find(_CBC + "IssueDate")
    issue: dt.date | None = None
    if issue_node is not None:
        try:
            issue = dt.date.fromisoformat((issue_node.text or "").strip())
        except ValueError:
            issue = None
    if issue is not None and issue_node is not None:
        if issue > today:
            yield _finding(
                "id-issue-date-future",
                Severity.ERROR,
                issue_node,
                f"Düzenleme tarihi {issue} ileri bir tarih (bugün {today}, Türkiye saati)",
                f"The issue date {issue} is in the future (today is {today}, Turkish time)",
                "Belgeyi bugünün ya da geçmiş bir günün tarihiyle düzenleyin.",
                "Issue the document with today's date or a past date.",
            )
        if issue < dt.date(2005, 1, 1):
            yield _finding(
                "id-issue-date-old",
                Severity.ERROR,
                issue_node,
                f"Düzenleme tarihi {issue} 01.01.2005'ten önce",
                f"The issue date {issue} is before 2005-01-01",
            )
    number_node = root.find(_CBC + "ID")
    number = (number_node.text or "").strip() if number_node is not None else ""
    if number_node is not None and numbering.is_valid(number) and issue is not None:
        year = numbering.split(number)[1]
        if year != issue.year:
            yield _finding(
                "id-number-year",
                Severity.ERROR,
                number_node,
                f"Belge numarasındaki yıl ({year}) düzenleme tarihinin yılı ({issue.year}) değil",
                f"The year in the number ({year}) is not the issue date's year ({issue.year})",
                "Numarayı düzenleme yılının serisinden alın.",
                "Take the number from the series of the issue year.",
            )
    uuid_node = root.find(_CBC + "UUID")
    if uuid_node is not None and not ettn.is_valid((uuid_node.text or "").strip()):
        yield _finding(
            "id-ettn",
            Severity.ERROR,
            uuid_node,
            "ETTN 8-4-4-4-12 biçiminde bir UUID değil",
            "The ETTN is not a UUID in 8-4-4-4-12 form",
            "ETTN'yi uuid4 ile üretin.",
            "Generate the ETTN with uuid4.",
        )


def _business(root: etree._Element, profile: str, type_: str) -> Iterator[Finding]:
    type_node = root.find(_CBC + "InvoiceTypeCode")
    if type_node is not None and profile in ProfileID.__members__:
        try:
            allowed = allowed_types(ProfileID(profile))
            known_type = InvoiceTypeCode(type_)
        except ValueError:
            allowed, known_type = frozenset(), None
        if known_type is not None and known_type not in allowed:
            yield _finding(
                "id-profile-type",
                Severity.ERROR,
                type_node,
                f"{profile} senaryosunda {type_} fatura tipi kullanılamaz",
                f"Invoice type {type_} is not allowed in profile {profile}",
                "İzin verilen tipler için docs/draft.md'deki senaryo × tip tablosuna bakın.",
                "See the profile × type table in docs/draft.md for the allowed types.",
            )
    if type_ in _RETURN_TYPES and type_node is not None:
        ref = child(root, _CAC + "BillingReference", _CAC + "InvoiceDocumentReference", _CBC + "ID")
        if ref is None or not (ref.text or "").strip():
            yield _finding(
                "id-return-reference",
                Severity.ERROR,
                type_node,
                "İade faturası iade edilen faturaya BillingReference ile atıf yapmalı",
                "A return invoice must reference the returned invoice (BillingReference)",
                "İade edilen faturanın numarasını ve tarihini ekleyin.",
                "Add the number and date of the returned invoice.",
            )
    if profile == ProfileID.IHRACAT and root.find(_CAC + "BuyerCustomerParty") is None:
        yield _finding(
            "id-export-buyer",
            Severity.ERROR,
            root,
            "İhracat faturasında yabancı alıcı (BuyerCustomerParty) bulunmalı",
            "An export invoice must name the foreign buyer (BuyerCustomerParty)",
        )
    if type_ not in _RETURN_TYPES:
        percents: Any = _LINE_KDV_PERCENTS(root)  # one pass in libxml2 for all lines
        for percent_node in percents:
            text = (percent_node.text or "").strip()
            if text in _CURRENT_KDV_TEXT:
                continue
            try:
                rate = Decimal(text)
            except InvalidOperation:
                continue  # the XSD layer reports it
            if rate not in _CURRENT_KDV:
                yield _finding(
                    "id-kdv-rate",
                    Severity.WARNING,
                    percent_node,
                    f"KDV oranı %{text} bugünkü oranlardan (0, 1, 10, 20) değil",
                    f"KDV rate {text} % is not one of today's rates (0, 1, 10, 20)",
                    "%8 ve %18 Temmuz 2023'te kaldırıldı; iade ya da düzeltme değilse "
                    "oranı kontrol edin.",
                    "8 % and 18 % were abolished in July 2023; check the rate unless this "
                    "corrects an older transaction.",
                )


def check(
    root: etree._Element,
    *,
    profile: str,
    type_: str,
    checksum: Severity = Severity.WARNING,
    today: dt.date,
) -> list[Finding]:
    """Identity and business findings of an Invoice; ``today`` is the date in Türkiye."""
    out = list(_parties(_wrapped(root, _INVOICE_ROLES), profile, checksum))
    out.extend(_dates_and_numbers(root, today))
    out.extend(_business(root, profile, type_))
    return out
