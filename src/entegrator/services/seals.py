"""The tenants' financial seals (mali mühür): importing one, and opening it to sign.

A seal's private key is stored encrypted under the installation key, bound to its tenant
(``signing.vault``); :class:`SealKeys` opens it once per process. A seal may only be installed
for the tenant whose VKN/TCKN it carries.

The installation's own seal, the integrator's mali mühür (``ENTEGRATOR_INTEGRATOR_SEAL``), signs
for a tenant that has no seal of its own, on the tenant's behalf (``signing.md`` §1): GİB
accepts it from the integrator whose VKN it carries. A tenant's own seal always comes first.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection

from entegrator.errors import EntegratorError
from entegrator.signing import KeyFileError, load_pkcs12, vault
from entegrator.signing.certs import SigningKey, TestCA, identity_of
from entegrator.store import documents, seals, tenants

__all__ = [
    "ImportedSeal",
    "IntegratorSealError",
    "SealIdentityError",
    "SealKeys",
    "Signer",
    "import_seal",
    "install_seal",
    "install_test_seal",
    "load_integrator_seal",
    "seal_installed",
]


class SealIdentityError(EntegratorError):
    code = "SEAL_OTHER_IDENTITY"
    message_tr = "Mühür {holder} adına, hesap {tenant}"
    message_en = "The seal belongs to {holder}, the tenant is {tenant}"
    http_status = 422
    exit_code = 2


class IntegratorSealError(EntegratorError):
    code = "INTEGRATOR_SEAL_INVALID"
    message_tr = "Entegratör mührü okunamadı ({path}): {detail_tr}"
    message_en = "The integrator seal cannot be read ({path}): {detail_en}"
    http_status = 500
    exit_code = 2


@dataclass(frozen=True)
class Signer:
    """The seal a tenant's documents are signed with."""

    key: SigningKey
    on_behalf: bool  # the installation's integrator seal, signing for a tenant without one


def load_integrator_seal(path: Path, password_file: Path | None) -> SigningKey:
    """The installation's integrator seal from its PKCS#12 file (the password is the content of
    ``password_file`` without its final line break, as for ``seal import``); it must carry a
    VKN. Raises :class:`IntegratorSealError` naming the file."""
    try:
        data = path.read_bytes()
        password = password_file.read_bytes().rstrip(b"\r\n") if password_file else b""
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise IntegratorSealError(
            path=str(exc.filename or path), detail_tr=reason, detail_en=reason
        ) from None
    try:
        seal = load_pkcs12(data, password)
    except KeyFileError as exc:
        raise IntegratorSealError(
            path=str(path), detail_tr=exc.text_tr, detail_en=exc.text_en
        ) from None
    if identity_of(seal.certificate) is None:
        raise IntegratorSealError(
            path=str(path),
            detail_tr="sertifikada VKN (serialNumber) yok",
            detail_en="the certificate carries no VKN (serialNumber)",
        )
    return seal


@dataclass(frozen=True)
class ImportedSeal:
    seal_id: uuid.UUID
    waiting: int  # documents now queued for signing


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


def seal_installed(conn: Connection, tenant_id: uuid.UUID) -> int:
    """After a seal is installed: waiting documents are signable again; wake a worker."""
    from entegrator.services.invoices import wake_signer

    waiting = documents.clear_seal_missing(conn, tenant_id)
    wake_signer(conn, tenant_id)
    return waiting


def import_seal(
    conn: Connection, tenant_id: uuid.UUID, seal: SigningKey, master: bytes
) -> ImportedSeal:
    """Install a seal for the tenant it belongs to (its certificate's VKN/TCKN is the
    tenant's, else :class:`SealIdentityError`); the documents waiting for one are woken."""
    tenant = tenants.get_tenant(conn, tenant_id)
    holder = identity_of(seal.certificate)
    if holder != tenant.vkn:
        raise SealIdentityError(holder=holder or "-", tenant=tenant.vkn)
    seal_id = install_seal(conn, tenant_id, seal, master)
    return ImportedSeal(seal_id, seal_installed(conn, tenant_id))


class SealKeys:
    """The tenants' seals, decrypted once per process and seal, and the installation's
    integrator seal for the tenants without one."""

    def __init__(self, master: bytes, *, integrator: SigningKey | None = None) -> None:
        self._master = master
        self.integrator = integrator
        self._cache: dict[uuid.UUID, SigningKey] = {}
        self._lock = threading.Lock()

    def get(
        self, conn: Connection, tenant_id: uuid.UUID, seal_id: uuid.UUID | None
    ) -> SigningKey | None:
        """The seal ``seal_id`` of the tenant, opened; None for no seal."""
        if seal_id is None:
            return None
        with self._lock:
            cached = self._cache.get(seal_id)
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
            self._cache[seal_id] = key
        return key

    def signer(
        self, conn: Connection, tenant_id: uuid.UUID, seal_id: uuid.UUID | None
    ) -> Signer | None:
        """What signs the tenant's documents: its seal ``seal_id``, else the integrator seal
        on its behalf; None when there is neither."""
        own = self.get(conn, tenant_id, seal_id)
        if own is not None:
            return Signer(own, on_behalf=False)
        if self.integrator is not None:
            return Signer(self.integrator, on_behalf=True)
        return None
