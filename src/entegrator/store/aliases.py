"""The tenants' GİB aliases (etiketler): mailboxes (PK) and sender units (GB)."""

from __future__ import annotations

import uuid

from sqlalchemy import Connection, text

__all__ = ["add_alias", "first_alias"]


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


def first_alias(conn: Connection, tenant_id: uuid.UUID, *, kind: str, document: str) -> str | None:
    """The tenant's oldest alias of ``kind`` (PK or GB) for ``document`` (Invoice,
    DespatchAdvice): the one it sends from or answers from; None when it has none. Only an
    alias GİB lists (``active``, or ``closing`` until GİB has closed it) counts: one asked
    for and not yet listed, or closed, does not."""
    alias: str | None = conn.execute(
        text(
            "SELECT alias FROM aliases WHERE tenant_id = :t AND kind = :k "
            "AND document = :d AND state IN ('active', 'closing') ORDER BY created_at LIMIT 1"
        ),
        {"t": tenant_id, "k": kind, "d": document},
    ).scalar()
    return alias
