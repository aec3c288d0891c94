"""XAdES signing of e-İrsaliye documents: a despatch by its supplier, the answer by its
receiver; both verify and pass GİB's rules signed."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from efatura_kontrol.kontrol import kontrol_et

from entegrator.documents.build import build_despatch, build_receipt
from entegrator.documents.despatch_samples import generate_receipts
from entegrator.rules import Source, Validator
from entegrator.signing import CertificateError, SigningKey, TestCA, sign, verify
from tests.clock import now, validation_settings

PAIRS = list(generate_receipts(4, seed=21))


@pytest.mark.parametrize("index", range(len(PAIRS)))
def test_despatch_and_receipt_sign_and_verify(
    index: int, seal_for: Callable[[bytes, str], SigningKey], ca: TestCA
) -> None:
    despatch, receipt = PAIRS[index]
    for xml in (build_despatch(despatch), build_receipt(receipt, despatch)):
        signed = sign(xml, seal_for(xml, "rsa"), signing_time=now())
        assert b"<ds:Signature" in signed
        assert verify(signed, trust=[ca.certificate]) == []
        peer = kontrol_et(signed)
        assert peer.gecerli, [b.kod for b in peer.bulgular]
        assert [b.kod for b in peer.bulgular if b.kaynak == "imza"] == ["imza-var"]
        report = Validator(settings=validation_settings()).validate(signed)
        assert report.valid, report.codes()
        assert not [f for f in report.findings if f.source is Source.SIGNATURE]


def test_receipt_is_signed_by_the_receiver_not_the_supplier(
    seal_for: Callable[[bytes, str], SigningKey],
) -> None:
    despatch, receipt = PAIRS[0]
    supplier_seal = seal_for(build_despatch(despatch), "rsa")
    assert despatch.supplier.identifier != receipt.customer.identifier
    with pytest.raises(CertificateError, match="issuer"):
        sign(build_receipt(receipt, despatch), supplier_seal, signing_time=now())
