"""Invoice drafts (taslak) saved from the portal's form: the fields as the user typed them.

Every function runs in the caller's transaction and never commits.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

__all__ = ["DraftRow", "delete_draft", "get_draft", "list_drafts", "save_draft"]


@dataclass(frozen=True)
class DraftRow:
    draft_id: uuid.UUID
    title: str
    form: dict[str, Any]
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime


_COLUMNS = "draft_id, title, form, created_by, created_at, updated_at"


def save_draft(
    conn: Connection,
    tenant_id: uuid.UUID,
    draft_id: uuid.UUID | None,
    *,
    title: str,
    form: dict[str, Any],
    actor: str,
) -> uuid.UUID | None:
    """Insert a new draft (``draft_id`` None) or replace one; None when the draft to replace
    is not the tenant's."""
    if draft_id is None:
        new_id = uuid.uuid4()
        conn.execute(
            text(
                "INSERT INTO invoice_drafts (tenant_id, draft_id, title, form, created_by) "
                "VALUES (:t, :d, :title, CAST(:f AS jsonb), :a)"
            ),
            {"t": tenant_id, "d": new_id, "title": title[:500], "f": json.dumps(form), "a": actor},
        )
        return new_id
    row = conn.execute(
        text(
            "UPDATE invoice_drafts SET title = :title, form = CAST(:f AS jsonb), "
            "updated_at = now() WHERE tenant_id = :t AND draft_id = :d RETURNING draft_id"
        ),
        {"t": tenant_id, "d": draft_id, "title": title[:500], "f": json.dumps(form)},
    ).first()
    return None if row is None else draft_id


def get_draft(conn: Connection, tenant_id: uuid.UUID, draft_id: uuid.UUID) -> DraftRow | None:
    row = conn.execute(
        text(
            f"SELECT {_COLUMNS} FROM invoice_drafts "  # noqa: S608 - constant columns
            "WHERE tenant_id = :t AND draft_id = :d"
        ),
        {"t": tenant_id, "d": draft_id},
    ).first()
    return None if row is None else DraftRow(**row._mapping)


def list_drafts(conn: Connection, tenant_id: uuid.UUID, *, limit: int = 50) -> list[DraftRow]:
    rows = conn.execute(
        text(
            f"SELECT {_COLUMNS} FROM invoice_drafts "  # noqa: S608 - constant columns
            "WHERE tenant_id = :t ORDER BY updated_at DESC LIMIT :n"
        ),
        {"t": tenant_id, "n": limit},
    )
    return [DraftRow(**r._mapping) for r in rows]


def delete_draft(conn: Connection, tenant_id: uuid.UUID, draft_id: uuid.UUID) -> bool:
    result = conn.execute(
        text("DELETE FROM invoice_drafts WHERE tenant_id = :t AND draft_id = :d"),
        {"t": tenant_id, "d": draft_id},
    )
    return bool(result.rowcount)
