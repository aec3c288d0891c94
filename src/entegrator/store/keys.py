"""API keys: a key is stored as the SHA-256 of its secret, never the secret."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import Connection, text

__all__ = [
    "KEY_PREFIX",
    "ROLES",
    "ApiKey",
    "KeyInfo",
    "authenticate",
    "create_api_key",
    "list_api_keys",
    "revoke_api_key",
]

ROLES = ("owner", "accountant", "viewer", "api")
KEY_PREFIX = "ent"


@dataclass(frozen=True)
class ApiKey:
    tenant_id: uuid.UUID
    key_id: uuid.UUID
    role: str
    prefix: str

    @property
    def actor(self) -> str:
        return f"apikey:{self.prefix}"


def _hash_secret(secret: str) -> bytes:
    # The secret is 256 random bits: a plain hash cannot be reversed by guessing.
    return hashlib.sha256(secret.encode()).digest()


def create_api_key(
    conn: Connection, tenant_id: uuid.UUID, *, role: str = "api", name: str = "api"
) -> tuple[str, ApiKey]:
    """A new key: returns the token (shown once) and its record; only a hash is stored."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key_id = uuid.uuid4()
    conn.execute(
        text(
            "INSERT INTO api_keys (tenant_id, key_id, prefix, secret_hash, role, name) "
            "VALUES (:t, :k, :p, :h, :r, :n)"
        ),
        {"t": tenant_id, "k": key_id, "p": prefix, "h": _hash_secret(secret), "r": role, "n": name},
    )
    return f"{KEY_PREFIX}_{prefix}_{secret}", ApiKey(tenant_id, key_id, role, prefix)


def authenticate(conn: Connection, token: str) -> ApiKey | None:
    """The key a bearer token names, or None (unknown, wrong secret, revoked)."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or len(parts[1]) != 12:
        return None
    if not (parts[1].isascii() and parts[1].isalnum()):
        return None
    prefix, secret = parts[1], parts[2]
    row = conn.execute(
        text("SELECT tenant_id, key_id, secret_hash, role, revoked FROM entegrator_api_key(:p)"),
        {"p": prefix},
    ).first()
    if row is None or row.revoked:
        return None
    if not hmac.compare_digest(bytes(row.secret_hash), _hash_secret(secret)):
        return None
    return ApiKey(row.tenant_id, row.key_id, row.role, prefix)


def revoke_api_key(conn: Connection, tenant_id: uuid.UUID, prefix: str) -> bool:
    result = conn.execute(
        text(
            "UPDATE api_keys SET revoked_at = now() "
            "WHERE tenant_id = :t AND prefix = :p AND revoked_at IS NULL"
        ),
        {"t": tenant_id, "p": prefix},
    )
    return bool(result.rowcount)


@dataclass(frozen=True)
class KeyInfo:
    """A key as a settings page lists it: never its secret (only a hash is stored)."""

    prefix: str
    name: str
    role: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None


def list_api_keys(conn: Connection, tenant_id: uuid.UUID) -> list[KeyInfo]:
    rows = conn.execute(
        text(
            "SELECT prefix, name, role, created_at, revoked_at FROM api_keys "
            "WHERE tenant_id = :t ORDER BY revoked_at IS NOT NULL, created_at DESC"
        ),
        {"t": tenant_id},
    )
    return [KeyInfo(**r._mapping) for r in rows]
