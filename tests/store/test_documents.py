"""The store's reading of outgoing documents across tenants (the shadow run of a new pack)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from entegrator.runtime import Runtime
from entegrator.store import documents
from tests.testing.platform import TenantHandle


def _ids(rows: list[documents.StoredOutgoing], tenants: set[uuid.UUID]) -> list[uuid.UUID]:
    return [r.document_id for r in rows if r.tenant_id in tenants]


def test_outgoing_since_reads_every_tenants_documents_a_page_at_a_time(
    make_tenant: Callable[..., TenantHandle], runtime: Runtime
) -> None:
    first, second = make_tenant(), make_tenant()
    start = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    with first.client() as c:
        before = first.issue(c)
    issued: list[dict[str, Any]] = []
    for tenant in (first, second, first):
        with tenant.client() as c:
            issued.append(tenant.issue(c, notes=[f"not {len(issued)}"]))
    wanted = [uuid.UUID(d["id"]) for d in issued]
    tenants = {first.tenant_id, second.tenant_id}
    with runtime.db.system() as conn:
        everything = documents.outgoing_since(conn, start, limit=100_000)
    assert _ids(everything, tenants) == [uuid.UUID(before["id"]), *wanted]

    # ``since`` is inclusive: the document created at that instant is read too.
    since = next(r.created_at for r in everything if r.document_id == uuid.UUID(before["id"]))
    with runtime.db.system() as conn:
        rows = documents.outgoing_since(conn, since, limit=100_000)
    assert _ids(rows, tenants) == [uuid.UUID(before["id"]), *wanted]
    by_id = {r.document_id: r for r in rows}
    for doc, tenant in zip(issued, (first, second, first), strict=True):
        row = by_id[uuid.UUID(doc["id"])]
        assert row.tenant_id == tenant.tenant_id
        assert str(row.ettn).upper() == doc["ettn"].upper()
        assert row.xml.startswith(b"<?xml") and doc["ettn"].lower().encode() in row.xml.lower()

    # Pages of one, each starting after the last row of the one before, cover the same rows.
    paged: list[documents.StoredOutgoing] = []
    after = None
    while True:
        with runtime.db.system() as conn:
            page = documents.outgoing_since(conn, since, after=after, limit=1)
        if not page:
            break
        assert len(page) == 1
        paged.extend(page)
        after = (page[-1].created_at, page[-1].document_id)
    assert [r.document_id for r in paged] == [r.document_id for r in rows]

    with runtime.db.system() as conn:
        later = documents.outgoing_since(conn, rows[-1].created_at, limit=1000)
    assert rows[-1].document_id in {r.document_id for r in later}
    assert uuid.UUID(before["id"]) not in {r.document_id for r in later}
