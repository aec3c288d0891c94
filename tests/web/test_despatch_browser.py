"""The e-İrsaliye pages in a real browser (Playwright, Debian's Chromium): the answer form
by its labels, a field error shown next to its field, then the answer sent."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from entegrator.runtime import Runtime
from tests.testing.platform import TenantHandle
from tests.web.despatch_portal import receive_despatch
from tests.web.portal import PASSWORD, make_user, serve_portal

CHROMIUM = "/usr/bin/chromium"
if not Path(CHROMIUM).exists():  # pragma: no cover
    pytest.skip("Debian's chromium is not installed", allow_module_level=True)


@pytest.fixture(scope="module")
def portal(runtime: Runtime) -> Iterator[str]:
    with serve_portal(runtime) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="tr-TR")
    yield context.new_page()
    context.close()


def test_answer_an_incoming_despatch(
    runtime: Runtime, portal: str, tenant: TenantHandle, page: Page
) -> None:
    document_id = receive_despatch(runtime, tenant)
    page.goto(f"{portal}/giris")
    page.get_by_label("E-posta").fill(make_user(runtime, tenant))
    page.get_by_label("Parola").fill(PASSWORD)
    page.get_by_role("button", name="Giriş yap").click()
    expect(page).to_have_url(f"{portal}/panel")
    page.get_by_role("link", name="Gelen irsaliyeler").click()
    expect(page.get_by_role("heading", name="Gelen irsaliyeler")).to_be_visible()
    page.get_by_role("link", name=re.compile("^IRS2026")).first.click()
    expect(page).to_have_url(f"{portal}/irsaliyeler/{document_id}")
    expect(page.get_by_text("Yanıt bekliyor").first).to_be_visible()
    # A rejected quantity without its reason: refused, the error next to the reason field.
    page.get_by_label("Reddedilen miktar 1", exact=True).fill("5")
    page.get_by_label("Eksik miktar 2", exact=True).fill("12,5")
    page.get_by_role("button", name="Yanıtı gönder").click()
    reason = page.get_by_label("Red gerekçesi 1", exact=True)
    expect(reason).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#reason_1-err")).to_have_text("Reddedilen miktar için gerekçe yazın.")
    expect(page.get_by_role("alert").first).to_contain_text("işaretli alanları düzeltin")
    expect(page.get_by_label("Eksik miktar 2", exact=True)).to_have_value("12,5")
    reason.fill("Yırtık torba")
    page.get_by_role("button", name="Yanıtı gönder").click()
    expect(page).to_have_url(f"{portal}/irsaliyeler/{document_id}?ok=yanit")
    expect(page.get_by_role("status")).to_contain_text("İrsaliye yanıtı oluşturuldu")
    expect(page.get_by_text("Kısmen kabul edildi").first).to_be_visible()
    expect(page.get_by_role("button", name="Tümünü kabul et")).to_have_count(0)
    expect(page.get_by_role("link", name="İrsaliye yanıtı (XML)")).to_be_visible()
