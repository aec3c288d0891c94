"""The procrastinate app, its tasks and the worker loop.

Jobs are rows in PostgreSQL. A document waiting in ``validated`` is itself the durable to-do
item; the transaction that stores it also makes sure a signing job is waiting for its tenant
(``services.invoices.wake_signer``: one waiting job per tenant, shared by every request). The
job signs the tenant's waiting documents one transaction each, oldest first; workers share a
tenant's documents with ``FOR UPDATE SKIP LOCKED``. A worker that dies mid-job leaves its job
in ``doing`` and its current document untouched; every worker looks for jobs of workers whose
heartbeat stopped and puts them back in the queue, and each step locks the document and checks
its status, so nothing is signed twice.

Webhook deliveries wait on ERPs the tenants chose, so they run apart: their jobs are in the
``webhooks`` queue, which a worker runs in slots of its own (``ENTEGRATOR_WEBHOOK_CONCURRENCY``)
on threads of its own, while the ``documents`` queue keeps all of ``ENTEGRATOR_WORKER_CONCURRENCY``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import procrastinate
from procrastinate import PsycopgConnector, RetryStrategy
from sqlalchemy import text

from entegrator.runtime import Runtime
from entegrator.services.inbound import INBOUND_TASK
from entegrator.services.invoices import QUEUE, SIGN_TASK, wake_signer
from entegrator.services.sending import SEND_TASK
from entegrator.services.webhooks import QUEUE as WEBHOOK_QUEUE
from entegrator.services.webhooks import WEBHOOK_TASK, due_tenants, wake_webhooks

__all__ = ["make_app", "recover_stalled", "run_worker", "sweep"]

log = logging.getLogger(__name__)

_runtime: Runtime | None = None
_webhook_threads: ThreadPoolExecutor | None = None


def _rt() -> Runtime:
    if _runtime is None:  # pragma: no cover - tasks run only inside a worker
        raise RuntimeError("the worker's runtime is not set")
    return _runtime


def sign_pending(tenant_id: str) -> int:
    return _rt().pipeline.sign_pending(uuid.UUID(tenant_id))


def process_inbound(tenant_id: str) -> int:
    return _rt().inbound.process_pending(uuid.UUID(tenant_id))


def send_pending(tenant_id: str) -> int:
    return _rt().sending.send_pending(uuid.UUID(tenant_id))


async def deliver_webhooks(tenant_id: str) -> int:
    """On the webhook threads: the default executor runs the other jobs, and a slow ERP must
    not take a thread they need."""
    if _webhook_threads is None:  # pragma: no cover - tasks run only inside a worker
        raise RuntimeError("the worker's webhook threads are not set")
    deliver = _rt().webhooks.deliver_pending
    return await asyncio.get_running_loop().run_in_executor(
        _webhook_threads, deliver, uuid.UUID(tenant_id)
    )


def webhooks_due(timestamp: int) -> int:
    """Wake a delivery job for tenants whose notifications are due for a retry (every
    minute); how many tenants were woken."""
    del timestamp
    with _rt().db.system() as conn:
        return sum(wake_webhooks(conn, t) for t in due_tenants(conn))


def follow_gib(timestamp: int) -> int:
    """Every minute: wake senders whose retries are due and ask GİB about everything sent and
    not final yet; every hour close the 8-day answer windows; every two hours refresh the
    registered-user list. How many documents changed."""
    rt = _rt()
    if not rt.sending.configured:
        return 0
    rt.sending.wake_due()  # retries whose time has come (GİB was down, say)
    if timestamp % 3600 < 60:
        rt.answers.close_windows()
    if timestamp % 7200 < 60 and rt.settings.gib_user_list_url:
        try:
            rt.sending.refresh_user_list()
        except Exception:  # keep following statuses with the list we have
            log.exception("refreshing GİB's user list failed")
    with rt.db.system() as conn:
        tenants = (
            conn.execute(
                text("SELECT DISTINCT tenant_id FROM outbound_envelopes WHERE status = 'sent'")
            )
            .scalars()
            .all()
        )
    return sum(rt.sending.poll(t) for t in tenants)


def sweep(timestamp: int) -> int:
    """Wake a signer for tenants whose documents wait in ``validated`` with no live job (a
    job that ran out of retries, say). Returns how many tenants were woken."""
    del timestamp
    rt = _rt()
    with rt.db.system() as conn:
        tenants = (
            conn.execute(
                text(
                    "SELECT DISTINCT d.tenant_id FROM documents d "
                    "WHERE d.status = 'validated' AND d.status_code IS NULL "
                    "AND d.updated_at < now() - interval '2 minutes' "
                    "AND NOT EXISTS (SELECT 1 FROM procrastinate_jobs j WHERE j.task_name = :task "
                    "AND j.status IN ('todo', 'doing') "
                    "AND j.args->>'tenant_id' = d.tenant_id::text)"
                ),
                {"task": SIGN_TASK},
            )
            .scalars()
            .all()
        )
        woken = sum(wake_signer(conn, tenant_id) for tenant_id in tenants)
    rt.db.ensure_partitions(rt.settings.partitions_ahead)
    return woken


def make_app(database_url: str) -> procrastinate.App:
    from entegrator.store.db import libpq_url

    app = procrastinate.App(
        connector=PsycopgConnector(conninfo=libpq_url(database_url), min_size=1, max_size=8)
    )
    # Per-tenant jobs: the rows they work on are the to-do list; retried with back-off.
    work: Any
    for name, work, queue in (
        (SIGN_TASK, sign_pending, QUEUE),
        (INBOUND_TASK, process_inbound, QUEUE),
        (SEND_TASK, send_pending, QUEUE),
        (WEBHOOK_TASK, deliver_webhooks, WEBHOOK_QUEUE),
    ):
        app.task(name=name, queue=queue, retry=RetryStrategy(max_attempts=20, exponential_wait=2))(
            work
        )
    for cron, periodic_id, task, queue in (
        ("* * * * *", "webhooks-due", webhooks_due, WEBHOOK_QUEUE),
        ("* * * * *", "follow-gib", follow_gib, QUEUE),
        ("*/5 * * * *", "sweep", sweep, QUEUE),
    ):
        name = f"entegrator.{task.__name__}"
        app.periodic(cron=cron, periodic_id=periodic_id)(app.task(name=name, queue=queue)(task))
    return app


async def _run_webhook_worker(app: procrastinate.App, runtime: Runtime, *, wait: bool) -> None:
    """The ``webhooks`` queue in slots and threads of its own, beside the ``documents`` one;
    runs until cancelled (or, with ``wait=False``, until idle)."""
    global _webhook_threads  # noqa: PLW0603 - one runtime per worker process
    s = runtime.settings
    threads = ThreadPoolExecutor(s.webhook_concurrency, thread_name_prefix="webhooks")
    _webhook_threads = threads
    try:
        await app.run_worker_async(
            queues=[WEBHOOK_QUEUE],
            name="webhooks",
            concurrency=s.webhook_concurrency,
            wait=wait,
            install_signal_handlers=False,  # stopped with the documents worker
            update_heartbeat_interval=s.heartbeat_seconds,
            stalled_worker_timeout=s.stalled_after_seconds,
        )
    finally:
        threads.shutdown(wait=False)


def _report_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("the webhooks worker stopped", exc_info=task.exception())


async def recover_stalled(app: procrastinate.App, *, every: float, stalled_after: float) -> None:
    """Forever: put back in the queue the jobs of workers that stopped beating."""
    while True:
        try:
            for job in await app.job_manager.get_stalled_jobs(
                seconds_since_heartbeat=stalled_after
            ):
                log.warning("job %s of a stalled worker is queued again", job.id)
                await app.job_manager.retry_job(job)
        except Exception:  # the loop must survive a lost connection
            log.exception("looking for stalled jobs failed")
        await asyncio.sleep(every)


async def run_worker(
    runtime: Runtime, *, concurrency: int | None = None, wait: bool = True, **options: Any
) -> None:
    """Run a worker in this event loop until stopped (or, with ``wait=False``, until idle)."""
    global _runtime  # noqa: PLW0603 - one runtime per worker process
    _runtime = runtime
    s = runtime.settings
    runtime.pipeline  # noqa: B018 - load the master key before the first job
    app = make_app(runtime.database_url)
    async with app.open_async():
        recovery = asyncio.create_task(
            recover_stalled(app, every=s.heartbeat_seconds, stalled_after=s.stalled_after_seconds)
        )
        webhooks = asyncio.create_task(_run_webhook_worker(app, runtime, wait=wait))
        webhooks.add_done_callback(_report_failure)
        try:
            await app.run_worker_async(
                queues=[QUEUE],
                concurrency=concurrency or s.worker_concurrency,
                wait=wait,
                update_heartbeat_interval=s.heartbeat_seconds,
                stalled_worker_timeout=s.stalled_after_seconds,
                **options,
            )
            if not wait:
                await webhooks
        finally:
            recovery.cancel()
            webhooks.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await webhooks
