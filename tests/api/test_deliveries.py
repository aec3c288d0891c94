"""Deliveries over the API (send again, list) and the public view ``/e/<token>``."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from entegrator.runtime import Runtime
from entegrator.store import deliveries, webhooks
from tests.testing.platform import TenantHandle

BUYER = "alici@example.com.tr"


def issue_earsiv(runtime: Runtime, tenant: TenantHandle, client: httpx.Client) -> str:
    draft = tenant.draft(profile="EARSIVFATURA", sending_type="ELEKTRONIK")
    draft["customer"]["contact"]["email"] = BUYER
    response = client.post("/api/v1/invoices", json=draft)
    assert response.status_code == 201, response.text
    runtime.signing.sign_pending(tenant.tenant_id)
    return str(response.json()["id"])


def token_of(runtime: Runtime, tenant: TenantHandle, document_id: str) -> str:
    with runtime.db.tenant(tenant.tenant_id) as conn:
        return deliveries.link_for(conn, tenant.tenant_id, uuid.UUID(document_id), "x" * 43)


def test_resend_to_another_address_and_list(runtime: Runtime, tenant: TenantHandle) -> None:
    with tenant.client() as client:
        document_id = issue_earsiv(runtime, tenant, client)
        path = f"/api/v1/invoices/{document_id}/deliveries"
        sent = client.post(path, json={"email": "muhasebe@example.org"})
        assert sent.status_code == 202, sent.text
        assert sent.json()["status"] == "queued"
        assert sent.json()["requested_by"] == "api"
        listed = client.get(path)
    assert listed.status_code == 200
    items = listed.json()["items"]
    assert [(i["address"], i["requested_by"]) for i in items] == [
        (BUYER, "signing"),
        ("muhasebe@example.org", "api"),
    ]
    assert all(i["channel"] == "email" for i in items)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"email": "x@y.com\r\nBcc: evil@example.com"}, 422),  # header injection
        ({"email": "not-an-address"}, 422),
        ({"email": "a@b.c" + "o" * 300}, 422),
        ({"email": ["a@b.com"]}, 422),
        ({"email": "a@b.com", "bcc": "evil@example.com"}, 422),  # nothing else is taken
        ({}, 422),
    ],
)
def test_hostile_delivery_requests_are_refused(
    runtime: Runtime, tenant: TenantHandle, body: dict[str, Any], status: int
) -> None:
    with tenant.client() as client:
        document_id = issue_earsiv(runtime, tenant, client)
        path = f"/api/v1/invoices/{document_id}/deliveries"
        answer = client.post(path, json=body)
        assert answer.status_code == status, answer.text
        assert "code" in answer.json()["error"]
        assert len(client.get(path).json()["items"]) == 1  # only the automatic one


def test_deliveries_of_unknown_foreign_or_unsigned_documents(
    runtime: Runtime, make_tenant: Callable[..., TenantHandle]
) -> None:
    owner, other = make_tenant(), make_tenant()
    with owner.client() as client:
        document_id = issue_earsiv(runtime, owner, client)
        unsigned = owner.issue(client)["id"]  # the worker has not signed it
        answer = client.post(f"/api/v1/invoices/{unsigned}/deliveries", json={"email": BUYER})
        assert answer.status_code == 409
        for bad in ("nope", str(uuid.uuid4()), "../../x"):
            assert client.get(f"/api/v1/invoices/{bad}/deliveries").status_code == 404
    with other.client() as client:
        path = f"/api/v1/invoices/{document_id}/deliveries"
        assert client.get(path).status_code == 404
        assert client.post(path, json={"email": BUYER}).status_code == 404
    with httpx.Client(base_url=owner.base_url) as anonymous:
        assert anonymous.get(f"/api/v1/invoices/{document_id}/deliveries").status_code == 401


def test_a_not_yet_signed_invoice_cannot_be_sent(
    runtime: Runtime, make_tenant: Callable[..., TenantHandle]
) -> None:
    tenant = make_tenant(seal=False)  # nothing gets signed
    with tenant.client() as client:
        document_id = tenant.issue(client)["id"]
        answer = client.post(f"/api/v1/invoices/{document_id}/deliveries", json={"email": BUYER})
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "NOT_SIGNED_YET"


def test_the_public_view_needs_no_login_and_only_the_token(
    runtime: Runtime, tenant: TenantHandle
) -> None:
    with tenant.client() as client:
        document_id = issue_earsiv(runtime, tenant, client)
        signed = client.get(f"/api/v1/invoices/{document_id}/xml").content
        number = client.get(f"/api/v1/invoices/{document_id}").json()["number"]
    token = token_of(runtime, tenant, document_id)
    assert token != "x" * 43  # the one made when the delivery was queued
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)
    with httpx.Client(base_url=tenant.base_url, timeout=60) as anonymous:
        page = anonymous.get(f"/e/{token}")
        assert page.status_code == 200, page.text
        assert number in page.text
        assert f'href="{token}/pdf"' in page.text
        assert page.headers["cache-control"] == "no-store"
        assert page.headers["referrer-policy"] == "no-referrer"
        assert "script-src" not in page.headers["content-security-policy"]
        pdf = anonymous.get(f"/e/{token}/pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
        xml = anonymous.get(f"/e/{token}/xml")
        assert xml.status_code == 200 and xml.content == signed
        # A wrong token, one character off, or not a token at all: nothing.
        flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
        for bad in (flipped, "x" * 43, "short", token + "x", "%2e%2e", "x" * 43 + "/pdf/../xml"):
            assert anonymous.get(f"/e/{bad}").status_code == 404, bad
            assert anonymous.get(f"/e/{bad}/xml").status_code == 404, bad


def test_delivery_outcomes_are_in_the_invoices_events(
    runtime: Runtime, tenant: TenantHandle
) -> None:
    with tenant.client() as client:
        document_id = issue_earsiv(runtime, tenant, client)
        hook = uuid.uuid4()
        with runtime.db.tenant(tenant.tenant_id) as conn:  # an ERP endpoint (not called here)
            webhooks.insert_endpoint(
                conn,
                tenant.tenant_id,
                hook,
                url="https://hooks.example/e",
                events=["document.delivered"],
                secret_nonce=b"n" * 12,
                secret_ciphertext=b"c" * 48,
            )
        # Without a mail server the message becomes an .eml file: sent all the same.
        assert runtime.deliveries.deliver_pending(tenant.tenant_id) == 1
        invoice = client.get(f"/api/v1/invoices/{document_id}").json()
        (row,) = client.get(f"/api/v1/invoices/{document_id}/deliveries").json()["items"]
        cancelled = client.post(
            f"/api/v1/invoices/{document_id}/cancel", json={"reason": "Yanlış alıcı"}
        )
        assert cancelled.status_code == 200, cancelled.text
        listed = client.get(f"/api/v1/invoices/{document_id}/deliveries").json()["items"]
        after = client.get(f"/api/v1/invoices/{document_id}").json()["events"]
        sent_to_hook = client.get(f"/api/v1/webhooks/{hook}/deliveries").json()
    found = [e for e in invoice["events"] if e["type"].startswith("delivery-")]
    assert [(e["type"], e["status"], e["actor"]) for e in found] == [
        ("delivery-queued", None, "worker"),
        ("delivery-sent", None, "worker"),
    ]
    assert found[1]["data"] == {
        "delivery": row["id"],
        "channel": "email",
        "address": BUYER,
        "attempt": 1,
        "requested_by": "signing",
    }
    seqs = [e["seq"] for e in invoice["events"]]
    assert seqs == list(range(1, len(seqs) + 1))
    assert [d["event"] for d in sent_to_hook["items"]] == ["document.delivered"]
    # The cancellation's e-mail is queued with it, and so is its event.
    assert [(d["requested_by"], d["address"]) for d in listed] == [
        ("signing", BUYER),
        ("cancellation", BUYER),
    ]
    assert [e["type"] for e in after[-2:]] == ["cancelled", "delivery-queued"]
    assert after[-1]["data"]["requested_by"] == "cancellation"
