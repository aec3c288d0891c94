"""Across the network: an envelope sent to the GİB simulator reaches the platform's /gib
endpoint and becomes the receiving tenant's incoming invoice; a receiver that is down is
retried (1210) and given up on (1215)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from entegrator.client import verify_webhook
from entegrator.documents import build_invoice
from entegrator.documents.model import InvoiceDraft
from entegrator.envelope.sbdh import build as build_envelope
from entegrator.envelope.zipping import pack
from entegrator.gib.soap import SendDocument, build
from entegrator.gibsim.app import SERVICE, create_app
from entegrator.gibsim.service import Simulator
from entegrator.runtime import Runtime
from entegrator.signing import SigningKey, sign
from entegrator.store import repo
from tests.clock import now
from tests.gibsim.calls import envelope_status
from tests.signing.variants import VARIANTS, xmlsec1_sign
from tests.testing.platform import (
    DEV_CA,
    EXAMPLE,
    INBOUND_TOKEN,
    TenantHandle,
    free_port,
    new_vkn,
)

CA = DEV_CA


@pytest.fixture(scope="module")
def gib(database_url: str) -> Iterator[str]:
    import uvicorn

    sim = Simulator(database_url, max_attempts=4, retry_seconds=0.3, ca=DEV_CA)
    sim.create_schema()
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(sim, delivery_interval=0.05),
            host="127.0.0.1",
            port=port,
            log_level="warning",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
    sim.dispose()


def _integrator(
    gib: str, endpoint: str | None, ident: str | None = None, *, vkn: str | None = None
) -> tuple[str, str]:
    """Register an integrator at GİB (``vkn``: its own, the one its seal carries)."""
    ident = ident or f"int-{uuid.uuid4().hex[:8]}"
    r = httpx.post(
        f"{gib}/admin/integrators",
        json={
            "integrator_id": ident,
            "name": ident,
            "vkn": vkn or new_vkn(),
            "endpoint": endpoint,
            "delivery_token": INBOUND_TOKEN,
        },
    )
    assert r.status_code == 200, r.text
    return ident, r.json()["token"]


def _register(gib: str, vkn: str, integrator: str, alias: str, kind: str) -> None:
    r = httpx.post(
        f"{gib}/admin/users",
        json={
            "identifier": vkn,
            "title": f"Şirket {vkn}",
            "integrator_id": integrator,
            "aliases": [{"name": alias, "kind": kind}],
        },
    )
    assert r.status_code == 201, r.text


def _wait_for(gib: str, token: str, envelope_id: str, wanted: set[int]) -> int:
    deadline = time.monotonic() + 30
    seen = []
    while time.monotonic() < deadline:
        code = envelope_status(gib, token, envelope_id)
        seen.append(code)
        if code in wanted:
            return code
        time.sleep(0.05)
    raise AssertionError(f"status never reached {wanted}: {sorted(set(seen))}")


def _send_invoice(gib: str, buyer_vkn: str, buyer_pk: str) -> tuple[str, str, bytes]:
    """A supplier served by a fresh integrator sends one signed invoice; (envelope, token)."""
    sender_integrator, token = _integrator(gib, None)
    supplier = new_vkn()
    gb = f"urn:mail:gb{supplier}@a.example"
    _register(gib, supplier, sender_integrator, gb, "GB")
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["supplier"]["vkn"] = supplier
    data["customer"]["vkn"] = buyer_vkn
    data |= {"number": "NET2026000000001", "ettn": str(uuid.uuid4()).upper()}
    xml = sign(
        build_invoice(InvoiceDraft.model_validate(data)),
        CA.issue(identity=supplier, name="Satıcı", now=now()),
        signing_time=now(),
    )
    packed = pack(build_envelope([xml], sender_alias=gb, receiver_alias=buyer_pk, created=now()))
    ct, body = build(SendDocument(packed.name, packed.data, packed.md5))
    r = httpx.post(
        f"{gib}{SERVICE}",
        content=body,
        headers={"Content-Type": ct, "Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 200, r.text
    return packed.name[:-4], token, xml


def test_an_invoice_travels_through_gib_to_the_receiving_tenant(
    gib: str,
    base_url: str,
    tenant: TenantHandle,
    runtime: Runtime,
    run_jobs: Callable[[], None],
) -> None:
    receiver, _ = _integrator(gib, f"{base_url}/gib/EFatura")
    pk = f"urn:mail:pk{tenant.vkn}@b.example"
    _register(gib, tenant.vkn, receiver, pk, "PK")
    with runtime.db.system() as conn:
        repo.add_alias(conn, tenant.tenant_id, vkn_tckn=tenant.vkn, alias=pk, kind="PK")

    envelope_id, token, xml = _send_invoice(gib, tenant.vkn, pk)
    assert _wait_for(gib, token, envelope_id, {1220, 1210, 1215}) == 1220
    run_jobs()
    with tenant.client() as c:
        items = c.get("/api/v1/incoming").json()["items"]
        assert [i["number"] for i in items] == ["NET2026000000001"]
        assert c.get(f"/api/v1/incoming/{items[0]['id']}/xml").content == xml


def test_a_receiver_that_is_down_is_retried_then_given_up(gib: str, base_url: str) -> None:
    closed = f"http://127.0.0.1:{free_port()}/gib/EFatura"
    # Down for good: 1210 while retrying, 1215 when GİB stops.
    down, _ = _integrator(gib, closed)
    vkn = new_vkn()
    pk = f"urn:mail:pk{vkn}@down.example"
    _register(gib, vkn, down, pk, "PK")
    envelope_id, token, _ = _send_invoice(gib, vkn, pk)
    assert _wait_for(gib, token, envelope_id, {1210}) == 1210
    assert _wait_for(gib, token, envelope_id, {1215, 1220}) == 1215


def test_a_receiver_back_up_gets_its_envelope(
    gib: str,
    base_url: str,
    make_tenant: Callable[..., TenantHandle],
    runtime: Runtime,
    run_jobs: Callable[[], None],
) -> None:
    tenant = make_tenant()
    closed = f"http://127.0.0.1:{free_port()}/gib/EFatura"
    receiver, _ = _integrator(gib, closed)
    pk = f"urn:mail:pk{tenant.vkn}@later.example"
    _register(gib, tenant.vkn, receiver, pk, "PK")
    with runtime.db.system() as conn:
        repo.add_alias(conn, tenant.tenant_id, vkn_tckn=tenant.vkn, alias=pk, kind="PK")
    envelope_id, token, _ = _send_invoice(gib, tenant.vkn, pk)
    assert _wait_for(gib, token, envelope_id, {1210}) == 1210
    _integrator(gib, f"{base_url}/gib/EFatura", ident=receiver)  # the receiver is back
    assert _wait_for(gib, token, envelope_id, {1220, 1215}) == 1220
    run_jobs()
    with tenant.client() as c:
        assert len(c.get("/api/v1/incoming").json()["items"]) == 1


def _trading_pair(
    gib: str,
    base_url: str,
    make_tenant: Callable[..., TenantHandle],
    runtime: Runtime,
    tmp_path: Path,
    *,
    integrator_seal: SigningKey | None = None,
    on_file: str | None = None,
) -> tuple[TenantHandle, TenantHandle, Runtime]:
    """A seller and a buyer on this platform (GB and PK aliases each), registered with GİB as
    served by it, and a runtime of the same installation with GİB configured (its workers).

    With ``integrator_seal`` the installation has its own seal and the seller none: the
    seller's invoices are signed with the integrator's seal. GİB has ``on_file`` as the
    platform's VKN (default: the seal's)."""
    from entegrator.signing.certs import to_pkcs12
    from tests.testing.platform import make_settings

    platform, token = _integrator(
        gib,
        f"{base_url}/gib/EFatura",
        vkn=on_file or (integrator_seal.identity if integrator_seal else None),
    )
    seller, buyer = make_tenant(seal=integrator_seal is None), make_tenant()
    for who in (seller, buyer):  # each can send (GB) and receive (PK)
        for kind in ("GB", "PK"):
            alias = f"urn:mail:{kind.lower()}{who.vkn}@platform.example"
            _register(gib, who.vkn, platform, alias, kind)
            with runtime.db.system() as conn:
                repo.add_alias(conn, who.tenant_id, vkn_tckn=who.vkn, alias=alias, kind=kind)
    own_seal: dict[str, Path] = {}
    if integrator_seal is not None:
        own_seal["integrator_seal"] = tmp_path / "integrator.p12"
        own_seal["integrator_seal_password_file"] = tmp_path / "integrator.pass"
        own_seal["integrator_seal"].write_bytes(to_pkcs12(integrator_seal, b"parola"))
        own_seal["integrator_seal_password_file"].write_bytes(b"parola\n")
    sending = Runtime.from_settings(
        make_settings(
            runtime.database_url,
            tmp_path,
            gib_url=f"{gib}{SERVICE}",
            gib_token=token,
            gib_user_list_url=f"{gib}/EFaturaMerkez",
            webhook_allow_private=True,  # the ERPs of these tests listen on loopback
            **own_seal,
        )
    )
    assert sending.sending.refresh_user_list() >= 2
    return seller, buyer, sending


Pair = tuple[TenantHandle, TenantHandle, Runtime]


@pytest.fixture
def pair(
    gib: str,
    base_url: str,
    make_tenant: Callable[..., TenantHandle],
    runtime: Runtime,
    tmp_path: Path,
) -> Iterator[Pair]:
    """(seller, buyer, sending runtime): see ``_trading_pair``."""
    seller, buyer, sending = _trading_pair(gib, base_url, make_tenant, runtime, tmp_path)
    yield seller, buyer, sending
    sending.close()


def test_an_issued_invoice_is_sent_through_gib_and_filed_at_the_buyer(
    pair: Pair,
    gib: str,
) -> None:
    from tests.testing.platform import drain

    seller, buyer, sending = pair
    with seller.client() as c:
        to_buyer = seller.issue(c, customer=dict(seller.draft()["customer"], vkn=buyer.vkn))
        stranger = seller.issue(c)  # 7047649710 is not a registered user
    drain(sending)  # sign, envelope, send
    with seller.client() as c:
        sent = c.get(f"/api/v1/invoices/{to_buyer['id']}").json()
        # Sent (1000); or already further when GİB's pushed answers (1200, even the buyer's
        # 1300) came before our own record of the send, which then adds nothing (a status
        # never moves back).
        assert sent["status"] in ("sent", "processing", "delivered"), sent
        types = [e["type"] for e in sent["events"]]
        assert types[types.index("enveloped") - 1 :][:2] == ["queued", "enveloped"]
        assert types[types.index("enveloped") + 1] in ("sent", "gib-status"), types
        waiting = c.get(f"/api/v1/invoices/{stranger['id']}").json()
        assert (waiting["status"], waiting["status_code"]) == ("queued", "not-registered")
    # GİB processes it and delivers it to the buyer's integrator (this same platform),
    # whose system response (S_APR 1200) travels back through GİB, which forwards it to
    # the seller's integrator (no polling here): delivered, 1300.
    # The buyer files the envelope and answers it; the seller files the system responses.
    _drain_until(sending, lambda: _doc_status(seller, to_buyer)[0] == "delivered")
    with buyer.client() as c:
        incoming = c.get("/api/v1/incoming").json()["items"]
    assert [i["number"] for i in incoming] == [to_buyer["number"]]
    assert incoming[0]["sender"]["id"] == seller.vkn
    with seller.client() as c:
        events = c.get(f"/api/v1/invoices/{to_buyer['id']}").json()["events"]
    codes = [e["data"].get("code") for e in events if e["type"] == "gib-status"]
    assert codes[-1] == 1300
    assert set(codes) <= {1200, 1220, 1300}


def _drain_until(
    sending: Runtime, done: Callable[[], Any], *, poll: uuid.UUID | None = None
) -> None:
    """Run the workers (and, for ``poll``'s tenant, ask GİB) until ``done()`` holds."""
    from tests.testing.platform import drain

    deadline = time.monotonic() + 30
    while not done():
        assert time.monotonic() < deadline, "timed out"
        drain(sending)
        if poll is not None:
            sending.sending.poll(poll)
        time.sleep(0.1)


def _doc_status(tenant: TenantHandle, doc: dict[str, Any]) -> tuple[str, str | None]:
    with tenant.client() as c:
        detail = c.get(f"/api/v1/invoices/{doc['id']}").json()
    return detail["status"], detail["status_code"]


def test_gib_down_while_sending_then_the_same_envelope_once(
    pair: Pair,
    gib: str,
    runtime: Runtime,
) -> None:
    from sqlalchemy import text

    from tests.testing.platform import drain

    seller, buyer, sending = pair
    assert httpx.put(f"{gib}/admin/faults", json={"outage": True}).status_code == 200
    try:
        with seller.client() as c:
            doc = seller.issue(c, customer=dict(seller.draft()["customer"], vkn=buyer.vkn))
        drain(sending)
        assert _doc_status(seller, doc) == ("queued", "enveloped")  # waiting, not lost
        with runtime.db.tenant(seller.tenant_id) as conn:
            row = conn.execute(
                text(
                    "SELECT envelope_id, attempts, status, last_error FROM "
                    "outbound_envelopes WHERE document_id = :d"
                ),
                {"d": uuid.UUID(doc["id"])},
            ).one()
        assert (row.attempts, row.status) == (1, "pending")
        assert "GİB" in row.last_error or "HTTP 503" in row.last_error
    finally:
        httpx.put(f"{gib}/admin/faults", json={"outage": False})
    # The retry is due: sent, the same envelope.
    with runtime.db.system() as conn:
        conn.execute(
            text("UPDATE outbound_envelopes SET next_attempt_at = now() WHERE envelope_id = :e"),
            {"e": row.envelope_id},
        )
    assert sending.sending.send_pending(seller.tenant_id) == 1
    assert _doc_status(seller, doc) == ("sent", "1000")
    # An answer lost on the way (GİB got it, we did not hear): the resend is refused as a
    # duplicate (2001) and counts as sent; the buyer gets one invoice.
    with runtime.db.system() as conn:
        conn.execute(
            text(
                "UPDATE outbound_envelopes SET status = 'pending', "
                "next_attempt_at = now() WHERE envelope_id = :e"
            ),
            {"e": row.envelope_id},
        )
    assert sending.sending.send_pending(seller.tenant_id) == 1
    _drain_until(sending, lambda: _doc_status(seller, doc)[0] == "delivered", poll=seller.tenant_id)
    with buyer.client() as c:
        assert len(c.get("/api/v1/incoming").json()["items"]) == 1
    with seller.client() as c:
        events = c.get(f"/api/v1/invoices/{doc['id']}").json()["events"]
    assert [e["type"] for e in events].count("sent") == 1  # the resend added nothing
    assert [e["type"] for e in events].count("enveloped") == 1  # one envelope


def test_kabul_and_red_travel_back_to_the_seller(
    pair: Pair,
) -> None:
    import datetime as dt

    seller, buyer, sending = pair
    customer = dict(seller.draft()["customer"], vkn=buyer.vkn)
    with seller.client() as c:
        ours = [seller.issue(c, profile="TICARIFATURA", customer=customer) for _ in range(3)]
        plain = seller.issue(c, customer=customer)  # TEMELFATURA: takes no answer
    with buyer.client() as c:
        _drain_until(sending, lambda: len(c.get("/api/v1/incoming").json()["items"]) >= 4)
        incoming = {i["number"]: i for i in c.get("/api/v1/incoming").json()["items"]}
        theirs = [incoming[o["number"]] for o in ours]
        no_reason = c.post(f"/api/v1/incoming/{theirs[0]['id']}/reject")
        assert no_reason.status_code == 422
        red = c.post(f"/api/v1/incoming/{theirs[0]['id']}/reject", json={"reason": "Fiyat farkı"})
        assert red.status_code == 200, red.text
        assert red.json()["status"] == "rejected"
        kabul = c.post(f"/api/v1/incoming/{theirs[1]['id']}/accept")
        assert kabul.json()["status"] == "accepted"
        again = c.post(f"/api/v1/incoming/{theirs[1]['id']}/accept")
        assert again.status_code == 409
        temel = c.post(f"/api/v1/incoming/{incoming[plain['number']]['id']}/accept")
        assert temel.status_code == 409
    _drain_until(
        sending,
        lambda: (
            (_doc_status(seller, ours[0])[0], _doc_status(seller, ours[1])[0])
            == ("rejected", "accepted")
        ),
        poll=seller.tenant_id,
    )
    with seller.client() as c:
        rejected = c.get(f"/api/v1/invoices/{ours[0]['id']}").json()
    assert rejected["status_detail"] == "Fiyat farkı"
    assert rejected["events"][-1]["data"]["answer"] == "RED"
    # Eight days later, the third one (never answered) counts as accepted on both sides.
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=9)
    assert sending.answers.close_windows(now=later) >= 2
    assert _doc_status(seller, ours[2]) == ("accepted", "no-answer")
    with buyer.client() as c:
        third = c.get(f"/api/v1/incoming/{theirs[2]['id']}").json()
        assert (third["status"], third["status_code"]) == ("accepted", "no-answer")
        assert c.post(f"/api/v1/incoming/{theirs[2]['id']}/accept").status_code == 409


def test_invoices_are_routed_by_gibs_user_list_when_issued(
    pair: Pair,
    gib: str,
) -> None:
    """With the user list at hand, a buyer GİB does not list gets an e-Arşiv invoice (its own
    series, never enveloped); an e-Arşiv invoice for a registered buyer, or an ERP's XML
    with the wrong profile, is refused with a code saying which."""
    from tests.testing.platform import drain, serve

    seller, buyer, sending = pair
    with serve(sending) as routed:
        api = httpx.Client(base_url=routed, headers=seller.headers, timeout=60)
        stranger = api.post("/api/v1/invoices", json=seller.draft())  # 7047649710
        assert stranger.status_code == 201, stranger.text
        body = stranger.json()
        assert body["number"].startswith("EAR")
        assert [w["code"] for w in body["warnings"]] == ["routed-earsiv"]
        # A user with no mailbox (only a GB alias) cannot receive: e-Arşiv too.
        sender_only = new_vkn()
        _register(gib, sender_only, "GTB", f"urn:mail:gb{sender_only}@x.example", "GB")
        assert sending.sending.refresh_user_list() >= 3
        no_pk = api.post(
            "/api/v1/invoices",
            json=seller.draft(customer=dict(seller.draft()["customer"], vkn=sender_only)),
        )
        assert [w["code"] for w in no_pk.json()["warnings"]] == ["routed-earsiv"]
        registered = dict(seller.draft()["customer"], vkn=buyer.vkn)
        efatura = api.post("/api/v1/invoices", json=seller.draft(customer=registered))
        assert efatura.status_code == 201 and efatura.json()["number"].startswith("EFA")
        wrong = api.post(
            "/api/v1/invoices", json=seller.draft(customer=registered, profile="EARSIVFATURA")
        )
        assert wrong.status_code == 422
        assert wrong.json()["error"]["code"] == "BUYER_IS_EFATURA_USER"
        drain(sending)
        earsiv = api.get(f"/api/v1/invoices/{body['id']}").json()
        assert (earsiv["profile"], earsiv["status"], earsiv["status_code"]) == (
            "EARSIVFATURA",
            "queued",
            "earsiv-report",
        )
        assert "enveloped" not in [e["type"] for e in earsiv["events"]]
        signed = api.get(f"/api/v1/invoices/{body['id']}/xml").content
        assert sending.validator.validate(signed).valid
        # The ERP's own XML keeps its profile: TEMELFATURA to a stranger is refused.
        draft = seller.draft(number="EFA2026000000900", ettn=str(uuid.uuid4()))
        xml = build_invoice(InvoiceDraft.model_validate(draft))
        refused = api.post(
            "/api/v1/invoices", content=xml, headers={"Content-Type": "application/xml"}
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["code"] == "BUYER_NOT_EFATURA_USER"
        api.close()


class _LoopbackServer:
    """An HTTP server on a loopback port, in a thread; ``answer`` decides each POST."""

    path = "/"

    def __init__(self) -> None:
        import http.server

        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                code, content_type, content = outer.answer(dict(self.headers.items()), body)
                self.send_response(code)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{self.path}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, headers: dict[str, str], body: bytes) -> tuple[int, str, bytes]:
        raise NotImplementedError

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _ErpEndpoint(_LoopbackServer):
    """An ERP's webhook receiver on loopback: records what arrives; can fail the first N."""

    path = "/hooks"

    def __init__(self, fail_first: int = 0) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.fail_first = fail_first
        super().__init__()

    def answer(self, headers: dict[str, str], body: bytes) -> tuple[int, str, bytes]:
        self.received.append((headers, body))
        return (500 if len(self.received) <= self.fail_first else 204), "text/plain", b""


def _verify(secret: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    # The client library's helper, as an ERP would check it.
    assert verify_webhook(secret, headers["Entegrator-Signature"], body), "bad signature"
    return dict(json.loads(body))


def _subscribe(url: str, who: TenantHandle, erp: _ErpEndpoint, events: list[str]) -> dict[str, Any]:
    with httpx.Client(base_url=url, headers=who.headers) as c:
        bad = c.post("/api/v1/webhooks", json={"url": erp.url, "events": ["x"]})
        assert bad.status_code == 422
        made = c.post("/api/v1/webhooks", json={"url": erp.url, "events": events})
        assert made.status_code == 201, made.text
        assert c.get("/api/v1/webhooks").json()["items"][0]["events"] == events
        return dict(made.json())


def test_webhooks_tell_both_erps_signed_and_retried(
    pair: Pair,
    runtime: Runtime,
) -> None:
    from sqlalchemy import text

    from tests.testing.platform import drain, serve

    seller, buyer, sending = pair
    erp_seller, erp_buyer = _ErpEndpoint(), _ErpEndpoint(fail_first=1)
    try:
        # Loopback endpoints are refused unless the installation allows private networks.
        with seller.client() as c:
            refused = c.post("/api/v1/webhooks", json={"url": erp_seller.url})
            assert refused.status_code == 422
            assert refused.json()["error"]["code"] == "WEBHOOK_INVALID"
        viewer = seller.key(runtime, "viewer")
        with serve(sending) as url:
            hooks = {
                seller.vkn: _subscribe(url, seller, erp_seller, ["document.status"]),
                buyer.vkn: _subscribe(url, buyer, erp_buyer, ["document.received"]),
            }
            denied = httpx.get(
                f"{url}/api/v1/webhooks", headers={"Authorization": f"Bearer {viewer}"}
            )
            assert denied.status_code == 403

        with seller.client() as c:
            doc = seller.issue(c, customer=dict(seller.draft()["customer"], vkn=buyer.vkn))
        _drain_until(
            sending,
            lambda: _doc_status(seller, doc)[0] == "delivered" and len(erp_buyer.received) >= 1,
        )
        drain(sending)

        # The seller's ERP heard each status GİB gave, in order, each signed.
        statuses = [
            _verify(hooks[seller.vkn]["secret"], h, b)["document"] for h, b in erp_seller.received
        ]
        assert {s["id"] for s in statuses} == {doc["id"]}
        # Sent first, unless GİB's pushed 1200 came before our own record of the send (which
        # then adds nothing: a status never moves back); in the lifecycle's order, to delivered.
        order = ["sent", "processing", "delivered"]
        steps = [order.index(s["status"]) for s in statuses]
        assert statuses[0]["status"] in ("sent", "processing"), statuses
        assert steps == sorted(steps), statuses
        assert statuses[-1]["status"] == "delivered"
        # The buyer's ERP failed the first time: the notification is kept and retried with
        # the same delivery id.
        headers, body = erp_buyer.received[0]
        first = _verify(hooks[buyer.vkn]["secret"], headers, body)
        assert (first["event"], first["document"]["number"]) == ("document.received", doc["number"])
        assert first["document"]["direction"] == "in"
        with buyer.client() as c:
            hook_id = hooks[buyer.vkn]["id"]
            listed = c.get(f"/api/v1/webhooks/{hook_id}/deliveries").json()["items"]
        assert [(d["status"], d["attempts"], d["last_status"]) for d in listed] == [
            ("pending", 1, 500)
        ]
        with runtime.db.system() as conn:
            conn.execute(text("UPDATE webhook_deliveries SET next_attempt_at = now()"))
        sending.webhooks.deliver_pending(buyer.tenant_id)
        assert len(erp_buyer.received) == 2
        assert erp_buyer.received[1][0]["Entegrator-Delivery"] == headers["Entegrator-Delivery"]
        with buyer.client() as c:
            listed = c.get(f"/api/v1/webhooks/{hook_id}/deliveries").json()["items"]
            assert [(d["status"], d["attempts"]) for d in listed] == [("delivered", 2)]
            assert c.delete(f"/api/v1/webhooks/{hook_id}").status_code == 204
            assert c.delete(f"/api/v1/webhooks/{hook_id}").status_code == 404
            assert c.get(f"/api/v1/webhooks/{uuid.uuid4()}/deliveries").status_code == 404
    finally:
        erp_seller.close()
        erp_buyer.close()


def _until(
    seller: TenantHandle, doc: dict[str, Any], sending: Runtime, wanted: str, *, poll: bool
) -> tuple[str, str | None]:
    _drain_until(
        sending,
        lambda: _doc_status(seller, doc)[0] == wanted,
        poll=seller.tenant_id if poll else None,
    )
    return _doc_status(seller, doc)


def test_an_invoice_sealed_by_the_integrator_is_filed_with_its_warning(
    gib: str,
    base_url: str,
    make_tenant: Callable[..., TenantHandle],
    runtime: Runtime,
    tmp_path: Path,
) -> None:
    """The seller has no seal: the installation signs with its integrator seal, whose VKN
    GİB has on file; GİB passes it, and the buyer files it keeping the sig-integrator
    warning with it."""
    seal = CA.issue(identity=new_vkn(), name="Platform Entegratör A.Ş.", now=now())
    seller, buyer, sending = _trading_pair(
        gib, base_url, make_tenant, runtime, tmp_path, integrator_seal=seal
    )
    try:
        with seller.client() as c:
            doc = seller.issue(c, customer=dict(seller.draft()["customer"], vkn=buyer.vkn))
        _drain_until(sending, lambda: _doc_status(seller, doc)[0] == "delivered")
        with seller.client() as c:
            events = c.get(f"/api/v1/invoices/{doc['id']}").json()["events"]
        assert next(e for e in events if e["type"] == "signed")["data"]["on_behalf"] is True
        with buyer.client() as c:
            items = c.get("/api/v1/incoming", params={"number": doc["number"]}).json()["items"]
            assert [i["sender"]["id"] for i in items] == [seller.vkn]
            filed = c.get(f"/api/v1/incoming/{items[0]['id']}").json()
        received = next(e for e in filed["events"] if e["type"] == "received")
        warnings = received["data"]["warnings"]
        assert [(w["code"], w["severity"]) for w in warnings] == [("sig-integrator", "warning")]
        assert seal.identity and seal.identity in warnings[0]["message_en"]
    finally:
        sending.close()


def test_a_seal_gib_has_not_on_file_is_refused_with_1176(
    gib: str,
    base_url: str,
    make_tenant: Callable[..., TenantHandle],
    runtime: Runtime,
    tmp_path: Path,
) -> None:
    """A valid seal (the development CA's) whose VKN is neither the issuer's nor the one GİB
    has on file for the sending integrator: GİB refuses it (1176); nothing reaches the buyer."""
    unrelated = CA.issue(identity=new_vkn(), name="İlgisiz A.Ş.", now=now())
    seller, buyer, sending = _trading_pair(
        gib, base_url, make_tenant, runtime, tmp_path, integrator_seal=unrelated, on_file=new_vkn()
    )
    try:
        with seller.client() as c:
            doc = seller.issue(c, customer=dict(seller.draft()["customer"], vkn=buyer.vkn))
        refused = _until(seller, doc, sending, "rejected_by_gib", poll=False)
        assert refused == ("rejected_by_gib", "1176")
        with buyer.client() as c:
            found = c.get("/api/v1/incoming", params={"number": doc["number"]}).json()
        assert found["items"] == []
    finally:
        sending.close()


def test_an_alias_served_by_another_integrator_is_refused(
    pair: Pair,
    gib: str,
) -> None:
    """The seller's GB alias now belongs to another integrator at GİB: GİB refuses the
    envelope (1171) and says so in its system response; the invoice carries the code."""
    seller, buyer, sending = pair
    other, _ = _integrator(gib, None)
    _register(gib, seller.vkn, other, f"urn:mail:gb{seller.vkn}@platform.example", "GB")
    with seller.client() as c:
        doc = seller.issue(c, customer=dict(seller.draft()["customer"], vkn=buyer.vkn))
    # GİB's system response tells us (pushed; no polling here).
    refused = _until(seller, doc, sending, "rejected_by_gib", poll=False)
    assert refused == ("rejected_by_gib", "1171")
    with buyer.client() as c:
        assert c.get("/api/v1/incoming", params={"number": doc["number"]}).json()["items"] == []


@pytest.mark.parametrize("damage", ["unsigned", "not-a-zip"])
def test_a_malformed_or_unsigned_envelope_gets_gibs_code(
    pair: Pair,
    damage: str,
    gib: str,
    runtime: Runtime,
) -> None:
    """An envelope GİB cannot accept (a packaging fault on our side, simulated by replacing
    the stored envelope before it is sent) comes back with GİB's code on the invoice."""
    import hashlib

    from sqlalchemy import text

    from tests.testing.platform import drain

    seller, buyer, sending = pair
    assert httpx.put(f"{gib}/admin/faults", json={"outage": True}).status_code == 200
    try:
        with seller.client() as c:
            doc = seller.issue(c, customer=dict(seller.draft()["customer"], vkn=buyer.vkn))
        drain(sending)  # signed and enveloped; the send waits for GİB
    finally:
        httpx.put(f"{gib}/admin/faults", json={"outage": False})
    with runtime.db.tenant(seller.tenant_id) as conn:
        row = conn.execute(
            text("SELECT envelope_id, file_name FROM outbound_envelopes WHERE document_id = :d"),
            {"d": uuid.UUID(doc["id"])},
        ).one()
        unsigned = build_invoice(
            InvoiceDraft.model_validate(
                seller.draft(
                    customer=dict(seller.draft()["customer"], vkn=buyer.vkn),
                    number=doc["number"],
                    ettn=doc["ettn"],
                )
            )
        )
        data = (
            pack(
                build_envelope(
                    [unsigned],
                    sender_alias=f"urn:mail:gb{seller.vkn}@platform.example",
                    receiver_alias=f"urn:mail:pk{buyer.vkn}@platform.example",
                    envelope_id=row.envelope_id,
                    created=now(),
                )
            ).data
            if damage == "unsigned"
            else b"this is not a zip file"
        )
        conn.execute(
            text(
                "UPDATE outbound_envelopes SET data = :d, md5 = :m, next_attempt_at = now() "
                "WHERE tenant_id = :t AND envelope_id = :e"
            ),
            {
                "d": data,
                "m": hashlib.md5(data).hexdigest(),
                "t": seller.tenant_id,
                "e": row.envelope_id,
            },
        )
    assert sending.sending.wake_due() >= 1  # as the worker's every-minute job does
    # GİB answers an envelope it can read with a system response; one that is not even a
    # zip names no alias to answer: the sender learns it by asking (getApplicationResponse).
    status, code = _until(seller, doc, sending, "rejected_by_gib", poll=damage == "not-a-zip")
    expected = {"unsigned": {"1150", "1177"}, "not-a-zip": {"1110", "1130"}}[damage]
    assert code in expected, (status, code)
    with seller.client() as c:
        events = c.get(f"/api/v1/invoices/{doc['id']}").json()["events"]
    assert events[-1]["data"]["code"] == int(code)


def test_a_return_travels_back_as_an_iade_invoice(
    pair: Pair,
    runtime: Runtime,
) -> None:
    """The IADE flow of a TEMELFATURA: the buyer invoices the goods back with an IADE
    invoice naming the returned invoice; the seller receives it like any invoice."""
    from sqlalchemy import text

    seller, buyer, sending = pair
    with seller.client() as c:
        sale = seller.issue(c, customer=dict(seller.draft()["customer"], vkn=buyer.vkn))
    _until(seller, sale, sending, "delivered", poll=False)
    with runtime.db.tenant(seller.tenant_id) as conn:
        issued = conn.execute(
            text("SELECT issue_date FROM documents WHERE document_id = :d"),
            {"d": uuid.UUID(sale["id"])},
        ).scalar_one()
    back = seller.draft(
        type="IADE",
        supplier=dict(seller.draft()["supplier"], vkn=buyer.vkn),
        customer=dict(seller.draft()["customer"], vkn=seller.vkn),
        billing_references=[{"id": sale["number"], "issue_date": issued.isoformat()}],
    )
    with buyer.client() as c:
        r = c.post("/api/v1/invoices", json=back)
        assert r.status_code == 201, r.text
        iade = r.json()
    _until(buyer, iade, sending, "delivered", poll=False)
    with seller.client() as c:
        items = c.get("/api/v1/incoming", params={"type": "IADE"}).json()["items"]
        assert [i["number"] for i in items] == [iade["number"]]
        xml = c.get(f"/api/v1/incoming/{items[0]['id']}/xml").content
    assert sale["number"].encode() in xml  # the returned invoice is named in it


def test_answers_gib_lost_mean_deliveries_again_and_one_document(
    pair: Pair,
    gib: str,
    runtime: Runtime,
) -> None:
    """GİB delivers, the receiver stores, the answer is lost (dropped-delivery fault): GİB
    delivers the same envelopes again, and each side files each envelope once."""
    from sqlalchemy import text

    seller, buyer, sending = pair
    try:
        faults = {"drop_deliveries": 3}
        assert httpx.put(f"{gib}/admin/faults", json=faults).status_code == 200
        with seller.client() as c:
            doc = seller.issue(c, customer=dict(seller.draft()["customer"], vkn=buyer.vkn))
        _until(seller, doc, sending, "delivered", poll=False)
        assert httpx.get(f"{gib}/admin/faults").json()["drop_deliveries"] == 0  # all taken
        with buyer.client() as c:
            found = c.get("/api/v1/incoming", params={"number": doc["number"]}).json()
        assert len(found["items"]) == 1
        with runtime.db.system() as conn:
            stored = conn.execute(
                text(
                    "SELECT count(*), count(DISTINCT envelope_id) FROM inbound_envelopes "
                    "WHERE tenant_id IN (:s, :b)"
                ),
                {"s": seller.tenant_id, "b": buyer.tenant_id},
            ).one()
        assert stored[0] == stored[1]  # no envelope stored twice
        with seller.client() as c:
            events = c.get(f"/api/v1/invoices/{doc['id']}").json()["events"]
        codes = [e["data"]["code"] for e in events if e["type"] == "gib-status"]
        assert codes[-1] == 1300 and len(codes) == len(set(codes))  # no status twice
    finally:
        httpx.put(f"{gib}/admin/faults", json={})


class _SlowProxy(_LoopbackServer):
    """A receiving integrator that answers slowly: waits, then passes the request on."""

    path = "/gib/EFatura"

    def __init__(self, target: str, delay: float) -> None:
        self.target = target
        self.delay = delay
        super().__init__()

    def answer(self, headers: dict[str, str], body: bytes) -> tuple[int, str, bytes]:
        time.sleep(self.delay)
        headers = {k: v for k, v in headers.items() if k.lower() != "host"}
        reply = httpx.post(self.target, content=body, headers=headers, timeout=30)
        return reply.status_code, reply.headers.get("content-type", "text/xml"), reply.content


def test_a_slow_receiver_is_retried_and_files_the_invoice_once(
    gib: str,
    base_url: str,
    make_tenant: Callable[..., TenantHandle],
    runtime: Runtime,
    run_jobs: Callable[[], None],
) -> None:
    """A receiver slower than GİB waits for (slow-receiver fault): 1210 and retried; the
    receiver had stored the first delivery all the same, and files the invoice once."""
    tenant = make_tenant()
    proxy = _SlowProxy(f"{base_url}/gib/EFatura", delay=1.0)
    try:
        receiver, _ = _integrator(gib, proxy.url)
        pk = f"urn:mail:pk{tenant.vkn}@slow.example"
        _register(gib, tenant.vkn, receiver, pk, "PK")
        with runtime.db.system() as conn:
            repo.add_alias(conn, tenant.tenant_id, vkn_tckn=tenant.vkn, alias=pk, kind="PK")
        httpx.put(f"{gib}/admin/faults", json={"delivery_timeout_ms": 300})
        envelope_id, token, _ = _send_invoice(gib, tenant.vkn, pk)
        assert _wait_for(gib, token, envelope_id, {1210, 1220}) == 1210
        httpx.put(f"{gib}/admin/faults", json={})  # GİB waits long enough again
        assert _wait_for(gib, token, envelope_id, {1220, 1215}) == 1220
        run_jobs()
        with tenant.client() as c:
            assert len(c.get("/api/v1/incoming").json()["items"]) == 1
    finally:
        httpx.put(f"{gib}/admin/faults", json={})
        proxy.close()


def test_an_export_invoice_goes_to_customs_at_its_fixed_alias(
    pair: Pair,
    runtime: Runtime,
) -> None:
    """IHRACAT goes to the Ministry of Trade (1460415308) at urn:mail:ihracatpk@gtb.gov.tr,
    whatever the user list says; customs' system response settles it (1300)."""
    from sqlalchemy import text

    seller, _buyer, sending = pair
    export = json.loads(
        (EXAMPLE.parents[1] / "invoice" / "ihracat-istisna.json").read_text(encoding="utf-8")
    )
    export = {k: v for k, v in export.items() if k not in ("number", "ettn")}
    export["supplier"]["vkn"] = seller.vkn
    with seller.client() as c:
        r = c.post("/api/v1/invoices", json=export)
        assert r.status_code == 201, r.text
        doc = r.json()
    assert _until(seller, doc, sending, "delivered", poll=False) == ("delivered", "1300")
    with runtime.db.tenant(seller.tenant_id) as conn:
        alias = conn.execute(
            text("SELECT receiver_alias FROM outbound_envelopes WHERE document_id = :d"),
            {"d": uuid.UUID(doc["id"])},
        ).scalar_one()
    assert alias == "urn:mail:ihracatpk@gtb.gov.tr"


# Every variant whose signature findings are at most warnings ...
_SIGNATURE_VARIANTS = sorted(
    name for name, v in VARIANTS.items() if set(v.expected) <= {"sig-reference-type"}
)
# ... of which GİB's own schema refuses some (1160): an InclusiveNamespaces list inside
# SignedInfo's CanonicalizationMethod (xmldsig's strict wildcard there; GİB's package declares
# no such element), and xml:* attributes on the invoice element.
_REFUSED_BY_GIBS_SCHEMA = {
    "exclusive-comments-prefixlist",
    "xml-attributes-c14n10",
    "xml-attributes-c14n11",
    "xml-attributes-exclusive",
}


@pytest.mark.parametrize("on_behalf", [False, True], ids=["issuer-seal", "integrator-seal"])
def test_signatures_made_by_other_software_travel_and_are_filed_with_their_warnings(  # noqa: PLR0917
    gib: str,
    base_url: str,
    tenant: TenantHandle,
    runtime: Runtime,
    run_jobs: Callable[[], None],
    tmp_path: Path,
    on_behalf: bool,
) -> None:
    """Invoices signed by libxmlsec1 in every variant real software uses (exclusive and
    with-comments canonicalisation, C14N 1.1, SHA-384/512, ECDSA, each SignedProperties Type,
    certificate digests), by the issuer's seal or by the sending integrator's on its behalf:
    GİB (the simulator) accepts each, and the buyer's platform files each, keeping its
    warnings. None of them is refused, by GİB or by us."""
    receiver, _ = _integrator(gib, f"{base_url}/gib/EFatura")
    pk = f"urn:mail:pk{tenant.vkn}@b.example"
    _register(gib, tenant.vkn, receiver, pk, "PK")
    with runtime.db.system() as conn:
        repo.add_alias(conn, tenant.tenant_id, vkn_tckn=tenant.vkn, alias=pk, kind="PK")
    integrator_vkn = new_vkn()
    sender_integrator, token = _integrator(gib, None, vkn=integrator_vkn)
    sent: dict[str, tuple[str, str, set[str]]] = {}  # number: (variant, envelope, warnings)
    for i, name in enumerate(_SIGNATURE_VARIANTS):
        variant = VARIANTS[name]
        supplier = new_vkn()
        gb = f"urn:mail:gb{supplier}@a.example"
        _register(gib, supplier, sender_integrator, gb, "GB")
        data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
        data["supplier"]["vkn"] = supplier
        data["customer"]["vkn"] = tenant.vkn
        number = f"VAR2026{i + (500 if on_behalf else 100):09d}"
        data |= {"number": number, "ettn": str(uuid.uuid4()).upper()}
        xml = build_invoice(InvoiceDraft.model_validate(data))
        signer = integrator_vkn if on_behalf else supplier
        seal = CA.issue(identity=signer, name="İmzacı A.Ş.", key_type=variant.key_type, now=now())
        signed = xmlsec1_sign(xml, seal, variant, tmp_path, now=now(), on_behalf=on_behalf)
        packed = pack(build_envelope([signed], sender_alias=gb, receiver_alias=pk, created=now()))
        ct, body = build(SendDocument(packed.name, packed.data, packed.md5))
        r = httpx.post(
            f"{gib}{SERVICE}",
            content=body,
            headers={"Content-Type": ct, "Authorization": f"Bearer {token}"},
        )
        assert r.status_code == 200, (name, r.text)
        # At the buyer the sending integrator is nobody we know: any other signer is noted.
        expected = set(variant.expected) | ({"sig-identity"} if on_behalf else set())
        sent[number] = (name, packed.name[:-4], expected)
    outcomes = {1220, 1210, 1215, 1160, 1150, 1176, 1177}
    for name, envelope_id, _ in sent.values():
        wanted = 1160 if name in _REFUSED_BY_GIBS_SCHEMA else 1220
        assert _wait_for(gib, token, envelope_id, outcomes) == wanted, name
    run_jobs()
    with tenant.client() as c:
        items = c.get("/api/v1/incoming", params={"limit": 200}).json()["items"]
        filed = {i["number"]: c.get(f"/api/v1/incoming/{i['id']}").json() for i in items}
    delivered = {n: v for n, v in sent.items() if v[0] not in _REFUSED_BY_GIBS_SCHEMA}
    assert len(delivered) == len(_SIGNATURE_VARIANTS) - len(_REFUSED_BY_GIBS_SCHEMA)
    assert sorted(filed) == sorted(delivered)
    for number, (_, _, expected) in delivered.items():
        received = next(e for e in filed[number]["events"] if e["type"] == "received")
        warnings = received["data"].get("warnings", [])
        assert {w["code"] for w in warnings} == expected, number
        assert all(w["severity"] == "warning" for w in warnings), number
