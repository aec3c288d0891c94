"""e-İrsaliye drafts: build → GİB's rules (ours and efatura-kontrol) → parse → rebuild."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from entegrator.documents.build import build_despatch, build_receipt
from entegrator.documents.despatch_samples import (
    SCENARIOS,
    generate_despatches,
    generate_receipts,
)
from entegrator.documents.errors import DocumentError, DraftError
from entegrator.documents.irsaliye import LineAnswer, receipt_for
from entegrator.documents.model import DespatchDraft, ReceiptDraft
from entegrator.documents.ns import CAC, CBC
from entegrator.documents.parse import parse_despatch, parse_receipt
from entegrator.rules import Validator
from tests.clock import validation_settings
from tests.oracle import check

SAMPLE_COUNT = 24
PAIRS = list(generate_receipts(SAMPLE_COUNT, seed=11))


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator(settings=validation_settings())


def test_samples_cover_profiles_types_and_shipments() -> None:
    despatches = [d for d, _ in PAIRS]
    assert {(d.profile, d.type) for d in despatches} == set(SCENARIOS)
    shipments = {(bool(d.shipment.drivers), d.shipment.carrier is not None) for d in despatches}
    assert shipments == {(True, False), (False, True), (True, True)}
    assert any(d.shipment.trailer_plates for d in despatches)
    assert any(len(d.shipment.drivers) > 1 for d in despatches)
    assert any(line.outstanding_quantity for d in despatches for line in d.lines)
    assert any(d.buyer_customer for d in despatches)
    assert any(d.seller_supplier for d in despatches)
    assert any(d.originator_customer for d in despatches)
    assert any(len(d.lines) == 100 for d in despatches)
    receipts = [r for _, r in PAIRS]
    assert any(line.rejected for r in receipts for line in r.lines)
    assert any(line.short for r in receipts for line in r.lines)
    assert any(line.oversupply for r in receipts for line in r.lines)


def test_samples_are_deterministic() -> None:
    assert list(generate_receipts(5, seed=11)) == PAIRS[:5]
    assert list(generate_despatches(3, seed=12)) != [d for d, _ in PAIRS[:3]]


def _both_validators_accept(xml: bytes, name: str, validator: Validator) -> None:
    verdict = check(xml, name)
    report = validator.validate(xml)
    assert verdict.errors == [], verdict.errors
    assert verdict.warnings == [], verdict.warnings
    assert report.valid, report.codes()
    assert report.valid == verdict.valid


@pytest.mark.parametrize("index", range(SAMPLE_COUNT))
def test_despatch_passes_gib_rules_and_round_trips(index: int, validator: Validator) -> None:
    draft = PAIRS[index][0]
    xml = build_despatch(draft)
    _both_validators_accept(xml, f"despatch-{index}", validator)
    parsed = parse_despatch(xml)
    assert parsed == draft
    assert build_despatch(parsed) == xml


@pytest.mark.parametrize("index", range(SAMPLE_COUNT))
def test_receipt_passes_gib_rules_and_round_trips(index: int, validator: Validator) -> None:
    despatch, receipt = PAIRS[index]
    xml = build_receipt(receipt, despatch)
    _both_validators_accept(xml, f"receipt-{index}", validator)
    parsed = parse_receipt(xml)
    assert parsed == receipt
    assert build_receipt(parsed) == xml


def test_validators_agree_on_a_broken_despatch(validator: Validator) -> None:
    xml = build_despatch(PAIRS[0][0]).replace(b'schemeID="PLAKA"', b'schemeID="PLAKAX"')
    xml = xml.replace(b"<cbc:DespatchAdviceTypeCode>SEVK", b"<cbc:DespatchAdviceTypeCode>XYZ")
    verdict = check(xml)
    report = validator.validate(xml)
    assert not verdict.valid and not report.valid


def test_receipt_refers_to_the_despatch_ettn_and_date() -> None:
    despatch, receipt = PAIRS[1]
    root = etree.fromstring(build_receipt(receipt, despatch))
    ref = root.find(CAC + "DespatchDocumentReference")
    assert ref is not None
    assert despatch.ettn is not None
    assert ref.findtext(CBC + "ID") == despatch.ettn.upper()
    assert ref.findtext(CBC + "IssueDate") == despatch.issue_date.isoformat()
    assert ref.findtext(CBC + "ID") != despatch.number


def test_despatch_writes_plates_drivers_and_despatch_time() -> None:
    draft = next(
        d
        for d, _ in PAIRS
        if d.shipment.drivers and d.shipment.trailer_plates and d.shipment.carrier
    )
    root = etree.fromstring(build_despatch(draft))
    plate = root.find(f".//{CAC}RoadTransport/{CBC}LicensePlateID")
    assert plate is not None and plate.get("schemeID") == "PLAKA"
    assert plate.text == draft.shipment.plate
    trailers = root.findall(f".//{CAC}TransportEquipment/{CBC}ID")
    assert [t.text for t in trailers] == draft.shipment.trailer_plates
    assert {t.get("schemeID") for t in trailers} == {"DORSEPLAKA"}
    drivers = root.findall(f".//{CAC}DriverPerson/{CBC}NationalityID")
    assert [d.text for d in drivers] == [d.tckn for d in draft.shipment.drivers]
    assert root.find(f".//{CAC}CarrierParty") is not None
    assert root.findtext(f".//{CAC}Despatch/{CBC}ActualDespatchTime") == (
        draft.shipment.actual_despatch_time.isoformat()
    )


def test_receipt_for_answers_every_line() -> None:
    despatch = PAIRS[2][0]
    answers = {1: LineAnswer(rejected=Decimal(1), reject_reason="Kırık")}
    receipt = receipt_for(
        despatch,
        number="IRY2026000000001",
        ettn="1b2c3d4e-0000-4000-8000-000000000001",
        issue_date=despatch.issue_date,
        actual_delivery_date=despatch.issue_date,
        answers=answers,
    )
    assert [x.despatch_line_id for x in receipt.lines] == [
        str(n) for n in range(1, len(despatch.lines) + 1)
    ]
    first = receipt.lines[0]
    assert first.received == despatch.lines[0].quantity - 1
    assert first.rejected == 1 and first.reject_reason == "Kırık"
    assert receipt.despatch_ettn == despatch.ettn
    assert receipt.customer == despatch.customer


# -- draft errors --------------------------------------------------------------------------


def _despatch(**changes: object) -> DespatchDraft:
    data = PAIRS[0][0].model_dump(mode="json")
    for path, value in changes.items():
        target: Any = data
        keys = path.split("__")
        for key in keys[:-1]:
            target = target[int(key)] if key.isdigit() else target[key]
        target[keys[-1]] = value
    return DespatchDraft.model_validate(data)


def _problems(draft: DespatchDraft) -> dict[str, tuple[str, str, str]]:
    with pytest.raises(DraftError) as info:
        build_despatch(draft)
    out = {p.code: (p.where, p.message_tr, p.message_en) for p in info.value.problems}
    assert all(tr and en and tr != en for _, tr, en in out.values())
    return out


def test_base_draft_for_error_tests_has_drivers() -> None:
    assert PAIRS[0][0].shipment.drivers  # the error tests below change a driver


@pytest.mark.parametrize(
    ("changes", "code", "where"),
    [
        ({"shipment__plate": "ABC123"}, "PLATE_FORMAT", "shipment.plate"),
        ({"shipment__plate": "99AB12"}, "PLATE_FORMAT", "shipment.plate"),
        (
            {"shipment__trailer_plates": ["34 AB 12"]},
            "PLATE_FORMAT",
            "shipment.trailer_plates[0]",
        ),
        ({"shipment__drivers__0__tckn": "12345678901"}, "TCKN_FORMAT", "shipment.drivers[0].tckn"),
        ({"shipment__drivers__0__tckn": "1234"}, "TCKN_FORMAT", "shipment.drivers[0].tckn"),
        ({"shipment__plate": None}, "PLATE_MISSING", "shipment.plate"),
        (
            {"shipment__drivers": [], "shipment__carrier": None},
            "DRIVER_OR_CARRIER_MISSING",
            "shipment",
        ),
        ({"type": "MATBUDAN", "paper_document": None}, "PAPER_DOCUMENT_MISSING", "paper_document"),
        (
            {"shipment__delivery_address__postal_zone": "00123"},
            "POSTAL_ZONE_FORMAT",
            "shipment.delivery_address.postal_zone",
        ),
        (
            {"shipment__delivery_address__postal_zone": None},
            "POSTAL_ZONE_FORMAT",
            "shipment.delivery_address.postal_zone",
        ),
        ({"lines__0__unit_code": "XXQ"}, "UNIT_CODE_UNKNOWN", "lines[0].unit_code"),
        ({"lines__0__outstanding_quantity": "3"}, "OUTSTANDING_INCOMPLETE", "lines[0]"),
        ({"supplier__vkn": "123"}, "VKN_FORMAT", "supplier.vkn"),
        ({"number": None}, "NUMBER_MISSING", "number"),
    ],
)
def test_despatch_draft_errors(changes: dict[str, object], code: str, where: str) -> None:
    base = PAIRS[0][0]
    if "lines__0__outstanding_quantity" in changes:
        assert base.lines[0].outstanding_reason is None
    problems = _problems(_despatch(**changes))
    assert code in problems, problems
    assert problems[code][0] == where


def test_hks_lines_need_kunye() -> None:
    hks = PAIRS[2][0]
    assert hks.profile == "HKSIRSALIYE"
    assert build_despatch(hks)
    lines = [hks.lines[0].model_copy(update={"additional_item_ids": []}), *hks.lines[1:]]
    with pytest.raises(DraftError) as info:
        build_despatch(hks.model_copy(update={"lines": lines}))
    assert [(p.code, p.where) for p in info.value.problems] == [
        ("KUNYENO_MISSING", "lines[0].additional_item_ids")
    ]


def test_required_parties_are_refused_by_the_model() -> None:
    data = PAIRS[0][0].model_dump(mode="json")
    del data["customer"]
    with pytest.raises(ValueError, match="customer"):
        DespatchDraft.model_validate(data)


def _receipt(despatch: DespatchDraft, **line0: object) -> ReceiptDraft:
    data = receipt_for(
        despatch,
        number="IRY2026000000002",
        ettn="1b2c3d4e-0000-4000-8000-000000000002",
        issue_date=despatch.issue_date,
        actual_delivery_date=despatch.issue_date,
    ).model_dump(mode="json")
    data["lines"][0] |= line0
    return ReceiptDraft.model_validate(data)


def _receipt_problems(draft: ReceiptDraft, despatch: DespatchDraft) -> dict[str, str]:
    with pytest.raises(DraftError) as info:
        build_receipt(draft, despatch)
    return {p.code: p.where for p in info.value.problems}


def test_receipt_quantities_must_add_up_to_the_despatched() -> None:
    despatch = PAIRS[0][0]
    sent = despatch.lines[0].quantity
    ok = _receipt(despatch, received=str(sent - 2), rejected="1", reject_reason="x", short="1")
    assert build_receipt(ok, despatch)
    bad = _receipt(despatch, received=str(sent - 1), short="2")
    assert _receipt_problems(bad, despatch) == {"QUANTITIES_DO_NOT_ADD_UP": "lines[0]"}
    # Oversupply does not count towards the despatched quantity.
    assert build_receipt(_receipt(despatch, oversupply="5"), despatch)


def test_receipt_rejection_needs_a_reason() -> None:
    despatch = PAIRS[0][0]
    sent = despatch.lines[0].quantity
    bad = _receipt(despatch, received=str(sent - 1), rejected="1")
    assert _receipt_problems(bad, despatch) == {"REJECT_REASON_MISSING": "lines[0].reject_reason"}


def test_receipt_lines_must_match_the_despatch() -> None:
    despatch = PAIRS[0][0]
    bad = _receipt(despatch, despatch_line_id="99")
    problems = _receipt_problems(bad, despatch)
    assert problems["DESPATCH_LINE_UNKNOWN"] == "lines[0].despatch_line_id"
    assert problems["DESPATCH_LINE_UNANSWERED"] == "lines"
    other = _receipt(PAIRS[1][0])
    assert "DESPATCH_MISMATCH" in _receipt_problems(other, despatch)


def test_receipt_delivery_cannot_precede_the_despatch() -> None:
    despatch = PAIRS[0][0]
    data = _receipt(despatch).model_dump(mode="json")
    data["actual_delivery_date"] = (despatch.issue_date - dt.timedelta(days=1)).isoformat()
    problems = _receipt_problems(ReceiptDraft.model_validate(data), despatch)
    assert problems == {"DELIVERY_BEFORE_DESPATCH": "actual_delivery_date"}


# -- documents others wrote ------------------------------------------------------------------


def _corpus_documents(corpus: Path, kind: str) -> list[tuple[Path, str]]:
    manifest = json.loads((corpus / "external" / "manifest.json").read_text("utf-8"))
    return [(corpus / "external" / e["file"], e["profile"]) for e in manifest if e["kind"] == kind]


@pytest.mark.parametrize(
    ("kind", "parse", "expected"),
    [("DespatchAdvice", parse_despatch, 12), ("ReceiptAdvice", parse_receipt, 9)],
)
def test_corpus_documents_parse_or_report(
    corpus: Path, kind: str, parse: object, expected: int
) -> None:
    """Every corpus despatch and receipt is read or refused with a clear error, and every one
    GİB accepts in a profile the drafts model (TEMELIRSALIYE, HKSIRSALIYE) is read."""
    files = _corpus_documents(corpus, kind)
    assert len(files) == expected
    refused = []
    for path, profile in files:
        data = path.read_bytes()
        try:
            parse(data)  # type: ignore[operator]
        except DocumentError as exc:  # a clear report, never a crash
            assert exc.code and exc.to_dict()["message_en"]
            refused.append(path.name)
            supported = profile in ("TEMELIRSALIYE", "HKSIRSALIYE")
            assert not (supported and check(data, path.name).valid), (path, exc)
    assert len(refused) < len(files) or kind == "DespatchAdvice"


# -- reading draft JSON ----------------------------------------------------------------------


def test_read_any_draft_picks_the_model_by_kind() -> None:
    from entegrator.documents.model import InvoiceDraft
    from entegrator.documents.read import read_any_draft
    from tests.documents.factory import draft as invoice_draft

    despatch, receipt = PAIRS[0]
    assert read_any_draft(despatch.model_dump_json()) == despatch
    assert read_any_draft(receipt.model_dump_json().encode()) == receipt
    invoice = invoice_draft()
    assert read_any_draft(invoice.model_dump_json()) == invoice
    tagged = json.loads(invoice.model_dump_json()) | {"kind": "invoice"}
    assert isinstance(read_any_draft(tagged), InvoiceDraft)


@pytest.mark.parametrize(
    ("change", "code", "where"),
    [
        ({"kind": "waybill"}, "UNKNOWN_KIND", "kind"),
        ({"issue_time": None}, "INVALID_FIELD", "issue_time"),
        ({"type": "IADE"}, "INVALID_FIELD", "type"),
        ({"customer": None}, "INVALID_FIELD", "customer"),
    ],
)
def test_read_any_draft_reports_field_problems(
    change: dict[str, object], code: str, where: str
) -> None:
    from entegrator.documents.read import read_any_draft

    data = json.loads(PAIRS[0][0].model_dump_json()) | change
    with pytest.raises(DraftError) as info:
        read_any_draft(data)
    assert [(p.code, p.where) for p in info.value.problems][:1] == [(code, where)]


def test_receipt_names_the_despatch_date_and_parties() -> None:
    despatch = PAIRS[0][0]
    data = _receipt(despatch).model_dump(mode="json")
    data["despatch_date"] = (despatch.issue_date + dt.timedelta(days=1)).isoformat()
    data["customer"] = data["supplier"]
    data["actual_delivery_date"] = data["despatch_date"]
    problems = _receipt_problems(ReceiptDraft.model_validate(data), despatch)
    assert problems == {"DESPATCH_DATE_MISMATCH": "despatch_date", "PARTY_MISMATCH": "customer"}


def test_receipt_problems_speak_turkish_and_english() -> None:
    despatch = PAIRS[0][0]
    sent = despatch.lines[0].quantity
    bad = _receipt(despatch, received=str(sent - 1), short="2")
    with pytest.raises(DraftError) as info:
        build_receipt(bad, despatch)
    (problem,) = info.value.problems
    assert "kabul + red + eksik" in problem.message_tr
    assert "received + rejected + short" in problem.message_en


def test_kunye_numbers_have_19_characters() -> None:
    """GİB's schematron counts only 19-character KUNYENO identifiers on a HKSIRSALIYE."""
    hks = PAIRS[2][0]
    short = hks.lines[0].additional_item_ids[0].model_copy(update={"value": "123456789012345678"})
    lines = [hks.lines[0].model_copy(update={"additional_item_ids": [short]}), *hks.lines[1:]]
    bad = hks.model_copy(update={"lines": lines})
    with pytest.raises(DraftError) as info:
        build_despatch(bad)
    assert [(p.code, p.where) for p in info.value.problems] == [
        ("KUNYENO_FORMAT", "lines[0].additional_item_ids")
    ]
    # GİB's rules refuse the same künye number in the XML.
    xml = build_despatch(hks)
    value = hks.lines[0].additional_item_ids[0].value.encode()
    assert not check(xml.replace(value, value[:-1], 1)).valid


GIB_RECEIPTS = Path("/work/shared/gib-packages/samples/gib/receiptadvice")


def test_receipt_names_the_despatch_number_beside_its_ettn() -> None:
    despatch, receipt = PAIRS[1]
    assert receipt.despatch_number == despatch.number
    root = etree.fromstring(build_receipt(receipt, despatch))
    (extra,) = root.findall(CAC + "AdditionalDocumentReference")
    assert extra.findtext(CBC + "ID") == despatch.number
    assert extra.findtext(CBC + "DocumentTypeCode") == "DespatchAdviceID"
    assert extra.findtext(CBC + "IssueDate") == despatch.issue_date.isoformat()
    ref = root.find(CAC + "DespatchDocumentReference")
    assert ref is not None and ref.findtext(CBC + "ID") == (despatch.ettn or "").upper()


def test_a_late_delivery_complaint_is_written_per_line() -> None:
    despatch, receipt = next(
        (d, r) for d, r in PAIRS if any(line.timing_complaint for line in r.lines)
    )
    root = etree.fromstring(build_receipt(receipt, despatch))
    complaints = [n.text for n in root.iterfind(f"{CAC}ReceiptLine/{CBC}TimingComplaint")]
    assert complaints == [line.timing_complaint for line in receipt.lines]


@pytest.mark.skipif(not GIB_RECEIPTS.is_dir(), reason="GİB's packages are not here")
def test_gibs_sample_answers_read_the_despatch_number_and_complaints() -> None:
    answers = [
        parse_receipt((GIB_RECEIPTS / f"IrsaliyeYaniti-Ornek{n}.xml").read_bytes())
        for n in range(1, 5)
    ]
    assert {a.despatch_number for a in answers} == {"GIB2016000000023"}
    assert {a.despatch_ettn.upper() for a in answers} == {"F47AC10B-58CC-4372-A567-0E02B2C3D479"}
    complaints = [line.timing_complaint for line in answers[1].lines]
    assert all(c and c.startswith("Ürünler geç gönderilmiştir.") for c in complaints)


def test_a_despatch_number_not_in_gibs_form_is_left_out_when_reading() -> None:
    despatch, receipt = PAIRS[1]
    xml = build_receipt(receipt, despatch)
    assert despatch.number is not None
    odd = xml.replace(f"<cbc:ID>{despatch.number}</cbc:ID>".encode(), b"<cbc:ID>IRS-1</cbc:ID>", 1)
    assert odd != xml
    assert parse_receipt(odd).despatch_number is None
