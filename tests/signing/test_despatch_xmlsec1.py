"""Signed e-İrsaliye documents verify with libxmlsec1 (``xmlsec1 --verify``) as well as with
our verifier: every despatch scenario and its answer, with RSA and EC seals; a document changed
after signing is refused by both."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from entegrator.documents.build import build_despatch, build_receipt
from entegrator.documents.despatch_samples import SCENARIOS, generate_receipts
from entegrator.signing import SigningKey, TestCA, sign, verify
from tests.clock import now
from tests.signing import xmlsec1

PAIRS = list(generate_receipts(len(SCENARIOS) * 3, seed=31))


def _signed(
    index: int, kind: str, key_type: str, seal_for: Callable[[bytes, str], SigningKey]
) -> bytes:
    despatch, receipt = PAIRS[index]
    xml = build_despatch(despatch) if kind == "despatch" else build_receipt(receipt, despatch)
    return sign(xml, seal_for(xml, key_type), signing_time=now())


def test_the_samples_cover_every_scenario_and_shipment() -> None:
    despatches = [d for d, _ in PAIRS]
    assert {(d.profile, d.type) for d in despatches} == set(SCENARIOS)
    assert {(bool(d.shipment.drivers), d.shipment.carrier is not None) for d in despatches} == {
        (True, False),
        (False, True),
        (True, True),
    }


@pytest.mark.parametrize("key_type", ["rsa", "ec"])
@pytest.mark.parametrize("kind", ["despatch", "receipt"])
@pytest.mark.parametrize("index", range(len(PAIRS)))
def test_signed_despatches_and_answers_verify_with_xmlsec1(
    index: int,
    kind: str,
    *,
    key_type: str,
    seal_for: Callable[[bytes, str], SigningKey],
    ca: TestCA,
    tmp_path: Path,
) -> None:
    signed = _signed(index, kind, key_type, seal_for)
    path = tmp_path / f"{kind}.xml"
    path.write_bytes(signed)
    verdict = xmlsec1.verify_file(path)
    assert verdict.valid, verdict.output
    assert verify(signed, trust=[ca.certificate]) == []


@pytest.mark.parametrize("kind", ["despatch", "receipt"])
def test_a_changed_signed_document_fails_xmlsec1_and_ours(
    kind: str, seal_for: Callable[[bytes, str], SigningKey], tmp_path: Path
) -> None:
    signed = _signed(0, kind, "rsa", seal_for)
    tag = b"<cbc:DeliveredQuantity" if kind == "despatch" else b"<cbc:ReceivedQuantity"
    start = signed.index(b">", signed.index(tag)) + 1
    changed = signed[:start] + b"9" + signed[start:]
    path = tmp_path / f"{kind}.xml"
    path.write_bytes(changed)
    assert not xmlsec1.verify_file(path).valid
    assert not xmlsec1.crypto_valid(verify(changed))
