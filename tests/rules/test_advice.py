"""The quantities of an e-İrsaliye and its answer add up: each document alone, and the answer
against its despatch (received + rejected + short = delivered, the despatch's ETTN, date,
parties, lines and units), with codes and Turkish and English messages."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

from entegrator.documents.build import build_despatch, build_receipt
from entegrator.documents.despatch_samples import generate_receipts
from entegrator.documents.ns import CAC, CBC
from entegrator.findings import Finding, Purpose, Severity, Source
from entegrator.rules import Validator
from entegrator.rules.advice import check, check_answer
from tests.clock import validation_settings

PAIRS = list(generate_receipts(16, seed=41))
GIB = Path("/work/shared/gib-packages/samples/gib")
_E = etree._Element


def _pair(index: int = 0) -> tuple[_E, _E]:
    despatch, receipt = PAIRS[index]
    return (
        etree.fromstring(build_despatch(despatch)),
        etree.fromstring(build_receipt(receipt, despatch)),
    )


def _codes(findings: list[Finding]) -> list[str]:
    return [f.code for f in findings]


@pytest.mark.parametrize("index", range(len(PAIRS)))
def test_what_entegrator_builds_adds_up(index: int) -> None:
    despatch, receipt = _pair(index)
    assert check(despatch) == []
    assert check(receipt) == []
    assert check_answer(receipt, despatch) == []


def _line(root: _E, n: int = 0) -> _E:
    tag = "DespatchLine" if root.find(CAC + "DespatchLine") is not None else "ReceiptLine"
    return root.findall(CAC + tag)[n]


def _set(node: _E, name: str, value: str, unit: str | None = None) -> _E:
    el = node.find(CBC + name)
    if el is None:
        el = etree.SubElement(node, CBC + name)
    el.text = value
    if unit is not None:
        el.set("unitCode", unit)
    return el


def _delivered(despatch: _E, n: int = 0) -> tuple[int, str]:
    q = _line(despatch, n).find(CBC + "DeliveredQuantity")
    assert q is not None and q.text is not None
    return int(float(q.text)), q.get("unitCode") or ""


def _whole_pair() -> tuple[_E, _E]:
    """A despatch whose first line has a whole quantity of at least 4, and its answer."""
    for i in range(len(PAIRS)):
        despatch, receipt = _pair(i)
        q = _line(despatch).findtext(CBC + "DeliveredQuantity") or ""
        if q.isdigit() and int(q) >= 4:
            return despatch, receipt
    raise AssertionError("no sample with a whole first quantity")


def _clean_first_line(receipt: _E) -> _E:
    line = _line(receipt)
    for name in ("RejectedQuantity", "RejectReason", "ShortQuantity", "OversupplyQuantity"):
        for el in line.findall(CBC + name):
            line.remove(el)
    return line


def test_received_rejected_and_short_must_add_up_to_the_delivered() -> None:
    despatch, receipt = _whole_pair()
    delivered, unit = _delivered(despatch)
    line = _clean_first_line(receipt)
    _set(line, "ReceivedQuantity", str(delivered - 2))
    assert _codes(check_answer(receipt, despatch)) == ["answer-quantities"]
    (finding,) = check_answer(receipt, despatch)
    assert finding.severity is Severity.ERROR and finding.source is Source.ARITHMETIC
    assert f"gönderilen miktar {delivered}" in finding.message_tr
    assert f"= {delivered - 2}, delivered {delivered}" in finding.message_en
    assert finding.xpath and "ReceiptLine" in finding.xpath
    rejected = etree.Element(CBC + "RejectedQuantity", unitCode=unit)
    rejected.text = "1"
    reason = etree.Element(CBC + "RejectReason")
    reason.text = "Hasarlı"
    short = etree.Element(CBC + "ShortQuantity", unitCode=unit)
    short.text = "1"
    line.find(CBC + "ReceivedQuantity").addnext(rejected)  # type: ignore[union-attr]
    rejected.addnext(reason)
    reason.addnext(short)
    assert check_answer(receipt, despatch) == []
    assert check(receipt) == []
    oversupply = etree.Element(CBC + "OversupplyQuantity", unitCode=unit)
    oversupply.text = "7"
    short.addnext(oversupply)
    assert check_answer(receipt, despatch) == []  # oversupply is counted apart


def test_gibs_guide_reading_is_a_warning_not_an_error() -> None:
    """GİB's samples keep the rejected quantity inside the received one."""
    despatch, receipt = _whole_pair()
    delivered, unit = _delivered(despatch)
    line = _clean_first_line(receipt)
    _set(line, "ReceivedQuantity", str(delivered))
    rejected = etree.Element(CBC + "RejectedQuantity", unitCode=unit)
    rejected.text = "2"
    reason = etree.Element(CBC + "RejectReason")
    reason.text = "Hasarlı"
    line.find(CBC + "ReceivedQuantity").addnext(rejected)  # type: ignore[union-attr]
    rejected.addnext(reason)
    (finding,) = check_answer(receipt, despatch)
    assert finding.code == "answer-quantities-gib-reading"
    assert finding.severity is Severity.WARNING


def test_gibs_sample_answers_against_gibs_sample_despatch() -> None:
    despatch = etree.parse(GIB / "despatchadvice" / "Irsaliye-Ornek1.xml").getroot()
    seen = {}
    for n in range(1, 5):
        answer = etree.parse(GIB / "receiptadvice" / f"IrsaliyeYaniti-Ornek{n}.xml").getroot()
        findings = check_answer(answer, despatch)
        assert all(f.severity is Severity.WARNING for f in findings), _codes(findings)
        seen[n] = set(_codes(findings))
    assert seen[1] == seen[2] == set()
    assert seen[3] == seen[4] == {"answer-quantities-gib-reading"}


def test_the_answer_refers_to_the_despatch_ettn_not_its_number() -> None:
    despatch, receipt = _pair(1)
    ref = receipt.find(f"{CAC}DespatchDocumentReference/{CBC}ID")
    assert ref is not None
    assert ref.text == despatch.findtext(CBC + "UUID")
    ref.text = despatch.findtext(CBC + "ID")
    (finding,) = check_answer(receipt, despatch)
    assert finding.code == "answer-despatch-ettn"
    assert "numarasıyla" in finding.message_tr and "by its number" in finding.message_en
    ref.text = "0F6D2B7E-1111-4222-8333-444455556666"
    assert _codes(check_answer(receipt, despatch)) == ["answer-despatch-ettn"]
    ref.text = (despatch.findtext(CBC + "UUID") or "").lower()
    assert check_answer(receipt, despatch) == []  # a UUID in either case


Mutation = Callable[[_E, _E], None]


def _date(despatch: _E, receipt: _E) -> None:
    receipt.find(f"{CAC}DespatchDocumentReference/{CBC}IssueDate").text = "2001-01-01"  # type: ignore[union-attr]


def _party(despatch: _E, receipt: _E) -> None:
    ident = receipt.find(f"{CAC}DespatchSupplierParty/{CAC}Party/{CAC}PartyIdentification/{CBC}ID")
    ident.text = "1234567890"  # type: ignore[union-attr]


def _unknown_line(despatch: _E, receipt: _E) -> None:
    _line(receipt).find(f"{CAC}DespatchLineReference/{CBC}LineID").text = "999"  # type: ignore[union-attr]


def _unit(despatch: _E, receipt: _E) -> None:
    for q in _line(receipt):
        if q.get("unitCode"):
            q.set("unitCode", "XYZ")


@pytest.mark.parametrize(
    ("mutate", "codes"),
    [
        (_date, ["answer-despatch-date"]),
        (_party, ["answer-party"]),
        (_unknown_line, ["answer-line-unknown", "answer-line-unanswered"]),
        (_unit, ["answer-unit"]),
    ],
)
def test_the_answer_against_its_despatch(mutate: Mutation, codes: list[str]) -> None:
    despatch, receipt = _pair(2)
    mutate(despatch, receipt)
    findings = check_answer(receipt, despatch)
    assert _codes(findings) == codes
    assert all(f.message_tr and f.message_en and f.xpath for f in findings)


def test_an_answer_needs_a_despatch() -> None:
    despatch, receipt = _pair(0)
    assert _codes(check_answer(despatch, receipt)) == ["answer-not-a-pair"]


def test_one_document_alone() -> None:
    despatch, receipt = _pair(3)
    count = receipt.find(CBC + "LineCountNumeric")
    assert count is not None
    count.text = str(int(count.text or "0") + 1)
    first = _line(receipt)
    second = copy.deepcopy(first)
    first.addnext(second)  # despatch line answered twice; the count now holds again
    assert _codes(check(receipt)) == ["advice-line-twice"]
    count.text = "99"
    assert "advice-line-count" in _codes(check(receipt))
    line = _line(despatch)
    delivered = line.find(CBC + "DeliveredQuantity")
    assert delivered is not None
    unit = delivered.get("unitCode") or ""
    out = line.find(CBC + "OutstandingQuantity")
    if out is None:
        out = etree.Element(CBC + "OutstandingQuantity", unitCode=unit)
        out.text = "1"
        delivered.addnext(out)
    out.set("unitCode", "KGM" if unit == "LTR" else "LTR")
    assert _codes(check(despatch)) == ["advice-unit"]
    out.set("unitCode", unit)
    out.text = "-3"
    assert _codes(check(despatch)) == ["advice-negative"]


def test_the_validator_reports_a_rejection_without_reason_by_purpose() -> None:
    despatch, receipt = _whole_pair()
    delivered, unit = _delivered(despatch)
    line = _clean_first_line(receipt)
    _set(line, "ReceivedQuantity", str(delivered - 1))
    rejected = etree.Element(CBC + "RejectedQuantity", unitCode=unit)
    rejected.text = "1"
    line.find(CBC + "ReceivedQuantity").addnext(rejected)  # type: ignore[union-attr]
    xml = etree.tostring(receipt, xml_declaration=True, encoding="UTF-8")
    outbound = Validator(settings=validation_settings()).validate(xml)
    found = [f for f in outbound.findings if f.code == "advice-reject-reason"]
    assert [f.severity for f in found] == [Severity.ERROR]
    assert not outbound.valid
    inbound = Validator(settings=validation_settings(purpose=Purpose.INBOUND)).validate(xml)
    found = [f for f in inbound.findings if f.code == "advice-reject-reason"]
    assert [f.severity for f in found] == [Severity.WARNING]
