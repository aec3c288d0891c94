"""The one way a document's status changes.

:func:`transition` locks the document's row, checks the move against the table
(:mod:`entegrator.lifecycle.table`), appends the hash-chained events, writes the new status
(with the signed XML, when signing) and queues the webhook notification, all in the caller's
transaction: either all of it happens or none of it does.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection

from entegrator.errors import EntegratorError
from entegrator.lifecycle.statuses import Direction, DocumentKind, DocumentStatus
from entegrator.lifecycle.table import allowed
from entegrator.store import documents, events
from entegrator.store.documents import DocumentState
from entegrator.store.ids import created_at

__all__ = ["IllegalTransitionError", "can_move", "move", "record", "transition"]

# (type, the status the event records, data): what happened, in order.
Event = tuple[str, str | None, Mapping[str, Any]]
STATUS_EVENT = "document.status"  # the webhook event a status change announces


class IllegalTransitionError(EntegratorError):
    code = "ILLEGAL_TRANSITION"
    message_tr = "{kind} ({direction}) belge {source} durumundan {target} durumuna geçemez"
    message_en = "A {kind} ({direction}) document cannot move from {source} to {target}"
    http_status = 409


def _flow(state: DocumentState) -> tuple[DocumentKind, Direction]:
    return DocumentKind(state.kind), Direction(state.direction)


def can_move(state: DocumentState, target: DocumentStatus) -> bool:
    """May the document move to ``target`` now? (For changes that can arrive late.)"""
    return allowed(_flow(state), DocumentStatus(state.status), target)


def move(
    conn: Connection,
    tenant_id: uuid.UUID,
    state: DocumentState,
    target: DocumentStatus,
    *,
    happened: Sequence[Event],
    actor: str,
    now: dt.datetime,
    code: str | None = None,
    detail: str | None = None,
    signed: bytes | None = None,
    notify: bool = True,
) -> DocumentState:
    """Move a document whose row the caller has locked (``store.documents.lock_state`` or a
    ``FOR UPDATE SKIP LOCKED`` pick) to ``target``; raises :class:`IllegalTransitionError`.

    ``code``/``detail`` become the row's ``status_code``/``status_detail``; ``notify=False``
    keeps the tenant's webhooks quiet about a step they do not follow (packing, signing)."""
    if not can_move(state, target):
        raise IllegalTransitionError(
            kind=state.kind, direction=state.direction, source=state.status, target=target.value
        )
    chained = events.chain(
        state.document_id,
        after_seq=state.event_count,
        after_hash=state.head_hash,
        events=happened,
        actor=actor,
        at=now,
    )
    documents.write_state(
        conn,
        tenant_id,
        state,
        status=target.value,
        code=code,
        detail=detail,
        events=chained,
        actor=actor,
        signed=signed,
    )
    if notify:
        documents.notify(conn, tenant_id, state.document_id, state.created_at, STATUS_EVENT)
    return dataclasses.replace(
        state,
        status=target.value,
        status_code=code,
        event_count=chained[-1].seq,
        head_hash=chained[-1].hash,
    )


def transition(
    conn: Connection,
    tenant_id: uuid.UUID,
    document_id: uuid.UUID,
    target: DocumentStatus,
    *,
    happened: Sequence[Event],
    actor: str,
    now: dt.datetime,
    code: str | None = None,
    detail: str | None = None,
    notify: bool = True,
) -> DocumentState:
    """Lock the document and :func:`move` it; raises :class:`IllegalTransitionError`, and
    ``LookupError`` for a document the tenant does not have."""
    state = documents.lock_state(conn, tenant_id, document_id, created_at(document_id))
    if state is None:
        raise LookupError(f"no document {document_id}")
    return move(
        conn,
        tenant_id,
        state,
        target,
        happened=happened,
        actor=actor,
        now=now,
        code=code,
        detail=detail,
        notify=notify,
    )


def record(
    conn: Connection,
    tenant_id: uuid.UUID,
    document_id: uuid.UUID,
    *,
    happened: Sequence[Event],
    actor: str,
    now: dt.datetime,
    notify: str | None = None,
) -> DocumentState:
    """Append events that change no status (a delivery to the buyer) to the document's chain,
    its row locked; ``notify`` names a webhook event to queue with them. Raises
    ``LookupError`` for a document the tenant does not have."""
    state = documents.lock_state(conn, tenant_id, document_id, created_at(document_id))
    if state is None:
        raise LookupError(f"no document {document_id}")
    chained = events.chain(
        state.document_id,
        after_seq=state.event_count,
        after_hash=state.head_hash,
        events=happened,
        actor=actor,
        at=now,
    )
    documents.write_events(conn, tenant_id, state, events=chained, actor=actor)
    if notify is not None:
        documents.notify(conn, tenant_id, state.document_id, state.created_at, notify)
    return dataclasses.replace(state, event_count=chained[-1].seq, head_hash=chained[-1].hash)
