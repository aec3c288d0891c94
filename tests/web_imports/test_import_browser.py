"""A bulk import through the portal's form in a real browser (Debian's Chromium)."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.testing.imports import invoice_rows, row, write_csv
from tests.web_forms.conftest import PortalUserHandle, logged_in_page

PortalTenant = Callable[..., PortalUserHandle]


def test_upload_through_the_form_and_watch_it_finish(
    chromium: Any, portal_tenant: PortalTenant, run_jobs: Callable[[], None], tmp_path: Path
) -> None:
    rows = [*invoice_rows("TAR", 2), row("TAR-BAD", unit_price="çok")]
    path = write_csv(tmp_path / "faturalar.csv", rows, encoding="utf-8-sig")
    page = logged_in_page(chromium, portal_tenant("muhasebe"))
    page.get_by_role("link", name="Toplu içe aktarma").click()
    page.wait_for_url("**/iceri-aktar")
    page.get_by_label("Dosya (XLSX, CSV").set_input_files(str(path))
    page.get_by_label("Yalnız geçerli belgeleri düzenle").check()
    page.get_by_role("button", name="Yükle ve içe aktar").click()
    page.wait_for_url(re.compile(r".*/iceri-aktar/[0-9a-f-]{36}$"))
    progress = page.get_by_label("İlerleme")
    expect(progress).to_be_visible()
    expect(page.locator("#import-status")).to_have_attribute("data-status", "queued")
    # (Playwright's loop runs in this thread: the worker runs in another one)
    worker = threading.Thread(target=run_jobs)
    worker.start()
    worker.join(120)
    # the page polls (htmx) until the import is done, without a reload
    expect(page.locator("#import-status")).to_have_attribute("data-status", "done", timeout=20_000)
    expect(progress).to_have_attribute("value", "3")
    expect(page.locator("#count-issued")).to_have_text("2")
    expect(page.locator("#count-refused")).to_have_text("1")
    problem = page.get_by_role("row").filter(has_text="TAR-BAD")
    expect(problem).to_contain_text("unit_price")
    page.get_by_role("link", name=re.compile(r"^[A-Z0-9]{3}20\d{2}\d{9}$")).first.click()
    page.wait_for_url(re.compile(r".*/faturalar/[0-9a-f-]{36}$"))
    page.context.close()
