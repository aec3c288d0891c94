"""The store on its own: migrations, blobs, the event chain, numbering, partitions, sealed keys."""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import hashlib
import uuid

import pytest
from sqlalchemy import text

from entegrator.runtime import Runtime
from entegrator.signing import vault
from entegrator.signing.certs import TestCA
from entegrator.signing.errors import KeyFileError
from entegrator.store import Database, repo
from entegrator.store.errors import BlobCorruptedError, NotFoundError
from entegrator.store.ids import created_at, uuid7
from tests.clock import now
from tests.testing.platform import TenantHandle


def test_migrations_are_at_head_and_rerunnable(runtime: Runtime) -> None:
    assert runtime.db.revision() == Database.head()
    runtime.db.upgrade()  # a second run changes nothing
    runtime.db.ensure_partitions(2)
    assert runtime.db.revision() == Database.head()
    with runtime.db.system() as conn:
        month = dt.datetime.now(dt.UTC).strftime("%Y_%m")
        for table in ("documents", "events", "audit_log"):
            assert conn.execute(text(f"SELECT to_regclass('{table}_{month}')")).scalar()
            assert conn.execute(text(f"SELECT to_regclass('{table}_default')")).scalar()
        forced = conn.execute(
            text(
                "SELECT relname FROM pg_class WHERE relname IN ('documents', 'blobs', 'events') "
                "AND relrowsecurity"
            )
        ).scalars()
        assert set(forced) == {"documents", "blobs", "events"}


def test_rows_far_from_now_land_in_the_default_partition(
    tenant: TenantHandle, runtime: Runtime
) -> None:
    old = dt.datetime(2009, 1, 1, tzinfo=dt.UTC)
    with runtime.db.tenant(tenant.tenant_id) as conn:
        repo.append_audit(conn, tenant.tenant_id, actor="test", action="old")
        conn.execute(
            text("INSERT INTO audit_log (tenant_id, at, actor, action) VALUES (:t, :at, 'x', 'y')"),
            {"t": tenant.tenant_id, "at": old},
        )
    with runtime.db.system() as conn:
        found = conn.execute(
            text("SELECT count(*) FROM audit_log_default WHERE tenant_id = :t"),
            {"t": tenant.tenant_id},
        ).scalar_one()
    assert found == 1


def test_blobs_are_stored_once_and_checked_on_read(tenant: TenantHandle, runtime: Runtime) -> None:
    t = tenant.tenant_id
    data = b"<Invoice>bir</Invoice>"
    with runtime.db.tenant(t) as conn:
        digest = repo.put_blob(conn, t, data)
        assert repo.put_blob(conn, t, data) == digest
        assert digest == hashlib.sha256(data).digest()
        assert repo.get_blob(conn, t, digest) == data
        count = conn.execute(text("SELECT count(*) FROM blobs WHERE sha256 = :h"), {"h": digest})
        assert count.scalar_one() == 1
        with pytest.raises(NotFoundError):
            repo.get_blob(conn, t, hashlib.sha256(b"none").digest())
    # Damage below the application (as an operator with table rights might): it is detected.
    with runtime.db.system() as conn:
        conn.execute(text("ALTER TABLE blobs DISABLE TRIGGER blobs_append_only"))
        conn.execute(
            text("UPDATE blobs SET data = 'x' WHERE tenant_id = :t AND sha256 = :h"),
            {"t": t, "h": digest},
        )
        conn.execute(text("ALTER TABLE blobs ENABLE TRIGGER blobs_append_only"))
    with runtime.db.tenant(t) as conn, pytest.raises(BlobCorruptedError):
        repo.get_blob(conn, t, digest)


def test_many_blobs_are_read_in_one_statement_and_each_checked(
    tenant: TenantHandle, runtime: Runtime
) -> None:
    t = tenant.tenant_id
    data = [f"<Invoice>{n}</Invoice>".encode() for n in range(3)]
    with runtime.db.tenant(t) as conn:
        digests = [repo.put_blob(conn, t, d) for d in data]
        assert repo.get_blobs(conn, t, [*digests, digests[0]]) == dict(
            zip(digests, data, strict=True)
        )
        assert repo.get_blobs(conn, t, []) == {}
        with pytest.raises(NotFoundError):
            repo.get_blobs(conn, t, [digests[0], hashlib.sha256(b"none").digest()])
    with runtime.db.system() as conn:
        conn.execute(text("ALTER TABLE blobs DISABLE TRIGGER blobs_append_only"))
        conn.execute(
            text("UPDATE blobs SET data = 'x' WHERE tenant_id = :t AND sha256 = :h"),
            {"t": t, "h": digests[1]},
        )
        conn.execute(text("ALTER TABLE blobs ENABLE TRIGGER blobs_append_only"))
    with runtime.db.tenant(t) as conn, pytest.raises(BlobCorruptedError):
        repo.get_blobs(conn, t, digests)


def test_the_event_chain_reveals_changes(tenant: TenantHandle, runtime: Runtime) -> None:
    t = tenant.tenant_id
    doc = uuid7()
    with runtime.db.tenant(t) as conn:
        n, head = repo.append_events(
            conn,
            t,
            doc,
            after_seq=0,
            after_hash=repo.GENESIS,
            events=[("a", "draft", {"x": "1"}), ("b", "validated", {"ü": "ş"})],
            actor="test",
        )
        n, head = repo.append_events(
            conn, t, doc, after_seq=n, after_hash=head, events=[("c", None, {})], actor=None
        )
        events = repo.list_events(conn, t, doc)
    assert n == 3
    assert repo.verify_chain(events, doc, head) == []
    assert repo.verify_chain(events[:2], doc, head) == [
        "the chain does not end at the document's head hash"
    ]
    assert "event 2 missing (found 3)" in repo.verify_chain([events[0], events[2]], doc)
    with runtime.db.system() as conn:
        conn.execute(text("ALTER TABLE events DISABLE TRIGGER events_append_only"))
        conn.execute(
            text('UPDATE events SET data = \'{"x": "2"}\' WHERE document_id = :d AND seq = 1'),
            {"d": doc},
        )
        conn.execute(text("ALTER TABLE events ENABLE TRIGGER events_append_only"))
    with runtime.db.tenant(t) as conn:
        tampered = repo.list_events(conn, t, doc)
    assert repo.verify_chain(tampered, doc, head) == ["event 1: content does not match its hash"]


def test_numbers_have_no_gaps_under_races_and_rollbacks(
    tenant: TenantHandle, runtime: Runtime
) -> None:
    t = tenant.tenant_id

    def take(i: int) -> int | None:
        try:
            with runtime.db.tenant(t) as conn:
                n = repo.next_number(conn, t, "GAP", 2026)
                if i % 5 == 0:
                    raise RuntimeError("the request failed after taking a number")
                return n
        except RuntimeError:
            return None

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        taken = [n for n in pool.map(take, range(60)) if n is not None]
    assert sorted(taken) == list(range(1, 49))


def test_uuid7_carries_its_instant() -> None:
    before = dt.datetime.now(dt.UTC) - dt.timedelta(milliseconds=2)
    ident = uuid7()
    after = dt.datetime.now(dt.UTC) + dt.timedelta(milliseconds=2)
    assert ident.version == 7
    assert ident.variant == uuid.RFC_4122
    assert before <= created_at(ident) <= after
    ids = [uuid7() for _ in range(1000)]
    assert len(set(ids)) == 1000
    assert created_at(uuid7(now_ms=1_700_000_000_123)) == dt.datetime(
        2023, 11, 14, 22, 13, 20, 123000, tzinfo=dt.UTC
    )


def test_seal_keys_are_encrypted_and_bound_to_their_tenant(
    tenant: TenantHandle, runtime: Runtime
) -> None:
    seal = TestCA.create(now=now()).issue(identity=tenant.vkn, name="Test", now=now())
    master = runtime.settings.key_bytes()
    locked = vault.lock(seal, master, tenant=str(tenant.tenant_id))
    from cryptography.hazmat.primitives import serialization

    der = seal.private_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    assert der not in locked.ciphertext
    assert vault.unlock(locked, master, tenant=str(tenant.tenant_id)).certificate == (
        seal.certificate
    )
    with pytest.raises(KeyFileError):
        vault.unlock(locked, master, tenant="another")
    with pytest.raises(KeyFileError):
        vault.unlock(locked, bytes(32), tenant=str(tenant.tenant_id))
    with runtime.db.tenant(tenant.tenant_id) as conn:
        stored = conn.execute(text("SELECT key_ciphertext FROM seals")).scalars().all()
    assert stored and all(der not in bytes(s) for s in stored)


def test_an_unreachable_or_departing_server_is_told_from_a_failing_statement(
    runtime: Runtime, database_url: str
) -> None:
    import psycopg
    from sqlalchemy.exc import DBAPIError

    from entegrator.store import is_unavailable
    from entegrator.store.db import libpq_url
    from tests.testing.platform import free_port

    closed = f"postgresql://postgres@127.0.0.1:{free_port()}/none"
    with pytest.raises(psycopg.OperationalError) as refused:
        psycopg.connect(closed, connect_timeout=5)
    assert is_unavailable(refused.value)
    nowhere = Database(closed)
    with pytest.raises(DBAPIError) as wrapped, nowhere.system() as conn:
        conn.execute(text("SELECT 1"))
    nowhere.dispose()
    assert is_unavailable(wrapped.value)
    # A server ending the session (as on shutdown: 57P01) is away too.
    with psycopg.connect(libpq_url(database_url), autocommit=True) as victim:
        pid = victim.info.backend_pid
        with psycopg.connect(libpq_url(database_url), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        with pytest.raises(psycopg.OperationalError) as ended:
            victim.execute("SELECT 1")
    assert is_unavailable(ended.value)
    # So is a pool whose every connection stays busy (waiting for a server that hangs).
    from sqlalchemy import create_engine
    from sqlalchemy.exc import TimeoutError as PoolTimeoutError

    from entegrator.store.db import sqlalchemy_url

    busy = create_engine(
        sqlalchemy_url(database_url), pool_size=1, max_overflow=0, pool_timeout=0.1
    )
    with busy.connect(), pytest.raises(PoolTimeoutError) as timed_out:
        busy.connect()
    busy.dispose()
    assert is_unavailable(timed_out.value)
    # A statement that fails on a server that is there is not.
    with pytest.raises(DBAPIError) as failed, runtime.db.system() as conn:
        conn.execute(text("SELECT 1 / 0"))
    assert not is_unavailable(failed.value)
    assert not is_unavailable(ValueError("not a database error"))
