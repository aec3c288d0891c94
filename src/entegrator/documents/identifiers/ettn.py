"""ETTN (Evrensel Tekil Tanımlama Numarası, the document's universally unique id).

A UUID in 8-4-4-4-12 hexadecimal form (GİB rule ``UUIDCheck``). We generate version 4 and
write it in upper case, as GİB's own samples do.

>>> validate("f47ac10b-58cc-4372-a567-0e02b2c3d479")
'F47AC10B-58CC-4372-A567-0E02B2C3D479'
>>> is_valid("not-a-uuid")
False
"""

from __future__ import annotations

import re
import uuid

from entegrator.documents.errors import IdentifierError

__all__ = ["compact", "is_valid", "new", "validate"]

_PATTERN = re.compile(
    r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$"
)


def compact(value: str) -> str:
    return value.strip()


def validate(value: str) -> str:
    """Return the ETTN in upper case or raise :class:`IdentifierError`."""
    v = compact(value)
    if not _PATTERN.match(v):
        raise IdentifierError(
            kind="ETTN",
            value=value,
            reason_tr="8-4-4-4-12 onaltılık UUID biçiminde olmalı",
            reason_en="must be an 8-4-4-4-12 hexadecimal UUID",
        )
    return v.upper()


def is_valid(value: str) -> bool:
    try:
        validate(value)
    except IdentifierError:
        return False
    return True


def new(rng: uuid.UUID | None = None) -> str:
    """A fresh ETTN; ``rng`` lets tests and seeded generators pass a UUID of their own."""
    return str(rng or uuid.uuid4()).upper()
