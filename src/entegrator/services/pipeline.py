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

from entegrator.errors import EntegratorError
from entegrator.services.webhooks import notify_document
from entegrator.signing import vault
from entegrator.signing.certs import SigningKey, TestCA, identity_of
from entegrator.signing.errors import SigningError
from entegrator.store import Database, repo
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
        """Sign one document: validated → signed → queued; a no-op in any other status."""
        with self.db.tenant(tenant_id) as conn:
            row = conn.execute(
                _READ_ONE, {"t": tenant_id, "c": created_at(document_id), "d": document_id}
            ).first()
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
                row = conn.execute(_READ_NEXT, {"t": tenant_id}).first()
                if row is None:
                    return None
                picked = uuid.UUID(str(row.document_id))
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
            row = conn.execute(
                _READ_STATE, {"t": tenant_id, "c": created_at(document_id), "d": document_id}
            ).one()
            if row.status != "validated":
                return
            now = dt.datetime.now(dt.UTC)
            events = repo.chain(
                document_id,
                after_seq=row.event_count,
                after_hash=bytes(row.head_hash),
                events=[("failed", "failed", {"code": exc.code, "message": exc.text_en})],
                actor="worker",
                at=now,
            )
            conn.execute(
                _WRITE,
                _write_params(
                    tenant_id,
                    row.created_at,
                    document_id,
                    None,
                    "failed",
                    exc.code,
                    exc.text_tr,
                    now,
                    events,
                ),
            )
            notify_document(conn, tenant_id, document_id, "document.status")

    def _sign_row(self, conn: Connection, tenant_id: uuid.UUID, row: Any) -> SignOutcome:
        from entegrator.signing import sign

        document_id = uuid.UUID(str(row.document_id))
        if row.status != "validated":
            return SignOutcome(row.status, changed=False)
        xml = bytes(row.xml)
        if hashlib.sha256(xml).digest() != bytes(row.xml_sha256):
            raise BlobCorruptedError(digest=bytes(row.xml_sha256).hex())
        seal = self._seal(conn, tenant_id, row.seal_id)
        if seal is None:
            # Every waiting document of the tenant waits for a seal; installing one clears the
            # mark and wakes a worker (``seal_installed``).
            conn.execute(
                text(
                    "UPDATE documents SET status_code = 'seal-missing', status_detail = :d "
                    "WHERE tenant_id = :t AND status = 'validated' AND status_code IS NULL"
                ),
                {"t": tenant_id, "d": "Mali mühür yüklenmemiş / no financial seal installed"},
            )
            return SignOutcome("validated", changed=False)
        now = dt.datetime.now(dt.UTC)
        signed: bytes | None = None
        code: str | None = None
        detail: str | None = None
        happened: list[tuple[str, str | None, dict[str, Any]]]
        try:
            signed = sign(xml, seal, signing_time=dt.datetime.now(dt.UTC))
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
            _write_params(
                tenant_id, row.created_at, document_id, signed, status, code, detail, now, events
            ),
        )
        if status == "queued" and self._wake_sender:
            from entegrator.services.sending import wake_sender

            wake_sender(conn, tenant_id)
        return SignOutcome(status, changed=True)


def seal_installed(conn: Connection, tenant_id: uuid.UUID) -> int:
    """After a seal is installed: waiting documents are signable again; wake a worker."""
    from entegrator.services.invoices import wake_signer

    conn.execute(
        text(
            "UPDATE documents SET status_code = NULL, status_detail = NULL "
            "WHERE tenant_id = :t AND status = 'validated' AND status_code = 'seal-missing'"
        ),
        {"t": tenant_id},
    )
    wake_signer(conn, tenant_id)
    waiting = conn.execute(
        text("SELECT count(*) FROM documents WHERE tenant_id = :t AND status = 'validated'"),
        {"t": tenant_id},
    ).scalar_one()
    return int(waiting)


def _write_params(  # noqa: PLR0917 - one row's new values
    tenant_id: uuid.UUID,
    created: dt.datetime,
    document_id: uuid.UUID,
    signed: bytes | None,
    status: str,
    code: str | None,
    detail: str | None,
    now: dt.datetime,
    events: list[repo.NewEvent],
) -> dict[str, Any]:
    return {
        "t": tenant_id,
        "c": created,
        "d": document_id,
        "xml": signed,
        "x": hashlib.sha256(signed).digest() if signed is not None else None,
        "size": len(signed) if signed is not None else 0,
        "status": status,
        "code": code,
        "detail": detail,
        "now": now,
        "at": now,
        "n": events[-1].seq,
        "h": events[-1].hash,
        "actor": "worker",
        **repo.event_columns(events),
    }


_COLUMNS = """
SELECT d.document_id, d.status, d.created_at, d.event_count, d.head_hash, d.xml_sha256,
       b.data AS xml, s.seal_id
  FROM documents d
  JOIN blobs b ON b.tenant_id = d.tenant_id AND b.sha256 = d.xml_sha256
  LEFT JOIN seals s ON s.tenant_id = d.tenant_id AND s.active
"""

_READ_ONE = text(
    _COLUMNS
    + """
 WHERE d.tenant_id = :t AND d.created_at = :c AND d.document_id = :d
   FOR UPDATE OF d
"""
)

# The oldest waiting document nobody else holds (workers share a tenant's queue).
_READ_NEXT = text(
    _COLUMNS
    + """
 WHERE d.tenant_id = :t AND d.status = 'validated' AND d.status_code IS NULL
 ORDER BY d.created_at
 LIMIT 1
   FOR UPDATE OF d SKIP LOCKED
"""
)

_READ_STATE = text(
    "SELECT status, created_at, event_count, head_hash FROM documents "
    "WHERE tenant_id = :t AND created_at = :c AND document_id = :d FOR UPDATE"
)

_WRITE = text(
    """
WITH
  blob AS (
    INSERT INTO blobs (tenant_id, sha256, size, data)
    SELECT :t, CAST(:x AS bytea), :size, CAST(:xml AS bytea) WHERE CAST(:x AS bytea) IS NOT NULL
    ON CONFLICT (tenant_id, sha256) DO NOTHING),
  ev AS ("""
    + repo.EVENTS_INSERT
    + """)
UPDATE documents
   SET status = :status, signed_sha256 = CAST(:x AS bytea), event_count = :n, head_hash = :h,
       updated_at = :now, status_code = :code, status_detail = :detail
 WHERE tenant_id = :t AND created_at = :c AND document_id = :d
"""
)
