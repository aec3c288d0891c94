"""The e-Arşiv report on its own: entries read from signed invoices, GİB's schema, the zip."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from entegrator.documents import InvoiceDraft, build_invoice
from entegrator.documents.earsiv_report import (
    EARSIV_NS,
    Cancellation,
    InvoiceEntry,
    ReportHeader,
    ReportReadError,
    build_report,
    invoice_entry,
    period_of,
    zip_report,
)
from entegrator.documents.ns import CAC, CBC
from entegrator.signing import TestCA, sign
from tests.clock import now

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "api" / "invoice.json"
PACKAGE = Path(__file__).resolve().parents[3] / "shared" / "gib-packages" / "earsiv-report"
E = "{" + EARSIV_NS + "}"
CA = TestCA.create(now=now())
PREPARER = "3900383669"


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    if not (PACKAGE / "EArsiv.xsd").is_file():
        pytest.skip(f"GİB's e-Arşiv report package not found at {PACKAGE}")
    return etree.XMLSchema(etree.parse(str(PACKAGE / "EArsiv.xsd")))


def _signed(number: str, **changes: Any) -> bytes:
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    data.update(profile="EARSIVFATURA", number=number, ettn=str(uuid.uuid4()))
    data.update(issue_time="10:15:00", **changes)
    data["customer"].setdefault("contact", {})["email"] = "alici@example.com"
    draft = InvoiceDraft.model_validate(data)
    seal = CA.issue(identity=draft.supplier.vkn or "", name="Satıcı", now=now())
    return sign(build_invoice(draft), seal, signing_time=now())


def _header(taxpayer: str, part: int = 1) -> ReportHeader:
    start, end = period_of(dt.date(2026, 11, 24))
    day = dt.date(2026, 11, 24)
    return ReportHeader(taxpayer, PREPARER, str(uuid.uuid4()), start, end, day, day, part)


def test_an_entry_reads_the_signed_invoice_and_digests_its_bytes() -> None:
    signed = _signed("EAR2026000000001")
    entry = invoice_entry(signed, file_name="x.xml", url="https://e.example/x")
    node = etree.fromstring(entry.xml)
    assert node.findtext(f"{E}faturaNo") == "EAR2026000000001"
    assert node.findtext(f"{E}ozetDeger") == hashlib.sha256(signed).hexdigest()
    assert node.findtext(f"{E}faturaTip") == "SATIS"
    assert node.findtext(f"{E}gonderimSekli") == "ELEKTRONIK"
    assert node.findtext(f"{E}paraBirimi") == "TRY"
    assert node.findtext(f"{E}aliciBilgileri/{E}tuzelKisi/{E}vkn") == "7047649710"
    # 2 × 1500 + 4 × 750 = 6000, KDV 20 %: 7200 with tax
    assert node.findtext(f"{E}toplamTutar") == "7200.00" == entry.total
    assert node.findtext(f"{E}vergiBilgisi/{E}vergi/{E}vergiKodu") == "0015"


def test_a_report_of_invoices_and_cancellations_is_valid_once_signed(
    schema: etree.XMLSchema,
) -> None:
    a, b = _signed("EAR2026000000001"), _signed("EAR2026000000002")
    entries = [invoice_entry(x, file_name="f.xml", url="u") for x in (a, b)]
    header = _header(PREPARER)
    unsigned = build_report(
        header, entries, [Cancellation("EAR2026000000001", header.part_end, "7200.00")]
    )
    assert not schema.validate(etree.fromstring(unsigned))  # the signature is required
    seal = CA.issue(identity=PREPARER, name="Entegratör", now=now())
    signed = sign(unsigned, seal, signing_time=now())
    root = etree.fromstring(signed)
    assert schema.validate(root), schema.error_log
    assert [f.findtext(f"{E}faturaNo") for f in root.iterfind(f"{E}fatura")] == [
        "EAR2026000000001",
        "EAR2026000000002",
    ]
    assert root.findtext(f"{E}faturaIptal/{E}toplamTutar") == "7200.00"


def test_the_schema_refuses_the_same_number_twice_in_a_report(schema: etree.XMLSchema) -> None:
    a = _signed("EAR2026000000003")
    entry = invoice_entry(a, file_name="f.xml", url="u")
    seal = CA.issue(identity=PREPARER, name="Entegratör", now=now())
    signed = sign(build_report(_header(PREPARER), [entry, entry]), seal, signing_time=now())
    assert not schema.validate(etree.fromstring(signed))


def test_an_empty_report_and_a_missing_field_are_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        build_report(_header(PREPARER), [])
    signed = _signed("EAR2026000000004").replace(
        b"<cbc:InvoiceTypeCode>SATIS</cbc:InvoiceTypeCode>", b""
    )
    with pytest.raises(ReportReadError) as refused:
        invoice_entry(signed, file_name="f.xml", url="u")
    assert (
        "InvoiceTypeCode" in refused.value.text_en and "EAR2026000000004" in refused.value.text_tr
    )


def test_the_zip_holds_exactly_the_report_under_its_number() -> None:
    data = zip_report("abc", b"<x/>")
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.namelist() == ["abc.xml"] and archive.read("abc.xml") == b"<x/>"


@pytest.mark.parametrize(
    ("day", "period"),
    [
        (dt.date(2026, 2, 1), (dt.date(2026, 2, 1), dt.date(2026, 2, 28))),
        (dt.date(2028, 2, 29), (dt.date(2028, 2, 1), dt.date(2028, 2, 29))),
        (dt.date(2026, 12, 31), (dt.date(2026, 12, 1), dt.date(2026, 12, 31))),
    ],
)
def test_the_period_is_the_month(day: dt.date, period: tuple[dt.date, dt.date]) -> None:
    assert period_of(day) == period


INTERNET_SALE = Path(__file__).resolve().parents[2] / "examples" / "invoice"


@pytest.mark.parametrize(
    ("payment", "carrier"),
    [
        (
            {"payment_type": "KREDIKARTI/BANKAKARTI", "payment_date": "2026-09-28"},
            {"tckn": "10000000146", "first_name": "Ayşe", "family_name": "Kurye"},
        ),
        ({"payment_type": "DIGER - Hediye çeki"}, None),
        (
            {
                "payment_type": "ODEMEARACISI",
                "payment_intermediary": "Örnek Ödeme A.Ş.",
                "payment_date": "2026-09-28",
            },
            None,
        ),
    ],
    ids=["card-person-carrier", "other-company-carrier", "intermediary"],
)
def test_an_internet_sale_reports_its_internet_sale_fields(
    schema: etree.XMLSchema, payment: dict[str, str], carrier: dict[str, str] | None
) -> None:
    """``internetSatisBilgi``: the web address, ödeme şekli, intermediary and payment date,
    shipment date and carrier, read from the signed invoice; the report stays valid."""
    data = json.loads((INTERNET_SALE / "earsivfatura-satis-internet.json").read_text("utf-8"))
    sale = data["internet_sale"]
    sale.pop("payment_date", None)
    sale.update(payment)
    if carrier is not None:
        sale["carrier"] = carrier | {"address": sale["carrier"]["address"]}
    data.update(ettn=str(uuid.uuid4()))
    draft = InvoiceDraft.model_validate(data)
    seal = CA.issue(identity=draft.supplier.vkn or "", name="Satıcı", now=now())
    signed = sign(build_invoice(draft), seal, signing_time=now())
    entry = invoice_entry(signed, file_name="x.xml", url="https://e.example/x")
    info = etree.fromstring(entry.xml).find(f"{E}internetSatisBilgi")
    assert info is not None
    assert info.findtext(f"{E}webAdresi") == data["supplier"]["website"]
    assert info.findtext(f"{E}odemeSekli") == payment["payment_type"]
    assert info.findtext(f"{E}odemeAracisiAdi") == payment.get("payment_intermediary")
    assert info.findtext(f"{E}odemeTarihi") == payment.get("payment_date")
    shipment = info.find(f"{E}gonderiBilgileri")
    assert shipment is not None
    assert shipment.findtext(f"{E}gonderimTarihi") == sale["shipment_date"]
    if carrier is None:
        assert shipment.findtext(f"{E}gonderiTasiyan/{E}tuzelKisi/{E}vkn") == "9876543217"
        assert shipment.findtext(f"{E}gonderiTasiyan/{E}tuzelKisi/{E}unvan") == "Örnek Kargo A.Ş."
    else:
        assert shipment.findtext(f"{E}gonderiTasiyan/{E}gercekKisi/{E}tckn") == carrier["tckn"]
        assert shipment.findtext(f"{E}gonderiTasiyan/{E}gercekKisi/{E}adiSoyadi") == "Ayşe Kurye"
    taxpayer = draft.supplier.vkn or ""
    report = build_report(_header(taxpayer), [entry])
    preparer = CA.issue(identity=PREPARER, name="Entegratör", now=now())
    root = etree.fromstring(sign(report, preparer, signing_time=now()))
    assert schema.validate(root), schema.error_log


def test_an_invoice_that_is_no_internet_sale_reports_none() -> None:
    entry = invoice_entry(_signed("EAR2026000000009"), file_name="x.xml", url="u")
    assert etree.fromstring(entry.xml).find(f"{E}internetSatisBilgi") is None


YTB_SAMPLES = (
    Path(__file__).resolve().parents[3] / "shared" / "corpus" / "external" / "phax__phive-rules"
)


def _ytb_sample(name: str) -> etree._Element:
    path = YTB_SAMPLES / name
    if not path.is_file():
        pytest.skip(f"GİB's YTB sample not found at {path}")
    return etree.fromstring(path.read_bytes())


def _sign_sample(root: etree._Element) -> bytes:
    supplier = root.findtext(
        f"{CAC}AccountingSupplierParty/{CAC}Party/{CAC}PartyIdentification/{CBC}ID"
    )
    seal = CA.issue(identity=supplier or "", name="Satıcı", now=now())
    return sign(etree.tostring(root, encoding="UTF-8"), seal, signing_time=now())


@pytest.mark.parametrize(
    "sample", ["YTB_Satis_EArsiv.xml", "YTB_Istisna_EArsiv.xml", "YTB_Iade_EArsiv.xml"]
)
def test_a_ytb_invoice_reports_its_incentive_certificate_and_gib_accepts_the_report(
    schema: etree.XMLSchema, sample: str
) -> None:
    """GİB's YTB samples carry the Yatırım Teşvik Belgesi as ContractDocumentReference
    (ID schemeID="YTBNO", IssueDate); the entry's ``ytbBilgileri`` repeats it, and the signed
    report passes GİB's EArsiv.xsd and its report schematron (in Saxon, as the simulator runs
    it), which refuses the same report without ``ytbBilgileri``."""
    from entegrator.gibsim.earsiv import ReportSchematron

    root = _ytb_sample(sample)
    ref = root.find(f"{CAC}ContractDocumentReference")
    assert ref is not None
    signed = _sign_sample(root)
    entry = invoice_entry(signed, file_name="x.xml", url="https://e.example/x")
    fatura = etree.fromstring(entry.xml)
    assert fatura.findtext(f"{E}faturaTip") == root.findtext(f"{CBC}InvoiceTypeCode")
    assert fatura.findtext(f"{E}ytbBilgileri/{E}ytbNo") == ref.findtext(f"{CBC}ID")
    assert fatura.findtext(f"{E}ytbBilgileri/{E}tarih") == ref.findtext(f"{CBC}IssueDate")

    schematron = ReportSchematron(PACKAGE / "earsiv_schematron.xsl")
    if not schematron.path.is_file():
        pytest.skip(f"GİB's e-Arşiv schematron not found at {schematron.path}")
    taxpayer = root.findtext(
        f"{CAC}AccountingSupplierParty/{CAC}Party/{CAC}PartyIdentification/{CBC}ID"
    )
    preparer = CA.issue(identity=PREPARER, name="Entegratör", now=now())
    report = sign(build_report(_header(taxpayer or ""), [entry]), preparer, signing_time=now())
    assert schema.validate(etree.fromstring(report)), schema.error_log
    assert schematron(report) is None

    info = fatura.find(f"{E}ytbBilgileri")
    assert info is not None
    fatura.remove(info)
    stripped = InvoiceEntry(entry.number, entry.ettn, entry.total, etree.tostring(fatura))
    refused = schematron(build_report(_header(taxpayer or ""), [stripped]))
    assert refused is not None and "ytbBilgileri" in refused


@pytest.mark.parametrize(
    ("change", "says"),
    [("drop", "YTBNO"), ("12345", "6"), ("no-date", "IssueDate")],
)
def test_a_ytb_invoice_without_a_valid_certificate_cannot_be_reported(
    change: str, says: str
) -> None:
    root = _ytb_sample("YTB_Satis_EArsiv.xml")
    ref = root.find(f"{CAC}ContractDocumentReference")
    assert ref is not None
    if change == "drop":
        root.remove(ref)
    elif change == "no-date":
        date = ref.find(f"{CBC}IssueDate")
        assert date is not None
        ref.remove(date)
    else:
        node = ref.find(f"{CBC}ID")
        assert node is not None
        node.text = change
    signed = _sign_sample(root)
    with pytest.raises(ReportReadError) as caught:
        invoice_entry(signed, file_name="x.xml", url="u")
    assert caught.value.code == "EARSIV_REPORT_ENTRY"
    number = root.findtext(f"{CBC}ID") or ""
    assert number in caught.value.text_en and says in caught.value.text_en
    assert number in caught.value.text_tr
