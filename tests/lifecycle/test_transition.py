"""``lifecycle.transition`` against PostgreSQL: one move, all of it or none of it."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from entegrator import lifecycle
from entegrator.lifecycle import DocumentStatus, IllegalTransitionError
from entegrator.runtime import Runtime
from entegrator.store import documents, events
from entegrator.store.ids import created_at
from tests.testing.platform import TenantHandle


def _state(runtime: Runtime, tenant: TenantHandle, doc_id: uuid.UUID) -> documents.DocumentState:
    with runtime.db.tenant(tenant.tenant_id) as conn:
        state = documents.lock_state(conn, tenant.tenant_id, doc_id, created_at(doc_id))
    assert state is not None
    return state


def test_a_move_writes_its_events_status_and_notification_together(
    tenant: TenantHandle, runtime: Runtime, run_jobs: Callable[[], None]
) -> None:
    with tenant.client() as c:
        issued = tenant.issue(c)
    doc_id = uuid.UUID(issued["id"])
    before = _state(runtime, tenant, doc_id)
    assert before.status == DocumentStatus.VALIDATED
    now = dt.datetime.now(dt.UTC)
    with runtime.db.tenant(tenant.tenant_id) as conn:
        conn.execute(
            text(
                "INSERT INTO webhooks (tenant_id, webhook_id, url, events, secret_nonce, "
                "secret_ciphertext) VALUES (:t, gen_random_uuid(), 'https://erp.example/h', "
                "ARRAY['document.status'], '\\x00', '\\x00')"
            ),
            {"t": tenant.tenant_id},
        )
        after = lifecycle.transition(
            conn,
            tenant.tenant_id,
            doc_id,
            DocumentStatus.FAILED,
            happened=[("failed", "failed", {"code": "TEST"})],
            actor="test",
            now=now,
            code="TEST",
            detail="sınama",
        )
    assert (after.status, after.event_count) == ("failed", before.event_count + 1)
    with runtime.db.tenant(tenant.tenant_id) as conn:
        row = conn.execute(
            text("SELECT status, status_code, status_detail, head_hash FROM documents")
        ).one()
        chain = events.list_events(conn, tenant.tenant_id, doc_id)
        notified = (
            conn.execute(text("SELECT payload->'document'->>'status' FROM webhook_deliveries"))
            .scalars()
            .all()
        )
    assert (row.status, row.status_code, row.status_detail) == ("failed", "TEST", "sınama")
    assert events.verify_chain(chain, doc_id, bytes(row.head_hash)) == []
    assert chain[-1].type == "failed" and chain[-1].actor == "test"
    assert notified == ["failed"]  # the notification saw the document as it now stands


def test_an_illegal_move_is_a_typed_error_and_changes_nothing(
    tenant: TenantHandle, runtime: Runtime
) -> None:
    with tenant.client() as c:
        doc_id = uuid.UUID(tenant.issue(c)["id"])
    before = _state(runtime, tenant, doc_id)
    with (
        pytest.raises(IllegalTransitionError) as refused,
        runtime.db.tenant(tenant.tenant_id) as conn,
    ):
        lifecycle.transition(
            conn,
            tenant.tenant_id,
            doc_id,
            DocumentStatus.DELIVERED,  # validated → delivered skips signing and GİB
            happened=[("gib-status", "delivered", {"code": 1300})],
            actor="test",
            now=dt.datetime.now(dt.UTC),
        )
    assert refused.value.code == "ILLEGAL_TRANSITION"
    assert "validated" in refused.value.text_en and "delivered" in refused.value.text_en
    assert _state(runtime, tenant, doc_id) == before


def test_the_database_refuses_a_status_the_lifecycle_does_not_know(
    tenant: TenantHandle, runtime: Runtime
) -> None:
    with tenant.client() as c:
        doc_id = uuid.UUID(tenant.issue(c)["id"])
    with pytest.raises(IntegrityError), runtime.db.tenant(tenant.tenant_id) as conn:
        conn.execute(
            text("UPDATE documents SET status = 'lost' WHERE document_id = :d"), {"d": doc_id}
        )
