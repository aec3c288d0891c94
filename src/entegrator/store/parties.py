"""The tenants' trading partners (cari), as their documents name them."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Connection, text

from entegrator.store.documents import DOCUMENT_COLUMNS, DocumentRow

__all__ = ["Partner", "documents_with", "partner", "partners", "remember"]


def remember(conn: Connection, tenant_id: uuid.UUID, vkn_tckn: str, name: str) -> None:
    """Note a partner the first time a document names it (the first name is kept)."""
    conn.execute(
        text(
            "INSERT INTO parties (tenant_id, vkn_tckn, name) VALUES (:t, :v, :n) "
            "ON CONFLICT (tenant_id, vkn_tckn) DO NOTHING"
        ),
        {"t": tenant_id, "v": vkn_tckn, "n": name},
    )


@dataclass(frozen=True)
class Partner:
    """Everyone the tenant traded with: the other side of its invoices, with totals."""

    identifier: str
    name: str
    efatura: bool | None  # GİB lists it as an e-Fatura user; None: the list was never fetched
    sales_count: int
    sales_total: Decimal
    purchases_count: int
    purchases_total: Decimal
    last_date: dt.date | None


_PARTNERS = """
WITH sides AS (
    SELECT CASE WHEN direction = 'out' THEN receiver_id ELSE sender_id END AS identifier,
           CASE WHEN direction = 'out' THEN receiver_name ELSE sender_name END AS name,
           direction, payable, issue_date
      FROM documents
     WHERE tenant_id = :t AND kind = 'invoice'
       AND status NOT IN ('draft', 'cancelled', 'rejected_by_gib', 'failed', 'rejected')
), totals AS (
    SELECT identifier,
           max(name) AS name,
           count(*) FILTER (WHERE direction = 'out') AS sales_count,
           coalesce(sum(payable) FILTER (WHERE direction = 'out'), 0) AS sales_total,
           count(*) FILTER (WHERE direction = 'in') AS purchases_count,
           coalesce(sum(payable) FILTER (WHERE direction = 'in'), 0) AS purchases_total,
           max(issue_date) AS last_date
      FROM sides WHERE identifier IS NOT NULL
     GROUP BY identifier
)
SELECT t.*,
       CASE WHEN NOT EXISTS (SELECT 1 FROM gib_users) THEN NULL
            ELSE EXISTS (SELECT 1 FROM gib_users g WHERE g.identifier = t.identifier
                          AND cardinality(g.mailboxes) > 0) END AS efatura
  FROM totals t
 WHERE (CAST(:q AS text) IS NULL OR t.identifier = :q OR t.name ILIKE :like)
 ORDER BY t.sales_total + t.purchases_total DESC, t.identifier
 LIMIT :n
"""


def partners(
    conn: Connection, tenant_id: uuid.UUID, *, query: str | None = None, limit: int = 200
) -> list[Partner]:
    """The tenant's partners, most traded first; ``query`` matches a VKN/TCKN or a name."""
    like = None
    if query:
        like = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = conn.execute(
        text(_PARTNERS), {"t": tenant_id, "q": query or None, "like": like, "n": limit}
    )
    return [
        Partner(
            identifier=r.identifier,
            name=r.name or "",
            efatura=r.efatura,
            sales_count=r.sales_count,
            sales_total=Decimal(r.sales_total),
            purchases_count=r.purchases_count,
            purchases_total=Decimal(r.purchases_total),
            last_date=r.last_date,
        )
        for r in rows
    ]


def partner(conn: Connection, tenant_id: uuid.UUID, identifier: str) -> Partner | None:
    found = partners(conn, tenant_id, query=identifier, limit=5)
    return next((p for p in found if p.identifier == identifier), None)


def documents_with(
    conn: Connection, tenant_id: uuid.UUID, identifier: str, *, limit: int = 100
) -> list[DocumentRow]:
    """The tenant's invoices to or from ``identifier``, newest first."""
    rows = conn.execute(
        text(
            f"SELECT {DOCUMENT_COLUMNS} FROM documents "  # noqa: S608 - constant columns
            "WHERE tenant_id = :t AND kind = 'invoice' AND ("
            "(direction = 'out' AND receiver_id = :i) OR (direction = 'in' AND sender_id = :i)) "
            "ORDER BY created_at DESC LIMIT :n"
        ),
        {"t": tenant_id, "i": identifier, "n": limit},
    )
    return [DocumentRow.from_row(r) for r in rows]
