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
from typing import Any

from sqlalchemy import Connection, text

from entegrator.signing import vault
from entegrator.signing.certs import SigningKey, TestCA, identity_of
from entegrator.signing.errors import SigningError
from entegrator.store import Database, repo
from entegrator.store.errors import BlobCorruptedError
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
        row = conn.execute(
            text(
                "SELECT certificate, chain, key_nonce, key_ciphertext FROM seals "
                "WHERE tenant_id = :t AND seal_id = :s"
            ),
            {"t": tenant_id, "s": seal_id},
        ).one()
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
            self._seals[seal_id] = key
        return key

    def sign(self, tenant_id: uuid.UUID, document_id: uuid.UUID) -> SignOutcome:
        """validated → signed → queued (for sending); a no-op in any other status.

        One query reads the locked document, its XML and the seal's id; one statement writes
        the signed XML, the events and the new status.
        """
        from entegrator.signing import sign

        with self.db.tenant(tenant_id) as conn:
            row = conn.execute(
                _READ, {"t": tenant_id, "c": created_at(document_id), "d": document_id}
            ).first()
            if row is None:
                log.warning("sign: document %s of tenant %s not found", document_id, tenant_id)
                return SignOutcome("missing", changed=False)
            if row.status != "validated":
                return SignOutcome(row.status, changed=False)
            xml = bytes(row.xml)
            if hashlib.sha256(xml).digest() != bytes(row.xml_sha256):
                raise BlobCorruptedError(digest=bytes(row.xml_sha256).hex())
            seal = self._seal(conn, tenant_id, row.seal_id)
            if seal is None:
                # Waits (status unchanged) until a seal is installed, which queues it again.
                conn.execute(
                    text(
                        "UPDATE documents SET status_code = 'seal-missing', status_detail = "
                        ":d WHERE tenant_id = :t AND created_at = :c AND document_id = :id"
                    ),
                    {
                        "t": tenant_id,
                        "c": row.created_at,
                        "id": document_id,
                        "d": "Mali mühür yüklenmemiş / no financial seal installed",
                    },
                )
                return SignOutcome("validated", changed=False)
            now = dt.datetime.now(dt.UTC)
            signed: bytes | None = None
            code: str | None = None
            detail: str | None = None
            happened: list[tuple[str, str | None, dict[str, Any]]]
            try:
                signed = sign(xml, seal)
            except SigningError as exc:  # expired seal, another VKN's seal: a permanent failure
                status = "failed"
                happened = [("failed", "failed", {"code": exc.code, "message": exc.text_en})]
                code, detail = exc.code, exc.text_tr
            else:
                status = "queued"
                happened = [
                    (
                        "signed",
                        "signed",
                        {
                            "sha256": hashlib.sha256(signed).hexdigest(),
                            "certificate_serial": format(seal.certificate.serial_number, "x"),
                        },
                    ),
                    ("queued", "queued", {"queue": "gib"}),
                ]
            events = repo.chain(
                document_id,
                after_seq=row.event_count,
                after_hash=bytes(row.head_hash),
                events=happened,
                actor="worker",
                at=now,
            )
            conn.execute(
                _WRITE,
                {
                    "t": tenant_id,
                    "c": row.created_at,
                    "d": document_id,
                    "xml": signed,
                    "x": hashlib.sha256(signed).digest() if signed is not None else None,
                    "size": len(signed) if signed is not None else 0,
                    "status": status,
                    "code": code,
                    "detail": detail,
                    "now": now,
                    "n": events[-1].seq,
                    "h": events[-1].hash,
                    "actor": "worker",
                    **repo.event_columns(events),
                },
            )
            return SignOutcome(status, changed=True)


_READ = text(
    """
SELECT d.status, d.created_at, d.event_count, d.head_hash, d.xml_sha256, b.data AS xml,
       s.seal_id
  FROM documents d
  JOIN blobs b ON b.tenant_id = d.tenant_id AND b.sha256 = d.xml_sha256
  LEFT JOIN seals s ON s.tenant_id = d.tenant_id AND s.active
 WHERE d.tenant_id = :t AND d.created_at = :c AND d.document_id = :d
   FOR UPDATE OF d
"""
)

_WRITE = text(
    """
WITH
  blob AS (
    INSERT INTO blobs (tenant_id, sha256, size, data)
    SELECT :t, CAST(:x AS bytea), :size, CAST(:xml AS bytea) WHERE CAST(:x AS bytea) IS NOT NULL
    ON CONFLICT (tenant_id, sha256) DO NOTHING),
  ev AS (
    INSERT INTO events (tenant_id, document_id, seq, at, type, status, actor, data,
                        prev_hash, hash)
    SELECT :t, :d, e.seq, :now, e.type, e.status, :actor, CAST(e.data AS jsonb), e.prev, e.hash
      FROM unnest(CAST(:ev_seq AS int[]), CAST(:ev_type AS text[]), CAST(:ev_status AS text[]),
                  CAST(:ev_data AS text[]), CAST(:ev_prev AS bytea[]), CAST(:ev_hash AS bytea[]))
           AS e(seq, type, status, data, prev, hash))
UPDATE documents
   SET status = :status, signed_sha256 = CAST(:x AS bytea), event_count = :n, head_hash = :h,
       updated_at = :now, status_code = :code, status_detail = :detail
 WHERE tenant_id = :t AND created_at = :c AND document_id = :d
"""
)
