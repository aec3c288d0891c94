"""Envelopes GİB delivered to us, stored as received before we answer, then processed."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Connection, text

__all__ = [
    "Delivered",
    "WaitingEnvelope",
    "alias_tenant",
    "find",
    "next_waiting",
    "record_outcome",
    "store_envelope",
]


def alias_tenant(conn: Connection, alias: str, kind: str) -> uuid.UUID | None:
    """The tenant an alias (PK or GB) of this installation belongs to (through the SECURITY
    DEFINER function ``entegrator_alias_tenant``: no tenant is in scope yet)."""
    found = conn.execute(
        text("SELECT entegrator_alias_tenant(:a, :k)"), {"a": alias, "k": kind}
    ).scalar()
    return uuid.UUID(str(found)) if found is not None else None


def store_envelope(
    conn: Connection,
    tenant_id: uuid.UUID,
    envelope_id: str,
    *,
    file_name: str,
    md5: str,
    data: bytes,
    envelope_type: str,
) -> bool:
    """Keep a delivered envelope; False when it was kept before (GİB delivers again when it
    missed our answer)."""
    stored = conn.execute(
        text(
            "INSERT INTO inbound_envelopes (tenant_id, envelope_id, file_name, md5, data, "
            "envelope_type) VALUES (:t, :e, :f, :m, :d, :ty) "
            "ON CONFLICT (tenant_id, envelope_id) DO NOTHING RETURNING envelope_id"
        ),
        {
            "t": tenant_id,
            "e": envelope_id,
            "f": file_name,
            "m": md5,
            "d": data,
            "ty": envelope_type,
        },
    ).first()
    return stored is not None


@dataclass(frozen=True)
class Delivered:
    tenant_id: uuid.UUID
    status: str  # received, processed, refused
    code: int | None
    detail: str | None


def find(conn: Connection, envelope_id: str) -> Delivered | None:
    """A delivered envelope by id, whoever's it is (GİB asks without naming the tenant)."""
    row = conn.execute(
        text(
            "SELECT tenant_id, status, code, detail FROM inbound_envelopes WHERE envelope_id = :e"
        ),
        {"e": envelope_id},
    ).first()
    return Delivered(row.tenant_id, row.status, row.code, row.detail) if row else None


@dataclass(frozen=True)
class WaitingEnvelope:
    envelope_id: str
    file_name: str
    data: bytes


def next_waiting(conn: Connection, tenant_id: uuid.UUID) -> WaitingEnvelope | None:
    """The tenant's oldest envelope still to process, locked (``SKIP LOCKED``: workers share a
    tenant's envelopes); None when none waits."""
    row = conn.execute(
        text(
            "SELECT envelope_id, file_name, data FROM inbound_envelopes "
            "WHERE tenant_id = :t AND status = 'received' ORDER BY received_at "
            "LIMIT 1 FOR UPDATE SKIP LOCKED"
        ),
        {"t": tenant_id},
    ).first()
    return WaitingEnvelope(row.envelope_id, row.file_name, bytes(row.data)) if row else None


def record_outcome(
    conn: Connection, tenant_id: uuid.UUID, envelope_id: str, *, code: int, detail: str | None
) -> None:
    """The envelope was processed: 1200 (``processed``) or the code it was refused with."""
    conn.execute(
        text(
            "UPDATE inbound_envelopes SET status = :s, code = :c, detail = :d, "
            "processed_at = now() WHERE tenant_id = :t AND envelope_id = :e"
        ),
        {
            "s": "processed" if code == 1200 else "refused",
            "c": code,
            "d": detail,
            "t": tenant_id,
            "e": envelope_id,
        },
    )
