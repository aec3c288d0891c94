"""The worker side of the pipeline: idempotent steps, crash safety, seals."""

from __future__ import annotations

import concurrent.futures
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import IO

from sqlalchemy import text

from entegrator.runtime import Runtime
from entegrator.services.seals import install_test_seal, seal_installed
from entegrator.store import billing, repo
from tests.services.test_billing import prepaid
from tests.testing.platform import TenantHandle


def _statuses(runtime: Runtime, tenant: TenantHandle) -> dict[str, int]:
    with runtime.db.tenant(tenant.tenant_id) as conn:
        rows = conn.execute(text("SELECT status, count(*) FROM documents GROUP BY status")).all()
    return {status: int(n) for status, n in rows}


def test_signing_twice_has_one_effect(
    tenant: TenantHandle, runtime: Runtime, run_jobs: Callable[[], None]
) -> None:
    with tenant.client() as c:
        doc = tenant.issue(c)
    doc_id = uuid.UUID(doc["id"])
    first = runtime.signing.sign(tenant.tenant_id, doc_id)
    second = runtime.signing.sign(tenant.tenant_id, doc_id)
    assert (first.status, first.changed) == ("queued", True)
    assert (second.status, second.changed) == ("queued", False)
    run_jobs()  # the queued job finds nothing left to do
    with runtime.db.tenant(tenant.tenant_id) as conn:
        events = repo.list_events(conn, tenant.tenant_id, doc_id)
        blobs = conn.execute(text("SELECT count(*) FROM blobs")).scalar_one()
    assert [e.type for e in events] == ["received", "validated", "numbered", "signed", "queued"]
    assert blobs == 2  # the unsigned and the signed XML, once each


def test_a_tenant_without_a_seal_waits_until_one_is_installed(
    make_tenant: Callable[..., TenantHandle], runtime: Runtime, run_jobs: Callable[[], None]
) -> None:
    tenant = make_tenant(seal=False)
    with tenant.client() as c:
        doc = tenant.issue(c)
        run_jobs()
        detail = c.get(f"/api/v1/invoices/{doc['id']}").json()
        assert detail["status"] == "validated"
        assert detail["status_code"] == "seal-missing"
        with runtime.db.system() as conn:
            install_test_seal(
                conn, tenant.tenant_id, tenant.vkn, "Test", runtime.settings.key_bytes()
            )
            assert seal_installed(conn, tenant.tenant_id) == 1
        run_jobs()
        detail = c.get(f"/api/v1/invoices/{doc['id']}").json()
        assert detail["status"] == "queued"
        assert detail["status_code"] is None


def test_a_seal_of_another_vkn_fails_the_document_with_its_reason(
    make_tenant: Callable[..., TenantHandle], runtime: Runtime, run_jobs: Callable[[], None]
) -> None:
    tenant = make_tenant(seal=False)
    with runtime.db.system() as conn:
        install_test_seal(conn, tenant.tenant_id, "3221555337", "Başka", b"k" * 32)
    with tenant.client() as c:
        doc = tenant.issue(c)
        run_jobs()
        detail = c.get(f"/api/v1/invoices/{doc['id']}").json()
    assert detail["status"] == "failed"
    assert detail["status_code"] == "CERTIFICATE_INVALID" or detail["status_code"]
    assert detail["events"][-1]["type"] == "failed"


def _worker(env: dict[str, str], out: IO[bytes]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "entegrator", "worker", "--concurrency", "4"],
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
    )


def test_a_worker_killed_mid_pipeline_finishes_every_document_exactly_once(
    make_tenant: Callable[..., TenantHandle],
    runtime: Runtime,
    database_url: str,
    tmp_path: Path,
) -> None:
    tenant = make_tenant(series="KIL")
    count = 60
    prepaid(runtime, tenant, count)  # metered: each document billed once, whatever happens

    def post(_: int) -> str:
        with tenant.client() as c:
            return str(tenant.issue(c)["id"])

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(post, range(count)))

    s = runtime.settings
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENTEGRATOR_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # start-up as on a user's machine
    env.update(
        ENTEGRATOR_DATABASE_URL=database_url,
        ENTEGRATOR_DATA_DIR=str(tmp_path),
        ENTEGRATOR_SECRET_KEY=s.secret_key.get_secret_value() if s.secret_key else "",
        ENTEGRATOR_HEARTBEAT_SECONDS="1",
        ENTEGRATOR_STALLED_AFTER_SECONDS="3",
        ENTEGRATOR_CACHE_DIR=os.environ.get("ENTEGRATOR_CACHE_DIR", str(tmp_path)),
    )
    log = tmp_path / "worker.log"
    with log.open("ab") as out:
        _kill_and_restart(runtime, tenant, env, out, log, count)
    _check_exactly_once(runtime, tenant, ids, count)
    with runtime.db.tenant(tenant.tenant_id) as conn:
        billed = conn.execute(text("SELECT document_id FROM usage_records")).scalars().all()
        assert billing.ledger_sum(conn, tenant.tenant_id) == 0
        assert len(billing.ledger(conn, tenant.tenant_id)) == count + 1
    assert sorted(str(d) for d in billed) == sorted(ids)


def _kill_and_restart(  # noqa: PLR0917
    runtime: Runtime,
    tenant: TenantHandle,
    env: dict[str, str],
    out: IO[bytes],
    log: Path,
    count: int,
) -> None:

    def done() -> int:
        return _statuses(runtime, tenant).get("queued", 0)

    stranded = 0
    kills = 0
    deadline = time.monotonic() + 120
    while kills < 6 and done() < count and time.monotonic() < deadline:
        worker = _worker(env, out)
        before = done()
        while done() < min(count, before + 5) and time.monotonic() < deadline:
            if worker.poll() is not None:
                raise AssertionError(log.read_text())
            time.sleep(0.02)
        worker.send_signal(signal.SIGKILL)  # no clean-up, no goodbye
        worker.wait()
        kills += 1
        with runtime.db.system() as conn:
            stranded += conn.execute(
                text(
                    "SELECT count(*) FROM procrastinate_jobs WHERE status = 'doing' "
                    "AND args->>'tenant_id' = :t"
                ),
                {"t": str(tenant.tenant_id)},
            ).scalar_one()
        if stranded and done() >= count // 2:
            break
    assert kills >= 1
    assert stranded >= 1, "no job was caught in the middle; the test proved nothing"

    worker = _worker(env, out)
    try:
        while done() < count:
            assert time.monotonic() < deadline, (_statuses(runtime, tenant), log.read_text())
            assert worker.poll() is None, log.read_text()
            time.sleep(0.1)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)


def _check_exactly_once(runtime: Runtime, tenant: TenantHandle, ids: list[str], count: int) -> None:

    with runtime.db.tenant(tenant.tenant_id) as conn:
        rows = conn.execute(
            text("SELECT document_id, number, signed_sha256, head_hash FROM documents")
        ).all()
        assert len(rows) == count
        assert sorted(r.number for r in rows) == [f"KIL2026{n:09d}" for n in range(1, count + 1)]
        assert len({bytes(r.signed_sha256) for r in rows}) == count
        for row in rows:
            events = repo.list_events(conn, tenant.tenant_id, row.document_id)
            assert [e.type for e in events] == [
                "received",
                "validated",
                "numbered",
                "signed",
                "queued",
            ], events
            assert repo.verify_chain(events, row.document_id, bytes(row.head_hash)) == []
        blobs = conn.execute(text("SELECT count(*) FROM blobs")).scalar_one()
    assert blobs == 2 * count
    assert {str(r.document_id) for r in rows} == set(ids)
    with runtime.db.system() as conn:
        left = conn.execute(
            text(
                "SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing') "
                "AND args->>'tenant_id' = :t"
            ),
            {"t": str(tenant.tenant_id)},
        ).scalar_one()
    assert left == 0


def test_the_sweep_queues_documents_left_without_a_job(
    tenant: TenantHandle, runtime: Runtime, run_jobs: Callable[[], None]
) -> None:
    from entegrator.workflow import jobs

    with tenant.client() as c:
        doc = tenant.issue(c)
    doc_id = uuid.UUID(doc["id"])
    with runtime.db.system() as conn:
        # As if its job had run out of retries long ago: no live job, an old document.
        conn.execute(
            text(
                "UPDATE procrastinate_jobs SET status = 'failed' WHERE status = 'todo' "
                "AND args->>'tenant_id' = :t"
            ),
            {"t": str(tenant.tenant_id)},
        )
        conn.execute(
            text(
                "UPDATE documents SET updated_at = now() - interval '1 hour' WHERE document_id = :d"
            ),
            {"d": doc_id},
        )
    assert _statuses(runtime, tenant) == {"validated": 1}
    from procrastinate import JobContext
    from procrastinate.jobs import Job

    context = JobContext(  # as a worker hands it over to the job
        app=jobs.make_app(runtime.database_url),
        job=Job(queue=repo.QUEUE, lock=None, queueing_lock=None, task_name="entegrator.sweep"),
        start_timestamp=0.0,
        abort_reason=lambda: None,
        additional_context={"runtime": runtime},
    )
    assert jobs.sweep(context, 0) >= 1
    assert jobs.sweep(context, 0) == 0  # queued once, not twice
    run_jobs()
    assert _statuses(runtime, tenant) == {"queued": 1}
    with runtime.db.tenant(tenant.tenant_id) as conn:
        actions = conn.execute(text("SELECT action, target FROM audit_log")).all()
    assert ("invoice.issue", str(doc_id)) in [tuple(a) for a in actions]
