"""The CLI reads seal passwords from the environment or a file, never the command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from entegrator.cli._secrets import read_password
from entegrator.signing.errors import KeyFileError


def test_password_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MUHUR_PAROLA", "gizli şifre")
    assert read_password(env="MUHUR_PAROLA") == "gizli şifre".encode()


def test_password_from_a_file_without_its_newline(tmp_path: Path) -> None:
    file = tmp_path / "parola"
    file.write_bytes(b"gizli\r\n")
    assert read_password(file=file) == b"gizli"


def test_missing_sources_are_errors(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("MUHUR_PAROLA", raising=False)
    with pytest.raises(KeyFileError, match="MUHUR_PAROLA"):
        read_password(env="MUHUR_PAROLA")
    with pytest.raises(KeyFileError):
        read_password(file=tmp_path / "yok")
    assert read_password() == b""
