"""The tenant's audit log (append-only): who did what, when."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, text

__all__ = ["append_audit"]


def append_audit(
    conn: Connection,
    tenant_id: uuid.UUID,
    *,
    actor: str,
    action: str,
    target: str | None = None,
    data: Mapping[str, Any] | None = None,
) -> None:
    conn.execute(
        text(
            "INSERT INTO audit_log (tenant_id, actor, action, target, data) "
            "VALUES (:t, :actor, :action, :target, CAST(:data AS jsonb))"
        ),
        {
            "t": tenant_id,
            "actor": actor,
            "action": action,
            "target": target,
            "data": json.dumps(dict(data or {}), ensure_ascii=False, default=str),
        },
    )
