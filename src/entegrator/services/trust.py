"""Whose signatures the platform trusts, and the development CA that test seals come from.

Documents delivered to us through GİB must be signed by a certificate that chains to one of
the configured trust anchors (``ENTEGRATOR_GIB_TRUST_ANCHORS``): Kamu SM's roots in
production, the development CA in tests and demos. The development CA is a pair of PEM files
(``test-ca.crt`` and ``test-ca.key``) made once and shared by every process that points at
it, so that a seal issued by one process verifies in another.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

from cryptography import x509

from entegrator.errors import EntegratorError
from entegrator.signing.certs import TestCA

__all__ = ["TrustConfigError", "development_ca", "load_anchors"]

# One certificate file is small; a folder of anchors is a handful of them.
_MAX_ANCHOR_BYTES = 1024 * 1024
_MAX_ANCHORS = 200


class TrustConfigError(EntegratorError):
    code = "TRUST_ANCHORS_INVALID"
    message_tr = "Güvenilen sertifikalar okunamadı ({path}): {detail}"
    message_en = "The trust anchors cannot be read ({path}): {detail}"
    http_status = 500
    exit_code = 2


def load_anchors(path: Path) -> tuple[x509.Certificate, ...]:
    """Every certificate in a PEM file, or in the ``.pem``/``.crt``/``.cer`` files of a
    folder; raises :class:`TrustConfigError` when there is none or one cannot be read."""
    files = (
        sorted(p for p in path.iterdir() if p.suffix.lower() in (".pem", ".crt", ".cer"))
        if path.is_dir()
        else [path]
    )
    found: list[x509.Certificate] = []
    for file in files[:_MAX_ANCHORS]:
        try:
            data = file.read_bytes()[:_MAX_ANCHOR_BYTES]
            found.extend(x509.load_pem_x509_certificates(data))
        except (OSError, ValueError) as exc:
            raise TrustConfigError(path=str(file), detail=str(exc) or type(exc).__name__) from None
    if not found:
        raise TrustConfigError(path=str(path), detail="no PEM certificate")
    return tuple(found[:_MAX_ANCHORS])


def development_ca(cert_path: Path) -> TestCA:
    """The development CA kept at ``cert_path`` (its key beside it, ``.key``), made on first
    use. Several processes may ask at once: the first to link its files wins."""
    key_path = cert_path.with_suffix(".key")
    if not cert_path.exists():
        cert_path.parent.mkdir(parents=True, exist_ok=True)
        cert_pem, key_pem = TestCA.create(
            "entegrator Test SM", now=dt.datetime.now(dt.UTC)
        ).to_pem()
        suffix = f".{os.getpid()}.tmp"
        tmp_key, tmp_cert = key_path.with_suffix(suffix + "k"), cert_path.with_suffix(suffix)
        fd = os.open(tmp_key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key_pem)
        tmp_cert.write_bytes(cert_pem)
        try:  # the key first: a certificate on disk always has its key beside it
            os.link(tmp_key, key_path)
            os.link(tmp_cert, cert_path)
        except FileExistsError:
            pass
        finally:
            tmp_key.unlink()
            tmp_cert.unlink()
    for _ in range(50):  # another process linked the key and is about to link the certificate
        if cert_path.exists():
            break
        time.sleep(0.1)
    try:
        return TestCA.from_pem(cert_path.read_bytes(), key_path.read_bytes())
    except (OSError, ValueError) as exc:
        raise TrustConfigError(path=str(cert_path), detail=str(exc) or type(exc).__name__) from None
