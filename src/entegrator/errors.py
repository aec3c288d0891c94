"""The error tree of entegrator.

Every failure that stops an operation is an :class:`EntegratorError` with a stable machine
``code``, a Turkish and an English message template, the data that fills them, and the HTTP
status and exit code that the edges (API, CLI) map it to::

    EntegratorError
    ├── documents.errors.DocumentError
    │   ├── DraftError              the draft (ERP input) is not acceptable
    │   │   └── CombinationError    profile × type (or field) combination GİB refuses
    │   ├── XMLError                bytes are not a safe, well-formed document
    │   │   └── UnsafeXMLError      DTD, entity, oversize input
    │   └── ParseError              well-formed XML that is not a UBL-TR document we can read
    └── (later packages add their own branches)

Findings of validation are values, not exceptions (see ``entegrator.rules``).
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = ["EntegratorError"]


class _SafeDict(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class EntegratorError(Exception):
    """Base of every entegrator error: a code, two messages, a place."""

    code: ClassVar[str] = "ENTEGRATOR_ERROR"
    message_tr: ClassVar[str] = "Beklenmeyen hata: {detail}"
    message_en: ClassVar[str] = "Unexpected error: {detail}"
    http_status: ClassVar[int] = 500
    exit_code: ClassVar[int] = 1

    def __init__(self, *, where: str | None = None, **data: Any) -> None:
        self.where = where
        self.data = data
        super().__init__(self.text_en)

    @property
    def text_tr(self) -> str:
        return self.message_tr.format_map(_SafeDict(self.data))

    @property
    def text_en(self) -> str:
        return self.message_en.format_map(_SafeDict(self.data))

    def to_dict(self) -> dict[str, Any]:
        """The JSON form used by the API and ``--json`` CLI output."""
        out: dict[str, Any] = {
            "code": self.code,
            "message_tr": self.text_tr,
            "message_en": self.text_en,
        }
        if self.where:
            out["where"] = self.where
        return out
