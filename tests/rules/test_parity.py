"""Parity: our verdicts equal the independent oracle's (efatura-kontrol, GİB's XSD + schematron).

On valid samples, on the public corpus and on a corpus of realistic mistakes, the XSD and
schematron findings of entegrator's compiled engine, of its Saxon engine and of efatura-kontrol
are the same codes, so the verdicts are the same; our arithmetic and identity layers add their
own findings on top, and each mutation must produce the findings it names.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from efatura_kontrol.kontrol import kontrol_et

from entegrator.documents import build_invoice
from entegrator.documents.samples import generate
from entegrator.rules import Report, Source, Validator
from tests.rules.mutations import MUTATIONS, Mutation, apply

GIB_SOURCES = (Source.XML, Source.XSD, Source.SCHEMATRON)


def _peer(xml: bytes) -> tuple[bool, Counter[str], set[str]]:
    report = kontrol_et(xml, ad="parity")
    sch = Counter(b.kod for b in report.bulgular if b.kaynak == "sematron")
    xsd = {b.kod for b in report.bulgular if b.kaynak == "xsd" and b.kod != "xsd-ozet"}
    return report.gecerli, sch, xsd


def _ours(report: Report) -> tuple[bool, Counter[str], set[str]]:
    gib_valid = not any(f.severity == "error" and f.source in GIB_SOURCES for f in report.findings)
    sch = Counter(f.code for f in report.findings if f.source is Source.SCHEMATRON)
    xsd = {f.code for f in report.findings if f.source is Source.XSD}
    return gib_valid, sch, xsd


def _assert_parity(xml: bytes, validator: Validator, saxon: Validator | None = None) -> Report:
    ours = validator.validate(xml)
    assert _ours(ours) == _peer(xml), ours.to_dict()
    if saxon is not None:
        reference = saxon.validate(xml)
        assert reference.codes() == ours.codes()
    return ours


@pytest.mark.parametrize("mutation", MUTATIONS, ids=[m.name for m in MUTATIONS])
def test_mutation_matches_the_oracle(
    mutation: Mutation, bases: dict[str, bytes], validator: Validator, saxon_validator: Validator
) -> None:
    xml = apply(mutation, bases[mutation.base])
    report = _assert_parity(xml, validator, saxon_validator)
    codes = report.codes()
    for expected in mutation.expect:
        assert any(c.startswith(expected) for c in codes), (expected, codes)


def test_there_are_at_least_thirty_kinds_of_mistakes() -> None:
    assert len({m.name for m in MUTATIONS}) >= 30


def test_every_mutation_base_is_valid(bases: dict[str, bytes], validator: Validator) -> None:
    for name, xml in bases.items():
        report = validator.validate(xml)
        assert report.valid and not report.findings, (name, report.to_dict())


def test_valid_samples_match_the_oracle(validator: Validator, saxon_validator: Validator) -> None:
    drafts = [d for d in generate(120, seed=23) if len(d.lines) <= 100]
    assert len(drafts) > 40
    for i, draft in enumerate(drafts):
        xml = build_invoice(draft)
        report = _assert_parity(xml, validator, saxon_validator if i % 4 == 0 else None)
        assert report.valid, report.to_dict()
        assert report.findings == []


def test_public_corpus_matches_the_oracle(
    corpus: Path, validator: Validator, saxon_validator: Validator
) -> None:
    files = sorted(corpus.glob("*.xml"))
    assert files
    for path in files:
        _assert_parity(path.read_bytes(), validator, saxon_validator)


def _envelope(
    invoice: bytes, *, type_version: str = "1.2", sender_vkn: str = "9876543217"
) -> bytes:
    body = invoice.split(b"?>", 1)[1] if invoice.startswith(b"<?xml") else invoice
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<sh:StandardBusinessDocument xmlns:sh="http://www.unece.org/cefact/namespaces/'
        b'StandardBusinessDocumentHeader" xmlns:ef="http://www.efatura.gov.tr/package-namespace"'
        b' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation='
        b'"http://www.efatura.gov.tr/envelope-namespace ../PackageProxy_1_2.xsd">'
        b"<sh:StandardBusinessDocumentHeader><sh:HeaderVersion>1.0</sh:HeaderVersion>"
        b"<sh:Sender><sh:Identifier>urn:mail:defaultgb@ornek.com.tr</sh:Identifier>"
        b"<sh:ContactInformation><sh:Contact>" + sender_vkn.encode() + b"</sh:Contact>"
        b"<sh:ContactTypeIdentifier>VKN_TCKN</sh:ContactTypeIdentifier>"
        b"</sh:ContactInformation></sh:Sender>"
        b"<sh:Receiver><sh:Identifier>urn:mail:defaultpk@alici.com.tr</sh:Identifier>"
        b"<sh:ContactInformation><sh:Contact>1234567890</sh:Contact>"
        b"<sh:ContactTypeIdentifier>VKN_TCKN</sh:ContactTypeIdentifier>"
        b"</sh:ContactInformation></sh:Receiver>"
        b"<sh:DocumentIdentification><sh:Standard>UBL-TR</sh:Standard><sh:TypeVersion>"
        + type_version.encode()
        + b"</sh:TypeVersion><sh:InstanceIdentifier>3f2504e0-4f89-41d3-9a0c-0305e82c3301"
        b"</sh:InstanceIdentifier><sh:Type>SENDERENVELOPE</sh:Type>"
        b"<sh:CreationDateAndTime>2026-11-24T10:00:00</sh:CreationDateAndTime>"
        b"</sh:DocumentIdentification></sh:StandardBusinessDocumentHeader>"
        b"<ef:Package><Elements><ElementType>INVOICE</ElementType><ElementCount>1</ElementCount>"
        b"<ElementList>" + body + b"</ElementList></Elements></ef:Package>"
        b"</sh:StandardBusinessDocument>"
    )


@pytest.mark.parametrize("type_version", ["1.2", "1.0"])
def test_envelopes_match_the_oracle(
    type_version: str,
    bases: dict[str, bytes],
    validator: Validator,
    saxon_validator: Validator,
) -> None:
    xml = _envelope(bases["satis"], type_version=type_version)
    report = _assert_parity(xml, validator, saxon_validator)
    assert report.kind == "envelope"
    assert report.profile == "TEMELFATURA"
    if type_version == "1.0":
        assert "sch-TypeVersionCheck-1" in report.codes()
