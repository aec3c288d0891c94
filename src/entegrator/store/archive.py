"""Documents filed from another integrator's archive (an export of that installation).

An imported document keeps its id (hence its creation instant and partition), its row, its
XML blob and its event log exactly as the other installation had them, so the original hash
chain verifies here as it did there; the importer appends its own event after it. Every
function runs in the caller's transaction and never commits.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from entegrator.store.events import EventRow

__all__ = [
    "ImportedDocument",
    "claim_keys",
    "document_exists",
    "file_imported",
    "key_owner",
    "known_keys",
]


@dataclass(frozen=True)
class ImportedDocument:
    """The row of a document as the other installation had it."""

    document_id: uuid.UUID
    created_at: dt.datetime
    direction: str
    kind: str
    profile: str | None
    type: str | None
    number: str
    series: str | None
    ettn: str
    issue_date: dt.date | None
    sender_id: str | None
    sender_name: str | None
    receiver_id: str | None
    receiver_name: str | None
    currency: str | None
    line_extension: Any
    tax_exclusive: Any
    tax_total: Any
    payable: Any
    status: str
    status_code: str | None
    status_detail: str | None
    gib_alias: str | None
    signed: bool  # the XML is the signed one (else only the unsigned XML exists)


def document_exists(conn: Connection, tenant_id: uuid.UUID, document_id: uuid.UUID) -> bool:
    """Whether the tenant has a document of this id (in any direction)."""
    found = conn.execute(
        text("SELECT 1 FROM documents WHERE tenant_id = :t AND document_id = :d LIMIT 1"),
        {"t": tenant_id, "d": document_id},
    ).first()
    return found is not None


def claim_keys(
    conn: Connection, tenant_id: uuid.UUID, doc: ImportedDocument, sender_id: str
) -> bool:
    """Claim the document's ETTN and number for it; False when either is taken already."""
    claimed = conn.execute(
        text(
            "INSERT INTO document_keys (tenant_id, direction, ettn, sender_id, number, "
            "document_id, created_at) VALUES (:t, :dir, :e, :s, :n, :d, :c) "
            "ON CONFLICT DO NOTHING RETURNING document_id"
        ),
        {
            "t": tenant_id,
            "dir": doc.direction,
            "e": doc.ettn,
            "s": sender_id,
            "n": doc.number,
            "d": doc.document_id,
            "c": doc.created_at,
        },
    ).first()
    return claimed is not None


def known_keys(
    conn: Connection, tenant_id: uuid.UUID, keys: Sequence[tuple[str, str]]
) -> set[tuple[str, str]]:
    """Which of the (direction, ETTN) pairs the tenant holds already, in one statement."""
    if not keys:
        return set()
    rows = conn.execute(
        text(
            "SELECT k.direction, k.ettn FROM document_keys k JOIN unnest(CAST(:dirs AS text[]), "
            "CAST(:ettns AS uuid[])) AS w(direction, ettn) ON k.direction = w.direction "
            "AND k.ettn = w.ettn WHERE k.tenant_id = :t"
        ),
        {"t": tenant_id, "dirs": [d for d, _ in keys], "ettns": [e for _, e in keys]},
    ).all()
    return {(r.direction, str(r.ettn).upper()) for r in rows}


def key_owner(
    conn: Connection, tenant_id: uuid.UUID, direction: str, ettn: str
) -> uuid.UUID | None:
    """The document holding this (direction, ETTN), if any."""
    found = conn.execute(
        text(
            "SELECT document_id FROM document_keys WHERE tenant_id = :t AND direction = :dir "
            "AND ettn = :e"
        ),
        {"t": tenant_id, "dir": direction, "e": ettn},
    ).scalar()
    return uuid.UUID(str(found)) if found is not None else None


_INSERT_EVENTS = text(
    """
INSERT INTO events (tenant_id, document_id, seq, at, type, status, actor, data, prev_hash, hash)
SELECT :t, :d, e.seq, e.at, e.type, e.status, e.actor, CAST(e.data AS jsonb), e.prev, e.hash
  FROM unnest(CAST(:seq AS int[]), CAST(:at AS timestamptz[]), CAST(:type AS text[]),
              CAST(:status AS text[]), CAST(:actor AS text[]), CAST(:data AS text[]),
              CAST(:prev AS bytea[]), CAST(:hash AS bytea[]))
       AS e(seq, at, type, status, actor, data, prev, hash)
"""
)

_INSERT_BLOB = text(
    "INSERT INTO blobs (tenant_id, sha256, size, data) VALUES (:t, :h, :s, :d) "
    "ON CONFLICT (tenant_id, sha256) DO NOTHING"
)

_INSERT_DOCUMENT = text(
    "INSERT INTO documents (tenant_id, document_id, created_at, direction, kind, profile, type, "
    "number, series, ettn, issue_date, sender_id, sender_name, receiver_id, receiver_name, "
    "currency, line_extension, tax_exclusive, tax_total, payable, status, status_code, "
    "status_detail, gib_alias, xml_sha256, signed_sha256, event_count, head_hash, updated_at) "
    "VALUES (:t, :d, :c, :direction, :kind, :profile, :type, :number, :series, :ettn, "
    ":issue_date, :sender_id, :sender_name, :receiver_id, :receiver_name, :currency, "
    ":line_extension, :tax_exclusive, :tax_total, :payable, :status, :status_code, "
    ":status_detail, :gib_alias, :x, :signed, :n, :h, :updated)"
)


def file_imported(
    conn: Connection,
    tenant_id: uuid.UUID,
    doc: ImportedDocument,
    *,
    xml: bytes,
    extra_blobs: Sequence[bytes],
    events: Sequence[EventRow],
    updated_at: dt.datetime,
) -> None:
    """File an imported document whose keys the caller claimed (:func:`claim_keys`): its XML
    (and ``extra_blobs``, such as its original event log), its row and ``events`` (the
    original ones, then the import's, already chained)."""
    digest = hashlib.sha256(xml).digest()
    for data in (xml, *extra_blobs):
        conn.execute(
            _INSERT_BLOB,
            {"t": tenant_id, "h": hashlib.sha256(data).digest(), "s": len(data), "d": data},
        )
    fields = {
        name: getattr(doc, name)
        for name in (
            "direction",
            "kind",
            "profile",
            "type",
            "number",
            "series",
            "ettn",
            "issue_date",
            "sender_id",
            "sender_name",
            "receiver_id",
            "receiver_name",
            "currency",
            "line_extension",
            "tax_exclusive",
            "tax_total",
            "payable",
            "status",
            "status_code",
            "status_detail",
            "gib_alias",
        )
    }
    conn.execute(
        _INSERT_DOCUMENT,
        {
            "t": tenant_id,
            "d": doc.document_id,
            "c": doc.created_at,
            "x": digest,
            "signed": digest if doc.signed else None,
            "n": events[-1].seq,
            "h": events[-1].hash,
            "updated": updated_at,
            **fields,
        },
    )
    conn.execute(
        _INSERT_EVENTS,
        {
            "t": tenant_id,
            "d": doc.document_id,
            "seq": [e.seq for e in events],
            "at": [e.at for e in events],
            "type": [e.type for e in events],
            "status": [e.status for e in events],
            "actor": [e.actor for e in events],
            "data": [json.dumps(e.data, ensure_ascii=False) for e in events],
            "prev": [e.prev_hash for e in events],
            "hash": [e.hash for e in events],
        },
    )
