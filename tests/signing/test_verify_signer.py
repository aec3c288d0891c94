"""Who signed (``verify``): the issuer, a known integrator on the issuer's behalf, or someone
else; and ``any_signer`` for documents GİB has delivered."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest

from entegrator.documents import safe_xml
from entegrator.gib.checks import signature_code
from entegrator.rules import Severity, Source, Validator
from entegrator.signing import CertificateError, SigningKey, TestCA, sign, verify
from entegrator.signing.xades import issuer_identity
from tests.clock import now, validation_settings

INTEGRATOR_VKN = "1460415308"
INTEGRATOR_NAME = "Örnek Entegratör A.Ş."
STRANGER_VKN = "3230512384"


@pytest.fixture(scope="module")
def integrator_seal(ca: TestCA) -> SigningKey:
    return ca.issue(identity=INTEGRATOR_VKN, name=INTEGRATOR_NAME, now=now())


@pytest.fixture(scope="module")
def by_integrator(invoices: list[bytes], integrator_seal: SigningKey) -> bytes:
    """An invoice signed with the integrator's seal on its issuer's behalf."""
    return sign(invoices[2], integrator_seal, signing_time=now(), on_behalf=True)


def _found(xml: bytes, ca: TestCA, **kwargs: object) -> list[tuple[str, Severity]]:
    return sorted(
        (f.code, f.severity)
        for f in verify(xml, trust=[ca.certificate], **kwargs)  # type: ignore[arg-type]
    )


def test_the_issuers_own_seal_is_clean_whatever_the_integrators(
    invoices: list[bytes], seal_for: Callable[[bytes, str], SigningKey], ca: TestCA
) -> None:
    signed = sign(invoices[2], seal_for(invoices[2], "rsa"), signing_time=now())
    assert _found(signed, ca) == []
    assert _found(signed, ca, integrators={INTEGRATOR_VKN}) == []
    assert _found(signed, ca, any_signer=True) == []


def test_a_known_integrators_seal_is_a_warning_naming_it(by_integrator: bytes, ca: TestCA) -> None:
    found = verify(by_integrator, trust=[ca.certificate], integrators={INTEGRATOR_VKN})
    assert [(f.code, f.severity) for f in found] == [("sig-integrator", Severity.WARNING)]
    issuer = issuer_identity(safe_xml.parse(by_integrator))
    assert issuer and issuer != INTEGRATOR_VKN
    for message in (found[0].message_en, found[0].message_tr):
        assert INTEGRATOR_VKN in message
        assert INTEGRATOR_NAME in message
        assert issuer in message
    assert found[0].source is Source.SIGNATURE


def test_an_unknown_signer_is_gibs_1176(by_integrator: bytes, ca: TestCA) -> None:
    # The same seal, not known as an integrator's (another integrator's list, or none).
    for known in ((), {STRANGER_VKN}):
        found = verify(by_integrator, trust=[ca.certificate], integrators=known)
        assert [(f.code, f.severity) for f in found] == [("sig-identity", Severity.ERROR)]
        assert INTEGRATOR_VKN in found[0].message_en
        assert signature_code(found) == 1176


def test_any_signer_makes_another_seal_a_warning(by_integrator: bytes, ca: TestCA) -> None:
    assert _found(by_integrator, ca, any_signer=True) == [("sig-identity", Severity.WARNING)]
    assert _found(by_integrator, ca, any_signer=True, integrators=[INTEGRATOR_VKN]) == [
        ("sig-integrator", Severity.WARNING)
    ]


def test_any_signer_still_refuses_a_broken_or_untrusted_signature(
    by_integrator: bytes, ca: TestCA
) -> None:
    amount = re.search(rb'(<cbc:PayableAmount currencyID="\w+">)([0-9.]+)<', by_integrator)
    assert amount is not None
    tampered = by_integrator.replace(
        amount.group(0), amount.group(1) + b"9" + amount.group(2) + b"<", 1
    )
    found = verify(tampered, trust=[ca.certificate], any_signer=True)
    errors = [f for f in found if f.severity is Severity.ERROR]
    assert [f.code for f in errors] == ["sig-digest"]
    assert signature_code(errors) == 1177
    other_ca = TestCA.create("Başka SM", now=now())
    untrusted = verify(by_integrator, trust=[other_ca.certificate], any_signer=True)
    assert [f.code for f in untrusted if f.severity is Severity.ERROR] == ["sig-untrusted"]


def test_a_pointer_naming_a_third_party_is_1176(
    invoices: list[bytes], seal_for: Callable[[bytes, str], SigningKey], ca: TestCA
) -> None:
    xml = invoices[2]
    issuer = issuer_identity(safe_xml.parse(xml))
    assert issuer
    pointer = re.search(rb"(<cac:Signature>\s*<cbc:ID[^>]*>)(\d+)<", xml)
    assert pointer is not None and pointer.group(2).decode() == issuer
    moved = xml.replace(pointer.group(0), pointer.group(1) + STRANGER_VKN.encode() + b"<", 1)
    signed = sign(moved, seal_for(xml, "rsa"), signing_time=now())
    assert _found(signed, ca) == [("sig-identity", Severity.ERROR)]
    assert _found(signed, ca, any_signer=True) == [("sig-identity", Severity.WARNING)]


def test_the_validator_knows_its_integrators(by_integrator: bytes, ca: TestCA) -> None:
    def signature_findings(integrators: frozenset[str]) -> list[tuple[str, Severity]]:
        settings = validation_settings(trust=(ca.certificate,), integrators=integrators)
        report = Validator(settings=settings).validate(by_integrator)
        return [(f.code, f.severity) for f in report.findings if f.source is Source.SIGNATURE]

    assert signature_findings(frozenset({INTEGRATOR_VKN})) == [("sig-integrator", Severity.WARNING)]
    assert signature_findings(frozenset()) == [("sig-identity", Severity.ERROR)]


def test_signing_on_behalf_still_needs_a_valid_seal_with_a_vkn(
    invoices: list[bytes], ca: TestCA
) -> None:
    moment = now()
    expired = ca.issue(
        identity=INTEGRATOR_VKN,
        name=INTEGRATOR_NAME,
        not_before=moment - dt.timedelta(days=800),
        not_after=moment - dt.timedelta(days=1),
        now=moment,
    )
    with pytest.raises(CertificateError, match="expired"):
        sign(invoices[2], expired, signing_time=moment, on_behalf=True)
    with pytest.raises(CertificateError, match=INTEGRATOR_VKN):
        sign(
            invoices[2],
            ca.issue(identity=INTEGRATOR_VKN, name=INTEGRATOR_NAME, now=moment),
            signing_time=moment,
        )
