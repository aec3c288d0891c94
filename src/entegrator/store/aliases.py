"""The tenants' GİB aliases (etiketler): mailboxes (PK) and sender units (GB)."""

from __future__ import annotations

import uuid

from sqlalchemy import Connection, text

__all__ = ["add_alias"]


def add_alias(
    conn: Connection,
    tenant_id: uuid.UUID,
    *,
    vkn_tckn: str,
    alias: str,
    kind: str,
    document: str = "Invoice",
) -> None:
    """Give the tenant a GİB alias (PK: receives documents; GB: sends, receives replies)."""
    conn.execute(
        text(
            "INSERT INTO aliases (tenant_id, vkn_tckn, alias, kind, document) "
            "VALUES (:t, :v, :a, :k, :d)"
        ),
        {"t": tenant_id, "v": vkn_tckn, "a": alias, "k": kind, "d": document},
    )
