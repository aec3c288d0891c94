"""Document bytes, stored once per tenant under their SHA-256 and checked on every read."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence

from sqlalchemy import Connection, text

from entegrator.store.errors import BlobCorruptedError, NotFoundError

__all__ = ["get_blob", "get_blobs", "put_blob"]


def put_blob(conn: Connection, tenant_id: uuid.UUID, data: bytes) -> bytes:
    """Store ``data`` once under its sha256 (idempotent); returns the digest."""
    digest = hashlib.sha256(data).digest()
    conn.execute(
        text(
            "INSERT INTO blobs (tenant_id, sha256, size, data) VALUES (:t, :h, :s, :d) "
            "ON CONFLICT (tenant_id, sha256) DO NOTHING"
        ),
        {"t": tenant_id, "h": digest, "s": len(data), "d": data},
    )
    return digest


def get_blob(conn: Connection, tenant_id: uuid.UUID, digest: bytes) -> bytes:
    """The bytes stored under ``digest``, checked against it."""
    data = conn.execute(
        text("SELECT data FROM blobs WHERE tenant_id = :t AND sha256 = :h"),
        {"t": tenant_id, "h": digest},
    ).scalar()
    if data is None:
        raise NotFoundError(what="blob", ident=digest.hex())
    data = bytes(data)
    if hashlib.sha256(data).digest() != digest:
        raise BlobCorruptedError(digest=digest.hex())
    return data


def get_blobs(
    conn: Connection, tenant_id: uuid.UUID, digests: Sequence[bytes]
) -> dict[bytes, bytes]:
    """The bytes stored under each of ``digests``, in one statement, each checked against its
    digest (a missing one raises as :func:`get_blob` does)."""
    wanted = list(dict.fromkeys(digests))
    if not wanted:
        return {}
    rows = conn.execute(
        text("SELECT sha256, data FROM blobs WHERE tenant_id = :t AND sha256 = ANY(:h)"),
        {"t": tenant_id, "h": wanted},
    ).all()
    found: dict[bytes, bytes] = {}
    for row in rows:
        digest, data = bytes(row.sha256), bytes(row.data)
        if hashlib.sha256(data).digest() != digest:
            raise BlobCorruptedError(digest=digest.hex())
        found[digest] = data
    for digest in wanted:
        if digest not in found:
            raise NotFoundError(what="blob", ident=digest.hex())
    return found
