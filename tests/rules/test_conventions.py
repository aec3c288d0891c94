"""Amount conventions of GİB's own samples, by purpose, and the same figures with a real error."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from entegrator.rules import Purpose, Report, Severity, Source, Validator
from entegrator.rules.conventions import CONVENTIONS
from tests.clock import validation_settings

NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}


@dataclass(frozen=True)
class Case:
    convention: str
    file: str  # under corpus/external
    # The amount the convention is about; moving it by 7.00 is a real mismatch.
    amount: str
    # Whether the sample passes GİB's own layers too (then its verdict is checked as a whole).
    gib_valid: bool


CASES = [
    Case(
        "line-discounts",
        "phax__phive-rules/TicariFaturaOrnegi.xml",
        "cac:LegalMonetaryTotal/cbc:AllowanceTotalAmount",
        gib_valid=True,
    ),
    Case(
        "withholding-net-tax-total",
        "phax__phive-rules/TEVKIFAT.xml",
        "cac:TaxTotal/cbc:TaxAmount",
        gib_valid=False,
    ),
    Case(
        "withholding-net-tax-total",
        "phax__phive-rules/YTB_Tevkifat_EArsiv.xml",
        "cac:TaxTotal/cbc:TaxAmount",
        gib_valid=True,
    ),
    Case(
        "ytb-istisna",
        "phax__phive-rules/YTB_Istisna_EArsiv.xml",
        "cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount",
        gib_valid=True,
    ),
    Case(
        "ytb-istisna",
        "phax__phive-rules/YTB_Istisna_Efatura.xml",
        "cac:TaxTotal/cbc:TaxAmount",
        gib_valid=True,
    ),
    Case(
        "ozelmatrah",
        "phax__phive-rules/OZELMATRAH.xml",
        "cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount",
        gib_valid=False,
    ),
    Case(
        "hks-komisyoncu",
        "phax__phive-rules/HKS-Ornek2.xml",
        "cac:LegalMonetaryTotal/cbc:ChargeTotalAmount",
        gib_valid=False,
    ),
]


@pytest.fixture(scope="module")
def validators() -> dict[Purpose, Validator]:
    return {p: Validator(settings=validation_settings(purpose=p)) for p in Purpose}


def _node(root: etree._Element, xpath: str) -> etree._Element:
    found: Any = root.xpath(xpath, namespaces=NS)
    node = found[0]
    assert isinstance(node, etree._Element)
    return node


def _shift(data: bytes, xpath: str, by: Decimal = Decimal("7.00")) -> bytes:
    """``data`` with the amount at ``xpath`` (from the root) moved by ``by``, in memory."""
    root = etree.fromstring(data)
    node = _node(root, xpath)
    node.text = str(Decimal((node.text or "").strip()) + by)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _ours(report: Report, severity: Severity) -> list[str]:
    return [
        f.code
        for f in report.findings
        if f.severity is severity and f.source in (Source.ARITHMETIC, Source.IDENTITY)
    ]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.convention}:{Path(c.file).stem}")
def test_convention_is_a_warning_on_upload_and_an_error_outbound(
    case: Case, corpus: Path, validators: dict[Purpose, Validator]
) -> None:
    data = (corpus / "external" / case.file).read_bytes()
    code = CONVENTIONS[case.convention].code
    upload = validators[Purpose.UPLOAD].validate(data)
    named = [f for f in upload.findings if f.code == code]
    assert [f.severity for f in named] == [Severity.WARNING]
    assert f"'{case.convention}'" in named[0].message_en
    assert CONVENTIONS[case.convention].sample in named[0].message_en
    assert _ours(upload, Severity.ERROR) == []
    assert upload.purpose is Purpose.UPLOAD
    outbound = validators[Purpose.OUTBOUND].validate(data)
    assert code in _ours(outbound, Severity.ERROR)
    assert not outbound.valid
    if case.gib_valid:
        assert upload.valid


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.convention}:{Path(c.file).stem}")
def test_the_same_amounts_with_a_real_error_are_refused_on_upload(
    case: Case, corpus: Path, validators: dict[Purpose, Validator]
) -> None:
    data = _shift((corpus / "external" / case.file).read_bytes(), case.amount)
    upload = validators[Purpose.UPLOAD].validate(data)
    errors = [
        f for f in upload.findings if f.source is Source.ARITHMETIC and f.severity is Severity.ERROR
    ]
    assert errors, upload.codes(Source.ARITHMETIC)
    assert not upload.valid
    inbound = validators[Purpose.INBOUND].validate(data)
    assert _ours(inbound, Severity.ERROR) == []
    assert set(inbound.codes(Source.ARITHMETIC)) >= {f.code for f in errors}


def _with_fixed_levy(base: bytes, levy: str) -> bytes:
    """A valid invoice of ours with a fixed 8006 levy of ``levy`` at Percent 0 added."""
    root = etree.fromstring(base)
    tax_total = _node(root, "cac:TaxTotal")
    subtotal = etree.SubElement(tax_total, f"{{{NS['cac']}}}TaxSubtotal")
    currency = root.findtext("cbc:DocumentCurrencyCode", namespaces=NS) or "TRY"
    for name, value in (("TaxableAmount", "0.00"), ("TaxAmount", levy)):
        el = etree.SubElement(subtotal, f"{{{NS['cbc']}}}{name}", currencyID=currency)
        el.text = value
    etree.SubElement(subtotal, f"{{{NS['cbc']}}}Percent").text = "0"
    category = etree.SubElement(subtotal, f"{{{NS['cac']}}}TaxCategory")
    scheme = etree.SubElement(category, f"{{{NS['cac']}}}TaxScheme")
    etree.SubElement(scheme, f"{{{NS['cbc']}}}Name").text = "TK KULLANIM"
    etree.SubElement(scheme, f"{{{NS['cbc']}}}TaxTypeCode").text = "8006"
    for path in (
        "cac:TaxTotal/cbc:TaxAmount",
        "cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount",
        "cac:LegalMonetaryTotal/cbc:PayableAmount",
    ):
        node = _node(root, path)
        node.text = str(Decimal(node.text or "") + Decimal(levy))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def test_fixed_levy_at_percent_zero(
    bases: dict[str, bytes], validators: dict[Purpose, Validator]
) -> None:
    data = _with_fixed_levy(bases["satis"], "15.00")
    upload = validators[Purpose.UPLOAD].validate(data)
    assert [f.severity for f in upload.findings if f.code == "arith-convention-fixed-levy"] == [
        Severity.WARNING
    ]
    assert "arith-tax-subtotal" not in upload.codes()
    assert upload.valid, upload.codes()
    outbound = validators[Purpose.OUTBOUND].validate(data)
    assert "arith-convention-fixed-levy" in _ours(outbound, Severity.ERROR)
    wrong = _shift(data, "cac:TaxTotal/cbc:TaxAmount")
    assert "arith-tax-total" in _ours(validators[Purpose.UPLOAD].validate(wrong), Severity.ERROR)


def test_plain_invoice_names_no_convention(
    bases: dict[str, bytes], validators: dict[Purpose, Validator]
) -> None:
    for purpose, validator in validators.items():
        report = validator.validate(bases["satis"])
        assert report.valid, (purpose, report.codes())
        assert not [c for c in report.codes() if c.startswith("arith-convention")]


def test_withholding_is_kdv_times_percent(
    corpus: Path, validators: dict[Purpose, Validator]
) -> None:
    """izibiz FATURA_13: the line's withholding base is the line amount (2000), but what is
    withheld is 90 % of the line's KDV (360), 324.00, which is right."""
    data = (corpus / "external" / "izibiz__api-documentation/FATURA_13.xml").read_bytes()
    outbound = validators[Purpose.OUTBOUND].validate(data)
    assert "arith-withholding" not in outbound.codes()
    # 90 % of the line amount instead of the KDV is wrong, whatever the base says.
    line = "cac:InvoiceLine/cac:WithholdingTaxTotal/cac:TaxSubtotal/cbc:TaxAmount"
    wrong = _shift(data, line, Decimal("1476.00"))
    assert "arith-withholding" in _ours(validators[Purpose.UPLOAD].validate(wrong), Severity.ERROR)


@pytest.mark.parametrize("file", ["HKS-Ornek1.xml", "HKS-Ornek2.xml"])
def test_hks_allows_the_types_gib_allows(
    file: str, corpus: Path, validators: dict[Purpose, Validator]
) -> None:
    data = (corpus / "external" / "phax__phive-rules" / file).read_bytes()
    report = validators[Purpose.OUTBOUND].validate(data)
    assert report.profile == "HKS"
    assert report.type in ("SATIS", "KOMISYONCU")
    assert "id-profile-type" not in report.codes()
    # A type GİB keeps out of HKS (SARJ is ENERJI's) is still refused.
    root = etree.fromstring(data)
    _node(root, "cbc:InvoiceTypeCode").text = "SARJ"
    mutated = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    assert "id-profile-type" in validators[Purpose.OUTBOUND].validate(mutated).codes()
