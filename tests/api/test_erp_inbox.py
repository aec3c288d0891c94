"""The ERPs' inbox and change feed over HTTP: acknowledgements per consumer, redelivery until
acknowledged, roles, tenant isolation and hostile input."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from entegrator.gib.soap import SendDocument
from entegrator.runtime import Runtime
from tests.services.test_inbound import _envelope, _gib_call, _pk
from tests.testing.platform import TenantHandle


def _deliver(runtime: Runtime, tenant: TenantHandle, base_url: str, n: int) -> None:
    pk = _pk(runtime, tenant)
    for _ in range(n):
        packed, _, _ = _envelope(tenant.vkn, pk)
        _gib_call(base_url, SendDocument(packed.name, packed.data, packed.md5))


@pytest.fixture
def inbox(
    make_tenant: Callable[..., TenantHandle],
    runtime: Runtime,
    base_url: str,
    run_jobs: Callable[[], None],
) -> TenantHandle:
    tenant = make_tenant()
    _deliver(runtime, tenant, base_url, 5)
    run_jobs()
    return tenant


def _unacked(c: httpx.Client, consumer: str | None, limit: int = 2) -> list[str]:
    """Every unacknowledged id, following the cursor page by page."""
    ids: list[str] = []
    params: dict[str, Any] = {"unacknowledged": "true", "limit": limit}
    if consumer is not None:
        params["consumer"] = consumer
    while True:
        r = c.get("/api/v1/incoming", params=params)
        assert r.status_code == 200, r.text
        ids += [d["id"] for d in r.json()["items"]]
        if r.json()["next_cursor"] is None:
            return ids
        params["cursor"] = r.json()["next_cursor"]


def test_an_erp_that_crashes_before_acknowledging_gets_the_documents_again(
    inbox: TenantHandle,
) -> None:
    with inbox.client() as c:
        first = _unacked(c, "logo")
        assert len(first) == 5 and len(set(first)) == 5
        # Oldest first: the order they were filed in.
        everything = [d["id"] for d in c.get("/api/v1/incoming").json()["items"]]
        assert first == list(reversed(everything))
        # The ERP "crashes" here: nothing acknowledged, so the next poll returns the same.
        assert _unacked(c, "logo") == first
        r = c.post("/api/v1/incoming/ack", json={"consumer": "logo", "ids": first[:3]})
        assert r.status_code == 200, r.text
        assert r.json() == {"consumer": "logo", "acknowledged": first[:3], "unknown": []}
        assert _unacked(c, "logo") == first[3:]
        # Acknowledging again is harmless and answers the same.
        again = c.post("/api/v1/incoming/ack", json={"consumer": "logo", "ids": first[:3]})
        assert again.json() == r.json()
        c.post("/api/v1/incoming/ack", json={"consumer": "logo", "ids": first[3:]})
        assert _unacked(c, "logo") == []


def test_two_erps_each_see_every_document(inbox: TenantHandle, runtime: Runtime) -> None:
    with inbox.client() as c:
        logo = _unacked(c, "logo")
        c.post("/api/v1/incoming/ack", json={"consumer": "logo", "ids": logo})
        assert _unacked(c, "logo") == []
        assert _unacked(c, "sap.prod") == logo  # the other ERP still sees all of them
        # Without a consumer, the API key is the consumer: a second key has its own inbox.
        assert _unacked(c, None) == logo
        c.post("/api/v1/incoming/ack", json={"ids": logo[:1]})
        assert _unacked(c, None) == logo[1:]
    second = inbox.key(runtime, "api")
    with httpx.Client(
        base_url=inbox.base_url, headers={"Authorization": f"Bearer {second}"}
    ) as other:
        assert _unacked(other, None) == logo
        assert _unacked(other, "logo") == []  # a named consumer is shared by its keys


def test_the_inbox_is_the_tenants_own_and_acking_takes_a_writer(
    inbox: TenantHandle, make_tenant: Callable[..., TenantHandle], runtime: Runtime
) -> None:
    with inbox.client() as c:
        ids = _unacked(c, "logo")
    stranger = make_tenant()
    with stranger.client() as s:
        assert _unacked(s, "logo") == []
        r = s.post("/api/v1/incoming/ack", json={"consumer": "logo", "ids": ids})
        assert r.json()["acknowledged"] == [] and r.json()["unknown"] == ids
    with inbox.client() as c:
        assert _unacked(c, "logo") == ids  # the stranger acknowledged nothing of ours
    viewer = inbox.key(runtime, "viewer")
    with httpx.Client(base_url=inbox.base_url, headers={"Authorization": f"Bearer {viewer}"}) as v:
        assert _unacked(v, "logo") == ids  # a viewer may read
        r = v.post("/api/v1/incoming/ack", json={"consumer": "logo", "ids": ids})
        assert r.status_code == 403 and r.json()["error"]["code"] == "FORBIDDEN"
    r = httpx.post(f"{inbox.base_url}/api/v1/incoming/ack", json={"ids": ids})
    assert r.status_code == 401


def test_outgoing_ids_and_unknown_ids_are_not_acknowledged(inbox: TenantHandle) -> None:
    with inbox.client() as c:
        out = inbox.issue(c)["id"]
        ghost = str(uuid.UUID(int=uuid.uuid4().int & ~(0xF << 76) | (7 << 76)))
        v4 = str(uuid.uuid4())
        r = c.post("/api/v1/incoming/ack", json={"consumer": "x", "ids": [out, ghost, v4]})
        assert r.status_code == 200
        assert r.json()["acknowledged"] == []
        assert sorted(r.json()["unknown"]) == sorted([out, ghost, v4])


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"ids": ["not-an-id"]}, "ids[0]"),
        ({"ids": []}, None),
        ({"ids": [str(uuid.uuid4())] * 1001}, None),
        ({"ids": ["a" * 5000]}, None),
        ({"ids": "x"}, None),
        ({"ids": [1, 2]}, None),
        ({"consumer": "bad consumer!", "ids": [str(uuid.uuid4())]}, None),
        ({"consumer": "x" * 65, "ids": [str(uuid.uuid4())]}, None),
        ([], None),
    ],
)
def test_hostile_acknowledgements_are_422(
    tenant: TenantHandle, body: Any, where: str | None
) -> None:
    with tenant.client() as c:
        r = c.post("/api/v1/incoming/ack", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"]
    if where is not None:
        assert r.json()["error"]["where"] == where


@pytest.mark.parametrize(
    "params",
    [
        {"unacknowledged": "true", "consumer": "a b"},
        {"unacknowledged": "true", "consumer": ""},
        {"unacknowledged": "maybe"},
        {"unacknowledged": "true", "cursor": "%%%"},
        {"unacknowledged": "true", "limit": "100000"},
    ],
)
def test_hostile_inbox_queries_are_422(tenant: TenantHandle, params: dict[str, str]) -> None:
    with tenant.client() as c:
        assert c.get("/api/v1/incoming", params=params).status_code == 422


# -- the change feed --------------------------------------------------------------------------


def _changes(c: httpx.Client, since: str | None, **params: Any) -> tuple[list[dict[str, Any]], str]:
    items: list[dict[str, Any]] = []
    while True:
        query = {"limit": 3, **params} | ({"since": since} if since else {})
        r = c.get("/api/v1/changes", params=query)
        assert r.status_code == 200, r.text
        items += r.json()["items"]
        since = r.json()["next_cursor"]
        if not r.json()["more"]:
            return items, since


def test_the_change_feed_shows_each_status_change_once(
    tenant: TenantHandle, run_jobs: Callable[[], None], make_tenant: Callable[..., TenantHandle]
) -> None:
    with tenant.client() as c:
        issued = [tenant.issue(c)["id"] for _ in range(2)]
        first, cursor = _changes(c, None)
        assert {i["document_id"] for i in first} == set(issued)
        assert all(i["direction"] == "out" for i in first)
        assert _changes(c, cursor)[0] == []  # nothing new: nothing twice
        run_jobs()  # signing (and sending) add events
        later, cursor2 = _changes(c, cursor)
        assert later and {i["document_id"] for i in later} <= set(issued)
        assert not {(i["document_id"], i["seq"]) for i in later} & {
            (i["document_id"], i["seq"]) for i in first
        }
        events = c.get(f"/api/v1/invoices/{issued[0]}").json()["events"]
        feed = [i for i in first + later if i["document_id"] == issued[0]]
        assert [i["seq"] for i in feed] == [e["seq"] for e in events]
        assert _changes(c, cursor2, direction="in")[0] == []
    with make_tenant().client() as other:
        assert _changes(other, None)[0] == []


@pytest.mark.parametrize(
    "since", ["abc", "1-", "-1-2", "99999999999999999999-1", "1-2-3", "x" * 41]
)
def test_hostile_cursors_are_422(tenant: TenantHandle, since: str) -> None:
    with tenant.client() as c:
        r = c.get("/api/v1/changes", params={"since": since})
    assert r.status_code == 422
    assert r.json()["error"]["code"] in {"INVALID_CURSOR", "INVALID_PARAMETER", "VALIDATION_ERROR"}
