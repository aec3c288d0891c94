"""The change feed: a cursor over it misses nothing and repeats nothing, whatever order the
writing transactions commit in; a reader waits for the tenant's writers only."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import Connection

from entegrator.runtime import Runtime
from entegrator.store.changes import Change, FeedBusyError, read_changes
from entegrator.store.events import GENESIS, append_events
from tests.testing.platform import TenantHandle


def _event(conn: Connection, tenant_id: uuid.UUID, document_id: uuid.UUID, seq: int) -> None:
    append_events(
        conn,
        tenant_id,
        document_id,
        after_seq=seq - 1,
        after_hash=GENESIS,
        events=[("note", None, {"n": seq})],
        actor="test",
    )


def _read_all(runtime: Runtime, tenant_id: uuid.UUID, after: int) -> list[Change]:
    out: list[Change] = []
    while True:
        with runtime.db.tenant(tenant_id) as conn:
            page = read_changes(conn, tenant_id, after=after, limit=7)
        out += page
        if not page:
            return out
        after = page[-1].change_id


def test_a_transaction_that_commits_late_is_not_skipped(
    runtime: Runtime, tenant: TenantHandle
) -> None:
    t = tenant.tenant_id
    first, second = uuid.uuid4(), uuid.uuid4()
    seen: list[Change] = []
    with runtime.db.admin.connect() as slow, runtime.db.admin.connect() as fast:
        slow_tx = slow.begin()
        _event(slow, t, first, 1)  # numbered first, still running
        with fast.begin():
            _event(fast, t, second, 1)  # numbered second, committed first
        # A plain sequence would show the second now and skip the first once it commits; the
        # reader waits for the writer in flight instead.
        reader = threading.Thread(target=lambda: seen.extend(_read_all(runtime, t, 0)))
        reader.start()
        time.sleep(0.5)
        assert reader.is_alive() and seen == []
        slow_tx.commit()
        reader.join(10)
    assert [c.document_id for c in seen] == [first, second]
    assert _read_all(runtime, t, seen[-1].change_id) == []


def test_a_reader_waits_for_its_own_tenant_only_and_gives_up_with_503(
    runtime: Runtime, make_tenant: Callable[..., TenantHandle]
) -> None:
    busy, quiet = make_tenant(seal=False), make_tenant(seal=False)
    with runtime.db.admin.connect() as conn, conn.begin():
        _event(conn, quiet.tenant_id, uuid.uuid4(), 1)
    with runtime.db.admin.connect() as writer:
        tx = writer.begin()
        _event(writer, busy.tenant_id, uuid.uuid4(), 1)
        started = time.monotonic()
        assert len(_read_all(runtime, quiet.tenant_id, 0)) == 1  # not held by the other tenant
        assert time.monotonic() - started < 2
        with pytest.raises(FeedBusyError), runtime.db.tenant(busy.tenant_id) as conn:
            read_changes(conn, busy.tenant_id, after=0, limit=10, wait=0.5)
        tx.rollback()
    assert _read_all(runtime, busy.tenant_id, 0) == []  # a rolled-back write leaves a gap only


def test_a_waiting_reader_never_holds_up_a_writer(runtime: Runtime, tenant: TenantHandle) -> None:
    """A reader waiting for one writer must not make a second writer wait behind it: were the
    first writer to need something the second holds, that would be a deadlock."""
    t = tenant.tenant_id
    with runtime.db.admin.connect() as first:
        tx = first.begin()
        _event(first, t, uuid.uuid4(), 1)
        reader = threading.Thread(target=lambda: _read_all(runtime, t, 0))
        reader.start()
        time.sleep(0.2)  # the reader is waiting now
        started = time.monotonic()
        with runtime.db.admin.connect() as second, second.begin():
            _event(second, t, uuid.uuid4(), 1)
        assert time.monotonic() - started < 1, "a writer waited behind a reader"
        tx.commit()
        reader.join(10)


def test_concurrent_writers_and_a_polling_reader_see_every_event_once(
    runtime: Runtime, tenant: TenantHandle
) -> None:
    t = tenant.tenant_id
    written: list[uuid.UUID] = []
    lock = threading.Lock()

    def writer(seed: int) -> None:
        rnd = random.Random(seed)  # noqa: S311 - test timing jitter
        for _ in range(25):
            doc = uuid.uuid4()
            with runtime.db.admin.connect() as conn, conn.begin():
                _event(conn, t, doc, 1)
                time.sleep(rnd.random() / 100)  # commit after others that started later
            with lock:
                written.append(doc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(6)]
    for th in threads:
        th.start()
    seen: list[Change] = []
    after = 0
    while any(th.is_alive() for th in threads):
        page = _read_all(runtime, t, after)
        seen += page
        if page:
            after = page[-1].change_id
    for th in threads:
        th.join()
    seen += _read_all(runtime, t, after)
    ids = [c.document_id for c in seen]
    assert len(ids) == len(set(ids)), "an event was seen twice"
    assert set(ids) == set(written), "an event was missed"
    positions = [c.change_id for c in seen]
    assert positions == sorted(positions)


def test_the_feed_is_the_tenants_own(
    runtime: Runtime, make_tenant: Callable[..., TenantHandle]
) -> None:
    one, two = make_tenant(seal=False), make_tenant(seal=False)
    with runtime.db.admin.connect() as conn, conn.begin():
        _event(conn, one.tenant_id, uuid.uuid4(), 1)
    assert len(_read_all(runtime, one.tenant_id, 0)) == 1
    assert _read_all(runtime, two.tenant_id, 0) == []
    # Row-level security: a transaction scoped to one tenant sees no row of another.
    with runtime.db.tenant(two.tenant_id) as conn:
        assert read_changes(conn, one.tenant_id, after=0, limit=10) == []
