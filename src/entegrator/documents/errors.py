"""Errors of the document core (see the tree in :mod:`entegrator.errors`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from entegrator.errors import EntegratorError

__all__ = [
    "CombinationError",
    "DocumentError",
    "DraftError",
    "IdentifierError",
    "MalformedJSONError",
    "ParseError",
    "Problem",
    "UnsafeXMLError",
    "XMLError",
]


class DocumentError(EntegratorError):
    code = "DOCUMENT_ERROR"
    message_tr = "Belge hatası: {detail}"
    message_en = "Document error: {detail}"
    http_status = 422
    exit_code = 2


class IdentifierError(DocumentError, ValueError):
    """A VKN, TCKN, ETTN or document number that does not have the required form."""

    code = "INVALID_IDENTIFIER"
    message_tr = "Geçersiz {kind}: {value!r} ({reason_tr})"
    message_en = "Invalid {kind}: {value!r} ({reason_en})"


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason a draft cannot be built: a machine code, where (JSON path), two messages."""

    code: str
    where: str
    message_tr: str
    message_en: str

    def to_dict(self) -> dict[str, str]:
        return {
            "code": self.code,
            "where": self.where,
            "message_tr": self.message_tr,
            "message_en": self.message_en,
        }


class DraftError(DocumentError):
    """The draft cannot be built; ``problems`` lists every reason found."""

    code = "INVALID_DRAFT"
    message_tr = "Taslak geçersiz: {detail_tr}"
    message_en = "Invalid draft: {detail_en}"

    def __init__(self, problems: list[Problem] | None = None, **data: Any) -> None:
        self.problems = problems or []
        if self.problems and "detail_en" not in data:
            first = self.problems[0]
            more = len(self.problems) - 1
            data["detail_tr"] = f"{first.where}: {first.message_tr}" + (
                f" (ve {more} sorun daha)" if more else ""
            )
            data["detail_en"] = f"{first.where}: {first.message_en}" + (
                f" (and {more} more)" if more else ""
            )
            data.setdefault("where", first.where)
        super().__init__(**data)

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["problems"] = [p.to_dict() for p in self.problems]
        return out


class MalformedJSONError(DraftError):
    """The draft is not JSON at all (``where``: the line and column, or the byte)."""

    code = "MALFORMED_JSON"
    message_tr = "JSON okunamadı: {detail_tr}"
    message_en = "JSON cannot be read: {detail_en}"
    http_status = 400


class CombinationError(DraftError):
    """The profile (senaryo) and type (fatura tipi) cannot go together."""

    code = "INVALID_COMBINATION"


class XMLError(DocumentError):
    code = "MALFORMED_XML"
    message_tr = "XML iyi biçimli değil: {detail}"
    message_en = "XML is not well-formed: {detail}"
    http_status = 400


class UnsafeXMLError(XMLError):
    code = "UNSAFE_XML"
    message_tr = "XML güvenli değil: {detail_tr}"
    message_en = "Unsafe XML: {detail_en}"
    http_status = 400


class ParseError(DocumentError):
    code = "UNREADABLE_DOCUMENT"
    message_tr = "Belge okunamadı: {detail_tr}"
    message_en = "Document cannot be read: {detail_en}"
