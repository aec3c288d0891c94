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

The reader *tries* the lock (``pg_try_advisory_xact_lock``) again and again rather than queueing
for it: a queued exclusive request would make every new writer of the tenant wait behind it, and
a writer already holding the lock that waits for one of those (a row lock) would close a
deadlock. A reader that never queues never holds a writer up, except for the moment it reads.

The reader's transaction must be READ COMMITTED (the platform's default): its snapshot is taken
by the statement that reads, after the lock.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from dataclasses import dataclass

from sqlalchemy import Connection, text

from entegrator.store.errors import StoreError

__all__ = ["FEED_LOCK", "Change", "FeedBusyError", "read_changes"]

FEED_LOCK = 1717920100  # the first key of the feed's advisory locks (the trigger's too)
LOCK_WAIT_SECONDS = 5.0  # how long a reader waits for the tenant's writers in flight


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


def read_changes(
    conn: Connection,
    tenant_id: uuid.UUID,
    *,
    after: int,
    limit: int,
    wait: float = LOCK_WAIT_SECONDS,
) -> list[Change]:
    """At most ``limit`` changes numbered above ``after``, in order, of finished transactions
    only (waits up to ``wait`` seconds for a moment when none of the tenant's writers is in
    flight; then :class:`FeedBusyError`). Call it first in a READ COMMITTED transaction of its
    own."""
    deadline = time.monotonic() + wait
    pause = 0.005
    while not conn.execute(
        text("SELECT pg_try_advisory_xact_lock(:k, hashtext(CAST(:t AS text)))"),
        {"k": FEED_LOCK, "t": tenant_id},
    ).scalar_one():
        if time.monotonic() >= deadline:
            raise FeedBusyError(retry_after=2)
        time.sleep(pause)
        pause = min(pause * 2, 0.1)
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
