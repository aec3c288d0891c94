"""Certificates: PKCS#12 seals, their identity (VKN/TCKN), and a test CA for development.

A mali mühür is issued to a VKN (subject ``serialNumber`` = the 10-digit VKN); a personal
qualified certificate (NES) carries the 11-digit TCKN the same way (``signing.md`` §1). Both
usually arrive as a PKCS#12 file and a password (the caller reads it: the core reads no
environment and no file).

Time is an argument: the test CA's certificates are valid around the ``now`` the caller passes.

>>> import datetime as dt
>>> now = dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC)
>>> ca = TestCA.create("Test Kök SM", now=now)
>>> seal = ca.issue(identity="9876543217", name="Örnek Yazılım A.Ş.", now=now)
>>> identity_of(seal.certificate)
'9876543217'
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import ClassVar

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from entegrator.signing.errors import CertificateError, KeyFileError

__all__ = [
    "KEY_TYPES",
    "SigningKey",
    "TestCA",
    "identity_of",
    "load_pkcs12",
]

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
KEY_TYPES = ("rsa", "ec")
# Mali mühür policy OID seen on production seals (signing.md §1); test certificates carry it
# so that they are shaped like real ones.
SEAL_POLICY = x509.ObjectIdentifier("2.16.792.1.2.1.1.5.7.4.1")


@dataclass(frozen=True)
class SigningKey:
    """A private key, its certificate and the chain that came with it."""

    private_key: PrivateKey
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...] = field(default_factory=tuple)

    @property
    def identity(self) -> str | None:
        return identity_of(self.certificate)


def identity_of(cert: x509.Certificate) -> str | None:
    """The VKN (10 digits) or TCKN (11 digits) in the subject's serialNumber, if any."""
    for attr in cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER):
        value = str(attr.value).strip()
        for prefix in ("VKN", "TCKN", "TINTR-", "IDCTR-"):
            value = value.removeprefix(prefix)
        if value.isdigit() and len(value) in (10, 11):
            return value
    return None


def _new_key(key_type: str) -> PrivateKey:
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if key_type == "ec":
        return ec.generate_private_key(ec.SECP384R1())
    raise CertificateError(
        detail_tr=f"bilinmeyen anahtar türü {key_type} (rsa ya da ec)",
        detail_en=f"unknown key type {key_type} (rsa or ec)",
    )


def _hash_for(key: PrivateKey) -> hashes.SHA256 | hashes.SHA384:
    return hashes.SHA384() if isinstance(key, ec.EllipticCurvePrivateKey) else hashes.SHA256()


@dataclass(frozen=True)
class TestCA:
    """A throw-away certificate authority for development and tests (never for production)."""

    __test__: ClassVar[bool] = False  # not a pytest test class, despite its name

    key: PrivateKey
    certificate: x509.Certificate

    @classmethod
    def create(
        cls,
        name: str = "entegrator Test SM",
        *,
        now: dt.datetime,
        key_type: str = "rsa",
        days: int = 3650,
    ) -> TestCA:
        """A new CA, valid from a day before ``now`` for ``days`` days."""
        key = _new_key(key_type)
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "TR"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "entegrator test"),
                x509.NameAttribute(NameOID.COMMON_NAME, name),
            ]
        )
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .sign(key, _hash_for(key))
        )
        return cls(key, cert)

    def issue(
        self,
        *,
        identity: str,
        name: str,
        now: dt.datetime,
        key_type: str = "rsa",
        not_before: dt.datetime | None = None,
        not_after: dt.datetime | None = None,
    ) -> SigningKey:
        """A seal certificate shaped like a real one: serialNumber = VKN/TCKN, CN = the title.

        Valid from ``not_before`` (default five minutes before ``now``) to ``not_after`` (default
        three years after ``now``).
        """
        if not (identity.isdigit() and len(identity) in (10, 11)):
            raise CertificateError(
                detail_tr=f"kimlik 10 haneli VKN ya da 11 haneli TCKN olmalı: {identity}",
                detail_en=f"the identity must be a 10-digit VKN or 11-digit TCKN: {identity}",
            )
        key = _new_key(key_type)
        start = not_before or now - dt.timedelta(minutes=5)
        end = not_after or now + dt.timedelta(days=3 * 365)
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "TR"),
                x509.NameAttribute(NameOID.SERIAL_NUMBER, identity),
                x509.NameAttribute(NameOID.COMMON_NAME, name),
            ]
        )
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=True,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.CertificatePolicies([x509.PolicyInformation(SEAL_POLICY, None)]), False
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), False
            )
            .sign(self.key, _hash_for(self.key))
        )
        return SigningKey(key, cert, (self.certificate,))

    def to_pem(self) -> tuple[bytes, bytes]:
        """(certificate PEM, unencrypted private key PEM) — test material only."""
        cert = self.certificate.public_bytes(serialization.Encoding.PEM)
        key = self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return cert, key

    @classmethod
    def from_pem(cls, cert_pem: bytes, key_pem: bytes) -> TestCA:
        key = serialization.load_pem_private_key(key_pem, password=None)
        if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise CertificateError(detail_tr="desteklenmeyen anahtar", detail_en="unsupported key")
        return cls(key, x509.load_pem_x509_certificate(cert_pem))


def to_pkcs12(seal: SigningKey, password: bytes, name: str = "seal") -> bytes:
    """The seal as a password-protected PKCS#12 file (AES-256, as current tools write it)."""
    encryption = (
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(50_000)
        .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC)
        .hmac_hash(hashes.SHA256())
        .build(password)
    )
    return pkcs12.serialize_key_and_certificates(
        name.encode(), seal.private_key, seal.certificate, list(seal.chain), encryption
    )


def load_pkcs12(data: bytes, password: bytes) -> SigningKey:
    """Read a PKCS#12 seal; a wrong password or a file without a key is a clear error."""
    try:
        key, cert, chain = pkcs12.load_key_and_certificates(data, password)
    except ValueError:
        raise KeyFileError(
            detail_tr="PKCS#12 dosyası okunamadı: parola yanlış ya da dosya bozuk",
            detail_en="the PKCS#12 file cannot be read: wrong password or damaged file",
        ) from None
    if key is None or cert is None:
        raise KeyFileError(
            detail_tr="PKCS#12 dosyasında özel anahtar ya da sertifika yok",
            detail_en="the PKCS#12 file holds no private key or no certificate",
        )
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise KeyFileError(
            detail_tr="yalnızca RSA ve ECDSA anahtarları desteklenir",
            detail_en="only RSA and ECDSA keys are supported",
        )
    return SigningKey(key, cert, tuple(chain))
