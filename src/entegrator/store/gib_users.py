"""GİB's registered-user list (kayıtlı kullanıcı listesi) as this installation last fetched it
(reference data: the one table without a tenant).

Each user's VKN/TCKN, title, active PK aliases (mailboxes: where documents to the user are
delivered) and GB aliases (sender units). Every function runs in the caller's transaction and
never commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, text

__all__ = [
    "GibUser",
    "first_despatch_mailbox",
    "first_mailbox",
    "is_registered",
    "replace_users",
]


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
    # The user's e-İrsaliye aliases (document type DespatchAdvice), apart from the invoice ones.
    despatch_mailboxes: list[str] = field(default_factory=list)
    despatch_sender_units: list[str] = field(default_factory=list)


def replace_users(conn: Connection, users: Sequence[GibUser]) -> None:
    """Replace the whole list with ``users``.

    The old rows are deleted and the new ones inserted in the caller's transaction: readers
    see either list whole, never a mix or an empty table (the caller opens one transaction for
    both, on the system connection, since the application role may only read the table)."""
    conn.execute(text("DELETE FROM gib_users"))
    if users:
        conn.execute(
            text(
                "INSERT INTO gib_users (identifier, title, mailboxes, sender_units, "
                "despatch_mailboxes, despatch_sender_units) "
                "VALUES (:i, :t, :pk, :gb, :dpk, :dgb)"
            ),
            [
                {
                    "i": u.identifier,
                    "t": u.title,
                    "pk": u.mailboxes,
                    "gb": u.sender_units,
                    "dpk": u.despatch_mailboxes,
                    "dgb": u.despatch_sender_units,
                }
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


def first_despatch_mailbox(conn: Connection, identifier: str) -> str | None:
    """The first e-İrsaliye PK alias (document type DespatchAdvice) of ``identifier``: where a
    despatch advice to it is delivered. None when it is no e-İrsaliye user (an invoice
    mailbox does not count)."""
    mailbox: str | None = conn.execute(
        text("SELECT despatch_mailboxes[1] FROM gib_users WHERE identifier = :i"),
        {"i": identifier},
    ).scalar()
    return mailbox
