"""The e-İrsaliye pages in a real browser (Playwright, Debian's Chromium): the answer form
by its labels, a field error shown next to its field, then the answer sent."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from entegrator.documents.irsaliye import LineAnswer
from entegrator.runtime import Runtime
from entegrator.store import repo
from entegrator.store.keys import ApiKey
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


def test_screenshots_of_the_despatch_pages(
    runtime: Runtime,
    make_tenant: Callable[..., TenantHandle],
    browser: Browser,
    tmp_path: Path,
) -> None:
    """The screenshot script takes the e-İrsaliye pages (ENTEGRATOR_SCREENSHOTS: where to)."""
    import importlib.util

    script = Path(__file__).resolve().parents[2] / "scripts" / "portal_screenshots.py"
    spec = importlib.util.spec_from_file_location("portal_screenshots", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    tenant = make_tenant()
    email = make_user(runtime, tenant, role="admin")
    waiting = receive_despatch(runtime, tenant)
    answered = receive_despatch(runtime, tenant)
    receive_despatch(runtime, tenant)
    runtime.despatches.receipt(
        _api_key(runtime, tenant), uuid.UUID(answered), answers={1: _short_line()}
    )
    out = Path(os.environ.get("ENTEGRATOR_SCREENSHOTS") or tmp_path)
    with serve_portal(runtime) as base:
        written = module.take(
            base,
            email,
            PASSWORD,
            out,
            despatch_paths=(f"/irsaliyeler/{waiting}", f"/irsaliyeler/{answered}"),
            browser=browser,
        )
    names = {p.name for p in written}
    assert {"irsaliyeler-gelen.png", "irsaliye-1.png", "irsaliye-2.png"} <= names
    assert all(p.stat().st_size > 5_000 for p in written)


def _api_key(runtime: Runtime, tenant: TenantHandle) -> ApiKey:
    with runtime.db.system() as conn:
        _, key = repo.create_api_key(conn, tenant.tenant_id, role="accountant", name="screens")
    return key


def _short_line() -> LineAnswer:
    return LineAnswer(rejected=Decimal(3), reject_reason="Kırık", short=Decimal(2))
