"""The change feed: every event of every document of a tenant, in an order a cursor can follow
without missing or repeating anything.

Rows are written by a statement trigger on ``events`` (migration 0011) in the event's own
transaction, with that transaction's 64-bit id. A reader takes only rows of transactions
older than the oldest one still running (``pg_snapshot_xmin`` of its own snapshot), ordered
by ``(txid, change_id)``: every row a later commit can add sorts after every row returned, so
``(txid, change_id)`` of the last row read is a safe cursor. A long-running writing
transaction holds the feed back (it delays rows, it never loses them).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

__all__ = ["Change", "FeedPosition", "read_changes"]


@dataclass(frozen=True, order=True)
class FeedPosition:
    """Where a reader is: the last row's transaction id and change id (0, 0: the start)."""

    txid: int
    change_id: int


@dataclass(frozen=True)
class Change:
    position: FeedPosition
    document_id: uuid.UUID
    seq: int
    at: dt.datetime
    type: str
    status: str | None
    direction: str | None
    kind: str | None
    number: str | None
    document_status: str | None


def read_changes(
    conn: Connection,
    tenant_id: uuid.UUID,
    *,
    after: FeedPosition,
    limit: int,
) -> list[Change]:
    """At most ``limit`` changes after ``after``, in feed order, of committed transactions
    only."""
    params: dict[str, Any] = {
        "t": tenant_id,
        "x": str(after.txid),
        "c": after.change_id,
        "limit": limit,
    }
    rows = conn.execute(
        text(
            "SELECT CAST(f.txid AS text) AS txid, f.change_id, f.document_id, f.seq, f.at, "
            "f.type, f.status, d.direction, d.kind, d.number, d.status AS document_status "
            "FROM change_feed f LEFT JOIN LATERAL (SELECT direction, kind, number, status "
            "FROM documents WHERE tenant_id = f.tenant_id AND document_id = f.document_id "
            "LIMIT 1) d ON true "
            "WHERE f.tenant_id = :t AND (f.txid, f.change_id) > (CAST(:x AS xid8), :c) "
            "AND f.txid < pg_snapshot_xmin(pg_current_snapshot()) "
            "ORDER BY f.txid, f.change_id LIMIT :limit"
        ),
        params,
    )
    return [
        Change(
            FeedPosition(int(r.txid), int(r.change_id)),
            uuid.UUID(str(r.document_id)),
            r.seq,
            r.at,
            r.type,
            r.status,
            r.direction,
            r.kind,
            r.number,
            r.document_status,
        )
        for r in rows
    ]
