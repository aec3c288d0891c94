"""The GİB simulator over real HTTP: user list, SOAP intake, GİB's codes, faults."""

from __future__ import annotations

import hashlib
import io
import json
import threading
import time
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from lxml import etree

from entegrator.documents import build_invoice
from entegrator.documents.model import InvoiceDraft
from entegrator.envelope.sbdh import build as build_envelope
from entegrator.envelope.zipping import pack
from entegrator.gib.client import GibClient
from entegrator.gib.soap import (
    SOAP11,
    SOAP12,
    GetAppResp,
    GibFaultError,
    SendDocument,
    build,
    parse_response,
    requested_action,
)
from entegrator.gib.transport import HttpTransport
from entegrator.gib.userlist import UserList
from entegrator.gibsim.app import SERVICE, create_app
from entegrator.gibsim.service import Simulator
from entegrator.signing import SigningKey, TestCA, sign
from tests.clock import now
from tests.gibsim.calls import envelope_status
from tests.testing.gib_packages import assert_contract, soap_payload, wsdl_operations, wsdl_schema
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


def test_the_published_lists_and_the_lookup(
    gib: str, parties: dict[str, Any], gib_packages: Path
) -> None:
    seller = parties["seller"]
    pk = httpx.get(f"{gib}/EFaturaMerkez/newUserPkListxml.zip")
    gb = httpx.get(f"{gib}/EFaturaMerkez/newUserGbListxml.zip")
    assert pk.headers["content-type"] == "application/zip"
    schema = etree.XMLSchema(etree.parse(str(gib_packages / "userlist" / "NewUserList.xsd")))
    for published in (pk, gb):
        with zipfile.ZipFile(io.BytesIO(published.content)) as z:
            schema.assertValid(etree.fromstring(z.read(z.namelist()[0])))
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


class _Recording:
    """A transport that keeps every message it carries (and carries it over real HTTP)."""

    def __init__(self, inner: HttpTransport) -> None:
        self.inner = inner
        self.exchanged: list[tuple[str, bytes, int, str, bytes]] = []

    def exchange(self, url: str, content_type: str, body: bytes) -> tuple[int, str, bytes]:
        status, reply_type, reply = self.inner.exchange(url, content_type, body)
        self.exchanged.append((content_type, body, status, reply_type, reply))
        return status, reply_type, reply

    def fetch(self, url: str) -> bytes:
        return self.inner.fetch(url)

    def close(self) -> None:
        self.inner.close()


def test_every_message_exchanged_with_the_simulator_follows_gibs_wsdl(
    gib: str, parties: dict[str, Any], gib_packages: Path
) -> None:
    seller, buyer = parties["seller"], parties["buyer"]
    schema, operations = wsdl_schema(gib_packages), wsdl_operations(gib_packages)
    recording = _Recording(HttpTransport(token=seller.token))
    client = GibClient(f"{gib}{SERVICE}", transport=recording)
    packed = _envelope(seller, buyer, [_invoice(seller, buyer)])
    try:
        assert client.send(packed.name, packed.data, packed.md5).hash == packed.md5
        assert _status(gib, seller.token, packed.name[:-4]) == 1200
        assert client.status(packed.name[:-4]).status_code == 1200
        with pytest.raises(GibFaultError, match="2001"):
            client.send(packed.name, packed.data, packed.md5)
        with pytest.raises(GibFaultError, match="2004"):
            client.status(str(uuid.uuid4()))
    finally:
        client.close()
    by_input = {op.input: op for op in operations.values()}
    kinds = []
    for content_type, body, status, reply_type, reply in recording.exchanged:
        operation = by_input[soap_payload(content_type, body).tag]
        assert_contract(schema, content_type, body, operation.input)
        assert requested_action(content_type) == operation.action
        answer = operation.output if status == 200 else operation.fault
        assert_contract(schema, reply_type, reply, answer)
        kinds.append((operation.name, status))
    assert kinds == [
        ("sendDocument", 200),
        ("getApplicationResponse", 200),
        ("sendDocument", 500),
        ("getApplicationResponse", 500),
    ]


@pytest.mark.parametrize("version", ["1.2", "1.1"])
def test_the_simulator_checks_a_named_action_and_takes_a_missing_one(
    gib: str, parties: dict[str, Any], gib_packages: Path, version: str
) -> None:
    seller = parties["seller"]
    schema, operations = wsdl_schema(gib_packages), wsdl_operations(gib_packages)
    soap = SOAP11 if version == "1.1" else SOAP12
    _, body = build(GetAppResp(str(uuid.uuid4())), version=soap)
    plain = "text/xml; charset=utf-8" if version == "1.1" else "application/soap+xml"

    def post(content_type: str, soap_action: str | None = None) -> httpx.Response:
        headers = {"Content-Type": content_type, "Authorization": f"Bearer {seller.token}"}
        if soap_action is not None:
            headers["SOAPAction"] = soap_action
        return httpx.post(f"{gib}{SERVICE}", content=body, headers=headers)

    if version == "1.1":
        wrong, right = post(plain, '"sendDocument"'), post(plain, '"getApplicationResponse"')
    else:
        wrong = post(f'{plain}; action="sendDocument"')
        right = post(f'{plain}; action="getApplicationResponse"')
    missing = post(plain)
    fault = operations["getApplicationResponse"].fault
    for reply in (wrong, right, missing):
        assert reply.status_code == 500
        assert_contract(schema, reply.headers["content-type"], reply.content, fault)
    # The named action is refused as the sender's fault; the others reach the operation.
    assert b"Sender" in wrong.content or b"Client" in wrong.content
    assert "SOAP action" in wrong.content.decode()
    for reply in (right, missing):
        with pytest.raises(GibFaultError) as caught:
            parse_response(reply.headers["content-type"], reply.content)
        assert caught.value.fault_code == 2004  # unknown envelope: the operation ran
