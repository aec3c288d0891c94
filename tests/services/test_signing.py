"""Signing with the installation's integrator seal for a tenant that has no seal of its own."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from entegrator.runtime import Runtime
from entegrator.services.seals import IntegratorSealError, load_integrator_seal
from entegrator.signing import SigningKey, verify
from entegrator.signing.certs import identity_of, to_pkcs12
from entegrator.store import repo
from tests.clock import now
from tests.testing.platform import DEV_CA, TenantHandle, make_settings, new_vkn

PASSWORD = b"gizli parola"


@dataclass
class Installation:
    runtime: Runtime  # configured with the integrator seal
    seal: SigningKey
    p12: Path
    other_vkn: str  # another integrator's, from ENTEGRATOR_INTEGRATOR_VKNS


@pytest.fixture
def installation(runtime: Runtime, tmp_path: Path) -> Iterator[Installation]:
    seal = DEV_CA.issue(identity=new_vkn(), name="Test Entegratör A.Ş.", now=now())
    p12 = tmp_path / "integrator.p12"
    p12.write_bytes(to_pkcs12(seal, PASSWORD))
    (tmp_path / "integrator.pass").write_bytes(PASSWORD + b"\n")
    other = new_vkn()
    rt = Runtime.from_settings(
        make_settings(
            runtime.database_url,
            tmp_path / "data",
            integrator_seal=p12,
            integrator_seal_password_file=tmp_path / "integrator.pass",
            integrator_vkns=f"{other}, ",
        )
    )
    yield Installation(rt, seal, p12, other)
    rt.close()


def _sign_one(inst: Installation, tenant: TenantHandle) -> tuple[bytes, dict[str, object]]:
    """Issue an invoice, sign it with the installation's worker side: (signed XML, the data
    of its ``signed`` event)."""
    with tenant.client() as c:
        doc = tenant.issue(c)
    outcome = inst.runtime.signing.sign(tenant.tenant_id, uuid.UUID(doc["id"]))
    assert (outcome.status, outcome.changed) == ("queued", True)
    with tenant.client() as c:
        xml = c.get(f"/api/v1/invoices/{doc['id']}/xml").content
    with inst.runtime.db.tenant(tenant.tenant_id) as conn:
        events = repo.list_events(conn, tenant.tenant_id, uuid.UUID(doc["id"]))
    return xml, next(dict(e.data) for e in events if e.type == "signed")


def test_a_tenant_without_a_seal_is_signed_with_the_integrator_seal(
    installation: Installation, make_tenant: Callable[..., TenantHandle]
) -> None:
    inst = installation
    own = identity_of(inst.seal.certificate)
    assert own is not None
    assert inst.runtime.integrators == {own, inst.other_vkn}
    tenant = make_tenant(seal=False)
    xml, signed = _sign_one(inst, tenant)
    assert signed["on_behalf"] is True
    assert signed["certificate_serial"] == format(inst.seal.certificate.serial_number, "x")
    found = verify(xml, trust=[DEV_CA.certificate], integrators=inst.runtime.integrators)
    assert [(f.code, f.severity.value) for f in found] == [("sig-integrator", "warning")]
    assert own in found[0].message_en
    # GİB's check, which knows no integrator here: 1176.
    assert [f.code for f in verify(xml, trust=[DEV_CA.certificate])] == ["sig-identity"]


def test_a_tenants_own_seal_comes_first(
    installation: Installation, make_tenant: Callable[..., TenantHandle]
) -> None:
    tenant = make_tenant()  # with its own seal
    xml, signed = _sign_one(installation, tenant)
    assert "on_behalf" not in signed
    assert verify(xml, trust=[DEV_CA.certificate]) == []


def _without_vkn() -> SigningKey:
    """A seal from the development CA whose subject carries no serialNumber."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Kimliksiz")]))
        .issuer_name(DEV_CA.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now() - dt.timedelta(minutes=5))
        .not_valid_after(now() + dt.timedelta(days=30))
        .sign(DEV_CA.key, hashes.SHA256())
    )
    return SigningKey(key, cert)


def test_an_unreadable_integrator_seal_names_its_file(
    installation: Installation, tmp_path: Path
) -> None:
    wrong = tmp_path / "wrong.pass"
    wrong.write_bytes(b"yanlis\n")
    with pytest.raises(IntegratorSealError) as bad_password:
        load_integrator_seal(installation.p12, wrong)
    assert str(installation.p12) in bad_password.value.text_en
    assert "password" in bad_password.value.text_en
    missing = tmp_path / "yok.p12"
    with pytest.raises(IntegratorSealError) as absent:
        load_integrator_seal(missing, None)
    assert str(missing) in absent.value.text_en
    nobody = tmp_path / "nobody.p12"
    nobody.write_bytes(to_pkcs12(_without_vkn(), PASSWORD))
    with pytest.raises(IntegratorSealError, match="VKN"):
        load_integrator_seal(nobody, tmp_path / "integrator.pass")
    assert load_integrator_seal(installation.p12, tmp_path / "integrator.pass").identity == (
        identity_of(installation.seal.certificate)
    )
