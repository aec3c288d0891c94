"""GİB's registered-user list (kayıtlı kullanıcı listesi) as this installation last fetched it
(reference data: the one table without a tenant).

Each user's VKN/TCKN, title, active PK aliases (mailboxes: where documents to the user are
delivered) and GB aliases (sender units). Every function runs in the caller's transaction and
never commits.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, text

__all__ = [
    "GibUser",
    "StoredUser",
    "first_despatch_mailbox",
    "first_mailbox",
    "is_moving",
    "is_registered",
    "list_fetched",
    "list_refreshed_at",
    "lookup",
    "lookup_users",
    "replace_users",
]


def is_registered(conn: Connection, identifier: str) -> bool | None:
    """Whether GİB lists the VKN/TCKN as an e-Fatura user, with at least one active mailbox
    (PK) to deliver to, or moving between integrators (its last mailbox closed a short while
    ago: ``moving_since``); None while the list is empty (never fetched: nothing can be
    told)."""
    row = conn.execute(
        text(
            "SELECT EXISTS (SELECT 1 FROM gib_users WHERE identifier = :i "
            "AND (cardinality(mailboxes) > 0 OR moving_since IS NOT NULL)), "
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
    # When its last mailbox closed, for a user moving between integrators (none active now).
    moving_since: dt.datetime | None = None
    first_created: dt.datetime | None = None  # GİB's FirstCreationTime
    account_type: str | None = None
    # Every alias as listed, active or deleted: {"name", "kind" (PK/GB), "document"
    # (Invoice/DespatchAdvice), "created", "deleted" (ISO 8601 or null)}.
    aliases: list[dict[str, Any]] = field(default_factory=list)
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
                "moving_since, first_created, account_type, aliases, "
                "despatch_mailboxes, despatch_sender_units) "
                "VALUES (:i, :t, :pk, :gb, :m, :first, :account, CAST(:aliases AS jsonb), "
                ":dpk, :dgb)"
            ),
            [
                {
                    "i": u.identifier,
                    "t": u.title,
                    "pk": u.mailboxes,
                    "gb": u.sender_units,
                    "m": u.moving_since,
                    "first": u.first_created,
                    "account": u.account_type,
                    "aliases": json.dumps(u.aliases, ensure_ascii=False),
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


def is_moving(conn: Connection, identifier: str) -> bool:
    """A registered user between two integrators: no mailbox now, its last one closed a
    short while ago (``moving_since``)."""
    return bool(
        conn.execute(
            text(
                "SELECT EXISTS (SELECT 1 FROM gib_users WHERE identifier = :i "
                "AND cardinality(mailboxes) = 0 AND moving_since IS NOT NULL)"
            ),
            {"i": identifier},
        ).scalar()
    )


@dataclass(frozen=True)
class StoredUser:
    """A registered user as the cached list holds it, with when the list was fetched."""

    user: GibUser
    refreshed_at: dt.datetime


def lookup_users(conn: Connection, identifiers: Sequence[str]) -> dict[str, StoredUser]:
    """The listed users among ``identifiers`` (VKN/TCKN), by identifier."""
    if not identifiers:
        return {}
    rows = conn.execute(
        text(
            "SELECT identifier, title, mailboxes, sender_units, first_created, account_type, "
            "aliases, refreshed_at FROM gib_users WHERE identifier = ANY(:ids)"
        ),
        {"ids": list(identifiers)},
    )
    return {
        r.identifier: StoredUser(
            GibUser(
                identifier=r.identifier,
                title=r.title,
                mailboxes=list(r.mailboxes),
                sender_units=list(r.sender_units),
                first_created=r.first_created,
                account_type=r.account_type,
                aliases=list(r.aliases),
            ),
            r.refreshed_at,
        )
        for r in rows
    }


def list_refreshed_at(conn: Connection) -> dt.datetime | None:
    """When the cached list was last replaced (None: never fetched)."""
    when: dt.datetime | None = conn.execute(
        text("SELECT min(refreshed_at) FROM gib_users")
    ).scalar()
    return when


def first_despatch_mailbox(conn: Connection, identifier: str) -> str | None:
    """The first e-İrsaliye PK alias (document type DespatchAdvice) of ``identifier``: where a
    despatch advice to it is delivered. None when it is no e-İrsaliye user (an invoice
    mailbox does not count)."""
    mailbox: str | None = conn.execute(
        text("SELECT despatch_mailboxes[1] FROM gib_users WHERE identifier = :i"),
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
