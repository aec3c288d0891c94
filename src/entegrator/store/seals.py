"""The tenants' financial seals (mali mühür): certificate, chain, and the private key encrypted
under the installation key (``signing.vault``); one seal active per tenant."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, text

__all__ = [
    "SealInfo",
    "StoredSeal",
    "active_seal_id",
    "active_seal_info",
    "insert_seal",
    "read_seal",
]


@dataclass(frozen=True)
class StoredSeal:
    certificate: bytes  # DER
    chain: tuple[bytes, ...]  # DER, issuer first
    key_nonce: bytes
    key_ciphertext: bytes


def insert_seal(
    conn: Connection,
    tenant_id: uuid.UUID,
    seal_id: uuid.UUID,
    *,
    certificate: bytes,
    chain: Sequence[bytes],
    key_nonce: bytes,
    key_ciphertext: bytes,
    subject: str,
    identity: str | None,
    not_after: dt.datetime,
) -> None:
    """Make this seal the tenant's active one; the previous one stays, inactive."""
    conn.execute(
        text("UPDATE seals SET active = false WHERE tenant_id = :t AND active"), {"t": tenant_id}
    )
    conn.execute(
        text(
            "INSERT INTO seals (tenant_id, seal_id, certificate, chain, key_nonce, "
            "key_ciphertext, subject, identity, not_after) "
            "VALUES (:t, :s, :c, :chain, :n, :k, :subj, :ident, :na)"
        ),
        {
            "t": tenant_id,
            "s": seal_id,
            "c": certificate,
            "chain": list(chain),
            "n": key_nonce,
            "k": key_ciphertext,
            "subj": subject,
            "ident": identity,
            "na": not_after,
        },
    )


def read_seal(conn: Connection, tenant_id: uuid.UUID, seal_id: uuid.UUID) -> StoredSeal:
    row = conn.execute(
        text(
            "SELECT certificate, chain, key_nonce, key_ciphertext FROM seals "
            "WHERE tenant_id = :t AND seal_id = :s"
        ),
        {"t": tenant_id, "s": seal_id},
    ).one()
    return StoredSeal(
        bytes(row.certificate),
        tuple(bytes(c) for c in row.chain),
        bytes(row.key_nonce),
        bytes(row.key_ciphertext),
    )


def active_seal_id(conn: Connection, tenant_id: uuid.UUID) -> uuid.UUID | None:
    """The tenant's active seal, if it has one."""
    found = conn.execute(
        text("SELECT seal_id FROM seals WHERE tenant_id = :t AND active"), {"t": tenant_id}
    ).scalar()
    return uuid.UUID(str(found)) if found is not None else None


@dataclass(frozen=True)
class SealInfo:
    """The active seal as a settings page shows it (never its key)."""

    subject: str
    identity: str | None
    not_after: dt.datetime
    created_at: dt.datetime


def active_seal_info(conn: Connection, tenant_id: uuid.UUID) -> SealInfo | None:
    row = conn.execute(
        text(
            "SELECT subject, identity, not_after, created_at FROM seals "
            "WHERE tenant_id = :t AND active"
        ),
        {"t": tenant_id},
    ).first()
    return None if row is None else SealInfo(**row._mapping)
