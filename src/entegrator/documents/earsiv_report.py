"""The e-Arşiv report (e-Arşiv raporu, ``eArsivRaporu``): built from signed invoices, zipped.

GİB learns of every e-Arşiv invoice and every cancellation (iptal) through this report
(``earsiv-and-others.md`` §2; the schema is GİB's ``EArsiv.xsd``, namespace
``http://earsiv.efatura.gov.tr``). One report covers one taxpayer (``mukellef``), is prepared
and signed by the integrator (``hazirlayan``), and is one numbered part (``bolumNo``) of a
period (``donem``). The report travels as ``<raporNo>.zip`` holding ``<raporNo>.xml``.

Each ``fatura`` entry is read from the invoice's signed XML as it was stored (what the buyer
got is what is reported): number, ETTN, type, delivery method (``SendingType``), file name and
SHA-256 of the signed XML (``ozetDeger`` [unconfirmed: one source citing guide v1.18]), issue
date and time, totals, currency and rate, the view URL, taxes and withholdings, the buyer,
the investment incentive certificate of a YTB type (``ytbBilgileri``) and the signing time. A
``faturaIptal`` entry carries the number, the cancellation date and the total. The report is
built unsigned; :func:`entegrator.signing.sign` puts the preparer's signature last in
``baslik``, where the schema wants it.

Pure: bytes and values in, bytes out; no clock, no I/O.

>>> period_of(dt.date(2026, 2, 14))
(datetime.date(2026, 2, 1), datetime.date(2026, 2, 28))
>>> party_tag("1234567890"), party_tag("12345678901")
('vkn', 'tckn')
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from lxml import etree

from entegrator.documents import safe_xml
from entegrator.documents.earsiv import read_earsiv
from entegrator.documents.errors import DocumentError, ParseError
from entegrator.documents.ns import CAC, CBC

__all__ = [
    "EARSIV_NS",
    "VERSION",
    "Cancellation",
    "InvoiceEntry",
    "ReportHeader",
    "ReportReadError",
    "build_report",
    "invoice_entry",
    "party_tag",
    "period_of",
    "zip_report",
]

EARSIV_NS = "http://earsiv.efatura.gov.tr"
E = "{" + EARSIV_NS + "}"
XADES = "{http://uri.etsi.org/01903/v1.3.2#}"
VERSION = "1.0"
NSMAP: dict[str | None, str] = {None: EARSIV_NS}
ISTANBUL = ZoneInfo("Europe/Istanbul")
MAX_URL = 255  # urlType


class ReportReadError(DocumentError):
    """A signed invoice lacks what its report entry needs."""

    code = "EARSIV_REPORT_ENTRY"
    message_tr = "e-Arşiv rapor kaydı okunamadı ({number}): {detail_tr}"
    message_en = "The e-Arşiv report entry cannot be read ({number}): {detail_en}"
    http_status = 422


@dataclass(frozen=True)
class ReportHeader:
    """``baslik`` without its signature."""

    taxpayer: str  # mukellef: VKN (10) or TCKN (11)
    preparer: str  # hazirlayan: the integrator's VKN
    report_no: str  # raporNo: a UUID, also the file name
    period_start: dt.date
    period_end: dt.date
    part_start: dt.date
    part_end: dt.date
    part_no: int


@dataclass(frozen=True)
class InvoiceEntry:
    """One ``fatura`` entry, serialised once (the report is built from these)."""

    number: str
    ettn: str
    total: str  # toplamTutar as written, kept for a later cancellation entry
    xml: bytes  # the <fatura> element


@dataclass(frozen=True)
class Cancellation:
    """One ``faturaIptal`` entry."""

    number: str
    cancelled_on: dt.date
    total: str


def period_of(day: dt.date) -> tuple[dt.date, dt.date]:
    """The reporting period (the month, the likely reading [unconfirmed]) holding ``day``."""
    last = calendar.monthrange(day.year, day.month)[1]
    return day.replace(day=1), day.replace(day=last)


def party_tag(identifier: str) -> str:
    """``vkn`` for a 10-digit identifier, ``tckn`` for an 11-digit one."""
    return "tckn" if len(identifier) == 11 else "vkn"


def _sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    el = etree.SubElement(parent, E + tag)
    if text is not None:
        el.text = text
    return el


def _text(node: etree._Element | None, path: str) -> str | None:
    if node is None:
        return None
    value = node.findtext(path)
    return value.strip() if value is not None and value.strip() else None


class _Reader:
    """Reads one signed invoice; errors name the invoice and the missing field."""

    def __init__(self, root: etree._Element) -> None:
        self.root = root
        self.number = _text(root, f"{CBC}ID") or "?"

    def need(self, path: str, node: etree._Element | None = None) -> str:
        value = _text(self.root if node is None else node, path)
        if value is None:
            field = path.replace(CBC, "cbc:").replace(CAC, "cac:")
            raise ReportReadError(
                number=self.number, detail_tr=f"{field} yok", detail_en=f"no {field}"
            )
        return value


def _sending_type(root: etree._Element) -> str:
    for ref in root.iterfind(f"{CAC}AdditionalDocumentReference"):
        if _text(ref, f"{CBC}DocumentTypeCode") == "SendingType":
            value = _text(ref, f"{CBC}DocumentType")
            if value in ("KAGIT", "ELEKTRONIK"):
                return value
    return "ELEKTRONIK"  # an invoice delivered by this platform is delivered electronically


def _signing_time(root: etree._Element, r: _Reader) -> dt.datetime:
    found = next(root.iter(f"{XADES}SigningTime"), None)
    if found is None or not (found.text or "").strip():
        raise ReportReadError(
            number=r.number, detail_tr="imza zamanı yok", detail_en="no signing time"
        )
    return dt.datetime.fromisoformat((found.text or "").strip())


def _taxes(parent: etree._Element, root: etree._Element, r: _Reader) -> None:
    info = _sub(parent, "vergiBilgisi")
    total = root.find(f"{CAC}TaxTotal")
    if total is None:
        raise ReportReadError(
            number=r.number, detail_tr="cac:TaxTotal yok", detail_en="no TaxTotal"
        )
    _sub(info, "vergilerToplami", r.need(f"{CBC}TaxAmount", total))
    for sub in total.iterfind(f"{CAC}TaxSubtotal"):
        vergi = _sub(info, "vergi")
        _sub(vergi, "matrah", r.need(f"{CBC}TaxableAmount", sub))
        _sub(vergi, "vergiKodu", r.need(f"{CAC}TaxCategory/{CAC}TaxScheme/{CBC}TaxTypeCode", sub))
        _sub(vergi, "vergiTutari", r.need(f"{CBC}TaxAmount", sub))
        _sub(vergi, "vergiOrani", _text(sub, f"{CBC}Percent") or "0")
    for withholding in root.iterfind(f"{CAC}WithholdingTaxTotal"):
        for sub in withholding.iterfind(f"{CAC}TaxSubtotal"):
            tevkifat = _sub(info, "tevkifat")
            code = r.need(f"{CAC}TaxCategory/{CAC}TaxScheme/{CBC}TaxTypeCode", sub)
            _sub(tevkifat, "tevkifatKodu", code)
            _sub(tevkifat, "tevkifatTutari", r.need(f"{CBC}TaxAmount", sub))
            _sub(tevkifat, "tevkifatOrani", _text(sub, f"{CBC}Percent") or "0")


def _buyer(parent: etree._Element, root: etree._Element, r: _Reader) -> None:
    party = root.find(f"{CAC}AccountingCustomerParty/{CAC}Party")
    alici = _sub(parent, "aliciBilgileri")
    if party is None:
        raise ReportReadError(number=r.number, detail_tr="alıcı yok", detail_en="no buyer")
    ident = None
    for node in party.iterfind(f"{CAC}PartyIdentification/{CBC}ID"):
        if node.get("schemeID") in ("VKN", "TCKN"):
            ident = (node.get("schemeID"), (node.text or "").strip())
            break
    if ident is None:
        raise ReportReadError(
            number=r.number, detail_tr="alıcı VKN/TCKN yok", detail_en="no buyer VKN/TCKN"
        )
    scheme, value = ident
    if scheme == "VKN":
        kisi = _sub(alici, "tuzelKisi")
        _sub(kisi, "vkn", value)
        _sub(kisi, "unvan", r.need(f"{CAC}PartyName/{CBC}Name", party))
        return
    person = party.find(f"{CAC}Person")
    name = " ".join(
        v
        for v in (_text(person, f"{CBC}FirstName"), _text(person, f"{CBC}FamilyName"))
        if v is not None
    ) or r.need(f"{CAC}PartyName/{CBC}Name", party)
    kisi = _sub(alici, "gercekKisi")
    _sub(kisi, "tckn", value)
    _sub(kisi, "adiSoyadi", name)


def _internet_sale(parent: etree._Element, root: etree._Element, r: _Reader) -> None:
    """``internetSatisBilgi`` for an invoice marked as an internet sale (``read_earsiv``):
    web address, ödeme şekli, payment intermediary and date, shipment date and carrier."""
    try:
        fields = read_earsiv(root)
    except ParseError as exc:
        raise ReportReadError(
            number=r.number, detail_tr=exc.text_tr, detail_en=exc.text_en
        ) from None
    sale = fields.internet_sale
    if sale is None:
        return
    if not fields.website:
        raise ReportReadError(
            number=r.number,
            detail_tr="internet satışında web adresi (WebsiteURI) yok",
            detail_en="an internet sale without a web address (WebsiteURI)",
        )
    info = _sub(parent, "internetSatisBilgi")
    _sub(info, "webAdresi", fields.website)
    _sub(info, "odemeSekli", sale.payment_type)
    if sale.payment_intermediary:
        _sub(info, "odemeAracisiAdi", sale.payment_intermediary)
    if sale.payment_date is not None:
        _sub(info, "odemeTarihi", sale.payment_date.isoformat())
    shipment = _sub(info, "gonderiBilgileri")
    _sub(shipment, "gonderimTarihi", sale.shipment_date.isoformat())
    carrier = _sub(shipment, "gonderiTasiyan")
    if sale.carrier.vkn:
        company = _sub(carrier, "tuzelKisi")
        _sub(company, "vkn", sale.carrier.vkn)
        _sub(company, "unvan", sale.carrier.name or "")
    else:
        person = _sub(carrier, "gercekKisi")
        _sub(person, "tckn", sale.carrier.tckn or "")
        name = " ".join(n for n in (sale.carrier.first_name, sale.carrier.family_name) if n)
        _sub(person, "adiSoyadi", name or sale.carrier.name or "")


def _incentive(parent: etree._Element, root: etree._Element, r: _Reader, kind: str) -> None:
    """``ytbBilgileri`` of a YTB type (``YTBSATIS``, ``YTBISTISNA``, ``YTBIADE``, ...): the
    investment incentive certificate (Yatırım Teşvik Belgesi) number and date, which UBL-TR
    carries as ``cac:ContractDocumentReference`` with ``cbc:ID schemeID="YTBNO"`` (six digits)
    and ``cbc:IssueDate`` (GİB's ``YTB_*_EArşiv.xml`` samples). GİB's report schematron wants
    it for YTBSATIS, YTBISTISNA and YTBIADE, its invoice schematron the number for every YTB
    type: an invoice without it cannot be reported."""
    if not kind.startswith("YTB"):
        return
    number = date = None
    for ref in root.iterfind(f"{CAC}ContractDocumentReference"):
        node = ref.find(f"{CBC}ID")
        if node is not None and node.get("schemeID") == "YTBNO":
            number, date = (node.text or "").strip(), _text(ref, f"{CBC}IssueDate")
            break
    if number is None:
        raise ReportReadError(
            number=r.number,
            detail_tr=f"{kind} faturasında yatırım teşvik belgesi numarası "
            '(cac:ContractDocumentReference/cbc:ID schemeID="YTBNO") yok',
            detail_en=f"a {kind} invoice without its investment incentive certificate number "
            '(cac:ContractDocumentReference/cbc:ID schemeID="YTBNO")',
        )
    if len(number) != 6 or not number.isascii() or not number.isdigit():
        raise ReportReadError(
            number=r.number,
            detail_tr=f"yatırım teşvik belgesi numarası 6 haneli olmalı: {number!r}",
            detail_en=f"the investment incentive certificate number must be 6 digits: {number!r}",
        )
    try:
        issued = dt.date.fromisoformat(date or "")
    except ValueError:
        raise ReportReadError(
            number=r.number,
            detail_tr="yatırım teşvik belgesinin tarihi (cbc:IssueDate) yok ya da geçersiz",
            detail_en="the investment incentive certificate has no valid date (cbc:IssueDate)",
        ) from None
    info = _sub(parent, "ytbBilgileri")
    _sub(info, "ytbNo", number)
    _sub(info, "tarih", issued.isoformat())


def invoice_entry(signed: bytes, *, file_name: str, url: str) -> InvoiceEntry:
    """The ``fatura`` entry of one signed e-Arşiv invoice (its exact stored bytes).

    ``file_name`` is what ``dosyaAdi`` names; ``url`` where the buyer can see the invoice
    (``faturaUrl``, at most 255 characters). Raises :class:`ReportReadError` when a field the
    schema requires is missing."""
    root = safe_xml.parse(signed)
    r = _Reader(root)
    fatura = etree.Element(E + "fatura", nsmap=NSMAP)  # type: ignore[arg-type]
    _sub(fatura, "faturaNo", r.need(f"{CBC}ID"))
    ettn = r.need(f"{CBC}UUID")
    _sub(fatura, "faturaUUID", ettn)
    kind = r.need(f"{CBC}InvoiceTypeCode")
    _sub(fatura, "faturaTip", kind)
    _incentive(fatura, root, r, kind)
    _sub(fatura, "gonderimSekli", _sending_type(root))
    _sub(fatura, "dosyaAdi", file_name)
    _sub(fatura, "ozetDeger", hashlib.sha256(signed).hexdigest())
    signing_time = _signing_time(root, r)
    _sub(fatura, "duzenlenmeTarihi", r.need(f"{CBC}IssueDate"))
    issue_time = _text(root, f"{CBC}IssueTime")
    if issue_time is None:  # the moment it was sealed stands in for a missing IssueTime
        issue_time = signing_time.astimezone(ISTANBUL).strftime("%H:%M:%S")
    _sub(fatura, "duzenlenmeZamani", issue_time)
    totals = root.find(f"{CAC}LegalMonetaryTotal")
    # toplamTutar: the tax-inclusive total [unconfirmed: the guide's exact mapping]
    total = r.need(f"{CBC}TaxInclusiveAmount", totals)
    _sub(fatura, "toplamTutar", total)
    _sub(fatura, "toplamIskonto", _text(totals, f"{CBC}AllowanceTotalAmount") or "0")
    _sub(fatura, "odenecekTutar", r.need(f"{CBC}PayableAmount", totals))
    currency = r.need(f"{CBC}DocumentCurrencyCode")
    _sub(fatura, "paraBirimi", currency)
    rate = _text(root, f"{CAC}PricingExchangeRate/{CBC}CalculationRate")
    _sub(fatura, "dovizKuru", rate if rate is not None and currency != "TRY" else "1")
    _sub(fatura, "faturaUrl", url[:MAX_URL])
    _taxes(fatura, root, r)
    _buyer(fatura, root, r)
    _internet_sale(fatura, root, r)
    _sub(fatura, "imzaZamani", signing_time.isoformat())
    xml = etree.tostring(fatura, encoding="UTF-8")
    return InvoiceEntry(r.number, ettn, total, xml)


def _header(root: etree._Element, header: ReportHeader) -> None:
    baslik = _sub(root, "baslik")
    _sub(baslik, "versiyon", VERSION)
    _sub(_sub(baslik, "mukellef"), party_tag(header.taxpayer), header.taxpayer)
    _sub(_sub(baslik, "hazirlayan"), party_tag(header.preparer), header.preparer)
    _sub(baslik, "raporNo", header.report_no)
    _sub(baslik, "donemBaslangicTarihi", header.period_start.isoformat())
    _sub(baslik, "donemBitisTarihi", header.period_end.isoformat())
    _sub(baslik, "bolumBaslangicTarihi", header.part_start.isoformat())
    _sub(baslik, "bolumBitisTarihi", header.part_end.isoformat())
    _sub(baslik, "bolumNo", str(header.part_no))
    # ds:Signature goes last in baslik: entegrator.signing.sign puts it there.


def build_report(
    header: ReportHeader,
    invoices: Sequence[InvoiceEntry],
    cancellations: Sequence[Cancellation] = (),
) -> bytes:
    """The unsigned ``eArsivRaporu``: the header, then the invoices, then the cancellations.

    The schema wants at least one entry: an empty report raises ``ValueError``."""
    if not invoices and not cancellations:
        raise ValueError("an e-Arşiv report needs at least one entry")
    root = etree.Element(E + "eArsivRaporu", nsmap=NSMAP)  # type: ignore[arg-type]
    _header(root, header)
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    for entry in invoices:
        root.append(etree.fromstring(entry.xml, parser))
    for cancel in cancellations:
        iptal = _sub(root, "faturaIptal")
        _sub(iptal, "faturaNo", cancel.number)
        _sub(iptal, "iptalTarihi", cancel.cancelled_on.isoformat())
        _sub(iptal, "toplamTutar", cancel.total)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def zip_report(report_no: str, signed: bytes) -> bytes:
    """``<raporNo>.zip`` holding ``<raporNo>.xml`` (the signed report)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo(f"{report_no}.xml", date_time=(2000, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, signed)
    return buffer.getvalue()
