"""Envelopes GİB delivers to the /gib endpoint: stored before the answer, filed as incoming."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from entegrator.documents import build_invoice
from entegrator.documents.model import InvoiceDraft
from entegrator.documents.response import read_response
from entegrator.envelope.sbdh import build as build_envelope
from entegrator.envelope.zipping import pack
from entegrator.gib.soap import (
    DocumentResponse,
    GetAppResp,
    GetAppRespResponse,
    GibFaultError,
    SendDocument,
    build,
    parse_response,
)
from entegrator.runtime import Runtime
from entegrator.services.inbound import InboundService
from entegrator.signing import SigningKey, TestCA, sign
from entegrator.store import repo
from tests.clock import now
from tests.testing.platform import DEV_CA, EXAMPLE, GIB_HEADERS, TenantHandle, new_vkn

CA = DEV_CA


def _gib_call(base_url: str, message: Any) -> Any:
    ct, body = build(message)
    r = httpx.post(
        f"{base_url}/gib/EFatura", content=body, headers={"Content-Type": ct} | GIB_HEADERS
    )
    return parse_response(r.headers["content-type"], r.content)


def _pk(runtime: Runtime, tenant: TenantHandle) -> str:
    alias = f"urn:mail:pk{tenant.vkn}@entegrator.example"
    with runtime.db.system() as conn:
        repo.add_alias(conn, tenant.tenant_id, vkn_tckn=tenant.vkn, alias=alias, kind="PK")
    return alias


def _envelope(
    buyer_vkn: str, pk: str, *, signed: bool = True, seal: SigningKey | None = None
) -> Any:
    """An envelope with one invoice from a new supplier to ``pk``, signed with ``seal`` (on
    the supplier's behalf), else with the supplier's own seal, or not signed."""
    supplier = new_vkn()
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["supplier"]["vkn"] = supplier
    data["customer"]["vkn"] = buyer_vkn
    data |= {"number": "ABC2026000000077", "ettn": str(uuid.uuid4()).upper()}
    xml = build_invoice(InvoiceDraft.model_validate(data))
    if seal is not None:
        xml = sign(xml, seal, signing_time=now(), on_behalf=True)
    elif signed:
        xml = sign(xml, CA.issue(identity=supplier, name="Satıcı", now=now()), signing_time=now())
    return (
        pack(
            build_envelope(
                [xml],
                sender_alias=f"urn:mail:gb{supplier}@other.example",
                receiver_alias=pk,
                created=now(),
            )
        ),
        xml,
        supplier,
    )


@pytest.fixture
def buyer(make_tenant: Callable[..., TenantHandle], runtime: Runtime) -> tuple[TenantHandle, str]:
    tenant = make_tenant()
    return tenant, _pk(runtime, tenant)


def test_a_delivered_invoice_is_stored_then_filed_as_incoming(
    buyer: tuple[TenantHandle, str],
    make_tenant: Callable[..., TenantHandle],
    base_url: str,
    runtime: Runtime,
    run_jobs: Callable[[], None],
) -> None:
    tenant, pk = buyer
    packed, xml, supplier = _envelope(tenant.vkn, pk)
    answer = _gib_call(base_url, SendDocument(packed.name, packed.data, packed.md5))
    assert isinstance(answer, DocumentResponse)
    assert answer.hash == packed.md5
    again = _gib_call(base_url, SendDocument(packed.name, packed.data, packed.md5))
    assert again == answer  # GİB's retry: the same answer, nothing stored twice
    with runtime.db.tenant(tenant.tenant_id) as conn:
        stored = conn.execute(text("SELECT data, status FROM inbound_envelopes")).all()
    assert [(bytes(d), s) for d, s in stored] == [(packed.data, "received")]

    run_jobs()
    with tenant.client() as c:
        items = c.get("/api/v1/incoming").json()["items"]
        assert len(items) == 1
        doc = items[0]
        assert (doc["number"], doc["status"], doc["direction"]) == (
            "ABC2026000000077",
            "received",
            "in",
        )
        assert doc["sender"]["id"] == supplier and doc["receiver"]["id"] == tenant.vkn
        assert c.get(f"/api/v1/incoming/{doc['id']}/xml").content == xml
        assert "ABC2026000000077" in c.get(f"/api/v1/incoming/{doc['id']}/html").text
        assert c.get("/api/v1/invoices").json()["items"] == []  # outgoing only
        assert c.get(f"/api/v1/invoices/{doc['id']}").status_code == 404
    with make_tenant().client() as other:
        assert other.get(f"/api/v1/incoming/{doc['id']}").status_code == 404
        assert other.get("/api/v1/incoming").json()["items"] == []
    status = _gib_call(base_url, GetAppResp(packed.name[:-4]))
    assert isinstance(status, GetAppRespResponse)
    assert read_response(status.application_response.encode()).status_code == 1200


def test_refusals_and_faults(
    buyer: tuple[TenantHandle, str], base_url: str, run_jobs: Callable[[], None]
) -> None:
    tenant, pk = buyer
    unsigned, _, _ = _envelope(tenant.vkn, pk, signed=False)
    _gib_call(base_url, SendDocument(unsigned.name, unsigned.data, unsigned.md5))
    run_jobs()
    status = _gib_call(base_url, GetAppResp(unsigned.name[:-4]))
    assert read_response(status.application_response.encode()).status_code == 1177
    with tenant.client() as c:
        assert c.get("/api/v1/incoming").json()["items"] == []

    good, _, _ = _envelope(tenant.vkn, pk)
    with pytest.raises(GibFaultError) as md5:
        _gib_call(base_url, SendDocument(good.name, good.data, "0" * 32))
    assert md5.value.fault_code == 2000
    stranger, _, _ = _envelope(tenant.vkn, "urn:mail:nobody@nowhere.example")
    with pytest.raises(GibFaultError) as unknown:
        _gib_call(base_url, SendDocument(stranger.name, stranger.data, stranger.md5))
    assert unknown.value.fault_code == 2005
    with pytest.raises(GibFaultError) as name:
        digest = hashlib.md5(good.data).hexdigest()
        _gib_call(base_url, SendDocument("fatura.zip", good.data, digest))
    assert name.value.fault_code == 2006
    with pytest.raises(GibFaultError) as missing:
        _gib_call(base_url, GetAppResp(str(uuid.uuid4())))
    assert missing.value.fault_code == 2004


def test_inbound_refuses_only_for_what_gib_refuses(
    buyer: tuple[TenantHandle, str], base_url: str, run_jobs: Callable[[], None]
) -> None:
    """A delivered invoice whose totals do not add up, sealed by someone other than the
    supplier (``sig-identity``), passed GİB: our own opinions do not refuse it."""
    tenant, pk = buyer
    supplier = new_vkn()
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["supplier"]["vkn"] = supplier
    data["customer"]["vkn"] = tenant.vkn
    data |= {"number": "ABC2026000000078", "ettn": str(uuid.uuid4()).upper()}
    xml = build_invoice(InvoiceDraft.model_validate(data))
    wrong = xml.replace(b">7200.00</cbc:PayableAmount>", b">7250.00</cbc:PayableAmount>")
    assert wrong != xml
    other = new_vkn()
    seal = CA.issue(identity=other, name="Başkası", now=now())
    signed = sign(wrong, seal, signing_time=now(), check_certificate=False)
    packed = pack(
        build_envelope(
            [signed],
            sender_alias=f"urn:mail:gb{supplier}@other.example",
            receiver_alias=pk,
            created=now(),
        )
    )
    _gib_call(base_url, SendDocument(packed.name, packed.data, packed.md5))
    run_jobs()
    status = _gib_call(base_url, GetAppResp(packed.name[:-4]))
    assert read_response(status.application_response.encode()).status_code == 1200
    with tenant.client() as c:
        numbers = [d["number"] for d in c.get("/api/v1/incoming").json()["items"]]
    assert numbers == ["ABC2026000000078"]


def _received_warnings(tenant: TenantHandle) -> dict[str, list[dict[str, Any]]]:
    """The signature warnings kept in each incoming invoice's ``received`` event, by sender."""
    with tenant.client() as c:
        items = c.get("/api/v1/incoming").json()["items"]
        docs = [c.get(f"/api/v1/incoming/{i['id']}").json() for i in items]
    return {
        d["sender"]["id"]: next(
            e["data"].get("warnings", []) for e in d["events"] if e["type"] == "received"
        )
        for d in docs
    }


def test_a_seal_other_than_the_issuers_is_filed_with_a_warning(
    buyer: tuple[TenantHandle, str],
    runtime: Runtime,
) -> None:
    """GİB delivered it, so GİB accepted its signer: a valid seal of another VKN (an
    integrator's, on the issuer's behalf) is filed, and the warning kept with the invoice; a
    known integrator is named as such."""
    tenant, pk = buyer
    integrator_vkn = new_vkn()
    seal = CA.issue(identity=integrator_vkn, name="Başka Entegratör A.Ş.", now=now())
    expected = {}
    for integrators, code in (((), "sig-identity"), ({integrator_vkn}, "sig-integrator")):
        service = InboundService(
            runtime.db, runtime.validator, trust=runtime.trust_anchors, integrators=integrators
        )
        packed, _, supplier = _envelope(tenant.vkn, pk, seal=seal)
        received = service.receive(packed.name, packed.data, packed.md5)
        assert service.process_next(received.tenant_id)
        status = service.status_of(received.envelope_id)
        assert status is not None and status[1] == 1200
        expected[supplier] = code
    own, _, own_supplier = _envelope(tenant.vkn, pk)  # the issuer's own seal: nothing to note
    received = service.receive(own.name, own.data, own.md5)
    assert service.process_next(received.tenant_id)
    kept = _received_warnings(tenant)
    assert {s: [w["code"] for w in ws] for s, ws in kept.items()} == {
        **{s: [c] for s, c in expected.items()},
        own_supplier: [],
    }
    for supplier in expected:
        assert [w["severity"] for w in kept[supplier]] == ["warning"]
        assert integrator_vkn in kept[supplier][0]["message_en"]


def test_a_broken_chain_is_still_refused_with_1177(
    buyer: tuple[TenantHandle, str],
    runtime: Runtime,
    run_jobs: Callable[[], None],
    base_url: str,
) -> None:
    """Only who signed is left to GİB: a seal from an authority we do not trust is refused."""
    tenant, pk = buyer
    elsewhere = TestCA.create("Bilinmeyen SM", now=now())
    packed, _, _ = _envelope(
        tenant.vkn, pk, seal=elsewhere.issue(identity=new_vkn(), name="Kimse", now=now())
    )
    _gib_call(base_url, SendDocument(packed.name, packed.data, packed.md5))
    run_jobs()
    status = _gib_call(base_url, GetAppResp(packed.name[:-4]))
    assert read_response(status.application_response.encode()).status_code == 1177
    with tenant.client() as c:
        assert c.get("/api/v1/incoming").json()["items"] == []
