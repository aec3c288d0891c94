"""Billing over HTTP: the 402 under concurrency, the tenant's usage, the operator's API."""

from __future__ import annotations

import concurrent.futures
import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from entegrator.runtime import Runtime
from entegrator.store import billing as store
from tests.clock import today
from tests.services.test_billing import plan_name, prepaid
from tests.testing.platform import TenantHandle, make_settings, serve

ADMIN_KEY = "operator-secret-for-tests-0123456789"


def test_twenty_concurrent_posts_with_ten_credits_issue_exactly_ten(
    make_tenant: Callable[..., TenantHandle], runtime: Runtime
) -> None:
    tenant = make_tenant(series="KON")
    prepaid(runtime, tenant, 10)

    def post(_: int) -> httpx.Response:
        with tenant.client() as c:
            return c.post("/api/v1/invoices", json=tenant.draft())

    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(post, range(20)))
    codes = sorted(a.status_code for a in answers)
    assert codes == [201] * 10 + [402] * 10, [a.text for a in answers if a.status_code >= 500]
    assert {a.json()["error"]["code"] for a in answers if a.status_code == 402} == {
        "CREDITS_EXHAUSTED"
    }
    numbers = sorted(a.json()["number"] for a in answers if a.status_code == 201)
    assert numbers == [f"KON2026{n:09d}" for n in range(1, 11)]  # no number lost
    with runtime.db.tenant(tenant.tenant_id) as conn:
        assert conn.execute(text("SELECT count(*) FROM documents")).scalar_one() == 10
        assert conn.execute(text("SELECT count(*) FROM usage_records")).scalar_one() == 10
        entries = store.ledger(conn, tenant.tenant_id)
        assert store.ledger_sum(conn, tenant.tenant_id) == 0
    assert [e.reason for e in entries] == ["topup"] + ["usage"] * 10
    assert [e.balance_after for e in entries] == list(range(10, -1, -1))
    with tenant.client() as c:
        usage = c.get("/api/v1/usage").json()
    assert usage["balance"] == 0
    assert usage["usage"]["efatura"] == "10"
    assert usage["plan"]["prepaid"] is True
    assert usage["banner"]["level"] == "exhausted"


def test_a_tenants_usage_is_its_own(
    make_tenant: Callable[..., TenantHandle], runtime: Runtime
) -> None:
    one, other = make_tenant(), make_tenant()
    runtime.accounts.create_user(
        one.tenant_id, email=f"muhasebe@{one.vkn}.example", role="muhasebe", password=None
    )
    with one.client() as c:
        one.issue(c, profile="EARSIVFATURA")
        usage = c.get("/api/v1/usage").json()
        assert c.get("/api/v1/usage", params={"period": "2026-13"}).status_code == 422
    assert usage["usage"]["earsiv"] == "1" and usage["plan"] is None
    # One person may log in (its owner key is no person); measured while the month is open.
    assert usage["usage"]["users"] == "1"
    assert Decimal(usage["usage"]["storage_gb"]) >= 0
    with other.client() as c:
        assert c.get("/api/v1/usage").json()["usage"]["earsiv"] == "0"


def test_the_operator_api_is_closed_without_a_key(tenant: TenantHandle, base_url: str) -> None:
    with httpx.Client(base_url=base_url, headers={"Authorization": "Bearer anything"}) as c:
        answer = c.get("/api/v1/admin/plans")
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "OPERATOR_API_CLOSED"
    with tenant.client() as c:  # a tenant's key is no way in either
        assert c.get("/api/v1/admin/plans").status_code == 403


@pytest.fixture(scope="module")
def operator_url(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = make_settings(
        database_url, Path(tmp_path_factory.mktemp("operator")), admin_key=ADMIN_KEY
    )
    rt = Runtime.from_settings(settings)
    with serve(rt) as url:
        yield url
    rt.close()


def test_the_operator_manages_plans_credits_and_reads_usage(
    tenant: TenantHandle, runtime: Runtime, operator_url: str
) -> None:
    auth = {"Authorization": f"Bearer {ADMIN_KEY}"}
    name = plan_name("api")
    with httpx.Client(base_url=operator_url) as c:
        assert c.get("/api/v1/admin/plans").status_code == 401
        wrong = c.get("/api/v1/admin/plans", headers={"Authorization": f"Bearer {tenant.token}"})
        assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "INVALID_ADMIN_KEY"
        # The operator's key is no tenant key.
        assert c.get("/api/v1/usage", headers=auth).status_code == 401
        body = {
            "name": name,
            "monthly_fee": "250.00",
            "prepaid": True,
            "included": {"efatura": 100},
            "unit_prices": {"efatura": "0.80", "storage_gb": "5"},
        }
        created = c.post("/api/v1/admin/plans", json=body, headers=auth)
        assert created.status_code == 201, created.text
        assert created.json()["unit_prices"] == {"efatura": "0.80", "storage_gb": "5.00"}
        assert c.post("/api/v1/admin/plans", json=body, headers=auth).status_code == 409
        bad = c.post(
            "/api/v1/admin/plans", json=body | {"name": "x", "monthly_fee": 1.5}, headers=auth
        )
        assert bad.status_code == 422
        unknown = c.post(
            "/api/v1/admin/plans", json=body | {"name": "y", "included": {"fax": 1}}, headers=auth
        )
        assert unknown.status_code == 422
        assert name in [p["name"] for p in c.get("/api/v1/admin/plans", headers=auth).json()]
        assigned = c.put(
            f"/api/v1/admin/tenants/{tenant.vkn}/plan",
            json={"plan": name, "effective_from": today().isoformat()},
            headers=auth,
        )
        assert assigned.status_code == 200, assigned.text
        assert assigned.json()["assignments"][-1]["plan"] == name
        missing = c.put("/api/v1/admin/tenants/3221555337/plan", json={"plan": name}, headers=auth)
        assert missing.status_code == 404, missing.text
        topped = c.post(
            f"/api/v1/admin/tenants/{tenant.vkn}/credits",
            json={"credits": 3, "price": "30.00"},
            headers=auth,
        )
        assert topped.status_code == 201, topped.text
        assert topped.json()["balance"] == 3
        party = tenant.draft()["customer"] | {"vkn": tenant.vkn}
        details = c.put(
            f"/api/v1/admin/tenants/{tenant.vkn}/billing",
            json={"party": party, "emails": ["a@example.com.tr"]},
            headers=auth,
        )
        assert details.status_code == 204, details.text
        with tenant.client() as t:
            tenant.issue(t)
        usage = c.get(f"/api/v1/admin/tenants/{tenant.vkn}/usage", headers=auth).json()
        assert (usage["balance"], usage["usage"]["efatura"]) == (2, "1")
        assert usage["plan"]["monthly_fee"] == str(Decimal("250.00"))
        assert c.get("/api/v1/admin/statements", headers=auth).status_code == 200


def test_a_despatch_is_billed_and_refused_without_credits(
    make_tenant: Callable[..., TenantHandle], runtime: Runtime
) -> None:
    """A prepaid tenant spends a credit per despatch advice, as per invoice, and the one it
    cannot pay is refused with 402 before it takes a number."""
    tenant = make_tenant()
    prepaid(runtime, tenant, 1)
    example = Path(__file__).resolve().parents[2] / "examples" / "api" / "despatch.json"
    draft = json.loads(example.read_text(encoding="utf-8"))
    draft["supplier"]["vkn"] = tenant.vkn
    with tenant.client() as c:
        first = c.post("/api/v1/despatches", json=draft)
        refused = c.post("/api/v1/despatches", json=draft)
        assert first.status_code == 201, first.text
        assert refused.status_code == 402, refused.text
        assert refused.json()["error"]["code"] == "CREDITS_EXHAUSTED"
        assert len(c.get("/api/v1/despatches").json()["items"]) == 1
        usage = c.get("/api/v1/usage").json()
    assert usage["usage"]["despatch"] == "1" and usage["balance"] == 0
    runtime.billing.add_credits(tenant.vkn, 1, price=Decimal(100), actor="test")
    with tenant.client() as c:
        again = c.post("/api/v1/despatches", json=draft)
    # The refusal took no number: the series goes on without a gap.
    assert again.status_code == 201 and again.json()["number"].endswith("000000002")


HOSTILE_ADMIN = [
    ("post", "/api/v1/admin/plans", b"{not json"),
    ("post", "/api/v1/admin/plans", b'{"name": "\\u0000x", "monthly_fee": "1"}'),
    ("post", "/api/v1/admin/plans", b'{"name": "p", "monthly_fee": "1e999999"}'),
    ("post", "/api/v1/admin/plans", b'{"name": "p", "included": {"efatura": -1}}'),
    ("put", "/api/v1/admin/tenants/{vkn}/plan", b'{"plan": 7}'),
    ("put", "/api/v1/admin/tenants/{vkn}/plan", b'{"plan": "x", "effective_from": "2026-02-30"}'),
    ("post", "/api/v1/admin/tenants/{vkn}/credits", b'{"credits": -5}'),
    ("post", "/api/v1/admin/tenants/{vkn}/credits", b'{"credits": 99999999999999999999999}'),
    ("post", "/api/v1/admin/tenants/{vkn}/credits", b'{"credits": "ten"}'),
    ("put", "/api/v1/admin/tenants/{vkn}/billing", b'{"emails": ["a@b\\r\\nBcc: c@d"]}'),
    ("put", "/api/v1/admin/tenants/{vkn}/billing", b"[]"),
    ("get", "/api/v1/admin/tenants/12abc%0A/usage", None),
    ("get", "/api/v1/admin/statements?period=2026-13", None),
]


@pytest.mark.parametrize(("method", "path", "body"), HOSTILE_ADMIN)
def test_hostile_operator_requests_are_refused_cleanly(
    tenant: TenantHandle, operator_url: str, method: str, path: str, body: bytes | None
) -> None:
    """Broken or hostile bodies and paths on the operator's API: a clear 4xx with the error
    shape, never a 500, and nothing changed for the tenant."""
    auth = {"Authorization": f"Bearer {ADMIN_KEY}", "Content-Type": "application/json"}
    with httpx.Client(base_url=operator_url, timeout=30) as c:
        answer = c.request(method, path.format(vkn=tenant.vkn), content=body, headers=auth)
        assert 400 <= answer.status_code < 500, answer.text
        assert answer.json()["error"]["code"]
        usage = c.get(f"/api/v1/admin/tenants/{tenant.vkn}/usage", headers=auth)
    assert usage.status_code == 200 and usage.json()["plan"] is None
