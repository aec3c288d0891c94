"""The delivery job: the worker that signs an e-Arşiv invoice also delivers it (here without
SMTP configured, as in ``make run``: an ``.eml`` file in the data folder)."""

from __future__ import annotations

import email
import email.policy
import uuid
from collections.abc import Callable

from entegrator.runtime import Runtime
from entegrator.store import deliveries
from tests.testing.platform import TenantHandle


def test_the_worker_signs_then_delivers_to_the_outbox(
    runtime: Runtime, tenant: TenantHandle, run_jobs: Callable[[], None]
) -> None:
    draft = tenant.draft(profile="EARSIVFATURA", sending_type="ELEKTRONIK")
    draft["customer"]["contact"]["email"] = "worker@example.com.tr"
    with tenant.client() as client:
        response = client.post("/api/v1/invoices", json=draft)
        assert response.status_code == 201, response.text
        document_id = uuid.UUID(response.json()["id"])
        run_jobs()
        assert client.get(f"/api/v1/invoices/{document_id}").json()["status"] == "queued"
    with runtime.db.tenant(tenant.tenant_id) as conn:
        (row,) = deliveries.for_document(conn, tenant.tenant_id, document_id)
    assert (row.status, row.attempts) == ("sent", 1)
    files = list((runtime.settings.data_dir / "outbox").glob(f"{row.delivery_id}*.eml"))
    assert len(files) == 1
    message = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert message["To"] == "worker@example.com.tr"
