"""Portal accounts: users' passwords (argon2), lock-out, TOTP two-factor and sessions.

Roles are the API's: ``owner`` (the portal's *yönetici*, admin), ``accountant`` (*muhasebe*),
``viewer`` (*izleyici*). ``api`` users are for machines and cannot log in to the portal.

A session's cookie carries a random token; the store keeps only its SHA-256. A session ends
``idle`` after its last request or ``lifetime`` after the login, whichever comes first.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import os
import re
import secrets
import struct
import uuid
from dataclasses import dataclass
from urllib.parse import quote

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from entegrator.clock import Clock, utc_now
from entegrator.errors import EntegratorError
from entegrator.store import Database, sessions, users
from entegrator.store.keys import ApiKey

__all__ = [
    "PORTAL_ROLES",
    "ROLE_NAMES",
    "AccountError",
    "Accounts",
    "LoginResult",
    "PortalUser",
    "totp_code",
]

PORTAL_ROLES = ("owner", "accountant", "viewer")
# The names of the roles (and the portal's) -> the stored role.
ROLE_NAMES = {
    "admin": "owner",
    "yonetici": "owner",
    "owner": "owner",
    "muhasebe": "accountant",
    "accountant": "accountant",
    "viewer": "viewer",
    "izleyici": "viewer",
}
MIN_PASSWORD = 10
MAX_PASSWORD = 256
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
_HASHER = PasswordHasher()
# A hash to check against when no user has the e-mail: the answer takes as long either way.
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))


class AccountError(EntegratorError):
    code = "ACCOUNT_INVALID"
    message_tr = "{detail_tr}"
    message_en = "{detail_en}"
    http_status = 422
    exit_code = 2


@dataclass(frozen=True)
class PortalUser(ApiKey):
    """A logged-in portal user, usable wherever the services take an API key (they read
    ``tenant_id``, ``role`` and ``actor``)."""

    email: str = ""
    name: str = ""

    @property
    def actor(self) -> str:
        return f"user:{self.email}"

    @property
    def user_id(self) -> uuid.UUID:
        return self.key_id


@dataclass(frozen=True)
class LoginResult:
    """``ok``: a session was started (``token``; ``mfa_pending`` when a TOTP code is still
    due); otherwise ``reason`` is ``invalid`` or ``locked``."""

    ok: bool
    reason: str | None = None
    token: str | None = None
    mfa_pending: bool = False
    locked_until: dt.datetime | None = None


@dataclass(frozen=True)
class ActiveSession:
    user: PortalUser
    csrf_token: str
    mfa_pending: bool
    token_hash: bytes


def _hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def check_password_rules(password: str) -> None:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise AccountError(
            where="password",
            detail_tr=f"Parola {MIN_PASSWORD} ile {MAX_PASSWORD} karakter arasında olmalı",
            detail_en=f"The password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters long",
        )


def hash_password(password: str) -> str:
    check_password_rules(password)
    return _HASHER.hash(password)


def _verify(stored: str | None, password: str) -> bool:
    try:
        return _HASHER.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


# -- TOTP (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits) ------------------------------------


def totp_code(secret: bytes, when: dt.datetime, *, step: int = 30, digits: int = 6) -> str:
    """The code of ``when``'s time step (RFC 4226 dynamic truncation)."""
    counter = int(when.timestamp()) // step
    digest = hmac.new(secret, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**digits).zfill(digits)


def totp_matches(secret: bytes, code: str, when: dt.datetime) -> bool:
    """The code of this step or the one before or after (clocks drift)."""
    code = code.strip().replace(" ", "")
    if not (len(code) == 6 and code.isdigit()):
        return False
    return any(
        hmac.compare_digest(totp_code(secret, when + dt.timedelta(seconds=30 * k)), code)
        for k in (-1, 0, 1)
    )


def totp_uri(secret: bytes, email: str, issuer: str = "entegrator") -> str:
    """The ``otpauth://`` address an authenticator app reads (as a QR code or typed)."""
    b32 = base64.b32encode(secret).decode().rstrip("=")
    return (
        f"otpauth://totp/{quote(issuer)}:{quote(email)}?secret={b32}&issuer={quote(issuer)}"
        "&algorithm=SHA1&digits=6&period=30"
    )


class Accounts:
    """The accounts and sessions of the portal's users."""

    def __init__(
        self,
        db: Database,
        master_key: bytes,
        *,
        idle: dt.timedelta,
        lifetime: dt.timedelta,
        lockout_failures: int,
        lockout: dt.timedelta,
        clock: Clock = utc_now,
    ) -> None:
        self.db = db
        self._master = master_key
        self.idle = idle
        self.lifetime = lifetime
        self.lockout_failures = lockout_failures
        self.lockout = lockout
        self.clock = clock

    # -- users ------------------------------------------------------------------------------

    def create_user(
        self,
        tenant_id: uuid.UUID,
        *,
        email: str,
        role: str,
        password: str | None,
        name: str | None = None,
    ) -> uuid.UUID:
        """A new user; ``role`` in the API's words or the portal's (admin, muhasebe…)."""
        email = email.strip()
        if not _EMAIL.match(email) or len(email) > 254:
            raise AccountError(
                where="email",
                detail_tr=f"E-posta adresi geçersiz: {email!r}",
                detail_en=f"Not an e-mail address: {email!r}",
            )
        stored_role = ROLE_NAMES.get(role.strip().lower())
        if stored_role is None or stored_role not in PORTAL_ROLES:
            raise AccountError(
                where="role",
                detail_tr="Rol admin, muhasebe ya da viewer olmalı",
                detail_en="The role must be admin, muhasebe (accountant) or viewer",
            )
        hashed = hash_password(password) if password is not None else None
        with self.db.tenant(tenant_id) as conn:
            if users.find_by_email(conn, tenant_id, email) is not None:
                raise AccountError(
                    where="email",
                    detail_tr=f"{email} bu mükellefte zaten kayıtlı",
                    detail_en=f"{email} is already a user of this tenant",
                )
            return users.create_user(
                conn,
                tenant_id,
                email=email,
                name=name or email.split("@")[0],
                role=stored_role,
                password_hash=hashed,
                now=self.clock(),
            )

    def list_users(self, tenant_id: uuid.UUID) -> list[users.User]:
        with self.db.tenant(tenant_id) as conn:
            return users.list_users(conn, tenant_id)

    def get_user(self, tenant_id: uuid.UUID, user_id: uuid.UUID) -> users.User | None:
        with self.db.tenant(tenant_id) as conn:
            return users.get_user(conn, tenant_id, user_id)

    def change_password(
        self, user: PortalUser, *, current: str, new: str, keep_session: bytes | None = None
    ) -> bool:
        """Set a new password if ``current`` is right; the user's other sessions end."""
        with self.db.tenant(user.tenant_id) as conn:
            found = users.get_user(conn, user.tenant_id, user.user_id)
        if found is None or not _verify(found.password_hash, current):
            return False
        hashed = hash_password(new)
        with self.db.tenant(user.tenant_id) as conn:
            users.set_password(conn, user.tenant_id, user.user_id, hashed, now=self.clock())
            sessions.delete_user_sessions(conn, user.tenant_id, user.user_id, keep=keep_session)
        return True

    def reset_password(self, tenant_id: uuid.UUID, user_id: uuid.UUID, new: str) -> bool:
        """An admin's reset: a new password, the lock-out lifted, every session ended."""
        hashed = hash_password(new)
        with self.db.tenant(tenant_id) as conn:
            done = users.set_password(conn, tenant_id, user_id, hashed, now=self.clock())
            sessions.delete_user_sessions(conn, tenant_id, user_id)
        return done

    # -- TOTP -------------------------------------------------------------------------------

    def _aad(self, tenant_id: uuid.UUID, user_id: uuid.UUID) -> bytes:
        return f"totp:{tenant_id}:{user_id}".encode()

    def _seal(self, tenant_id: uuid.UUID, user_id: uuid.UUID, secret: bytes) -> bytes:
        nonce = os.urandom(12)
        aad = self._aad(tenant_id, user_id)
        return nonce + AESGCM(self._master).encrypt(nonce, secret, aad)

    def _open(self, tenant_id: uuid.UUID, user_id: uuid.UUID, sealed: bytes) -> bytes | None:
        try:
            aad = self._aad(tenant_id, user_id)
            return AESGCM(self._master).decrypt(sealed[:12], sealed[12:], aad)
        except (InvalidTag, ValueError):
            return None

    @staticmethod
    def new_totp_secret() -> bytes:
        return secrets.token_bytes(20)

    def enable_totp(self, user: PortalUser, secret: bytes, code: str) -> bool:
        """Turn two-factor on once the user shows a code of ``secret``."""
        if not totp_matches(secret, code, self.clock()):
            return False
        with self.db.tenant(user.tenant_id) as conn:
            users.set_totp_secret(
                conn, user.tenant_id, user.user_id, self._seal(user.tenant_id, user.user_id, secret)
            )
        return True

    def disable_totp(self, tenant_id: uuid.UUID, user_id: uuid.UUID) -> None:
        with self.db.tenant(tenant_id) as conn:
            users.set_totp_secret(conn, tenant_id, user_id, None)

    # -- logging in and sessions ------------------------------------------------------------

    def login(self, email: str, password: str, *, address: str | None = None) -> LoginResult:
        """Check the password of the user ``email`` names; start a session when right.

        Every failure counts against the user (a locked user is refused, its password
        unchecked); the ``lockout_failures``-th failure in a row locks it for ``lockout``."""
        now = self.clock()
        email = email.strip()[:254]
        with self.db.unscoped() as conn:
            candidates = [
                c
                for c in users.login_candidates(conn, email)
                if c.role in PORTAL_ROLES and not c.disabled
            ]
        if not candidates:
            _verify(None, password)  # as long as a real check
            return LoginResult(ok=False, reason="invalid")
        locked = [c for c in candidates if c.locked_until is not None and c.locked_until > now]
        for candidate in candidates:
            if candidate in locked:
                continue
            if _verify(candidate.password_hash, password):
                return self._start(candidate.tenant_id, candidate.user_id, now, address)
        for candidate in candidates:
            if candidate in locked:
                continue
            with self.db.tenant(candidate.tenant_id) as conn:
                users.record_failure(
                    conn,
                    candidate.tenant_id,
                    candidate.user_id,
                    limit=self.lockout_failures,
                    lock_until=now + self.lockout,
                )
        if locked and len(locked) == len(candidates):
            return LoginResult(
                ok=False,
                reason="locked",
                locked_until=max(c.locked_until for c in locked),  # type: ignore[type-var]
            )
        return LoginResult(ok=False, reason="invalid")

    def _start(
        self, tenant_id: uuid.UUID, user_id: uuid.UUID, now: dt.datetime, address: str | None
    ) -> LoginResult:
        token = secrets.token_urlsafe(32)
        with self.db.tenant(tenant_id) as conn:
            user = users.get_user(conn, tenant_id, user_id)
            assert user is not None  # noqa: S101 - found a moment ago
            mfa = user.totp_secret is not None
            users.record_success(conn, tenant_id, user_id, now=now)
            # The user's sessions that ended unseen (never presented again) go now.
            sessions.delete_expired(
                conn,
                tenant_id,
                user_id,
                seen_before=now - self.idle,
                created_before=now - self.lifetime,
            )
            sessions.create_session(
                conn,
                tenant_id,
                user_id,
                token_hash=_hash_token(token),
                csrf_token=secrets.token_urlsafe(32),
                mfa_pending=mfa,
                now=now,
                address=address,
            )
        return LoginResult(ok=True, token=token, mfa_pending=mfa)

    def session(self, token: str | None) -> ActiveSession | None:
        """The live session of a cookie's token (None: none, or expired, which ends it)."""
        if not token or len(token) > 100:
            return None
        token_hash = _hash_token(token)
        with self.db.unscoped() as conn:
            owner = sessions.session_owner(conn, token_hash)
        if owner is None:
            return None
        tenant_id, user_id = owner
        now = self.clock()
        with self.db.tenant(tenant_id) as conn:
            found = sessions.get_session(conn, tenant_id, token_hash)
            user = users.get_user(conn, tenant_id, user_id)
            if found is None or user is None:
                return None
            expired = (
                now - found.last_seen_at > self.idle
                or now - found.created_at > self.lifetime
                or user.disabled
                or user.role not in PORTAL_ROLES
            )
            if expired:
                sessions.delete_session(conn, tenant_id, token_hash)
                return None
            if now - found.last_seen_at > dt.timedelta(seconds=30):
                sessions.touch_session(conn, tenant_id, token_hash, now=now)
        return ActiveSession(
            user=PortalUser(
                tenant_id=tenant_id,
                key_id=user_id,
                role=user.role,
                prefix="web",
                email=user.email,
                name=user.name,
            ),
            csrf_token=found.csrf_token,
            mfa_pending=found.mfa_pending,
            token_hash=token_hash,
        )

    def verify_second_factor(self, active: ActiveSession, code: str) -> bool:
        """A TOTP code for a session waiting for one; a wrong code counts as a failure."""
        user = active.user
        now = self.clock()
        with self.db.tenant(user.tenant_id) as conn:
            found = users.get_user(conn, user.tenant_id, user.user_id)
        if found is None or found.totp_secret is None:
            return False
        secret = self._open(user.tenant_id, user.user_id, found.totp_secret)
        locked = found.locked_until is not None and found.locked_until > now
        if secret is not None and not locked and totp_matches(secret, code, now):
            with self.db.tenant(user.tenant_id) as conn:
                sessions.touch_session(
                    conn, user.tenant_id, active.token_hash, now=now, mfa_pending=False
                )
            return True
        with self.db.tenant(user.tenant_id) as conn:
            users.record_failure(
                conn,
                user.tenant_id,
                user.user_id,
                limit=self.lockout_failures,
                lock_until=now + self.lockout,
            )
        return False

    def logout(self, active: ActiveSession) -> None:
        with self.db.tenant(active.user.tenant_id) as conn:
            sessions.delete_session(conn, active.user.tenant_id, active.token_hash)
