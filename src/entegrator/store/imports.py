"""Bulk imports: the upload row, its file in chunks, its progress and what it issued.

The file is written in the transaction that creates the import (``create`` then
``add_chunk``), read back by whoever processes it (``chunks``) and dropped once read to the
end (``drop_chunks``). ``import_documents`` remembers what each ERP key of an import became.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, text

__all__ = [
    "ImportDocument",
    "ImportRow",
    "add_chunk",
    "chunks",
    "claim",
    "create",
    "documents",
    "drop_chunks",
    "finish",
    "get",
    "list_imports",
    "progress",
    "queue_job",
    "record_document",
]

_COLUMNS = (
    "import_id, status, format, policy, file_name, file_size, file_sha256, actor, documents, "
    "rows, processed, issued, already_issued, refused, problem_count, problems, created_at, "
    "started_at, finished_at"
)

# The list leaves the problems out (an import may keep a thousand of them).
_LIST_COLUMNS = _COLUMNS.replace("problems,", "'[]'::jsonb,")


@dataclass(frozen=True)
class ImportRow:
    import_id: uuid.UUID
    status: str  # queued | running | done | failed
    format: str  # xlsx | csv | zip
    policy: str  # all-or-nothing | valid-only
    file_name: str
    file_size: int
    file_sha256: bytes
    actor: str
    documents: int
    rows: int
    processed: int
    issued: int
    already_issued: int
    refused: int
    problem_count: int
    problems: list[dict[str, Any]] = field(default_factory=list)
    created_at: dt.datetime | None = None
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None


@dataclass(frozen=True)
class ImportDocument:
    erp_key: str
    document_id: uuid.UUID
    number: str
    ettn: str
    replayed: bool


def _row(row: Any) -> ImportRow:
    values = list(row)
    values[6] = bytes(values[6])
    return ImportRow(*values)


def create(
    conn: Connection,
    tenant_id: uuid.UUID,
    import_id: uuid.UUID,
    *,
    format: str,
    policy: str,
    file_name: str,
    file_size: int,
    file_sha256: bytes,
    actor: str,
) -> None:
    conn.execute(
        text(
            "INSERT INTO imports (tenant_id, import_id, format, policy, file_name, file_size, "
            "file_sha256, actor) VALUES (:t, :i, :f, :p, :n, :s, :h, :a)"
        ),
        {
            "t": tenant_id,
            "i": import_id,
            "f": format,
            "p": policy,
            "n": file_name,
            "s": file_size,
            "h": file_sha256,
            "a": actor,
        },
    )


def add_chunk(
    conn: Connection, tenant_id: uuid.UUID, import_id: uuid.UUID, seq: int, data: bytes
) -> None:
    conn.execute(
        text("INSERT INTO import_chunks (tenant_id, import_id, seq, data) VALUES (:t, :i, :s, :d)"),
        {"t": tenant_id, "i": import_id, "s": seq, "d": data},
    )


def chunks(conn: Connection, tenant_id: uuid.UUID, import_id: uuid.UUID) -> Iterator[bytes]:
    """The file's pieces in order, one query each (never the whole file in memory)."""
    seq = 0
    while True:
        data = conn.execute(
            text(
                "SELECT data FROM import_chunks WHERE tenant_id = :t AND import_id = :i "
                "AND seq = :s"
            ),
            {"t": tenant_id, "i": import_id, "s": seq},
        ).scalar()
        if data is None:
            return
        yield bytes(data)
        seq += 1


def drop_chunks(conn: Connection, tenant_id: uuid.UUID, import_id: uuid.UUID) -> None:
    conn.execute(
        text("DELETE FROM import_chunks WHERE tenant_id = :t AND import_id = :i"),
        {"t": tenant_id, "i": import_id},
    )


def queue_job(
    conn: Connection, tenant_id: uuid.UUID, import_id: uuid.UUID, *, task: str, queue: str
) -> bool:
    """Queue the job that processes the import, in the caller's transaction (one per import)."""
    return bool(
        conn.execute(
            text("SELECT entegrator_wake(:q, :task, :lock, CAST(:args AS jsonb))"),
            {
                "q": queue,
                "task": task,
                "lock": f"import:{import_id}",
                "args": json.dumps({"tenant_id": str(tenant_id), "import_id": str(import_id)}),
            },
        ).scalar()
    )


def claim(conn: Connection, tenant_id: uuid.UUID, import_id: uuid.UUID) -> ImportRow | None:
    """Mark the import running and return it, locked for the caller's transaction; None when
    it is finished already (or unknown). A job run again after a crash finds it running."""
    row = conn.execute(
        text(
            "UPDATE imports SET status = 'running', started_at = coalesce(started_at, now()) "  # noqa: S608 - constant columns
            "WHERE tenant_id = :t AND import_id = :i AND status IN ('queued', 'running') "
            f"RETURNING {_COLUMNS}"
        ),
        {"t": tenant_id, "i": import_id},
    ).first()
    return _row(row) if row is not None else None


def progress(
    conn: Connection,
    tenant_id: uuid.UUID,
    import_id: uuid.UUID,
    *,
    rows: int,
    documents: int,
    processed: int,
) -> None:
    conn.execute(
        text(
            "UPDATE imports SET rows = :r, documents = :d, processed = :p "
            "WHERE tenant_id = :t AND import_id = :i"
        ),
        {"t": tenant_id, "i": import_id, "r": rows, "d": documents, "p": processed},
    )


def finish(
    conn: Connection,
    tenant_id: uuid.UUID,
    import_id: uuid.UUID,
    *,
    status: str,
    rows: int,
    documents: int,
    processed: int,
    refused: int,
    problem_count: int,
    problems: list[dict[str, Any]],
) -> None:
    """The final counts; issued and already-issued are counted from ``import_documents``."""
    conn.execute(
        text(
            "UPDATE imports SET status = :s, rows = :r, documents = :d, processed = :p, "
            "refused = :rf, problem_count = :pc, problems = CAST(:pr AS jsonb), "
            "finished_at = now(), "
            "issued = (SELECT count(*) FROM import_documents x WHERE x.tenant_id = :t "
            "          AND x.import_id = :i AND NOT x.replayed), "
            "already_issued = (SELECT count(*) FROM import_documents x WHERE x.tenant_id = :t "
            "          AND x.import_id = :i AND x.replayed) "
            "WHERE tenant_id = :t AND import_id = :i"
        ),
        {
            "t": tenant_id,
            "i": import_id,
            "s": status,
            "r": rows,
            "d": documents,
            "p": processed,
            "rf": refused,
            "pc": problem_count,
            "pr": json.dumps(problems, ensure_ascii=False),
        },
    )


def record_document(
    conn: Connection,
    tenant_id: uuid.UUID,
    import_id: uuid.UUID,
    *,
    erp_key: str,
    document_id: uuid.UUID,
    number: str,
    ettn: str,
    replayed: bool,
) -> None:
    """What an ERP key became; a job run again keeps the first record (``replayed`` false
    when this import issued it)."""
    conn.execute(
        text(
            "INSERT INTO import_documents (tenant_id, import_id, erp_key, document_id, number, "
            "ettn, replayed) VALUES (:t, :i, :k, :d, :n, :e, :r) ON CONFLICT DO NOTHING"
        ),
        {
            "t": tenant_id,
            "i": import_id,
            "k": erp_key,
            "d": document_id,
            "n": number,
            "e": ettn,
            "r": replayed,
        },
    )


def get(conn: Connection, tenant_id: uuid.UUID, import_id: uuid.UUID) -> ImportRow | None:
    row = conn.execute(
        text(f"SELECT {_COLUMNS} FROM imports WHERE tenant_id = :t AND import_id = :i"),  # noqa: S608 - constant columns
        {"t": tenant_id, "i": import_id},
    ).first()
    return _row(row) if row is not None else None


def list_imports(
    conn: Connection, tenant_id: uuid.UUID, *, limit: int, before: dt.datetime | None = None
) -> list[ImportRow]:
    """The tenant's imports, newest first (without their problems)."""
    rows = conn.execute(
        text(
            f"SELECT {_LIST_COLUMNS} "  # noqa: S608 - constant columns
            "FROM imports WHERE tenant_id = :t "
            "AND (CAST(:b AS timestamptz) IS NULL OR created_at < :b) "
            "ORDER BY created_at DESC, import_id DESC LIMIT :l"
        ),
        {"t": tenant_id, "b": before, "l": limit},
    ).all()
    return [_row(r) for r in rows]


def documents(
    conn: Connection, tenant_id: uuid.UUID, import_id: uuid.UUID, *, limit: int, offset: int = 0
) -> list[ImportDocument]:
    rows = conn.execute(
        text(
            "SELECT erp_key, document_id, number, ettn, replayed FROM import_documents "
            "WHERE tenant_id = :t AND import_id = :i ORDER BY created_at, erp_key "
            "LIMIT :l OFFSET :o"
        ),
        {"t": tenant_id, "i": import_id, "l": limit, "o": offset},
    ).all()
    return [ImportDocument(*r) for r in rows]
