"""Sessions of the web portal: the SHA-256 of each cookie's token, never the token.

A session is found by its token before its tenant is known (``entegrator_portal_session``);
everything else happens in the tenant's transaction.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import Connection, text

__all__ = [
    "Session",
    "create_session",
    "delete_expired",
    "delete_session",
    "delete_user_sessions",
    "get_session",
    "session_owner",
    "touch_session",
]


@dataclass(frozen=True)
class Session:
    tenant_id: uuid.UUID
    user_id: uuid.UUID
    csrf_token: str
    mfa_pending: bool
    created_at: dt.datetime
    last_seen_at: dt.datetime


def create_session(
    conn: Connection,
    tenant_id: uuid.UUID,
    user_id: uuid.UUID,
    *,
    token_hash: bytes,
    csrf_token: str,
    mfa_pending: bool,
    now: dt.datetime,
    address: str | None,
) -> None:
    conn.execute(
        text(
            "INSERT INTO portal_sessions (token_hash, tenant_id, user_id, csrf_token, "
            "mfa_pending, created_at, last_seen_at, address) "
            "VALUES (:h, :t, :u, :c, :m, :now, :now, :a)"
        ),
        {
            "h": token_hash,
            "t": tenant_id,
            "u": user_id,
            "c": csrf_token,
            "m": mfa_pending,
            "now": now,
            "a": address,
        },
    )


def session_owner(conn: Connection, token_hash: bytes) -> tuple[uuid.UUID, uuid.UUID] | None:
    """The tenant and user of the session with this token hash (any connection)."""
    row = conn.execute(
        text("SELECT tenant_id, user_id FROM entegrator_portal_session(:h)"), {"h": token_hash}
    ).first()
    return None if row is None else (row.tenant_id, row.user_id)


def get_session(conn: Connection, tenant_id: uuid.UUID, token_hash: bytes) -> Session | None:
    row = conn.execute(
        text(
            "SELECT tenant_id, user_id, csrf_token, mfa_pending, created_at, last_seen_at "
            "FROM portal_sessions WHERE tenant_id = :t AND token_hash = :h"
        ),
        {"t": tenant_id, "h": token_hash},
    ).first()
    return None if row is None else Session(*row)


def touch_session(
    conn: Connection,
    tenant_id: uuid.UUID,
    token_hash: bytes,
    *,
    now: dt.datetime,
    mfa_pending: bool | None = None,
) -> None:
    conn.execute(
        text(
            "UPDATE portal_sessions SET last_seen_at = :now, "
            "mfa_pending = COALESCE(:m, mfa_pending) WHERE tenant_id = :t AND token_hash = :h"
        ),
        {"t": tenant_id, "h": token_hash, "now": now, "m": mfa_pending},
    )


def delete_session(conn: Connection, tenant_id: uuid.UUID, token_hash: bytes) -> None:
    conn.execute(
        text("DELETE FROM portal_sessions WHERE tenant_id = :t AND token_hash = :h"),
        {"t": tenant_id, "h": token_hash},
    )


def delete_user_sessions(
    conn: Connection, tenant_id: uuid.UUID, user_id: uuid.UUID, *, keep: bytes | None = None
) -> int:
    """End the user's sessions (all, or all but ``keep``); how many ended."""
    return int(
        conn.execute(
            text(
                "DELETE FROM portal_sessions WHERE tenant_id = :t AND user_id = :u "
                "AND token_hash IS DISTINCT FROM :keep"
            ),
            {"t": tenant_id, "u": user_id, "keep": keep},
        ).rowcount
    )


def delete_expired(
    conn: Connection,
    tenant_id: uuid.UUID,
    user_id: uuid.UUID,
    *,
    seen_before: dt.datetime,
    created_before: dt.datetime,
) -> int:
    """End the user's sessions idle since ``seen_before`` or made before ``created_before``."""
    return int(
        conn.execute(
            text(
                "DELETE FROM portal_sessions WHERE tenant_id = :t AND user_id = :u "
                "AND (last_seen_at < :seen OR created_at < :made)"
            ),
            {"t": tenant_id, "u": user_id, "seen": seen_before, "made": created_before},
        ).rowcount
    )
