"""The change feed: every event of every document of a tenant, in an order a cursor can follow
without missing or repeating anything.

Rows are written by a statement trigger on ``events`` (migration 0011) in the event's own
transaction and numbered by a sequence (``change_id``). A number is taken when a transaction
writes, not when it commits, so a reader that saw number 11 committed could later meet number
10 committing. To rule that out, writers number under a per-tenant advisory lock held in shared
mode until they end, and a reader takes the same lock in exclusive mode before it reads: it waits
for the tenant's writers in flight (and only the tenant's), and every number it can then see
belongs to a finished transaction; a writer that comes later waits for the reader's short
transaction and numbers above everything read. ``change_id`` of the last row read is therefore a
safe cursor. Gaps in the numbers are rolled-back writes.

The reader's transaction must be READ COMMITTED (the platform's default): its snapshot is taken
by the statement that reads, after the lock.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import Connection, text
from sqlalchemy.exc import OperationalError

from entegrator.store.errors import StoreError

__all__ = ["FEED_LOCK", "Change", "FeedBusyError", "read_changes"]

FEED_LOCK = 1717920100  # the first key of the feed's advisory locks (the trigger's too)
LOCK_TIMEOUT = "5s"  # how long a reader waits for the tenant's writers in flight


class FeedBusyError(StoreError):
    code = "FEED_BUSY"
    message_tr = "Değişiklik akışı şu an yazılıyor; birkaç saniye sonra yeniden deneyin"
    message_en = "The change feed is being written; try again in a few seconds"
    http_status = 503


@dataclass(frozen=True)
class Change:
    change_id: int
    document_id: uuid.UUID
    seq: int
    at: dt.datetime
    type: str
    status: str | None
    direction: str | None
    kind: str | None
    number: str | None
    document_status: str | None


def read_changes(conn: Connection, tenant_id: uuid.UUID, *, after: int, limit: int) -> list[Change]:
    """At most ``limit`` changes numbered above ``after``, in order, of finished transactions
    only (waits up to ``LOCK_TIMEOUT`` for the tenant's writers in flight; then
    :class:`FeedBusyError`). Call it first in a READ COMMITTED transaction of its own."""
    try:
        conn.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
        conn.execute(
            text("SELECT pg_advisory_xact_lock(:k, hashtext(CAST(:t AS text)))"),
            {"k": FEED_LOCK, "t": tenant_id},
        )
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) == "55P03":  # lock_not_available
            raise FeedBusyError(retry_after=2) from None
        raise
    rows = conn.execute(
        text(
            "SELECT f.change_id, f.document_id, f.seq, f.at, f.type, f.status, d.direction, "
            "d.kind, d.number, d.status AS document_status "
            "FROM change_feed f LEFT JOIN LATERAL (SELECT direction, kind, number, status "
            "FROM documents WHERE tenant_id = f.tenant_id AND document_id = f.document_id "
            "LIMIT 1) d ON true "
            "WHERE f.tenant_id = :t AND f.change_id > :after "
            "ORDER BY f.change_id LIMIT :limit"
        ),
        {"t": tenant_id, "after": after, "limit": limit},
    )
    return [
        Change(
            int(r.change_id),
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
