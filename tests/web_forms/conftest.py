"""The portal served with the API (as ``entegrator serve`` does), a tenant with a company and
its users of each role, logged in through ``/giris``."""

from __future__ import annotations

import contextlib
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from entegrator.runtime import Runtime
from entegrator.services import company
from tests.testing.platform import TenantHandle, free_port

COMPANY = {
    "tax_office": "Çankaya",
    "street": "Atatürk Blv. 1",
    "district": "Çankaya",
    "city": "Ankara",
    "email": "fatura@example.com.tr",
}
CHROMIUM = "/usr/bin/chromium"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@contextlib.contextmanager
def serve_portal(runtime: Runtime) -> Iterator[str]:
    import uvicorn

    from entegrator.api.app import create_app
    from entegrator.web.app import mount_portal

    app = create_app(runtime)
    mount_portal(app, runtime)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:  # pragma: no cover
            raise RuntimeError("the portal did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture(scope="session")
def portal_url(runtime: Runtime) -> Iterator[str]:
    with serve_portal(runtime) as url:
        yield url


@dataclass
class PortalUserHandle:
    tenant: TenantHandle
    email: str
    password: str
    url: str

    @contextlib.contextmanager
    def client(self) -> Iterator[httpx.Client]:
        """A browser-like client logged in through the login form."""
        with httpx.Client(base_url=self.url, timeout=60, follow_redirects=False) as client:
            page = client.get("/giris")
            token = CSRF.search(page.text)
            assert token is not None, page.text
            answer = client.post(
                "/giris",
                data={
                    "email": self.email,
                    "password": self.password,
                    "csrf_token": token.group(1),
                },
            )
            assert answer.status_code == 303, answer.text
            yield client


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found is not None, html[:2000]
    return found.group(1)


def portal_user(runtime: Runtime, tenant: TenantHandle, url: str, role: str) -> PortalUserHandle:
    email = f"{role}-{secrets.token_hex(4)}@example.com.tr"
    password = secrets.token_urlsafe(16)
    runtime.accounts.create_user(tenant.tenant_id, email=email, role=role, password=password)
    return PortalUserHandle(tenant, email, password, url)


@pytest.fixture
def portal_tenant(
    runtime: Runtime, make_tenant: Callable[..., TenantHandle], portal_url: str
) -> Callable[..., PortalUserHandle]:
    """A tenant with its company details; ``(role)`` gives one of its users."""
    tenant = make_tenant()
    company.save_details(runtime.db, tenant.tenant_id, COMPANY, actor="test")
    return lambda role="admin": portal_user(runtime, tenant, portal_url, role)


@pytest.fixture
def stranger(
    runtime: Runtime, make_tenant: Callable[..., TenantHandle], portal_url: str
) -> PortalUserHandle:
    """A user of another tenant."""
    return portal_user(runtime, make_tenant(), portal_url, "admin")


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (nothing is downloaded). Per module: Playwright's
    event loop runs in the test thread while it lives, where the job runner needs its own."""
    import os

    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM}")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


def logged_in_page(chromium: Any, user: PortalUserHandle) -> Any:
    """A new browser page, logged in through ``/giris`` with the user's e-mail and password."""
    context = chromium.new_context(base_url=user.url, locale="tr-TR", accept_downloads=True)
    page = context.new_page()
    page.goto("/giris")
    page.get_by_label("E-posta").fill(user.email)
    page.get_by_label("Parola").fill(user.password)
    page.get_by_role("button", name="Giriş yap").click()
    page.wait_for_url("**/panel")
    return page
