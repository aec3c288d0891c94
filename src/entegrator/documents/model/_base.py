"""Shared base of the draft models: frozen, strict about unknown fields."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

__all__ = ["Amount", "DraftModel", "Percent", "Quantity", "Text"]


class DraftModel(BaseModel):
    """Base of every draft model: immutable, unknown fields refused, strings trimmed."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        str_strip_whitespace=True,
        ser_json_inf_nan="strings",
    )


Text = Annotated[str, StringConstraints(min_length=1, max_length=1000)]
# Money in the document currency; up to 8 decimals on input (unit prices), totals are rounded.
Amount = Annotated[Decimal, Field(ge=0, max_digits=23, decimal_places=8, allow_inf_nan=False)]
Quantity = Annotated[Decimal, Field(gt=0, max_digits=23, decimal_places=8, allow_inf_nan=False)]
Percent = Annotated[
    Decimal, Field(ge=0, le=100, max_digits=9, decimal_places=4, allow_inf_nan=False)
]
