"""Repositories: every query names its tenant (row-level security is the second wall).

Functions take a connection already inside a transaction (``Database.tenant`` or
``Database.system``), so that a use case composes several of them into one atomic step.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, text

from entegrator.store.errors import BlobCorruptedError, NotFoundError

__all__ = [
    "EVENTS_INSERT",
    "ROLES",
    "ApiKey",
    "DocumentRow",
    "EventRow",
    "add_alias",
    "append_audit",
    "append_events",
    "authenticate",
    "chain",
    "create_api_key",
    "create_tenant",
    "event_columns",
    "event_hash",
    "get_blob",
    "last_number",
    "next_number",
    "put_blob",
    "take_number",
    "verify_chain",
    "wake",
]

ROLES = ("owner", "accountant", "viewer", "api")
QUEUE = "documents"  # the procrastinate queue of the work on documents (webhooks have their own)
KEY_PREFIX = "ent"
GENESIS = bytes(32)


# -- tenants and keys ---------------------------------------------------------------------------


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


@dataclass(frozen=True)
class ApiKey:
    tenant_id: uuid.UUID
    key_id: uuid.UUID
    role: str
    prefix: str

    @property
    def actor(self) -> str:
        return f"apikey:{self.prefix}"


def _hash_secret(secret: str) -> bytes:
    # The secret is 256 random bits: a plain hash cannot be reversed by guessing.
    return hashlib.sha256(secret.encode()).digest()


def create_api_key(
    conn: Connection, tenant_id: uuid.UUID, *, role: str = "api", name: str = "api"
) -> tuple[str, ApiKey]:
    """A new key: returns the token (shown once) and its record; only a hash is stored."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key_id = uuid.uuid4()
    conn.execute(
        text(
            "INSERT INTO api_keys (tenant_id, key_id, prefix, secret_hash, role, name) "
            "VALUES (:t, :k, :p, :h, :r, :n)"
        ),
        {"t": tenant_id, "k": key_id, "p": prefix, "h": _hash_secret(secret), "r": role, "n": name},
    )
    return f"{KEY_PREFIX}_{prefix}_{secret}", ApiKey(tenant_id, key_id, role, prefix)


def authenticate(conn: Connection, token: str) -> ApiKey | None:
    """The key a bearer token names, or None (unknown, wrong secret, revoked)."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or len(parts[1]) != 12:
        return None
    if not (parts[1].isascii() and parts[1].isalnum()):
        return None
    prefix, secret = parts[1], parts[2]
    row = conn.execute(
        text("SELECT tenant_id, key_id, secret_hash, role, revoked FROM entegrator_api_key(:p)"),
        {"p": prefix},
    ).first()
    if row is None or row.revoked:
        return None
    if not hmac.compare_digest(bytes(row.secret_hash), _hash_secret(secret)):
        return None
    return ApiKey(row.tenant_id, row.key_id, row.role, prefix)


def revoke_api_key(conn: Connection, tenant_id: uuid.UUID, prefix: str) -> bool:
    result = conn.execute(
        text(
            "UPDATE api_keys SET revoked_at = now() "
            "WHERE tenant_id = :t AND prefix = :p AND revoked_at IS NULL"
        ),
        {"t": tenant_id, "p": prefix},
    )
    return bool(result.rowcount)


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


# -- numbering ----------------------------------------------------------------------------------


def next_number(conn: Connection, tenant_id: uuid.UUID, prefix: str, year: int) -> int:
    """The next sequence of a series and year.

    The counter row stays locked until the transaction ends; if it rolls back, so does the
    number. Hence no gaps and no duplicates, however many requests race for it.
    """
    value = conn.execute(
        text(
            "INSERT INTO numbering_series AS s (tenant_id, prefix, year, last_value) "
            "VALUES (:t, :p, :y, 1) ON CONFLICT (tenant_id, prefix, year) "
            "DO UPDATE SET last_value = s.last_value + 1 RETURNING last_value"
        ),
        {"t": tenant_id, "p": prefix, "y": year},
    ).scalar_one()
    return int(value)


def take_number(
    conn: Connection, tenant_id: uuid.UUID, prefix: str, year: int, sequence: int
) -> bool:
    """Take ``sequence`` of a series and year (a number given from outside) if it is the next
    one; False otherwise (a gap, or a number already given). Locks the counter like
    :func:`next_number`, so a racing twin waits and then finds it taken."""
    taken = conn.execute(
        text(
            "INSERT INTO numbering_series AS s (tenant_id, prefix, year, last_value) "
            "SELECT :t, :p, :y, :n WHERE :n = 1 OR EXISTS (SELECT 1 FROM numbering_series "
            "WHERE tenant_id = :t AND prefix = :p AND year = :y) "
            "ON CONFLICT (tenant_id, prefix, year) DO UPDATE SET last_value = EXCLUDED.last_value "
            "WHERE s.last_value = EXCLUDED.last_value - 1 RETURNING last_value"
        ),
        {"t": tenant_id, "p": prefix, "y": year, "n": sequence},
    ).first()
    return taken is not None


def last_number(conn: Connection, tenant_id: uuid.UUID, prefix: str, year: int) -> int:
    """The last sequence a series gave in a year (0: none yet)."""
    value = conn.execute(
        text(
            "SELECT last_value FROM numbering_series "
            "WHERE tenant_id = :t AND prefix = :p AND year = :y"
        ),
        {"t": tenant_id, "p": prefix, "y": year},
    ).scalar()
    return int(value or 0)


# -- blobs --------------------------------------------------------------------------------------


def put_blob(conn: Connection, tenant_id: uuid.UUID, data: bytes) -> bytes:
    """Store ``data`` once under its sha256 (idempotent); returns the digest."""
    digest = hashlib.sha256(data).digest()
    conn.execute(
        text(
            "INSERT INTO blobs (tenant_id, sha256, size, data) VALUES (:t, :h, :s, :d) "
            "ON CONFLICT (tenant_id, sha256) DO NOTHING"
        ),
        {"t": tenant_id, "h": digest, "s": len(data), "d": data},
    )
    return digest


def get_blob(conn: Connection, tenant_id: uuid.UUID, digest: bytes) -> bytes:
    """The bytes stored under ``digest``, checked against it."""
    data = conn.execute(
        text("SELECT data FROM blobs WHERE tenant_id = :t AND sha256 = :h"),
        {"t": tenant_id, "h": digest},
    ).scalar()
    if data is None:
        raise NotFoundError(what="blob", ident=digest.hex())
    data = bytes(data)
    if hashlib.sha256(data).digest() != digest:
        raise BlobCorruptedError(digest=digest.hex())
    return data


# -- event log ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventRow:
    seq: int
    at: dt.datetime
    type: str
    status: str | None
    actor: str | None
    data: dict[str, Any]
    prev_hash: bytes
    hash: bytes

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at.isoformat(),
            "type": self.type,
            "status": self.status,
            "actor": self.actor,
            "data": self.data,
            "hash": self.hash.hex(),
        }


def _canonical(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def event_hash(
    prev: bytes,
    *,
    document_id: uuid.UUID,
    seq: int,
    at: dt.datetime,
    type_: str,
    status: str | None,
    actor: str | None,
    data: Mapping[str, Any],
) -> bytes:
    """sha256(previous hash ‖ canonical JSON of the event): the chain a verifier recomputes."""
    body = {
        "document_id": str(document_id),
        "seq": seq,
        "at": at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "type": type_,
        "status": status,
        "actor": actor,
        "data": data,
    }
    return hashlib.sha256(prev + _canonical(body)).digest()


@dataclass(frozen=True)
class NewEvent:
    seq: int
    at: dt.datetime
    type: str
    status: str | None
    actor: str | None
    data: Mapping[str, Any]
    prev_hash: bytes
    hash: bytes


def chain(
    document_id: uuid.UUID,
    *,
    after_seq: int,
    after_hash: bytes,
    events: Sequence[tuple[str, str | None, Mapping[str, Any]]],
    actor: str | None,
    at: dt.datetime | None = None,
) -> list[NewEvent]:
    """``(type, status, data)`` events numbered and hashed after ``after_seq``/``after_hash``."""
    when = (at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    out: list[NewEvent] = []
    seq, head = after_seq, after_hash
    for type_, status, data in events:
        seq += 1
        h = event_hash(
            head,
            document_id=document_id,
            seq=seq,
            at=when,
            type_=type_,
            status=status,
            actor=actor,
            data=data,
        )
        out.append(NewEvent(seq, when, type_, status, actor, data, head, h))
        head = h
    return out


def event_columns(events: Sequence[NewEvent]) -> dict[str, list[Any]]:
    """The events as parallel arrays (``unnest`` in one INSERT)."""
    return {
        "ev_seq": [e.seq for e in events],
        "ev_type": [e.type for e in events],
        "ev_status": [e.status for e in events],
        "ev_data": [json.dumps(e.data, ensure_ascii=False) for e in events],
        "ev_prev": [e.prev_hash for e in events],
        "ev_hash": [e.hash for e in events],
    }


# Events given as parallel arrays (``event_columns``), for :t, :d, :at and :actor. Used on its
# own and inside the issuing and signing statements.
EVENTS_INSERT = """
    INSERT INTO events (tenant_id, document_id, seq, at, type, status, actor, data,
                        prev_hash, hash)
    SELECT :t, :d, e.seq, :at, e.type, e.status, :actor, CAST(e.data AS jsonb), e.prev, e.hash
      FROM unnest(CAST(:ev_seq AS int[]), CAST(:ev_type AS text[]), CAST(:ev_status AS text[]),
                  CAST(:ev_data AS text[]), CAST(:ev_prev AS bytea[]), CAST(:ev_hash AS bytea[]))
           AS e(seq, type, status, data, prev, hash)"""


def append_events(
    conn: Connection,
    tenant_id: uuid.UUID,
    document_id: uuid.UUID,
    *,
    after_seq: int,
    after_hash: bytes,
    events: Sequence[tuple[str, str | None, Mapping[str, Any]]],
    actor: str | None,
    at: dt.datetime | None = None,
) -> tuple[int, bytes]:
    """Append ``(type, status, data)`` events after ``after_seq``; the new (count, head hash).

    The caller holds the document's row lock, so the chain has one writer at a time.
    """
    new = chain(
        document_id, after_seq=after_seq, after_hash=after_hash, events=events, actor=actor, at=at
    )
    conn.execute(
        text(EVENTS_INSERT),
        {"t": tenant_id, "d": document_id, "at": new[0].at, "actor": actor} | event_columns(new),
    )
    return new[-1].seq, new[-1].hash


def list_events(conn: Connection, tenant_id: uuid.UUID, document_id: uuid.UUID) -> list[EventRow]:
    rows = conn.execute(
        text(
            "SELECT seq, at, type, status, actor, data, prev_hash, hash FROM events "
            "WHERE tenant_id = :t AND document_id = :d ORDER BY seq"
        ),
        {"t": tenant_id, "d": document_id},
    ).all()
    return [
        EventRow(r.seq, r.at, r.type, r.status, r.actor, r.data, bytes(r.prev_hash), bytes(r.hash))
        for r in rows
    ]


def verify_chain(
    events: Sequence[EventRow], document_id: uuid.UUID, head: bytes | None = None
) -> list[str]:
    """Problems with a document's event chain (empty: intact and ending at ``head``)."""
    problems: list[str] = []
    prev = GENESIS
    for expected_seq, e in enumerate(events, start=1):
        if e.seq != expected_seq:
            problems.append(f"event {expected_seq} missing (found {e.seq})")
        if e.prev_hash != prev:
            problems.append(f"event {e.seq}: previous hash does not match")
        recomputed = event_hash(
            e.prev_hash,
            document_id=document_id,
            seq=e.seq,
            at=e.at,
            type_=e.type,
            status=e.status,
            actor=e.actor,
            data=e.data,
        )
        if recomputed != e.hash:
            problems.append(f"event {e.seq}: content does not match its hash")
        prev = e.hash
    if head is not None and prev != head:
        problems.append("the chain does not end at the document's head hash")
    return problems


# -- audit --------------------------------------------------------------------------------------


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


# -- documents ----------------------------------------------------------------------------------

DOCUMENT_COLUMNS = (
    "document_id, created_at, direction, kind, profile, type, number, series, ettn, issue_date, "
    "sender_id, sender_name, receiver_id, receiver_name, currency, line_extension, "
    "tax_exclusive, tax_total, payable, status, status_code, status_detail, gib_alias, "
    "xml_sha256, "
    "signed_sha256, event_count, head_hash, updated_at"
)


@dataclass(frozen=True)
class DocumentRow:
    document_id: uuid.UUID
    created_at: dt.datetime
    direction: str
    kind: str
    profile: str | None
    type: str | None
    number: str | None
    series: str | None
    ettn: uuid.UUID
    issue_date: dt.date | None
    sender_id: str | None
    sender_name: str | None
    receiver_id: str | None
    receiver_name: str | None
    currency: str | None
    line_extension: Decimal | None
    tax_exclusive: Decimal | None
    tax_total: Decimal | None
    payable: Decimal | None
    status: str
    status_code: str | None
    status_detail: str | None
    gib_alias: str | None
    xml_sha256: bytes
    signed_sha256: bytes | None
    event_count: int
    head_hash: bytes
    updated_at: dt.datetime

    @classmethod
    def from_row(cls, row: Any) -> DocumentRow:
        values = dict(row._mapping)
        for name in ("xml_sha256", "signed_sha256", "head_hash"):
            if values[name] is not None:
                values[name] = bytes(values[name])
        return cls(**values)


def get_document(
    conn: Connection,
    tenant_id: uuid.UUID,
    document_id: uuid.UUID,
    created_at: dt.datetime,
    *,
    for_update: bool = False,
) -> DocumentRow | None:
    row = conn.execute(
        text(
            f"SELECT {DOCUMENT_COLUMNS} FROM documents WHERE tenant_id = :t "  # noqa: S608 - constant columns; values are bound
            "AND created_at = :c AND document_id = :d" + (" FOR UPDATE" if for_update else "")
        ),
        {"t": tenant_id, "c": created_at, "d": document_id},
    ).first()
    return DocumentRow.from_row(row) if row is not None else None


# -- jobs ---------------------------------------------------------------------------------------


def wake(
    conn: Connection, task: str, tenant_id: uuid.UUID, *, lock: str, queue: str = QUEUE
) -> bool:
    """Make sure a job ``task`` for the tenant is waiting in ``queue``, in the caller's
    transaction: one waiting job per ``lock`` (requests share it). The rows it works on are
    the durable to-do list; the job only wakes a worker. True when this call queued it."""
    return bool(
        conn.execute(
            text("SELECT entegrator_wake(:q, :task, :lock, CAST(:args AS jsonb))"),
            {
                "q": queue,
                "task": task,
                "lock": lock,
                "args": json.dumps({"tenant_id": str(tenant_id)}),
            },
        ).scalar()
    )
