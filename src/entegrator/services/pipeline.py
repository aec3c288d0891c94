"""The outgoing pipeline's steps after issuing: sign with the tenant's seal, then queue.

Each step locks its document row, checks the status it expects and does nothing otherwise,
so a job that runs twice (a worker killed after committing, a retry) has no second effect.
The state change, its events and the signed blob are committed together.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
import uuid
from dataclasses import dataclass

from sqlalchemy import Connection

from entegrator import lifecycle
from entegrator.errors import EntegratorError
from entegrator.lifecycle import DocumentStatus
from entegrator.signing import vault
from entegrator.signing.certs import SigningKey, TestCA, identity_of
from entegrator.signing.errors import SigningError
from entegrator.store import Database, documents, seals
from entegrator.store.errors import BlobCorruptedError
from entegrator.store.ids import created_at

__all__ = ["Pipeline", "SignOutcome", "install_seal", "install_test_seal", "seal_installed"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SignOutcome:
    status: str  # the document's status after the step
    changed: bool


def install_seal(
    conn: Connection, tenant_id: uuid.UUID, seal: SigningKey, master: bytes
) -> uuid.UUID:
    """Make ``seal`` the tenant's active seal (the previous one is kept, inactive)."""
    from cryptography.hazmat.primitives import serialization

    locked = vault.lock(seal, master, tenant=str(tenant_id))
    seal_id = uuid.uuid4()
    seals.insert_seal(
        conn,
        tenant_id,
        seal_id,
        certificate=seal.certificate.public_bytes(serialization.Encoding.DER),
        chain=locked.chain,
        key_nonce=locked.nonce,
        key_ciphertext=locked.ciphertext,
        subject=seal.certificate.subject.rfc4514_string(),
        identity=identity_of(seal.certificate),
        not_after=seal.certificate.not_valid_after_utc,
    )
    return seal_id


def install_test_seal(  # noqa: PLR0917 - the tenant, who it is, the keys
    conn: Connection,
    tenant_id: uuid.UUID,
    vkn: str,
    name: str,
    master: bytes,
    ca: TestCA | None = None,
) -> uuid.UUID:
    """A development seal (never for production documents) issued by ``ca``, the
    installation's development CA (``Runtime.test_ca``), or by a throw-away one."""
    authority = ca or TestCA.create("entegrator Test SM", now=dt.datetime.now(dt.UTC))
    seal = authority.issue(identity=vkn, name=name, now=dt.datetime.now(dt.UTC))
    return install_seal(conn, tenant_id, seal, master)


class Pipeline:
    """Worker-side steps of the outgoing pipeline."""

    def __init__(self, db: Database, master_key: bytes, *, wake_sender: bool = False) -> None:
        self.db = db
        self._master = master_key
        self._wake_sender = wake_sender  # GİB is configured: signed documents go on to it
        self._seals: dict[uuid.UUID, SigningKey] = {}
        self._lock = threading.Lock()

    def _seal(
        self, conn: Connection, tenant_id: uuid.UUID, seal_id: uuid.UUID | None
    ) -> SigningKey | None:
        """The tenant's active seal, decrypted once per process and seal."""
        if seal_id is None:
            return None
        with self._lock:
            cached = self._seals.get(seal_id)
        if cached is not None:
            return cached
        stored = seals.read_seal(conn, tenant_id, seal_id)
        key = vault.unlock(
            vault.LockedSeal(
                certificate=stored.certificate,
                chain=stored.chain,
                nonce=stored.key_nonce,
                ciphertext=stored.key_ciphertext,
            ),
            self._master,
            tenant=str(tenant_id),
        )
        with self._lock:
            self._seals[seal_id] = key
        return key

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
                now=dt.datetime.now(dt.UTC),
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
        seal = self._seal(conn, tenant_id, row.seal_id)
        if seal is None:
            # Every waiting document of the tenant waits for a seal; installing one clears the
            # mark and wakes a worker (``seal_installed``).
            documents.mark_seal_missing(
                conn, tenant_id, "Mali mühür yüklenmemiş / no financial seal installed"
            )
            return SignOutcome(DocumentStatus.VALIDATED, changed=False)
        now = dt.datetime.now(dt.UTC)
        try:
            signed = sign(xml, seal, signing_time=dt.datetime.now(dt.UTC))
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
                        "certificate_serial": format(seal.certificate.serial_number, "x"),
                    },
                ),
                ("queued", "queued", {"queue": "gib"}),
            ],
            actor="worker",
            now=now,
            signed=signed,
            notify=False,  # the tenant hears of what GİB says, not of our signing
        )
        if self._wake_sender:
            from entegrator.services.sending import wake_sender

            wake_sender(conn, tenant_id)
        return SignOutcome(DocumentStatus.QUEUED, changed=True)


def seal_installed(conn: Connection, tenant_id: uuid.UUID) -> int:
    """After a seal is installed: waiting documents are signable again; wake a worker."""
    from entegrator.services.invoices import wake_signer

    waiting = documents.clear_seal_missing(conn, tenant_id)
    wake_signer(conn, tenant_id)
    return waiting
