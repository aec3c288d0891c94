"""Yazı ile tutar: the payable amount in Turkish words, for the "Yalnız: …" note.

By convention an invoice carries one ``cbc:Note`` with the payable amount in words
(``ubl-tr.md`` §2) [practice]. Hundreds and thousands take no "bir" ("yüz", "bin").

>>> amount_in_words(Decimal("1200.50"), "TRY")
'Yalnız: Bin İki Yüz Türk Lirası Elli Kuruş'
>>> amount_in_words(Decimal("1001001"), "USD")
'Yalnız: Bir Milyon Bin Bir ABD Doları'
>>> amount_in_words(Decimal("0.05"), "TRY")
'Yalnız: Sıfır Türk Lirası Beş Kuruş'
"""

from __future__ import annotations

from decimal import Decimal

__all__ = ["amount_in_words", "integer_in_words"]

_ONES = ["", "bir", "iki", "üç", "dört", "beş", "altı", "yedi", "sekiz", "dokuz"]
_TENS = ["", "on", "yirmi", "otuz", "kırk", "elli", "altmış", "yetmiş", "seksen", "doksan"]
_SCALES = ["", "bin", "milyon", "milyar", "trilyon", "katrilyon", "kentilyon"]
_CURRENCIES = {
    "TRY": ("Türk Lirası", "Kuruş"),
    "USD": ("ABD Doları", "Sent"),
    "EUR": ("Avro", "Sent"),
    "GBP": ("İngiliz Sterlini", "Peni"),
}
PREFIX = "Yalnız: "


def _title(word: str) -> str:
    # Turkish capitalisation: i → İ, ı → I.
    first = {"i": "İ", "ı": "I"}.get(word[0], word[0].upper())
    return first + word[1:]


def _group(n: int) -> list[str]:
    hundreds, rest = divmod(n, 100)
    words = []
    if hundreds:
        words += ([] if hundreds == 1 else [_ONES[hundreds]]) + ["yüz"]
    if rest >= 10:
        words.append(_TENS[rest // 10])
    if rest % 10:
        words.append(_ONES[rest % 10])
    return words


def integer_in_words(n: int) -> str:
    """A non-negative integer in Turkish words, each word capitalised.

    >>> integer_in_words(2026)
    'İki Bin Yirmi Altı'
    """
    if n == 0:
        return "Sıfır"
    words: list[str] = []
    scale = 0
    while n:
        n, group = divmod(n, 1000)
        if group:
            part = _group(group)
            if scale == 1 and group == 1:
                part = []
            if scale:
                part.append(_SCALES[scale])
            words = part + words
        scale += 1
    return " ".join(_title(w) for w in words)


def amount_in_words(amount: Decimal, currency: str) -> str:
    """The "Yalnız: …" note for an amount in a currency (kuruş/cent part when not zero)."""
    major, minor = _CURRENCIES.get(currency, (currency, "/100"))
    sign = "Eksi " if amount < 0 else ""
    cents = int((abs(amount) * 100).to_integral_value())
    units, sub = divmod(cents, 100)
    text = f"{PREFIX}{sign}{integer_in_words(units)} {major}"
    if sub:
        text += f" {integer_in_words(sub)} {minor}" if minor != "/100" else f" {sub:02d}/100"
    return text
