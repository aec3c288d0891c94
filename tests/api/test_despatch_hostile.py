"""Hostile bodies on the e-İrsaliye endpoints: each one is a clear 4xx, nothing is stored,
and the API keeps serving."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.testing.platform import TenantHandle

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "api" / "despatch.json"
XML = {"Content-Type": "application/xml"}

XXE = (
    b'<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
    b'<DespatchAdvice xmlns="urn:oasis:names:specification:ubl:schema:xsd:DespatchAdvice-2">'
    b"&x;</DespatchAdvice>"
)
LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
    + b"".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'.encode() for i in range(8)
    )
    + b']><DespatchAdvice xmlns="urn:oasis:names:specification:ubl:schema:xsd:DespatchAdvice-2">'
    b"&i;</DespatchAdvice>"
)
DEEP = b"<a>" * 100_000 + b"</a>" * 100_000
INVOICE_ROOT = b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"/>'
EMPTY_DESPATCH = (
    b'<DespatchAdvice xmlns="urn:oasis:names:specification:ubl:schema:xsd:DespatchAdvice-2"/>'
)


def _draft(tenant: TenantHandle, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["supplier"]["vkn"] = tenant.vkn
    data.update(changes)
    return data


def _nothing_stored(c: httpx.Client) -> None:
    assert c.get("/api/v1/despatches").json()["items"] == []
    assert c.get("/healthz").status_code == 200


@pytest.mark.parametrize(
    "body",
    [XXE, LAUGHS, DEEP, INVOICE_ROOT, EMPTY_DESPATCH, b"not xml at all", b"\xff\xfe\x00<"],
    ids=["xxe", "laughs", "deep", "invoice", "empty-despatch", "text", "bytes"],
)
def test_hostile_xml_is_refused(make_tenant: Any, body: bytes) -> None:
    tenant = make_tenant()
    with tenant.client() as c:
        r = c.post("/api/v1/despatches", content=body, headers=XML)
        assert 400 <= r.status_code < 500, r.text[:300]
        assert r.json()["error"]["code"]
        assert b"root:" not in r.content  # no file was read
        _nothing_stored(c)


@pytest.mark.parametrize(
    "body",
    [
        b"[]",
        b"42",
        b'"despatch"',
        b"{",
        b'{"kind": "despatch"}',
        b'{"kind": "ufo"}',
        b"[" * 100_000 + b"]" * 100_000,
        b'{"kind": "despatch", "kind": "invoice"}',
    ],
    ids=["array", "number", "string", "broken", "empty-draft", "kind", "deep", "twice"],
)
def test_hostile_json_is_refused(make_tenant: Any, body: bytes) -> None:
    tenant = make_tenant()
    with tenant.client() as c:
        r = c.post("/api/v1/despatches", content=body, headers={"Content-Type": "application/json"})
        assert r.status_code == 422, r.text[:300]
        _nothing_stored(c)


@pytest.mark.parametrize("path", ["/api/v1/despatches", "/api/v1/invoices", "/api/v1/validate"])
def test_json_nested_too_deep_is_422_not_500(tenant: TenantHandle, path: str) -> None:
    with tenant.client() as c:
        for deep in (b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 50_000 + b"1" + b"}" * 50_000):
            r = c.post(path, content=deep, headers={"Content-Type": "application/json"})
            assert r.status_code == 422, r.text[:300]


def test_drafts_that_are_not_despatches_or_not_ours_are_refused(make_tenant: Any) -> None:
    tenant = make_tenant()
    with tenant.client() as c:
        invoice = json.loads(
            (EXAMPLE.parent / "invoice.json").read_text(encoding="utf-8")
        )  # an invoice draft: no kind
        assert c.post("/api/v1/despatches", json=invoice).status_code == 422
        other = _draft(tenant)
        other["supplier"]["vkn"] = "7047649710"  # another company's despatch
        assert c.post("/api/v1/despatches", json=other).status_code == 422
        bad = _draft(tenant)
        bad["lines"][0]["name"] = "Çimento\x00\x07"
        assert c.post("/api/v1/despatches", json=bad).status_code == 422
        bad = _draft(tenant)
        bad["lines"][0]["quantity"] = "1e400"
        assert c.post("/api/v1/despatches", json=bad).status_code == 422
        bad = _draft(tenant)
        bad["lines"] = bad["lines"] * 5000
        assert c.post("/api/v1/despatches", json=bad).status_code == 422
        assert (
            c.post(
                "/api/v1/despatches", content=b"x", headers={"Content-Type": "text/plain"}
            ).status_code
            == 415
        )
        assert c.post("/api/v1/despatches", content=b"", headers=XML).status_code == 422
        assert c.post("/api/v1/despatches?series=ab%00", json=_draft(tenant)).status_code == 422
        _nothing_stored(c)
        # The same draft, well-formed, is taken: the refusals above were about the body.
        ok = c.post("/api/v1/despatches", json=_draft(tenant))
        assert ok.status_code == 201, ok.text
        assert ok.json()["number"] == "IRS2026000000001"


@pytest.mark.parametrize(
    "body",
    [
        [],
        {},
        {"accept_all": True, "lines": [{"line": 1}]},
        {"lines": []},
        {"lines": [{"line": 0}]},
        {"lines": [{"line": 1, "rejected": "-1"}]},
        {"lines": [{"line": 1, "rejected": "NaN"}]},
        {"lines": [{"line": 1, "rejected": "1e400"}]},
        {"lines": [{"line": 1, "rejected": "1", "reject_reason": "a\x00b"}]},
        {"lines": [{"line": 1, "unknown": 1}]},
        {"lines": [{"line": 1}, {"line": 1}]},
        {"accept_all": "yes please"},
        {"accept_all": True, "notes": ["x" * 501]},
        {"accept_all": True, "actual_delivery_date": "yesterday"},
    ],
)
def test_hostile_receipt_bodies_are_422(tenant: TenantHandle, body: Any) -> None:
    # Any id: the body is judged before the despatch is looked for.
    some = "01939c6e-0000-7000-8000-000000000000"
    with tenant.client() as c:
        r = c.post(f"/api/v1/incoming-despatches/{some}/receipt", json=body)
    assert r.status_code == 422, r.text[:300]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/despatches/{id}",
        "/api/v1/despatches/{id}/xml",
        "/api/v1/despatches/{id}/receipt",
        "/api/v1/incoming-despatches/{id}",
        "/api/v1/incoming-despatches/{id}/xml",
        "/api/v1/incoming-despatches/{id}/receipt",
    ],
)
@pytest.mark.parametrize("ident", ["not-a-uuid", str(uuid.uuid4()), "..%2F..%2Fetc"])
def test_unknown_ids_are_404(tenant: TenantHandle, path: str, ident: str) -> None:
    with tenant.client() as c:
        assert c.get(path.format(id=ident)).status_code == 404


def test_a_despatch_is_no_invoice_and_another_tenant_sees_none(make_tenant: Any) -> None:
    owner, stranger = make_tenant(), make_tenant()
    with owner.client() as c:
        issued = c.post("/api/v1/despatches", json=_draft(owner)).json()
        assert c.get(f"/api/v1/despatches/{issued['id']}").status_code == 200
        assert c.get(f"/api/v1/invoices/{issued['id']}").status_code == 404
        assert c.get(f"/api/v1/incoming-despatches/{issued['id']}").status_code == 404
        listed = c.get("/api/v1/despatches", params={"status": "validated"}).json()["items"]
        assert [i["id"] for i in listed] == [issued["id"]]
        assert listed[0]["links"]["xml"] == f"/api/v1/despatches/{issued['id']}/xml"
        assert c.get("/api/v1/invoices").json()["items"] == []
    with stranger.client() as c:
        assert c.get(f"/api/v1/despatches/{issued['id']}").status_code == 404
        assert (
            c.post(
                f"/api/v1/incoming-despatches/{issued['id']}/receipt", json={"accept_all": True}
            ).status_code
            == 404
        )
