"""Validation by purpose: which layers may refuse a document, over the whole public corpus."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from entegrator.findings import Finding
from entegrator.rules import Purpose, Report, Severity, Source, Validator
from entegrator.rules.purposes import apply
from tests.clock import validation_settings

GIB_LAYERS = (Source.XML, Source.XSD, Source.SCHEMATRON)


def _finding(code: str, source: Source) -> Finding:
    return Finding(
        code=code, severity=Severity.ERROR, source=source, message_tr="x", message_en="x"
    )


@pytest.mark.parametrize(
    ("code", "source", "outbound", "upload", "inbound"),
    [
        ("arith-payable", Source.ARITHMETIC, "error", "error", "warning"),
        ("id-ettn", Source.IDENTITY, "error", "warning", "warning"),
        ("sig-identity", Source.SIGNATURE, "error", "warning", "warning"),
        ("sig-digest", Source.SIGNATURE, "error", "error", "error"),
        ("xsd-element-content", Source.XSD, "error", "error", "error"),
        ("sch-InvoiceIDCheck-1", Source.SCHEMATRON, "error", "error", "error"),
    ],
)
def test_apply_keeps_gibs_layers_and_softens_ours(
    code: str, source: Source, outbound: str, upload: str, inbound: str
) -> None:
    finding = _finding(code, source)
    got = [apply([finding], p)[0].severity.value for p in Purpose]
    assert got == [outbound, upload, inbound]


@pytest.fixture(scope="module")
def corpus_reports(corpus: Path) -> dict[Purpose, dict[str, Report]]:
    external = corpus / "external"
    files = [entry["file"] for entry in json.loads((external / "manifest.json").read_text())]
    out: dict[Purpose, dict[str, Report]] = {}
    for purpose in Purpose:
        validator = Validator(settings=validation_settings(purpose=purpose))
        out[purpose] = {f: validator.validate_file(external / f) for f in files}
    return out


def test_every_corpus_document_gets_a_report_under_every_purpose(
    corpus_reports: dict[Purpose, dict[str, Report]],
) -> None:
    for purpose, reports in corpus_reports.items():
        assert len(reports) == 144
        for name, report in reports.items():
            assert report.purpose is purpose, name
            assert report.to_dict()["purpose"] == purpose.value
            assert report.findings or report.valid, name


def test_inbound_never_refuses_for_our_own_layers(
    corpus_reports: dict[Purpose, dict[str, Report]],
) -> None:
    for name, report in corpus_reports[Purpose.INBOUND].items():
        ours = [
            f.code
            for f in report.findings
            if f.severity is Severity.ERROR
            and (f.source in (Source.ARITHMETIC, Source.IDENTITY) or f.code == "sig-identity")
        ]
        assert ours == [], name


def test_gibs_layers_say_the_same_under_every_purpose(
    corpus_reports: dict[Purpose, dict[str, Report]],
) -> None:
    outbound = corpus_reports[Purpose.OUTBOUND]
    for purpose in (Purpose.UPLOAD, Purpose.INBOUND):
        for name, report in corpus_reports[purpose].items():
            assert report.codes(*GIB_LAYERS) == outbound[name].codes(*GIB_LAYERS), name


def test_purposes_only_widen_what_is_valid(
    corpus_reports: dict[Purpose, dict[str, Report]],
) -> None:
    valid = {p: {n for n, r in reports.items() if r.valid} for p, reports in corpus_reports.items()}
    assert valid[Purpose.OUTBOUND] <= valid[Purpose.UPLOAD] <= valid[Purpose.INBOUND]
    # GİB's own samples that only our amount conventions kept out.
    assert (
        "phax__phive-rules/TicariFaturaOrnegi.xml"
        in valid[Purpose.UPLOAD] - valid[Purpose.OUTBOUND]
    )
    assert "phax__phive-rules/YTB_TevkifatIade_EArsiv.xml" in valid[Purpose.INBOUND]


_DESPATCH = "phax__phive-rules/Irsaliye-Ornek1.xml"
_RECEIPT = "phax__phive-rules/IrsaliyeYaniti-Ornek1.xml"


def _set_ids(data: bytes, xpath: str, value: str) -> bytes:
    root = etree.fromstring(data)
    ns = {
        "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
        "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    }
    found: Any = root.xpath(xpath, namespaces=ns)
    for node in found:
        node.text = value
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


@pytest.mark.parametrize(
    ("file", "party"),
    [
        (_DESPATCH, "cac:DespatchSupplierParty"),
        (_DESPATCH, "cac:DeliveryCustomerParty"),
        (_RECEIPT, "cac:DeliveryCustomerParty"),
        (_RECEIPT, "cac:DespatchSupplierParty"),
    ],
)
def test_despatch_and_receipt_parties_get_the_vkn_checks(
    file: str, party: str, corpus: Path
) -> None:
    validator = Validator(settings=validation_settings())
    data = (corpus / "external" / file).read_bytes()
    ids = f"{party}/cac:Party/cac:PartyIdentification/cbc:ID[@schemeID='VKN']"
    good = validator.validate(_set_ids(data, ids, "9876543217"))
    bad = validator.validate(_set_ids(data, ids, "9876543210"))
    local = party.removeprefix("cac:")
    assert not [f for f in good.findings if f.message_en.startswith(f"{local}: VKN")]
    flagged = [f for f in bad.findings if f.message_en.startswith(f"{local}: VKN")]
    assert [(f.code, f.severity) for f in flagged] == [("id-vkn-checksum", Severity.WARNING)]
    strict = Validator(settings=validation_settings(id_checksum=Severity.ERROR))
    refused = strict.validate(_set_ids(data, ids, "9876543210"))
    assert [f.severity for f in refused.findings if f.message_en.startswith(f"{local}: VKN")] == [
        Severity.ERROR
    ]


def test_despatch_driver_tckn_is_checked(corpus: Path) -> None:
    validator = Validator(settings=validation_settings())
    data = (corpus / "external" / _DESPATCH).read_bytes()
    driver = "cac:Shipment/cac:ShipmentStage/cac:DriverPerson/cbc:NationalityID"
    good = validator.validate(_set_ids(data, driver, "12345678950"))
    bad = validator.validate(_set_ids(data, driver, "12345678901"))
    assert not [f for f in good.findings if f.message_en.startswith("DriverPerson")]
    assert {f.code for f in bad.findings if f.message_en.startswith("DriverPerson")} == {
        "id-tckn-checksum"
    }


def test_for_purpose_keeps_the_pack_and_settings() -> None:
    outbound = Validator(settings=validation_settings(id_checksum=Severity.ERROR))
    inbound = outbound.for_purpose(Purpose.INBOUND)
    assert inbound.settings.purpose is Purpose.INBOUND
    assert inbound.settings.id_checksum is Severity.ERROR
    assert inbound.pack is outbound.pack
    assert outbound.for_purpose(Purpose.INBOUND) is inbound
    assert outbound.for_purpose(Purpose.OUTBOUND) is outbound
    assert outbound.settings.purpose is Purpose.OUTBOUND


def test_an_uploaded_despatch_is_not_refused_for_our_own_despatch_checks(corpus: Path) -> None:
    """GİB's IDIS sample passes GİB's rules but writes a LineCountNumeric our despatch checks
    disagree with: sent to us to pass on (upload) or delivered (inbound), that is a warning;
    only what we build ourselves (outbound) is refused for it."""
    sample = corpus / "external" / "phax__phive-rules" / "IDIS_Irsaliye.xml"
    data = sample.read_bytes()
    verdicts = {}
    for purpose in (Purpose.UPLOAD, Purpose.INBOUND, Purpose.OUTBOUND):
        report = Validator(settings=validation_settings(purpose=purpose)).validate(data)
        verdicts[purpose] = {
            f.code: f.severity for f in report.findings if f.code.startswith("advice-")
        }
    assert verdicts[Purpose.UPLOAD] == {"advice-line-count": Severity.WARNING}
    assert verdicts[Purpose.INBOUND] == {"advice-line-count": Severity.WARNING}
    assert verdicts[Purpose.OUTBOUND] == {"advice-line-count": Severity.ERROR}
