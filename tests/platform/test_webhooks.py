"""Webhook deliveries: bounded in time and size, apart from the work every tenant needs, and
sent only to the address that was checked."""

from __future__ import annotations

from tests.platform.conftest import TenantHandle


def test_an_empty_event_list_is_refused(tenant: TenantHandle) -> None:
    with tenant.client() as c:
        refused = c.post("/api/v1/webhooks", json={"url": "http://127.0.0.1:9/h", "events": []})
        assert refused.status_code == 422
        error = refused.json()["error"]
        assert (error["code"], error["where"]) == ("WEBHOOK_INVALID", "events")
        assert error["message_tr"] and error["message_en"]
        assert c.get("/api/v1/webhooks").json()["items"] == []
