"""Files, passwords and seals named on the command line, read with errors that say which.

Every failure here ends the command with exit code 2 and a code, a Turkish and an English
message, and ``where``: the file (or the option) at fault. Nothing reaches the user as a
traceback.
"""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from entegrator.cli._errors import fail

if TYPE_CHECKING:
    from cryptography import x509

    from entegrator.signing import SigningKey

__all__ = [
    "make_folder",
    "read_anchors",
    "read_input",
    "read_password",
    "read_seal",
    "write_output",
]


def read_input(path: Path, *, limit: int | None = None) -> bytes:
    """The bytes of ``path`` (``-``: standard input), at most ``limit`` of them."""
    if str(path) == "-":
        data = sys.stdin.buffer.read(limit + 1 if limit is not None else -1)
    else:
        try:
            size = path.stat().st_size
            if limit is not None and size > limit:
                _too_large(path, limit)
            data = path.read_bytes()
        except OSError as exc:
            _unreadable(path, exc)
    if limit is not None and len(data) > limit:
        _too_large(path, limit)
    return data


def _too_large(path: Path, limit: int) -> None:
    fail(
        "FILE_TOO_LARGE",
        f"Dosya {limit} bayttan büyük: {path}",
        f"The file is larger than {limit} bytes: {path}",
        where=str(path),
    )


def _unreadable(path: Path, exc: OSError) -> None:
    if exc.errno == errno.ENOENT:
        fail(
            "FILE_NOT_FOUND",
            f"Dosya bulunamadı: {path}",
            f"File not found: {path}",
            where=str(path),
        )
    reason = exc.strerror or type(exc).__name__
    fail(
        "FILE_UNREADABLE",
        f"Dosya okunamadı: {path} ({reason})",
        f"Cannot read the file {path} ({reason})",
        where=str(path),
    )


def make_folder(path: Path) -> None:
    """Create the folder ``path`` (and its parents) for output files."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        fail(
            "OUTPUT_UNWRITABLE",
            f"Klasör oluşturulamadı: {path} ({reason})",
            f"Cannot create the folder {path} ({reason})",
            where=str(path),
        )


def write_output(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Write ``data`` to ``path`` (its folder must exist)."""
    try:
        path.write_bytes(data)
        if mode is not None:
            path.chmod(mode)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        fail(
            "OUTPUT_UNWRITABLE",
            f"Dosya yazılamadı: {path} ({reason})",
            f"Cannot write the file {path} ({reason})",
            where=str(path),
        )


def read_password(env: str | None, file: Path | None) -> bytes:
    """A PKCS#12 password from ``--password-env`` or ``--password-file`` (one is required)."""
    if env is not None and file is not None:
        fail(
            "INVALID_OPTIONS",
            "--password-env ile --password-file birlikte verilemez; birini seçin",
            "--password-env and --password-file do not go together; give one",
            where="--password-file",
        )
    if env is not None:
        value = os.environ.get(env)
        if value is None:
            fail(
                "PASSWORD_MISSING",
                f"{env} ortam değişkeni tanımlı değil (--password-env parolayı orada arar)",
                f"The environment variable {env} is not set (--password-env reads it)",
                where="--password-env",
            )
        return value.encode()
    if file is not None:
        return read_input(file).rstrip(b"\r\n")
    fail(
        "PASSWORD_MISSING",
        "Parola --password-env ya da --password-file ile verilmeli (komut satırında değil)",
        "Give the password with --password-env or --password-file (never on the command line)",
        where="--password-file",
    )


def read_seal(path: Path, password: bytes) -> SigningKey:
    """A seal from its PKCS#12 file; a wrong password or a damaged file names the file."""
    from entegrator.signing import KeyFileError, load_pkcs12

    data = read_input(path)
    try:
        return load_pkcs12(data, password)
    except KeyFileError as exc:
        fail(exc.code, exc.text_tr, exc.text_en, where=str(path))


def read_anchors(paths: list[Path]) -> list[x509.Certificate]:
    """Trusted CA certificates from PEM files; a file without one names the file."""
    from cryptography import x509

    anchors: list[x509.Certificate] = []
    for path in paths:
        try:
            anchors.extend(x509.load_pem_x509_certificates(read_input(path)))
        except ValueError:
            fail(
                "CERTIFICATE_FILE_INVALID",
                f"Dosyada PEM biçiminde sertifika yok: {path}",
                f"The file holds no PEM certificate: {path}",
                where=str(path),
            )
    return anchors
