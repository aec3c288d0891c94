"""GİB's registered-user list (kayıtlı kullanıcı listesi) as this installation last fetched it
(reference data: the one table without a tenant).

Each user's VKN/TCKN, title, active PK aliases (mailboxes: where documents to the user are
delivered) and GB aliases (sender units). Every function runs in the caller's transaction and
never commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, text

__all__ = ["GibUser", "first_mailbox", "is_registered", "list_fetched", "lookup", "replace_users"]


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


@dataclass(frozen=True)
class GibUser:
    """One registered user, as stored."""

    identifier: str  # VKN or TCKN
    title: str
    mailboxes: list[str]  # PK aliases, in the list's order
    sender_units: list[str]  # GB aliases


def replace_users(conn: Connection, users: Sequence[GibUser]) -> None:
    """Replace the whole list with ``users``.

    The old rows are deleted and the new ones inserted in the caller's transaction: readers
    see either list whole, never a mix or an empty table (the caller opens one transaction for
    both, on the system connection, since the application role may only read the table)."""
    conn.execute(text("DELETE FROM gib_users"))
    if users:
        conn.execute(
            text(
                "INSERT INTO gib_users (identifier, title, mailboxes, sender_units) "
                "VALUES (:i, :t, :pk, :gb)"
            ),
            [
                {"i": u.identifier, "t": u.title, "pk": u.mailboxes, "gb": u.sender_units}
                for u in users
            ],
        )


def first_mailbox(conn: Connection, identifier: str) -> str | None:
    """The first PK alias of the registered user ``identifier`` (VKN/TCKN): where an invoice
    to it is delivered. None when it is not in the list or has no mailbox."""
    mailbox: str | None = conn.execute(
        text("SELECT mailboxes[1] FROM gib_users WHERE identifier = :i"),
        {"i": identifier},
    ).scalar()
    return mailbox


def lookup(conn: Connection, identifier: str) -> GibUser | None:
    """The registered user ``identifier`` (VKN/TCKN) as the list holds it, or None."""
    row = conn.execute(
        text(
            "SELECT identifier, title, mailboxes, sender_units FROM gib_users WHERE identifier = :i"
        ),
        {"i": identifier},
    ).first()
    if row is None:
        return None
    return GibUser(row.identifier, row.title, list(row.mailboxes), list(row.sender_units))


def list_fetched(conn: Connection) -> bool:
    """Whether the list was ever fetched (it holds at least one user)."""
    return bool(conn.execute(text("SELECT EXISTS (SELECT 1 FROM gib_users)")).scalar())
