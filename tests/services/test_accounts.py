"""Portal accounts: passwords, lock-out, sessions and their expiry, TOTP (a moving clock)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from entegrator.runtime import Runtime
from entegrator.services.accounts import AccountError, Accounts, totp_code
from entegrator.store import users
from tests.testing.platform import TenantHandle

PASSWORD = "çok-gizli-parola"


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 11, 30, 9, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def accounts(runtime: Runtime, clock: Clock) -> Accounts:
    return Accounts(
        runtime.db,
        runtime.settings.key_bytes(),
        idle=dt.timedelta(minutes=30),
        lifetime=dt.timedelta(hours=12),
        lockout_failures=3,
        lockout=dt.timedelta(minutes=15),
        clock=clock,
    )


def _user(accounts: Accounts, tenant: TenantHandle, role: str = "muhasebe") -> str:
    email = f"{uuid.uuid4().hex[:10]}@example.com.tr"
    accounts.create_user(tenant.tenant_id, email=email, role=role, password=PASSWORD)
    return email


def test_rfc6238_test_vector() -> None:
    # RFC 6238 appendix B (SHA-1), the last 6 of its 8 digits.
    secret = b"12345678901234567890"
    assert totp_code(secret, dt.datetime.fromtimestamp(59, dt.UTC)) == "287082"
    assert totp_code(secret, dt.datetime.fromtimestamp(1111111109, dt.UTC)) == "081804"
    assert totp_code(secret, dt.datetime.fromtimestamp(2000000000, dt.UTC)) == "279037"


def test_the_password_is_stored_as_an_argon2_hash(
    runtime: Runtime, accounts: Accounts, tenant: TenantHandle
) -> None:
    email = _user(accounts, tenant)
    with runtime.db.tenant(tenant.tenant_id) as conn:
        found = users.find_by_email(conn, tenant.tenant_id, email.upper())
    assert found is not None and found.role == "accountant"
    assert found.password_hash is not None and found.password_hash.startswith("$argon2id$")
    assert PASSWORD not in found.password_hash


def test_bad_users_are_refused(accounts: Accounts, tenant: TenantHandle) -> None:
    for email, role, password in (
        ("not-an-email", "viewer", PASSWORD),
        ("a@b.com.tr", "root", PASSWORD),
        ("a@b.com.tr", "viewer", "short"),
    ):
        with pytest.raises(AccountError):
            accounts.create_user(tenant.tenant_id, email=email, role=role, password=password)
    email = _user(accounts, tenant)
    with pytest.raises(AccountError):
        accounts.create_user(tenant.tenant_id, email=email, role="viewer", password=PASSWORD)


def test_lock_out_after_repeated_failures(
    accounts: Accounts, clock: Clock, tenant: TenantHandle
) -> None:
    email = _user(accounts, tenant)
    for _ in range(3):
        assert accounts.login(email, "yanlış-parola-1").reason == "invalid"
    locked = accounts.login(email, PASSWORD)  # right, but locked
    assert not locked.ok and locked.reason == "locked"
    assert locked.locked_until == clock.now + dt.timedelta(minutes=15)
    clock.advance(minutes=16)
    assert accounts.login(email, PASSWORD).ok


def test_a_success_resets_the_count_and_a_reset_lifts_the_lock(
    accounts: Accounts, tenant: TenantHandle
) -> None:
    email = _user(accounts, tenant)
    for _ in range(2):
        accounts.login(email, "yanlış-parola-1")
    assert accounts.login(email, PASSWORD).ok
    for _ in range(2):  # counted afresh: not locked
        accounts.login(email, "yanlış-parola-1")
    assert accounts.login(email, PASSWORD).ok
    for _ in range(3):
        accounts.login(email, "yanlış-parola-1")
    assert accounts.login(email, PASSWORD).reason == "locked"
    (user,) = [u for u in accounts.list_users(tenant.tenant_id) if u.email == email]
    accounts.reset_password(tenant.tenant_id, user.user_id, "yepyeni-parola-42")
    assert accounts.login(email, "yepyeni-parola-42").ok


def test_sessions_expire_when_idle_and_after_their_lifetime(
    accounts: Accounts, clock: Clock, tenant: TenantHandle
) -> None:
    email = _user(accounts, tenant)
    token = accounts.login(email, PASSWORD).token
    assert accounts.session(token) is not None
    clock.advance(minutes=29)
    assert accounts.session(token) is not None  # and this request keeps it alive
    clock.advance(minutes=29)
    assert accounts.session(token) is not None
    clock.advance(minutes=31)
    assert accounts.session(token) is None
    assert accounts.session(token) is None  # gone for good

    token = accounts.login(email, PASSWORD).token
    start = clock.now
    for _ in range(30):  # busy all day: 12 hours at most
        clock.advance(minutes=29)
        if accounts.session(token) is None:
            break
    lasted = clock.now - start
    assert dt.timedelta(hours=12) < lasted <= dt.timedelta(hours=12, minutes=29)


def test_a_login_clears_the_users_ended_sessions(
    runtime: Runtime, accounts: Accounts, clock: Clock, tenant: TenantHandle
) -> None:
    from entegrator.store import sessions

    email = _user(accounts, tenant)
    accounts.login(email, PASSWORD)  # never used again
    clock.advance(hours=1)
    fresh = accounts.session(accounts.login(email, PASSWORD).token)
    assert fresh is not None
    with runtime.db.tenant(tenant.tenant_id) as conn:
        left = sessions.delete_user_sessions(conn, tenant.tenant_id, fresh.user.user_id)
    assert left == 1  # only the new one was still there
    assert accounts.session("nope") is None
    assert accounts.session("x" * 500) is None


def test_api_users_cannot_log_in(accounts: Accounts, tenant: TenantHandle) -> None:
    email = f"{uuid.uuid4().hex[:10]}@example.com.tr"
    with pytest.raises(AccountError):  # not a portal role
        accounts.create_user(tenant.tenant_id, email=email, role="api", password=PASSWORD)


def test_changing_the_password_ends_the_other_sessions(
    accounts: Accounts, tenant: TenantHandle
) -> None:
    email = _user(accounts, tenant)
    first = accounts.session(accounts.login(email, PASSWORD).token)
    other = accounts.login(email, PASSWORD).token
    assert first is not None
    assert not accounts.change_password(first.user, current="yanlış", new="yeni-parola-123")
    assert accounts.change_password(
        first.user, current=PASSWORD, new="yeni-parola-123", keep_session=first.token_hash
    )
    assert accounts.session(other) is None
    assert accounts.login(email, PASSWORD).reason == "invalid"
    assert accounts.login(email, "yeni-parola-123").ok


def test_two_factor(accounts: Accounts, clock: Clock, tenant: TenantHandle) -> None:
    email = _user(accounts, tenant)
    active = accounts.session(accounts.login(email, PASSWORD).token)
    assert active is not None and not active.mfa_pending
    secret = accounts.new_totp_secret()
    assert not accounts.enable_totp(
        active.user, secret, "000000" if totp_code(secret, clock.now) != "000000" else "111111"
    )
    assert accounts.enable_totp(active.user, secret, totp_code(secret, clock.now))

    started = accounts.login(email, PASSWORD)
    assert started.ok and started.mfa_pending
    pending = accounts.session(started.token)
    assert pending is not None and pending.mfa_pending
    clock.advance(seconds=30)
    wrong = "123456" if totp_code(secret, clock.now) != "123456" else "654321"
    assert not accounts.verify_second_factor(pending, wrong)
    assert accounts.verify_second_factor(pending, totp_code(secret, clock.now))
    done = accounts.session(started.token)
    assert done is not None and not done.mfa_pending
