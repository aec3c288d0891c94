"""What the portal's dashboard reads: a tenant's month in figures, documents by status,
the incoming invoices to answer, the documents in trouble, the monthly series of a year.

Every query reads the tenant's own documents (its transaction) through the indexes on
``(tenant_id, issue_date)``, ``(tenant_id, status, created_at)`` and
``(tenant_id, direction, created_at)``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Connection, text

from entegrator.store.documents import DOCUMENT_COLUMNS, DocumentRow

__all__ = [
    "COUNTED_OUT",
    "MonthTotal",
    "documents_by_status",
    "kdv_by_rate",
    "month_totals",
    "monthly_series",
    "seal_expiry",
    "to_answer",
    "troubled",
]

# Statuses whose outgoing invoices are not sales (refused, failed, cancelled).
NOT_SALES = ("rejected_by_gib", "failed", "cancelled", "rejected", "draft")
COUNTED_OUT = NOT_SALES
TROUBLE = ("rejected_by_gib", "failed_delivery", "failed", "rejected")


@dataclass(frozen=True)
class MonthTotal:
    direction: str
    currency: str
    count: int
    payable: Decimal
    tax: Decimal


def month_totals(
    conn: Connection, tenant_id: uuid.UUID, first: dt.date, after: dt.date
) -> list[MonthTotal]:
    """Invoices issued and received with an issue date in ``[first, after)``, per direction
    and currency (refused, failed, rejected and cancelled ones left out)."""
    rows = conn.execute(
        text(
            "SELECT direction, COALESCE(currency, 'TRY'), count(*), COALESCE(sum(payable), 0), "
            "COALESCE(sum(tax_total), 0) FROM documents "
            "WHERE tenant_id = :t AND kind = 'invoice' AND issue_date >= :f AND issue_date < :a "
            "AND status <> ALL(:skip) GROUP BY 1, 2 ORDER BY 1, 3 DESC"
        ),
        {"t": tenant_id, "f": first, "a": after, "skip": list(NOT_SALES)},
    )
    return [MonthTotal(r[0], r[1], int(r[2]), Decimal(r[3]), Decimal(r[4])) for r in rows]


def kdv_by_rate(
    conn: Connection, tenant_id: uuid.UUID, first: dt.date, after: dt.date
) -> list[tuple[str, Decimal, Decimal, Decimal]]:
    """(direction, rate, taxable, KDV) of the TRY invoices issued in ``[first, after)``, from
    each invoice's ``kdv`` (rows stored before it was kept have none and are not counted)."""
    rows = conn.execute(
        text(
            "SELECT d.direction, r.key::numeric, sum((r.value->>0)::numeric), "
            "sum((r.value->>1)::numeric) FROM documents d, jsonb_each(d.kdv) r "
            "WHERE d.tenant_id = :t AND d.kind = 'invoice' AND d.issue_date >= :f "
            "AND d.issue_date < :a AND COALESCE(d.currency, 'TRY') = 'TRY' "
            "AND d.status <> ALL(:skip) AND d.kdv IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2"
        ),
        {"t": tenant_id, "f": first, "a": after, "skip": list(NOT_SALES)},
    )
    return [(r[0], Decimal(r[1]), Decimal(r[2]), Decimal(r[3])) for r in rows]


def documents_by_status(
    conn: Connection, tenant_id: uuid.UUID, first: dt.date, after: dt.date
) -> list[tuple[str, str, int]]:
    """(direction, status, count) of the documents issued in ``[first, after)``."""
    rows = conn.execute(
        text(
            "SELECT direction, status, count(*) FROM documents "
            "WHERE tenant_id = :t AND issue_date >= :f AND issue_date < :a "
            "GROUP BY 1, 2 ORDER BY 1, 3 DESC"
        ),
        {"t": tenant_id, "f": first, "a": after},
    )
    return [(r[0], r[1], int(r[2])) for r in rows]


def monthly_series(
    conn: Connection, tenant_id: uuid.UUID, first: dt.date, after: dt.date
) -> list[tuple[dt.date, str, Decimal]]:
    """(month, direction, payable in TRY) per month in ``[first, after)``."""
    rows = conn.execute(
        text(
            "SELECT date_trunc('month', issue_date)::date, direction, COALESCE(sum(payable), 0) "
            "FROM documents WHERE tenant_id = :t AND kind = 'invoice' "
            "AND issue_date >= :f AND issue_date < :a AND COALESCE(currency, 'TRY') = 'TRY' "
            "AND status <> ALL(:skip) GROUP BY 1, 2 ORDER BY 1"
        ),
        {"t": tenant_id, "f": first, "a": after, "skip": list(NOT_SALES)},
    )
    return [(r[0], r[1], Decimal(r[2])) for r in rows]


def to_answer(
    conn: Connection, tenant_id: uuid.UUID, since: dt.datetime, limit: int = 20
) -> list[DocumentRow]:
    """Incoming TICARIFATURA invoices waiting for KABUL or RED, received after ``since``,
    the oldest (the least time left) first."""
    rows = conn.execute(
        text(
            f"SELECT {DOCUMENT_COLUMNS} FROM documents "  # noqa: S608 - constant columns
            "WHERE tenant_id = :t AND status = 'received' AND direction = 'in' "
            "AND profile = 'TICARIFATURA' AND created_at > :since "
            "ORDER BY created_at LIMIT :n"
        ),
        {"t": tenant_id, "since": since, "n": limit},
    )
    return [DocumentRow.from_row(r) for r in rows]


def troubled(
    conn: Connection, tenant_id: uuid.UUID, since: dt.datetime, limit: int = 20
) -> list[DocumentRow]:
    """Documents refused by GİB, not delivered, failed or rejected by their buyer since
    ``since``, newest first."""
    rows = conn.execute(
        text(
            f"SELECT {DOCUMENT_COLUMNS} FROM documents "  # noqa: S608 - constant columns
            "WHERE tenant_id = :t AND status = ANY(:s) AND created_at > :since "
            "ORDER BY created_at DESC LIMIT :n"
        ),
        {"t": tenant_id, "s": list(TROUBLE), "since": since, "n": limit},
    )
    return [DocumentRow.from_row(r) for r in rows]


def seal_expiry(conn: Connection, tenant_id: uuid.UUID) -> dt.datetime | None:
    """When the tenant's active seal expires (None: no active seal)."""
    found = conn.execute(
        text("SELECT not_after FROM seals WHERE tenant_id = :t AND active"), {"t": tenant_id}
    ).scalar()
    return found if isinstance(found, dt.datetime) else None
