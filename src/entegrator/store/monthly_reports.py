"""Monthly figures of a tenant's invoices for the portal's reports (raporlar).

Every function runs in the caller's transaction and never commits.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Connection, text

__all__ = [
    "EXCLUDED",
    "MonthRow",
    "ReportDocument",
    "documents_of_month",
    "kdv_of_month",
    "monthly",
    "other_currency_count",
]

# Documents that count in a report: not drafts, not cancelled, not refused by GİB.
EXCLUDED = ("draft", "cancelled", "rejected_by_gib", "failed", "rejected")


@dataclass(frozen=True)
class MonthRow:
    month: dt.date  # the first day
    direction: str  # out: sales, in: purchases
    count: int
    tax_exclusive: Decimal
    tax_total: Decimal
    payable: Decimal


def monthly(
    conn: Connection, tenant_id: uuid.UUID, first: dt.date, after: dt.date
) -> list[MonthRow]:
    """Per month and direction in ``[first, after)`` (by issue date): counts and amounts of
    the TRY invoices (amounts in other currencies are not added to them)."""
    rows = conn.execute(
        text(
            "SELECT date_trunc('month', issue_date)::date AS month, direction, count(*) AS n, "
            "coalesce(sum(tax_exclusive), 0) AS tax_exclusive, "
            "coalesce(sum(tax_total), 0) AS tax_total, coalesce(sum(payable), 0) AS payable "
            "FROM documents WHERE tenant_id = :t AND kind = 'invoice' "
            "AND issue_date >= :a AND issue_date < :b AND status <> ALL(:excluded) "
            "AND coalesce(currency, 'TRY') = 'TRY' "
            "GROUP BY 1, 2 ORDER BY 1, 2"
        ),
        {
            "t": tenant_id,
            "a": first,
            "b": after,
            "excluded": list(EXCLUDED),
        },
    )
    return [
        MonthRow(
            r.month,
            r.direction,
            r.n,
            Decimal(r.tax_exclusive),
            Decimal(r.tax_total),
            Decimal(r.payable),
        )
        for r in rows
    ]


def kdv_of_month(
    conn: Connection, tenant_id: uuid.UUID, month: dt.date
) -> list[tuple[str, str, Decimal, Decimal]]:
    """(direction, rate, taxable, tax) of the TRY invoices issued in ``month`` whose row
    keeps its KDV per rate (the ``kdv`` column)."""
    start, end = _bounds(month)
    rows = conn.execute(
        text(
            "SELECT d.direction, k.key AS rate, sum((k.value->>0)::numeric) AS taxable, "
            "sum((k.value->>1)::numeric) AS tax "
            "FROM documents d, jsonb_each(d.kdv) k "
            "WHERE d.tenant_id = :t AND d.kind = 'invoice' AND d.issue_date >= :a "
            "AND d.issue_date < :b AND d.status <> ALL(:excluded) "
            "AND coalesce(d.currency, 'TRY') = 'TRY' AND d.kdv IS NOT NULL "
            "GROUP BY 1, 2"
        ),
        {"t": tenant_id, "a": start, "b": end, "excluded": list(EXCLUDED)},
    )
    return [(r.direction, r.rate, Decimal(r.taxable), Decimal(r.tax)) for r in rows]


def other_currency_count(conn: Connection, tenant_id: uuid.UUID, month: dt.date) -> int:
    start, end = _bounds(month)
    count: int = conn.execute(
        text(
            "SELECT count(*) FROM documents WHERE tenant_id = :t AND kind = 'invoice' "
            "AND issue_date >= :a AND issue_date < :b AND status <> ALL(:excluded) "
            "AND coalesce(currency, 'TRY') <> 'TRY'"
        ),
        {"t": tenant_id, "a": start, "b": end, "excluded": list(EXCLUDED)},
    ).scalar_one()
    return count


def _bounds(month: dt.date) -> tuple[dt.date, dt.date]:
    start = month.replace(day=1)
    return start, (start + dt.timedelta(days=32)).replace(day=1)


@dataclass(frozen=True)
class ReportDocument:
    document_id: uuid.UUID
    direction: str
    number: str | None
    currency: str | None
    sha256: bytes  # the signed XML when there is one, else the stored one
    kdv_known: bool  # the row keeps its KDV per rate: only withholding is read from the XML


def documents_of_month(
    conn: Connection,
    tenant_id: uuid.UUID,
    month: dt.date,
    *,
    withholding_types: list[str],
    limit: int = 50_000,
) -> list[ReportDocument]:
    """The counted TRY invoices issued in ``month`` whose XML must be read: those without
    their KDV per rate in the row, and those of a type that may withhold KDV."""
    start, end = _bounds(month)
    rows = conn.execute(
        text(
            "SELECT document_id, direction, number, currency, kdv IS NOT NULL AS kdv_known, "
            "coalesce(signed_sha256, xml_sha256) AS sha256 FROM documents "
            "WHERE tenant_id = :t AND kind = 'invoice' AND issue_date >= :a AND issue_date < :b "
            "AND status <> ALL(:excluded) AND coalesce(currency, 'TRY') = 'TRY' "
            "AND (kdv IS NULL OR type = ANY(:wt)) ORDER BY issue_date, number LIMIT :n"
        ),
        {
            "t": tenant_id,
            "a": start,
            "b": end,
            "excluded": list(EXCLUDED),
            "wt": withholding_types,
            "n": limit,
        },
    )
    return [
        ReportDocument(
            r.document_id, r.direction, r.number, r.currency, bytes(r.sha256), r.kdv_known
        )
        for r in rows
    ]
