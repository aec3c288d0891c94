"""The GİB simulator over real HTTP: user list, SOAP intake, GİB's codes, faults."""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from entegrator.documents import build_invoice
from entegrator.documents.model import InvoiceDraft
from entegrator.envelope.sbdh import build as build_envelope
from entegrator.envelope.zipping import pack
from entegrator.gib.soap import (
    GibFaultError,
    SendDocument,
    build,
    parse_response,
)
from entegrator.gib.userlist import UserList
from entegrator.gibsim.app import SERVICE, create_app
from entegrator.gibsim.service import Simulator
from entegrator.signing import SigningKey, TestCA, sign
from tests.clock import now
from tests.gibsim.calls import envelope_status
from tests.testing.platform import free_port, new_vkn

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "api" / "invoice.json"
CA = TestCA.create(now=now())


@pytest.fixture(scope="module")
def simulator(database_url: str) -> Iterator[Simulator]:
    sim = Simulator(database_url)
    sim.create_schema()
    yield sim
    sim.dispose()


@pytest.fixture(scope="module")
def gib(simulator: Simulator) -> Iterator[str]:
    import uvicorn

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(simulator), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


class Company:
    def __init__(self, gib: str, integrator: str, token: str) -> None:
        self.vkn = new_vkn()
        self.gb = f"urn:mail:gb{self.vkn}@{integrator}.example"
        self.pk = f"urn:mail:pk{self.vkn}@{integrator}.example"
        self.integrator = integrator
        self.token = token
        response = httpx.post(
            f"{gib}/admin/users",
            json={
                "identifier": self.vkn,
                "title": f"Şirket {self.vkn}",
                "integrator_id": integrator,
                "aliases": [{"name": self.gb, "kind": "GB"}, {"name": self.pk, "kind": "PK"}],
            },
        )
        assert response.status_code == 201, response.text


def _integrator(gib: str, name: str, vkn: str | None = None) -> tuple[str, str]:
    """Register an integrator (``vkn``: its own, the one its seal carries); (id, token)."""
    ident = f"{name}-{uuid.uuid4().hex[:6]}"
    r = httpx.post(
        f"{gib}/admin/integrators",
        json={"integrator_id": ident, "name": name, "vkn": vkn or new_vkn(), "endpoint": None},
    )
    assert r.status_code == 200, r.text
    return ident, r.json()["token"]


@pytest.fixture(scope="module")
def parties(gib: str) -> dict[str, Any]:
    a_id, a_token = _integrator(gib, "entegrator-a")
    b_id, b_token = _integrator(gib, "entegrator-b")
    return {
        "seller": Company(gib, a_id, a_token),
        "buyer": Company(gib, b_id, b_token),
        "other_token": b_token,
    }


def _invoice(
    seller: Company, buyer: Company, *, signed: bool = True, seal: SigningKey | None = None
) -> bytes:
    """An invoice from ``seller`` to ``buyer``, signed with ``seal`` on the seller's behalf,
    else with the seller's own seal, or not signed."""
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["supplier"]["vkn"] = seller.vkn
    data["customer"]["vkn"] = buyer.vkn
    data |= {"number": "GIB2026000000001", "ettn": str(uuid.uuid4()).upper()}
    xml = build_invoice(InvoiceDraft.model_validate(data))
    if seal is not None:
        return sign(xml, seal, signing_time=now(), on_behalf=True)
    return (
        sign(xml, CA.issue(identity=seller.vkn, name="Satıcı", now=now()), signing_time=now())
        if signed
        else xml
    )


def _send(gib: str, token: str, zip_name: str, data: bytes, md5: str | None = None) -> Any:
    digest = md5 or hashlib.md5(data).hexdigest()
    ct, body = build(SendDocument(zip_name, data, digest))
    r = httpx.post(
        f"{gib}{SERVICE}",
        content=body,
        headers={"Content-Type": ct, "Authorization": f"Bearer {token}"},
    )
    return parse_response(r.headers["content-type"], r.content)


def _status(gib: str, token: str, envelope_id: str) -> int:
    """The envelope's status once GİB has processed it (no longer 1000)."""
    deadline = time.monotonic() + 30
    while (code := envelope_status(gib, token, envelope_id)) == 1000:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return code


def _envelope(seller: Company, buyer: Company, documents: list[bytes], **kw: str) -> Any:
    return pack(
        build_envelope(
            documents,
            sender_alias=kw.get("sender", seller.gb),
            receiver_alias=kw.get("receiver", buyer.pk),
            created=now(),
        )
    )


def test_the_published_lists_and_the_lookup(gib: str, parties: dict[str, Any]) -> None:
    seller = parties["seller"]
    pk = httpx.get(f"{gib}/EFaturaMerkez/newUserPkListxml.zip")
    gb = httpx.get(f"{gib}/EFaturaMerkez/newUserGbListxml.zip")
    assert pk.headers["content-type"] == "application/zip"
    users = UserList.parse(pk.content, "PK")
    users.extend(gb.content, "GB")
    assert users.mailboxes(seller.vkn) == [seller.pk]
    assert users.sender_units(seller.vkn) == [seller.gb]
    found = httpx.get(f"{gib}/users/{seller.vkn}").json()
    assert {a["name"] for a in found["aliases"]} == {seller.pk, seller.gb}
    assert httpx.get(f"{gib}/users/1111111111").status_code == 404


def test_a_good_envelope_is_received_and_processed(gib: str, parties: dict[str, Any]) -> None:
    seller, buyer = parties["seller"], parties["buyer"]
    packed = _envelope(seller, buyer, [_invoice(seller, buyer)])
    answer = _send(gib, seller.token, packed.name, packed.data)
    assert answer.msg == "Döküman GIB tarafından alındı."
    assert answer.hash == packed.md5
    assert _status(gib, seller.token, packed.name.removesuffix(".zip")) == 1200
    # The same envelope again: 2001, and its status is unchanged.
    with pytest.raises(GibFaultError) as again:
        _send(gib, seller.token, packed.name, packed.data)
    assert again.value.fault_code == 2001
    # The same invoice in a new envelope: 1163.
    first = _invoice(seller, buyer)
    ok = _envelope(seller, buyer, [first])
    _send(gib, seller.token, ok.name, ok.data)
    assert _status(gib, seller.token, ok.name[:-4]) == 1200
    dup = _envelope(seller, buyer, [first])
    _send(gib, seller.token, dup.name, dup.data)
    assert _status(gib, seller.token, dup.name[:-4]) == 1163


def test_synchronous_faults(gib: str, parties: dict[str, Any]) -> None:
    seller, buyer = parties["seller"], parties["buyer"]
    packed = _envelope(seller, buyer, [_invoice(seller, buyer)])
    with pytest.raises(GibFaultError) as wrong_hash:
        _send(gib, seller.token, packed.name, packed.data, md5="0" * 32)
    assert wrong_hash.value.fault_code == 2000
    with pytest.raises(GibFaultError) as wrong_name:
        _send(gib, seller.token, "fatura.zip", packed.data)
    assert wrong_name.value.fault_code == 2006
    with pytest.raises(GibFaultError) as unknown:
        _status(gib, seller.token, str(uuid.uuid4()))
    assert unknown.value.fault_code == 2004
    ct, body = build(SendDocument(packed.name, packed.data, packed.md5))
    anonymous = httpx.post(f"{gib}{SERVICE}", content=body, headers={"Content-Type": ct})
    assert anonymous.status_code == 401


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("unsigned", 1177),
        ("foreign-gb", 1171),
        ("unknown-pk", 1181),
        ("not-the-buyers-pk", 1172),
        ("not-a-zip", 1110),
        ("schema", 1160),
    ],
)
def test_refusals_carry_gibs_codes(
    gib: str, parties: dict[str, Any], case: str, expected: int
) -> None:
    seller, buyer = parties["seller"], parties["buyer"]
    token = seller.token
    if case == "unsigned":
        packed = _envelope(seller, buyer, [_invoice(seller, buyer, signed=False)])
        name, data = packed.name, packed.data
    elif case == "foreign-gb":  # the seller's alias, sent by another integrator
        packed = _envelope(seller, buyer, [_invoice(seller, buyer)])
        name, data, token = packed.name, packed.data, parties["other_token"]
    elif case == "unknown-pk":
        packed = _envelope(seller, buyer, [_invoice(seller, buyer)], receiver="urn:mail:x@y.z")
        name, data = packed.name, packed.data
    elif case == "not-the-buyers-pk":
        packed = _envelope(seller, buyer, [_invoice(seller, buyer)], receiver=seller.pk)
        name, data = packed.name, packed.data
    elif case == "not-a-zip":
        name, data = f"{uuid.uuid4()}.zip", b"this is not a zip"
    else:
        invoice = _invoice(seller, buyer, signed=False).replace(
            b"<cbc:UBLVersionID>", b"<cbc:Unknown>x</cbc:Unknown><cbc:UBLVersionID>"
        )
        packed = _envelope(seller, buyer, [invoice])
        name, data = packed.name, packed.data
    _send(gib, token, name, data)
    assert _status(gib, token, name[:-4]) == expected


def test_who_may_sign_the_issuer_or_the_sending_integrators_seal(
    gib: str, parties: dict[str, Any]
) -> None:
    """GİB has each integrator's VKN on file: a document its seal signed for a customer it
    sends for passes; a valid seal of anyone else, another integrator's included, is 1176."""
    integrator_vkn = new_vkn()
    ident, token = _integrator(gib, "entegrator-seal", vkn=integrator_vkn)
    seller, buyer = Company(gib, ident, token), parties["buyer"]
    seal = CA.issue(identity=integrator_vkn, name="Mühürlü Entegratör A.Ş.", now=now())
    outcomes = {}
    for case, signer in (
        ("issuer", None),
        ("integrator", seal),
        ("stranger", CA.issue(identity=new_vkn(), name="İlgisiz A.Ş.", now=now())),
        ("buyer", CA.issue(identity=buyer.vkn, name="Alıcı", now=now())),
    ):
        packed = _envelope(seller, buyer, [_invoice(seller, buyer, seal=signer)])
        _send(gib, token, packed.name, packed.data)
        outcomes[case] = _status(gib, token, packed.name[:-4])
    # The same seal on a document another integrator sends (for its own customer): 1176.
    elsewhere = parties["seller"]
    packed = _envelope(elsewhere, buyer, [_invoice(elsewhere, buyer, seal=seal)])
    _send(gib, elsewhere.token, packed.name, packed.data)
    outcomes["not-the-sender"] = _status(gib, elsewhere.token, packed.name[:-4])
    assert outcomes == {
        "issuer": 1200,
        "integrator": 1200,
        "stranger": 1176,
        "buyer": 1176,
        "not-the-sender": 1176,
    }


def test_an_outage_and_latency_are_configurable(gib: str, parties: dict[str, Any]) -> None:
    seller, buyer = parties["seller"], parties["buyer"]
    packed = _envelope(seller, buyer, [_invoice(seller, buyer)])
    ct, body = build(SendDocument(packed.name, packed.data, packed.md5))
    headers = {"Content-Type": ct, "Authorization": f"Bearer {seller.token}"}
    assert httpx.put(f"{gib}/admin/faults", json={"outage": True}).status_code == 200
    try:
        assert httpx.post(f"{gib}{SERVICE}", content=body, headers=headers).status_code == 503
    finally:
        httpx.put(f"{gib}/admin/faults", json={"outage": False, "latency_ms": 300})
    try:
        start = time.monotonic()
        r = httpx.post(f"{gib}{SERVICE}", content=body, headers=headers)
        assert r.status_code == 200
        assert time.monotonic() - start >= 0.3
    finally:
        httpx.put(f"{gib}/admin/faults", json={"outage": False, "latency_ms": 0})


def test_the_client_reaches_the_simulator_in_process(
    simulator: Simulator, parties: dict[str, Any], gib: str
) -> None:
    """GibClient over the in-process transport: the same service, no socket on our side."""
    from entegrator.gib.client import GibClient
    from entegrator.gib.soap import DocumentResponse
    from entegrator.gibsim.transport import InProcessTransport

    seller, buyer = parties["seller"], parties["buyer"]
    packed = _envelope(seller, buyer, [_invoice(seller, buyer)])
    client = GibClient(
        f"http://gib.invalid{SERVICE}",
        transport=InProcessTransport(create_app(simulator), token=seller.token),
    )
    try:
        answer = client.send(packed.name, packed.data, packed.md5)
        assert isinstance(answer, DocumentResponse) and answer.hash == packed.md5
        assert _status(gib, seller.token, packed.name[:-4]) == 1200  # processed as over HTTP
        assert client.status(packed.name[:-4]).status_code == 1200
        users = client.user_list("http://gib.invalid/EFaturaMerkez")
        assert users.lookup(seller.vkn) is not None
    finally:
        client.close()
