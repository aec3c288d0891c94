"""Helpers of the portal's tests: the API and the portal served together (as ``entegrator
serve`` does), portal users, logging in over HTTP, and documents to act on."""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx

from entegrator.documents import build_invoice
from entegrator.documents.model import InvoiceDraft
from entegrator.envelope.sbdh import build as build_envelope
from entegrator.envelope.zipping import pack
from entegrator.runtime import Runtime
from entegrator.signing import sign
from entegrator.store import aliases
from tests.clock import now
from tests.testing.platform import DEV_CA, EXAMPLE, TenantHandle, free_port, new_vkn

__all__ = [
    "PASSWORD",
    "csrf_of",
    "issue_earsiv",
    "login",
    "make_user",
    "receive_ticari",
    "serve_portal",
]

PASSWORD = "doğru-parola-123"


@contextlib.contextmanager
def serve_portal(runtime: Runtime) -> Iterator[str]:
    """The API with the portal at ``/`` on a loopback port, in a thread."""
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


def make_user(
    runtime: Runtime, tenant: TenantHandle, role: str = "muhasebe", password: str = PASSWORD
) -> str:
    """A portal user of ``tenant``; its e-mail."""
    email = f"{role}-{uuid.uuid4().hex[:8]}@example.com.tr"
    runtime.accounts.create_user(tenant.tenant_id, email=email, role=role, password=password)
    return email


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None, html[:500]
    return found.group(1)


def login(base_url: str, email: str, password: str = PASSWORD) -> httpx.Client:
    """A client logged in to the portal (its cookies kept)."""
    client = httpx.Client(base_url=base_url, timeout=60)
    form = client.get("/giris")
    answer = client.post(
        "/giris",
        data={"email": email, "password": password, "csrf_token": csrf_of(form.text)},
    )
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/panel"
    return client


def receive_ticari(runtime: Runtime, tenant: TenantHandle) -> str:
    """An incoming TICARIFATURA invoice delivered to ``tenant`` (through the inbound service,
    as GİB's delivery would); its document id."""
    pk = f"urn:mail:pk{tenant.vkn}@entegrator.example"
    with runtime.db.system() as conn:
        known = aliases.first_alias(conn, tenant.tenant_id, kind="PK", document="Invoice")
        if known is None:
            aliases.add_alias(conn, tenant.tenant_id, vkn_tckn=tenant.vkn, alias=pk, kind="PK")
        else:
            pk = known
    supplier = new_vkn()
    data: dict[str, Any] = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["supplier"]["vkn"] = supplier
    data["customer"]["vkn"] = tenant.vkn
    data |= {
        "profile": "TICARIFATURA",
        "number": f"ABC2026{uuid.uuid4().int % 10**9:09d}",
        "ettn": str(uuid.uuid4()).upper(),
    }
    xml = build_invoice(InvoiceDraft.model_validate(data))
    xml = sign(xml, DEV_CA.issue(identity=supplier, name="Satıcı", now=now()), signing_time=now())
    packed = pack(
        build_envelope(
            [xml],
            sender_alias=f"urn:mail:gb{supplier}@other.example",
            receiver_alias=pk,
            created=now(),
        )
    )
    received = runtime.inbound.receive(packed.name, packed.data, packed.md5)
    assert runtime.inbound.process_next(received.tenant_id)
    with httpx.Client(base_url=tenant.base_url, headers=tenant.headers, timeout=60) as api:
        items = api.get("/api/v1/incoming", params={"number": data["number"]}).json()["items"]
    return str(items[0]["id"])


def issue_earsiv(runtime: Runtime, tenant: TenantHandle) -> str:
    """A signed e-Arşiv invoice of ``tenant`` (queued for its report); its document id."""
    with httpx.Client(base_url=tenant.base_url, headers=tenant.headers, timeout=60) as api:
        draft = tenant.draft(profile="EARSIVFATURA", sending_type="ELEKTRONIK")
        draft["customer"]["contact"]["email"] = "alici@example.com.tr"
        answer = api.post("/api/v1/invoices", json=draft)
        assert answer.status_code == 201, answer.text
    runtime.signing.sign_pending(tenant.tenant_id)
    return str(answer.json()["id"])
