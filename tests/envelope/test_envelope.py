"""Envelopes: build, zip, hash, open; GİB's rules on them; hostile zips refused with GİB's code."""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Callable

import pytest
from efatura_kontrol.kontrol import kontrol_et

from entegrator.documents import build_invoice, safe_xml
from entegrator.documents.samples import generate
from entegrator.envelope import EnvelopeError, EnvelopeType, build, pack, parse, to_xml, unpack
from entegrator.rules import Validator
from entegrator.signing import SigningKey, TestCA, sign, verify
from entegrator.signing.xades import issuer_identity
from tests.clock import now, validation_settings

GB = "urn:mail:defaultgb@entegrator.example"
PK = "urn:mail:defaultpk@alici.example"


@pytest.fixture(scope="module")
def ca() -> TestCA:
    return TestCA.create(now=now())


@pytest.fixture(scope="module")
def signed_pair(ca: TestCA) -> list[bytes]:
    """Two signed invoices from one supplier to one customer (TEMELFATURA)."""
    first = next(
        d for d in generate(30, seed=4) if d.profile == "TEMELFATURA" and len(d.lines) < 30
    )
    assert first.number is not None
    second = first.model_copy(
        update={"number": first.number[:-1] + "9", "ettn": "6f1e3c1a-2b7d-4c61-9a43-8e2f0b9c7d15"}
    )
    seal: SigningKey | None = None
    out = []
    for draft in (first, second):
        xml = build_invoice(draft)
        if seal is None:
            identity = issuer_identity(safe_xml.parse(xml))
            assert identity
            seal = ca.issue(identity=identity, name="Gönderen A.Ş.", key_type="ec", now=now())
        out.append(sign(xml, seal, signing_time=now()))
    return out


def test_round_trip_keeps_signatures_and_passes_gibs_rules(
    signed_pair: list[bytes], ca: TestCA
) -> None:
    envelope = build(signed_pair, sender_alias=GB, receiver_alias=PK, created=now())
    packed = pack(envelope)
    assert packed.name == f"{envelope.id}.zip"
    assert packed.md5 == hashlib.md5(packed.data).hexdigest()
    assert packed.md5 == packed.md5.lower()
    with zipfile.ZipFile(io.BytesIO(packed.data)) as archive:
        assert archive.namelist() == [f"{envelope.id}.xml"]
    opened, xml = unpack(packed.data, name=packed.name)
    assert opened.id == envelope.id and opened.type is EnvelopeType.SENDERENVELOPE
    assert opened.sender == envelope.sender and opened.receiver == envelope.receiver
    assert len(opened.documents) == 2
    for document in opened.documents:
        assert verify(document, trust=[ca.certificate]) == []
    report = Validator(settings=validation_settings()).validate(xml)
    assert report.kind == "envelope" and report.valid, report.codes()
    assert kontrol_et(xml).gecerli
    assert parse(to_xml(opened)).documents == opened.documents


def test_gib_rules_on_the_envelope_see_a_wrong_sender(signed_pair: list[bytes]) -> None:
    envelope = build(signed_pair[:1], sender_alias=GB, receiver_alias=PK, created=now())
    xml = to_xml(envelope).replace(
        f"<sh:Contact>{envelope.sender.identity}</sh:Contact>".encode(),
        b"<sh:Contact>1460415308</sh:Contact>",
        1,
    )
    codes = Validator(settings=validation_settings()).validate(xml).codes()
    assert any(c.startswith("sch-DocumentSenderCheck") for c in codes)


def test_build_refuses_what_gib_refuses(signed_pair: list[bytes], ca: TestCA) -> None:
    with pytest.raises(EnvelopeError):
        build([], sender_alias=GB, receiver_alias=PK, created=now())
    with pytest.raises(EnvelopeError, match="cannot carry INVOICE"):
        build(
            signed_pair,
            sender_alias=GB,
            receiver_alias=PK,
            type=EnvelopeType.POSTBOXENVELOPE,
            created=now(),
        )
    other = next(d for d in generate(30, seed=9) if d.profile == "TEMELFATURA")
    other_xml = build_invoice(other)
    with pytest.raises(EnvelopeError, match="one issuer to one recipient"):
        build([signed_pair[0], other_xml], sender_alias=GB, receiver_alias=PK, created=now())
    too_many = [signed_pair[0]] * 101
    with pytest.raises(EnvelopeError, match="at most 100"):
        build(too_many, sender_alias=GB, receiver_alias=PK, created=now())


def _zip(entries: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=method) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _code(call: Callable[[], object]) -> int | None:
    with pytest.raises(EnvelopeError) as err:
        call()
    return err.value.gib_code


def test_hostile_zips_get_gibs_codes(signed_pair: list[bytes]) -> None:
    envelope = build(signed_pair[:1], sender_alias=GB, receiver_alias=PK, created=now())
    xml = to_xml(envelope)
    good = f"{envelope.id}.xml"
    assert _code(lambda: unpack(b"not a zip at all")) == 1110
    assert _code(lambda: unpack(_zip({good: xml, "extra.xml": xml}))) == 1131
    assert _code(lambda: unpack(_zip({f"../../etc/{good}": xml}))) == 1131
    assert _code(lambda: unpack(_zip({f"sub/{good}": xml}))) == 1131
    assert _code(lambda: unpack(_zip({good: b"plain text, not xml"}))) == 1132
    assert _code(lambda: unpack(_zip({"other-name.xml": xml}))) == 1133
    assert _code(lambda: unpack(_zip({good: xml}), name="wrong.zip")) == 1142
    bomb = _zip({good: b"<a>" + b"0" * (20 * 1024 * 1024) + b"</a>"})
    assert len(bomb) < 100_000
    assert _code(lambda: unpack(bomb, max_bytes=1024 * 1024)) == 1130
    truncated = _zip({good: xml})[:-30]
    assert _code(lambda: unpack(truncated)) in (1110, 1130)
    hostile_xml = b'<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>'
    assert _code(lambda: unpack(_zip({good: hostile_xml}))) == 1132


def test_validating_an_envelope_checks_the_documents_inside(
    signed_pair: list[bytes], ca: TestCA
) -> None:
    xml = to_xml(build(signed_pair, sender_alias=GB, receiver_alias=PK, created=now()))
    clean = Validator(settings=validation_settings()).validate(xml)
    assert clean.valid, clean.codes()
    import re

    amount = re.search(rb'(<cbc:PayableAmount currencyID="\w+">)([0-9.]+)<', xml)
    assert amount is not None
    tampered = xml.replace(amount.group(0), amount.group(1) + b"1" + amount.group(2) + b"<", 1)
    codes = Validator(settings=validation_settings()).validate(tampered).codes()
    assert "sig-digest" in codes and "arith-payable" in codes
