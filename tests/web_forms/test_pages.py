"""The invoice form, partners, reports and settings over HTTP, as a browser posts them."""

from __future__ import annotations

import datetime as dt
import html
import io
import re
import time
from collections.abc import Callable

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from entegrator.runtime import Runtime
from entegrator.signing.certs import to_pkcs12
from tests.web_forms.conftest import PortalUserHandle, csrf_of

LINES = {
    "profile": "TEMELFATURA",
    "type": "SATIS",
    "issue_date": "2026-11-24",
    "currency": "TRY",
    "buyer_id": "7047649710",
    "buyer_name": "Işık Tekstil A.Ş.",
    "buyer_tax_office": "Nilüfer",
    "buyer_district": "Konak",
    "buyer_city": "İzmir",
    "buyer_country": "Türkiye",
    "lines-0-name": "Yazılım lisansı",
    "lines-0-quantity": "2",
    "lines-0-unit_code": "C62",
    "lines-0-unit_price": "1.500,00",
    "lines-0-kdv_percent": "20",
}
PortalTenant = Callable[..., PortalUserHandle]


def _form_page(client: httpx.Client, path: str = "/faturalar/yeni") -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return page.text


def _post(client: httpx.Client, path: str, data: dict[str, str], page: str) -> httpx.Response:
    return client.post(path, data={**data, "csrf_token": csrf_of(page)})


def _issue(client: httpx.Client, **changes: str) -> str:
    page = _form_page(client)
    answer = _post(client, "/faturalar/yeni", {**LINES, **changes, "islem": "duzenle"}, page)
    assert answer.status_code == 303, answer.text
    location = answer.headers["location"]
    assert re.fullmatch(r"/faturalar/[0-9a-f-]{36}", location), location
    return location.rsplit("/", 1)[1]


def test_every_field_of_the_form_has_a_label(portal_tenant: PortalTenant) -> None:
    with portal_tenant("muhasebe").client() as client:
        page = _form_page(client)
    ids = re.findall(r'<(?:input|select|textarea) id="([^"]+)"', page)
    assert "lines-0-unit_price" in ids and "buyer_id" in ids
    labels = set(re.findall(r'<label for="([^"]+)"', page))
    assert [i for i in ids if i not in labels] == []
    # Turkish first: GİB's words and Turkish labels; units from GİB's list with their names
    assert "Birim fiyat" in page and "Adet (C62)" in page and "612 Temizlik hizmeti (9/10)" in page


def test_a_viewer_gets_no_form_and_the_server_refuses_its_posts(
    portal_tenant: PortalTenant,
) -> None:
    with portal_tenant("viewer").client() as client:
        assert client.get("/faturalar/yeni").status_code == 403
        panel = client.get("/panel").text
        answer = _post(client, "/faturalar/yeni", {**LINES, "islem": "duzenle"}, panel)
        assert answer.status_code == 403
        assert client.get("/ayarlar").status_code == 403
        assert client.get("/cariler").status_code == 200  # reading is allowed


def test_a_form_without_its_csrf_token_is_refused(portal_tenant: PortalTenant) -> None:
    with portal_tenant("muhasebe").client() as client:
        answer = client.post("/faturalar/yeni", data={**LINES, "islem": "duzenle"})
    assert answer.status_code == 403


def test_totals_are_computed_by_the_server_as_the_user_types(portal_tenant: PortalTenant) -> None:
    with portal_tenant("muhasebe").client() as client:
        page = _form_page(client)
        fields = {
            **LINES,
            "lines-1-name": "Temizlik",
            "lines-1-quantity": "1",
            "lines-1-unit_price": "10000",
            "lines-1-kdv_percent": "20",
            "lines-1-withholding": "612-90",
        }
        answer = _post(client, "/faturalar/yeni/toplamlar", fields, page)
    assert answer.status_code == 200
    html = answer.text
    assert 'id="toplamlar-icerik"' in html and "<html" not in html  # a partial
    assert "13.000,00 TL" in html  # before taxes
    assert re.search(r"Hesaplanan KDV \(%20\)</dt>\s*<dd class=\"num\">2\.600,00 TL", html)
    assert "−1.800,00 TL" in html  # withholding 612, 9/10
    assert re.search(r'id="toplam-odenecek">13\.800,00 TL', html)


def test_a_wrong_field_shows_gibs_finding_in_turkish_next_to_it(
    portal_tenant: PortalTenant,
) -> None:
    with portal_tenant("muhasebe").client() as client:
        page = _form_page(client)
        answer = _post(
            client,
            "/faturalar/yeni",
            {**LINES, "lines-0-unit_code": "ADET", "islem": "duzenle"},
            page,
        )
    assert answer.status_code == 422
    html = answer.text
    problems = re.search(
        r'<ul class="field-problems" id="lines-0-unit_code-problems">(.*?)</ul>', html, re.S
    )
    assert problems is not None, html
    assert 'aria-describedby="lines-0-unit_code-problems"' in html
    message = re.sub(r"<[^>]+>", "", problems.group(1)).strip()
    assert message and "birim" in message.lower()


def test_an_unreadable_amount_is_named_at_its_field(portal_tenant: PortalTenant) -> None:
    with portal_tenant("muhasebe").client() as client:
        page = _form_page(client)
        answer = _post(
            client,
            "/faturalar/yeni",
            {**LINES, "lines-0-unit_price": "bin", "islem": "kontrol"},
            page,
        )
    assert answer.status_code == 422
    assert 'id="lines-0-unit_price-problems"' in answer.text
    assert "geçerli bir sayı girin" in answer.text


def test_a_form_is_checked_and_lines_added_and_removed(portal_tenant: PortalTenant) -> None:
    with portal_tenant("muhasebe").client() as client:
        page = _form_page(client)
        checked = _post(client, "/faturalar/yeni", {**LINES, "islem": "kontrol"}, page)
        assert checked.status_code == 200 and "GİB kurallarına uygun" in checked.text
        added = _post(client, "/faturalar/yeni", {**LINES, "islem": "satir"}, page)
        assert 'id="lines-1-name"' in added.text and 'value="Yazılım lisansı"' in added.text
        two = {**LINES, "lines-1-name": "İkinci", "lines-1-unit_price": "5"}
        removed = _post(client, "/faturalar/yeni", {**two, "islem": "sil-0"}, page)
        assert 'value="İkinci"' in removed.text and "Yazılım lisansı" not in removed.text


def test_the_buyer_lookup_answers_before_issuing(portal_tenant: PortalTenant) -> None:
    with portal_tenant("muhasebe").client() as client:
        page = _form_page(client)
        bad = _post(client, "/faturalar/yeni/alici", {**LINES, "buyer_id": "1234567891"}, page)
        good = _post(client, "/faturalar/yeni/alici", {**LINES, "buyer_name": ""}, page)
        typed = _post(client, "/faturalar/yeni/alici", LINES, page)
    assert bad.status_code == 200 and "Geçerli bir VKN" in bad.text
    assert 'id="alici-durum"' in good.text
    # the name the user typed is never replaced by the lookup
    assert 'id="buyer_name"' not in typed.text


def test_a_pdf_preview_of_the_unsigned_draft(portal_tenant: PortalTenant) -> None:
    with portal_tenant("muhasebe").client() as client:
        page = _form_page(client)
        answer = _post(client, "/faturalar/yeni/onizleme", LINES, page)
    assert answer.status_code == 200, answer.text[:500]
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.content.startswith(b"%PDF")


def test_drafts_are_saved_reopened_and_kept_from_other_tenants(
    portal_tenant: PortalTenant, stranger: PortalUserHandle
) -> None:
    with portal_tenant("muhasebe").client() as client:
        page = _form_page(client)
        saved = _post(client, "/faturalar/yeni", {**LINES, "islem": "taslak"}, page)
        assert saved.status_code == 200 and "Taslak kaydedildi" in saved.text
        found = re.search(r'name="taslak_id" value="([0-9a-f-]{36})"', saved.text)
        assert found is not None
        draft_id = found.group(1)
        again = _form_page(client, f"/faturalar/yeni?taslak={draft_id}")
        assert (
            'value="Işık Tekstil A.Ş."' in again and f"/faturalar/yeni?taslak={draft_id}" in again
        )
    with portal_tenant("muhasebe").client() as client:  # a colleague sees it
        assert client.get(f"/faturalar/yeni?taslak={draft_id}").status_code == 200
    with stranger.client() as client:
        assert client.get(f"/faturalar/yeni?taslak={draft_id}").status_code == 404
        assert client.get("/faturalar/yeni?taslak=bozuk").status_code == 404
        page = _form_page(client)
        deleted = _post(client, f"/faturalar/taslaklar/{draft_id}/sil", {}, page)
        assert deleted.status_code == 404
    with portal_tenant("muhasebe").client() as client:
        page = _form_page(client)
        deleted = _post(client, f"/faturalar/taslaklar/{draft_id}/sil", {}, page)
        assert deleted.status_code == 303
        assert client.get(f"/faturalar/yeni?taslak={draft_id}").status_code == 404


def test_issue_through_the_form_then_partners_reports_duplicate(
    portal_tenant: PortalTenant, runtime: Runtime, run_jobs: Callable[[], None]
) -> None:
    user = portal_tenant("muhasebe")
    with user.client() as client:
        doc_id = _issue(client)
        run_jobs()
        with runtime.db.tenant(user.tenant.tenant_id) as conn:
            signed = conn.execute(
                text("SELECT signed_sha256 IS NOT NULL FROM documents WHERE document_id = :d"),
                {"d": doc_id},
            ).scalar()
        assert signed
        # the same invoice as a new form (kopya), offered on its view; a return (iade) is
        # only of incoming ones
        assert f"/faturalar/yeni?kopya={doc_id}" in client.get(f"/faturalar/{doc_id}").text
        copy = _form_page(client, f"/faturalar/yeni?kopya={doc_id}")
        assert 'value="Yazılım lisansı"' in copy and 'value="1500"' in copy
        assert client.get(f"/faturalar/yeni?iade={doc_id}").status_code == 404
        # the buyer is a partner with its totals and documents
        partners = client.get("/cariler").text
        assert "7047649710" in partners and "3.600,00 TL" in partners
        partner = client.get("/cariler/7047649710").text
        assert f"/faturalar/{doc_id}" in partner
        assert client.get("/cariler/1111111111").status_code == 404
        # reports: the month, KDV by rate, XLSX with numbers
        report = client.get("/raporlar?yil=2026&ay=11").text
        assert "%20" in report and "600,00 TL" in report
        xlsx = client.get("/raporlar/xlsx?yil=2026&ay=11")
        assert xlsx.status_code == 200
        book = load_workbook(io.BytesIO(xlsx.content))
        november = [c.value for c in book["2026"][12]]
        assert november[:2] == ["2026-11", 1] and november[4] == pytest.approx(3600)
        assert client.get("/raporlar?yil=1999").status_code == 422
    with httpx.Client(base_url=user.url, headers=user.tenant.headers, timeout=60) as api:
        pdf = api.get(f"/api/v1/invoices/{doc_id}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_another_tenants_invoice_cannot_be_duplicated_or_seen_as_partner(
    portal_tenant: PortalTenant, stranger: PortalUserHandle
) -> None:
    with portal_tenant("muhasebe").client() as client:
        doc_id = _issue(client)
    with stranger.client() as client:
        assert client.get(f"/faturalar/yeni?kopya={doc_id}").status_code == 404
        assert client.get("/cariler/7047649710").status_code == 404
        assert "7047649710" not in client.get("/cariler").text


def test_an_api_key_is_shown_once_and_can_be_revoked(portal_tenant: PortalTenant) -> None:
    admin = portal_tenant("admin")
    with admin.client() as client:
        page = client.get("/ayarlar")
        assert page.status_code == 200
        created = _post(client, "/ayarlar/anahtarlar", {"name": "ERP", "role": "api"}, page.text)
        assert created.status_code == 200
        token = re.search(
            r'id="yeni-anahtar" type="text" readonly value="(ent_[^"]+)"', created.text
        )
        assert token is not None
        assert token.group(1) not in client.get("/ayarlar").text  # never shown again
        with httpx.Client(base_url=admin.url, timeout=60) as api:
            auth = {"Authorization": f"Bearer {token.group(1)}"}
            assert api.get("/api/v1/invoices", headers=auth).status_code == 200
            prefix = token.group(1).split("_")[1]
            revoked = _post(client, f"/ayarlar/anahtarlar/{prefix}/iptal", {}, created.text)
            assert revoked.status_code == 303
            # the API keeps a valid key for a second (api/deps.py): refused right after
            deadline = time.monotonic() + 5
            while api.get("/api/v1/invoices", headers=auth).status_code != 401:
                assert time.monotonic() < deadline, "the revoked key still works"
                time.sleep(0.2)
        bad = _post(client, "/ayarlar/anahtarlar", {"name": "", "role": "owner"}, created.text)
        assert bad.status_code == 422


def test_settings_series_company_logo_webhook(portal_tenant: PortalTenant) -> None:
    admin = portal_tenant("admin")
    with admin.client() as client:
        page = client.get("/ayarlar").text
        assert "Geçerlilik sonu" in page  # the test seal's validity
        bad = _post(
            client, "/ayarlar/seriler", {"efatura": "E!", "earsiv": "", "internet": ""}, page
        )
        assert bad.status_code == 422 and 'id="series-problems"' in bad.text
        good = _post(
            client, "/ayarlar/seriler", {"efatura": "ABC", "earsiv": "", "internet": ""}, page
        )
        assert good.status_code == 303
        assert 'value="ABC"' in client.get("/ayarlar").text
        missing = _post(client, "/ayarlar/sirket", {"city": "Ankara"}, page)
        assert missing.status_code == 422 and 'id="company-tax_office-problems"' in missing.text
        not_image = client.post(
            "/ayarlar/logo",
            data={"csrf_token": csrf_of(page)},
            files={"logo": ("logo.svg", b"<svg/>", "image/svg+xml")},
        )
        assert not_image.status_code == 422
        png = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
        uploaded = client.post(
            "/ayarlar/logo",
            data={"csrf_token": csrf_of(page)},
            files={"logo": ("logo.png", png, "image/png")},
        )
        assert uploaded.status_code == 303
        logo = client.get("/ayarlar/logo")
        assert logo.content == png and logo.headers["content-type"] == "image/png"
        hook = _post(client, "/ayarlar/webhooklar", {"url": "ftp://example.com"}, page)
        assert hook.status_code == 422 and 'id="webhook_url-problems"' in hook.text


def test_a_seal_is_uploaded_with_its_validity_shown(
    portal_tenant: PortalTenant, runtime: Runtime
) -> None:
    admin = portal_tenant("admin")
    now = dt.datetime.now(dt.UTC)
    seal = runtime.test_ca.issue(
        identity=admin.tenant.vkn,
        name="Test",
        now=now,
        not_after=now + dt.timedelta(days=10),
    )
    p12 = to_pkcs12(seal, b"parola", "Test")
    with admin.client() as client:
        page = client.get("/ayarlar").text
        wrong = client.post(
            "/ayarlar/muhur",
            data={"csrf_token": csrf_of(page), "password": "yanlis"},
            files={"seal": ("muhur.p12", p12, "application/x-pkcs12")},
        )
        assert wrong.status_code == 422 and 'id="seal-problems"' in wrong.text
        done = client.post(
            "/ayarlar/muhur",
            data={"csrf_token": csrf_of(page), "password": "parola"},
            files={"seal": ("muhur.p12", p12, "application/x-pkcs12")},
        )
        assert done.status_code == 200, done.text[:500]
        assert "Mühür yüklendi" in done.text
        assert "gün içinde doluyor" in done.text  # it expires in 10 days


def test_an_incoming_invoice_is_returned_as_a_new_prefilled_draft(
    portal_tenant: PortalTenant, runtime: Runtime, run_jobs: Callable[[], None]
) -> None:
    from entegrator.gib.soap import DocumentResponse, SendDocument
    from tests.services.test_inbound import _envelope, _gib_call, _pk

    user = portal_tenant("muhasebe")
    packed, _xml, supplier = _envelope(user.tenant.vkn, _pk(runtime, user.tenant))
    answer = _gib_call(user.url, SendDocument(packed.name, packed.data, packed.md5))
    assert isinstance(answer, DocumentResponse)
    run_jobs()
    with runtime.db.tenant(user.tenant.tenant_id) as conn:
        incoming = conn.execute(
            text("SELECT document_id FROM documents WHERE direction = 'in'")
        ).scalar_one()
    with user.client() as client:
        assert f"/faturalar/yeni?iade={incoming}" in client.get(f"/faturalar/{incoming}").text
        # its KDV counts as purchases (read from its XML: incoming rows keep no KDV per rate)
        report = client.get("/raporlar?yil=2026&ay=11").text
        purchases = re.search(r'<section class="card" id="kdv-in">(.*?)</section>', report, re.S)
        assert purchases is not None and "İndirilecek KDV" in purchases.group(1)
        assert re.search(
            r"%20</td><td class=\"num\">6\.000,00 TL</td><td class=\"num\">1\.200,00 TL",
            purchases.group(1),
        )
        page = _form_page(client, f"/faturalar/yeni?iade={incoming}")
        assert f'value="{supplier}"' in page  # the seller is the buyer of the return
        assert re.search(r'<option value="IADE" selected>', page)
        assert 'value="ABC2026000000077"' in page  # the returned invoice
        assert client.get(f"/faturalar/yeni?kopya={incoming}").status_code == 404
        fields: dict[str, str] = {}
        for tag in re.findall(r"<input [^>]*>", page):
            name, value = re.search(r'name="([^"]+)"', tag), re.search(r'value="([^"]*)"', tag)
            if name and value:
                fields[name.group(1)] = html.unescape(value.group(1))
        for select in re.findall(r"<select [^>]*>.*?</select>", page, re.S):
            name, chosen = (
                re.search(r'name="([^"]+)"', select),
                re.search(r'<option value="([^"]*)" selected>', select),
            )
            if name and chosen:
                fields[name.group(1)] = html.unescape(chosen.group(1))
        fields["islem"] = "duzenle"
        issued = _post(client, "/faturalar/yeni", fields, page)
    assert issued.status_code == 303, (
        issued.status_code,
        re.findall(r"class=\"problem[^>]*>([^<]*)", issued.text),
    )


def test_hostile_input_gets_a_clear_answer_never_a_crash(portal_tenant: PortalTenant) -> None:
    with portal_tenant("admin").client() as client:
        page = _form_page(client)
        many = {f"lines-{i}-name": "x" for i in range(0, 700)} | {"lines-99999-name": "y"}
        answer = _post(client, "/faturalar/yeni", {**LINES, **many, "islem": "satir"}, page)
        assert answer.status_code == 200
        assert 'id="lines-499-name"' in answer.text and 'id="lines-500-name"' not in answer.text
        odd = _post(client, "/faturalar/yeni", {**LINES, "islem": "sil-999"}, page)
        assert odd.status_code == 200
        control = _post(
            client, "/faturalar/yeni", {**LINES, "buyer_name": "A\x00B", "islem": "kontrol"}, page
        )
        assert control.status_code == 422
        for path in (
            "/faturalar/yeni?kopya=bozuk",
            "/faturalar/yeni?iade=00000000-0000-4000-8000-000000000000",
            "/cariler/abc",
        ):
            assert client.get(path).status_code == 404, path
        for path in ("/raporlar?yil=abc", "/raporlar/xlsx?ay=13"):
            assert client.get(path).status_code == 422, path
        settings = client.get("/ayarlar").text
        assert _post(client, "/ayarlar/anahtarlar/../iptal", {}, settings).status_code == 404
        assert _post(client, "/ayarlar/webhooklar/bozuk/kaldir", {}, settings).status_code == 404
        garbage = client.post(
            "/ayarlar/muhur",
            data={"csrf_token": csrf_of(settings), "password": "x"},
            files={"seal": ("m.p12", b"\x30\x82garbage", "application/x-pkcs12")},
        )
        assert garbage.status_code == 422
        none = _post(client, "/ayarlar/muhur", {"password": "x"}, settings)
        assert none.status_code == 422
        preview = _post(client, "/faturalar/yeni/onizleme", {**LINES, "buyer_id": ""}, settings)
        assert preview.status_code == 422 and 'id="buyer_id-problems"' in preview.text


def test_english_is_the_second_language(portal_tenant: PortalTenant) -> None:
    with portal_tenant("admin").client() as client:
        client.cookies.set("entegrator_dil", "en")
        form = client.get("/faturalar/yeni").text
        assert "Unit price" in form and "Issue the invoice" in form
        page = _form_page(client)
        wrong = _post(
            client,
            "/faturalar/yeni",
            {**LINES, "lines-0-unit_price": "x", "islem": "kontrol"},
            page,
        )
        assert "Price: enter a number" in wrong.text
        assert "Partners" in client.get("/cariler").text
        assert "Download Excel (XLSX)" in client.get("/raporlar").text
        assert "Create key" in client.get("/ayarlar").text


def test_every_field_of_these_pages_has_a_label(
    portal_tenant: PortalTenant, run_jobs: Callable[[], None]
) -> None:
    from lxml import html as lxml_html

    with portal_tenant("admin").client() as client:
        _issue(client)
        run_jobs()
        settings = client.get("/ayarlar").text
        with_key = _post(client, "/ayarlar/anahtarlar", {"name": "ERP", "role": "api"}, settings)
        pages = {
            "/faturalar/yeni": client.get("/faturalar/yeni").text,
            "/cariler": client.get("/cariler").text,
            "/cariler/7047649710": client.get("/cariler/7047649710").text,
            "/raporlar": client.get("/raporlar?yil=2026&ay=11").text,
            "/ayarlar": settings,
            "/ayarlar (new key)": with_key.text,
        }
    for page, text_ in pages.items():
        tree = lxml_html.fromstring(text_)
        labelled = {label.get("for") for label in tree.iter("label")}
        fields = [
            f
            for tag in ("input", "select", "textarea")
            for f in tree.iter(tag)
            if f.get("type") != "hidden"
        ]
        for field in fields:
            assert field.get("id") in labelled, f"{page}: {lxml_html.tostring(field)[:120]!r}"
        ids = [e.get("id") for e in tree.iter() if e.get("id")]
        assert len(ids) == len(set(ids)), f"{page}: repeated ids"
        assert tree.get("lang") == "tr"
