"""Default series per kind (e-Fatura, e-Arşiv, internet sale), against PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from lxml import etree
from sqlalchemy import text

from entegrator.documents.model import InvoiceDraft
from entegrator.documents.ns import CBC
from entegrator.runtime import Runtime
from entegrator.services.errors import RequestError
from entegrator.services.series import SeriesDefaults, series_kind
from entegrator.store import keys
from entegrator.store.keys import ApiKey
from tests.testing.platform import TenantHandle

INTERNET_SALE = {
    "payment_type": "KREDIKARTI/BANKAKARTI",
    "payment_date": "2026-11-24",
    "shipment_date": "2026-11-25",
    "carrier": {
        "vkn": "9876543217",
        "name": "Örnek Kargo A.Ş.",
        "address": {"district": "Şişli", "city": "İstanbul"},
    },
}


def _key(runtime: Runtime, tenant: TenantHandle) -> ApiKey:
    with runtime.db.system() as conn:
        key = keys.authenticate(conn, tenant.token)
    assert key is not None
    return key


def earsiv(tenant: TenantHandle, *, internet: bool = False, **kw: Any) -> InvoiceDraft:
    data = tenant.draft(profile="EARSIVFATURA", **kw)
    if internet:
        data["supplier"]["website"] = "https://magaza.example.com.tr"
        data["internet_sale"] = INTERNET_SALE
    return InvoiceDraft.model_validate(data)


def _issue(runtime: Runtime, key: ApiKey, draft: InvoiceDraft, series: str | None = None) -> str:
    return runtime.invoices.issue(key, draft=draft, series=series).number


def test_series_kind_by_profile_and_internet_marker() -> None:
    assert series_kind("TEMELFATURA", internet=False) == "efatura"
    assert series_kind("TICARIFATURA", internet=True) == "efatura"
    assert series_kind("EARSIVFATURA", internet=False) == "earsiv"
    assert series_kind("EARSIVFATURA", internet=True) == "internet"


def test_a_new_tenant_has_a_default_per_kind(runtime: Runtime, tenant: TenantHandle) -> None:
    assert runtime.invoices.series_defaults(tenant.tenant_id) == SeriesDefaults("EFA", "EAR", "INT")


def test_each_kind_takes_its_own_default_series(runtime: Runtime, tenant: TenantHandle) -> None:
    key = _key(runtime, tenant)
    efatura = _issue(runtime, key, InvoiceDraft.model_validate(tenant.draft()))
    plain = _issue(runtime, key, earsiv(tenant))
    internet = _issue(runtime, key, earsiv(tenant, internet=True))
    assert (efatura[:3], plain[:3], internet[:3]) == ("EFA", "EAR", "INT")
    assert internet.endswith("000000001")
    # A series named in the request wins over the default of its kind.
    assert _issue(runtime, key, earsiv(tenant, internet=True), "WEB")[:3] == "WEB"


def test_changed_defaults_are_used_at_once_and_audited(
    runtime: Runtime, tenant: TenantHandle
) -> None:
    key = _key(runtime, tenant)
    _issue(runtime, key, earsiv(tenant))  # the tenant is now in the service's cache
    changed = runtime.invoices.set_series_defaults(
        tenant.tenant_id, actor="test", earsiv="ARS", internet="NET"
    )
    assert changed == SeriesDefaults("EFA", "ARS", "NET")
    assert _issue(runtime, key, earsiv(tenant))[:3] == "ARS"
    assert _issue(runtime, key, earsiv(tenant, internet=True))[:3] == "NET"
    assert _issue(runtime, key, InvoiceDraft.model_validate(tenant.draft()))[:3] == "EFA"
    with runtime.db.system() as conn:
        audit = conn.execute(
            text(
                "SELECT actor, data FROM audit_log WHERE tenant_id = :t "
                "AND action = 'series.defaults'"
            ),
            {"t": tenant.tenant_id},
        ).all()
    assert [(a.actor, a.data) for a in audit] == [("test", {"earsiv": "ARS", "internet": "NET"})]


@pytest.mark.parametrize("bad", ["AB", "ABCD", "ab1", "ÇAR", ""])
def test_a_bad_series_changes_nothing(runtime: Runtime, tenant: TenantHandle, bad: str) -> None:
    with pytest.raises(RequestError) as info:
        runtime.invoices.set_series_defaults(
            tenant.tenant_id, actor="test", efatura="NEW", internet=bad
        )
    assert info.value.where == "internet"
    assert runtime.invoices.series_defaults(tenant.tenant_id).efatura == "EFA"


def test_an_earsiv_draft_without_issue_time_gets_the_moment_of_issue(
    runtime: Runtime, tenant: TenantHandle, run_jobs: Callable[[], None]
) -> None:
    key = _key(runtime, tenant)
    draft = earsiv(tenant)
    assert draft.issue_time is None
    result = runtime.invoices.issue(key, draft=draft)
    run_jobs()
    with tenant.client() as c:
        xml = c.get(f"/api/v1/invoices/{result.id}/xml")
    assert xml.status_code == 200, xml.text
    issue_time = etree.fromstring(xml.content).findtext(CBC + "IssueTime")
    assert issue_time is not None and len(issue_time) == 8
