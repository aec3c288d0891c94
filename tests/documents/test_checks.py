"""Drafts GİB would refuse are refused before any XML is written, with code and place."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from entegrator.documents import (
    CombinationError,
    Contact,
    DocumentReference,
    DraftError,
    Party,
    PaymentMeans,
    ProfileID,
    build_invoice,
    check_draft,
)
from entegrator.documents.samples import GTB
from tests.documents.factory import CUSTOMER, draft, line
from tests.oracle import check

D = Decimal
REF = [DocumentReference(id="ABC2026000000001", issue_date=dt.date(2026, 10, 1))]


def _codes(**kw: Any) -> set[str]:
    return {p.code for p in check_draft(draft(**kw))}


def test_valid_draft_has_no_problems() -> None:
    assert check_draft(draft()) == []


def test_ticari_iade_is_refused_as_a_combination() -> None:
    d = draft(profile="TICARIFATURA", type="IADE", billing_references=REF)
    with pytest.raises(CombinationError) as info:
        build_invoice(d)
    assert info.value.code == "INVALID_COMBINATION"
    assert info.value.where == "type"
    assert "TICARIFATURA" in info.value.text_tr and "IADE" in info.value.text_en
    # GİB agrees: the same invoice as TEMELFATURA, relabelled TICARIFATURA, fails its rule.
    xml = build_invoice(d.model_copy(update={"profile": ProfileID.TEMELFATURA}))
    forced = xml.replace(b">TEMELFATURA<", b">TICARIFATURA<")
    assert any("InvoiceTypeCodeCheck-2" in e for e in check(forced).errors)


@pytest.mark.parametrize(
    ("kw", "code"),
    [
        ({"type": "IADE"}, "RETURN_REFERENCE_MISSING"),
        ({"type": "TEVKIFAT"}, "WITHHOLDING_MISSING"),
        ({"lines": [line(withholding_code="602")]}, "WITHHOLDING_NOT_ALLOWED"),
        (
            {"type": "TEVKIFAT", "lines": [line(withholding_code="612")]},
            "WITHHOLDING_PERCENT_MISSING",
        ),
        (
            {
                "type": "TEVKIFAT",
                "lines": [line(withholding_code="602", withholding_percent=D(50))],
            },
            "WITHHOLDING_PERCENT",
        ),
        ({"type": "TEVKIFAT", "lines": [line(withholding_code="999")]}, "WITHHOLDING_CODE"),
        ({"lines": [line(unit_code="ADET")]}, "UNIT_CODE"),
        ({"lines": [line(kdv_percent=D(0))]}, "EXEMPTION_MISSING"),
        ({"lines": [line(kdv_percent=D(0), exemption_code="301")]}, "EXEMPTION_FAMILY"),
        ({"lines": [line(kdv_percent=D(0), exemption_code="999")]}, "EXEMPTION_CODE"),
        ({"lines": [line(kdv_percent=D(0), exemption_code="250")]}, "EXEMPTION_FAMILY"),
        (
            {"type": "ISTISNA", "lines": [line(kdv_percent=D(0), exemption_code="351")]},
            "EXEMPTION_FAMILY_MISSING",
        ),
        ({"lines": [line(kdv_percent=D(17))]}, "KDV_RATE"),
        ({"currency": "USD"}, "EXCHANGE_RATE_MISSING"),
        ({"currency": "XXQ", "exchange_rate": D(1)}, "CURRENCY_CODE"),
        ({"exchange_rate": D(1)}, "EXCHANGE_RATE_TRY"),
        ({"profile": "KAMU"}, "KAMU_IBAN"),
        ({"profile": "IHRACAT", "type": "ISTISNA"}, "GTB_CUSTOMER"),
        ({"customer": GTB}, "GTB_PROFILE"),
        (
            {
                "profile": "IHRACAT",
                "type": "ISTISNA",
                "customer": GTB,
                "lines": [line(kdv_percent=D(0), exemption_code="301")],
            },
            "EXPORT_GTIP",
        ),
        ({"profile": "YOLCUBERABERFATURA", "customer": GTB}, "TAXFREE_BUYER"),
        ({"type": "SGK"}, "SGK_SUBTYPE"),
        ({"customer": Party(vkn="123", name="X", address=CUSTOMER.address)}, "VKN_FORMAT"),
        ({"customer": Party(vkn="9876543217", address=CUSTOMER.address)}, "PARTY_NAME_MISSING"),
        (
            {
                "customer": Party(
                    tckn="11111111111", first_name="A", family_name="B", address=CUSTOMER.address
                )
            },
            "TCKN_PLACEHOLDER",
        ),
        ({"sending_type": "KAGIT"}, "SENDING_TYPE"),
        ({"lines": [line(allowances_charges=[{"amount": D(500)}])]}, "LINE_NEGATIVE"),
    ],
)
def test_each_problem_is_found(kw: dict[str, Any], code: str) -> None:
    assert code in _codes(**kw)


def test_problems_are_collected_and_raised_together() -> None:
    d = draft(number=None, lines=[line(unit_code="ADET"), line(kdv_percent=D(0))])
    with pytest.raises(DraftError) as info:
        build_invoice(d)
    codes = [p.code for p in info.value.problems]
    assert codes == ["UNIT_CODE", "EXEMPTION_MISSING", "NUMBER_MISSING"]
    assert info.value.problems[0].where == "lines[0].unit_code"
    body = info.value.to_dict()
    assert body["code"] == "INVALID_DRAFT" and len(body["problems"]) == 3
    assert "(ve 2 sorun daha)" in body["message_tr"]


def test_earsiv_accepts_the_consumer_placeholder() -> None:
    consumer = Party(
        tckn="11111111111",
        first_name="Nihai",
        family_name="Tüketici",
        address=CUSTOMER.address,
        contact=Contact(email="alici@example.com.tr"),
    )
    xml = build_invoice(draft(profile="EARSIVFATURA", customer=consumer))
    assert b"SendingType" in xml and b"ELEKTRONIK" in xml
    assert check(xml).errors == []


def test_kamu_with_iban_builds_and_passes() -> None:
    d = draft(
        profile="KAMU", payment_means=[PaymentMeans(code="42", iban="TR330006100519786457841326")]
    )
    assert check(build_invoice(d)).errors == []


@pytest.mark.parametrize(
    "bad",
    [
        {"profile": "NOPE"},
        {"number": "abc2026000000001"},
        {"ettn": "123"},
        {"unknown_field": 1},
        {"lines": []},
        {"currency": "try"},
    ],
)
def test_model_refuses_malformed_fields(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        draft(**bad)


def test_party_refuses_two_identities() -> None:
    with pytest.raises(ValidationError):
        Party(vkn="9876543217", tckn="12345678950", name="X", address=CUSTOMER.address)


def test_document_allowance_larger_than_the_lines_is_refused() -> None:
    from decimal import Decimal

    from entegrator.documents import AllowanceCharge, DraftError, ensure_buildable
    from tests.documents.factory import draft

    d = draft()
    big = AllowanceCharge(charge=False, amount=Decimal("1000000"), reason="İskonto")
    with pytest.raises(DraftError) as err:
        ensure_buildable(d.model_copy(update={"allowances_charges": [big]}))
    assert "NEGATIVE_AMOUNT" in [p.code for p in err.value.problems]
