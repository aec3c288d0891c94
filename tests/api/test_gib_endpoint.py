"""The /gib endpoint fails closed: only GİB gets in, and only what GİB's seal or a trusted
signer vouches for moves a tenant's documents.

Each attack below was made against the platform from loopback: a forged invoice envelope
posted without credentials, an envelope signed by a self-made CA, an unsigned system
response that would mark a tenant's envelope as delivered (1300), absurd MIME part counts.
"""

from __future__ import annotations

import datetime as dt
import json
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import text

from entegrator.documents import build_invoice
from entegrator.documents.authorities import GIB_ALIAS, GIB_VKN
from entegrator.documents.model import InvoiceDraft
from entegrator.documents.response import ResponseParty, build_system_response
from entegrator.envelope.sbdh import EnvelopeType
from entegrator.envelope.sbdh import build as build_envelope
from entegrator.envelope.zipping import Packed, pack
from entegrator.gib.soap import GetAppResp, SendDocument, build, parse_response, requested_action
from entegrator.runtime import Runtime
from entegrator.signing import TestCA, sign
from entegrator.store import repo
from tests.clock import now, today
from tests.testing.gib_packages import (
    Operation,
    assert_contract,
    wsdl_operations,
    wsdl_schema,
)
from tests.testing.platform import (
    DEV_CA,
    EXAMPLE,
    GIB_HEADERS,
    TenantHandle,
    free_port,
    make_settings,
    new_vkn,
    serve,
)

ROGUE_CA = TestCA.create("Rogue SM", now=now())


def _post(base_url: str, message: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    ct, body = build(message)
    return httpx.post(
        f"{base_url}/gib/EFatura",
        content=body,
        headers={"Content-Type": ct} | (headers or {}),
        timeout=30,
    )


def _invoice_envelope(buyer_vkn: str, pk: str, ca: TestCA) -> Packed:
    supplier = new_vkn()
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["supplier"]["vkn"] = supplier
    data["customer"]["vkn"] = buyer_vkn
    data |= {"number": "SAH2026000000001", "ettn": str(uuid.uuid4()).upper()}
    xml = sign(
        build_invoice(InvoiceDraft.model_validate(data)),
        ca.issue(identity=supplier, name="X", now=now()),
        signing_time=now(),
    )
    return pack(
        build_envelope(
            [xml],
            sender_alias=f"urn:mail:gb{supplier}@other.example",
            receiver_alias=pk,
            created=now(),
        )
    )


def _aliases(runtime: Runtime, tenant: TenantHandle) -> tuple[str, str]:
    pk, gb = f"urn:mail:pk{tenant.vkn}@ep.example", f"urn:mail:gb{tenant.vkn}@ep.example"
    with runtime.db.system() as conn:
        repo.add_alias(conn, tenant.tenant_id, vkn_tckn=tenant.vkn, alias=pk, kind="PK")
        repo.add_alias(conn, tenant.tenant_id, vkn_tckn=tenant.vkn, alias=gb, kind="GB")
    return pk, gb


def _stored(runtime: Runtime, tenant: TenantHandle) -> list[tuple[str, str, int | None]]:
    with runtime.db.tenant(tenant.tenant_id) as conn:
        rows = conn.execute(
            text("SELECT envelope_id, status, code FROM inbound_envelopes ORDER BY received_at")
        ).all()
    return [(r.envelope_id, r.status, r.code) for r in rows]


@pytest.fixture
def receiving(
    make_tenant: Callable[..., TenantHandle], runtime: Runtime
) -> tuple[TenantHandle, str, str]:
    tenant = make_tenant()
    pk, gb = _aliases(runtime, tenant)
    return tenant, pk, gb


# -- who may call -------------------------------------------------------------------------------


def test_without_credentials_a_forged_envelope_is_refused_and_nothing_is_stored(
    receiving: tuple[TenantHandle, str, str], base_url: str, runtime: Runtime
) -> None:
    tenant, pk, _ = receiving
    packed = _invoice_envelope(tenant.vkn, pk, DEV_CA)
    message = SendDocument(packed.name, packed.data, packed.md5)
    for headers in (
        None,
        {"Authorization": "Bearer wrong"},
        {"Authorization": GIB_HEADERS["Authorization"] + "x"},
    ):
        r = _post(base_url, message, headers)
        assert r.status_code == 401, r.text
        assert r.json()["error"]["code"] == "GIB_CALLER_UNKNOWN"
    # getApplicationResponse and the alias lookup (fault 2005) answer nobody unknown either.
    r = _post(base_url, GetAppResp(packed.name[:-4]))
    assert r.status_code == 401
    assert _stored(runtime, tenant) == []


@pytest.mark.parametrize(
    ("overrides", "why"),
    [
        ({"gib_inbound_token": None}, "ENTEGRATOR_GIB_INBOUND_TOKEN"),
        ({"gib_trust_anchors": None}, "ENTEGRATOR_GIB_TRUST_ANCHORS"),
        ({"gib_trust_anchors": None, "gib_inbound_open": True}, "ENTEGRATOR_GIB_TRUST_ANCHORS"),
    ],
)
def test_an_installation_without_gib_settings_takes_no_call(
    receiving: tuple[TenantHandle, str, str],
    runtime: Runtime,
    tmp_path: Path,
    overrides: dict[str, Any],
    why: str,
) -> None:
    tenant, pk, _ = receiving
    closed = Runtime.from_settings(make_settings(runtime.database_url, tmp_path, **overrides))
    packed = _invoice_envelope(tenant.vkn, pk, DEV_CA)
    try:
        with serve(closed) as url:
            r = _post(url, SendDocument(packed.name, packed.data, packed.md5), GIB_HEADERS)
    finally:
        closed.close()
    assert r.status_code == 403, r.text
    assert r.json()["error"]["code"] == "GIB_ENDPOINT_CLOSED"
    assert why in r.json()["error"]["message_en"]
    assert _stored(runtime, tenant) == []


def test_the_open_mode_lets_anyone_in_but_still_checks_signatures(
    receiving: tuple[TenantHandle, str, str],
    runtime: Runtime,
    tmp_path: Path,
) -> None:
    tenant, pk, _ = receiving
    open_ = Runtime.from_settings(
        make_settings(runtime.database_url, tmp_path, gib_inbound_token=None, gib_inbound_open=True)
    )
    packed = _invoice_envelope(tenant.vkn, pk, DEV_CA)
    try:
        with serve(open_) as url:
            r = _post(url, SendDocument(packed.name, packed.data, packed.md5))
    finally:
        open_.close()
    assert r.status_code == 200, r.text
    assert [s[0] for s in _stored(runtime, tenant)] == [packed.name[:-4].upper()]


# -- what is delivered must be signed by someone trusted ----------------------------------------


def test_an_envelope_signed_under_a_self_made_ca_is_refused_with_gibs_code(
    receiving: tuple[TenantHandle, str, str],
    base_url: str,
    runtime: Runtime,
    run_jobs: Callable[[], None],
) -> None:
    tenant, pk, _ = receiving
    forged = _invoice_envelope(tenant.vkn, pk, ROGUE_CA)
    trusted = _invoice_envelope(tenant.vkn, pk, DEV_CA)
    for packed in (forged, trusted):
        r = _post(base_url, SendDocument(packed.name, packed.data, packed.md5), GIB_HEADERS)
        assert r.status_code == 200, r.text
    run_jobs()
    stored = {e: (status, code) for e, status, code in _stored(runtime, tenant)}
    assert stored[forged.name[:-4].upper()] == ("refused", 1177)
    assert stored[trusted.name[:-4].upper()] == ("processed", 1200)
    with tenant.client() as c:
        items = c.get("/api/v1/incoming").json()["items"]
    assert len(items) == 1  # the trusted one only: the forged invoice is nobody's document
    asked = _post(base_url, GetAppResp(forged.name[:-4]), GIB_HEADERS)
    status = parse_response(asked.headers["content-type"], asked.content)
    assert "1177" in status.application_response  # type: ignore[union-attr]


# -- system responses move our envelopes only when GİB vouches for them -------------------------


def _our_envelope(runtime: Runtime, tenant: TenantHandle) -> str:
    """An envelope the tenant sent (a system response of its own), waiting for GİB's word."""
    envelope_id = str(uuid.uuid4()).upper()
    with runtime.db.tenant(tenant.tenant_id) as conn:
        conn.execute(
            text(
                "INSERT INTO outbound_envelopes (tenant_id, envelope_id, kind, file_name, md5, "
                "data, receiver_alias, status) VALUES (:t, :e, 'system', :f, :m, :d, :r, 'sent')"
            ),
            {
                "t": tenant.tenant_id,
                "e": envelope_id,
                "f": f"{envelope_id}.zip",
                "m": "0" * 32,
                "d": b"-",
                "r": "urn:mail:gbother@x.example",
            },
        )
    return envelope_id


def _gib_code(runtime: Runtime, tenant: TenantHandle, envelope_id: str) -> int | None:
    with runtime.db.tenant(tenant.tenant_id) as conn:
        code: int | None = conn.execute(
            text("SELECT gib_code FROM outbound_envelopes WHERE envelope_id = :e"),
            {"e": envelope_id},
        ).scalar_one()
    return code


def _system_response(
    tenant: TenantHandle,
    gb: str,
    answered: str,
    *,
    code: int = 1200,
    seal: Any = None,
    sender_alias: str = GIB_ALIAS,
) -> Packed:
    xml = build_system_response(
        envelope_id=answered,
        envelope_type="SENDERENVELOPE",
        code=code,
        description="Zarf işlendi",
        sender=ResponseParty(GIB_VKN, "Gelir İdaresi Başkanlığı"),
        receiver=ResponseParty(tenant.vkn, "Alıcı"),
        envelope_date=today(),
        issued=now(),
    )
    if seal is not None:
        xml = sign(xml, seal, check_certificate=False, signing_time=now())
    return pack(
        build_envelope(
            [xml],
            sender_alias=sender_alias,
            receiver_alias=gb,
            type=EnvelopeType.SYSTEMENVELOPE,
            created=now(),
        )
    )


@pytest.mark.parametrize(
    ("seal", "sender_alias", "settles"),
    [
        (None, GIB_ALIAS, False),  # unsigned: anyone could have written it
        (
            ROGUE_CA.issue(identity=GIB_VKN, name="GİB", now=now()),
            GIB_ALIAS,
            False,
        ),  # a self-made "GİB"
        (
            DEV_CA.issue(identity="3221555337", name="Başka", now=now()),
            GIB_ALIAS,
            False,
        ),  # not GİB's seal
        (
            DEV_CA.issue(identity=GIB_VKN, name="GİB", now=now()),
            "urn:mail:gb@x.example",
            False,
        ),  # alias
        (
            DEV_CA.issue(identity=GIB_VKN, name="GİB", now=now()),
            GIB_ALIAS,
            True,
        ),  # GİB's seal and alias
    ],
    ids=["unsigned", "rogue-ca", "other-signer", "other-alias", "gib"],
)
def test_gibs_system_response_needs_gibs_seal_and_alias(  # noqa: PLR0917 - fixtures, cases
    receiving: tuple[TenantHandle, str, str],
    base_url: str,
    runtime: Runtime,
    run_jobs: Callable[[], None],
    seal: Any,
    sender_alias: str,
    settles: bool,
) -> None:
    tenant, _, gb = receiving
    ours = _our_envelope(runtime, tenant)
    packed = _system_response(tenant, gb, ours, code=1200, seal=seal, sender_alias=sender_alias)
    r = _post(base_url, SendDocument(packed.name, packed.data, packed.md5), GIB_HEADERS)
    assert r.status_code == 200, r.text
    run_jobs()
    assert _gib_code(runtime, tenant, ours) == (1200 if settles else None)
    if not settles:  # set aside, and said so: refused whole, or kept aside in the audit log
        with runtime.db.tenant(tenant.tenant_id) as conn:
            actions = (
                conn.execute(
                    text("SELECT action FROM audit_log WHERE target = :e"),
                    {"e": packed.name[:-4].upper()},
                )
                .scalars()
                .all()
            )
        refused = [s for s in _stored(runtime, tenant) if s[0] == packed.name[:-4].upper()]
        assert "system-response.refuse" in actions or refused[0][1] == "refused"


def test_a_system_response_about_another_tenants_envelope_changes_nothing(
    make_tenant: Callable[..., TenantHandle],
    base_url: str,
    runtime: Runtime,
    run_jobs: Callable[[], None],
) -> None:
    victim, attacker = make_tenant(), make_tenant()
    _aliases(runtime, victim)
    _, attacker_gb = _aliases(runtime, attacker)
    theirs = _our_envelope(runtime, victim)
    gib_seal = DEV_CA.issue(identity=GIB_VKN, name="GİB", now=now())
    packed = _system_response(attacker, attacker_gb, theirs, code=1163, seal=gib_seal)
    _post(base_url, SendDocument(packed.name, packed.data, packed.md5), GIB_HEADERS)
    run_jobs()
    assert _gib_code(runtime, victim, theirs) is None


# -- absurd messages ----------------------------------------------------------------------------


def test_a_soap_message_with_100000_parts_is_refused_quickly_and_the_api_keeps_answering(
    base_url: str,
) -> None:
    boundary = "b"
    parts = b"".join(
        b"--b\r\nContent-Type: text/plain\r\nContent-ID: <p%d>\r\n\r\nx\r\n" % i
        for i in range(100_000)
    )
    body = parts + b"--b--\r\n"
    content_type = f'multipart/related; type="application/xop+xml"; boundary="{boundary}"'
    results: dict[str, Any] = {}

    def attack(headers: dict[str, str], name: str) -> None:
        started = time.monotonic()
        r = httpx.post(
            f"{base_url}/gib/EFatura",
            content=body,
            headers={"Content-Type": content_type} | headers,
            timeout=60,
        )
        results[name] = (r.status_code, r.text, time.monotonic() - started)

    threads = [
        threading.Thread(target=attack, args=({}, "stranger")),
        threading.Thread(target=attack, args=(GIB_HEADERS, "gib")),
    ]
    for t in threads:
        t.start()
    health = []
    while any(t.is_alive() for t in threads):
        started = time.monotonic()
        assert httpx.get(f"{base_url}/healthz", timeout=10).status_code == 200
        health.append(time.monotonic() - started)
        time.sleep(0.05)
    for t in threads:
        t.join()
    assert results["stranger"][0] == 401
    status, answer, took = results["gib"]
    assert status == 500 and "2005" in answer and "8" in answer, answer
    assert took < 5, took  # counted, not parsed (parsing took 30 s on the event loop)
    assert max(health, default=0) < 2, health


# -- mutual TLS ---------------------------------------------------------------------------------


def _tls_material(folder: Path) -> dict[str, Path]:
    """A CA, a server certificate for 127.0.0.1 and a client certificate (GİB's) under it."""
    now = dt.datetime.now(dt.UTC)

    def cert(
        name: str, key: ec.EllipticCurvePrivateKey, issuer: x509.Name, signer: Any, *, ca: bool
    ) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if name == "127.0.0.1":
            import ipaddress

            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False,
            )
        return builder.sign(signer, hashes.SHA256())

    def write(name: str, key: ec.EllipticCurvePrivateKey, certificate: x509.Certificate) -> None:
        (folder / f"{name}.crt").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        (folder / f"{name}.key").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "GİB client CA")])
    ca_cert = cert("GİB client CA", ca_key, ca_name, ca_key, ca=True)
    write("ca", ca_key, ca_cert)
    for name, cn in (("server", "127.0.0.1"), ("client", "GİB")):
        key = ec.generate_private_key(ec.SECP256R1())
        write(name, key, cert(cn, key, ca_name, ca_key, ca=False))
    return {n: folder / f"{n}.crt" for n in ("ca", "server", "client")}


@pytest.fixture
def tls_endpoint(runtime: Runtime, tmp_path: Path) -> Iterator[tuple[str, dict[str, Path]]]:
    from entegrator.api.gib import tls_server

    files = _tls_material(tmp_path)
    port = free_port()
    rt = Runtime.from_settings(
        make_settings(
            runtime.database_url,
            tmp_path / "data",
            gib_inbound_token=None,
            gib_inbound_tls_port=port,
            gib_inbound_tls_cert=files["server"],
            gib_inbound_tls_key=files["server"].with_suffix(".key"),
            gib_inbound_client_ca=files["ca"],
        )
    )
    server = tls_server(rt, "127.0.0.1")
    assert server is not None
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield f"https://127.0.0.1:{port}", files
    finally:
        server.should_exit = True
        thread.join(10)
        rt.close()


def test_mutual_tls_lets_in_gib_and_nobody_else(
    tls_endpoint: tuple[str, dict[str, Path]],
    receiving: tuple[TenantHandle, str, str],
    runtime: Runtime,
) -> None:
    url, files = tls_endpoint
    tenant, pk, _ = receiving
    packed = _invoice_envelope(tenant.vkn, pk, DEV_CA)
    ct, body = build(SendDocument(packed.name, packed.data, packed.md5))
    verify = ssl.create_default_context(cafile=str(files["ca"]))
    with pytest.raises(httpx.HTTPError):  # no client certificate: refused in the handshake
        httpx.post(f"{url}/gib/EFatura", content=body, headers={"Content-Type": ct}, verify=verify)
    verify.load_cert_chain(files["client"], files["client"].with_suffix(".key"))
    r = httpx.post(f"{url}/gib/EFatura", content=body, headers={"Content-Type": ct}, verify=verify)
    assert r.status_code == 200, r.text
    assert [s[0] for s in _stored(runtime, tenant)] == [packed.name[:-4].upper()]
    # The listener serves GİB only: not the API.
    assert httpx.get(f"{url}/api/v1/invoices", verify=verify).status_code == 404


def test_mutual_tls_set_up_half_way_stops_the_start(runtime: Runtime, tmp_path: Path) -> None:
    from entegrator.api.gib import tls_server
    from entegrator.errors import EntegratorError

    rt = Runtime.from_settings(
        make_settings(runtime.database_url, tmp_path, gib_inbound_tls_port=free_port())
    )
    with pytest.raises(EntegratorError) as refused:
        tls_server(rt, "127.0.0.1")
    assert "ENTEGRATOR_GIB_INBOUND_CLIENT_CA" in refused.value.text_en


# -- GİB's contract ------------------------------------------------------------------------------


def test_every_message_of_the_endpoint_follows_gibs_wsdl(
    receiving: tuple[TenantHandle, str, str],
    base_url: str,
    runtime: Runtime,
    gib_packages: Path,
) -> None:
    tenant, pk, _ = receiving
    schema, operations = wsdl_schema(gib_packages), wsdl_operations(gib_packages)
    send, status = operations["sendDocument"], operations["getApplicationResponse"]
    packed = _invoice_envelope(tenant.vkn, pk, DEV_CA)
    envelope_id = packed.name[:-4]
    exchanges: list[tuple[SendDocument | GetAppResp, Operation, int]] = [
        (SendDocument(packed.name, packed.data, packed.md5), send, 200),
        (SendDocument(packed.name, packed.data, packed.md5), send, 200),  # GİB retrying
        (SendDocument(f"{uuid.uuid4()}.zip", packed.data, "0" * 32), send, 500),  # 2000
        (GetAppResp(envelope_id), status, 200),
        (GetAppResp(str(uuid.uuid4())), status, 500),  # 2004
    ]
    for message, operation, expected in exchanges:
        ct, body = build(message)
        assert requested_action(ct) == operation.action
        assert_contract(schema, ct, body, operation.input)
        r = _post(base_url, message, GIB_HEADERS)
        assert r.status_code == expected, r.text
        answer = operation.output if expected == 200 else operation.fault
        assert_contract(schema, r.headers["content-type"], r.content, answer)
    assert [s[0] for s in _stored(runtime, tenant)] == [envelope_id.upper()]


def test_the_endpoint_refuses_an_action_naming_another_operation_and_takes_none(
    receiving: tuple[TenantHandle, str, str],
    base_url: str,
    runtime: Runtime,
    gib_packages: Path,
) -> None:
    tenant, pk, _ = receiving
    schema, operations = wsdl_schema(gib_packages), wsdl_operations(gib_packages)
    packed = _invoice_envelope(tenant.vkn, pk, DEV_CA)
    _, body = build(SendDocument(packed.name, packed.data, packed.md5))

    def post(content_type: str, **headers: str) -> httpx.Response:
        return httpx.post(
            f"{base_url}/gib/EFatura",
            content=body,
            headers={"Content-Type": content_type} | GIB_HEADERS | headers,
            timeout=30,
        )

    wrong = post('application/soap+xml; charset=utf-8; action="getApplicationResponse"')
    assert wrong.status_code == 500
    assert_contract(
        schema, wrong.headers["content-type"], wrong.content, operations["sendDocument"].fault
    )
    assert b"Sender" in wrong.content and "SOAP action" in wrong.content.decode()
    wrong_11 = post("text/xml; charset=utf-8", SOAPAction='"getApplicationResponse"')
    assert wrong_11.status_code == 500 and b"Client" in wrong_11.content
    assert _stored(runtime, tenant) == []  # nothing taken from a refused call
    missing = post("application/soap+xml; charset=utf-8")  # no action: taken
    assert missing.status_code == 200, missing.text
    assert_contract(
        schema, missing.headers["content-type"], missing.content, operations["sendDocument"].output
    )
    assert [s[0] for s in _stored(runtime, tenant)] == [packed.name[:-4].upper()]
