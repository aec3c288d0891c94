"""Documents: the searchable row of each outgoing and incoming document."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, text

from entegrator.store.events import EVENTS_INSERT, NewEvent, event_columns

__all__ = [
    "DOCUMENT_COLUMNS",
    "DocumentRow",
    "DocumentState",
    "StoredOutgoing",
    "ToSign",
    "claim_incoming_keys",
    "clear_seal_missing",
    "get_document",
    "insert_incoming",
    "lock_state",
    "lock_to_sign",
    "mark_seal_missing",
    "next_to_sign",
    "notify",
    "outgoing_by_ettn",
    "outgoing_since",
    "store_issued",
    "write_state",
]


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
            f"SELECT {DOCUMENT_COLUMNS} FROM documents WHERE tenant_id = :t "  # noqa: S608 - constant columns, bound values
            "AND created_at = :c AND document_id = :d" + (" FOR UPDATE" if for_update else "")
        ),
        {"t": tenant_id, "c": created_at, "d": document_id},
    ).first()
    return DocumentRow.from_row(row) if row is not None else None


# -- a document's state, as a status change needs it ---------------------------------------------


@dataclass(frozen=True)
class DocumentState:
    """What a status change reads of a document, holding its row lock."""

    document_id: uuid.UUID
    created_at: dt.datetime
    direction: str
    kind: str
    status: str
    status_code: str | None
    event_count: int
    head_hash: bytes

    @classmethod
    def from_row(cls, row: Any) -> DocumentState:
        """From a row holding these columns (by name)."""
        return cls(
            row.document_id,
            row.created_at,
            row.direction,
            row.kind,
            row.status,
            row.status_code,
            row.event_count,
            bytes(row.head_hash),
        )


def lock_state(
    conn: Connection, tenant_id: uuid.UUID, document_id: uuid.UUID, created_at: dt.datetime
) -> DocumentState | None:
    """The document's state, its row locked until the transaction ends (None: no such one)."""
    row = conn.execute(
        text(
            "SELECT document_id, created_at, direction, kind, status, status_code, event_count, "
            "head_hash FROM documents WHERE tenant_id = :t AND created_at = :c "
            "AND document_id = :d FOR UPDATE"
        ),
        {"t": tenant_id, "c": created_at, "d": document_id},
    ).first()
    if row is None:
        return None
    return DocumentState.from_row(row)


# One statement: the signed blob (when there is one), the events, the row's new state.
_WRITE_STATE = text(
    """
WITH
  blob AS (
    INSERT INTO blobs (tenant_id, sha256, size, data)
    SELECT :t, CAST(:x AS bytea), :size, CAST(:xml AS bytea) WHERE CAST(:x AS bytea) IS NOT NULL
    ON CONFLICT (tenant_id, sha256) DO NOTHING),
  ev AS ("""
    + EVENTS_INSERT
    + """)
UPDATE documents
   SET status = :status, signed_sha256 = COALESCE(CAST(:x AS bytea), signed_sha256),
       event_count = :n, head_hash = :h, updated_at = :at, status_code = :code,
       status_detail = :detail
 WHERE tenant_id = :t AND created_at = :c AND document_id = :d
"""
)


def write_state(
    conn: Connection,
    tenant_id: uuid.UUID,
    state: DocumentState,
    *,
    status: str,
    code: str | None,
    detail: str | None,
    events: Sequence[NewEvent],
    actor: str | None,
    signed: bytes | None = None,
) -> None:
    """Write a document's new status with its events (and its signed XML), in one statement.

    The caller holds the row lock (:func:`lock_state`) and chained ``events`` after it."""
    conn.execute(
        _WRITE_STATE,
        {
            "t": tenant_id,
            "c": state.created_at,
            "d": state.document_id,
            "xml": signed,
            "x": hashlib.sha256(signed).digest() if signed is not None else None,
            "size": len(signed) if signed is not None else 0,
            "status": status,
            "code": code,
            "detail": detail,
            "at": events[-1].at,
            "n": events[-1].seq,
            "h": events[-1].hash,
            "actor": actor,
            **event_columns(events),
        },
    )


# One statement: events that change no status (a delivery to the buyer), and the row's head.
_WRITE_EVENTS = text(
    """
WITH
  ev AS ("""
    + EVENTS_INSERT
    + """)
UPDATE documents
   SET event_count = :n, head_hash = :h, updated_at = :at
 WHERE tenant_id = :t AND created_at = :c AND document_id = :d
"""
)


def write_events(
    conn: Connection,
    tenant_id: uuid.UUID,
    state: DocumentState,
    *,
    events: Sequence[NewEvent],
    actor: str | None,
) -> None:
    """Append ``events`` (chained after ``state``) without changing the status; the caller
    holds the row lock (:func:`lock_state`)."""
    conn.execute(
        _WRITE_EVENTS,
        {
            "t": tenant_id,
            "c": state.created_at,
            "d": state.document_id,
            "at": events[-1].at,
            "n": events[-1].seq,
            "h": events[-1].hash,
            "actor": actor,
            **event_columns(events),
        },
    )


# The notification of the tenant's webhook endpoints about a document as it now stands.
_NOTIFY = text(
    """
SELECT entegrator_notify(CAST(:event AS text), jsonb_build_object(
    'event', CAST(:event AS text),
    'at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    'document', jsonb_build_object(
        'id', d.document_id, 'direction', d.direction, 'kind', d.kind,
        'profile', d.profile, 'type', d.type, 'number', d.number, 'ettn', d.ettn,
        'issue_date', d.issue_date, 'status', d.status, 'status_code', d.status_code,
        'status_detail', d.status_detail,
        'sender', jsonb_build_object('id', d.sender_id, 'name', d.sender_name),
        'receiver', jsonb_build_object('id', d.receiver_id, 'name', d.receiver_name),
        'currency', d.currency, 'payable', CAST(d.payable AS text))))
  FROM documents d
 WHERE d.tenant_id = :t AND d.created_at = :c AND d.document_id = :d
"""
)


def notify(
    conn: Connection,
    tenant_id: uuid.UUID,
    document_id: uuid.UUID,
    created_at: dt.datetime,
    event: str,
) -> None:
    """Queue ``event`` about the document, as it now stands, for the tenant's webhook
    endpoints (``entegrator_notify``), in the caller's transaction (after its change)."""
    conn.execute(_NOTIFY, {"event": event, "t": tenant_id, "c": created_at, "d": document_id})


# -- signing: the outgoing documents waiting for the tenant's seal --------------------------------


@dataclass(frozen=True)
class ToSign:
    """A document to sign, its row locked: its state, its XML and the tenant's active seal."""

    state: DocumentState
    xml: bytes
    xml_sha256: bytes
    seal_id: uuid.UUID | None


_TO_SIGN = """
SELECT d.document_id, d.status, d.status_code, d.direction, d.kind, d.created_at,
       d.event_count, d.head_hash, d.xml_sha256, b.data AS xml, s.seal_id
  FROM documents d
  JOIN blobs b ON b.tenant_id = d.tenant_id AND b.sha256 = d.xml_sha256
  LEFT JOIN seals s ON s.tenant_id = d.tenant_id AND s.active
"""

_LOCK_TO_SIGN = text(
    _TO_SIGN
    + """
 WHERE d.tenant_id = :t AND d.created_at = :c AND d.document_id = :d
   FOR UPDATE OF d
"""
)

# The oldest waiting document nobody else holds (workers share a tenant's queue).
_NEXT_TO_SIGN = text(
    _TO_SIGN
    + """
 WHERE d.tenant_id = :t AND d.status = 'validated' AND d.status_code IS NULL
 ORDER BY d.created_at
 LIMIT 1
   FOR UPDATE OF d SKIP LOCKED
"""
)


def _to_sign(row: Any) -> ToSign:
    return ToSign(
        DocumentState.from_row(row),
        bytes(row.xml),
        bytes(row.xml_sha256),
        row.seal_id,
    )


def lock_to_sign(
    conn: Connection, tenant_id: uuid.UUID, document_id: uuid.UUID, created_at: dt.datetime
) -> ToSign | None:
    """One document with its XML, its row locked (None: no such document)."""
    row = conn.execute(_LOCK_TO_SIGN, {"t": tenant_id, "c": created_at, "d": document_id}).first()
    return _to_sign(row) if row is not None else None


def next_to_sign(conn: Connection, tenant_id: uuid.UUID) -> ToSign | None:
    """The tenant's oldest document waiting to be signed that no other worker holds (``FOR
    UPDATE SKIP LOCKED``: workers share a tenant's documents); None when none is left."""
    row = conn.execute(_NEXT_TO_SIGN, {"t": tenant_id}).first()
    return _to_sign(row) if row is not None else None


def mark_seal_missing(conn: Connection, tenant_id: uuid.UUID, detail: str) -> None:
    """Every waiting document of the tenant waits for a seal (``status_code`` seal-missing)."""
    conn.execute(
        text(
            "UPDATE documents SET status_code = 'seal-missing', status_detail = :d "
            "WHERE tenant_id = :t AND status = 'validated' AND status_code IS NULL"
        ),
        {"t": tenant_id, "d": detail},
    )


def clear_seal_missing(conn: Connection, tenant_id: uuid.UUID) -> int:
    """A seal was installed: the documents that waited for one are signable again; how many
    documents wait to be signed now."""
    conn.execute(
        text(
            "UPDATE documents SET status_code = NULL, status_detail = NULL "
            "WHERE tenant_id = :t AND status = 'validated' AND status_code = 'seal-missing'"
        ),
        {"t": tenant_id},
    )
    waiting = conn.execute(
        text("SELECT count(*) FROM documents WHERE tenant_id = :t AND status = 'validated'"),
        {"t": tenant_id},
    ).scalar_one()
    return int(waiting)


# -- incoming documents ---------------------------------------------------------------------------


def claim_incoming_keys(
    conn: Connection,
    tenant_id: uuid.UUID,
    document_id: uuid.UUID,
    created_at: dt.datetime,
    *,
    ettn: str,
    sender_id: str,
    number: str,
) -> bool:
    """Claim an incoming document's ETTN and number for ``document_id``; False when the same
    document was filed before (a second delivery files nothing)."""
    known = conn.execute(
        text(
            "INSERT INTO document_keys (tenant_id, direction, ettn, sender_id, number, "
            "document_id, created_at) VALUES (:t, 'in', :e, :s, :n, :d, :c) "
            "ON CONFLICT DO NOTHING RETURNING document_id"
        ),
        {"t": tenant_id, "e": ettn, "s": sender_id, "n": number, "d": document_id, "c": created_at},
    ).first()
    return known is not None


def insert_incoming(
    conn: Connection,
    tenant_id: uuid.UUID,
    document_id: uuid.UUID,
    created_at: dt.datetime,
    *,
    status: str,
    number: str,
    ettn: str,
    sender_alias: str,
    xml_sha256: bytes,
    facts: dict[str, Any],
    events: Sequence[NewEvent],
    actor: str,
) -> None:
    """An incoming invoice's row and its first events (its XML is stored already)."""
    conn.execute(
        text(
            "INSERT INTO documents (tenant_id, document_id, created_at, direction, kind, "
            "profile, type, number, series, ettn, issue_date, sender_id, sender_name, "
            "receiver_id, receiver_name, currency, line_extension, tax_exclusive, tax_total, "
            "payable, status, gib_alias, xml_sha256, signed_sha256, event_count, head_hash, "
            "updated_at, kdv) VALUES (:t, :d, :c, 'in', 'invoice', :profile, :type, :number, "
            "NULL, :ettn, :issue_date, :sender_id, :sender_name, :receiver_id, "
            ":receiver_name, :currency, :line_extension, :tax_exclusive, :tax_total, "
            ":payable, :status, :alias, :x, :x, :n, :h, :c, CAST(:kdv AS jsonb))"
        ),
        {
            "kdv": None,
            "t": tenant_id,
            "d": document_id,
            "c": created_at,
            "number": number,
            "ettn": ettn,
            "x": xml_sha256,
            "n": events[-1].seq,
            "h": events[-1].hash,
            "alias": sender_alias,
            "status": status,
            **facts,
        },
    )
    conn.execute(
        text(EVENTS_INSERT),
        {"t": tenant_id, "d": document_id, "at": created_at, "actor": actor}
        | event_columns(events),
    )


def outgoing_by_ettn(conn: Connection, tenant_id: uuid.UUID, ettn: str) -> uuid.UUID | None:
    """The tenant's outgoing document with this ETTN."""
    found = conn.execute(
        text(
            "SELECT document_id FROM document_keys WHERE tenant_id = :t "
            "AND direction = 'out' AND ettn = :e"
        ),
        {"t": tenant_id, "e": ettn.upper()},
    ).scalar()
    return uuid.UUID(str(found)) if found is not None else None


# -- issuing: an accepted outgoing invoice ---------------------------------------------------------

# Everything an accepted invoice writes, in one statement (data-modifying CTEs run whether or
# not they are referenced; the job's CTE is referenced so that it runs too).
_ISSUE = text(
    """
WITH
  blob AS (
    INSERT INTO blobs (tenant_id, sha256, size, data) VALUES (:t, :x, :size, :xml)
    ON CONFLICT (tenant_id, sha256) DO NOTHING),
  dkey AS (
    INSERT INTO document_keys (tenant_id, direction, ettn, sender_id, number, document_id,
                               created_at)
    VALUES (:t, 'out', :ettn, :vkn, :number, :d, :c)),
  ev AS ("""  # noqa: S608 - a constant statement; values are bound
    + EVENTS_INSERT
    + """),
  party AS (
    INSERT INTO parties (tenant_id, vkn_tckn, name)
    SELECT :t, CAST(:receiver_id AS text), coalesce(CAST(:receiver_name AS text), '')
     WHERE CAST(:receiver_id AS text) ~ '^[0-9]{10,11}$'
    ON CONFLICT (tenant_id, vkn_tckn) DO NOTHING),
  audit AS (
    INSERT INTO audit_log (tenant_id, at, actor, action, target, data)
    VALUES (:t, :c, :actor, 'invoice.issue', CAST(:d AS text), CAST(:audit AS jsonb))),
  idem AS (
    UPDATE idempotency_keys SET status_code = 201, response = CAST(:response AS jsonb)
     WHERE tenant_id = :t AND key = CAST(:idem AS text)),
  job AS (
    SELECT entegrator_wake(:queue, :task, :lock, CAST(:job AS jsonb)) AS woke)
INSERT INTO documents (tenant_id, document_id, created_at, direction, kind, profile, type,
                       number, series, ettn, issue_date, sender_id, sender_name, receiver_id,
                       receiver_name, currency, line_extension, tax_exclusive, tax_total,
                       payable, status, xml_sha256, event_count, head_hash, updated_at, kdv)
SELECT :t, :d, :c, 'out', 'invoice', :profile, :type, :number, :series, :ettn, :issue_date,
       :sender_id, :sender_name, :receiver_id, :receiver_name, :currency, :line_extension,
       :tax_exclusive, :tax_total, :payable, :status, :x, :n, :h, :c, CAST(:kdv AS jsonb)
  FROM job
"""
)


def store_issued(
    conn: Connection,
    tenant_id: uuid.UUID,
    document_id: uuid.UUID,
    created_at: dt.datetime,
    *,
    xml: bytes,
    status: str,
    number: str,
    series: str | None,
    ettn: str,
    supplier_vkn: str,
    facts: dict[str, Any],
    events: Sequence[NewEvent],
    actor: str,
    idempotency_key: str | None,
    response: dict[str, Any],
    wake: tuple[str, str, str],
) -> None:
    """Store an accepted invoice in one statement, after its number was taken: its XML, its
    keys (ETTN and number, unique), its row and first events, the buyer as a partner, the
    audit entry, the idempotent answer, and the signing job's wake-up (``wake``: queue, task,
    queueing lock). The series' lock is held from the number to the commit, so the shorter
    this is, the more requests pass per second."""
    conn.execute(
        _ISSUE,
        {
            "t": tenant_id,
            "d": document_id,
            "c": created_at,
            "at": created_at,
            "x": hashlib.sha256(xml).digest(),
            "xml": xml,
            "size": len(xml),
            "vkn": supplier_vkn,
            "number": number,
            "series": series,
            "status": status,
            "ettn": ettn,
            "actor": actor,
            "audit": json.dumps({"number": number, "ettn": ettn}),
            "job": json.dumps({"tenant_id": str(tenant_id)}),
            "queue": wake[0],
            "task": wake[1],
            "lock": wake[2],
            "idem": idempotency_key,
            "response": json.dumps(response),
            "n": len(events),
            "h": events[-1].hash,
            **event_columns(events),
            **facts,
        },
    )


# -- sending and answering: what the sender and the answering service read and mark ------------

__all__ += [
    "DocumentRef",
    "QueuedDocument",
    "lock_next_queued",
    "set_status_code",
    "unanswered_ticarifatura",
]


@dataclass(frozen=True)
class QueuedDocument:
    """An outgoing document waiting to be enveloped, its row locked."""

    state: DocumentState
    profile: str | None
    receiver_id: str | None
    signed_sha256: bytes | None  # the signed XML's blob


def lock_next_queued(conn: Connection, tenant_id: uuid.UUID) -> QueuedDocument | None:
    """The tenant's oldest outgoing document that is ``queued`` and not yet routed
    (``status_code`` NULL), its row locked until the transaction ends; None when none is.

    Documents another transaction holds are skipped (``FOR UPDATE SKIP LOCKED``): concurrent
    senders each take a different one. Oldest first, by ``created_at``."""
    row = conn.execute(
        text(
            "SELECT document_id, created_at, direction, kind, status, status_code, "
            "profile, receiver_id, signed_sha256, event_count, head_hash "
            "FROM documents WHERE tenant_id = :t "
            "AND direction = 'out' "
            "AND status = 'queued' AND status_code IS NULL ORDER BY created_at LIMIT 1 "
            "FOR UPDATE SKIP LOCKED"
        ),
        {"t": tenant_id},
    ).first()
    if row is None:
        return None
    return QueuedDocument(
        state=DocumentState.from_row(row),
        profile=row.profile,
        receiver_id=row.receiver_id,
        signed_sha256=bytes(row.signed_sha256) if row.signed_sha256 is not None else None,
    )


def set_status_code(
    conn: Connection,
    tenant_id: uuid.UUID,
    document_id: uuid.UUID,
    created_at: dt.datetime,
    *,
    code: str,
    detail: str,
) -> None:
    """Note why a document waits (``status_code``, ``status_detail``: ``earsiv-report``,
    ``not-registered`` …) without changing its status: no event, no notification, and
    ``updated_at`` stays. The caller holds the row lock."""
    conn.execute(
        text(
            "UPDATE documents SET status_code = :c, status_detail = :d "
            "WHERE tenant_id = :t AND created_at = :ca AND document_id = :id"
        ),
        {"c": code, "d": detail, "t": tenant_id, "ca": created_at, "id": document_id},
    )


@dataclass(frozen=True)
class DocumentRef:
    """Which document of which tenant."""

    tenant_id: uuid.UUID
    document_id: uuid.UUID


def unanswered_ticarifatura(conn: Connection, *, created_before: dt.datetime) -> list[DocumentRef]:
    """TICARIFATURA invoices created before ``created_before`` that still wait for a KABUL/RED:
    outgoing ones ``sent``, ``processing`` or ``delivered``, incoming ones ``received``.

    Reads every tenant's rows (the caller's connection is not scoped to a tenant), unlocked
    and in no order: the caller locks each one and checks its status again."""
    rows = conn.execute(
        text(
            "SELECT tenant_id, document_id FROM documents WHERE profile = 'TICARIFATURA' "
            "AND ((direction = 'out' AND status IN ('delivered', 'processing', 'sent')) "
            "OR (direction = 'in' AND status = 'received')) AND created_at < :limit"
        ),
        {"limit": created_before},
    ).all()
    return [DocumentRef(r.tenant_id, r.document_id) for r in rows]


@dataclass(frozen=True)
class StoredOutgoing:
    """An outgoing document's XML as issued (before signing), with where it belongs."""

    tenant_id: uuid.UUID
    document_id: uuid.UUID
    ettn: uuid.UUID
    number: str | None
    created_at: dt.datetime
    xml: bytes


def outgoing_since(
    conn: Connection,
    since: dt.datetime,
    *,
    after: tuple[dt.datetime, uuid.UUID] | None = None,
    limit: int = 200,
) -> list[StoredOutgoing]:
    """Every tenant's outgoing documents created at or after ``since``, oldest first, a page
    at a time: the next page starts after ``after`` (the last row's created_at and id).

    Reads across tenants: the caller's connection is the schema owner's (a shadow run of a
    new rule pack, ``entegrator rules diff``)."""
    rows = conn.execute(
        text(
            "SELECT d.tenant_id, d.document_id, d.ettn, d.number, d.created_at, b.data AS xml "
            "FROM documents d "
            "JOIN blobs b ON b.tenant_id = d.tenant_id AND b.sha256 = d.xml_sha256 "
            "WHERE d.direction = 'out' AND d.created_at >= :since "
            "AND (CAST(:after_at AS timestamptz) IS NULL "
            "OR (d.created_at, d.document_id) > (:after_at, CAST(:after_id AS uuid))) "
            "ORDER BY d.created_at, d.document_id LIMIT :limit"
        ),
        {
            "since": since,
            "after_at": after[0] if after else None,
            "after_id": after[1] if after else None,
            "limit": limit,
        },
    ).all()
    return [
        StoredOutgoing(r.tenant_id, r.document_id, r.ettn, r.number, r.created_at, bytes(r.xml))
        for r in rows
    ]
