"""Delivery of e-Arşiv invoices to their buyers, against a real SMTP server on loopback
(STARTTLS, AUTH), the ``.eml`` folder, and an SMS provider's HTTP endpoint on loopback."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from entegrator.clock import utc_now
from entegrator.runtime import Runtime
from entegrator.services.deliveries import DeliveryService
from entegrator.services.earsiv_cancel import cancel_invoice
from entegrator.services.mail import EmlFolder, Mailer, SmtpMailer
from entegrator.services.sms import HttpSmsProvider
from entegrator.store import deliveries as store
from entegrator.store import documents, events, webhooks
from entegrator.store.events import EventRow
from entegrator.store.ids import created_at
from tests.testing.mail import SmtpServer, sms_server, smtp_server
from tests.testing.platform import DEV_CA, TenantHandle, free_port

BUYER = "alici@example.com.tr"
XADES = "http://uri.etsi.org/01903/v1.3.2#"


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpServer]:
    with smtp_server(tmp_path / "tls", free_port()) as server:
        yield server


def service(runtime: Runtime, mailer: Mailer, **options: Any) -> DeliveryService:
    values: dict[str, Any] = {
        "mail_from": "fatura@entegrator.test",
        "public_base_url": "https://fatura.example.test/",
        "retry_first": 0.2,
        "retry_cap": 0.4,
        "max_attempts": 5,
    }
    return DeliveryService(runtime.db, mailer, **(values | options))


def smtp_mailer(server: SmtpServer) -> SmtpMailer:
    return SmtpMailer(server.url, ca_file=server.ca_file, timeout=5)


def issue_earsiv(runtime: Runtime, tenant: TenantHandle, **changes: Any) -> uuid.UUID:
    """An e-Arşiv invoice issued through the API and signed by the signing service (which
    queues its deliveries)."""
    draft = tenant.draft(profile="EARSIVFATURA", sending_type="ELEKTRONIK")
    draft["customer"]["contact"]["email"] = BUYER
    for key, value in changes.items():
        if key == "customer_contact":
            draft["customer"]["contact"] = value
        else:
            draft[key] = value
    with tenant.client() as client:
        response = client.post("/api/v1/invoices", json=draft)
    assert response.status_code == 201, response.text
    runtime.signing.sign_pending(tenant.tenant_id)
    return uuid.UUID(response.json()["id"])


def rows(runtime: Runtime, tenant: TenantHandle, document_id: uuid.UUID) -> list[store.Delivery]:
    with runtime.db.tenant(tenant.tenant_id) as conn:
        return store.for_document(conn, tenant.tenant_id, document_id)


def attachment(message: EmailMessage, subtype: str) -> bytes:
    for part in message.iter_attachments():
        if part.get_content_subtype() == subtype:
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload
    raise AssertionError(f"no {subtype} attachment")


def xmlsec1_verifies(xml: bytes, folder: Path) -> bool:
    tool = shutil.which("xmlsec1")
    assert tool, "xmlsec1 is not installed: run make system-tools"
    ca = folder / "ca.pem"
    ca.write_bytes(DEV_CA.certificate.public_bytes(serialization.Encoding.PEM))
    doc = folder / "invoice.xml"
    doc.write_bytes(xml)
    command = [tool, "--verify", "--id-attr:Id", f"{XADES}:SignedProperties", "--trusted-pem"]
    done = subprocess.run(
        [*command, str(ca), str(doc)],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode == 0


def test_signing_an_earsiv_invoice_mails_it_over_starttls_with_auth(
    runtime: Runtime, tenant: TenantHandle, smtp: SmtpServer, tmp_path: Path
) -> None:
    import pypdfium2

    document_id = issue_earsiv(runtime, tenant)
    queued = rows(runtime, tenant, document_id)
    assert [(r.channel, r.address, r.status) for r in queued] == [("email", BUYER, "queued")]

    assert service(runtime, smtp_mailer(smtp)).deliver_pending(tenant.tenant_id) == 1

    assert smtp.logins == ["entegrator"]  # logged in, after STARTTLS (the server insists)
    assert smtp.envelopes == [("fatura@entegrator.test", [BUYER])]
    (message,) = smtp.messages
    with tenant.client() as client:
        invoice = client.get(f"/api/v1/invoices/{document_id}").json()
        signed = client.get(f"/api/v1/invoices/{document_id}/xml").content
    number = invoice["number"]
    assert number in str(message["Subject"])
    body = message.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    for essential in (number, invoice["ettn"], "Örnek Yazılım A.Ş.", "Ödenecek Tutar"):
        assert essential in text
    assert "e-Arşiv izni kapsamında elektronik ortamda iletilmiştir." in text
    assert "https://fatura.example.test/e/" in text

    xml = attachment(message, "xml")
    assert xml == signed  # the legal original, byte for byte
    assert xmlsec1_verifies(xml, tmp_path)
    pdf = pypdfium2.PdfDocument(attachment(message, "pdf"))
    assert len(pdf) >= 1
    assert number in pdf[0].get_textpage().get_text_range()

    (sent,) = rows(runtime, tenant, document_id)
    assert (sent.status, sent.attempts, sent.sent_at is not None) == ("sent", 1, True)
    # Nothing is sent twice: the row is done, another run finds nothing.
    assert service(runtime, smtp_mailer(smtp)).deliver_pending(tenant.tenant_id) == 0
    assert len(smtp.messages) == 1


def test_a_tenant_sends_from_its_own_address(
    runtime: Runtime, tenant: TenantHandle, smtp: SmtpServer
) -> None:
    from entegrator.store import tenants

    with runtime.db.system() as conn:
        assert tenants.set_mail_from(conn, tenant.tenant_id, "e-arsiv@tenant.example")
    issue_earsiv(runtime, tenant)
    service(runtime, smtp_mailer(smtp)).deliver_pending(tenant.tenant_id)
    (message,) = smtp.messages
    assert message["From"] == "e-arsiv@tenant.example"


def test_a_server_that_is_down_is_retried_and_nothing_is_lost_or_doubled(
    runtime: Runtime, tenant: TenantHandle, tmp_path: Path
) -> None:
    port = free_port()
    document_id = issue_earsiv(runtime, tenant)
    with smtp_server(tmp_path / "tls", port) as up:
        url, ca = up.url, up.ca_file
    down = service(runtime, SmtpMailer(url, ca_file=ca, timeout=5))
    assert down.deliver_pending(tenant.tenant_id) == 1  # tried: refused connection
    (row,) = rows(runtime, tenant, document_id)
    assert (row.status, row.attempts) == ("queued", 1)
    assert row.last_error is not None and "Connection" in row.last_error
    assert down.deliver_pending(tenant.tenant_id) == 0  # not due yet: back-off

    time.sleep(0.3)
    assert down.deliver_pending(tenant.tenant_id) == 1  # the second attempt fails too
    assert rows(runtime, tenant, document_id)[0].attempts == 2
    with smtp_server(tmp_path / "tls2", port) as server:
        time.sleep(0.5)
        again = service(runtime, SmtpMailer(server.url, ca_file=server.ca_file, timeout=5))
        assert again.deliver_pending(tenant.tenant_id) == 1
        assert again.deliver_pending(tenant.tenant_id) == 0
        assert len(server.messages) == 1
    (row,) = rows(runtime, tenant, document_id)
    assert (row.status, row.attempts) == ("sent", 3)
    assert row.last_error is None


def test_a_refused_recipient_fails_with_the_servers_answer(
    runtime: Runtime, tenant: TenantHandle, smtp: SmtpServer
) -> None:
    smtp.refuse.add(BUYER)
    document_id = issue_earsiv(runtime, tenant)
    service(runtime, smtp_mailer(smtp)).deliver_pending(tenant.tenant_id)
    (row,) = rows(runtime, tenant, document_id)
    assert row.status == "failed"
    assert row.last_error is not None and row.last_error.startswith("550")
    assert smtp.messages == []


def test_attempts_stop_at_the_limit(runtime: Runtime, tenant: TenantHandle) -> None:
    document_id = issue_earsiv(runtime, tenant)
    down = service(
        runtime, SmtpMailer(f"smtp://127.0.0.1:{free_port()}", timeout=2), max_attempts=2
    )
    down.deliver_pending(tenant.tenant_id)
    time.sleep(0.3)
    down.deliver_pending(tenant.tenant_id)
    (row,) = rows(runtime, tenant, document_id)
    assert (row.status, row.attempts) == ("failed", 2)


def test_without_smtp_each_message_is_an_eml_file(
    runtime: Runtime, tenant: TenantHandle, tmp_path: Path
) -> None:
    import email
    import email.policy

    document_id = issue_earsiv(runtime, tenant)
    outbox = tmp_path / "outbox"
    service(runtime, EmlFolder(outbox)).deliver_pending(tenant.tenant_id)
    (file,) = outbox.glob("*.eml")
    message = email.message_from_bytes(file.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    assert message["To"] == BUYER
    assert attachment(message, "pdf").startswith(b"%PDF")
    assert b"<ds:Signature" in attachment(message, "xml") or b"Signature" in attachment(
        message, "xml"
    )
    assert rows(runtime, tenant, document_id)[0].status == "sent"


def test_no_delivery_for_paper_or_without_an_address(
    runtime: Runtime, make_tenant: Callable[..., TenantHandle]
) -> None:
    tenant = make_tenant()
    paper = issue_earsiv(runtime, tenant, sending_type="KAGIT")
    assert rows(runtime, tenant, paper) == []
    nobody = issue_earsiv(runtime, tenant, customer_contact={"telephone": "0312 555 12 34"})
    assert rows(runtime, tenant, nobody) == []
    with tenant.client() as client:
        efatura = tenant.issue(client)
    runtime.signing.sign_pending(tenant.tenant_id)
    assert rows(runtime, tenant, uuid.UUID(efatura["id"])) == []


def test_an_address_that_is_not_one_is_recorded_as_failed(
    runtime: Runtime, tenant: TenantHandle
) -> None:
    document_id = issue_earsiv(
        runtime, tenant, customer_contact={"email": "not an address", "telephone": "1"}
    )
    (row,) = rows(runtime, tenant, document_id)
    assert (row.status, row.last_error) == ("failed", "invalid address")


def unwritable(tmp_path: Path) -> Path:
    """A folder that cannot be made (its parent is a file), even by root."""
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    return blocker / "outbox"


def test_sms_goes_through_the_http_provider(
    runtime: Runtime, make_tenant: Callable[..., TenantHandle], tmp_path: Path
) -> None:
    from entegrator.services.signing import SigningService

    tenant = make_tenant()
    draft_contact = {"email": BUYER, "telephone": "+90 532 000 00 00"}
    with sms_server() as provider:
        signing = SigningService(runtime.db, runtime.seal_keys, deliver_sms=True)
        draft = tenant.draft(profile="EARSIVFATURA", sending_type="ELEKTRONIK")
        draft["customer"]["contact"] = draft_contact
        with tenant.client() as client:
            document_id = uuid.UUID(client.post("/api/v1/invoices", json=draft).json()["id"])
        signing.sign_pending(tenant.tenant_id)
        channels = sorted(r.channel for r in rows(runtime, tenant, document_id))
        assert channels == ["email", "sms"]
        sms = HttpSmsProvider(provider.url, token="sms-token")
        service(runtime, EmlFolder(unwritable(tmp_path)), sms=sms).deliver_pending(tenant.tenant_id)
        (posted,) = provider.received
        assert provider.tokens == ["Bearer sms-token"]
    assert posted["to"] == "+90 532 000 00 00"
    assert "https://fatura.example.test/e/" in posted["text"]
    by_channel = {r.channel: r for r in rows(runtime, tenant, document_id)}
    assert by_channel["sms"].status == "sent"
    assert str(by_channel["sms"].delivery_id) == posted["reference"]
    assert by_channel["email"].status == "queued"  # the folder cannot be written: retried


def test_an_sms_provider_refusal_is_final(
    runtime: Runtime, make_tenant: Callable[..., TenantHandle], tmp_path: Path
) -> None:
    from entegrator.services.signing import SigningService

    tenant = make_tenant()
    with sms_server() as provider:
        provider.status = 400
        signing = SigningService(runtime.db, runtime.seal_keys, deliver_sms=True)
        draft = tenant.draft(profile="EARSIVFATURA", sending_type="ELEKTRONIK")
        draft["customer"]["contact"] = {"telephone": "05320000000"}
        with tenant.client() as client:
            document_id = uuid.UUID(client.post("/api/v1/invoices", json=draft).json()["id"])
        signing.sign_pending(tenant.tenant_id)
        sms = HttpSmsProvider(provider.url, token=None)
        service(runtime, EmlFolder(unwritable(tmp_path)), sms=sms).deliver_pending(tenant.tenant_id)
    (row,) = rows(runtime, tenant, document_id)
    assert row.status == "failed"
    assert row.last_error is not None and row.last_error.startswith("HTTP 400")


def test_the_public_url_is_one_per_document(runtime: Runtime, tenant: TenantHandle) -> None:
    document_id = issue_earsiv(runtime, tenant)
    deliveries = service(runtime, EmlFolder(Path("unused")))
    with runtime.db.tenant(tenant.tenant_id) as conn:
        first = deliveries.public_url(conn, tenant.tenant_id, document_id)
        again = deliveries.public_url(conn, tenant.tenant_id, document_id)
    assert first == again
    assert first.startswith("https://fatura.example.test/e/")
    found = deliveries.public_document(first.rsplit("/", 1)[1])
    assert found is not None and found[0].document_id == document_id


def test_public_urls_of_many_documents_keep_each_documents_one_link(
    runtime: Runtime, tenant: TenantHandle
) -> None:
    first, second = issue_earsiv(runtime, tenant), issue_earsiv(runtime, tenant)
    deliveries = service(runtime, EmlFolder(Path("unused")))
    with runtime.db.tenant(tenant.tenant_id) as conn:
        known = deliveries.public_url(conn, tenant.tenant_id, first)
        urls = deliveries.public_urls(conn, tenant.tenant_id, [first, second])
        again = deliveries.public_url(conn, tenant.tenant_id, second)
    assert urls == {first: known, second: again}
    assert known != again
    found = deliveries.public_document(again.rsplit("/", 1)[1])
    assert found is not None and found[0].document_id == second


def test_unreadable_xml_queues_nothing_and_does_not_raise(
    runtime: Runtime, tenant: TenantHandle
) -> None:
    from entegrator.services.deliveries import queue_after_signing

    broken = b"<Invoice><ProfileID>EARSIVFATURA</ProfileID>"  # cut off
    with runtime.db.tenant(tenant.tenant_id) as conn:
        assert queue_after_signing(conn, tenant.tenant_id, uuid.uuid4(), broken, sms=True) == 0


# -- the document's event log ------------------------------------------------------------------


def chain_of(runtime: Runtime, tenant: TenantHandle, document_id: uuid.UUID) -> list[EventRow]:
    """The document's events, after checking the hash chain ends at the row's head."""
    with runtime.db.tenant(tenant.tenant_id) as conn:
        state = documents.lock_state(conn, tenant.tenant_id, document_id, created_at(document_id))
        assert state is not None
        found = events.list_events(conn, tenant.tenant_id, document_id)
    assert events.verify_chain(found, document_id, state.head_hash) == []
    assert len(found) == state.event_count
    return found


def delivery_events(found: list[EventRow]) -> list[tuple[str, dict[str, Any]]]:
    return [(e.type, e.data) for e in found if e.type.startswith("delivery-")]


def subscribe(runtime: Runtime, tenant: TenantHandle, *events_: str) -> uuid.UUID:
    hook = uuid.uuid4()
    with runtime.db.tenant(tenant.tenant_id) as conn:  # an ERP endpoint (not called here)
        webhooks.insert_endpoint(
            conn,
            tenant.tenant_id,
            hook,
            url="https://hooks.example/e",
            events=list(events_),
            secret_nonce=b"n" * 12,
            secret_ciphertext=b"c" * 48,
        )
    return hook


def notified(runtime: Runtime, tenant: TenantHandle, hook: uuid.UUID) -> list[str]:
    with runtime.db.tenant(tenant.tenant_id) as conn:
        return [d.event for d in webhooks.deliveries(conn, tenant.tenant_id, hook, 100)]


def test_each_delivery_outcome_is_an_event_of_the_documents_chain(
    runtime: Runtime, tenant: TenantHandle, smtp: SmtpServer
) -> None:
    hook = subscribe(runtime, tenant, "document.delivered")
    document_id = issue_earsiv(runtime, tenant)
    (queued,) = rows(runtime, tenant, document_id)
    about = {"delivery": str(queued.delivery_id), "channel": "email", "address": BUYER}
    assert delivery_events(chain_of(runtime, tenant, document_id)) == [
        ("delivery-queued", about | {"requested_by": "signing"})
    ]

    # The server is away: a failure that is tried again, with what went wrong.
    down = service(runtime, SmtpMailer(f"smtp://127.0.0.1:{free_port()}", timeout=2))
    assert down.deliver_pending(tenant.tenant_id) == 1
    kind, data = delivery_events(chain_of(runtime, tenant, document_id))[-1]
    assert kind == "delivery-failed"
    assert data["final"] is False and data["attempt"] == 1
    assert "next_attempt_at" in data and data["error"]
    assert notified(runtime, tenant, hook) == []

    time.sleep(0.3)
    assert service(runtime, smtp_mailer(smtp)).deliver_pending(tenant.tenant_id) == 1
    assert delivery_events(chain_of(runtime, tenant, document_id))[-1] == (
        "delivery-sent",
        about | {"attempt": 2, "requested_by": "signing"},
    )
    assert notified(runtime, tenant, hook) == ["document.delivered"]

    # A refusal is final and carries the server's answer.
    smtp.refuse.add("red@example.org")
    service(runtime, smtp_mailer(smtp)).request_email(
        tenant.tenant_id, document_id, "red@example.org"
    )
    service(runtime, smtp_mailer(smtp)).deliver_pending(tenant.tenant_id)
    found = delivery_events(chain_of(runtime, tenant, document_id))
    assert [k for k, _ in found] == [
        "delivery-queued",
        "delivery-failed",
        "delivery-sent",
        "delivery-queued",
        "delivery-failed",
    ]
    assert found[3][1]["requested_by"] == "api"
    assert found[4][1]["final"] is True
    assert str(found[4][1]["error"]).startswith("550")
    assert notified(runtime, tenant, hook) == ["document.delivered"]  # a refusal is not one


def test_an_address_that_is_not_one_fails_in_the_chain_at_signing(
    runtime: Runtime, tenant: TenantHandle
) -> None:
    document_id = issue_earsiv(
        runtime, tenant, customer_contact={"email": "not an address", "telephone": "1"}
    )
    kinds = delivery_events(chain_of(runtime, tenant, document_id))
    assert [k for k, _ in kinds] == ["delivery-queued", "delivery-failed"]
    assert kinds[1][1]["error"] == "invalid address" and kinds[1][1]["final"] is True


# -- cancellation ---------------------------------------------------------------------------------


def test_cancelling_an_earsiv_invoice_mails_the_buyer(
    runtime: Runtime, tenant: TenantHandle, smtp: SmtpServer
) -> None:
    import pypdfium2

    document_id = issue_earsiv(runtime, tenant)
    mailing = service(runtime, smtp_mailer(smtp))
    assert mailing.deliver_pending(tenant.tenant_id) == 1
    now = dt.datetime(2026, 11, 30, 21, 30, tzinfo=dt.UTC)  # 1 December in Istanbul
    done = cancel_invoice(
        runtime.db, tenant.tenant_id, document_id, reason="Hatalı tutar", actor="api", now=now
    )

    queued = rows(runtime, tenant, document_id)
    assert [(r.requested_by, r.address, r.status) for r in queued] == [
        ("signing", BUYER, "sent"),
        ("cancellation", BUYER, "queued"),
    ]
    assert mailing.deliver_pending(tenant.tenant_id) == 1
    assert [r.status for r in rows(runtime, tenant, document_id)] == ["sent", "sent"]
    assert smtp.envelopes[-1] == ("fatura@entegrator.test", [BUYER])
    message = smtp.messages[-1]
    assert str(message["Subject"]).startswith(f"e-Arşiv Fatura {done.number} iptal edildi")
    body = message.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert f"{done.number} numaralı e-Arşiv Fatura 01.12.2026 tarihinde iptal edilmiştir." in text
    assert "İptal Nedeni   : Hatalı tutar" in text
    assert "https://fatura.example.test/e/" in text
    # The view attached (and behind the link) says it is cancelled.
    (part,) = list(message.iter_attachments())
    assert part.get_filename() == f"{done.number}-iptal.pdf"
    pdf = pypdfium2.PdfDocument(attachment(message, "pdf"))
    page_text = pdf[0].get_textpage().get_text_range()
    assert "İPTAL EDİLMİŞTİR" in page_text
    assert delivery_events(chain_of(runtime, tenant, document_id))[-1][1]["requested_by"] == (
        "cancellation"
    )


def test_cancelling_a_paper_invoice_mails_nobody(runtime: Runtime, tenant: TenantHandle) -> None:
    document_id = issue_earsiv(runtime, tenant, sending_type="KAGIT")
    cancel_invoice(
        runtime.db, tenant.tenant_id, document_id, reason="İade", actor="api", now=utc_now()
    )
    assert rows(runtime, tenant, document_id) == []
