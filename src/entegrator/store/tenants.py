"""Tenants (mükellefler): the companies an installation serves."""

from __future__ import annotations

import uuid

from sqlalchemy import Connection, text

__all__ = ["create_tenant"]


def create_tenant(
    conn: Connection,
    *,
    vkn: str,
    name: str,
    default_series: str = "EFA",
    earsiv_series: str = "EAR",
    tenant_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """A new tenant (system transaction)."""
    tid = tenant_id or uuid.uuid4()
    conn.execute(
        text(
            "INSERT INTO tenants (tenant_id, vkn, name, default_series, earsiv_series) "
            "VALUES (:t, :vkn, :name, :ds, :es)"
        ),
        {"t": tid, "vkn": vkn, "name": name, "ds": default_series, "es": earsiv_series},
    )
    return tid
