"""GİB's registered-user list as this installation last fetched it (reference data: the one
table without a tenant)."""

from __future__ import annotations

from sqlalchemy import Connection, text

__all__ = ["is_registered"]


def is_registered(conn: Connection, identifier: str) -> bool | None:
    """Whether GİB lists the VKN/TCKN as an e-Fatura user, with at least one active mailbox
    (PK) to deliver to; None while the list is empty (never fetched: nothing can be told)."""
    row = conn.execute(
        text(
            "SELECT EXISTS (SELECT 1 FROM gib_users WHERE identifier = :i "
            "AND cardinality(mailboxes) > 0), "
            "EXISTS (SELECT 1 FROM gib_users)"
        ),
        {"i": identifier},
    ).one()
    return bool(row[0]) if row[1] else None
