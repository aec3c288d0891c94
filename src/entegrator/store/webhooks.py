"""The tenants' webhook endpoints and the notifications queued for them.

A notification is written by ``entegrator_notify`` in the transaction of the change it
reports (``store.documents.notify``); a worker leases it (``claim_next``), posts it, and
records the outcome (``record_attempt``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

__all__ = [
    "Claimed",
    "DeliveryRow",
    "Endpoint",
    "claim_next",
    "deactivate",
    "deliveries",
    "due_tenants",
    "endpoints",
    "exists",
    "insert_endpoint",
    "record_attempt",
]


@dataclass(frozen=True)
class Endpoint:
    webhook_id: uuid.UUID
    url: str
    events: list[str]
    active: bool
    created_at: dt.datetime


@dataclass(frozen=True)
class DeliveryRow:
    delivery_id: uuid.UUID
    event: str
    payload: dict[str, Any]
    status: str
    attempts: int
    last_status: int | None
    last_error: str | None
    created_at: dt.datetime
    delivered_at: dt.datetime | None


@dataclass(frozen=True)
class Claimed:
    """A leased notification with what posting it needs."""

    delivery_id: uuid.UUID
    webhook_id: uuid.UUID
    event: str
    payload: dict[str, Any]
    attempts: int  # including this one
    url: str
    active: bool
    secret_nonce: bytes
    secret_ciphertext: bytes


def insert_endpoint(
    conn: Connection,
    tenant_id: uuid.UUID,
    webhook_id: uuid.UUID,
    *,
    url: str,
    events: Sequence[str],
    secret_nonce: bytes,
    secret_ciphertext: bytes,
) -> None:
    conn.execute(
        text(
            "INSERT INTO webhooks (tenant_id, webhook_id, url, events, secret_nonce, "
            "secret_ciphertext) VALUES (:t, :w, :u, :e, :n, :c)"
        ),
        {
            "t": tenant_id,
            "w": webhook_id,
            "u": url,
            "e": list(events),
            "n": secret_nonce,
            "c": secret_ciphertext,
        },
    )


def endpoints(conn: Connection, tenant_id: uuid.UUID) -> list[Endpoint]:
    """The tenant's endpoints, oldest first (deactivated ones too)."""
    rows = conn.execute(
        text(
            "SELECT webhook_id, url, events, active, created_at FROM webhooks "
            "WHERE tenant_id = :t ORDER BY created_at"
        ),
        {"t": tenant_id},
    ).all()
    return [Endpoint(r.webhook_id, r.url, list(r.events), r.active, r.created_at) for r in rows]


def deactivate(conn: Connection, tenant_id: uuid.UUID, webhook_id: uuid.UUID) -> bool:
    """Stop notifying an endpoint; False when it is unknown or inactive already."""
    return bool(
        conn.execute(
            text(
                "UPDATE webhooks SET active = false WHERE tenant_id = :t "
                "AND webhook_id = :w AND active"
            ),
            {"t": tenant_id, "w": webhook_id},
        ).rowcount
    )


def exists(conn: Connection, tenant_id: uuid.UUID, webhook_id: uuid.UUID) -> bool:
    return (
        conn.execute(
            text("SELECT 1 FROM webhooks WHERE tenant_id = :t AND webhook_id = :w"),
            {"t": tenant_id, "w": webhook_id},
        ).first()
        is not None
    )


def deliveries(
    conn: Connection, tenant_id: uuid.UUID, webhook_id: uuid.UUID, limit: int
) -> list[DeliveryRow]:
    """What was sent to an endpoint, newest first."""
    rows = conn.execute(
        text(
            "SELECT delivery_id, event, payload, status, attempts, last_status, last_error, "
            "created_at, delivered_at FROM webhook_deliveries WHERE tenant_id = :t "
            "AND webhook_id = :w ORDER BY created_at DESC LIMIT :l"
        ),
        {"t": tenant_id, "w": webhook_id, "l": limit},
    ).all()
    return [DeliveryRow(**r._mapping) for r in rows]


def claim_next(
    conn: Connection, tenant_id: uuid.UUID, *, lease: dt.timedelta, per_tenant: int
) -> Claimed | None:
    """Lease the tenant's oldest due notification, unless ``per_tenant`` of its deliveries are
    under way already (their leases mark them; a lease that outlives a dead worker lapses).

    One claim per tenant at a time (an advisory lock until the transaction ends), so that the
    count stays true between workers; ``SKIP LOCKED`` leaves rows another claim holds."""
    conn.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"),
        {"k": f"webhooks:{tenant_id}"},
    )
    row = conn.execute(
        text(
            "WITH d AS MATERIALIZED (SELECT delivery_id FROM webhook_deliveries "
            "WHERE tenant_id = :t AND status = 'pending' AND next_attempt_at <= now() "
            "AND (SELECT count(*) FROM webhook_deliveries WHERE tenant_id = :t "
            "AND leased_until > now()) < :n "
            "ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED) "
            "UPDATE webhook_deliveries x SET next_attempt_at = now() + :lease, "
            "leased_until = now() + :lease, attempts = x.attempts + 1 FROM d, webhooks w "
            "WHERE x.tenant_id = :t AND x.delivery_id = d.delivery_id "
            "AND w.tenant_id = x.tenant_id AND w.webhook_id = x.webhook_id "
            "RETURNING x.delivery_id, x.webhook_id, x.event, x.payload, x.attempts, "
            "w.url, w.active, w.secret_nonce, w.secret_ciphertext"
        ),
        {"t": tenant_id, "lease": lease, "n": per_tenant},
    ).first()
    if row is None:
        return None
    return Claimed(
        row.delivery_id,
        row.webhook_id,
        row.event,
        row.payload,
        row.attempts,
        row.url,
        row.active,
        bytes(row.secret_nonce),
        bytes(row.secret_ciphertext),
    )


def record_attempt(
    conn: Connection,
    tenant_id: uuid.UUID,
    delivery_id: uuid.UUID,
    *,
    status: str,
    http_status: int | None,
    error: str | None,
    retry_in: float,
) -> None:
    """The outcome of one attempt (``delivered``, ``pending`` for a retry in ``retry_in``
    seconds, ``failed``); the lease ends."""
    conn.execute(
        text(
            "UPDATE webhook_deliveries SET status = :s, last_status = :st, "
            "last_error = :e, next_attempt_at = now() + make_interval(secs => :p), "
            "leased_until = NULL, delivered_at = CASE WHEN :s = 'delivered' THEN now() END "
            "WHERE tenant_id = :t AND delivery_id = :d"
        ),
        {
            "s": status,
            "st": http_status,
            "e": error,
            "p": retry_in,
            "t": tenant_id,
            "d": delivery_id,
        },
    )


def due_tenants(conn: Connection) -> list[uuid.UUID]:
    """Tenants with notifications whose retry is due (for the periodic wake-up)."""
    return list(
        conn.execute(
            text(
                "SELECT DISTINCT tenant_id FROM webhook_deliveries WHERE status = 'pending' "
                "AND next_attempt_at <= now()"
            )
        )
        .scalars()
        .all()
    )
