"""e-Arşiv reports (e-Arşiv raporu): what was reported, in which report, and what is left.

An e-Arşiv invoice (profile ``EARSIVFATURA``, signed) is *unreported* while no row of
``earsiv_report_items`` of kind ``fatura`` names it; a cancellation while none of kind
``iptal`` does. The items' key (tenant, kind, document) makes a second report of the same
invoice impossible; a report is stored with its items in one transaction, under a per-tenant
advisory lock, so that two preparers never number the same part.

Days are Istanbul days: an invoice belongs to the day it reached the platform
(``created_at`` in ``Europe/Istanbul``). Every function runs in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

__all__ = [
    "CancellationRow",
    "DueReport",
    "ReportRow",
    "Unreported",
    "get_cancellation",
    "get_report",
    "insert_cancellation",
    "insert_items",
    "insert_report",
    "items_of",
    "lease_next_due",
    "list_reports",
    "lock_tenant",
    "next_part",
    "notify_tenant",
    "overdue_invoices",
    "record_attempt",
    "release_items",
    "reports_to_poll",
    "settle_report",
    "tenants_due",
    "unreported_cancellations",
    "unreported_invoices",
]

DAY = "((d.created_at AT TIME ZONE 'Europe/Istanbul')::date)"
# An e-Arşiv invoice a report may still have to carry (the partial index documents_earsiv_open):
# signed and waiting, or cancelled; a reported one never is again.
OPEN = (
    "d.profile = 'EARSIVFATURA' AND d.direction = 'out' AND d.status IN ('queued', 'cancelled') "
    "AND d.signed_sha256 IS NOT NULL"
)


@dataclass(frozen=True)
class Unreported:
    """An e-Arşiv invoice or cancellation no report carried yet."""

    document_id: uuid.UUID
    created_at: dt.datetime
    number: str
    day: dt.date  # the Istanbul day it belongs to
    signed_sha256: bytes | None  # invoices: the stored signed XML
    total: str | None = None  # cancellations: toplamTutar
    ettn: str | None = None  # invoices


@dataclass(frozen=True)
class ReportRow:
    report_id: uuid.UUID
    period: dt.date
    part: int
    part_start: dt.date
    part_end: dt.date
    preparer: str
    invoices: int
    cancellations: int
    status: str
    gib_code: int | None
    gib_text: str | None
    attempts: int
    last_error: str | None
    created_at: dt.datetime
    sent_at: dt.datetime | None
    settled_at: dt.datetime | None


@dataclass(frozen=True)
class DueReport:
    report_id: uuid.UUID
    zip: bytes
    attempts: int


@dataclass(frozen=True)
class CancellationRow:
    document_id: uuid.UUID
    number: str
    cancelled_on: dt.date
    total: str
    reason: str


_REPORT_COLUMNS = (
    "report_id, period, part, part_start, part_end, preparer, invoices, cancellations, "
    "status, gib_code, gib_text, attempts, last_error, created_at, sent_at, settled_at"
)


def lock_tenant(conn: Connection, tenant_id: uuid.UUID) -> None:
    """Hold the tenant's report lock until the transaction ends (one preparer at a time)."""
    conn.execute(
        text("SELECT pg_advisory_xact_lock(hashtext('earsiv-report:' || CAST(:t AS text)))"),
        {"t": tenant_id},
    )


def unreported_invoices(
    conn: Connection, tenant_id: uuid.UUID, *, through: dt.date, limit: int
) -> list[Unreported]:
    """Signed e-Arşiv invoices of days up to ``through`` that no report carried, oldest first."""
    rows = conn.execute(
        text(
            f"SELECT d.document_id, d.created_at, d.number, d.ettn, d.signed_sha256, {DAY} AS day "  # noqa: S608 - constant SQL
            f"FROM documents d WHERE d.tenant_id = :t AND {OPEN} "
            f"AND {DAY} <= :through AND NOT EXISTS (SELECT 1 FROM earsiv_report_items i "
            "WHERE i.tenant_id = d.tenant_id AND i.kind = 'fatura' "
            "AND i.document_id = d.document_id) ORDER BY d.created_at, d.document_id LIMIT :n"
        ),
        {"t": tenant_id, "through": through, "n": limit},
    ).all()
    return [
        Unreported(
            r.document_id,
            r.created_at,
            r.number,
            r.day,
            bytes(r.signed_sha256),
            ettn=str(r.ettn).upper(),
        )
        for r in rows
    ]


def unreported_cancellations(
    conn: Connection, tenant_id: uuid.UUID, *, through: dt.date, limit: int
) -> list[Unreported]:
    """Cancellations of days up to ``through`` that no report carried, oldest first."""
    rows = conn.execute(
        text(
            "SELECT c.document_id, c.document_created, c.number, c.cancelled_on, c.total "
            "FROM earsiv_cancellations c WHERE c.tenant_id = :t AND c.cancelled_on <= :through "
            "AND NOT EXISTS (SELECT 1 FROM earsiv_report_items i WHERE i.tenant_id = c.tenant_id "
            "AND i.kind = 'iptal' AND i.document_id = c.document_id) "
            "ORDER BY c.created_at, c.document_id LIMIT :n"
        ),
        {"t": tenant_id, "through": through, "n": limit},
    ).all()
    return [
        Unreported(r.document_id, r.document_created, r.number, r.cancelled_on, None, r.total)
        for r in rows
    ]


def next_part(conn: Connection, tenant_id: uuid.UUID, period: dt.date) -> int:
    """The next part number (bolumNo) of the period: one after the last not refused."""
    last = conn.execute(
        text(
            "SELECT max(part) FROM earsiv_reports WHERE tenant_id = :t AND period = :p "
            "AND status <> 'failed'"
        ),
        {"t": tenant_id, "p": period},
    ).scalar()
    return int(last or 0) + 1


def insert_report(
    conn: Connection,
    tenant_id: uuid.UUID,
    *,
    report_id: uuid.UUID,
    period: dt.date,
    part: int,
    part_start: dt.date,
    part_end: dt.date,
    preparer: str,
    invoices: int,
    cancellations: int,
    xml: bytes,
    xml_sha256: bytes,
    zip_data: bytes,
) -> None:
    """Store a signed report, ``pending`` and due at once."""
    conn.execute(
        text(
            "INSERT INTO earsiv_reports (tenant_id, report_id, period, part, part_start, "
            "part_end, preparer, invoices, cancellations, xml, xml_sha256, zip) VALUES "
            "(:t, :r, :p, :n, :ps, :pe, :h, :i, :c, :x, :xs, :z)"
        ),
        {
            "t": tenant_id,
            "r": report_id,
            "p": period,
            "n": part,
            "ps": part_start,
            "pe": part_end,
            "h": preparer,
            "i": invoices,
            "c": cancellations,
            "x": xml,
            "xs": xml_sha256,
            "z": zip_data,
        },
    )


def insert_items(
    conn: Connection,
    tenant_id: uuid.UUID,
    report_id: uuid.UUID,
    kind: str,
    items: Sequence[tuple[uuid.UUID, str]],
) -> None:
    """Name ``report_id`` as the report carrying each (document, number); a document already
    carried by another report violates the key (nothing is reported twice)."""
    if not items:
        return
    conn.execute(
        text(
            "INSERT INTO earsiv_report_items (tenant_id, kind, document_id, report_id, number) "
            "VALUES (:t, :k, :d, :r, :n)"
        ),
        [{"t": tenant_id, "k": kind, "d": d, "r": report_id, "n": n} for d, n in items],
    )


def items_of(
    conn: Connection, tenant_id: uuid.UUID, report_id: uuid.UUID
) -> list[tuple[str, uuid.UUID, str]]:
    """(kind, document, number) of each entry the report carried."""
    rows = conn.execute(
        text(
            "SELECT kind, document_id, number FROM earsiv_report_items "
            "WHERE tenant_id = :t AND report_id = :r ORDER BY kind, number"
        ),
        {"t": tenant_id, "r": report_id},
    ).all()
    return [(r.kind, r.document_id, r.number) for r in rows]


def release_items(conn: Connection, tenant_id: uuid.UUID, report_id: uuid.UUID) -> int:
    """Free the entries of a report GİB refused, for the next report; how many."""
    result = conn.execute(
        text("DELETE FROM earsiv_report_items WHERE tenant_id = :t AND report_id = :r"),
        {"t": tenant_id, "r": report_id},
    )
    return int(result.rowcount or 0)


_LEASE = text(
    "WITH d AS MATERIALIZED (SELECT report_id FROM earsiv_reports WHERE tenant_id = :t "
    "AND status = 'pending' AND next_attempt_at <= now() ORDER BY period, part LIMIT 1 "
    "FOR UPDATE SKIP LOCKED) UPDATE earsiv_reports r SET next_attempt_at = now() + :lease, "
    "attempts = r.attempts + 1 FROM d WHERE r.tenant_id = :t AND r.report_id = d.report_id "
    "RETURNING r.report_id, r.zip, r.attempts"
)


def lease_next_due(
    conn: Connection, tenant_id: uuid.UUID, *, lease: dt.timedelta
) -> DueReport | None:
    """Lease the tenant's oldest pending report for one sending attempt (as
    ``outbound.lease_next_due``: a crash mid-attempt is retried when the lease runs out)."""
    row = conn.execute(_LEASE, {"t": tenant_id, "lease": lease}).first()
    return DueReport(row.report_id, bytes(row.zip), row.attempts) if row is not None else None


def record_attempt(
    conn: Connection,
    tenant_id: uuid.UUID,
    report_id: uuid.UUID,
    *,
    status: str,
    error: str | None,
    retry_after_seconds: float,
    gib_code: int | None = None,
) -> None:
    """The outcome of a sending attempt: ``sent`` (GİB has it), ``pending`` (try again after
    ``retry_after_seconds``) or ``failed`` (refused, with GİB's code)."""
    conn.execute(
        text(
            "UPDATE earsiv_reports SET status = :s, last_error = :e, "
            "gib_code = coalesce(:c, gib_code), "
            "sent_at = CASE WHEN :s = 'sent' THEN now() ELSE sent_at END, "
            "settled_at = CASE WHEN :s = 'failed' THEN now() ELSE settled_at END, "
            "next_attempt_at = now() + make_interval(secs => :p) "
            "WHERE tenant_id = :t AND report_id = :r AND status = 'pending'"
        ),
        {
            "s": status,
            "e": error,
            "c": gib_code,
            "p": retry_after_seconds,
            "t": tenant_id,
            "r": report_id,
        },
    )


def reports_to_poll(conn: Connection, tenant_id: uuid.UUID) -> list[uuid.UUID]:
    """Reports GİB has and has not settled yet, oldest first."""
    return list(
        conn.execute(
            text(
                "SELECT report_id FROM earsiv_reports WHERE tenant_id = :t AND status = 'sent' "
                "ORDER BY period, part"
            ),
            {"t": tenant_id},
        )
        .scalars()
        .all()
    )


def settle_report(
    conn: Connection,
    tenant_id: uuid.UUID,
    report_id: uuid.UUID,
    *,
    status: str,
    gib_code: int,
    gib_text: str | None,
) -> bool:
    """Record GİB's answer about a sent report; False when it was settled already."""
    result = conn.execute(
        text(
            "UPDATE earsiv_reports SET status = :s, gib_code = :c, gib_text = :x, "
            "settled_at = CASE WHEN :s IN ('succeeded', 'failed') THEN now() END "
            "WHERE tenant_id = :t AND report_id = :r AND status = 'sent'"
        ),
        {"s": status, "c": gib_code, "x": gib_text, "t": tenant_id, "r": report_id},
    )
    return bool(result.rowcount)


def _report(row: Any) -> ReportRow:
    return ReportRow(**dict(row._mapping))


def list_reports(
    conn: Connection,
    tenant_id: uuid.UUID,
    *,
    status: str | None = None,
    period: dt.date | None = None,
    limit: int = 100,
) -> list[ReportRow]:
    """The tenant's reports, newest period and part first."""
    rows = conn.execute(
        text(
            f"SELECT {_REPORT_COLUMNS} FROM earsiv_reports WHERE tenant_id = :t "  # noqa: S608 - constant columns
            "AND (CAST(:s AS text) IS NULL OR status = :s) "
            "AND (CAST(:p AS date) IS NULL OR period = :p) "
            "ORDER BY period DESC, part DESC, created_at DESC LIMIT :n"
        ),
        {"t": tenant_id, "s": status, "p": period, "n": limit},
    ).all()
    return [_report(r) for r in rows]


def get_report(
    conn: Connection, tenant_id: uuid.UUID, report_id: uuid.UUID
) -> tuple[ReportRow, bytes] | None:
    """A report and its signed XML (None: the tenant has no such report)."""
    row = conn.execute(
        text(
            f"SELECT {_REPORT_COLUMNS}, xml FROM earsiv_reports "  # noqa: S608 - constant columns
            "WHERE tenant_id = :t AND report_id = :r"
        ),
        {"t": tenant_id, "r": report_id},
    ).first()
    if row is None:
        return None
    values = dict(row._mapping)
    xml = bytes(values.pop("xml"))
    return ReportRow(**values), xml


def insert_cancellation(
    conn: Connection,
    tenant_id: uuid.UUID,
    *,
    document_id: uuid.UUID,
    document_created: dt.datetime,
    number: str,
    cancelled_on: dt.date,
    total: str,
    reason: str,
    actor: str,
) -> bool:
    """Record a cancellation; False when the document was cancelled already."""
    row = conn.execute(
        text(
            "INSERT INTO earsiv_cancellations (tenant_id, document_id, document_created, number, "
            "cancelled_on, total, reason, actor) VALUES (:t, :d, :dc, :n, :on, :tot, :r, :a) "
            "ON CONFLICT DO NOTHING RETURNING document_id"
        ),
        {
            "t": tenant_id,
            "d": document_id,
            "dc": document_created,
            "n": number,
            "on": cancelled_on,
            "tot": total,
            "r": reason,
            "a": actor,
        },
    ).first()
    return row is not None


def get_cancellation(
    conn: Connection, tenant_id: uuid.UUID, document_id: uuid.UUID
) -> CancellationRow | None:
    row = conn.execute(
        text(
            "SELECT document_id, number, cancelled_on, total, reason FROM earsiv_cancellations "
            "WHERE tenant_id = :t AND document_id = :d"
        ),
        {"t": tenant_id, "d": document_id},
    ).first()
    if row is None:
        return None
    return CancellationRow(row.document_id, row.number, row.cancelled_on, row.total, row.reason)


def tenants_due(conn: Connection, *, through: dt.date) -> list[uuid.UUID]:
    """Tenants with an invoice or a cancellation of a day up to ``through`` not yet carried
    by a report, or with a report to send or follow (every tenant's rows: a system
    connection)."""
    return list(
        conn.execute(
            text(
                f"SELECT d.tenant_id FROM documents d WHERE {OPEN} "  # noqa: S608 - constant SQL
                f"AND {DAY} <= :through AND NOT EXISTS (SELECT 1 FROM earsiv_report_items i "
                "WHERE i.tenant_id = d.tenant_id AND i.kind = 'fatura' "
                "AND i.document_id = d.document_id) "
                "UNION SELECT c.tenant_id FROM earsiv_cancellations c WHERE c.cancelled_on "
                "<= :through AND NOT EXISTS (SELECT 1 FROM earsiv_report_items i WHERE "
                "i.tenant_id = c.tenant_id AND i.kind = 'iptal' AND i.document_id = c.document_id) "
                "UNION SELECT tenant_id FROM earsiv_reports WHERE status IN ('pending', 'sent')"
            ),
            {"through": through},
        )
        .scalars()
        .all()
    )


def overdue_invoices(conn: Connection, *, before: dt.date) -> dict[uuid.UUID, int]:
    """Per tenant: e-Arşiv invoices of days before ``before`` that no report GİB accepted
    carries (every tenant's rows: a system connection)."""
    rows = conn.execute(
        text(
            f"SELECT d.tenant_id, count(*) AS n FROM documents d WHERE {OPEN} AND {DAY} < :b "  # noqa: S608 - constant SQL
            "AND NOT EXISTS (SELECT 1 FROM earsiv_report_items i JOIN earsiv_reports r "
            "ON r.tenant_id = i.tenant_id AND r.report_id = i.report_id "
            "WHERE i.tenant_id = d.tenant_id AND i.kind = 'fatura' "
            "AND i.document_id = d.document_id AND r.status = 'succeeded') GROUP BY d.tenant_id"
        ),
        {"b": before},
    ).all()
    return {r.tenant_id: int(r.n) for r in rows}


def notify_tenant(
    conn: Connection, tenant_id: uuid.UUID, event: str, payload: dict[str, Any]
) -> None:
    """Queue ``event`` with ``payload`` for the tenant's webhook endpoints (in a transaction
    scoped to ``tenant_id``)."""
    del tenant_id  # the transaction names the tenant (entegrator_notify reads it)
    conn.execute(
        text("SELECT entegrator_notify(CAST(:e AS text), CAST(:p AS jsonb))"),
        {"e": event, "p": json.dumps(payload)},
    )
