"""The portal's server-side rules over plain HTTP: login, CSRF, roles, tenants, lists."""

from __future__ import annotations

import io
import re
import uuid
import zipfile
from collections.abc import Callable, Iterator

import httpx
import pytest

from entegrator.runtime import Runtime
from tests.testing.platform import TenantHandle
from tests.web.portal import (
    PASSWORD,
    csrf_of,
    issue_earsiv,
    login,
    make_user,
    receive_ticari,
    serve_portal,
)


@pytest.fixture(scope="module")
def portal(runtime: Runtime) -> Iterator[str]:
    with serve_portal(runtime) as url:
        yield url


@pytest.fixture
def log_in(portal: str) -> Iterator[Callable[[str], httpx.Client]]:
    """Logged-in clients, closed after the test."""
    clients: list[httpx.Client] = []

    def make(email: str) -> httpx.Client:
        clients.append(login(portal, email))
        return clients[-1]

    yield make
    for client in clients:
        client.close()


def test_login_page_is_turkish_and_labelled(portal: str) -> None:
    page = httpx.get(f"{portal}/giris")
    assert page.status_code == 200
    assert '<label for="email">E-posta</label>' in page.text
    assert '<label for="password">Parola</label>' in page.text
    assert ">Giriş yap</button>" in page.text
    assert '<html lang="tr">' in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    # Everything is served from here: no address of another site.
    assert "http" not in page.text.replace("http-equiv", "")


def test_pages_need_a_login(portal: str) -> None:
    with httpx.Client(base_url=portal) as anonymous:
        for path in (
            "/panel",
            "/faturalar/giden",
            "/faturalar/gelen",
            f"/faturalar/{uuid.uuid4()}",
        ):
            answer = anonymous.get(path)
            assert answer.status_code == 303, path
            assert answer.headers["location"].startswith("/giris?sonra=")
        assert anonymous.get("/").headers["location"] == "/panel"  # and from there to /giris
        # The API keeps its JSON answers under the portal.
        assert anonymous.get("/api/v1/nope").json()["error"]["code"] == "NOT_FOUND"


def test_login_logout_and_the_session_cookie(
    runtime: Runtime, portal: str, tenant: TenantHandle, log_in: Callable[[str], httpx.Client]
) -> None:
    email = make_user(runtime, tenant)
    client = log_in(email)
    cookie = next(c for c in client.cookies.jar if c.name == "entegrator_oturum")
    assert cookie.has_nonstandard_attr("HttpOnly")
    panel = client.get("/panel")
    assert panel.status_code == 200
    assert email in panel.text
    logout = client.post("/cikis", data={"csrf_token": csrf_of(panel.text)})
    assert logout.status_code == 303
    assert client.get("/panel").status_code == 303


def test_wrong_password_and_unknown_email_say_the_same(
    runtime: Runtime, portal: str, tenant: TenantHandle
) -> None:
    email = make_user(runtime, tenant)
    with httpx.Client(base_url=portal) as client:
        token = csrf_of(client.get("/giris").text)
        wrong = client.post(
            "/giris", data={"email": email, "password": "x" * 12, "csrf_token": token}
        )
        unknown = client.post(
            "/giris", data={"email": "yok@example.com", "password": "x" * 12, "csrf_token": token}
        )
    assert wrong.status_code == unknown.status_code == 401
    assert "E-posta ya da parola hatalı." in wrong.text
    assert "E-posta ya da parola hatalı." in unknown.text


def test_forms_without_their_csrf_token_are_refused(
    runtime: Runtime, portal: str, tenant: TenantHandle, log_in: Callable[[str], httpx.Client]
) -> None:
    email = make_user(runtime, tenant)
    with httpx.Client(base_url=portal) as client:
        client.get("/giris")
        refused = client.post("/giris", data={"email": email, "password": PASSWORD})
        assert refused.status_code == 403
        assert "CSRF_INVALID" in refused.text
        other = client.post(
            "/giris", data={"email": email, "password": PASSWORD, "csrf_token": "y" * 43}
        )
        assert other.status_code == 403
    document_id = receive_ticari(runtime, tenant)
    client = log_in(email)
    assert client.post(f"/faturalar/{document_id}/kabul").status_code == 403
    assert (
        client.post(f"/faturalar/{document_id}/kabul", data={"csrf_token": "z" * 43}).status_code
        == 403
    )
    with httpx.Client(base_url=tenant.base_url, headers=tenant.headers) as api:
        assert api.get(f"/api/v1/incoming/{document_id}").json()["status"] == "received"


def test_accept_and_reject_incoming(
    runtime: Runtime, portal: str, tenant: TenantHandle, log_in: Callable[[str], httpx.Client]
) -> None:
    client = log_in(make_user(runtime, tenant))
    first, second = receive_ticari(runtime, tenant), receive_ticari(runtime, tenant)
    page = client.get(f"/faturalar/{first}")
    assert "Yanıt bekliyor" in page.text
    token = csrf_of(page.text)
    done = client.post(f"/faturalar/{first}/kabul", data={"csrf_token": token})
    assert done.status_code == 303
    assert "Kabul edildi" in client.get(done.headers["location"]).text
    no_reason = client.post(f"/faturalar/{second}/red", data={"csrf_token": token, "reason": " "})
    assert no_reason.status_code == 422
    rejected = client.post(
        f"/faturalar/{second}/red", data={"csrf_token": token, "reason": "Fiyat hatalı"}
    )
    assert rejected.status_code == 303
    again = client.post(f"/faturalar/{second}/kabul", data={"csrf_token": token})
    assert again.status_code == 409  # answered already: the service says so
    assert "zaten yanıtlandı" in again.text
    with httpx.Client(base_url=tenant.base_url, headers=tenant.headers) as api:
        assert api.get(f"/api/v1/incoming/{first}").json()["status"] == "accepted"
        assert api.get(f"/api/v1/incoming/{second}").json()["status"] == "rejected"


def test_a_viewer_sees_no_actions_and_the_server_refuses_them(
    runtime: Runtime, portal: str, tenant: TenantHandle, log_in: Callable[[str], httpx.Client]
) -> None:
    document_id = receive_ticari(runtime, tenant)
    client = log_in(make_user(runtime, tenant, role="viewer"))
    page = client.get(f"/faturalar/{document_id}")
    assert page.status_code == 200
    assert "/kabul" not in page.text and "/red" not in page.text
    refused = client.post(
        f"/faturalar/{document_id}/kabul", data={"csrf_token": csrf_of(page.text)}
    )
    assert refused.status_code == 403
    with httpx.Client(base_url=tenant.base_url, headers=tenant.headers) as api:
        assert api.get(f"/api/v1/incoming/{document_id}").json()["status"] == "received"


def test_another_tenants_invoice_is_not_found(
    runtime: Runtime,
    portal: str,
    make_tenant: Callable[..., TenantHandle],
    log_in: Callable[[str], httpx.Client],
) -> None:
    owner, other = make_tenant(), make_tenant()
    document_id = issue_earsiv(runtime, owner)
    client = log_in(make_user(runtime, other))
    for path in ("", "/xml", "/pdf"):
        assert client.get(f"/faturalar/{document_id}{path}").status_code == 404
    page = client.get("/panel")
    cancel = client.post(
        f"/faturalar/{document_id}/iptal", data={"csrf_token": csrf_of(page.text), "reason": "x"}
    )
    assert cancel.status_code == 404
    zipped = client.post(
        "/faturalar/indir",
        data={"csrf_token": csrf_of(page.text), "format": "xml", "ids": [document_id]},
    )
    assert zipped.status_code == 404
    for bad in ("nope", "../../etc/passwd", str(uuid.uuid4())):
        assert client.get(f"/faturalar/{bad}").status_code == 404


def test_cancel_and_resend_an_earsiv_invoice(
    runtime: Runtime, portal: str, tenant: TenantHandle, log_in: Callable[[str], httpx.Client]
) -> None:
    document_id = issue_earsiv(runtime, tenant)
    client = log_in(make_user(runtime, tenant, role="admin"))
    page = client.get(f"/faturalar/{document_id}")
    assert "Raporlanmayı bekliyor" in page.text
    token = csrf_of(page.text)
    sent = client.post(
        f"/faturalar/{document_id}/eposta", data={"csrf_token": token, "email": "x@example.org"}
    )
    assert sent.status_code == 303
    bad = client.post(
        f"/faturalar/{document_id}/eposta", data={"csrf_token": token, "email": "a\r\nBcc: b@c.d"}
    )
    assert bad.status_code == 422
    done = client.post(
        f"/faturalar/{document_id}/iptal", data={"csrf_token": token, "reason": "Hatalı tutar"}
    )
    assert done.status_code == 303
    after = client.get(done.headers["location"]).text
    assert "İptal edildi" in after
    assert "/iptal" not in after  # nothing left to cancel
    with httpx.Client(base_url=tenant.base_url, headers=tenant.headers) as api:
        deliveries = api.get(f"/api/v1/invoices/{document_id}/deliveries").json()["items"]
    assert ("x@example.org", "portal") in [(d["address"], d["requested_by"]) for d in deliveries]


def test_lists_filter_sort_page_and_zip(
    runtime: Runtime, portal: str, tenant: TenantHandle, log_in: Callable[[str], httpx.Client]
) -> None:
    ids = [issue_earsiv(runtime, tenant) for _ in range(3)]
    client = log_in(make_user(runtime, tenant, role="viewer"))
    page = client.get("/faturalar/giden", params={"limit": 2})
    assert page.status_code == 200
    assert page.text.count('name="ids"') == 2
    assert "Daha fazla" in page.text
    more = page.text.split('hx-get="?', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    rest = client.get(f"/faturalar/giden?{more}", headers={"HX-Request": "true"})
    assert rest.status_code == 200
    assert rest.text.count('name="ids"') == 1
    assert "<html" not in rest.text  # only the rows
    for params in ({"status": "queued"}, {"sort": "payable_desc"}, {"min_total": "1.000,00"}):
        assert client.get("/faturalar/giden", params=params).status_code == 200
    for params in (
        {"sort": "x"},
        {"issued_from": "31.02.2026"},
        {"cursor": "%%%"},
        {"party": "12"},
    ):
        assert client.get("/faturalar/giden", params=params).status_code == 422
    zipped = client.post(
        "/faturalar/indir",
        data={"csrf_token": csrf_of(page.text), "format": "xml", "ids": ids},
    )
    assert zipped.status_code == 200
    with zipfile.ZipFile(io.BytesIO(zipped.content)) as archive:
        names = archive.namelist()
    assert len(names) == 3 and all(n.endswith(".xml") for n in names)


def test_dashboard_shows_what_needs_action(
    runtime: Runtime, portal: str, tenant: TenantHandle, log_in: Callable[[str], httpx.Client]
) -> None:
    receive_ticari(runtime, tenant)
    issue_earsiv(runtime, tenant)
    client = log_in(make_user(runtime, tenant, role="viewer"))
    page = client.get("/panel")
    assert page.status_code == 200
    assert "Yanıt bekleyen ticari faturalar" in page.text
    assert "gün kaldı" in page.text
    assert "<svg" in page.text
    assert " TL" in page.text
    # KDV by rate: the example invoice's lines are at 20 %, 6.000,00 TL taxable each.
    assert '<td class="num">%20</td>' in page.text
    assert "6.000,00 TL" in page.text


def test_language_switch(
    runtime: Runtime, portal: str, tenant: TenantHandle, log_in: Callable[[str], httpx.Client]
) -> None:
    client = log_in(make_user(runtime, tenant))
    switched = client.get("/dil/en", params={"sonra": "/panel"})
    assert switched.status_code == 303 and switched.headers["location"] == "/panel"
    assert "Dashboard" in client.get("/panel").text
    evil = client.get("/dil/tr", params={"sonra": "//evil.example/x"})
    assert evil.headers["location"] == "/panel"


def test_sorted_pages_follow_each_other(
    runtime: Runtime, portal: str, tenant: TenantHandle, log_in: Callable[[str], httpx.Client]
) -> None:
    ids = {issue_earsiv(runtime, tenant) for _ in range(3)}
    client = log_in(make_user(runtime, tenant, role="viewer"))
    for sort in ("payable_asc", "payable_desc", "issue_date_asc", "issue_date_desc"):
        seen: list[str] = []
        page = client.get("/faturalar/giden", params={"limit": 2, "sort": sort}).text
        seen += re.findall(r'name="ids" value="([^"]+)"', page)
        more = page.split('hx-get="?', 1)[1].split('"', 1)[0].replace("&amp;", "&")
        rest = client.get(f"/faturalar/giden?{more}", headers={"HX-Request": "true"}).text
        seen += re.findall(r'name="ids" value="([^"]+)"', rest)
        assert sorted(seen) == sorted(ids), sort
        assert "hx-get" not in rest


def test_account_and_users_pages(
    runtime: Runtime, portal: str, tenant: TenantHandle, log_in: Callable[[str], httpx.Client]
) -> None:
    admin = log_in(make_user(runtime, tenant, role="admin"))
    page = admin.get("/kullanicilar")
    assert page.status_code == 200
    token = csrf_of(page.text)
    new_email = f"yeni-{uuid.uuid4().hex[:6]}@example.com.tr"
    added = admin.post(
        "/kullanicilar",
        data={"csrf_token": token, "email": new_email, "role": "viewer", "password": PASSWORD},
    )
    assert added.status_code == 200 and new_email in added.text
    short = admin.post(
        "/kullanicilar",
        data={"csrf_token": token, "email": "x@example.org", "role": "viewer", "password": "kısa"},
    )
    assert short.status_code == 422
    viewer = log_in(new_email)
    assert viewer.get("/kullanicilar").status_code == 403
    assert viewer.get("/hesap").status_code == 200
    vt = csrf_of(viewer.get("/hesap").text)
    wrong = viewer.post(
        "/hesap/parola",
        data={"csrf_token": vt, "current": "yanlış", "new": "x" * 12, "again": "x" * 12},
    )
    assert wrong.status_code == 422
    changed = viewer.post(
        "/hesap/parola",
        data={"csrf_token": vt, "current": PASSWORD, "new": "y" * 12, "again": "y" * 12},
    )
    assert changed.status_code == 200
    assert viewer.get("/panel").status_code == 200  # this session stays
    with httpx.Client(base_url=portal) as fresh:
        form = fresh.get("/giris").text
        old = fresh.post(
            "/giris", data={"email": new_email, "password": PASSWORD, "csrf_token": csrf_of(form)}
        )
        assert old.status_code == 401


def test_hostile_zip_requests(
    runtime: Runtime, portal: str, tenant: TenantHandle, log_in: Callable[[str], httpx.Client]
) -> None:
    client = log_in(make_user(runtime, tenant, role="viewer"))
    token = csrf_of(client.get("/panel").text)
    too_many = [str(uuid.uuid4()) for _ in range(201)]
    cases: list[tuple[dict[str, str | list[str]], int]] = [
        ({"format": "xml", "ids": too_many}, 422),
        ({"format": "pdf", "ids": too_many[:51]}, 422),
        ({"format": "xml"}, 422),
        ({"format": "xml", "ids": ["../../etc/passwd"]}, 404),
        ({"format": "exe", "ids": too_many[:1]}, 404),
    ]
    for data, status in cases:
        answer = client.post("/faturalar/indir", data={"csrf_token": token, **data})
        assert answer.status_code == status, data


def test_two_step_login(
    runtime: Runtime, portal: str, tenant: TenantHandle, log_in: Callable[[str], httpx.Client]
) -> None:
    import base64

    from entegrator.services.accounts import totp_code

    email = make_user(runtime, tenant)
    client = log_in(email)
    token = csrf_of(client.get("/hesap").text)
    offered = client.post("/hesap/iki-adim", data={"csrf_token": token})
    secret = re.search(r'name="secret" value="([A-Z2-7=]+)"', offered.text)
    assert secret is not None
    raw = base64.b32decode(secret.group(1))
    wrong = client.post(
        "/hesap/iki-adim", data={"csrf_token": token, "secret": secret.group(1), "code": "12"}
    )
    assert wrong.status_code == 422
    code = totp_code(raw, runtime.clock())
    on = client.post(
        "/hesap/iki-adim", data={"csrf_token": token, "secret": secret.group(1), "code": code}
    )
    assert on.status_code == 200 and "İki adımlı doğrulama açıldı." in on.text

    with httpx.Client(base_url=portal) as fresh:
        form = fresh.get("/giris").text
        first = fresh.post(
            "/giris", data={"email": email, "password": PASSWORD, "csrf_token": csrf_of(form)}
        )
        assert first.status_code == 303
        assert first.headers["location"].startswith("/giris/dogrulama")
        assert fresh.get("/panel").status_code == 303  # not in before the code
        step = fresh.get(first.headers["location"])
        assert 'autocomplete="one-time-code"' in step.text
        bad = fresh.post(
            "/giris/dogrulama", data={"csrf_token": csrf_of(step.text), "code": "000000"}
        )
        assert bad.status_code in (303, 401)
        good = fresh.post(
            "/giris/dogrulama",
            data={"csrf_token": csrf_of(step.text), "code": totp_code(raw, runtime.clock())},
        )
        assert good.status_code == 303 and good.headers["location"] == "/panel"
        assert fresh.get("/panel").status_code == 200
        # Logging out of an ended session asks no token.
        fresh.post("/cikis", data={"csrf_token": csrf_of(fresh.get("/panel").text)})
        assert fresh.post("/cikis").status_code == 303


def test_every_field_has_a_label_and_views_download(
    runtime: Runtime, portal: str, tenant: TenantHandle, log_in: Callable[[str], httpx.Client]
) -> None:
    from lxml import html

    incoming, outgoing = receive_ticari(runtime, tenant), issue_earsiv(runtime, tenant)
    client = log_in(make_user(runtime, tenant, role="admin"))
    pages = [
        "/panel",
        "/faturalar/giden",
        "/faturalar/gelen",
        f"/faturalar/{incoming}",
        f"/faturalar/{outgoing}",
        "/hesap",
        "/kullanicilar",
    ]
    with httpx.Client(base_url=portal) as anonymous:
        documents = [html.fromstring(anonymous.get("/giris").text)]
    documents += [html.fromstring(client.get(p).text) for p in pages]
    for page, tree in zip(["/giris", *pages], documents, strict=True):
        labelled = {label.get("for") for label in tree.iter("label")}
        fields = [
            f
            for tag in ("input", "select", "textarea")
            for f in tree.iter(tag)
            if f.get("type") != "hidden"
        ]
        assert fields or page == "/panel", page
        for field in fields:
            assert field.get("id") in labelled or field.get("aria-label"), (
                f"{page}: {html.tostring(field)[:120]!r}"
            )
        assert any(m.get("id") == "icerik" for m in tree.iter("main")), page
        assert tree.get("lang") == "tr"
    view = client.get(f"/faturalar/{outgoing}/gorunum")
    assert view.status_code == 200 and view.headers["content-type"].startswith("text/html")
    pdf = client.get(f"/faturalar/{outgoing}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    xml = client.get(f"/faturalar/{incoming}/xml")
    assert xml.status_code == 200 and b"Invoice" in xml.content
