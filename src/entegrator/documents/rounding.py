"""Yuvarlama: the one place where amounts are rounded (``docs/draft.md``, rounding policy).

>>> round_amount(Decimal("2.675")), round_amount(Decimal("-0.005"))
(Decimal('2.68'), Decimal('-0.01'))
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

__all__ = ["round_amount", "round_quantity"]

_CENT = Decimal("0.01")


def round_amount(value: Decimal) -> Decimal:
    """Round to the kuruş, half away from zero (GİB's ROUND_HALF_UP)."""
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


def round_quantity(value: Decimal, places: int = 0) -> Decimal:
    """Round a quantity to ``places`` decimals, half away from zero (a prorated quota in
    whole documents, a size in GB)."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
