"""What reports read: a period's documents with their cached tax figures, document counts, and
the documents an export writes. Every function runs in the caller's transaction.

The tax figures of a stored XML (``report_facts``) are computed once by the caller and cached by
the XML's SHA-256 and the reading's version: a stored XML never changes, so neither do they.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from entegrator.store.documents import DOCUMENT_COLUMNS, DocumentRow

__all__ = [
    "ExportPosition",
    "PeriodDocument",
    "count_documents",
    "documents_between",
    "period_invoices",
    "save_facts",
]


@dataclass(frozen=True)
class PeriodDocument:
    document_id: uuid.UUID
    direction: str
    status: str
    number: str | None
    issue_date: dt.date | None
    partner_id: str | None  # the buyer of an outgoing invoice, the seller of an incoming one
    partner_name: str | None
    sha256: bytes  # the signed XML, else the XML as issued (the same figures)
    facts: dict[str, Any] | None  # cached figures of this reading's version, if any


def period_invoices(
    conn: Connection, tenant_id: uuid.UUID, start: dt.date, end: dt.date, version: int
) -> list[PeriodDocument]:
    """The tenant's invoices issued from ``start`` to ``end`` (inclusive), both directions,
    oldest first, with their cached figures."""
    rows = conn.execute(
        text(
            "SELECT d.document_id, d.direction, d.status, d.number, d.issue_date, "
            "CASE WHEN d.direction = 'out' THEN d.receiver_id ELSE d.sender_id END AS pid, "
            "CASE WHEN d.direction = 'out' THEN d.receiver_name ELSE d.sender_name END AS pname, "
            "coalesce(d.signed_sha256, d.xml_sha256) AS sha, f.facts "
            "FROM documents d LEFT JOIN report_facts f ON f.tenant_id = d.tenant_id "
            "AND f.sha256 = coalesce(d.signed_sha256, d.xml_sha256) AND f.version = :v "
            "WHERE d.tenant_id = :t AND d.kind = 'invoice' "
            "AND d.issue_date BETWEEN :start AND :end "
            "ORDER BY d.issue_date, d.created_at, d.document_id"
        ),
        {"t": tenant_id, "start": start, "end": end, "v": version},
    )
    return [
        PeriodDocument(
            uuid.UUID(str(r.document_id)),
            r.direction,
            r.status,
            r.number,
            r.issue_date,
            r.pid,
            r.pname,
            bytes(r.sha),
            r.facts,
        )
        for r in rows
    ]


def save_facts(
    conn: Connection,
    tenant_id: uuid.UUID,
    facts: Sequence[tuple[bytes, dict[str, Any]]],
    version: int,
) -> None:
    """Cache computed figures by XML digest (a digest cached already is left as it is)."""
    if not facts:
        return
    conn.execute(
        text(
            "INSERT INTO report_facts (tenant_id, sha256, version, facts) "
            "SELECT :t, s, :v, CAST(f AS jsonb) FROM unnest(CAST(:s AS bytea[]), "
            "CAST(:f AS text[])) AS x(s, f) ON CONFLICT DO NOTHING"
        ),
        {
            "t": tenant_id,
            "v": version,
            "s": [digest for digest, _ in facts],
            "f": [json.dumps(f, ensure_ascii=False) for _, f in facts],
        },
    )


def count_documents(
    conn: Connection, tenant_id: uuid.UUID, start: dt.date, end: dt.date
) -> list[tuple[str, str, str, int]]:
    """``(direction, kind, status, count)`` of the documents issued from ``start`` to
    ``end``."""
    rows = conn.execute(
        text(
            "SELECT direction, kind, status, count(*) AS n FROM documents "
            "WHERE tenant_id = :t AND issue_date BETWEEN :start AND :end "
            "GROUP BY direction, kind, status ORDER BY direction, kind, status"
        ),
        {"t": tenant_id, "start": start, "end": end},
    )
    return [(r.direction, r.kind, r.status, int(r.n)) for r in rows]


ExportPosition = tuple[dt.date, dt.datetime, uuid.UUID]


def documents_between(
    conn: Connection,
    tenant_id: uuid.UUID,
    start: dt.date,
    end: dt.date,
    *,
    after: ExportPosition | None = None,
    limit: int = 200,
) -> list[DocumentRow]:
    """At most ``limit`` of the tenant's documents issued from ``start`` to ``end`` (both
    directions, every kind), by issue date, creation and id, after ``after``: an export reads
    them page by page, each in a short transaction."""
    params: dict[str, Any] = {"t": tenant_id, "start": start, "end": end, "n": limit}
    where = ""
    if after is not None:
        where = "AND (issue_date, created_at, document_id) > (:a_date, :a_at, :a_id) "
        params |= {"a_date": after[0], "a_at": after[1], "a_id": after[2]}
    return [
        DocumentRow.from_row(r)
        for r in conn.execute(
            text(
                f"SELECT {DOCUMENT_COLUMNS} FROM documents WHERE tenant_id = :t "  # noqa: S608 - constant columns
                f"AND issue_date BETWEEN :start AND :end {where}"
                "ORDER BY issue_date, created_at, document_id LIMIT :n"
            ),
            params,
        )
    ]
