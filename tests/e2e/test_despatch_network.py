"""e-İrsaliye across the network: a despatch advice issued on the platform travels through the
GİB simulator to its receiver (the same platform's /gib endpoint), is filed there once, is
answered with a receipt advice that travels back to the sender; the 7-day window and the
one-answer rule hold on both sides."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from entegrator.documents.authorities import GIB_DESPATCH_ALIAS
from entegrator.gibsim.app import SERVICE, create_app
from entegrator.gibsim.service import Simulator
from entegrator.runtime import Runtime
from entegrator.store import repo
from tests.clock import now
from tests.gibsim.calls import envelope_status
from tests.testing.platform import DEV_CA, INBOUND_TOKEN, TenantHandle, free_port, new_vkn

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "api" / "despatch.json"
DESPATCH = "DespatchAdvice"


class Shifted:
    """A clock that runs with the real one, ``offset`` ahead."""

    def __init__(self) -> None:
        self.offset = dt.timedelta(0)

    def __call__(self) -> dt.datetime:
        return now() + self.offset


GIB_CLOCK = Shifted()


@pytest.fixture(scope="module")
def gib(database_url: str) -> Iterator[str]:
    import uvicorn

    sim = Simulator(database_url, max_attempts=4, retry_seconds=0.3, ca=DEV_CA, clock=GIB_CLOCK)
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


def _integrator(gib: str, endpoint: str | None) -> tuple[str, str]:
    ident = f"int-{uuid.uuid4().hex[:8]}"
    r = httpx.post(
        f"{gib}/admin/integrators",
        json={
            "integrator_id": ident,
            "name": ident,
            "vkn": new_vkn(),
            "endpoint": endpoint,
            "delivery_token": INBOUND_TOKEN,
        },
    )
    assert r.status_code == 200, r.text
    return ident, r.json()["token"]


def _register(gib: str, vkn: str, integrator: str, aliases: list[dict[str, str]]) -> None:
    r = httpx.post(
        f"{gib}/admin/users",
        json={
            "identifier": vkn,
            "title": f"Şirket {vkn}",
            "integrator_id": integrator,
            "aliases": aliases,
        },
    )
    assert r.status_code == 201, r.text


@dataclasses.dataclass
class Network:
    gib: str
    token: str  # the platform's token at GİB
    sender: TenantHandle
    receiver: TenantHandle
    runtime: Runtime  # the installation's workers, GİB configured, on ``clock``
    clock: Shifted

    def despatch(self, customer_vkn: str | None = None, **changes: Any) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(EXAMPLE.read_text(encoding="utf-8"))
        data["supplier"]["vkn"] = self.sender.vkn
        data["customer"]["vkn"] = customer_vkn or self.receiver.vkn
        data.update(changes)
        return data

    def issue(self, customer_vkn: str | None = None) -> dict[str, Any]:
        with self.sender.client() as c:
            r = c.post("/api/v1/despatches", json=self.despatch(customer_vkn))
        assert r.status_code == 201, r.text
        return dict(r.json())

    def drain_until(self, done: Callable[[], Any]) -> None:
        from tests.testing.platform import drain

        deadline = time.monotonic() + 60
        while not done():
            assert time.monotonic() < deadline, "timed out"
            drain(self.runtime)
            time.sleep(0.1)

    def sent(self, doc: dict[str, Any]) -> dict[str, Any]:
        with self.sender.client() as c:
            return dict(c.get(f"/api/v1/despatches/{doc['id']}").json())

    def incoming(self) -> list[dict[str, Any]]:
        with self.receiver.client() as c:
            return list(c.get("/api/v1/incoming-despatches").json()["items"])

    def filed(self, doc: dict[str, Any]) -> dict[str, Any] | None:
        """The receiver's copy of ``doc`` (by number), once filed."""
        found = [i for i in self.incoming() if i["number"] == doc["number"]]
        return found[0] if found else None


@pytest.fixture
def network(
    gib: str,
    base_url: str,
    make_tenant: Callable[..., TenantHandle],
    runtime: Runtime,
    tmp_path: Path,
) -> Iterator[Network]:
    """A sender and a receiver on this platform, registered with GİB as served by it: the
    sender with despatch GB and PK aliases and invoice ones, the receiver with despatch
    aliases only (an e-İrsaliye user without e-Fatura)."""
    from tests.testing.platform import make_settings

    platform, token = _integrator(gib, f"{base_url}/gib/EFatura")
    sender, receiver = make_tenant(), make_tenant()
    wanted = [
        (sender, [("GB", DESPATCH), ("PK", DESPATCH), ("GB", "Invoice"), ("PK", "Invoice")]),
        (receiver, [("GB", DESPATCH), ("PK", DESPATCH)]),
    ]
    for who, kinds in wanted:
        aliases = []
        for kind, document in kinds:
            alias = f"urn:mail:{kind.lower()}{document[:3].lower()}{who.vkn}@platform.example"
            aliases.append({"name": alias, "kind": kind, "document": document})
            with runtime.db.system() as conn:
                repo.add_alias(
                    conn,
                    who.tenant_id,
                    vkn_tckn=who.vkn,
                    alias=alias,
                    kind=kind,
                    document=document,
                )
        _register(gib, who.vkn, platform, aliases)
    clock = Shifted()
    sending = dataclasses.replace(
        Runtime.from_settings(
            make_settings(
                runtime.database_url,
                tmp_path,
                gib_url=f"{gib}{SERVICE}",
                gib_token=token,
                gib_user_list_url=f"{gib}/EFaturaMerkez",
                webhook_allow_private=True,  # the ERPs of these tests listen on loopback
            )
        ),
        clock=clock,
    )
    assert sending.sending.refresh_user_list() >= 2
    yield Network(gib, token, sender, receiver, sending, clock)
    GIB_CLOCK.offset = dt.timedelta(0)
    sending.close()


def _gib_status(net: Network, envelope_id: str) -> int:
    """GİB's status of one of our envelopes (0 while GİB does not have it yet)."""
    from entegrator.gib.soap import GibFaultError

    try:
        return envelope_status(net.gib, net.token, envelope_id)
    except GibFaultError:
        return 0


def _filed_status(net: Network, incoming_id: str) -> tuple[str, str | None, str]:
    with net.receiver.client() as c:
        doc = c.get(f"/api/v1/incoming-despatches/{incoming_id}").json()
    return doc["status"], doc["status_code"], doc["status_detail"] or ""


def _answer(net: Network, incoming_id: str, body: dict[str, Any]) -> httpx.Response:
    with net.receiver.client() as c:
        return c.post(f"/api/v1/incoming-despatches/{incoming_id}/receipt", json=body)


def _hook(net: Network, who: TenantHandle) -> None:
    """An ERP endpoint (nobody listens: the notifications stay queued, as recorded)."""
    with net.runtime.db.tenant(who.tenant_id) as conn:
        net.runtime.webhooks.create(
            conn,
            who.tenant_id,
            f"http://127.0.0.1:{free_port()}/hook",
            ["document.received", "document.status"],
        )


def _notified(net: Network, who: TenantHandle) -> list[tuple[str, str, str]]:
    """(event, kind, status) of every notification queued for ``who``'s ERP, in order."""
    from sqlalchemy import text

    with net.runtime.db.tenant(who.tenant_id) as conn:
        rows = conn.execute(
            text(
                "SELECT event, payload FROM webhook_deliveries WHERE tenant_id = :t "
                "ORDER BY created_at"
            ),
            {"t": who.tenant_id},
        ).all()
    return [(r.event, r.payload["document"]["kind"], r.payload["document"]["status"]) for r in rows]


def test_a_despatch_travels_is_answered_and_the_sender_sees_the_answer(  # noqa: PLR0915
    network: Network,
) -> None:
    net = network
    _hook(net, net.sender)
    _hook(net, net.receiver)
    ours = net.issue()
    assert ours["number"].startswith("IRS")
    net.drain_until(lambda: net.filed(ours) is not None)
    sent = net.sent(ours)
    enveloped = [e for e in sent["events"] if e["type"] == "enveloped"]
    # The receiver's despatch mailbox, never an invoice alias (it has none).
    assert enveloped[0]["data"]["to"].startswith("urn:mail:pkdes")
    theirs = net.filed(ours)
    assert theirs is not None
    assert (theirs["status"], theirs["sender"]["id"]) == ("received", net.sender.vkn)
    assert theirs["links"]["xml"].startswith("/api/v1/incoming-despatches/")
    with net.receiver.client() as c:
        xml = c.get(theirs["links"]["xml"]).content
        assert b"DespatchAdvice" in xml
        # The views are the invoices' renderer's (a despatch view of its own is its work).
        view = c.get(theirs["links"]["html"])
        assert view.status_code in (200, 503), view.text[:300]
        # Despatches are not invoices: the invoice routes neither list nor show them.
        assert c.get("/api/v1/incoming").json()["items"] == []
        assert c.get(f"/api/v1/incoming/{theirs['id']}").status_code == 404
    # Answers that do not fit the despatch are refused, and change nothing.
    too_many = _answer(net, theirs["id"], {"lines": [{"line": 1, "rejected": "101"}]})
    assert too_many.status_code == 422, too_many.text
    no_line = _answer(net, theirs["id"], {"lines": [{"line": 9, "short": "1"}]})
    assert no_line.status_code == 422, no_line.text
    # One line partly rejected, with its reason.
    answer = _answer(
        net,
        theirs["id"],
        {"lines": [{"line": 2, "rejected": "300", "reject_reason": "Paslı demir"}]},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["status"], body["status_code"]) == ("accepted", "partly-rejected")
    assert body["receipt_number"].startswith("IRY")
    line2 = body["lines"][1]
    assert (Decimal(line2["received"]), Decimal(line2["rejected"])) == (Decimal(2200), Decimal(300))
    # Answered once.
    again = _answer(net, theirs["id"], {"accept_all": True})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "DESPATCH_ALREADY_ANSWERED"
    # The answer travels back: the sender's despatch takes it.
    net.drain_until(lambda: net.sent(ours)["status"] == "accepted")
    sent = net.sent(ours)
    assert sent["status_code"] == "partly-rejected"
    assert "Paslı demir" in sent["status_detail"]
    answered = [e for e in sent["events"] if e["type"] == "answered"][-1]
    assert answered["data"]["receipt_number"] == body["receipt_number"]
    assert answered["data"]["lines"][1]["rejected"] == "300"
    with net.sender.client() as c:
        receipt = c.get(f"/api/v1/despatches/{ours['id']}/receipt")
        assert receipt.status_code == 200
        assert b"ReceiptAdvice" in receipt.content
        assert ours["id"] not in [i["id"] for i in c.get("/api/v1/invoices").json()["items"]]
    # Both sides' ERPs heard of it: the receiver of the despatch and its answer, the sender
    # of GİB's statuses and the answer.
    assert ("document.received", "despatch", "received") in _notified(net, net.receiver)
    assert ("document.status", "despatch", "accepted") in _notified(net, net.receiver)
    sender_heard = _notified(net, net.sender)
    assert ("document.status", "despatch", "accepted") in sender_heard
    assert {k for _, k, _ in sender_heard} == {"despatch"}
    # Both are valid, signed UBL-TR.
    assert net.runtime.validator.validate(receipt.content).valid
    assert net.runtime.validator.validate(xml).valid


def test_a_receiver_without_e_irsaliye_goes_to_gibs_despatch_mailbox(
    network: Network, make_tenant: Callable[..., TenantHandle]
) -> None:
    net = network
    invoice_only = new_vkn()  # a registered e-Fatura user, no e-İrsaliye alias
    _register(
        net.gib,
        invoice_only,
        "GTB",
        [{"name": f"urn:mail:pk{invoice_only}@x.example", "kind": "PK"}],
    )
    assert net.runtime.sending.refresh_user_list() >= 3
    ours = net.issue(invoice_only)
    net.drain_until(lambda: net.sent(ours)["status"] == "delivered")
    sent = net.sent(ours)
    enveloped = next(e for e in sent["events"] if e["type"] == "enveloped")
    assert enveloped["data"]["to"] == GIB_DESPATCH_ALIAS
    with net.sender.client() as c:
        xml = c.get(f"/api/v1/despatches/{ours['id']}/xml").content
    assert invoice_only.encode() in xml  # the real receiver stays in the XML


def test_day_eight_the_answer_is_refused_by_us_and_by_gib(network: Network) -> None:
    net = network
    ours = net.issue()
    net.drain_until(lambda: net.filed(ours) is not None)
    theirs = net.filed(ours)
    assert theirs is not None
    # Our side: eight days on, the API refuses with a clear 409.
    net.clock.offset = dt.timedelta(days=8)
    from tests.testing.platform import serve

    with serve(net.runtime) as later:
        refused = httpx.post(
            f"{later}/api/v1/incoming-despatches/{theirs['id']}/receipt",
            json={"accept_all": True},
            headers=net.receiver.headers,
        )
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "RECEIPT_WINDOW_CLOSED"
    # GİB's side: an answer we send in time reaches GİB on its eighth day: refused.
    net.clock.offset = dt.timedelta(0)
    answer = _answer(net, theirs["id"], {"accept_all": True})
    assert answer.status_code == 200, answer.text
    GIB_CLOCK.offset = dt.timedelta(days=8)
    net.drain_until(lambda: _gib_status(net, answer.json()["envelope"]) >= 1150)
    assert _gib_status(net, answer.json()["envelope"]) == 1150
    # GİB's refusal comes back to the receiver's mailbox and is shown on its despatch.
    net.drain_until(lambda: _filed_status(net, theirs["id"])[1] == "answer-refused")
    status, _, detail = _filed_status(net, theirs["id"])
    assert status == "accepted" and detail.startswith("GİB 1150")


def test_without_an_answer_a_despatch_counts_as_accepted_after_seven_days(
    network: Network,
) -> None:
    net = network
    ours = net.issue()
    net.drain_until(lambda: net.filed(ours) is not None)
    net.drain_until(lambda: net.sent(ours)["status"] == "delivered")
    theirs = net.filed(ours)
    assert theirs is not None
    assert net.runtime.despatches.close_windows(now=now() + dt.timedelta(days=6)) == 0
    assert net.runtime.despatches.close_windows(now=now() + dt.timedelta(days=7, hours=1)) >= 2
    sent = net.sent(ours)
    assert (sent["status"], sent["status_code"]) == ("accepted", "no-answer")
    with net.receiver.client() as c:
        filed = c.get(f"/api/v1/incoming-despatches/{theirs['id']}").json()
    assert (filed["status"], filed["status_code"]) == ("accepted", "no-answer")
    assert _answer(net, theirs["id"], {"accept_all": True}).status_code == 409


def test_a_despatch_delivered_twice_by_gib_is_filed_once(network: Network) -> None:
    net = network
    # GİB delivers, loses our answer, and delivers the same envelope again.
    assert httpx.put(f"{net.gib}/admin/faults", json={"drop_deliveries": 1}).status_code == 200
    try:
        ours = net.issue()
        net.drain_until(lambda: net.filed(ours) is not None)
        net.drain_until(lambda: net.sent(ours)["status"] == "delivered")
    finally:
        httpx.put(f"{net.gib}/admin/faults", json={})
    assert [i["number"] for i in net.incoming()].count(ours["number"]) == 1


def test_gib_refuses_a_second_answer_to_one_despatch(network: Network) -> None:
    """A second receipt answer (sent around our own once-only rule) is refused by GİB."""
    from sqlalchemy import text

    net = network
    ours = net.issue()
    net.drain_until(lambda: net.filed(ours) is not None)
    theirs = net.filed(ours)
    assert theirs is not None
    first = _answer(net, theirs["id"], {"accept_all": True})
    assert first.status_code == 200
    net.drain_until(lambda: net.sent(ours)["status"] == "accepted")
    # The despatch is set back to waiting, as a buggy or hostile integrator might.
    with net.runtime.db.system() as conn:
        conn.execute(
            text("UPDATE documents SET status = 'received' WHERE document_id = :d"),
            {"d": uuid.UUID(theirs["id"])},
        )
    second = _answer(net, theirs["id"], {"accept_all": True})
    assert second.status_code == 200, second.text
    net.drain_until(lambda: _gib_status(net, second.json()["envelope"]) >= 1150)
    assert _gib_status(net, second.json()["envelope"]) == 1163
    net.drain_until(lambda: _filed_status(net, theirs["id"])[1] == "answer-refused")
