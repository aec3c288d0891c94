"""Deliveries of documents to their buyers (e-mail, SMS) and the links of the public view.

A delivery is queued in the caller's transaction (``queue``); a worker leases the tenant's
next due one (``claim_next``), sends it, and records the outcome (``record_attempt``). A
leased row is invisible to other claims until its lease lapses, and a ``sent`` or ``failed``
row is never claimed again: each row is sent once.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, text

__all__ = [
    "Claimed",
    "Delivery",
    "ViewLink",
    "claim_next",
    "due_tenants",
    "find_link",
    "for_document",
    "link_for",
    "links_for",
    "queue",
    "record_attempt",
]

_COLUMNS = (
    "delivery_id, document_id, channel, address, status, requested_by, attempts, "
    "next_attempt_at, last_error, created_at, sent_at"
)


@dataclass(frozen=True)
class Delivery:
    delivery_id: uuid.UUID
    document_id: uuid.UUID
    channel: str  # email | sms
    address: str
    status: str  # queued | sent | failed
    requested_by: str  # signing | api | cancellation
    attempts: int
    next_attempt_at: dt.datetime
    last_error: str | None
    created_at: dt.datetime
    sent_at: dt.datetime | None


@dataclass(frozen=True)
class Claimed:
    """A leased delivery; ``attempts`` counts this one."""

    delivery_id: uuid.UUID
    document_id: uuid.UUID
    channel: str
    address: str
    attempts: int
    requested_by: str  # signing | api | cancellation (the message it sends)


@dataclass(frozen=True)
class ViewLink:
    tenant_id: uuid.UUID
    document_id: uuid.UUID


def queue(
    conn: Connection,
    tenant_id: uuid.UUID,
    document_id: uuid.UUID,
    *,
    channel: str,
    address: str,
    requested_by: str,
) -> Delivery:
    """A new delivery, due now."""
    row = conn.execute(
        text(
            "INSERT INTO deliveries (tenant_id, document_id, channel, address, requested_by) "  # noqa: S608 - constant columns
            f"VALUES (:t, :d, :c, :a, :r) RETURNING {_COLUMNS}"
        ),
        {"t": tenant_id, "d": document_id, "c": channel, "a": address, "r": requested_by},
    ).one()
    return Delivery(**row._mapping)


def for_document(conn: Connection, tenant_id: uuid.UUID, document_id: uuid.UUID) -> list[Delivery]:
    """A document's deliveries, oldest first."""
    rows = conn.execute(
        text(
            f"SELECT {_COLUMNS} FROM deliveries WHERE tenant_id = :t "  # noqa: S608 - constant columns
            "AND document_id = :d ORDER BY created_at, delivery_id"
        ),
        {"t": tenant_id, "d": document_id},
    ).all()
    return [Delivery(**r._mapping) for r in rows]


def claim_next(conn: Connection, tenant_id: uuid.UUID, *, lease: dt.timedelta) -> Claimed | None:
    """Lease the tenant's oldest due delivery (its next attempt moves past the lease, so no
    other worker takes it meanwhile; a lease that outlives a dead worker lapses)."""
    row = conn.execute(
        text(
            "WITH d AS MATERIALIZED (SELECT delivery_id FROM deliveries "
            "WHERE tenant_id = :t AND status = 'queued' AND next_attempt_at <= now() "
            "ORDER BY next_attempt_at, created_at LIMIT 1 FOR UPDATE SKIP LOCKED) "
            "UPDATE deliveries x SET next_attempt_at = now() + :lease, "
            "leased_until = now() + :lease, attempts = x.attempts + 1 FROM d "
            "WHERE x.tenant_id = :t AND x.delivery_id = d.delivery_id "
            "RETURNING x.delivery_id, x.document_id, x.channel, x.address, x.attempts, "
            "x.requested_by"
        ),
        {"t": tenant_id, "lease": lease},
    ).first()
    return None if row is None else Claimed(**row._mapping)


def record_attempt(
    conn: Connection,
    tenant_id: uuid.UUID,
    delivery_id: uuid.UUID,
    *,
    status: str,
    error: str | None,
    retry_in: float = 0.0,
) -> bool:
    """The outcome of an attempt: ``sent``, ``failed``, or ``queued`` again in ``retry_in``
    seconds; the lease ends. False when the row was no longer queued (nothing changed)."""
    return bool(
        conn.execute(
            text(
                "UPDATE deliveries SET status = :s, last_error = :e, leased_until = NULL, "
                "next_attempt_at = now() + make_interval(secs => :p), "
                "sent_at = CASE WHEN :s = 'sent' THEN now() END "
                "WHERE tenant_id = :t AND delivery_id = :d AND status = 'queued'"
            ),
            {"s": status, "e": error, "p": retry_in, "t": tenant_id, "d": delivery_id},
        ).rowcount
    )


def due_tenants(conn: Connection) -> list[uuid.UUID]:
    """Tenants with deliveries whose (next) attempt is due (system transaction)."""
    return list(
        conn.execute(
            text(
                "SELECT DISTINCT tenant_id FROM deliveries WHERE status = 'queued' "
                "AND next_attempt_at <= now()"
            )
        )
        .scalars()
        .all()
    )


def link_for(conn: Connection, tenant_id: uuid.UUID, document_id: uuid.UUID, token: str) -> str:
    """The document's public-view token: ``token`` when it had none, else the one it has."""
    conn.execute(
        text(
            "INSERT INTO view_links (token, tenant_id, document_id) VALUES (:k, :t, :d) "
            "ON CONFLICT (tenant_id, document_id) DO NOTHING"
        ),
        {"k": token, "t": tenant_id, "d": document_id},
    )
    return str(
        conn.execute(
            text("SELECT token FROM view_links WHERE tenant_id = :t AND document_id = :d"),
            {"t": tenant_id, "d": document_id},
        ).scalar_one()
    )


def links_for(
    conn: Connection, tenant_id: uuid.UUID, wanted: Sequence[tuple[uuid.UUID, str]]
) -> dict[uuid.UUID, str]:
    """:func:`link_for` for many documents in two statements: (document, new token) pairs in,
    each document's token out (the new one when it had none)."""
    if not wanted:
        return {}
    conn.execute(
        text(
            "INSERT INTO view_links (token, tenant_id, document_id) "
            "SELECT k, :t, d FROM unnest(CAST(:k AS text[]), CAST(:d AS uuid[])) AS w(k, d) "
            "ON CONFLICT (tenant_id, document_id) DO NOTHING"
        ),
        {"k": [k for _, k in wanted], "t": tenant_id, "d": [d for d, _ in wanted]},
    )
    rows = conn.execute(
        text(
            "SELECT document_id, token FROM view_links WHERE tenant_id = :t "
            "AND document_id = ANY(CAST(:d AS uuid[]))"
        ),
        {"t": tenant_id, "d": [d for d, _ in wanted]},
    ).all()
    return {r.document_id: str(r.token) for r in rows}


def find_link(conn: Connection, token: str) -> ViewLink | None:
    """Whose document a token shows (system transaction: the caller is not logged in)."""
    row = conn.execute(
        text("SELECT tenant_id, document_id FROM view_links WHERE token = :k"), {"k": token}
    ).first()
    return None if row is None else ViewLink(row.tenant_id, row.document_id)
