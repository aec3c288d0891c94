"""What the portal's settings page (Ayarlar) does: API keys (the secret shown once), the
tenant's seal (its validity, an upload of a new one), each step audited."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from entegrator.services.errors import RequestError
from entegrator.services.seals import ImportedSeal, import_seal
from entegrator.signing import load_pkcs12
from entegrator.signing.errors import SigningError
from entegrator.store import Database, audit, keys, seals
from entegrator.store.keys import ApiKey, KeyInfo

__all__ = [
    "EXPIRY_WARNING_DAYS",
    "KEY_ROLES",
    "SealStatus",
    "create_key",
    "list_keys",
    "revoke_key",
    "seal_status",
    "upload_seal",
]

EXPIRY_WARNING_DAYS = 30
KEY_ROLES = ("api", "accountant", "viewer")  # an owner key is made from the CLI only
MAX_SEAL_BYTES = 64 * 1024


def list_keys(db: Database, tenant_id: uuid.UUID) -> list[KeyInfo]:
    with db.tenant(tenant_id) as conn:
        return keys.list_api_keys(conn, tenant_id)


class KeyRequestError(RequestError):
    code = "API_KEY_INVALID"
    message_tr = "API anahtarı oluşturulamadı: {detail_tr}"
    message_en = "The API key was not created: {detail_en}"


def create_key(db: Database, user: ApiKey, *, name: str, role: str) -> str:
    """A new key of the user's tenant; returns the token, shown to the user this once."""
    name = name.strip()
    if not 1 <= len(name) <= 100:
        raise KeyRequestError(
            where="name", detail_tr="ad 1-100 karakter olmalı", detail_en="name: 1-100 characters"
        )
    if role not in KEY_ROLES:
        raise KeyRequestError(
            where="role", detail_tr="yetki geçersiz", detail_en="not a role a key may have"
        )
    with db.tenant(user.tenant_id) as conn:
        token, key = keys.create_api_key(conn, user.tenant_id, role=role, name=name)
        audit.append_audit(
            conn,
            user.tenant_id,
            actor=user.actor,
            action="apikey.create",
            target=key.prefix,
            data={"name": name, "role": role},
        )
    return token


def revoke_key(db: Database, user: ApiKey, prefix: str) -> bool:
    with db.tenant(user.tenant_id) as conn:
        done = keys.revoke_api_key(conn, user.tenant_id, prefix)
        if done:
            audit.append_audit(
                conn, user.tenant_id, actor=user.actor, action="apikey.revoke", target=prefix
            )
    return done


@dataclass(frozen=True)
class SealStatus:
    subject: str
    identity: str | None
    not_after: dt.datetime
    days_left: int

    @property
    def expired(self) -> bool:
        return self.days_left < 0

    @property
    def expiring(self) -> bool:
        return 0 <= self.days_left <= EXPIRY_WARNING_DAYS


def seal_status(db: Database, tenant_id: uuid.UUID, now: dt.datetime) -> SealStatus | None:
    with db.tenant(tenant_id) as conn:
        info = seals.active_seal_info(conn, tenant_id)
    if info is None:
        return None
    left = (info.not_after - now).total_seconds() / 86400
    return SealStatus(info.subject, info.identity, info.not_after, int(left // 1))


class SealFileError(RequestError):
    code = "SEAL_FILE_INVALID"
    message_tr = "Mühür dosyası okunamadı: PKCS#12 (.p12/.pfx) ve doğru parola gerekli"
    message_en = "The seal file cannot be read: a PKCS#12 (.p12/.pfx) and its password are needed"


def upload_seal(
    db: Database, user: ApiKey, data: bytes, password: str, master: bytes
) -> ImportedSeal:
    """Install the seal in ``data`` (PKCS#12) for the user's tenant: it must be the tenant's
    own (its VKN/TCKN), else ``SealIdentityError``; a file that cannot be read is
    :class:`SealFileError`."""
    if not data or len(data) > MAX_SEAL_BYTES:
        raise SealFileError(where="seal")
    try:
        seal = load_pkcs12(data, password.encode())
    except (SigningError, ValueError):
        raise SealFileError(where="seal") from None
    with db.tenant(user.tenant_id) as conn:
        imported = import_seal(conn, user.tenant_id, seal, master)
        audit.append_audit(
            conn,
            user.tenant_id,
            actor=user.actor,
            action="seal.install",
            target=str(imported.seal_id),
            data={"subject": seal.certificate.subject.rfc4514_string()},
        )
    return imported
