"""Envelope errors carry GİB's status code where GİB has one (``envelope-and-transport.md`` §4)."""

from __future__ import annotations

from typing import Any

from entegrator.errors import EntegratorError

__all__ = ["EnvelopeError"]


class EnvelopeError(EntegratorError):
    """An envelope that cannot be built, packed or opened; ``gib_code`` is GİB's answer to it."""

    code = "ENVELOPE_INVALID"
    message_tr = "Zarf geçersiz: {detail_tr}"
    message_en = "Invalid envelope: {detail_en}"
    http_status = 422
    exit_code = 2

    def __init__(self, *, gib_code: int | None = None, **data: Any) -> None:
        self.gib_code = gib_code
        super().__init__(**data)

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        if self.gib_code is not None:
            out["gib_code"] = self.gib_code
        return out
