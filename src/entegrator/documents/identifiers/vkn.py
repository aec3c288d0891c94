"""VKN (Vergi Kimlik Numarası, tax identification number of legal entities).

Ten digits, the last one a check digit computed by the Revenue Administration's public
algorithm (``shared/docs/gib/checks.md`` §1). GİB itself checks only the length; the
checksum is ours, to catch typos before a document is signed.
``2222222222`` is the placeholder commonly used on e-Arşiv invoices for a foreign buyer
without a Turkish tax number (``earsiv-and-others.md`` §1.2, unconfirmed); it fails the
checksum and is accepted only where the caller allows placeholders.

>>> is_valid("9876543217")
True
>>> is_valid("1288331521")
False
>>> validate(" 987 654 3217 ")
'9876543217'
>>> is_valid(PLACEHOLDER), validate(PLACEHOLDER, allow_placeholder=True)
(False, '2222222222')
"""

from __future__ import annotations

from entegrator.documents.errors import IdentifierError

__all__ = ["PLACEHOLDER", "calc_check_digit", "compact", "is_valid", "validate"]

PLACEHOLDER = "2222222222"


def compact(number: str) -> str:
    """Remove spaces, dots and dashes."""
    return "".join(ch for ch in number if ch not in " .-").strip()


def calc_check_digit(first_nine: str) -> str:
    """The check digit for nine leading digits.

    >>> calc_check_digit("987654321")
    '7'
    """
    total = 0
    for i, ch in enumerate(first_nine, start=1):
        t = (int(ch) + 10 - i) % 10
        total += 9 if t == 9 else (t * 2 ** (10 - i)) % 9
    return str((10 - total % 10) % 10)


def validate(number: str, *, checksum: bool = True, allow_placeholder: bool = False) -> str:
    """Return the compact VKN or raise :class:`IdentifierError`."""
    value = compact(number)
    if len(value) != 10 or not value.isascii() or not value.isdigit():
        raise IdentifierError(
            kind="VKN", value=number, reason_tr="10 haneli olmalı", reason_en="must be 10 digits"
        )
    if allow_placeholder and value == PLACEHOLDER:
        return value
    if checksum and calc_check_digit(value[:9]) != value[9]:
        raise IdentifierError(
            kind="VKN",
            value=number,
            reason_tr="kontrol hanesi tutmuyor",
            reason_en="check digit does not match",
        )
    return value


def is_valid(number: str) -> bool:
    """True when ``number`` is a VKN with a correct check digit; never raises."""
    try:
        validate(number)
    except IdentifierError:
        return False
    return True
