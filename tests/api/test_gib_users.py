"""GİB user lookup over HTTP, from the cached list fetched as GİB publishes it; compared with
GİB's excerpt read here with lxml."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from lxml import etree

from entegrator.runtime import Runtime
from entegrator.store import gib_users
from tests.services.test_user_list_refresh import cache_kept, published
from tests.testing.platform import TenantHandle, make_settings

__all__ = ["cache_kept", "published"]

ISTANBUL = ZoneInfo("Europe/Istanbul")  # +02:00 before 2016 (and in summer +03:00)


def _refresh(runtime: Runtime, published: str, tmp_path: Path) -> None:
    fetching = Runtime.from_settings(
        make_settings(
            runtime.database_url,
            tmp_path / "data",
            gib_url=f"{published}/EFaturaMerkez/services/EFatura",
            gib_user_list_url=f"{published}/EFaturaMerkez",
        )
    )
    try:
        fetching.sending.refresh_user_list()
    finally:
        fetching.close()


def _expected(gib_packages: Path) -> dict[str, dict[str, Any]]:
    """Per identifier: title, first creation (Turkish time) and its aliases as listed."""
    tree = etree.parse(str(gib_packages / "userlist" / "newUserPkList-excerpt.xml"))
    out: dict[str, dict[str, Any]] = {}
    for user in tree.getroot().iterfind("User"):
        first = dt.datetime.fromisoformat(str(user.findtext("FirstCreationTime")))
        out[str(user.findtext("Identifier"))] = {
            "title": user.findtext("Title"),
            "first": first.replace(tzinfo=ISTANBUL),
            "aliases": sorted(
                (
                    alias.findtext("Name"),
                    {"Invoice": "invoice", "DespatchAdvice": "despatch"}[str(doc.get("type"))],
                    alias.findtext("DeletionTime") is None,
                )
                for doc in user.iterfind("Documents/Document")
                for alias in doc.iterfind("Alias")
            ),
        }
    return out


@pytest.mark.usefixtures("cache_kept")
def test_lookup_tells_registration_title_dates_and_aliases(
    runtime: Runtime, published: str, gib_packages: Path, tmp_path: Path, tenant: TenantHandle
) -> None:
    with runtime.db.system() as conn:
        gib_users.replace_users(conn, [])
    with tenant.client() as c:
        empty = c.get("/api/v1/gib-users/1111113261")
        assert empty.status_code == 503
        assert empty.json()["error"]["code"] == "GIB_USER_LIST_EMPTY"
        _refresh(runtime, published, tmp_path)
        expected = _expected(gib_packages)
        r = c.post("/api/v1/gib-users", json={"identifiers": [*expected, "9999999999"]})
        assert r.status_code == 200, r.text
        body = r.json()
        assert 0 <= body["list_age_seconds"] < 120
        users = {u["identifier"]: u for u in body["users"]}
        assert users["9999999999"]["registered"] is False
        assert users["9999999999"]["aliases"] == []
        for identifier, want in expected.items():
            got = users[identifier]
            assert got["title"] == want["title"]
            assert dt.datetime.fromisoformat(got["first_registration"]) == want["first"]
            aliases = sorted(
                (a["alias"], a["document"], a["deleted"] is None) for a in got["aliases"]
            )
            assert aliases == want["aliases"], identifier
            assert all(a["kind"] == "PK" for a in got["aliases"])  # the excerpt is the PK list
            assert got["registered"] == any(
                a["active"] and a["document"] == "invoice" for a in got["aliases"]
            )
        # GİB's e-İrsaliye catch-all: a despatch user, not an e-Fatura user.
        assert users["3900892152"]["registered"] is False
        assert users["3900892152"]["despatch_registered"] is True
        one = c.get("/api/v1/gib-users/3900892152").json()
        assert one["users"] == [users["3900892152"]]


@pytest.mark.parametrize("who", ["123", "abcdefghij", "1" * 12, "1111113261%00", "x" * 5000])
def test_a_bad_identifier_is_422(tenant: TenantHandle, who: str) -> None:
    with tenant.client() as c:
        r = c.get(f"/api/v1/gib-users/{who}")
    assert r.status_code in {404, 422}, r.text  # 404: a path the router does not match


@pytest.mark.parametrize(
    "body",
    [
        {"identifiers": []},
        {"identifiers": ["1111113261"] * 1001},
        {"identifiers": ["1111113261", "12"]},
        {"identifiers": "1111113261"},
        {"identifiers": [None]},
        {},
    ],
)
def test_hostile_lookups_are_422(tenant: TenantHandle, body: Any) -> None:
    with tenant.client() as c:
        r = c.post("/api/v1/gib-users", json=body)
    assert r.status_code == 422, r.text


def test_lookup_needs_a_key(base_url: str) -> None:
    assert httpx.get(f"{base_url}/api/v1/gib-users/1111113261").status_code == 401
    assert httpx.post(f"{base_url}/api/v1/gib-users", json={"identifiers": []}).status_code == 401
