"""``/api/v1/gib/…``: enrolment at GİB through the API, the tenant's owner only."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.testing.gibnet import Installation, Network, network, wait_until
from tests.testing.platform import new_vkn


@pytest.fixture(scope="module")
def net(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    with network(database_url, tmp_path_factory.mktemp("api-gib")) as n:
        yield n


@pytest.fixture(scope="module")
def inst(net: Network) -> Installation:
    return net.installation("api")


def _key(inst: Installation, tenant_id: uuid.UUID, role: str) -> str:
    from entegrator.store import repo

    with inst.runtime.db.system() as conn:
        token, _ = repo.create_api_key(conn, tenant_id, role=role, name=role)
    return token


def test_the_owner_enrols_and_follows_the_request(inst: Installation) -> None:
    vkn = new_vkn()
    tid = inst.tenant(vkn)
    with inst.client(vkn) as c:
        r = c.post("/api/v1/gib/enrol", json={"alias_pk": f"urn:mail:api{vkn}@api.example"})
        assert r.status_code == 202, r.text
        [request] = r.json()
        assert request["status"] == "queued" and request["service"] == "usergb"
        assert {a["kind"] for a in request["aliases"]} == {"PK", "GB"}

        def listed() -> bool:
            inst.pump(tid)
            inst.runtime.sending.refresh_user_list()
            return bool(c.get("/api/v1/gib").json()["requests"][0]["status"] == "listed")

        wait_until("GİB to list the aliases", listed)
        standing = c.get("/api/v1/gib").json()
        assert {a["state"] for a in standing["aliases"]} == {"active"}
        assert standing["requests"][0]["gib_code"] == 1300

        r = c.post("/api/v1/gib/aliases", json={"alias": "usergb", "kind": "PK"})
        assert r.status_code == 422
        error = r.json()["error"]
        assert error["code"] == "USER_ACCOUNT_INVALID"
        assert "UserAccountCheck-32" in error["message_tr"]
        assert "UserAccountCheck-32" in error["message_en"]
        r = c.post("/api/v1/gib/aliases/close", json={"alias": "urn:mail:yok@api.example"})
        assert r.status_code == 409 and r.json()["error"]["code"] == "GIB_NOT_ENROLLED"

        r = c.post("/api/v1/gib/cancel")
        assert r.status_code == 202 and r.json()[0]["action"] == "cancel"
        assert {a["state"] for a in c.get("/api/v1/gib").json()["aliases"]} == {"closing"}


@pytest.mark.parametrize(
    "body",
    [
        {"alias_pk": "urn:mail:a@b.example", "unknown": 1},
        {"alias_pk": 5},
        {"alias_pk": "urn:mail:\u0000@b.example"},
        {"alias_pk": "x" * 300},
    ],
)
def test_hostile_bodies_are_422_and_send_nothing(inst: Installation, body: object) -> None:
    vkn = new_vkn()
    tid = inst.tenant(vkn)
    with inst.client(vkn) as c:
        r = c.post("/api/v1/gib/enrol", json=body)
        assert r.status_code == 422, r.text
    assert inst.runtime.enrolment.requests(tid) == []


@pytest.mark.parametrize("role", ["accountant", "viewer", "api"])
def test_only_the_owner_may_enrol(inst: Installation, role: str) -> None:
    vkn = new_vkn()
    tid = inst.tenant(vkn)
    headers = {"Authorization": f"Bearer {_key(inst, tid, role)}"}
    for method, path in (("GET", ""), ("POST", "/enrol"), ("POST", "/cancel")):
        r = httpx.request(method, f"{inst.url}/api/v1/gib{path}", headers=headers, json={})
        assert r.status_code == 403, (role, path, r.text)
    assert inst.runtime.enrolment.requests(tid) == []
