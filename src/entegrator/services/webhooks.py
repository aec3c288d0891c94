"""Webhooks: telling a tenant's ERP what happened, signed, at least once.

A tenant registers endpoints (``POST /api/v1/webhooks``) for some of the events below and gets
each endpoint's secret once. Whatever changes a document also writes, in the same transaction,
one notification per subscribed endpoint (``notify_document`` → SQL ``entegrator_notify``):
a change that is rolled back notifies nobody, and a committed one is never lost. A worker then
POSTs each notification as JSON with these headers::

    Entegrator-Event: document.status
    Entegrator-Delivery: <uuid>          the same on every retry: the ERP's duplicate check
    Entegrator-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>

A 2xx answer is delivered; anything else (or no answer within the deadline,
``ENTEGRATOR_WEBHOOK_TIMEOUT_SECONDS``, 10 s, for the whole request and answer) is retried
with the pause doubling from 10 s up to 6 h, ``MAX_ATTEMPTS`` times, then ``failed`` (listed
with ``GET /api/v1/webhooks/{id}/deliveries``). Of the answer only the status counts: at most
``MAX_RESPONSE_BYTES`` of its body are read. Endpoints on loopback, private and other
non-public addresses are refused unless ``ENTEGRATOR_WEBHOOK_ALLOW_PRIVATE`` is set (an ERP on
the same network); the host is resolved once per delivery and the connection goes to the
address that was checked (``_webhook_http``).

Deliveries are jobs of their own queue, ``QUEUE`` (``webhooks``), which workers run in slots of
their own (``ENTEGRATOR_WEBHOOK_CONCURRENCY``): slow ERPs never hold up signing, sending or
receiving. A tenant has at most ``ENTEGRATOR_WEBHOOK_TENANT_CONCURRENCY`` deliveries under way
at once, across all workers; the rest wait their turn, so one tenant's endpoints never take
every webhook slot either.

Events: ``document.received`` (an incoming invoice was filed), ``document.status`` (an
outgoing or incoming document changed status: sent, delivered, rejected_by_gib,
failed_delivery, accepted, rejected, failed), ``document.delivered`` (the mail server or SMS
provider took a message to the buyer of an outgoing invoice: the invoice, its cancellation).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import secrets
import ssl
import uuid
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import httpx
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Connection

from entegrator.clock import Clock, utc_now
from entegrator.errors import EntegratorError
from entegrator.lifecycle.backoff import backoff
from entegrator.services import _webhook_http as web
from entegrator.store import Database, documents, repo
from entegrator.store import webhooks as hooks
from entegrator.store.ids import created_at

__all__ = [
    "EVENTS",
    "QUEUE",
    "WEBHOOK_TASK",
    "WebhookError",
    "WebhookService",
    "due_tenants",
    "notify_document",
    "signature",
    "wake_webhooks",
]

log = logging.getLogger(__name__)

WEBHOOK_TASK = "entegrator.deliver_webhooks"
QUEUE = "webhooks"  # the procrastinate queue of deliveries, apart from repo.QUEUE
EVENTS = (
    "document.received",
    "document.status",
    "document.delivered",
    "earsiv.overdue",
    "billing.credits_low",
)
MAX_ATTEMPTS = 15
TIMEOUT = 10.0
MAX_RESPONSE_BYTES = 4096
LEASE = dt.timedelta(minutes=2)  # longer than any delivery (the timeout is at most 60 s)


class WebhookError(EntegratorError):
    code = "WEBHOOK_INVALID"
    message_tr = "Webhook geçersiz: {detail_tr}"
    message_en = "Invalid webhook: {detail_en}"
    http_status = 422


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``Entegrator-Signature`` header of ``body`` sent at ``timestamp``.

    >>> signature("s", 1, b"{}")
    't=1,v1=b253639bcd705ed1cda3073f66104f16988bd40272584dea7d0d345ae93e61cc'
    """
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


# One statement: the document as the ERP needs it, notified to every subscribed endpoint.
def notify_document(
    conn: Connection, tenant_id: uuid.UUID, document_id: uuid.UUID, event: str
) -> None:
    """Notify the tenant's endpoints of ``event`` about the document as it now stands, in the
    caller's transaction (after its change)."""
    documents.notify(conn, tenant_id, document_id, created_at(document_id), event)


def _lock(secret: str, master: bytes, aad: str) -> tuple[bytes, bytes]:
    nonce = os.urandom(12)
    return nonce, AESGCM(master).encrypt(nonce, secret.encode(), aad.encode())


def _unlock(nonce: bytes, ciphertext: bytes, master: bytes, aad: str) -> str:
    return AESGCM(master).decrypt(nonce, ciphertext, aad.encode()).decode()


@dataclass(frozen=True)
class Delivered:
    delivery_id: uuid.UUID
    outcome: str  # delivered, retry, failed


class WebhookService:
    def __init__(
        self,
        db: Database,
        master: bytes,
        *,
        allow_private: bool = False,
        timeout: float = TIMEOUT,
        per_tenant: int = 2,
        clock: Clock = utc_now,
        transport: web.WebhookTransport = web.HTTP,
    ) -> None:
        """``timeout``: one delivery at most, all of it; ``per_tenant``: deliveries of one
        tenant under way at once, across all workers."""
        self.db = db
        self.clock = clock
        self.transport = transport  # the network (a test or a tool may give its own)
        self.master = master
        self.allow_private = allow_private
        self.timeout = timeout
        self.per_tenant = per_tenant

    @cached_property
    def tls(self) -> ssl.SSLContext:
        return httpx.create_ssl_context()

    # -- endpoints -----------------------------------------------------------------------------

    def check_url(self, url: str) -> None:
        """An http(s) URL whose host resolves to public addresses only (any address when
        private networks are allowed: an ERP on the same network); raises ``WebhookError``."""
        try:
            if len(url) > 2000:
                raise ValueError("too long")
            target = web.Target(url)
        except ValueError:
            raise WebhookError(
                where="url", detail_tr="http(s) adresi olmalı", detail_en="must be an http(s) URL"
            ) from None
        if self.allow_private:  # resolved when delivering
            return
        try:
            public = all(web.public_address(a) for a in self.transport.resolve(target))
        except web.DeliveryError:  # does not resolve
            public = False
        if not public:
            raise WebhookError(
                where="url",
                detail_tr=f"{target.host} yerel/özel bir adres (ya da çözülemiyor)",
                detail_en=f"{target.host} is a local/private address (or does not resolve)",
            )

    def create(
        self, conn: Connection, tenant_id: uuid.UUID, url: str, events: list[str] | None
    ) -> dict[str, Any]:
        """Register an endpoint; the answer carries its secret, shown this once."""
        if events is not None and not events:
            raise WebhookError(
                where="events",
                detail_tr="en az bir olay seçilmeli (hepsi için alanı göndermeyin)",
                detail_en="choose at least one event (leave the field out for all)",
            )
        chosen = list(dict.fromkeys(events or EVENTS))
        unknown = [e for e in chosen if e not in EVENTS]
        if unknown:
            raise WebhookError(
                where="events",
                detail_tr=f"bilinmeyen olay: {', '.join(unknown)}",
                detail_en=f"unknown event: {', '.join(unknown)}",
            )
        self.check_url(url)
        webhook_id = uuid.uuid4()
        secret = "whsec_" + secrets.token_urlsafe(32)
        nonce, ciphertext = _lock(secret, self.master, f"{tenant_id}/{webhook_id}")
        hooks.insert_endpoint(
            conn,
            tenant_id,
            webhook_id,
            url=url,
            events=chosen,
            secret_nonce=nonce,
            secret_ciphertext=ciphertext,
        )
        return {"id": str(webhook_id), "url": url, "events": chosen, "secret": secret}

    def register(self, key: repo.ApiKey, url: str, events: list[str] | None) -> dict[str, Any]:
        """``create`` in its own transaction, with the audit entry naming who registered it."""
        with self.db.tenant(key.tenant_id) as conn:
            created = self.create(conn, key.tenant_id, url, events)
            repo.append_audit(
                conn,
                key.tenant_id,
                actor=key.actor,
                action="webhook.create",
                target=created["id"],
                data={"url": url, "events": created["events"]},
            )
        return created

    def unregister(self, key: repo.ApiKey, webhook_id: uuid.UUID) -> bool:
        """``deactivate`` in its own transaction, audited; False when there is no such
        active endpoint (nothing is written then)."""
        with self.db.tenant(key.tenant_id) as conn:
            if not self.deactivate(conn, key.tenant_id, webhook_id):
                return False
            repo.append_audit(
                conn,
                key.tenant_id,
                actor=key.actor,
                action="webhook.delete",
                target=str(webhook_id),
            )
        return True

    def endpoints_of(self, key: repo.ApiKey) -> list[dict[str, Any]]:
        with self.db.tenant(key.tenant_id) as conn:
            return self.endpoints(conn, key.tenant_id)

    def deliveries_of(self, key: repo.ApiKey, webhook_id: uuid.UUID) -> list[dict[str, Any]] | None:
        """The endpoint's last notifications, newest first; None: no such endpoint."""
        with self.db.tenant(key.tenant_id) as conn:
            return self.deliveries(conn, key.tenant_id, webhook_id)

    @staticmethod
    def endpoints(conn: Connection, tenant_id: uuid.UUID) -> list[dict[str, Any]]:
        return [
            {
                "id": str(e.webhook_id),
                "url": e.url,
                "events": e.events,
                "active": e.active,
                "created_at": e.created_at.isoformat(),
            }
            for e in hooks.endpoints(conn, tenant_id)
        ]

    @staticmethod
    def deactivate(conn: Connection, tenant_id: uuid.UUID, webhook_id: uuid.UUID) -> bool:
        """Stop notifying an endpoint (what it was sent stays listed)."""
        return hooks.deactivate(conn, tenant_id, webhook_id)

    @staticmethod
    def deliveries(
        conn: Connection, tenant_id: uuid.UUID, webhook_id: uuid.UUID, limit: int = 100
    ) -> list[dict[str, Any]] | None:
        if not hooks.exists(conn, tenant_id, webhook_id):
            return None
        return [
            {
                "id": str(r.delivery_id),
                "event": r.event,
                "document_id": r.payload.get("document", {}).get("id"),
                "status": r.status,
                "attempts": r.attempts,
                "last_status": r.last_status,
                "last_error": r.last_error,
                "created_at": r.created_at.isoformat(),
                "delivered_at": r.delivered_at.isoformat() if r.delivered_at else None,
            }
            for r in hooks.deliveries(conn, tenant_id, webhook_id, limit)
        ]

    # -- delivering ----------------------------------------------------------------------------

    def deliver_pending(self, tenant_id: uuid.UUID) -> int:
        """Deliver the tenant's due notifications, oldest first; how many were delivered."""
        delivered = 0
        while (attempt := self._deliver_next(tenant_id)) is not None:
            delivered += attempt.outcome == "delivered"
        return delivered

    def _claim(self, tenant_id: uuid.UUID) -> hooks.Claimed | None:
        """Lease the tenant's oldest due notification, unless ``per_tenant`` are under way
        already (the lease marks them; one that outlives a dead worker lapses)."""
        with self.db.tenant(tenant_id) as conn:
            return hooks.claim_next(conn, tenant_id, lease=LEASE, per_tenant=self.per_tenant)

    def _deliver_next(self, tenant_id: uuid.UUID) -> Delivered | None:
        row = self._claim(tenant_id)
        if row is None:
            return None
        status: int | None = None
        error: str | None = None
        if not row.active:
            outcome, error = "failed", "the endpoint was deactivated"
        else:
            try:
                secret = _unlock(
                    row.secret_nonce,
                    row.secret_ciphertext,
                    self.master,
                    f"{tenant_id}/{row.webhook_id}",
                )
                outcome, status, error = self._post(row, secret)
            except InvalidTag:
                outcome, error = "failed", "the secret does not decrypt (installation key?)"
        if outcome == "retry" and row.attempts >= MAX_ATTEMPTS:
            outcome = "failed"
        pause = backoff(row.attempts, first=10.0, cap=6 * 3600.0)
        with self.db.tenant(tenant_id) as conn:
            hooks.record_attempt(
                conn,
                tenant_id,
                row.delivery_id,
                status={"delivered": "delivered", "retry": "pending"}.get(outcome, "failed"),
                http_status=status,
                error=error,
                retry_in=pause,
            )
        return Delivered(row.delivery_id, outcome)

    def _post(self, row: hooks.Claimed, secret: str) -> tuple[str, int | None, str | None]:
        try:
            target = web.Target(row.url)
            addresses = self.transport.resolve(target)
        except (ValueError, web.DeliveryError) as exc:
            return "retry", None, str(exc)[:500]
        if not self.allow_private and not all(web.public_address(a) for a in addresses):
            return "retry", None, f"{target.host} resolves to a local/private address"
        body = json.dumps(
            {"id": str(row.delivery_id), **row.payload}, ensure_ascii=False, sort_keys=True
        ).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "entegrator-webhooks",
            "Entegrator-Event": row.event,
            "Entegrator-Delivery": str(row.delivery_id),
            "Entegrator-Signature": signature(secret, int(self.clock().timestamp()), body),
        }
        try:
            status = self.transport.post(
                target,
                addresses,
                content=body,
                headers=headers,
                seconds=self.timeout,
                max_body=MAX_RESPONSE_BYTES,
                tls=self.tls,
            )
        except web.DeliveryError as exc:
            return "retry", None, str(exc)
        if 200 <= status < 300:
            return "delivered", status, None
        return "retry", status, f"HTTP {status}"


def wake_webhooks(conn: Connection, tenant_id: uuid.UUID) -> bool:
    return repo.wake(conn, WEBHOOK_TASK, tenant_id, lock=f"webhooks:{tenant_id}", queue=QUEUE)


def due_tenants(conn: Connection) -> list[uuid.UUID]:
    """Tenants with notifications whose retry is due (for the periodic wake-up)."""
    return hooks.due_tenants(conn)
