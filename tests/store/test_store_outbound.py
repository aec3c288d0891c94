"""The store of the sender: outbound envelopes (lease, attempt, settle) and GİB's user list."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from entegrator.runtime import Runtime
from entegrator.store import gib_users, outbound
from tests.testing.platform import TenantHandle

LEASE = dt.timedelta(minutes=5)


def _add(runtime: Runtime, tenant_id: uuid.UUID, *, due_seconds_ago: int) -> str:
    """A pending system envelope due ``due_seconds_ago``; its id (upper case, as we send)."""
    envelope_id = str(uuid.uuid4()).upper()
    with runtime.db.tenant(tenant_id) as conn:
        outbound.insert_envelope(
            conn,
            tenant_id,
            envelope_id=envelope_id,
            kind="system",
            file_name=f"{envelope_id}.zip",
            md5="0" * 32,
            data=b"PK",
            receiver_alias="urn:mail:defaultgb@example.com",
        )
    with runtime.db.system() as conn:
        conn.execute(
            text(
                "UPDATE outbound_envelopes SET next_attempt_at = now() - make_interval(secs => :s)"
                " WHERE tenant_id = :t AND envelope_id = :e"
            ),
            {"s": due_seconds_ago, "t": tenant_id, "e": envelope_id},
        )
    return envelope_id


@pytest.fixture
def sender(tenant: TenantHandle, runtime: Runtime) -> Iterator[uuid.UUID]:
    """A tenant whose test envelopes are removed afterwards (a worker would try to send them)."""
    yield tenant.tenant_id
    with runtime.db.system() as conn:
        conn.execute(
            text("DELETE FROM outbound_envelopes WHERE tenant_id = :t"), {"t": tenant.tenant_id}
        )


def test_the_next_due_envelope_skips_one_another_sender_holds(
    sender: uuid.UUID, runtime: Runtime
) -> None:
    older = _add(runtime, sender, due_seconds_ago=60)
    newer = _add(runtime, sender, due_seconds_ago=30)
    _add(runtime, sender, due_seconds_ago=-3600)  # not due for an hour
    with runtime.db.tenant(sender) as first:
        held = outbound.lease_next_due(first, sender, lease=LEASE)
        assert held is not None
        assert (held.envelope_id, held.kind, held.attempts, held.data) == (
            older,
            "system",
            1,
            b"PK",
        )
        with runtime.db.tenant(sender) as second:
            # Without SKIP LOCKED this would wait for ``first``: fail fast instead of hanging.
            second.execute(text("SET LOCAL lock_timeout = '2s'"))
            other = outbound.lease_next_due(second, sender, lease=LEASE)
            assert other is not None
            assert other.envelope_id == newer
            assert outbound.lease_next_due(second, sender, lease=LEASE) is None
    # Both leases are committed: nothing is due until they run out.
    with runtime.db.tenant(sender) as conn:
        assert outbound.lease_next_due(conn, sender, lease=LEASE) is None


def test_an_attempt_keeps_a_status_reported_meanwhile(sender: uuid.UUID, runtime: Runtime) -> None:
    quiet = _add(runtime, sender, due_seconds_ago=10)
    reported = _add(runtime, sender, due_seconds_ago=10)
    with runtime.db.tenant(sender) as conn:
        outbound.set_gib_status(conn, sender, reported, gib_code=1300, status="final")
        for envelope_id in (quiet, reported):
            outbound.record_attempt(
                conn,
                sender,
                envelope_id,
                status="sent",
                gib_code=1000,
                error=None,
                retry_after_seconds=5.0,
            )
        assert outbound.lock_standing(conn, sender, quiet) == outbound.EnvelopeStanding(
            quiet, "system", None, 1000, "sent"
        )
        assert outbound.lock_standing(conn, sender, reported) == outbound.EnvelopeStanding(
            reported, "system", None, 1300, "final"
        )


def test_the_settle_read_finds_the_envelope_in_either_case_and_locks_it(
    sender: uuid.UUID, runtime: Runtime
) -> None:
    envelope_id = _add(runtime, sender, due_seconds_ago=0)
    with runtime.db.tenant(sender) as conn:
        assert outbound.lock_standing(conn, sender, str(uuid.uuid4())) is None
        standing = outbound.lock_standing(conn, sender, envelope_id.lower())
        assert standing == outbound.EnvelopeStanding(envelope_id, "system", None, None, "pending")
        with runtime.db.tenant(sender) as other:
            other.execute(text("SET LOCAL lock_timeout = '200ms'"))
            with pytest.raises(OperationalError, match="lock timeout"):
                outbound.lock_standing(other, sender, envelope_id)


def test_tenants_with_due_work_name_a_tenant_with_a_due_envelope(
    sender: uuid.UUID, runtime: Runtime
) -> None:
    with runtime.db.system() as conn:
        assert sender not in outbound.tenants_with_due_work(conn)
    _add(runtime, sender, due_seconds_ago=5)
    with runtime.db.system() as conn:
        assert sender in outbound.tenants_with_due_work(conn)
    with runtime.db.tenant(sender) as conn:
        assert outbound.envelopes_to_poll(conn, sender) == []


def test_the_user_list_gives_a_users_first_mailbox(runtime: Runtime) -> None:
    # The list is shared by every tenant (and other tests): replaced here, then rolled back.
    with runtime.db.admin.connect() as conn, conn.begin() as tx:
        gib_users.replace_users(
            conn,
            [
                gib_users.GibUser(
                    "1234567890",
                    "Alıcı A.Ş.",
                    ["urn:mail:faturapk@alici.com.tr", "urn:mail:ikincipk@alici.com.tr"],
                    ["urn:mail:faturagb@alici.com.tr"],
                ),
                gib_users.GibUser("12345678901", "Yalnız Gönderen", [], ["urn:mail:gb@x.com"]),
            ],
        )
        assert gib_users.first_mailbox(conn, "1234567890") == "urn:mail:faturapk@alici.com.tr"
        assert gib_users.first_mailbox(conn, "12345678901") is None  # no mailbox
        assert gib_users.first_mailbox(conn, "9999999999") is None  # not registered
        assert conn.execute(text("SELECT count(*) FROM gib_users")).scalar_one() == 2
        gib_users.replace_users(conn, [])
        assert gib_users.first_mailbox(conn, "1234567890") is None
        tx.rollback()
