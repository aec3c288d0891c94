"""The tenants' user-account requests at GİB (enrolment, alias changes, cancellation) and the
states of their aliases as GİB's list shows them. Every function runs in the caller's
transaction and never commits."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

__all__ = [
    "AliasRow",
    "Enrolment",
    "add_pending_alias",
    "aliases_of",
    "find_by_envelope",
    "insert_request",
    "list_requests",
    "mark_listed",
    "mark_requests_listed",
    "set_alias_state",
    "set_request",
    "tenants_with_changing_aliases",
    "unsettled_aliases",
]


@dataclass(frozen=True)
class Enrolment:
    request_id: uuid.UUID
    action: str
    service: str
    aliases: list[dict[str, Any]]
    envelope_id: str
    status: str
    gib_code: int | None
    gib_detail: str | None
    requested_by: str
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True)
class AliasRow:
    tenant_id: uuid.UUID
    vkn_tckn: str
    alias: str
    kind: str
    document: str
    state: str
    listed_at: dt.datetime | None
    deleted_at: dt.datetime | None


_ENROLMENT = (
    "SELECT request_id, action, service, aliases, envelope_id, status, gib_code, gib_detail, "
    "requested_by, created_at, updated_at FROM gib_enrolments"
)
_ALIAS = (
    "SELECT tenant_id, vkn_tckn, alias, kind, document, state, listed_at, deleted_at FROM aliases"
)


def _enrolment(row: Any) -> Enrolment:
    return Enrolment(
        row.request_id,
        row.action,
        row.service,
        list(row.aliases),
        row.envelope_id,
        row.status,
        row.gib_code,
        row.gib_detail,
        row.requested_by,
        row.created_at,
        row.updated_at,
    )


def insert_request(
    conn: Connection,
    tenant_id: uuid.UUID,
    *,
    action: str,
    service: str,
    aliases: Sequence[dict[str, Any]],
    envelope_id: str,
    requested_by: str,
) -> uuid.UUID:
    request_id: uuid.UUID = conn.execute(
        text(
            "INSERT INTO gib_enrolments (tenant_id, action, service, aliases, envelope_id, "
            "requested_by) VALUES (:t, :a, :s, CAST(:al AS jsonb), :e, :r) RETURNING request_id"
        ),
        {
            "t": tenant_id,
            "a": action,
            "s": service,
            "al": json.dumps(list(aliases)),
            "e": envelope_id,
            "r": requested_by,
        },
    ).scalar_one()
    return request_id


def set_request(
    conn: Connection,
    tenant_id: uuid.UUID,
    envelope_id: str,
    *,
    status: str,
    gib_code: int | None = None,
    gib_detail: str | None = None,
    only_from: Sequence[str] = (),
) -> None:
    """Record where the request carried by ``envelope_id`` stands (the code and detail are
    kept when not given; with ``only_from``, only a request in one of those statuses)."""
    conn.execute(
        text(
            "UPDATE gib_enrolments SET status = :s, gib_code = coalesce(:c, gib_code), "
            "gib_detail = coalesce(:d, gib_detail), updated_at = now() "
            "WHERE tenant_id = :t AND upper(envelope_id) = upper(:e) "
            "AND (cardinality(CAST(:f AS text[])) = 0 OR status = ANY(CAST(:f AS text[])))"
        ),
        {
            "t": tenant_id,
            "e": envelope_id,
            "s": status,
            "c": gib_code,
            "d": gib_detail,
            "f": list(only_from),
        },
    )


def find_by_envelope(conn: Connection, tenant_id: uuid.UUID, envelope_id: str) -> Enrolment | None:
    row = conn.execute(
        text(_ENROLMENT + " WHERE tenant_id = :t AND upper(envelope_id) = upper(:e)"),
        {"t": tenant_id, "e": envelope_id},
    ).first()
    return None if row is None else _enrolment(row)


def list_requests(conn: Connection, tenant_id: uuid.UUID, *, limit: int = 50) -> list[Enrolment]:
    rows = conn.execute(
        text(_ENROLMENT + " WHERE tenant_id = :t ORDER BY created_at DESC LIMIT :l"),
        {"t": tenant_id, "l": limit},
    ).all()
    return [_enrolment(r) for r in rows]


def add_pending_alias(
    conn: Connection,
    tenant_id: uuid.UUID,
    *,
    vkn_tckn: str,
    alias: str,
    kind: str,
    document: str,
) -> bool:
    """Ask for an alias: ``pending`` until GİB's list shows it. An alias of the tenant that was
    closed is asked for again; False when the tenant has it open already."""
    done = conn.execute(
        text(
            "INSERT INTO aliases (tenant_id, vkn_tckn, alias, kind, document, state) "
            "VALUES (:t, :v, :a, :k, :d, 'pending') "
            "ON CONFLICT (tenant_id, alias, kind, document) DO UPDATE SET state = 'pending', "
            "listed_at = NULL, deleted_at = NULL WHERE aliases.state = 'closed' "
            "RETURNING alias"
        ),
        {"t": tenant_id, "v": vkn_tckn, "a": alias, "k": kind, "d": document},
    ).first()
    return done is not None


def aliases_of(
    conn: Connection, tenant_id: uuid.UUID, *, document: str | None = None
) -> list[AliasRow]:
    rows = conn.execute(
        text(
            _ALIAS + " WHERE tenant_id = :t AND (CAST(:d AS text) IS NULL OR document = :d) "
            "ORDER BY created_at"
        ),
        {"t": tenant_id, "d": document},
    ).all()
    return [AliasRow(*r) for r in rows]


_ALIAS_WHERE = (
    " WHERE tenant_id = :t AND alias = :a AND kind = :k AND document = :d "
    "AND (cardinality(CAST(:f AS text[])) = 0 OR state = ANY(CAST(:f AS text[])))"
)
_DELETE_ALIAS = text("DELETE FROM aliases" + _ALIAS_WHERE)  # noqa: S608 - constants
_SET_ALIAS_STATE = text("UPDATE aliases SET state = :s" + _ALIAS_WHERE)  # noqa: S608


def set_alias_state(
    conn: Connection,
    tenant_id: uuid.UUID,
    *,
    alias: str,
    kind: str,
    document: str,
    state: str | None,
    only_from: Sequence[str] = (),
) -> int:
    """Move an alias to ``state`` (from one of ``only_from`` when given); ``state`` None
    removes it (an alias GİB never listed). How many rows changed."""
    params = {"t": tenant_id, "a": alias, "k": kind, "d": document, "f": list(only_from)}
    if state is None:
        return conn.execute(_DELETE_ALIAS, params).rowcount
    return conn.execute(_SET_ALIAS_STATE, params | {"s": state}).rowcount


def unsettled_aliases(conn: Connection) -> list[AliasRow]:
    """Every tenant's aliases waiting for GİB's list (``pending``, ``closing``). Reads every
    tenant's rows: the caller's connection is not scoped to a tenant."""
    rows = conn.execute(text(_ALIAS + " WHERE state IN ('pending', 'closing')")).all()
    return [AliasRow(*r) for r in rows]


def mark_listed(
    conn: Connection,
    row: AliasRow,
    *,
    state: str,
    listed_at: dt.datetime | None,
    deleted_at: dt.datetime | None,
) -> None:
    """Record what GİB's list says of an alias (system connection)."""
    conn.execute(
        text(
            "UPDATE aliases SET state = :s, listed_at = coalesce(:l, listed_at), "
            "deleted_at = :x WHERE tenant_id = :t AND alias = :a AND kind = :k AND document = :d"
        ),
        {
            "s": state,
            "l": listed_at,
            "x": deleted_at,
            "t": row.tenant_id,
            "a": row.alias,
            "k": row.kind,
            "d": row.document,
        },
    )


def tenants_with_changing_aliases(conn: Connection) -> list[uuid.UUID]:
    return list(
        conn.execute(
            text("SELECT DISTINCT tenant_id FROM aliases WHERE state IN ('pending', 'closing')")
        )
        .scalars()
        .all()
    )


def mark_requests_listed(conn: Connection) -> int:
    """Accepted requests whose aliases GİB's list now shows as asked (none still ``pending``
    or ``closing``) become ``listed`` (system connection); how many."""
    return conn.execute(
        text(
            "UPDATE gib_enrolments r SET status = 'listed', updated_at = now() "
            "WHERE r.status = 'accepted' AND NOT EXISTS (SELECT 1 FROM "
            "jsonb_array_elements(r.aliases) x JOIN aliases a ON a.tenant_id = r.tenant_id "
            "AND a.alias = x->>'alias' AND a.kind = x->>'kind' AND a.document = CASE r.service "
            "WHEN 'usergb' THEN 'Invoice' ELSE 'DespatchAdvice' END "
            "WHERE a.state IN ('pending', 'closing'))"
        )
    ).rowcount
