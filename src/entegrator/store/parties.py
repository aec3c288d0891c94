"""The tenants' trading partners (cari), as their documents name them."""

from __future__ import annotations

import uuid

from sqlalchemy import Connection, text

__all__ = ["remember"]


def remember(conn: Connection, tenant_id: uuid.UUID, vkn_tckn: str, name: str) -> None:
    """Note a partner the first time a document names it (the first name is kept)."""
    conn.execute(
        text(
            "INSERT INTO parties (tenant_id, vkn_tckn, name) VALUES (:t, :v, :n) "
            "ON CONFLICT (tenant_id, vkn_tckn) DO NOTHING"
        ),
        {"t": tenant_id, "v": vkn_tckn, "n": name},
    )
