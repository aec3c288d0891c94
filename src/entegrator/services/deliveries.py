"""Delivering invoices to their buyers: e-mail (or an ``.eml`` file), SMS, the public view.

An e-Arşiv invoice reaches no one through GİB: entegrator hands it to the buyer. When the
worker signs an EARSIVFATURA whose sending type is not KAGIT, the same transaction queues a
delivery to the buyer's e-mail address in the signed XML
(``AccountingCustomerParty/Party/Contact/ElectronicMail``), and an SMS to its telephone when an
SMS provider is configured. A user may send any signed outgoing invoice again, to another
address (``request_email``).

A worker job (``DELIVERY_TASK``) leases each due delivery, renders the invoice with
entegrator's own view, sends the message (signed XML and PDF attached, the essentials in the
body, a link to the public view ``/e/<token>``) and records the server's answer: ``sent``,
``failed`` (a final refusal, or ``delivery_max_attempts`` spent), or queued again after
``lifecycle.backoff``. A row is sent at most once per attempt that the server accepted; a worker
that dies after the server took the message and before the outcome was recorded sends it again
when the lease lapses (at least once), with the same Message-ID, which mail programs use to
drop the copy.

Each step is an event in the document's hash-chained log, in the transaction that makes it:
``delivery-queued``, ``delivery-sent`` (and the webhook ``document.delivered``),
``delivery-failed`` with the server's answer (``final`` false when it is tried again).
Cancelling an e-Arşiv invoice queues one more e-mail (``queue_cancellation``), telling the
buyer the number, the date and the reason.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from email.message import EmailMessage
from email.utils import format_datetime

from lxml import etree
from sqlalchemy import Connection

from entegrator import lifecycle
from entegrator.clock import Clock, utc_now
from entegrator.documents import safe_xml
from entegrator.documents.errors import XMLError
from entegrator.documents.ns import CAC, CBC
from entegrator.errors import EntegratorError
from entegrator.lifecycle.backoff import backoff
from entegrator.services.errors import DocumentNotFoundError, NotSignedYetError
from entegrator.services.mail import Mailer, MailError
from entegrator.services.sms import SmsProvider
from entegrator.store import Database, company, deliveries, earsiv, tenants
from entegrator.store.blobs import get_blob
from entegrator.store.documents import DocumentRow, get_document
from entegrator.store.ids import created_at
from entegrator.store.jobs import wake

__all__ = [
    "DELIVERED_EVENT",
    "DELIVERY_TASK",
    "BuyerFacts",
    "DeliveryService",
    "InvalidAddressError",
    "buyer_facts",
    "compose",
    "compose_cancellation",
    "is_email",
    "new_token",
    "queue_after_signing",
    "queue_cancellation",
    "wake_deliveries",
]

log = logging.getLogger(__name__)

DELIVERY_TASK = "entegrator.deliver_invoices"
DELIVERED_EVENT = "document.delivered"  # the webhook event of a message the server took
CANCELLATION = "cancellation"  # requested_by of the message telling the buyer of an iptal
LEASE = dt.timedelta(minutes=5)  # one attempt (render, connect, send) takes far less
EARSIV = "EARSIVFATURA"
NOTE_ELECTRONIC = "e-Arşiv izni kapsamında elektronik ortamda iletilmiştir."
_EMAIL = re.compile(
    r"^[^\s@<>()\[\],;:\"\\]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251})\.[A-Za-z]{2,63}$"
)
_PHONE = re.compile(r"^\+?[0-9 ()-]{7,20}$")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")


class InvalidAddressError(EntegratorError):
    code = "INVALID_EMAIL"
    message_tr = "Geçerli bir e-posta adresi değil"
    message_en = "Not a valid e-mail address"
    http_status = 422


def is_email(value: str) -> bool:
    return len(value) <= 254 and _EMAIL.fullmatch(value) is not None


def new_token() -> str:
    """An unguessable public-view token (256 random bits, 43 URL-safe characters)."""
    return secrets.token_urlsafe(32)


def valid_token(token: str) -> bool:
    return _TOKEN.fullmatch(token) is not None


@dataclass(frozen=True)
class BuyerFacts:
    """What the signed XML says about reaching the buyer."""

    profile: str
    sending_type: str | None  # KAGIT | ELEKTRONIK
    email: str | None
    phone: str | None


def _parse_own(xml: bytes) -> etree._Element:
    """Our own signed XML: its size was checked before signing, and the signature added some."""
    return safe_xml.parse(xml, max_bytes=max(len(xml), safe_xml.DEFAULT_MAX_BYTES))


def buyer_facts(xml: bytes) -> BuyerFacts:
    root = _parse_own(xml)
    contact = root.find(f"{CAC}AccountingCustomerParty/{CAC}Party/{CAC}Contact")

    def text(node: object, path: str) -> str | None:
        found = node.findtext(path) if node is not None else None  # type: ignore[attr-defined]
        return found.strip() or None if found else None

    sending: str | None = None
    for ref in root.iterfind(f"{CAC}AdditionalDocumentReference"):
        if (ref.findtext(f"{CBC}DocumentTypeCode") or "").strip() == "SendingType":
            sending = (ref.findtext(f"{CBC}DocumentType") or "").strip() or None
    return BuyerFacts(
        profile=(root.findtext(f"{CBC}ProfileID") or "").strip(),
        sending_type=sending,
        email=text(contact, f"{CBC}ElectronicMail"),
        phone=text(contact, f"{CBC}Telephone"),
    )


def wake_deliveries(conn: Connection, tenant_id: uuid.UUID) -> bool:
    """Make sure a delivery job for the tenant is waiting (in the caller's transaction)."""
    return wake(conn, DELIVERY_TASK, tenant_id, lock=f"deliveries:{tenant_id}")


def _queue(
    conn: Connection,
    tenant_id: uuid.UUID,
    document_id: uuid.UUID,
    *,
    channel: str,
    address: str,
    requested_by: str,
    actor: str,
    now: dt.datetime,
) -> deliveries.Delivery:
    row = deliveries.queue(
        conn, tenant_id, document_id, channel=channel, address=address, requested_by=requested_by
    )
    deliveries.link_for(conn, tenant_id, document_id, new_token())
    _event(
        conn,
        tenant_id,
        document_id,
        "delivery-queued",
        {**_about(row.delivery_id, channel, address), "requested_by": requested_by},
        actor=actor,
        now=now,
    )
    return row


def _about(delivery_id: uuid.UUID, channel: str, address: str) -> dict[str, str]:
    return {"delivery": str(delivery_id), "channel": channel, "address": address}


def _event(
    conn: Connection,
    tenant_id: uuid.UUID,
    document_id: uuid.UUID,
    type_: str,
    data: dict[str, object],
    *,
    actor: str,
    now: dt.datetime,
    notify: str | None = None,
) -> None:
    """A delivery's step in the document's event chain (no status change)."""
    lifecycle.record(
        conn,
        tenant_id,
        document_id,
        happened=[(type_, None, data)],
        actor=actor,
        now=now,
        notify=notify,
    )


def _failed_event(
    claimed_attempts: int, error: str, *, final: bool, retry_at: dt.datetime | None
) -> dict[str, object]:
    data: dict[str, object] = {"attempt": claimed_attempts, "error": error, "final": final}
    if not final and retry_at is not None:
        data["next_attempt_at"] = retry_at.astimezone(dt.UTC).isoformat()
    return data


def queue_after_signing(
    conn: Connection,
    tenant_id: uuid.UUID,
    document_id: uuid.UUID,
    signed: bytes,
    *,
    sms: bool,
    now: dt.datetime | None = None,
) -> int:
    """Queue the deliveries a freshly signed e-Arşiv invoice needs, in the signing
    transaction; how many. An address the XML gives that is not one is recorded as failed."""
    when = now or utc_now()
    if EARSIV.encode() not in signed:  # most are e-Fatura: no need to parse them again
        return 0
    try:
        facts = buyer_facts(signed)
    except XMLError:  # never keeps a document from being signed
        log.exception("document %s: buyer contacts unreadable, nothing queued", document_id)
        return 0
    if facts.profile != EARSIV or facts.sending_type == "KAGIT":
        return 0
    wanted: list[tuple[str, str, bool]] = []
    if facts.email:
        wanted.append(("email", facts.email[:320], is_email(facts.email)))
    if sms and facts.phone:
        wanted.append(("sms", facts.phone[:320], _PHONE.fullmatch(facts.phone) is not None))
    for channel, address, usable in wanted:
        row = _queue(
            conn,
            tenant_id,
            document_id,
            channel=channel,
            address=address,
            requested_by="signing",
            actor="worker",
            now=when,
        )
        if not usable:
            deliveries.record_attempt(
                conn, tenant_id, row.delivery_id, status="failed", error="invalid address"
            )
            _event(
                conn,
                tenant_id,
                document_id,
                "delivery-failed",
                _about(row.delivery_id, channel, address)
                | _failed_event(0, "invalid address", final=True, retry_at=None),
                actor="worker",
                now=when,
            )
    if any(usable for *_, usable in wanted):
        wake_deliveries(conn, tenant_id)
    return len(wanted)


def queue_cancellation(
    conn: Connection,
    tenant_id: uuid.UUID,
    document_id: uuid.UUID,
    signed: bytes,
    *,
    actor: str,
    now: dt.datetime,
) -> deliveries.Delivery | None:
    """Queue the e-mail telling the buyer of a cancelled e-Arşiv invoice, in the cancelling
    transaction: to the address in the signed XML, when the invoice went out electronically
    (a paper invoice's buyer hears of it from the seller). None when nothing is sent."""
    try:
        facts = buyer_facts(signed)
    except XMLError:  # never keeps an invoice from being cancelled
        log.exception("document %s: buyer contacts unreadable, no cancellation e-mail", document_id)
        return None
    if facts.profile != EARSIV or facts.sending_type == "KAGIT" or not facts.email:
        return None
    if not is_email(facts.email):
        return None  # recorded as failed when the invoice was signed
    row = _queue(
        conn,
        tenant_id,
        document_id,
        channel="email",
        address=facts.email[:320],
        requested_by=CANCELLATION,
        actor=actor,
        now=now,
    )
    wake_deliveries(conn, tenant_id)
    return row


# -- the message -----------------------------------------------------------------------------


def _tr_amount(value: Decimal | None, currency: str | None) -> str:
    if value is None:
        return "-"
    whole, _, frac = f"{value:,.2f}".partition(".")
    unit = "TL" if currency in (None, "TRY") else currency
    return f"{whole.replace(',', '.')},{frac} {unit}"


def _tr_date(value: dt.date | None) -> str:
    return value.strftime("%d.%m.%Y") if value else "-"


def _kind(profile: str | None) -> str:
    return "e-Arşiv Fatura" if profile == EARSIV else "e-Fatura"


def compose(
    doc: DocumentRow,
    *,
    xml: bytes,
    pdf: bytes,
    link: str,
    sender: str,
    to: str,
    message_id: str,
    now: dt.datetime,
) -> EmailMessage:
    """The Turkish message for one invoice: the essentials, the link, XML and PDF attached."""
    number = doc.number or str(doc.ettn)
    kind = _kind(doc.profile)
    ettn = (_parse_own(xml).findtext(f"{CBC}UUID") or "").strip() or str(doc.ettn)
    message = EmailMessage()
    message["Subject"] = f"{kind} {number} - {doc.sender_name or ''}".strip(" -")
    message["From"] = sender
    message["To"] = to
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id
    lines = [
        f"Sayın {doc.receiver_name or 'Alıcı'},",
        "",
        f"{doc.sender_name or 'Satıcı'} tarafından adınıza düzenlenen {kind} ekte yer almaktadır.",
        "",
        f"Fatura No      : {number}",
        f"Fatura Tarihi  : {_tr_date(doc.issue_date)}",
        f"Düzenleyen     : {doc.sender_name or '-'} ({doc.sender_id or '-'})",
        f"Ödenecek Tutar : {_tr_amount(doc.payable, doc.currency)}",
        f"ETTN           : {ettn}",
        "",
        "Faturayı görüntülemek, PDF ve XML olarak indirmek için:",
        link,
        "",
        f"Faturanın yasal aslı ekteki imzalı XML dosyasıdır ({number}.xml); PDF dosyası "
        "onun görüntüsüdür.",
    ]
    if doc.profile == EARSIV:
        lines += ["", f"Bu fatura {NOTE_ELECTRONIC}"]
    message.set_content("\n".join(lines) + "\n")
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename=f"{number}.pdf")
    message.add_attachment(xml, maintype="application", subtype="xml", filename=f"{number}.xml")
    return message


def compose_cancellation(
    doc: DocumentRow,
    cancellation: earsiv.CancellationRow,
    *,
    pdf: bytes,
    link: str,
    sender: str,
    to: str,
    message_id: str,
    now: dt.datetime,
) -> EmailMessage:
    """The Turkish message telling the buyer that an invoice was cancelled (iptal): number,
    date, reason, the link to the view (which now says İPTAL EDİLMİŞTİR), that view as PDF."""
    number = doc.number or str(doc.ettn)
    kind = _kind(doc.profile)
    message = EmailMessage()
    message["Subject"] = f"{kind} {number} iptal edildi - {doc.sender_name or ''}".strip(" -")
    message["From"] = sender
    message["To"] = to
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id
    lines = [
        f"Sayın {doc.receiver_name or 'Alıcı'},",
        "",
        f"{doc.sender_name or 'Satıcı'} tarafından adınıza düzenlenen {_tr_date(doc.issue_date)} "
        f"tarihli {number} numaralı {kind} {_tr_date(cancellation.cancelled_on)} tarihinde "
        "iptal edilmiştir.",
        "",
        f"Fatura No      : {number}",
        f"Fatura Tarihi  : {_tr_date(doc.issue_date)}",
        f"İptal Tarihi   : {_tr_date(cancellation.cancelled_on)}",
        f"İptal Nedeni   : {cancellation.reason}",
        f"Düzenleyen     : {doc.sender_name or '-'} ({doc.sender_id or '-'})",
        f"Tutar          : {_tr_amount(doc.payable, doc.currency)}",
        f"ETTN           : {doc.ettn}",
        "",
        "İptal edilen faturayı görüntülemek için:",
        link,
        "",
        "İptal, e-Arşiv raporuyla Gelir İdaresi Başkanlığına bildirilir.",
    ]
    message.set_content("\n".join(lines) + "\n")
    message.add_attachment(
        pdf, maintype="application", subtype="pdf", filename=f"{number}-iptal.pdf"
    )
    return message


def sms_text(doc: DocumentRow, link: str) -> str:
    number = doc.number or str(doc.ettn)
    return (
        f"{doc.sender_name or ''} {_kind(doc.profile)} {number}, "
        f"{_tr_amount(doc.payable, doc.currency)}: {link}"
    ).strip()


# -- the service -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Work:
    doc: DocumentRow
    xml: bytes
    token: str
    sender: str
    cancellation: earsiv.CancellationRow | None = None
    logo: tuple[bytes, str] | None = None  # the issuer's, printed on the PDF


class DeliveryService:
    """Queues, sends and lists the deliveries of the tenants' invoices."""

    def __init__(
        self,
        db: Database,
        mailer: Mailer,
        *,
        sms: SmsProvider | None = None,
        mail_from: str,
        public_base_url: str,
        retry_first: float = 60.0,
        retry_cap: float = 3600.0,
        max_attempts: int = 12,
        clock: Clock = utc_now,
    ) -> None:
        self.db = db
        self.mailer = mailer
        self.sms = sms
        self.mail_from = mail_from
        self.public_base_url = public_base_url.rstrip("/")
        self.retry_first = retry_first
        self.retry_cap = retry_cap
        self.max_attempts = max_attempts
        self.clock = clock

    def view_url(self, token: str) -> str:
        return f"{self.public_base_url}/e/{token}"

    def public_url(self, conn: Connection, tenant_id: uuid.UUID, document_id: uuid.UUID) -> str:
        """Where the buyer sees the document (made on first use, in the caller's tenant
        transaction): what the e-Arşiv report gives GİB as ``faturaUrl``."""
        return self.view_url(deliveries.link_for(conn, tenant_id, document_id, new_token()))

    def public_urls(
        self, conn: Connection, tenant_id: uuid.UUID, document_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, str]:
        """:meth:`public_url` of many documents in two statements (the e-Arşiv report's
        entries)."""
        wanted = [(d, new_token()) for d in document_ids]
        links = deliveries.links_for(conn, tenant_id, wanted)
        return {d: self.view_url(token) for d, token in links.items()}

    # -- asked for by users ------------------------------------------------------------------

    def _signed_out(self, conn: Connection, tenant_id: uuid.UUID, ident: uuid.UUID) -> DocumentRow:
        doc = get_document(conn, tenant_id, ident, created_at(ident))
        if doc is None or doc.direction != "out":
            raise DocumentNotFoundError
        if doc.signed_sha256 is None:
            raise NotSignedYetError(status=doc.status)
        return doc

    def request_email(
        self,
        tenant_id: uuid.UUID,
        document_id: uuid.UUID,
        email: str,
        *,
        requested_by: str = "api",
        actor: str = "api",
    ) -> deliveries.Delivery:
        """Send a signed outgoing invoice (again) to ``email`` (``requested_by``: ``api`` or
        ``portal``; ``actor``: who asked)."""
        address = email.strip()
        if not is_email(address):
            raise InvalidAddressError(where="email")
        with self.db.tenant(tenant_id) as conn:
            self._signed_out(conn, tenant_id, document_id)
            row = _queue(
                conn,
                tenant_id,
                document_id,
                channel="email",
                address=address,
                requested_by=requested_by,
                actor=actor,
                now=self.clock(),
            )
            wake_deliveries(conn, tenant_id)
        return row

    def listed(self, tenant_id: uuid.UUID, document_id: uuid.UUID) -> list[deliveries.Delivery]:
        with self.db.tenant(tenant_id) as conn:
            doc = get_document(conn, tenant_id, document_id, created_at(document_id))
            if doc is None or doc.direction != "out":
                raise DocumentNotFoundError
            return deliveries.for_document(conn, tenant_id, document_id)

    # -- the worker --------------------------------------------------------------------------

    def deliver_pending(self, tenant_id: uuid.UUID, *, limit: int | None = None) -> int:
        """Send the tenant's due deliveries, one at a time; how many were attempted."""
        done = 0
        while limit is None or done < limit:
            with self.db.tenant(tenant_id) as conn:
                claimed = deliveries.claim_next(conn, tenant_id, lease=LEASE)
            if claimed is None:
                break
            self._attempt(tenant_id, claimed)
            done += 1
        return done

    def due_tenants(self) -> list[uuid.UUID]:
        with self.db.system() as conn:
            return deliveries.due_tenants(conn)

    def _load(self, tenant_id: uuid.UUID, claimed: deliveries.Claimed) -> _Work:
        with self.db.tenant(tenant_id) as conn:
            doc = self._signed_out(conn, tenant_id, claimed.document_id)
            assert doc.signed_sha256 is not None  # noqa: S101 - checked by _signed_out
            xml = get_blob(conn, tenant_id, doc.signed_sha256)
            token = deliveries.link_for(conn, tenant_id, doc.document_id, new_token())
            sender = tenants.mail_from(conn, tenant_id) or self.mail_from
            cancellation = None
            if claimed.requested_by == CANCELLATION:
                cancellation = earsiv.get_cancellation(conn, tenant_id, doc.document_id)
                if cancellation is None:  # the row outlives nothing: a cancellation is final
                    raise DocumentNotFoundError
            logo = company.get_logo(conn, tenant_id)
        return _Work(doc, xml, token, sender, cancellation, logo)

    def _send(self, claimed: deliveries.Claimed, work: _Work) -> None:
        link = self.view_url(work.token)
        if claimed.channel == "sms":
            if self.sms is None:
                raise MailError("no SMS provider is configured", permanent=False)
            self.sms.send(
                claimed.address, sms_text(work.doc, link), reference=str(claimed.delivery_id)
            )
            return
        from entegrator.rendering import html_view, render_pdf, with_logo

        view = html_view(work.xml, own_stylesheet=False, cancelled=work.doc.status == "cancelled")
        pdf = render_pdf(with_logo(view.html, work.logo))
        domain = work.sender.rpartition("@")[2] or "localhost"
        if work.cancellation is not None:
            self.mailer.send(
                compose_cancellation(
                    work.doc,
                    work.cancellation,
                    pdf=pdf,
                    link=link,
                    sender=work.sender,
                    to=claimed.address,
                    message_id=f"<{claimed.delivery_id}@{domain}>",
                    now=self.clock(),
                )
            )
            return
        message = compose(
            work.doc,
            xml=work.xml,
            pdf=pdf,
            link=link,
            sender=work.sender,
            to=claimed.address,
            message_id=f"<{claimed.delivery_id}@{domain}>",
            now=self.clock(),
        )
        self.mailer.send(message)

    def _attempt(self, tenant_id: uuid.UUID, claimed: deliveries.Claimed) -> None:
        status, error, retry_in = "sent", None, 0.0
        try:
            work = self._load(tenant_id, claimed)
            self._send(claimed, work)
        except MailError as exc:
            error = exc.answer
            final = exc.permanent or claimed.attempts >= self.max_attempts
            status = "failed" if final else "queued"
            retry_in = backoff(claimed.attempts, first=self.retry_first, cap=self.retry_cap)
        except EntegratorError as exc:  # the document went away, a corrupt blob: final
            status, error = "failed", f"{exc.code}: {exc.text_en}"
        except Exception as exc:  # rendering broke: retried, then given up
            log.exception("delivery %s of tenant %s failed", claimed.delivery_id, tenant_id)
            error = f"{type(exc).__name__}: {exc}"[:1000]
            status = "failed" if claimed.attempts >= self.max_attempts else "queued"
            retry_in = backoff(claimed.attempts, first=self.retry_first, cap=self.retry_cap)
        now = self.clock()
        about = _about(claimed.delivery_id, claimed.channel, claimed.address)
        with self.db.tenant(tenant_id) as conn:
            deliveries.record_attempt(
                conn, tenant_id, claimed.delivery_id, status=status, error=error, retry_in=retry_in
            )
            try:
                if status == "sent":
                    _event(
                        conn,
                        tenant_id,
                        claimed.document_id,
                        "delivery-sent",
                        about | {"attempt": claimed.attempts, "requested_by": claimed.requested_by},
                        actor="worker",
                        now=now,
                        notify=DELIVERED_EVENT,
                    )
                else:
                    _event(
                        conn,
                        tenant_id,
                        claimed.document_id,
                        "delivery-failed",
                        about
                        | _failed_event(
                            claimed.attempts,
                            error or "-",
                            final=status == "failed",
                            retry_at=now + dt.timedelta(seconds=retry_in),
                        ),
                        actor="worker",
                        now=now,
                    )
            except LookupError:  # the document is gone: the delivery's own row says it
                pass
        log.info("delivery %s: %s %s", claimed.delivery_id, status, error or "")

    # -- the public view ---------------------------------------------------------------------

    def public_logo(self, token: str) -> tuple[bytes, str] | None:
        """The issuer's logo for the public view of ``token`` (None without one)."""
        if not valid_token(token):
            return None
        with self.db.system() as conn:
            link = deliveries.find_link(conn, token)
        if link is None:
            return None
        with self.db.tenant(link.tenant_id) as conn:
            return company.get_logo(conn, link.tenant_id)

    def public_document(self, token: str) -> tuple[DocumentRow, bytes] | None:
        """The signed document a public-view token shows, and its XML; None for a token that
        shows nothing (malformed, unknown, or a document not signed)."""
        if not valid_token(token):
            return None
        with self.db.system() as conn:
            link = deliveries.find_link(conn, token)
        if link is None:
            return None
        with self.db.tenant(link.tenant_id) as conn:
            doc = get_document(conn, link.tenant_id, link.document_id, created_at(link.document_id))
            if doc is None or doc.signed_sha256 is None:
                return None
            return doc, get_blob(conn, link.tenant_id, doc.signed_sha256)
