"""The invoice form and the settings in a real browser (Debian's Chromium via Playwright)."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

from playwright.sync_api import expect
from sqlalchemy import text

from entegrator.runtime import Runtime
from tests.web_forms.conftest import PortalUserHandle, logged_in_page

PortalTenant = Callable[..., PortalUserHandle]


def _fill_invoice(page: Any, *, unit: str = "C62") -> None:
    page.goto("/faturalar/yeni")
    page.get_by_label("VKN / TCKN").fill("7047649710")
    page.get_by_label("Unvan / ad soyad").fill("Işık Tekstil A.Ş.")
    page.get_by_label("Vergi dairesi").fill("Nilüfer")
    page.get_by_label("İlçe").fill("Konak")
    page.get_by_label("İl", exact=True).fill("İzmir")
    line = page.get_by_role("group", name="Satır 1")
    line.get_by_label("Mal / hizmet").fill("Danışmanlık")
    line.get_by_label("Miktar").fill("3")
    line.get_by_label("Birim fiyat").fill("1.250,50")
    if unit != "C62":
        # a code GİB's list does not have, as an older ERP would send it
        page.evaluate(
            "(u) => { const s = document.getElementById('lines-0-unit_code');"
            " s.add(new Option(u, u)); s.value = u; }",
            unit,
        )


def test_issue_an_invoice_through_the_form_and_see_it_signed(
    chromium: Any, portal_tenant: PortalTenant, runtime: Runtime, run_jobs: Callable[[], None]
) -> None:
    user = portal_tenant("muhasebe")
    page = logged_in_page(chromium, user)
    _fill_invoice(page)
    # the totals follow the typing (htmx): 3 × 1.250,50 = 3.751,50 + KDV 20 % = 4.501,80
    expect(page.locator("#toplam-odenecek")).to_contain_text("4.501,80 TL")
    page.get_by_role("button", name="Faturayı düzenle").click()
    page.wait_for_url(re.compile(r".*/faturalar/[0-9a-f-]{36}$"))
    doc_id = page.url.rsplit("/", 1)[1]
    # (Playwright's loop runs in this thread: the worker runs in another one)
    worker = threading.Thread(target=run_jobs)
    worker.start()
    worker.join(120)
    with runtime.db.tenant(user.tenant.tenant_id) as conn:
        status, signed = conn.execute(
            text("SELECT status, signed_sha256 IS NOT NULL FROM documents WHERE document_id = :d"),
            {"d": doc_id},
        ).one()
    assert signed, status
    page.goto(f"/faturalar/{doc_id}")
    # the invoice view's event timeline says it was signed with the seal
    expect(page.locator("main")).to_contain_text("Mali mühürle imzalandı")
    assert "Fatura henüz imzalanmadı" not in page.content()
    link = page.get_by_role("link", name=re.compile("PDF"))
    href = link.first.get_attribute("href")
    assert href == f"/faturalar/{doc_id}/pdf"
    pdf = page.request.get(href)  # with the browser's session cookie
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body()[:4] == b"%PDF"
    page.context.close()


def test_a_wrong_field_shows_gibs_finding_in_turkish_next_to_it(
    chromium: Any, portal_tenant: PortalTenant
) -> None:
    page = logged_in_page(chromium, portal_tenant("muhasebe"))
    _fill_invoice(page, unit="ADET")
    page.get_by_role("button", name="Kontrol et").click()
    unit = page.locator("#lines-0-unit_code")
    unit.wait_for()
    assert unit.get_attribute("aria-invalid") == "true"
    problem = page.locator("#lines-0-unit_code-problems")
    # next to the field: in the same field block, named by the field's aria-describedby
    assert unit.get_attribute("aria-describedby") == "lines-0-unit_code-problems"
    assert page.locator("#lines-0-unit_code-field #lines-0-unit_code-problems").count() == 1
    message = problem.inner_text()
    assert "birim" in message.lower()
    assert re.search(r"[çğıöşüÇĞİÖŞÜ]", page.locator("#genel-sorunlar, .error").first.inner_text())
    page.context.close()


def test_an_api_key_is_shown_once(chromium: Any, portal_tenant: PortalTenant) -> None:
    page = logged_in_page(chromium, portal_tenant("admin"))
    page.goto("/ayarlar")
    page.get_by_label("Anahtar adı").fill("Muhasebe ERP")
    page.get_by_role("button", name="Anahtar oluştur").click()
    secret = page.get_by_label("API anahtarı")
    token = secret.input_value()
    assert re.fullmatch(r"ent_[0-9a-f]{12}_\S+", token)
    assert "Yalnız bu kez gösterilir" in page.content()
    page.goto("/ayarlar")
    assert token not in page.content()
    assert page.get_by_label("API anahtarı").count() == 0
    assert "Muhasebe ERP" in page.content()
    page.context.close()


def test_the_form_is_usable_with_the_keyboard_alone(
    chromium: Any, portal_tenant: PortalTenant
) -> None:
    page = logged_in_page(chromium, portal_tenant("muhasebe"))
    page.goto("/faturalar/yeni")
    page.get_by_label("VKN / TCKN").focus()
    keys = page.keyboard
    keys.type("7047649710")
    keys.press("Tab")  # the lookup button
    keys.press("Tab")
    assert page.evaluate("document.activeElement.id") == "buyer_name"
    keys.type("Işık Tekstil A.Ş.")
    for value in ("Nilüfer", "", "Konak", "İzmir"):  # tax office, address, district, city
        keys.press("Tab")
        keys.type(value)
    page.locator("#lines-0-name").focus()
    keys.type("Danışmanlık")
    keys.press("Tab")
    assert page.evaluate("document.activeElement.id") == "lines-0-quantity"
    keys.press("Tab")
    keys.press("Tab")
    assert page.evaluate("document.activeElement.id") == "lines-0-unit_price"
    keys.type("500")
    expect(page.locator("#toplam-odenecek")).to_contain_text("600,00 TL")
    # "Satır ekle" with Enter gives a second line, keeping what was typed
    page.get_by_role("button", name="Satır ekle").focus()
    keys.press("Enter")
    page.locator("#lines-1-name").wait_for()
    assert page.locator("#lines-0-name").input_value() == "Danışmanlık"
    page.get_by_role("button", name="Faturayı düzenle").focus()
    keys.press("Enter")
    page.wait_for_url(re.compile(r".*/faturalar/[0-9a-f-]{36}$"))
    page.context.close()
