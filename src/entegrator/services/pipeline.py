"""The outgoing pipeline's steps after issuing: sign with the tenant's seal, then queue.

Each step locks its document row, checks the status it expects and does nothing otherwise,
so a job that runs twice (a worker killed after committing, a retry) has no second effect.
The state change, its events and the signed blob are committed together.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import uuid
from dataclasses import dataclass

from sqlalchemy import Connection, text

from entegrator.signing import vault
from entegrator.signing.certs import SigningKey, TestCA, identity_of
from entegrator.signing.errors import SigningError
from entegrator.store import Database, repo
from entegrator.store.ids import created_at

__all__ = ["Pipeline", "SignOutcome", "install_seal", "install_test_seal"]

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
    conn.execute(
        text("UPDATE seals SET active = false WHERE tenant_id = :t AND active"), {"t": tenant_id}
    )
    conn.execute(
        text(
            "INSERT INTO seals (tenant_id, seal_id, certificate, chain, key_nonce, "
            "key_ciphertext, subject, identity, not_after) "
            "VALUES (:t, :s, :c, :chain, :n, :k, :subj, :ident, :na)"
        ),
        {
            "t": tenant_id,
            "s": seal_id,
            "c": seal.certificate.public_bytes(serialization.Encoding.DER),
            "chain": list(locked.chain),
            "n": locked.nonce,
            "k": locked.ciphertext,
            "subj": seal.certificate.subject.rfc4514_string(),
            "ident": identity_of(seal.certificate),
            "na": seal.certificate.not_valid_after_utc,
        },
    )
    return seal_id


def install_test_seal(
    conn: Connection, tenant_id: uuid.UUID, vkn: str, name: str, master: bytes
) -> uuid.UUID:
    """A development seal from a throw-away test CA (never for production documents)."""
    seal = TestCA.create("entegrator Test SM").issue(identity=vkn, name=name)
    return install_seal(conn, tenant_id, seal, master)


class Pipeline:
    """Worker-side steps of the outgoing pipeline."""

    def __init__(self, db: Database, master_key: bytes) -> None:
        self.db = db
        self._master = master_key
        self._seals: dict[uuid.UUID, SigningKey] = {}
        self._lock = threading.Lock()

    def _seal(self, conn: Connection, tenant_id: uuid.UUID) -> SigningKey | None:
        row = conn.execute(
            text(
                "SELECT seal_id, certificate, chain, key_nonce, key_ciphertext FROM seals "
                "WHERE tenant_id = :t AND active"
            ),
            {"t": tenant_id},
        ).first()
        if row is None:
            return None
        with self._lock:
            cached = self._seals.get(row.seal_id)
        if cached is not None:
            return cached
        key = vault.unlock(
            vault.LockedSeal(
                certificate=bytes(row.certificate),
                chain=tuple(bytes(c) for c in row.chain),
                nonce=bytes(row.key_nonce),
                ciphertext=bytes(row.key_ciphertext),
            ),
            self._master,
            tenant=str(tenant_id),
        )
        with self._lock:
            self._seals[row.seal_id] = key
        return key

    def sign(self, tenant_id: uuid.UUID, document_id: uuid.UUID) -> SignOutcome:
        """validated → signed → queued (for sending); a no-op in any other status."""
        from entegrator.signing import sign

        with self.db.tenant(tenant_id) as conn:
            doc = repo.get_document(
                conn, tenant_id, document_id, created_at(document_id), for_update=True
            )
            if doc is None:
                log.warning("sign: document %s of tenant %s not found", document_id, tenant_id)
                return SignOutcome("missing", changed=False)
            if doc.status != "validated":
                return SignOutcome(doc.status, changed=False)
            seal = self._seal(conn, tenant_id)
            if seal is None:
                # Waits (status unchanged) until a seal is installed, which queues it again.
                conn.execute(
                    text(
                        "UPDATE documents SET status_code = 'seal-missing', status_detail = "
                        ":d WHERE tenant_id = :t AND created_at = :c AND document_id = :id"
                    ),
                    {
                        "t": tenant_id,
                        "c": doc.created_at,
                        "id": document_id,
                        "d": "Mali mühür yüklenmemiş / no financial seal installed",
                    },
                )
                return SignOutcome("validated", changed=False)
            xml = repo.get_blob(conn, tenant_id, doc.xml_sha256)
            now = dt.datetime.now(dt.UTC)
            try:
                signed = sign(xml, seal)
            except SigningError as exc:  # expired seal, another VKN's seal: a permanent failure
                count, head = repo.append_events(
                    conn,
                    tenant_id,
                    document_id,
                    after_seq=doc.event_count,
                    after_hash=doc.head_hash,
                    events=[("failed", "failed", {"code": exc.code, "message": exc.text_en})],
                    actor="worker",
                    at=now,
                )
                self._update(
                    conn, tenant_id, doc, "failed", None, count, head, now, exc.code, exc.text_tr
                )
                return SignOutcome("failed", changed=True)
            digest = repo.put_blob(conn, tenant_id, signed)
            count, head = repo.append_events(
                conn,
                tenant_id,
                document_id,
                after_seq=doc.event_count,
                after_hash=doc.head_hash,
                events=[
                    (
                        "signed",
                        "signed",
                        {
                            "sha256": digest.hex(),
                            "certificate_serial": format(seal.certificate.serial_number, "x"),
                        },
                    ),
                    ("queued", "queued", {"queue": "gib"}),
                ],
                actor="worker",
                at=now,
            )
            self._update(conn, tenant_id, doc, "queued", digest, count, head, now, None, None)
            return SignOutcome("queued", changed=True)

    @staticmethod
    def _update(  # noqa: PLR0917 - one row's new values
        conn: Connection,
        tenant_id: uuid.UUID,
        doc: repo.DocumentRow,
        status: str,
        signed: bytes | None,
        count: int,
        head: bytes,
        now: dt.datetime,
        code: str | None,
        detail: str | None,
    ) -> None:
        conn.execute(
            text(
                "UPDATE documents SET status = :s, signed_sha256 = :sig, event_count = :n, "
                "head_hash = :h, updated_at = :now, status_code = :code, status_detail = :det "
                "WHERE tenant_id = :t AND created_at = :c AND document_id = :d"
            ),
            {
                "s": status,
                "sig": signed,
                "n": count,
                "h": head,
                "now": now,
                "code": code,
                "det": detail,
                "t": tenant_id,
                "c": doc.created_at,
                "d": doc.document_id,
            },
        )
