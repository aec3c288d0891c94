"""The e-Arşiv routes over real HTTP: the reports, their XML, and cancelling an invoice."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator

import pytest
from lxml import etree

from entegrator.documents.earsiv_report import EARSIV_NS
from entegrator.runtime import Runtime
from entegrator.store import webhooks
from tests.testing.earsiv import Earsiv, issue_earsiv, istanbul, make_earsiv
from tests.testing.platform import TenantHandle

E = "{" + EARSIV_NS + "}"


@pytest.fixture(scope="module")
def gib(database_url: str, make_tenant: Callable[..., TenantHandle]) -> Iterator[Earsiv]:
    yield from make_earsiv(database_url, make_tenant())


def test_reports_are_listed_read_and_downloaded(
    runtime: Runtime, gib: Earsiv, make_tenant: Callable[..., TenantHandle]
) -> None:
    tenant = make_tenant()
    doc = issue_earsiv(runtime, tenant, istanbul(2026, 11, 24, 12, 0))
    reports = gib.reports(runtime)
    reports.report(tenant.tenant_id, through=dt.date(2026, 11, 24))
    reports.poll(tenant.tenant_id)
    with tenant.client() as api:
        listed = api.get("/api/v1/earsiv/reports")
        assert listed.status_code == 200, listed.text
        body = listed.json()
        (report,) = body["reports"]
        assert body["counts"] == {"succeeded": 1}
        assert (report["period"], report["part"], report["invoices"]) == ("2026-11", 1, 1)
        assert (report["status"], report["gib_code"], report["gib_text"]) == (
            "succeeded",
            30,
            "Başarılı",
        )
        assert (
            api.get("/api/v1/earsiv/reports", params={"period": "2026-10"}).json()["reports"] == []
        )
        assert (
            api.get("/api/v1/earsiv/reports", params={"status": "failed"}).json()["reports"] == []
        )
        one = api.get(f"/api/v1/earsiv/reports/{report['id']}").json()
        assert [(e["kind"], e["document_id"]) for e in one["entries"]] == [("fatura", str(doc))]
        xml = api.get(f"/api/v1/earsiv/reports/{report['id']}/xml")
        assert xml.status_code == 200 and xml.headers["content-type"] == "application/xml"
        root = etree.fromstring(xml.content)
        assert root.findtext(f"{E}baslik/{E}raporNo") == report["id"]
        invoice = api.get(f"/api/v1/invoices/{doc}").json()
        assert invoice["status"] == "reported"
        assert "earsiv-reported" in [e["type"] for e in invoice["events"]]

        for bad in ({"period": "2026-13"}, {"period": "11-2026"}, {"status": "lost"}):
            refused = api.get("/api/v1/earsiv/reports", params=bad)
            assert refused.status_code == 422, bad
        assert api.get(f"/api/v1/earsiv/reports/{uuid.uuid4()}").status_code == 404
        assert api.get("/api/v1/earsiv/reports/not-an-id/xml").status_code == 404
    other = make_tenant()
    with other.client() as api:  # another tenant's report is not found
        assert api.get(f"/api/v1/earsiv/reports/{report['id']}").status_code == 404


def test_cancel_an_earsiv_invoice_once_and_never_an_efatura(
    runtime: Runtime, tenant: TenantHandle, run_jobs: Callable[[], None]
) -> None:
    hook = uuid.uuid4()
    with runtime.db.tenant(tenant.tenant_id) as conn:  # an ERP endpoint (not called here)
        webhooks.insert_endpoint(
            conn,
            tenant.tenant_id,
            hook,
            url="https://hooks.example/e",
            events=["document.status"],
            secret_nonce=b"n" * 12,
            secret_ciphertext=b"c" * 48,
        )
    with tenant.client() as api:
        earsiv = tenant.issue(api, profile="EARSIVFATURA")
        efatura = tenant.issue(api)
        early = api.post(f"/api/v1/invoices/{earsiv['id']}/cancel", json={"reason": "Hata"})
        assert early.status_code == 409 and early.json()["error"]["code"] == "NOT_CANCELLABLE"
        run_jobs()  # signed

        done = api.post(f"/api/v1/invoices/{earsiv['id']}/cancel", json={"reason": "Yanlış"})
        assert done.status_code == 200, done.text
        assert done.json()["status"] == "cancelled" and done.json()["number"] == earsiv["number"]
        invoice = api.get(f"/api/v1/invoices/{earsiv['id']}").json()
        assert invoice["status"] == "cancelled"
        (event,) = [e for e in invoice["events"] if e["type"] == "cancelled"]
        assert event["data"]["reason"] == "Yanlış"
        deliveries = api.get(f"/api/v1/webhooks/{hook}/deliveries").json()["items"]
        assert [d["event"] for d in deliveries if d["document_id"] == earsiv["id"]] == [
            "document.status"
        ]

        twice = api.post(f"/api/v1/invoices/{earsiv['id']}/cancel", json={"reason": "Yine"})
        assert twice.status_code == 409 and twice.json()["error"]["code"] == "ALREADY_CANCELLED"
        refused = api.post(f"/api/v1/invoices/{efatura['id']}/cancel", json={"reason": "Hata"})
        assert refused.status_code == 409
        error = refused.json()["error"]
        assert error["code"] == "CANCEL_NOT_EARSIV"
        assert "RED" in error["message_tr"] and "IADE" in error["message_en"]

        missing = api.post(f"/api/v1/invoices/{earsiv['id']}/cancel", json={})
        assert missing.status_code == 422
        unknown = api.post(f"/api/v1/invoices/{uuid.uuid4()}/cancel", json={"reason": "x"})
        assert unknown.status_code == 404
        # The number is not given again: the next invoice of the series takes the next one.
        after = tenant.issue(api, profile="EARSIVFATURA")
        assert after["number"] > earsiv["number"]


def test_a_viewer_may_read_reports_but_not_cancel(runtime: Runtime, tenant: TenantHandle) -> None:
    viewer = tenant.key(runtime, "viewer")
    with tenant.client() as api:
        api.headers["Authorization"] = f"Bearer {viewer}"
        assert api.get("/api/v1/earsiv/reports").status_code == 200
        answer = api.post(f"/api/v1/invoices/{uuid.uuid4()}/cancel", json={"reason": "x"})
        assert answer.status_code == 403


def test_readyz_warns_of_overdue_earsiv_invoices_and_the_gauge_counts_them(
    runtime: Runtime, base_url: str, make_tenant: Callable[..., TenantHandle]
) -> None:
    import httpx

    from tests.clock import now

    tenant = make_tenant()
    issue_earsiv(runtime, tenant, now() - dt.timedelta(days=3))
    with httpx.Client(base_url=base_url) as c:
        ready = c.get("/readyz")
        assert ready.status_code == 200 and ready.json()["status"] == "ready"
        (warning,) = [w for w in ready.json()["warnings"] if w["code"] == "EARSIV_OVERDUE"]
        late = int(warning["message_en"].split()[0])
        assert late >= 1
        metrics = c.get("/metrics").text
    assert f"entegrator_earsiv_overdue_invoices {late}.0" in metrics


def test_a_cancelled_invoice_is_stamped_in_the_apis_html_and_pdf(
    tenant: TenantHandle, run_jobs: Callable[[], None]
) -> None:
    """Found walking through the tour: the public page showed İPTAL EDİLMİŞTİR, the API's own
    views of the same cancelled invoice did not."""
    import pypdfium2

    stamp = "İPTAL EDİLMİŞTİR"
    with tenant.client() as api:
        earsiv = tenant.issue(api, profile="EARSIVFATURA")
        run_jobs()  # signed
        before = api.get(f"/api/v1/invoices/{earsiv['id']}/html")
        assert before.status_code == 200 and stamp not in before.text
        done = api.post(f"/api/v1/invoices/{earsiv['id']}/cancel", json={"reason": "İade"})
        assert done.status_code == 200, done.text
        html = api.get(f"/api/v1/invoices/{earsiv['id']}/html")
        assert html.status_code == 200 and stamp in html.text
        pdf = api.get(f"/api/v1/invoices/{earsiv['id']}/pdf")
        assert pdf.status_code == 200
    text = pypdfium2.PdfDocument(pdf.content)[0].get_textpage().get_text_range()
    assert stamp in text


def test_hostile_cancel_bodies_are_422_and_cancel_nothing(
    tenant: TenantHandle, run_jobs: Callable[[], None]
) -> None:
    with tenant.client() as api:
        earsiv = tenant.issue(api, profile="EARSIVFATURA")
        run_jobs()  # signed
        url = f"/api/v1/invoices/{earsiv['id']}/cancel"
        for body in (
            {"reason": "iptal\x01"},  # a control character, not XML
            {"reason": "x" * 501},  # over the limit
            {"reason": ""},
            {"reason": ["a"]},
        ):
            refused = api.post(url, json=body)
            assert refused.status_code == 422, body
            assert refused.json()["error"]["code"], body
        not_json = api.post(url, content=b"{reason", headers={"Content-Type": "application/json"})
        assert not_json.status_code == 422
        assert api.get(f"/api/v1/invoices/{earsiv['id']}").json()["status"] != "cancelled"
