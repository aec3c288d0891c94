"""Every repository under one name, for callers that predate the aggregate modules.

New code imports the module of its aggregate (``store.documents``, ``store.events`` …).
"""

from __future__ import annotations

from entegrator.store.aliases import add_alias
from entegrator.store.audit import append_audit
from entegrator.store.blobs import get_blob, get_blobs, put_blob
from entegrator.store.documents import DOCUMENT_COLUMNS, DocumentRow, get_document
from entegrator.store.events import (
    EVENTS_INSERT,
    GENESIS,
    EventRow,
    NewEvent,
    append_events,
    chain,
    event_columns,
    event_hash,
    list_events,
    verify_chain,
)
from entegrator.store.jobs import QUEUE, wake
from entegrator.store.keys import (
    KEY_PREFIX,
    ROLES,
    ApiKey,
    authenticate,
    create_api_key,
    revoke_api_key,
)
from entegrator.store.numbering import last_number, next_number, take_number
from entegrator.store.tenants import create_tenant

__all__ = [
    "DOCUMENT_COLUMNS",
    "EVENTS_INSERT",
    "GENESIS",
    "KEY_PREFIX",
    "QUEUE",
    "ROLES",
    "ApiKey",
    "DocumentRow",
    "EventRow",
    "NewEvent",
    "add_alias",
    "append_audit",
    "append_events",
    "authenticate",
    "chain",
    "create_api_key",
    "create_tenant",
    "event_columns",
    "event_hash",
    "get_blob",
    "get_blobs",
    "get_document",
    "last_number",
    "list_events",
    "next_number",
    "put_blob",
    "revoke_api_key",
    "take_number",
    "verify_chain",
    "wake",
]
