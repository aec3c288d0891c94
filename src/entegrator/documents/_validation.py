"""Field-shape errors of the draft model as :class:`Problem` values, in Turkish and English."""

from __future__ import annotations

from pydantic import ValidationError

from entegrator.documents.errors import Problem

__all__ = ["problems_from_validation"]

# pydantic error type → Turkish text; the English text is pydantic's own message.
_TR = {
    "missing": "zorunlu alan eksik",
    "extra_forbidden": "bilinmeyen alan",
    "string_pattern_mismatch": "biçimi geçersiz",
    "string_too_short": "boş olamaz",
    "string_too_long": "çok uzun",
    "string_type": "metin olmalı",
    "decimal_parsing": "sayı olmalı",
    "decimal_type": "sayı olmalı",
    "decimal_max_places": "ondalık basamak sayısı fazla",
    "decimal_max_digits": "basamak sayısı fazla",
    "greater_than": "daha büyük olmalı",
    "greater_than_equal": "daha küçük olamaz",
    "less_than_equal": "daha büyük olamaz",
    "finite_number": "sonlu bir sayı olmalı",
    "enum": "izin verilen değerlerden biri olmalı",
    "literal_error": "izin verilen değerlerden biri olmalı",
    "date_from_datetime_parsing": "YYYY-AA-GG tarihi olmalı",
    "date_parsing": "YYYY-AA-GG tarihi olmalı",
    "date_type": "YYYY-AA-GG tarihi olmalı",
    "time_parsing": "SS:DD:ss saati olmalı",
    "time_type": "SS:DD:ss saati olmalı",
    "bool_parsing": "true ya da false olmalı",
    "bool_type": "true ya da false olmalı",
    "list_type": "liste olmalı",
    "too_short": "en az bir öğe gerekli",
    "too_long": "öğe sayısı sınırı aşıyor",
    "model_type": "nesne olmalı",
    "model_attributes_type": "nesne olmalı",
    "dict_type": "nesne olmalı",
    "value_error": "geçersiz değer",
    "xml_character": "XML'de bulunamayacak bir karakter içeriyor",
}


def _path(loc: tuple[int | str, ...]) -> str:
    """``('lines', 0, 'quantity')`` → ``lines[0].quantity``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "/"


def problems_from_validation(exc: ValidationError, *, limit: int = 50) -> list[Problem]:
    """Every field problem (up to ``limit``) with its JSON path."""
    out = []
    for err in exc.errors()[:limit]:
        where = _path(err["loc"])
        tr = _TR.get(err["type"], "geçersiz değer")
        limit_value = next(iter((err.get("ctx") or {}).values()), None)
        if err["type"] in ("greater_than", "greater_than_equal", "less_than_equal"):
            tr = f"{tr} ({limit_value})"
        if err["type"] == "xml_character":
            tr = f"{tr} ({(err.get('ctx') or {}).get('code_point')})"
        if err["type"] == "value_error":
            tr = f"{tr}: {err['msg'].removeprefix('Value error, ')}"
        out.append(Problem("INVALID_FIELD", where, tr, err["msg"]))
    return out
