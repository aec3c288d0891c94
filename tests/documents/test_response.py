"""ApplicationResponse: system responses and KABUL/RED, against GİB's rules and the oracle."""

from __future__ import annotations

import datetime as dt

import pytest

from entegrator.documents.errors import ParseError, UnsafeXMLError
from entegrator.documents.response import (
    ResponseParty,
    build_application_response,
    build_system_response,
    read_response,
)
from entegrator.rules import Validator
from entegrator.signing import TestCA, sign, verify
from tests import oracle
from tests.clock import now, validation_settings

SUPPLIER = ResponseParty("8799758740", "Örnek Yazılım A.Ş.", tax_office="Çankaya")
BUYER = ResponseParty("7047649710", "Işık Tekstil A.Ş.", tax_office="Nilüfer")
PERSON = ResponseParty("12345678950", "Ayşe Yılmaz")
ENVELOPE = "0BD6B1A3-0F5C-4A56-8D2A-6B0F8B9B7C11"
ETTN = "78B5BFE5-3B65-4077-9CA7-AA0CECCE84B4"


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator(settings=validation_settings())


@pytest.mark.parametrize(("code", "text"), [(1200, "BAŞARIYLA İŞLENDİ"), (1150, "Şematron")])
def test_system_responses_pass_gibs_rules(validator: Validator, code: int, text: str) -> None:
    xml = build_system_response(
        envelope_id=ENVELOPE,
        envelope_type="SENDERENVELOPE",
        code=code,
        description=text,
        sender=BUYER,
        receiver=SUPPLIER,
        envelope_date=dt.date(2026, 11, 24),
        issued=now(),
    )
    report = validator.validate(xml)
    assert report.valid, [f.code for f in report.findings]
    assert oracle.check(xml).valid
    facts = read_response(xml)
    assert facts.system and facts.status_code == code
    assert (facts.reference, facts.sender, facts.receiver) == (
        ENVELOPE,
        BUYER.identifier,
        SUPPLIER.identifier,
    )
    assert facts.profile == "UBL-TR-PROFILE-1"


@pytest.mark.parametrize("answer", ["KABUL", "RED", "IADE"])
@pytest.mark.parametrize("buyer", [BUYER, PERSON], ids=["vkn", "tckn"])
def test_business_answers_pass_gibs_rules_and_sign(
    validator: Validator, answer: str, buyer: ResponseParty
) -> None:
    xml = build_application_response(
        answer=answer,  # type: ignore[arg-type]
        invoice_ettn=ETTN,
        invoice_date=dt.date(2026, 11, 20),
        sender=buyer,
        receiver=SUPPLIER,
        reason="Fiyat farkı" if answer != "KABUL" else None,
        issued=now(),
    )
    report = validator.validate(xml)
    assert report.valid, [(f.code, f.message_en) for f in report.findings]
    assert oracle.check(xml).valid
    facts = read_response(xml)
    assert (facts.response_code, facts.reference, facts.status_code) == (answer, ETTN, None)
    if answer == "RED":
        assert facts.description == "Fiyat farkı"
    seal = TestCA.create(now=now()).issue(identity=buyer.identifier, name=buyer.name, now=now())
    signed = sign(xml, seal, signing_time=now())
    assert verify(signed) == []
    assert validator.validate(signed).valid
    assert oracle.check(signed).valid


def test_reading_something_else_is_a_clear_error() -> None:
    with pytest.raises(ParseError):
        read_response(b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"/>')
    with pytest.raises(UnsafeXMLError):
        read_response(b'<!DOCTYPE x [<!ENTITY e "e">]><x>&e;</x>')
