"""Idempotency keys: a request sent again under the same key gets the first answer."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

__all__ = ["Remembered", "claim", "find"]


@dataclass(frozen=True)
class Remembered:
    request_sha256: bytes
    status_code: int  # 0 while the first request is under way
    response: dict[str, Any]


def find(conn: Connection, tenant_id: uuid.UUID, key: str) -> Remembered | None:
    row = conn.execute(
        text(
            "SELECT request_sha256, status_code, response FROM idempotency_keys "
            "WHERE tenant_id = :t AND key = :k"
        ),
        {"t": tenant_id, "k": key},
    ).first()
    if row is None:
        return None
    return Remembered(bytes(row.request_sha256), row.status_code, row.response)


def claim(conn: Connection, tenant_id: uuid.UUID, key: str, request_sha256: bytes) -> bool:
    """Claim a key for a request under way; False when another request holds or held it (a
    concurrent twin waits on the row until the holder's transaction ends)."""
    claimed = conn.execute(
        text(
            "INSERT INTO idempotency_keys (tenant_id, key, request_sha256, "
            "status_code, response) VALUES (:t, :k, :h, 0, '{}') "
            "ON CONFLICT DO NOTHING RETURNING key"
        ),
        {"t": tenant_id, "k": key, "h": request_sha256},
    ).first()
    return claimed is not None
