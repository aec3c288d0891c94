"""The portal's e-İrsaliye pages over HTTP: lists, the despatch view and its downloads, the
answer form (irsaliye yanıtı) with its errors, roles and CSRF, and the dashboard's list."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest

from entegrator.clock import utc_now
from entegrator.runtime import Runtime
from tests.clock import today
from tests.testing.platform import TenantHandle
from tests.web.despatch_portal import DESPATCH_EXAMPLE, receive_despatch
from tests.web.portal import csrf_of, login, make_user, receive_ticari, serve_portal


@pytest.fixture(scope="module")
def portal(runtime: Runtime) -> Iterator[str]:
    with serve_portal(runtime) as url:
        yield url


@pytest.fixture
def log_in(portal: str) -> Iterator[Callable[[str], httpx.Client]]:
    clients: list[httpx.Client] = []

    def make(email: str) -> httpx.Client:
        clients.append(login(portal, email))
        return clients[-1]

    yield make
    for client in clients:
        client.close()


def _status(tenant: TenantHandle, document_id: str) -> str:
    with tenant.client() as api:
        return str(api.get(f"/api/v1/incoming-despatches/{document_id}").json()["status"])


def test_lists_filter_and_page(
    runtime: Runtime, portal: str, tenant: TenantHandle, log_in: Callable[[str], httpx.Client]
) -> None:
    first, second = receive_despatch(runtime, tenant), receive_despatch(runtime, tenant)
    invoice = receive_ticari(runtime, tenant)
    client = log_in(make_user(runtime, tenant, role="viewer"))
    page = client.get("/irsaliyeler/gelen")
    assert page.status_code == 200
    assert f"/irsaliyeler/{first}" in page.text and f"/irsaliyeler/{second}" in page.text
    assert invoice not in page.text  # an invoice is no despatch
    assert "Yanıt bekliyor" in page.text
    assert 'href="/irsaliyeler/gelen" aria-current="page"' in page.text
    # and a despatch is no invoice
    assert first not in client.get("/faturalar/gelen").text
    assert '<option value="received">Yanıt bekliyor</option>' in page.text
    with tenant.client() as api:
        draft = json.loads(DESPATCH_EXAMPLE.read_text(encoding="utf-8"))
        draft["supplier"]["vkn"] = tenant.vkn
        issued = api.post("/api/v1/despatches", json=draft)
        assert issued.status_code == 201, issued.text
    out = client.get("/irsaliyeler/giden")
    assert f"/irsaliyeler/{issued.json()['id']}" in out.text
    assert "İmza bekliyor" in out.text and issued.json()["number"] in out.text
    assert first not in out.text
    # one a page, newest first; the next page through the cursor (htmx: the rows only)
    one = client.get("/irsaliyeler/gelen", params={"limit": "1"})
    assert f"/irsaliyeler/{second}" in one.text and f"/irsaliyeler/{first}" not in one.text
    more = one.text.split('hx-get="?', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    rest = client.get(f"/irsaliyeler/gelen?{more}", headers={"HX-Request": "true"})
    assert f"/irsaliyeler/{first}" in rest.text and "<html" not in rest.text
    none = client.get("/irsaliyeler/gelen", params={"status": "rejected"})
    assert first not in none.text and "Bu ölçütlere uyan irsaliye yok." in none.text
    for bad in ({"status": "ufo"}, {"sort": "payable_desc"}, {"issued_from": "dün"}):
        refused = client.get("/irsaliyeler/gelen", params=bad)
        assert refused.status_code == 422 and 'role="alert"' in refused.text
    client.cookies.set("entegrator_dil", "en")
    english = client.get("/irsaliyeler/gelen")
    assert "Incoming despatch advices" in english.text and "Waiting for your answer" in english.text


def test_the_view_and_its_downloads(
    runtime: Runtime,
    portal: str,
    make_tenant: Callable[..., TenantHandle],
    log_in: Callable[[str], httpx.Client],
) -> None:
    tenant, stranger = make_tenant(), make_tenant()
    document_id = receive_despatch(runtime, tenant)
    invoice = receive_ticari(runtime, tenant)
    client = log_in(make_user(runtime, tenant, role="viewer"))
    page = client.get(f"/irsaliyeler/{document_id}")
    assert page.status_code == 200
    for text in ("Çimento (50 kg torba)", "Tuğla", "34ABC123", "Olaylar", "Alındı", "gün kaldı"):
        assert text in page.text, text
    assert f'action="/irsaliyeler/{document_id}/yanit"' not in page.text  # a viewer
    xml = client.get(f"/irsaliyeler/{document_id}/xml")
    assert xml.status_code == 200 and xml.headers["content-type"].startswith("application/xml")
    assert b"DespatchAdvice" in xml.content
    view = client.get(f"/irsaliyeler/{document_id}/gorunum")
    assert view.status_code == 200 and "Tuğla" in view.text
    assert "default-src" in view.headers["content-security-policy"]
    pdf = client.get(f"/irsaliyeler/{document_id}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert client.get(f"/irsaliyeler/{document_id}/yanit.xml").status_code == 404  # no answer
    assert client.get(f"/irsaliyeler/{invoice}").status_code == 404  # an invoice
    for path in ("", "/xml", "/pdf", "/gorunum"):  # and a despatch is no invoice
        assert client.get(f"/faturalar/{document_id}{path}").status_code == 404
    other = log_in(make_user(runtime, stranger))
    for path in ("", "/xml", "/pdf", "/gorunum"):
        assert other.get(f"/irsaliyeler/{document_id}{path}").status_code == 404


def test_answer_form_errors_then_a_partial_answer(
    runtime: Runtime, portal: str, tenant: TenantHandle, log_in: Callable[[str], httpx.Client]
) -> None:
    document_id = receive_despatch(runtime, tenant)
    client = log_in(make_user(runtime, tenant))
    page = client.get(f"/irsaliyeler/{document_id}")
    assert "Tümünü kabul et" in page.text and 'id="rejected_3"' in page.text
    token = csrf_of(page.text)
    wrong = client.post(
        f"/irsaliyeler/{document_id}/yanit",
        data={
            "csrf_token": token,
            "mode": "lines",
            "rejected_1": "5",  # no reason
            "short_2": "2500,5",  # more than the 2500 despatched
            "oversupply_3": "-1",
            "reason_3": "\x07",
        },
    )
    assert wrong.status_code == 422
    assert "işaretli alanları düzeltin" in wrong.text
    assert 'id="reason_1-err"' in wrong.text and "gerekçe yazın" in wrong.text
    assert 'id="short_2-err"' in wrong.text and "2500 KGM" in wrong.text
    assert 'id="oversupply_3-err"' in wrong.text
    assert 'value="2500,5"' in wrong.text  # what was typed stays
    assert _status(tenant, document_id) == "received"
    done = client.post(
        f"/irsaliyeler/{document_id}/yanit",
        data={
            "csrf_token": token,
            "mode": "lines",
            "rejected_1": "5",
            "reason_1": "Yırtık torba",
            "short_2": "100,5",
            "oversupply_3": "10",
        },
    )
    assert done.status_code == 303, done.text[:2000]
    shown = client.get(done.headers["location"])
    assert "İrsaliye yanıtı oluşturuldu" in shown.text
    assert "Kısmen kabul edildi" in shown.text and "Yırtık torba" in shown.text
    assert 'action="/irsaliyeler/' not in shown.text.split("<main", 1)[1].split("cikis")[0]
    assert _status(tenant, document_id) == "accepted"
    with tenant.client() as api:
        answered = api.get(f"/api/v1/incoming-despatches/{document_id}").json()
        lines = {x["line"]: x for e in answered["events"] for x in e["data"].get("lines", [])}
    assert lines["1"]["rejected"] == "5" and lines["1"]["received"] == "95"
    assert lines["2"]["short"] == "100.5" and lines["3"]["oversupply"] == "10"
    receipt = client.get(f"/irsaliyeler/{document_id}/yanit.xml")
    assert receipt.status_code == 200 and b"ReceiptAdvice" in receipt.content
    again = client.post(
        f"/irsaliyeler/{document_id}/yanit", data={"csrf_token": token, "mode": "all"}
    )
    assert again.status_code == 409 and "zaten yanıtlandı" in again.text


def test_accept_all_roles_and_csrf(
    runtime: Runtime, portal: str, tenant: TenantHandle, log_in: Callable[[str], httpx.Client]
) -> None:
    document_id = receive_despatch(runtime, tenant)
    viewer = log_in(make_user(runtime, tenant, role="viewer"))
    token = csrf_of(viewer.get(f"/irsaliyeler/{document_id}").text)
    refused = viewer.post(
        f"/irsaliyeler/{document_id}/yanit", data={"csrf_token": token, "mode": "all"}
    )
    assert refused.status_code == 403
    writer = log_in(make_user(runtime, tenant))
    no_token = writer.post(f"/irsaliyeler/{document_id}/yanit", data={"mode": "all"})
    assert no_token.status_code == 403 and "CSRF" in no_token.text
    assert _status(tenant, document_id) == "received"
    token = csrf_of(writer.get(f"/irsaliyeler/{document_id}").text)
    done = writer.post(
        f"/irsaliyeler/{document_id}/yanit", data={"csrf_token": token, "mode": "all"}
    )
    assert done.status_code == 303
    assert _status(tenant, document_id) == "accepted"
    page = writer.get(f"/irsaliyeler/{document_id}")
    assert "Kabul edildi" in page.text and "Tümünü kabul et" not in page.text


def test_dashboard_lists_despatches_to_answer(
    runtime: Runtime, portal: str, tenant: TenantHandle, log_in: Callable[[str], httpx.Client]
) -> None:
    document_id = receive_despatch(runtime, tenant)
    client = log_in(make_user(runtime, tenant, role="viewer"))
    page = client.get("/panel")
    assert "Yanıt bekleyen gelen irsaliyeler" in page.text
    assert f'href="/irsaliyeler/{document_id}"' in page.text
    assert "Yanıt için 6 gün kaldı" in page.text or "Yanıt için 7 gün kaldı" in page.text


def test_the_credit_banner_is_on_every_page(
    runtime: Runtime,
    portal: str,
    make_tenant: Callable[..., TenantHandle],
    log_in: Callable[[str], httpx.Client],
) -> None:
    tenant, other = make_tenant(), make_tenant()
    client = log_in(make_user(runtime, tenant, role="viewer"))
    assert 'id="kontor-uyarisi"' not in client.get("/panel").text  # no prepaid plan
    name = f"kontor-{uuid.uuid4().hex[:8]}"
    runtime.billing.create_plan(name=name, prepaid=True)
    runtime.billing.assign(tenant.vkn, name, effective_from=today(), actor="test")
    # A prepaid plan without credits: exhausted.
    for path in (
        "/panel",
        "/faturalar/gelen",
        "/irsaliyeler/gelen",
        "/hesap",
        f"/irsaliyeler/{uuid.uuid4()}",
    ):
        page = client.get(path)
        banner = page.text.split('id="kontor-uyarisi"', 1)
        assert len(banner) == 2, path
        shown = banner[0].rsplit("<div", 1)[1] + banner[1].split("</div>", 1)[0]
        assert 'role="alert"' in shown and 'class="banner bad"' in shown
        assert "Kontör bakiyeniz 0" in shown and "Your credit balance is 0" in shown
        assert '<p lang="en">' in shown
    # another tenant's pages say nothing; nor the login page
    stranger = log_in(make_user(runtime, other))
    assert 'id="kontor-uyarisi"' not in stranger.get("/panel").text
    assert 'id="kontor-uyarisi"' not in httpx.get(f"{portal}/giris").text
    runtime.billing.add_credits(tenant.vkn, 100, actor="test")
    assert 'id="kontor-uyarisi"' not in client.get("/panel").text


def test_after_seven_days_no_form_and_the_answer_is_refused(
    runtime: Runtime, tenant: TenantHandle
) -> None:
    document_id = receive_despatch(runtime, tenant)
    email = make_user(runtime, tenant)
    late = Runtime(
        runtime.settings,
        runtime.database_url,
        clock=lambda: utc_now() + dt.timedelta(days=7, minutes=1),
    )
    try:
        with serve_portal(late) as base, contextlib.closing(login(base, email)) as client:
            page = client.get(f"/irsaliyeler/{document_id}")
            assert page.status_code == 200
            assert "Yanıt bekliyor" in page.text and "gün kaldı" not in page.text
            assert "Tümünü kabul et" not in page.text
            assert "Yanıt bekleyen gelen irsaliyeler" not in client.get("/panel").text
            refused = client.post(
                f"/irsaliyeler/{document_id}/yanit",
                data={"csrf_token": csrf_of(page.text), "mode": "all"},
            )
            assert refused.status_code == 409
            assert "7 günlük yanıt süresi" in refused.text and 'role="alert"' in refused.text
    finally:
        late.close()
    assert _status(tenant, document_id) == "received"


def test_a_despatch_too_long_for_the_form_points_to_the_api(
    runtime: Runtime, portal: str, tenant: TenantHandle, log_in: Callable[[str], httpx.Client]
) -> None:
    data = json.loads(DESPATCH_EXAMPLE.read_text(encoding="utf-8"))
    lines = [dict(data["lines"][0], name=f"Kalem {n}") for n in range(241)]
    document_id = receive_despatch(runtime, tenant, lines=lines)
    client = log_in(make_user(runtime, tenant))
    page = client.get(f"/irsaliyeler/{document_id}")
    assert "yanıtı API ile verin" in page.text and 'id="rejected_1"' not in page.text
    assert "Kalem 240" in page.text  # the lines are shown all the same
    token = csrf_of(page.text)
    refused = client.post(
        f"/irsaliyeler/{document_id}/yanit",
        data={"csrf_token": token, "mode": "lines", "short_1": "1"},
    )
    assert refused.status_code == 422 and "yanıtı API ile verin" in refused.text
    assert _status(tenant, document_id) == "received"
    # accepting everything takes no field a line
    assert "Tümünü kabul et" in page.text
    done = client.post(
        f"/irsaliyeler/{document_id}/yanit", data={"csrf_token": token, "mode": "all"}
    )
    assert done.status_code == 303
    assert _status(tenant, document_id) == "accepted"


def test_every_field_has_a_label_and_ids_are_unique(
    runtime: Runtime, portal: str, tenant: TenantHandle, log_in: Callable[[str], httpx.Client]
) -> None:
    from lxml import html

    document_id = receive_despatch(runtime, tenant)
    client = log_in(make_user(runtime, tenant))
    token = csrf_of(client.get(f"/irsaliyeler/{document_id}").text)
    with_errors = client.post(
        f"/irsaliyeler/{document_id}/yanit",
        data={"csrf_token": token, "mode": "lines", "rejected_2": "x"},
    )
    assert with_errors.status_code == 422
    pages = {
        "/irsaliyeler/giden": client.get("/irsaliyeler/giden").text,
        "/irsaliyeler/gelen": client.get("/irsaliyeler/gelen").text,
        "form": client.get(f"/irsaliyeler/{document_id}").text,
        "errors": with_errors.text,
    }
    for name, text in pages.items():
        tree = html.fromstring(text)
        labelled = {label.get("for") for label in tree.iter("label")}
        fields = [
            f
            for tag in ("input", "select", "textarea")
            for f in tree.iter(tag)
            if f.get("type") != "hidden"
        ]
        assert fields, name
        for field in fields:
            assert field.get("id") in labelled, f"{name}: {html.tostring(field)[:120]!r}"
        ids = [e.get("id") for e in tree.iter() if e.get("id")]
        assert len(ids) == len(set(ids)), name
        for field in tree.iter("input"):
            described = field.get("aria-describedby")
            if described:
                assert described in ids, name
