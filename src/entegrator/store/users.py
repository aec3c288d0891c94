"""Users of the web portal: one tenant's people, each with an e-mail, a role and a password.

The password is kept as an argon2 hash (the web layer hashes and checks it); the login finds
users by e-mail in every tenant through ``entegrator_portal_login``, before a tenant is known.
``failed_logins`` and ``locked_until`` keep the lock-out after repeated failures.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import Connection, text

__all__ = [
    "ROLES",
    "LoginCandidate",
    "User",
    "create_user",
    "find_by_email",
    "get_user",
    "list_users",
    "login_candidates",
    "record_failure",
    "record_success",
    "set_password",
    "set_totp_secret",
]

ROLES = ("owner", "accountant", "viewer", "api")

_COLUMNS = (
    "tenant_id, user_id, email, name, role, password_hash, password_changed_at, "
    "failed_logins, locked_until, last_login_at, totp_secret, disabled, created_at"
)


@dataclass(frozen=True)
class User:
    tenant_id: uuid.UUID
    user_id: uuid.UUID
    email: str
    name: str
    role: str
    password_hash: str | None
    password_changed_at: dt.datetime | None
    failed_logins: int
    locked_until: dt.datetime | None
    last_login_at: dt.datetime | None
    totp_secret: bytes | None
    disabled: bool
    created_at: dt.datetime


@dataclass(frozen=True)
class LoginCandidate:
    """A user the login's e-mail names (in some tenant)."""

    tenant_id: uuid.UUID
    user_id: uuid.UUID
    password_hash: str | None
    role: str
    locked_until: dt.datetime | None
    disabled: bool


def _user(row: object) -> User:
    values = list(row)  # type: ignore[call-overload]
    if values[10] is not None:
        values[10] = bytes(values[10])
    return User(*values)


def create_user(
    conn: Connection,
    tenant_id: uuid.UUID,
    *,
    email: str,
    name: str,
    role: str,
    password_hash: str | None,
    now: dt.datetime,
) -> uuid.UUID:
    """A new user of the tenant (an e-mail is one user per tenant)."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    user_id = uuid.uuid4()
    conn.execute(
        text(
            "INSERT INTO users (tenant_id, user_id, email, name, role, password_hash, "
            "password_changed_at, created_at) VALUES (:t, :u, :e, :n, :r, :h, :c, :c)"
        ),
        {
            "t": tenant_id,
            "u": user_id,
            "e": email,
            "n": name,
            "r": role,
            "h": password_hash,
            "c": now,
        },
    )
    return user_id


def get_user(conn: Connection, tenant_id: uuid.UUID, user_id: uuid.UUID) -> User | None:
    row = conn.execute(
        text(f"SELECT {_COLUMNS} FROM users WHERE tenant_id = :t AND user_id = :u"),  # noqa: S608
        {"t": tenant_id, "u": user_id},
    ).first()
    return None if row is None else _user(row)


def find_by_email(conn: Connection, tenant_id: uuid.UUID, email: str) -> User | None:
    row = conn.execute(
        text(
            f"SELECT {_COLUMNS} FROM users "  # noqa: S608 - constant columns
            "WHERE tenant_id = :t AND lower(email) = lower(:e)"
        ),
        {"t": tenant_id, "e": email},
    ).first()
    return None if row is None else _user(row)


def list_users(conn: Connection, tenant_id: uuid.UUID) -> list[User]:
    rows = conn.execute(
        text(
            f"SELECT {_COLUMNS} FROM users WHERE tenant_id = :t "  # noqa: S608
            "ORDER BY lower(email)"
        ),
        {"t": tenant_id},
    )
    return [_user(r) for r in rows]


def login_candidates(conn: Connection, email: str) -> list[LoginCandidate]:
    """The users with ``email`` in every tenant, oldest first (any connection)."""
    rows = conn.execute(
        text(
            "SELECT tenant_id, user_id, password_hash, role, locked_until, disabled "
            "FROM entegrator_portal_login(:e)"
        ),
        {"e": email},
    )
    return [LoginCandidate(*r) for r in rows]


def record_failure(
    conn: Connection,
    tenant_id: uuid.UUID,
    user_id: uuid.UUID,
    *,
    limit: int,
    lock_until: dt.datetime,
) -> int:
    """Count a failed login; the ``limit``-th failure in a row locks the user until
    ``lock_until``. The count after this one."""
    count = conn.execute(
        text(
            "UPDATE users SET failed_logins = failed_logins + 1, "
            "locked_until = CASE WHEN failed_logins + 1 >= :limit THEN :until "
            "ELSE locked_until END "
            "WHERE tenant_id = :t AND user_id = :u RETURNING failed_logins"
        ),
        {"t": tenant_id, "u": user_id, "limit": limit, "until": lock_until},
    ).scalar()
    return int(count or 0)


def record_success(
    conn: Connection, tenant_id: uuid.UUID, user_id: uuid.UUID, *, now: dt.datetime
) -> None:
    conn.execute(
        text(
            "UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = :now "
            "WHERE tenant_id = :t AND user_id = :u"
        ),
        {"t": tenant_id, "u": user_id, "now": now},
    )


def set_password(
    conn: Connection,
    tenant_id: uuid.UUID,
    user_id: uuid.UUID,
    password_hash: str,
    *,
    now: dt.datetime,
) -> bool:
    """A new password (which also lifts a lock-out); False when there is no such user."""
    return bool(
        conn.execute(
            text(
                "UPDATE users SET password_hash = :h, password_changed_at = :now, "
                "failed_logins = 0, locked_until = NULL WHERE tenant_id = :t AND user_id = :u"
            ),
            {"t": tenant_id, "u": user_id, "h": password_hash, "now": now},
        ).rowcount
    )


def set_totp_secret(
    conn: Connection, tenant_id: uuid.UUID, user_id: uuid.UUID, secret: bytes | None
) -> None:
    """The user's TOTP key (encrypted by the caller), or None to turn two-factor off."""
    conn.execute(
        text("UPDATE users SET totp_secret = :s WHERE tenant_id = :t AND user_id = :u"),
        {"t": tenant_id, "u": user_id, "s": secret},
    )
