"""The change feed for ERPs that poll instead of taking webhooks: ``GET /api/v1/changes``.

Every event of the tenant's documents (issued, signed, sent, accepted, rejected, received…) in
feed order. ``since`` is the cursor the previous page returned; every page returns the cursor to
continue from, also when it is empty. A page waits for the tenant's writing transactions in
flight, and a transaction that writes later can only add changes after the cursor: a reader
that stores the cursor after handling a page misses nothing and sees nothing twice (see
``docs/erp.md``).
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from entegrator.api.deps import Principal, RuntimeDep
from entegrator.api.errors import InvalidCursorError
from entegrator.api.responses import AUTH, errors
from entegrator.api.schemas import Timestamp
from entegrator.store.changes import read_changes

__all__ = ["decode_since", "encode_since", "router"]

router = APIRouter(prefix="/api/v1/changes", tags=["changes"])

MAX_PAGE = 1000
_SINCE = re.compile(r"^[0-9]{1,19}$")
_MAX = 2**63 - 1


def encode_since(change_id: int) -> str:
    return str(change_id)


def decode_since(since: str | None) -> int:
    if since is None:
        return 0
    if _SINCE.match(since) is None or int(since) > _MAX:
        raise InvalidCursorError(where="since")
    return int(since)


class ChangeOut(BaseModel):
    cursor: str = Field(description="The feed position of this change")
    document_id: str
    direction: str | None = Field(description="out or in")
    kind: str | None
    number: str | None
    seq: int = Field(description="The event's number in the document's event log")
    type: str = Field(description="The event type, e.g. issued, signed, sent, accepted")
    status: str | None = Field(description="The status this event set, if it set one")
    document_status: str | None = Field(description="The document's status now")
    at: Timestamp


class ChangePage(BaseModel):
    items: list[ChangeOut]
    next_cursor: str = Field(
        description="Pass as since= next time (also when the page is empty or filtered)"
    )
    more: bool = Field(description="True when more changes are waiting: ask again at once")


@router.get(
    "",
    operation_id="list_changes",
    summary="Document events after a cursor, each once, none missed",
    responses=errors(
        *AUTH,
        422,
        when={
            503: "The database is away, or the tenant's writers held the feed over 5 s "
            "(DATABASE_UNAVAILABLE, FEED_BUSY); see Retry-After"
        },
    ),
)
def list_changes(
    runtime: RuntimeDep,
    key: Principal,
    since: Annotated[
        str | None, Query(max_length=40, description="The previous page's next_cursor")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    direction: Annotated[Literal["out", "in"] | None, Query()] = None,
) -> ChangePage:
    after = decode_since(since)
    with runtime.db.tenant(key.tenant_id) as conn:
        rows = read_changes(conn, key.tenant_id, after=after, limit=limit)
    items = [
        ChangeOut(
            cursor=encode_since(c.change_id),
            document_id=str(c.document_id),
            direction=c.direction,
            kind=c.kind,
            number=c.number,
            seq=c.seq,
            type=c.type,
            status=c.status,
            document_status=c.document_status,
            at=c.at.isoformat(),
        )
        for c in rows
        if direction is None or c.direction == direction
    ]
    last = rows[-1].change_id if rows else after
    return ChangePage(items=items, next_cursor=encode_since(last), more=len(rows) == limit)
