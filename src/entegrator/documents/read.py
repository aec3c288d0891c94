"""Taslak okuma: a draft (JSON) read into the model, every problem reported at once.

A draft fails in two layers: the shape of its fields (the model: types, required fields,
unknown fields) and the rules across fields (:func:`~entegrator.documents.checks.check_draft`:
profile × type, identities, code lists), which need a whole model to run. An unknown field
alone would hide the second layer; here, when unknown fields are the only field problems, the
draft is checked again without them, so one answer lists everything to fix.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from entegrator.documents._validation import problems_from_validation
from entegrator.documents.checks import check_draft, normalize
from entegrator.documents.errors import DraftError, MalformedJSONError, Problem
from entegrator.documents.model import DespatchDraft, InvoiceDraft, ReceiptDraft

__all__ = ["DRAFT_KINDS", "read_any_draft", "read_draft"]

# The ``kind`` of a draft JSON object; an object without one is an invoice draft.
DRAFT_KINDS: dict[str, type[InvoiceDraft | DespatchDraft | ReceiptDraft]] = {
    "invoice": InvoiceDraft,
    "despatch": DespatchDraft,
    "receipt": ReceiptDraft,
}


def read_draft(data: bytes | str | Mapping[str, Any]) -> InvoiceDraft:
    """The invoice draft in ``data`` (JSON text or an already decoded object).

    Raises :class:`MalformedJSONError` when the text is not JSON, and :class:`DraftError` with
    every problem found otherwise: each field problem (an ``INVALID_FIELD`` with its JSON
    path) and, when the only field problems are unknown fields, the cross-field problems of
    the draft without them. A draft that reads is returned as it is; building it runs the
    cross-field checks (``ensure_buildable``).
    """
    obj: Any = _decode(data) if isinstance(data, bytes | str) else data
    try:
        return InvoiceDraft.model_validate(obj)
    except ValidationError as exc:
        problems = problems_from_validation(exc)
        errors = exc.errors()
        if all(e["type"] == "extra_forbidden" for e in errors):
            problems += _problems_without(obj, [e["loc"] for e in errors])
        raise DraftError(problems) from None


def read_any_draft(
    data: bytes | str | Mapping[str, Any],
) -> InvoiceDraft | DespatchDraft | ReceiptDraft:
    """The draft in ``data``, of the kind its ``kind`` field names (``despatch`` for an
    irsaliye, ``receipt`` for an irsaliye yanıtı); without ``kind``, an invoice draft read by
    :func:`read_draft`. Raises :class:`DraftError` with every field problem found."""
    obj: Any = _decode(data) if isinstance(data, bytes | str) else data
    kind = obj.get("kind") if isinstance(obj, Mapping) else None
    if kind is None or kind == "invoice":
        body = {k: v for k, v in obj.items() if k != "kind"} if kind else obj
        return read_draft(body)
    model = DRAFT_KINDS.get(kind) if isinstance(kind, str) else None
    if model is None:
        raise DraftError(
            [
                Problem(
                    "UNKNOWN_KIND",
                    "kind",
                    f"bilinmeyen taslak türü: {kind!r} (invoice, despatch, receipt)",
                    f"unknown draft kind: {kind!r} (invoice, despatch, receipt)",
                )
            ]
        )
    try:
        return model.model_validate(obj)
    except ValidationError as exc:
        raise DraftError(problems_from_validation(exc)) from None


def _decode(data: bytes | str) -> Any:
    try:
        # Numbers as Decimal: money is never a float, not even for a moment.
        return json.loads(data, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise MalformedJSONError(
            [Problem("MALFORMED_JSON", where, f"JSON okunamadı: {exc.msg}", exc.msg)],
            detail_tr=f"{exc.msg} ({where})",
            detail_en=f"{exc.msg} ({where})",
            where=where,
        ) from None
    except RecursionError:
        # Arrays or objects nested thousands deep: no draft is, and the parser gives up.
        raise MalformedJSONError(
            [Problem("MALFORMED_JSON", "", "JSON çok derin iç içe", "JSON nested too deeply")],
            detail_tr="JSON çok derin iç içe",
            detail_en="JSON nested too deeply",
        ) from None
    except UnicodeDecodeError as exc:
        where = f"byte {exc.start}"
        raise MalformedJSONError(
            [Problem("MALFORMED_JSON", where, "UTF-8 olmayan bayt", "not UTF-8")],
            detail_tr=f"UTF-8 olmayan bayt ({where})",
            detail_en=f"a byte that is not UTF-8 ({where})",
            where=where,
        ) from None


def _problems_without(obj: Any, unknown: list[tuple[int | str, ...]]) -> list[Problem]:
    """The cross-field problems of ``obj`` with its ``unknown`` fields removed."""
    stripped = copy.deepcopy(obj)
    for loc in unknown:
        parent: Any = stripped
        for part in loc[:-1]:
            parent = parent[part]
        if isinstance(parent, dict):
            parent.pop(loc[-1], None)
    try:
        draft = InvoiceDraft.model_validate(stripped)
    except ValidationError:  # cannot happen: the unknown fields were the only problems
        return []
    return check_draft(normalize(draft))
