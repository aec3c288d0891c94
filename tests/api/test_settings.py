"""``/api/v1/settings/series``: the default series per kind, read and changed over HTTP."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from entegrator.documents import InvoiceDraft, build_invoice
from entegrator.runtime import Runtime
from tests.services.test_series import INTERNET_SALE
from tests.testing.platform import TenantHandle

PATH = "/api/v1/settings/series"


def _internet(tenant: TenantHandle) -> dict[str, Any]:
    data = tenant.draft(profile="EARSIVFATURA", internet_sale=INTERNET_SALE)
    data["supplier"]["website"] = "https://magaza.example.com.tr"
    return data


def test_read_change_and_use_the_defaults(tenant: TenantHandle) -> None:
    with tenant.client() as c:
        assert c.get(PATH).json() == {"efatura": "EFA", "earsiv": "EAR", "internet": "INT"}
        changed = c.put(PATH, json={"internet": "WEB", "efatura": "FAT"})
        assert changed.status_code == 200, changed.text
        assert changed.json() == {"efatura": "FAT", "earsiv": "EAR", "internet": "WEB"}
        assert c.get(PATH).json() == changed.json()
        internet = c.post("/api/v1/invoices", json=_internet(tenant))
        assert internet.status_code == 201, internet.text
        assert internet.json()["number"].startswith("WEB")
        plain = c.post("/api/v1/invoices", json=tenant.draft(profile="EARSIVFATURA"))
        assert plain.json()["number"].startswith("EAR")
        efatura = c.post("/api/v1/invoices", json=tenant.draft())
        assert efatura.json()["number"].startswith("FAT")
        named = c.post("/api/v1/invoices?series=XYZ", json=_internet(tenant))
        assert named.json()["number"].startswith("XYZ")


def test_xml_without_a_number_takes_the_default_of_its_kind(tenant: TenantHandle) -> None:
    draft = InvoiceDraft.model_validate(
        _internet(tenant) | {"number": "AAA2026000000001", "issue_time": "10:00:00"}
    )
    xml = build_invoice(draft.model_copy(update={"ettn": "1B7A1C2E-4A1B-4C3D-8E9F-0A1B2C3D4E5F"}))
    xml = xml.replace(b">AAA2026000000001<", b"><", 1)
    with tenant.client() as c:
        answer = c.post(
            "/api/v1/invoices", content=xml, headers={"Content-Type": "application/xml"}
        )
    assert answer.status_code == 201, answer.text
    assert answer.json()["number"].startswith("INT")


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"earsiv": "ÇAR"}, "earsiv"),
        ({"internet": "TOOLONG"}, "internet"),
        ({"efatura": "ab1"}, "efatura"),
        ({"unknown": "ABC"}, "unknown"),
    ],
)
def test_a_bad_body_is_refused_and_changes_nothing(
    tenant: TenantHandle, body: dict[str, str], where: str
) -> None:
    with tenant.client() as c:
        answer = c.put(PATH, json=body)
        assert answer.status_code == 422, answer.text
        assert where in answer.text
        assert c.get(PATH).json() == {"efatura": "EFA", "earsiv": "EAR", "internet": "INT"}


@pytest.mark.parametrize("role", ["accountant", "viewer"])
def test_only_owner_and_api_keys_see_or_change_settings(
    tenant: TenantHandle, runtime: Runtime, role: str
) -> None:
    token = tenant.key(runtime, role)
    with httpx.Client(
        base_url=tenant.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60
    ) as c:
        assert c.get(PATH).status_code == 403
        assert c.put(PATH, json={"earsiv": "NEW"}).status_code == 403
    with tenant.client() as c:
        assert c.get(PATH).json()["earsiv"] == "EAR"
