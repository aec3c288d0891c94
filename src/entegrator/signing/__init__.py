"""Signing with the financial seal (mali mühür): XAdES-BES, PKCS#12 keys, test CA, verification.

>>> from entegrator.signing import TestCA, sign, verify
"""

from entegrator.signing.certs import SigningKey, TestCA, identity_of, load_pkcs12
from entegrator.signing.errors import CertificateError, KeyFileError, NotSignableError, SigningError
from entegrator.signing.verify import verify
from entegrator.signing.xades import sign, sign_tree

__all__ = [
    "CertificateError",
    "KeyFileError",
    "NotSignableError",
    "SigningError",
    "SigningKey",
    "TestCA",
    "identity_of",
    "load_pkcs12",
    "sign",
    "sign_tree",
    "verify",
]
