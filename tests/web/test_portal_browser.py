"""The portal in a real browser: Playwright driving Debian's Chromium (nothing downloaded)."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from entegrator.runtime import Runtime
from tests.testing.platform import TenantHandle
from tests.web.portal import PASSWORD, issue_earsiv, make_user, receive_ticari, serve_portal

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


def log_in(
    page: Page, base: str, email: str, password: str = PASSWORD, *, here: bool = False
) -> None:
    """Fill in the login form (of the page shown, with ``here``)."""
    if not here:
        page.goto(f"{base}/giris")
    page.get_by_label("E-posta").fill(email)
    page.get_by_label("Parola").fill(password)
    page.get_by_role("button", name="Giriş yap").click()


def test_log_in_and_out(runtime: Runtime, portal: str, tenant: TenantHandle, page: Page) -> None:
    email = make_user(runtime, tenant)
    page.goto(f"{portal}/panel")
    expect(page).to_have_url(re.compile(r"/giris\?sonra=/panel$"))
    log_in(page, portal, email)
    expect(page).to_have_url(f"{portal}/panel")
    expect(page.get_by_role("heading", name="Panel", exact=True)).to_be_visible()
    expect(page.get_by_text(email)).to_be_visible()
    page.get_by_role("button", name="Çıkış").click()
    expect(page).to_have_url(f"{portal}/giris")


def test_accept_an_incoming_invoice(
    runtime: Runtime, portal: str, tenant: TenantHandle, page: Page
) -> None:
    document_id = receive_ticari(runtime, tenant)
    log_in(page, portal, make_user(runtime, tenant))
    page.goto(f"{portal}/faturalar/gelen")
    page.get_by_role("link", name=re.compile("^ABC2026")).first.click()
    expect(page.get_by_text("Yanıt bekliyor").first).to_be_visible()
    page.get_by_role("button", name="Kabul et").click()
    expect(page).to_have_url(f"{portal}/faturalar/{document_id}?ok=kabul")
    expect(page.get_by_role("status")).to_contain_text("Fatura kabul edildi")
    expect(page.get_by_text("Kabul edildi", exact=True).first).to_be_visible()
    expect(page.get_by_role("button", name="Kabul et")).to_have_count(0)


def test_cancel_an_earsiv_invoice(
    runtime: Runtime, portal: str, tenant: TenantHandle, page: Page
) -> None:
    document_id = issue_earsiv(runtime, tenant)
    log_in(page, portal, make_user(runtime, tenant, role="admin"))
    page.goto(f"{portal}/faturalar/{document_id}")
    page.get_by_label("İptal gerekçesi").fill("Tutar hatalı yazıldı")
    page.get_by_role("button", name="Faturayı iptal et").click()
    expect(page.get_by_role("status")).to_contain_text("Fatura iptal edildi")
    expect(page.get_by_text("İptal edildi", exact=True).first).to_be_visible()


def test_a_form_without_its_csrf_token_is_refused(
    runtime: Runtime, portal: str, tenant: TenantHandle, page: Page
) -> None:
    document_id = receive_ticari(runtime, tenant)
    log_in(page, portal, make_user(runtime, tenant))
    page.goto(f"{portal}/faturalar/{document_id}")
    page.evaluate("document.querySelectorAll('input[name=csrf_token]').forEach(e => e.remove())")
    with page.expect_response(re.compile(r"/kabul$")) as posted:
        page.get_by_role("button", name="Kabul et").click()
    assert posted.value.status == 403
    expect(page.get_by_role("alert")).to_contain_text("CSRF")
    page.goto(f"{portal}/faturalar/{document_id}")
    expect(page.get_by_text("Yanıt bekliyor").first).to_be_visible()  # nothing happened


def test_another_tenants_invoice_is_not_found(
    runtime: Runtime, portal: str, make_tenant: Callable[..., TenantHandle], page: Page
) -> None:
    owner, other = make_tenant(), make_tenant()
    document_id = issue_earsiv(runtime, owner)
    log_in(page, portal, make_user(runtime, other, role="admin"))
    expect(page).to_have_url(f"{portal}/panel")
    answer = page.goto(f"{portal}/faturalar/{document_id}")
    assert answer is not None and answer.status == 404
    expect(page.get_by_role("alert")).to_contain_text("bulunamadı")


def test_a_viewer_sees_no_actions_and_the_server_refuses_them(
    runtime: Runtime, portal: str, tenant: TenantHandle, page: Page
) -> None:
    document_id = receive_ticari(runtime, tenant)
    log_in(page, portal, make_user(runtime, tenant, role="viewer"))
    page.goto(f"{portal}/faturalar/{document_id}")
    expect(page.get_by_text("Yanıt bekliyor").first).to_be_visible()
    for name in ("Kabul et", "Reddet", "Faturayı iptal et", "E-postayla yeniden gönder"):
        expect(page.get_by_role("button", name=name)).to_have_count(0)
    expect(page.get_by_role("link", name="Yeni fatura")).to_have_count(0)
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    refused = page.request.post(
        f"{portal}/faturalar/{document_id}/kabul", form={"csrf_token": token or ""}
    )
    assert refused.status == 403
    page.reload()
    expect(page.get_by_text("Yanıt bekliyor").first).to_be_visible()


def test_lock_out_after_failed_logins(
    runtime: Runtime, portal: str, tenant: TenantHandle, page: Page
) -> None:
    email = make_user(runtime, tenant)
    for _ in range(runtime.settings.portal_lockout_failures):
        log_in(page, portal, email, password="yanlış-parola-0")
        expect(page.get_by_role("alert")).to_contain_text("E-posta ya da parola hatalı")
    log_in(page, portal, email)  # the right password, too late
    expect(page.get_by_role("alert")).to_contain_text("kilitli")
    expect(page).to_have_url(f"{portal}/giris")


def test_the_session_expires(runtime: Runtime, tenant: TenantHandle, page: Page) -> None:
    short = Runtime(
        runtime.settings.model_copy(update={"portal_session_idle_seconds": 2.0}),
        runtime.database_url,
    )
    email = make_user(runtime, tenant)
    try:
        with serve_portal(short) as base:
            log_in(page, base, email)
            expect(page).to_have_url(f"{base}/panel")
            time.sleep(3)
            page.goto(f"{base}/faturalar/giden")
            expect(page).to_have_url(re.compile(r"/giris\?sonra=/faturalar/giden&bitti=1$"))
            expect(page.get_by_role("alert")).to_contain_text("Oturumunuz sona erdi")
            log_in(page, base, email, here=True)  # and back where it was going
            expect(page).to_have_url(f"{base}/faturalar/giden")
    finally:
        short.close()


def test_screenshots_of_every_page(
    runtime: Runtime,
    make_tenant: Callable[..., TenantHandle],
    tmp_path: Path,
    browser: Browser,
) -> None:
    """The screenshot script on a portal with documents of each kind (into docs/portal/
    when ENTEGRATOR_SCREENSHOTS says so)."""
    import importlib.util

    script = Path(__file__).resolve().parents[2] / "scripts" / "portal_screenshots.py"
    spec = importlib.util.spec_from_file_location("portal_screenshots", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    take = module.take

    tenant = make_tenant()
    email = make_user(runtime, tenant, role="admin")
    incoming = [receive_ticari(runtime, tenant) for _ in range(3)]
    outgoing = [issue_earsiv(runtime, tenant) for _ in range(4)]
    out = Path(os.environ.get("ENTEGRATOR_SCREENSHOTS") or tmp_path)
    with serve_portal(runtime) as base:
        written = take(
            base,
            email,
            PASSWORD,
            out,
            invoice_paths=(f"/faturalar/{incoming[0]}", f"/faturalar/{outgoing[0]}"),
            browser=browser,
        )
    assert {p.name for p in written} >= {"giris.png", "panel.png", "giden.png", "fatura-1.png"}
    assert all(p.stat().st_size > 5_000 for p in written)
