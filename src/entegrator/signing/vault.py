"""Seals at rest: the private key encrypted (AES-256-GCM) under the installation's key.

The ciphertext is bound to its tenant (associated data), so a row copied to another tenant
does not decrypt. Only this module turns the stored bytes back into a usable key.

>>> import datetime as dt
>>> from entegrator.signing.certs import TestCA
>>> now = dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC)
>>> seal = TestCA.create(now=now).issue(identity="9876543217", name="Örnek A.Ş.", now=now)
>>> master = bytes(32)
>>> sealed = lock(seal, master, tenant="t1")
>>> unlock(sealed, master, tenant="t1").certificate == seal.certificate
True
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from entegrator.signing.certs import SigningKey
from entegrator.signing.errors import KeyFileError

__all__ = ["LockedSeal", "lock", "unlock"]


@dataclass(frozen=True)
class LockedSeal:
    certificate: bytes  # DER
    chain: tuple[bytes, ...]  # DER
    nonce: bytes
    ciphertext: bytes


def lock(seal: SigningKey, master: bytes, *, tenant: str) -> LockedSeal:
    der = seal.private_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    nonce = os.urandom(12)
    return LockedSeal(
        certificate=seal.certificate.public_bytes(serialization.Encoding.DER),
        chain=tuple(c.public_bytes(serialization.Encoding.DER) for c in seal.chain),
        nonce=nonce,
        ciphertext=AESGCM(master).encrypt(nonce, der, tenant.encode()),
    )


def unlock(locked: LockedSeal, master: bytes, *, tenant: str) -> SigningKey:
    try:
        der = AESGCM(master).decrypt(locked.nonce, locked.ciphertext, tenant.encode())
    except InvalidTag:
        raise KeyFileError(
            detail_tr="mühür anahtarı çözülemedi: kurulum anahtarı (ENTEGRATOR_SECRET_KEY) farklı",
            detail_en="the seal's key does not decrypt: the installation key "
            "(ENTEGRATOR_SECRET_KEY) differs",
        ) from None
    key = serialization.load_der_private_key(der, password=None)
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise KeyFileError(
            detail_tr="desteklenmeyen anahtar türü", detail_en="unsupported key type"
        )
    return SigningKey(
        private_key=key,
        certificate=x509.load_der_x509_certificate(locked.certificate),
        chain=tuple(x509.load_der_x509_certificate(c) for c in locked.chain),
    )
