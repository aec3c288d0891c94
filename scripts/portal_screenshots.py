"""Screenshots of the portal's pages into docs/portal/ (PNG), in Debian's Chromium.

Against a running portal (``make run`` prints the address, the e-mail and the password)::

    ENTEGRATOR_PORTAL_PASSWORD=... uv run python scripts/portal_screenshots.py \\
        --base-url http://127.0.0.1:8000 --email demo@ornek.com.tr

The browser tests call :func:`take` on a portal they filled with documents
(``tests/web/test_portal_browser.py``; ``ENTEGRATOR_SCREENSHOTS=docs/portal`` writes there).
Nothing is downloaded: the browser is ``/usr/bin/chromium``.
"""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = "/usr/bin/chromium"
# (file name, path, phone-sized?)
PAGES = [
    ("giris", "/giris", False),
    ("panel", "/panel", False),
    ("giden", "/faturalar/giden", False),
    ("gelen", "/faturalar/gelen", False),
    ("hesap", "/hesap", False),
    ("kullanicilar", "/kullanicilar", False),
    ("fatura-yeni", "/faturalar/yeni", False),
    ("cariler", "/cariler", False),
    ("raporlar", "/raporlar", False),
    ("ayarlar", "/ayarlar", False),
    ("irsaliyeler-giden", "/irsaliyeler/giden", False),
    ("irsaliyeler-gelen", "/irsaliyeler/gelen", False),
    ("panel-telefon", "/panel", True),
    ("fatura-yeni-telefon", "/faturalar/yeni", True),
]


def take(
    base_url: str,
    email: str,
    password: str,
    out_dir: Path,
    *,
    invoice_paths: tuple[str, ...] = (),
    despatch_paths: tuple[str, ...] = (),
    browser: Browser | None = None,
) -> list[Path]:
    """Log in, then save a full-page screenshot of each page (and of ``invoice_paths``,
    named fatura-1, fatura-2…, and ``despatch_paths``, irsaliye-1…); the files written.
    ``browser``: one already running (the tests'), else Debian's Chromium is started."""
    from playwright.sync_api import sync_playwright

    if browser is not None:
        return _take(browser, base_url, email, password, out_dir, invoice_paths, despatch_paths)
    with sync_playwright() as p:
        started = p.chromium.launch(executable_path=CHROMIUM)
        try:
            return _take(started, base_url, email, password, out_dir, invoice_paths, despatch_paths)
        finally:
            started.close()


def _take(  # noqa: PLR0917 - take()'s arguments, passed on
    browser: Browser,
    base_url: str,
    email: str,
    password: str,
    out_dir: Path,
    invoice_paths: tuple[str, ...],
    despatch_paths: tuple[str, ...] = (),
) -> list[Path]:
    from playwright.sync_api import ViewportSize

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    pages = (
        list(PAGES)
        + [(f"fatura-{i}", path, False) for i, path in enumerate(invoice_paths, start=1)]
        + [(f"irsaliye-{i}", path, False) for i, path in enumerate(despatch_paths, start=1)]
    )
    for phone in (False, True):
        size: ViewportSize = (
            {"width": 390, "height": 844} if phone else {"width": 1280, "height": 900}
        )
        context = browser.new_context(viewport=size, locale="tr-TR")
        page = context.new_page()
        logged_in = False
        for name, path, for_phone in pages:
            if for_phone != phone:
                continue
            if name != "giris" and not logged_in:
                _log_in(page, base_url, email, password)
                logged_in = True
            page.goto(base_url + path)
            target = out_dir / f"{name}.png"
            page.screenshot(path=str(target), full_page=True)
            written.append(target)
        context.close()
    return written


def _log_in(page: Page, base_url: str, email: str, password: str) -> None:
    page.goto(base_url + "/giris")
    page.get_by_label("E-posta").fill(email)
    page.get_by_label("Parola").fill(password)
    page.get_by_role("button", name="Giriş yap").click()
    page.wait_for_url(re.compile(r".*/panel$"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--email", default="demo@ornek.com.tr")
    parser.add_argument("--password-env", default="ENTEGRATOR_PORTAL_PASSWORD")
    parser.add_argument("--out", type=Path, default=Path("docs/portal"))
    args = parser.parse_args()
    password = os.environ.get(args.password_env)
    if not password:
        raise SystemExit(f"set {args.password_env} to the user's password")
    for path in take(args.base_url, args.email, password, args.out):
        print(path)


if __name__ == "__main__":
    main()
