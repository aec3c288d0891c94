"""TCKN (T.C. Kimlik Numarası, national identity number of persons).

Eleven digits, the first not zero, the last two check digits (``shared/docs/gib/checks.md`` §2).
``11111111111`` is the e-Arşiv placeholder for an unidentified final consumer; it fails the
checksum and is accepted only where the caller allows placeholders.

>>> is_valid("12345678950")
True
>>> is_valid("12345678901")
False
>>> is_valid(PLACEHOLDER)
False
"""

from __future__ import annotations

from entegrator.documents.errors import IdentifierError

__all__ = ["PLACEHOLDER", "calc_check_digits", "compact", "is_valid", "validate"]

PLACEHOLDER = "11111111111"


def compact(number: str) -> str:
    """Remove spaces, dots and dashes."""
    return "".join(ch for ch in number if ch not in " .-").strip()


def calc_check_digits(first_nine: str) -> str:
    """The two check digits for nine leading digits.

    >>> calc_check_digits("123456789")
    '50'
    """
    d = [int(c) for c in first_nine]
    d10 = ((d[0] + d[2] + d[4] + d[6] + d[8]) * 7 - (d[1] + d[3] + d[5] + d[7])) % 10
    d11 = (sum(d) + d10) % 10
    return f"{d10}{d11}"


def validate(number: str, *, checksum: bool = True, allow_placeholder: bool = False) -> str:
    """Return the compact TCKN or raise :class:`IdentifierError`."""
    value = compact(number)
    if len(value) != 11 or not value.isascii() or not value.isdigit():
        raise IdentifierError(
            kind="TCKN", value=number, reason_tr="11 haneli olmalı", reason_en="must be 11 digits"
        )
    if allow_placeholder and value == PLACEHOLDER:
        return value
    if checksum and (value[0] == "0" or calc_check_digits(value[:9]) != value[9:]):
        raise IdentifierError(
            kind="TCKN",
            value=number,
            reason_tr="kontrol haneleri tutmuyor",
            reason_en="check digits do not match",
        )
    return value


def is_valid(number: str) -> bool:
    """True when ``number`` is a TCKN with correct check digits; never raises."""
    try:
        validate(number)
    except IdentifierError:
        return False
    return True
