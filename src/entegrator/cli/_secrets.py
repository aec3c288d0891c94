"""Secrets the command line reads: a PKCS#12 password from an environment variable or a file.

Never from the command line itself (it would show in ``ps`` and in shell history). The signing
core takes the password as bytes; reading it is the edge's job.
"""

from __future__ import annotations

import os
from pathlib import Path

from entegrator.signing.errors import KeyFileError

__all__ = ["read_password"]


def read_password(*, env: str | None = None, file: Path | None = None) -> bytes:
    """The PKCS#12 password from the environment variable ``env`` or the file ``file``.

    Neither given: the empty password. A file's trailing newline is not part of the password.
    """
    if env:
        value = os.environ.get(env)
        if value is None:
            raise KeyFileError(
                detail_tr=f"{env} ortam değişkeni tanımlı değil",
                detail_en=f"the environment variable {env} is not set",
            )
        return value.encode()
    if file is not None:
        try:
            return file.read_bytes().rstrip(b"\r\n")
        except OSError as exc:
            raise KeyFileError(
                detail_tr=f"parola dosyası okunamadı: {exc.strerror}",
                detail_en=f"the password file cannot be read: {exc.strerror}",
            ) from None
    return b""
