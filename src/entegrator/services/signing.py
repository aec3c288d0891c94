"""Signing issued documents with the tenant's financial seal (mali mühür), then queueing them.

A tenant without a seal of its own is signed for with the installation's integrator seal when
one is configured (``SealKeys.signer``); the ``signed`` event says so (``on_behalf``).

Each step locks its document row, checks the status it expects and does nothing otherwise,
so a job that runs twice (a worker killed after committing, a retry) has no second effect.
The state change, its events and the signed blob are committed together.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import Connection

from entegrator import lifecycle
from entegrator.clock import Clock, utc_now
from entegrator.errors import EntegratorError
from entegrator.lifecycle import DocumentStatus
from entegrator.services.deliveries import queue_after_signing
from entegrator.services.seals import SealKeys
from entegrator.signing.errors import SigningError
from entegrator.store import Database, documents
from entegrator.store.errors import BlobCorruptedError
from entegrator.store.ids import created_at

__all__ = ["SignOutcome", "SigningService"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SignOutcome:
    status: str  # the document's status after the step
    changed: bool


class SigningService:
    """Signs the tenants' issued documents with their seals: validated → signed → queued."""

    def __init__(
        self,
        db: Database,
        keys: SealKeys,
        *,
        wake_sender: bool = False,
        deliver_sms: bool = False,
        clock: Clock = utc_now,
    ) -> None:
        self.db = db
        self.keys = keys
        self.clock = clock
        self._wake_sender = wake_sender  # GİB is configured: signed documents go on to it
        self._deliver_sms = deliver_sms  # an SMS provider is configured

    def sign(self, tenant_id: uuid.UUID, document_id: uuid.UUID) -> SignOutcome:
        """Sign one document: validated → signed → queued; a no-op in any other status."""
        with self.db.tenant(tenant_id) as conn:
            row = documents.lock_to_sign(conn, tenant_id, document_id, created_at(document_id))
            if row is None:
                log.warning("sign: document %s of tenant %s not found", document_id, tenant_id)
                return SignOutcome("missing", changed=False)
            return self._sign_row(conn, tenant_id, row)

    def sign_next(self, tenant_id: uuid.UUID) -> SignOutcome | None:
        """Sign the tenant's oldest waiting document that no other worker holds; None when
        nothing is left to sign (or the tenant has no seal)."""
        picked: uuid.UUID | None = None
        try:
            with self.db.tenant(tenant_id) as conn:
                row = documents.next_to_sign(conn, tenant_id)
                if row is None:
                    return None
                picked = row.state.document_id
                outcome = self._sign_row(conn, tenant_id, row)
                return None if outcome.status == "validated" else outcome
        except BlobCorruptedError as exc:  # this document only: set it aside, go on
            assert picked is not None  # noqa: S101 - type narrowing of an invariant
            self._fail(tenant_id, picked, exc)
            return SignOutcome("failed", changed=True)

    def sign_pending(self, tenant_id: uuid.UUID, *, limit: int | None = None) -> int:
        """Sign waiting documents until none is left (or ``limit``); how many were signed.

        Each document is its own transaction, so a worker killed half-way loses nothing: what
        it committed stays, what it did not is still ``validated`` for the next worker.
        """
        done = 0
        while limit is None or done < limit:
            outcome = self.sign_next(tenant_id)
            if outcome is None:
                break
            done += 1
        return done

    def _fail(self, tenant_id: uuid.UUID, document_id: uuid.UUID, exc: EntegratorError) -> None:
        with self.db.tenant(tenant_id) as conn:
            state = documents.lock_state(conn, tenant_id, document_id, created_at(document_id))
            if state is None or state.status != DocumentStatus.VALIDATED:
                return
            lifecycle.move(
                conn,
                tenant_id,
                state,
                DocumentStatus.FAILED,
                happened=[("failed", "failed", {"code": exc.code, "message": exc.text_en})],
                actor="worker",
                now=self.clock(),
                code=exc.code,
                detail=exc.text_tr,
            )

    def _sign_row(
        self, conn: Connection, tenant_id: uuid.UUID, row: documents.ToSign
    ) -> SignOutcome:
        from entegrator.signing import sign

        state = row.state
        if state.status != DocumentStatus.VALIDATED:
            return SignOutcome(state.status, changed=False)
        xml = row.xml
        if hashlib.sha256(xml).digest() != row.xml_sha256:
            raise BlobCorruptedError(digest=row.xml_sha256.hex())
        signer = self.keys.signer(conn, tenant_id, row.seal_id)
        if signer is None:
            # Every waiting document of the tenant waits for a seal; installing one clears the
            # mark and wakes a worker (``seal_installed``).
            documents.mark_seal_missing(
                conn, tenant_id, "Mali mühür yüklenmemiş / no financial seal installed"
            )
            return SignOutcome(DocumentStatus.VALIDATED, changed=False)
        now = self.clock()
        try:
            signed = sign(xml, signer.key, signing_time=now, on_behalf=signer.on_behalf)
        except SigningError as exc:  # expired seal, another VKN's seal: a permanent failure
            lifecycle.move(
                conn,
                tenant_id,
                state,
                DocumentStatus.FAILED,
                happened=[("failed", "failed", {"code": exc.code, "message": exc.text_en})],
                actor="worker",
                now=now,
                code=exc.code,
                detail=exc.text_tr,
            )
            return SignOutcome(DocumentStatus.FAILED, changed=True)
        lifecycle.move(
            conn,
            tenant_id,
            state,
            DocumentStatus.QUEUED,
            happened=[
                (
                    "signed",
                    "signed",
                    {
                        "sha256": hashlib.sha256(signed).hexdigest(),
                        "certificate_serial": format(signer.key.certificate.serial_number, "x"),
                        **({"on_behalf": True} if signer.on_behalf else {}),
                    },
                ),
                ("queued", "queued", {"queue": "gib"}),
            ],
            actor="worker",
            now=now,
            signed=signed,
            notify=False,  # the tenant hears of what GİB says, not of our signing
        )
        # An e-Arşiv invoice goes to its buyer from here (GİB never passes it on).
        queue_after_signing(
            conn, tenant_id, state.document_id, signed, sms=self._deliver_sms, now=now
        )
        if self._wake_sender:
            from entegrator.services.sending import wake_sender

            wake_sender(conn, tenant_id)
        return SignOutcome(DocumentStatus.QUEUED, changed=True)
