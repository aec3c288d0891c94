"""Each document's hash-chained event log (append-only: the database refuses changes)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

__all__ = [
    "EVENTS_INSERT",
    "GENESIS",
    "EventRow",
    "NewEvent",
    "append_events",
    "chain",
    "event_columns",
    "event_hash",
    "list_events",
    "list_events_of",
    "verify_chain",
]

GENESIS = bytes(32)


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


def list_events_of(
    conn: Connection, tenant_id: uuid.UUID, document_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[EventRow]]:
    """The event logs of many documents in one statement, each in ``seq`` order."""
    out: dict[uuid.UUID, list[EventRow]] = {d: [] for d in document_ids}
    if not document_ids:
        return out
    rows = conn.execute(
        text(
            "SELECT document_id, seq, at, type, status, actor, data, prev_hash, hash FROM events "
            "WHERE tenant_id = :t AND document_id = ANY(:d) ORDER BY document_id, seq"
        ),
        {"t": tenant_id, "d": list(document_ids)},
    ).all()
    for r in rows:
        out[uuid.UUID(str(r.document_id))].append(
            EventRow(
                r.seq, r.at, r.type, r.status, r.actor, r.data, bytes(r.prev_hash), bytes(r.hash)
            )
        )
    return out


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
