"""Searching a tenant's documents (fatura arama): filters combined with AND, newest first.

The order is stable (creation time, then id), so a page ends at a position that the next
page starts after (keyset paging): documents stored meanwhile never appear twice within one
search. The filters are typed here; the API parses its query parameters into them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, text

from entegrator.store.documents import DOCUMENT_COLUMNS, DocumentRow

__all__ = ["ORDERS", "DocumentFilters", "Position", "search_documents"]


@dataclass(frozen=True, kw_only=True)
class DocumentFilters:
    """What a search keeps; ``None`` leaves a filter out. Dates and amounts are inclusive."""

    issued_from: dt.date | None = None
    issued_to: dt.date | None = None
    party: str | None = None  # the VKN/TCKN of the buyer or the supplier
    status: str | None = None
    profile: str | None = None
    type: str | None = None
    number: str | None = None
    min_total: Decimal | None = None  # on the payable amount
    max_total: Decimal | None = None


@dataclass(frozen=True)
class Position:
    """Where a page ended: the last document's creation time and id (and, for an order
    other than the newest first, its value of the sorted column)."""

    created_at: dt.datetime
    document_id: uuid.UUID
    value: dt.date | Decimal | None = None


# Orders (name -> sorted expression, direction), each ending in (created_at, document_id) so
# that a page ends at a position. Missing values sort as the smallest.
ORDERS = {
    "new": (None, "DESC"),
    "issue_date_desc": ("COALESCE(issue_date, DATE '0001-01-01')", "DESC"),
    "issue_date_asc": ("COALESCE(issue_date, DATE '0001-01-01')", "ASC"),
    "payable_desc": ("COALESCE(payable, -1)", "DESC"),
    "payable_asc": ("COALESCE(payable, -1)", "ASC"),
}


# Exact matches: filter field -> column (fixed names, never taken from a request).
_EXACT = {"status": "status", "profile": "profile", "type": "type", "number": "number"}
# Ranges: filter field -> condition.
_RANGES = {
    "issued_from": "issue_date >= :issued_from",
    "issued_to": "issue_date <= :issued_to",
    "min_total": "payable >= :min_total",
    "max_total": "payable <= :max_total",
}


def search_documents(
    conn: Connection,
    tenant_id: uuid.UUID,
    *,
    direction: str,
    filters: DocumentFilters,
    limit: int,
    cursor: Position | None = None,
    order: str = "new",
) -> list[DocumentRow]:
    """At most ``limit`` of the tenant's documents of ``direction`` (``out``/``in``) that pass
    ``filters``, in ``order`` (``ORDERS``; newest first by default), starting after
    ``cursor`` (the previous page's last)."""
    sort_column, way = ORDERS[order]
    where = ["tenant_id = :t", "direction = :direction"]
    params: dict[str, Any] = {"t": tenant_id, "direction": direction, "limit": limit}
    for name, column in _EXACT.items():
        value = getattr(filters, name)
        if value is not None:
            where.append(f"{column} = :{name}")
            params[name] = value
    for name, condition in _RANGES.items():
        value = getattr(filters, name)
        if value is not None:
            where.append(condition)
            params[name] = value
    if filters.party is not None:
        where.append("(receiver_id = :party OR sender_id = :party)")
        params["party"] = filters.party
    compare = "<" if way == "DESC" else ">"
    if cursor is not None:
        params["c_at"], params["c_id"] = cursor.created_at, cursor.document_id
        if sort_column is None:
            where.append(f"(created_at, document_id) {compare} (:c_at, :c_id)")
        else:
            where.append(f"({sort_column}, created_at, document_id) {compare} (:c_v, :c_at, :c_id)")
            params["c_v"] = cursor.value
    keys = "created_at, document_id"
    if sort_column is not None:
        keys = f"{sort_column}, {keys}"
    ordered = ", ".join(f"{k.strip()} {way}" for k in _split(keys))
    # Constant columns and clauses; every value is bound.
    sql = (
        f"SELECT {DOCUMENT_COLUMNS} FROM documents WHERE {' AND '.join(where)} "  # noqa: S608
        f"ORDER BY {ordered} LIMIT :limit"
    )
    return [DocumentRow.from_row(r) for r in conn.execute(text(sql), params)]


def _split(keys: str) -> list[str]:
    """The sort keys of an ORDER BY (commas inside parentheses stay)."""
    out, depth, current = [], 0, ""
    for ch in keys:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            out.append(current)
            current = ""
        else:
            current += ch
    out.append(current)
    return out
