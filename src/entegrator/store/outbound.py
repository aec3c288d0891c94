"""Envelopes we send to GİB (giden zarflar): stored before the first attempt, then followed.

An envelope is stored with its id before it is sent once, so that every retry sends the very
same bytes and GİB's duplicate check (fault 2001) keeps it to one. ``status`` is ours:
``pending`` (to send, at ``next_attempt_at``), ``sent`` (GİB has it, its status is followed),
``final`` (nothing more to do) and ``failed`` (GİB refused it). ``gib_code`` is the last
status GİB reported (1000, 1200, 1300, 11xx …).

Every function runs in the caller's transaction and never commits.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import Connection, text

__all__ = [
    "DueEnvelope",
    "EnvelopeStanding",
    "SentEnvelope",
    "envelopes_to_poll",
    "insert_envelope",
    "lease_next_due",
    "lock_standing",
    "record_attempt",
    "set_gib_status",
    "tenants_awaiting_gib",
    "tenants_with_due_work",
]


@dataclass(frozen=True)
class DueEnvelope:
    """An envelope leased for one sending attempt: what goes over the wire."""

    envelope_id: str
    kind: str  # document, system, response
    document_id: uuid.UUID | None  # the invoice it carries (kind document, response)
    file_name: str
    md5: str
    data: bytes
    attempts: int  # counting this one


@dataclass(frozen=True)
class EnvelopeStanding:
    """Where an envelope stands, as a newly reported GİB status is weighed against it."""

    envelope_id: str
    kind: str
    document_id: uuid.UUID | None
    gib_code: int | None
    status: str


@dataclass(frozen=True)
class SentEnvelope:
    """An envelope GİB has and whose status is still followed."""

    envelope_id: str
    document_id: uuid.UUID | None
    gib_code: int | None


def insert_envelope(
    conn: Connection,
    tenant_id: uuid.UUID,
    *,
    envelope_id: str,
    kind: str,
    file_name: str,
    md5: str,
    data: bytes,
    receiver_alias: str,
    document_id: uuid.UUID | None = None,
    document_created: dt.datetime | None = None,
) -> None:
    """Store an envelope to send, ``pending`` and due at once.

    ``kind`` is ``document`` (an invoice: at most one not ``failed`` per document, a unique
    index refuses a second), ``system`` (an S_APR answering an envelope delivered to us) or
    ``response`` (a KABUL/RED; ``document_id`` names the invoice it answers)."""
    conn.execute(
        text(
            "INSERT INTO outbound_envelopes (tenant_id, envelope_id, kind, document_id, "
            "document_created, file_name, md5, data, receiver_alias) "
            "VALUES (:tenant_id, :envelope_id, :kind, :document_id, :document_created, "
            ":file_name, :md5, :data, :receiver_alias)"
        ),
        {
            "tenant_id": tenant_id,
            "envelope_id": envelope_id,
            "kind": kind,
            "document_id": document_id,
            "document_created": document_created,
            "file_name": file_name,
            "md5": md5,
            "data": data,
            "receiver_alias": receiver_alias,
        },
    )


# MATERIALIZED: picked once. A subquery with LIMIT and SKIP LOCKED may be evaluated again per
# row of the join and lease more than one envelope.
_LEASE_NEXT_DUE = text(
    "WITH d AS MATERIALIZED (SELECT envelope_id FROM outbound_envelopes "
    "WHERE tenant_id = :t AND status = 'pending' AND next_attempt_at <= now() "
    "ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED) "
    "UPDATE outbound_envelopes o SET next_attempt_at = now() + :lease, "
    "attempts = o.attempts + 1 FROM d "
    "WHERE o.tenant_id = :t AND o.envelope_id = d.envelope_id "
    "RETURNING o.envelope_id, o.kind, o.document_id, o.file_name, "
    "o.md5, o.data, o.attempts"
)


def lease_next_due(
    conn: Connection, tenant_id: uuid.UUID, *, lease: dt.timedelta
) -> DueEnvelope | None:
    """Lease the tenant's pending envelope that has been due longest; None when none is.

    Envelopes whose rows another transaction holds are skipped (``FOR UPDATE SKIP LOCKED``),
    so concurrent senders never pick the same one. The lease pushes ``next_attempt_at`` by
    ``lease`` and counts the attempt: once the caller commits, the envelope is not due again
    until the lease runs out, so an attempt cut short by a crash is retried then. Exactly one
    envelope is leased per call."""
    row = conn.execute(_LEASE_NEXT_DUE, {"t": tenant_id, "lease": lease}).first()
    if row is None:
        return None
    return DueEnvelope(
        envelope_id=row.envelope_id,
        kind=row.kind,
        document_id=row.document_id,
        file_name=row.file_name,
        md5=row.md5,
        data=bytes(row.data),
        attempts=row.attempts,
    )


def record_attempt(
    conn: Connection,
    tenant_id: uuid.UUID,
    envelope_id: str,
    *,
    status: str,
    gib_code: int | None,
    error: str | None,
    retry_after_seconds: float,
) -> None:
    """Record the outcome of a sending attempt: ``status``, GİB's code, the error (None when
    there was none) and when to try again (``retry_after_seconds`` from now).

    A status GİB reported while the attempt waited for its answer (:func:`set_gib_status`,
    recognised by a ``gib_code``) stays, with its code: it is newer than what the attempt's
    answer says."""
    conn.execute(
        text(
            "UPDATE outbound_envelopes SET status = CASE WHEN gib_code IS NULL "
            "THEN :s ELSE status END, gib_code = coalesce(gib_code, :c), "
            "last_error = :e, next_attempt_at = now() + make_interval(secs => :p) "
            "WHERE tenant_id = :t AND envelope_id = :id"
        ),
        {
            "s": status,
            "c": gib_code,
            "e": error,
            "p": retry_after_seconds,
            "t": tenant_id,
            "id": envelope_id,
        },
    )


def lock_standing(
    conn: Connection, tenant_id: uuid.UUID, envelope_id: str
) -> EnvelopeStanding | None:
    """Where the envelope stands, its row locked (``FOR UPDATE``) until the transaction ends,
    so that two reports about it are weighed one after the other; None: not ours.

    Envelope ids are GUIDs which GİB and receivers quote in either case: the id is matched as
    given, in lower case and in upper case."""
    row = conn.execute(
        text(
            "SELECT envelope_id, kind, document_id, gib_code, status FROM "
            "outbound_envelopes WHERE tenant_id = :t AND envelope_id = ANY(:e) FOR UPDATE"
        ),
        {"t": tenant_id, "e": [envelope_id, envelope_id.lower(), envelope_id.upper()]},
    ).first()
    if row is None:
        return None
    return EnvelopeStanding(
        envelope_id=row.envelope_id,
        kind=row.kind,
        document_id=row.document_id,
        gib_code=row.gib_code,
        status=row.status,
    )


def set_gib_status(
    conn: Connection, tenant_id: uuid.UUID, envelope_id: str, *, gib_code: int, status: str
) -> None:
    """Record the status GİB reported and our ``status`` that follows from it.

    The caller has weighed it against :func:`lock_standing` (a status never moves an
    envelope back) and holds the row lock; ``envelope_id`` is the id as stored."""
    conn.execute(
        text(
            "UPDATE outbound_envelopes SET gib_code = :c, status = :s "
            "WHERE tenant_id = :t AND envelope_id = :e"
        ),
        {"c": gib_code, "s": status, "t": tenant_id, "e": envelope_id},
    )


def envelopes_to_poll(conn: Connection, tenant_id: uuid.UUID) -> list[SentEnvelope]:
    """The tenant's invoice and user-account envelopes GİB has and whose status is still to
    be followed (``sent``; in no particular order, unlocked)."""
    rows = conn.execute(
        text(
            "SELECT envelope_id, document_id, gib_code FROM outbound_envelopes "
            "WHERE tenant_id = :t AND status = 'sent' AND kind IN ('document', 'user')"
        ),
        {"t": tenant_id},
    ).all()
    return [SentEnvelope(r.envelope_id, r.document_id, r.gib_code) for r in rows]


def tenants_with_due_work(conn: Connection) -> list[uuid.UUID]:
    """Tenants with an envelope whose attempt is due, or with a signed outgoing document not
    enveloped for a minute (its wake-up lost with a crash); each once, in no order.

    Reads every tenant's rows: the caller's connection is not scoped to a tenant."""
    return list(
        conn.execute(
            text(
                "SELECT tenant_id FROM outbound_envelopes WHERE status = 'pending' "
                "AND next_attempt_at <= now() UNION SELECT tenant_id FROM documents "
                "WHERE direction = 'out' AND status = 'queued' AND status_code IS NULL "
                "AND updated_at < now() - interval '1 minute' "
                "UNION SELECT tenant_id FROM documents WHERE direction = 'out' "
                "AND status = 'queued' AND status_code = 'awaiting-mailbox' "
                "UNION SELECT e.tenant_id FROM outbound_envelopes e WHERE e.kind = 'document' "
                "AND e.status = 'failed' AND e.gib_code IN (1172, 1181) AND NOT EXISTS ("
                "SELECT 1 FROM outbound_envelopes o WHERE o.tenant_id = e.tenant_id "
                "AND o.document_id = e.document_id AND o.kind = 'document' "
                "AND o.status <> 'failed')"
            )
        )
        .scalars()
        .all()
    )


def tenants_awaiting_gib(conn: Connection) -> list[uuid.UUID]:
    """Tenants with envelopes GİB took and has not settled yet (to ask it about them)."""
    return list(
        conn.execute(
            text("SELECT DISTINCT tenant_id FROM outbound_envelopes WHERE status = 'sent'")
        )
        .scalars()
        .all()
    )


@dataclass(frozen=True)
class Reroute:
    """An invoice to envelope again: its buyer moved (or was moving when it was enveloped)."""

    document_id: uuid.UUID
    created_at: dt.datetime
    receiver_id: str
    signed_sha256: bytes
    failed_alias: str | None  # the alias GİB refused (None: never enveloped)


_TO_REROUTE = text(
    "SELECT d.document_id, d.created_at, d.receiver_id, d.signed_sha256, NULL AS failed_alias "
    "FROM documents d WHERE d.tenant_id = :t AND d.direction = 'out' AND d.status = 'queued' "
    "AND d.status_code = 'awaiting-mailbox' AND d.signed_sha256 IS NOT NULL "
    "AND d.receiver_id IS NOT NULL "
    "UNION ALL SELECT DISTINCT ON (e.document_id) d.document_id, d.created_at, d.receiver_id, "
    "d.signed_sha256, e.receiver_alias FROM outbound_envelopes e JOIN documents d "
    "ON d.tenant_id = e.tenant_id AND d.document_id = e.document_id "
    "AND d.created_at = e.document_created "
    "WHERE e.tenant_id = :t AND e.kind = 'document' AND e.status = 'failed' "
    "AND e.gib_code IN (1172, 1181) AND d.status IN ('queued', 'sent', 'processing') "
    "AND d.receiver_id IS NOT NULL AND d.signed_sha256 IS NOT NULL AND NOT EXISTS ("
    "SELECT 1 FROM outbound_envelopes o WHERE o.tenant_id = e.tenant_id "
    "AND o.document_id = e.document_id AND o.kind = 'document' AND o.status <> 'failed') "
    "LIMIT :l"
)


def documents_to_reroute(
    conn: Connection, tenant_id: uuid.UUID, *, limit: int = 500
) -> list[Reroute]:
    """The tenant's invoices waiting for their buyer's new mailbox: enveloped to an alias GİB
    then refused as no longer the buyer's (1172/1181) and not enveloped again since, or
    waiting (``awaiting-mailbox``) since they were signed. Unlocked."""
    rows = conn.execute(_TO_REROUTE, {"t": tenant_id, "l": limit}).all()
    return [
        Reroute(r.document_id, r.created_at, r.receiver_id, bytes(r.signed_sha256), r.failed_alias)
        for r in rows
    ]


def still_to_reroute(conn: Connection, tenant_id: uuid.UUID, document_id: uuid.UUID) -> bool:
    """No live envelope carries the document (the caller holds the document's row lock)."""
    return not conn.execute(
        text(
            "SELECT EXISTS (SELECT 1 FROM outbound_envelopes WHERE tenant_id = :t "
            "AND document_id = :d AND kind = 'document' AND status <> 'failed')"
        ),
        {"t": tenant_id, "d": document_id},
    ).scalar_one()
