"""GİB document numbers (fatura/irsaliye numarası): series + year + sequence.

Sixteen characters, ``^[A-Z0-9]{3}20[0-9]{2}[0-9]{9}$`` (GİB rule ``InvoiceIDCheck``;
``shared/docs/gib/ubl-tr.md`` §3): a 3-character series prefix (A–Z, 0–9, no Turkish
letters), the 4-digit issue year, a 9-digit sequence that restarts each year.

>>> format_number("ABC", 2026, 1)
'ABC2026000000001'
>>> split("ABC2026000000042")
('ABC', 2026, 42)
>>> is_valid("abc2026000000001")
False
"""

from __future__ import annotations

import re

from entegrator.documents.errors import IdentifierError

__all__ = ["compact", "format_number", "is_valid", "split", "validate", "validate_series"]

_NUMBER = re.compile(r"^[A-Z0-9]{3}20[0-9]{2}[0-9]{9}$")
_SERIES = re.compile(r"^[A-Z0-9]{3}$")
MAX_SEQUENCE = 999_999_999


def compact(value: str) -> str:
    return value.strip()


def validate_series(series: str) -> str:
    """Return the series or raise: exactly 3 of A–Z / 0–9."""
    if not _SERIES.match(series):
        raise IdentifierError(
            kind="seri",
            value=series,
            reason_tr="3 karakter, yalnız A-Z ve 0-9 (Türkçe harf yok)",
            reason_en="3 characters of A-Z and 0-9 (no Turkish letters)",
        )
    return series


def format_number(series: str, year: int, sequence: int) -> str:
    """The 16-character number for ``sequence`` in ``series`` and ``year``."""
    validate_series(series)
    if not 2000 <= year <= 2099:
        raise IdentifierError(
            kind="yıl", value=str(year), reason_tr="20YY olmalı", reason_en="must be 20YY"
        )
    if not 1 <= sequence <= MAX_SEQUENCE:
        raise IdentifierError(
            kind="sıra",
            value=str(sequence),
            reason_tr="1 ile 999999999 arasında olmalı",
            reason_en="must be between 1 and 999999999",
        )
    return f"{series}{year:04d}{sequence:09d}"


def validate(value: str) -> str:
    """Return the number or raise :class:`IdentifierError`."""
    v = compact(value)
    if not _NUMBER.match(v):
        raise IdentifierError(
            kind="belge numarası",
            value=value,
            reason_tr="ABC2026000000001 biçiminde 16 karakter olmalı",
            reason_en="must be 16 characters like ABC2026000000001",
        )
    return v


def is_valid(value: str) -> bool:
    try:
        validate(value)
    except IdentifierError:
        return False
    return True


def split(value: str) -> tuple[str, int, int]:
    """(series, year, sequence) of a valid number."""
    v = validate(value)
    return v[:3], int(v[3:7]), int(v[7:])
