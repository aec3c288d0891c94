"""The inbox of incoming documents for ERPs: per-consumer acknowledgements.

A consumer is a name an ERP chooses for itself (``logo``, ``sap-prod``…). A document stays
unacknowledged for a consumer until that consumer acknowledges it; acknowledging is idempotent
and one consumer's acknowledgements never hide anything from another. Every function runs in the
caller's transaction and never commits.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, text

from entegrator.store.documents import DOCUMENT_COLUMNS, DocumentRow
from entegrator.store.search import _EXACT, _RANGES, DocumentFilters, Position

__all__ = ["CONSUMER_PATTERN", "acknowledge", "unacknowledged"]

CONSUMER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"  # the table's CHECK, for the API


def unacknowledged(
    conn: Connection,
    tenant_id: uuid.UUID,
    *,
    consumer: str,
    filters: DocumentFilters,
    limit: int,
    after: Position | None = None,
) -> list[DocumentRow]:
    """At most ``limit`` incoming documents that ``consumer`` has not acknowledged, oldest
    first (creation time, then id), starting after ``after``."""
    where = ["d.tenant_id = :t", "d.direction = 'in'"]
    params: dict[str, Any] = {"t": tenant_id, "consumer": consumer, "limit": limit}
    for name, column in _EXACT.items():
        value = getattr(filters, name)
        if value is not None:
            where.append(f"d.{column} = :{name}")
            params[name] = value
    for name, condition in _RANGES.items():
        value = getattr(filters, name)
        if value is not None:
            where.append(f"d.{condition}")
            params[name] = value
    if filters.party is not None:
        where.append("(d.receiver_id = :party OR d.sender_id = :party)")
        params["party"] = filters.party
    if after is not None:
        where.append("(d.created_at, d.document_id) > (:c_at, :c_id)")
        params["c_at"], params["c_id"] = after.created_at, after.document_id
    columns = ", ".join(f"d.{c.strip()}" for c in DOCUMENT_COLUMNS.split(","))
    sql = (
        f"SELECT {columns} FROM documents d WHERE {' AND '.join(where)} "  # noqa: S608 - constant clauses
        "AND NOT EXISTS (SELECT 1 FROM inbox_acks a WHERE a.tenant_id = d.tenant_id "
        "AND a.consumer = :consumer AND a.document_id = d.document_id) "
        "ORDER BY d.created_at, d.document_id LIMIT :limit"
    )
    return [DocumentRow.from_row(r) for r in conn.execute(text(sql), params)]


def acknowledge(
    conn: Connection,
    tenant_id: uuid.UUID,
    *,
    consumer: str,
    document_ids: Sequence[uuid.UUID],
    actor: str,
    created: Sequence[dt.datetime],
) -> set[uuid.UUID]:
    """Acknowledge the tenant's incoming documents among ``document_ids`` for ``consumer``
    (``created``: each id's creation instant, for the partition); the ids that are such
    documents, acknowledged now or before. Any other id is ignored."""
    if not document_ids:
        return set()
    rows = conn.execute(
        text(
            "WITH wanted AS (SELECT * FROM unnest(CAST(:ids AS uuid[]), "
            "CAST(:created AS timestamptz[])) AS w(document_id, created_at)), "
            "known AS (SELECT d.document_id FROM documents d JOIN wanted w "
            "ON d.tenant_id = :t AND d.created_at = w.created_at "
            "AND d.document_id = w.document_id WHERE d.direction = 'in'), "
            "added AS (INSERT INTO inbox_acks (tenant_id, consumer, document_id, acked_by) "
            "SELECT :t, :consumer, document_id, :actor FROM known "
            "ON CONFLICT DO NOTHING) "
            "SELECT document_id FROM known"
        ),
        {
            "t": tenant_id,
            "consumer": consumer,
            "actor": actor,
            "ids": list(document_ids),
            "created": list(created),
        },
    )
    return {uuid.UUID(str(r.document_id)) for r in rows}
