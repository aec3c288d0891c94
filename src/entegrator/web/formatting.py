"""Turkish formats for the portal: ``1.234,56 TL``, ``30.11.2026``, ``30.11.2026 14:05``.

>>> from decimal import Decimal
>>> money(Decimal("1234.56"))
'1.234,56 TL'
>>> money(Decimal("-1234567.5"), "USD")
'-1.234.567,50 USD'
>>> number(Decimal("12.5"))
'12,50'
>>> number(Decimal("18"), places=0)
'18'
>>> import datetime as dt
>>> date(dt.date(2026, 11, 30))
'30.11.2026'
>>> date(None)
''
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from entegrator.documents.rounding import round_amount

__all__ = ["ISTANBUL", "date", "datetime", "money", "number", "percent"]

ISTANBUL = ZoneInfo("Europe/Istanbul")
_CURRENCY_SIGNS = {"TRY": "TL"}


def _group(digits: str) -> str:
    out = []
    while len(digits) > 3:
        out.append(digits[-3:])
        digits = digits[:-3]
    out.append(digits)
    return ".".join(reversed(out))


def number(value: Decimal | int | None, *, places: int = 2) -> str:
    """Thousands with dots, decimals after a comma (``places`` 2 or 0)."""
    if value is None:
        return ""
    amount = (
        round_amount(Decimal(value)) if places == 2 else Decimal(int(round_amount(Decimal(value))))
    )
    sign = "-" if amount < 0 else ""
    text = f"{abs(amount):.{places}f}"
    whole, _, fraction = text.partition(".")
    return sign + _group(whole) + ("," + fraction if places else "")


def money(value: Decimal | int | None, currency: str | None = "TRY") -> str:
    """An amount with its currency: TL for Turkish lira, the ISO code for the others."""
    if value is None:
        return ""
    sign = _CURRENCY_SIGNS.get(currency or "TRY", currency or "TL")
    return f"{number(value)} {sign}"


def percent(value: Decimal | int | None) -> str:
    """``%18`` or ``%0,5``: Turkish puts the sign before the number."""
    if value is None:
        return ""
    amount = Decimal(value)
    if amount == amount.to_integral_value():
        return f"%{number(amount, places=0)}"
    return "%" + format(amount.normalize(), "f").replace(".", ",")


def date(value: dt.date | None) -> str:
    return "" if value is None else value.strftime("%d.%m.%Y")


def datetime(value: dt.datetime | None) -> str:
    """In Türkiye's time (UTC+3), as GİB's portal shows it."""
    if value is None:
        return ""
    if value.tzinfo is not None:
        value = value.astimezone(ISTANBUL)
    return value.strftime("%d.%m.%Y %H:%M")
