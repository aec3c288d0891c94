"""Shared base of the draft models: frozen, strict about unknown fields."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from pydantic_core import PydanticCustomError

__all__ = ["Amount", "DraftModel", "Percent", "Quantity", "Text", "xml_safe"]


# Characters XML 1.0 cannot carry (a document holding them cannot be built, let alone signed).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(value: Any) -> Any:
    """Refuse strings (alone or in a list) holding characters that XML cannot carry."""
    items = value if isinstance(value, list | tuple) else (value,)
    for item in items:
        if isinstance(item, str) and (found := _NOT_XML.search(item)):
            raise PydanticCustomError(
                "xml_character",
                "holds a character XML cannot carry ({code_point})",
                {"code_point": f"U+{ord(found.group()):04X}"},
            )
    return value


class DraftModel(BaseModel):
    """Base of every draft model: immutable, unknown fields refused, strings trimmed, and
    no control characters (NUL, BEL, …) that XML cannot carry."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        str_strip_whitespace=True,
        ser_json_inf_nan="strings",
    )

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        return xml_safe(value)


Text = Annotated[str, StringConstraints(min_length=1, max_length=1000)]
# Money in the document currency; up to 8 decimals on input (unit prices), totals are rounded.
Amount = Annotated[Decimal, Field(ge=0, max_digits=23, decimal_places=8, allow_inf_nan=False)]
Quantity = Annotated[Decimal, Field(gt=0, max_digits=23, decimal_places=8, allow_inf_nan=False)]
Percent = Annotated[
    Decimal, Field(ge=0, le=100, max_digits=9, decimal_places=4, allow_inf_nan=False)
]
