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

A worker that stops on its own (PostgreSQL went away) is started again by its supervisor
(``supervise_worker``, see ``workflow.supervisor``). Every start first catches up: the jobs a
previous run of the same process left in ``doing`` go back to the queue at once, and tenants
whose documents wait in ``validated`` with no live job get one, so nothing accepted before or
during an outage waits for the five-minute sweep.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import procrastinate
from procrastinate import JobContext, PsycopgConnector, RetryStrategy
from procrastinate.worker import Worker

from entegrator.runtime import Runtime, WorkerHealth, WorkerStatus
from entegrator.services.deliveries import DELIVERY_TASK, wake_deliveries
from entegrator.services.imports import IMPORT_TASK
from entegrator.services.inbound import INBOUND_TASK
from entegrator.services.invoices import QUEUE, SIGN_TASK, wake_signer
from entegrator.services.sending import SEND_TASK
from entegrator.services.webhooks import QUEUE as WEBHOOK_QUEUE
from entegrator.services.webhooks import WEBHOOK_TASK, due_tenants, wake_webhooks
from entegrator.store import Database, outbound
from entegrator.store import jobs as jobs_store
from entegrator.workflow.supervisor import supervise

__all__ = ["make_app", "recover_stalled", "run_worker", "supervise_worker", "sweep"]

log = logging.getLogger(__name__)


def _rt(context: JobContext) -> Runtime:
    """The runtime the worker running this job was started with (its additional context)."""
    runtime = context.additional_context.get("runtime")
    if not isinstance(runtime, Runtime):  # pragma: no cover - tasks run only inside a worker
        raise TypeError("the job runs outside an entegrator worker")
    return runtime


def sign_pending(context: JobContext, tenant_id: str) -> int:
    return _rt(context).signing.sign_pending(uuid.UUID(tenant_id))


def process_inbound(context: JobContext, tenant_id: str) -> int:
    return _rt(context).inbound.process_pending(uuid.UUID(tenant_id))


def send_pending(context: JobContext, tenant_id: str) -> int:
    return _rt(context).sending.send_pending(uuid.UUID(tenant_id))


def run_import(context: JobContext, tenant_id: str, import_id: str) -> int:
    """Process one bulk import (``services.imports``); how many documents it issued. Run
    again after a crash, it issues nothing twice (each ERP key is an idempotency key)."""
    row = _rt(context).imports.process(uuid.UUID(tenant_id), uuid.UUID(import_id))
    return row.issued


def deliver_invoices(context: JobContext, tenant_id: str) -> int:
    """Send the tenant's due invoice deliveries (e-mail, SMS) to their buyers."""
    return _rt(context).deliveries.deliver_pending(uuid.UUID(tenant_id))


def deliveries_due(context: JobContext, timestamp: int) -> int:
    """Every minute: wake a delivery job for tenants whose deliveries are due for a retry;
    how many tenants were woken."""
    del timestamp
    rt = _rt(context)
    tenants = rt.deliveries.due_tenants()
    woken = 0
    for tenant_id in tenants:
        with rt.db.tenant(tenant_id) as conn:
            woken += wake_deliveries(conn, tenant_id)
    return woken


async def deliver_webhooks(context: JobContext, tenant_id: str) -> int:
    """On the webhook threads: the default executor runs the other jobs, and a slow ERP must
    not take a thread they need."""
    threads = context.additional_context.get("threads")
    if not isinstance(threads, ThreadPoolExecutor):  # pragma: no cover - inside a worker only
        raise TypeError("the job runs outside the webhooks worker")
    deliver = _rt(context).webhooks.deliver_pending
    return await asyncio.get_running_loop().run_in_executor(threads, deliver, uuid.UUID(tenant_id))


def webhooks_due(context: JobContext, timestamp: int) -> int:
    """Wake a delivery job for tenants whose notifications are due for a retry (every
    minute); how many tenants were woken."""
    del timestamp
    with _rt(context).db.system() as conn:
        return sum(wake_webhooks(conn, t) for t in due_tenants(conn))


def follow_gib(context: JobContext, timestamp: int) -> int:
    """Every minute: wake senders whose retries are due and ask GİB about everything sent and
    not final yet; every hour close the answer windows (8 days; despatch advices 7); every
    two hours refresh the registered-user list. How many documents changed."""
    rt = _rt(context)
    if not rt.sending.configured:
        return 0
    rt.sending.wake_due()  # retries whose time has come (GİB was down, say)
    if timestamp % 3600 < 60:
        rt.answers.close_windows()
        rt.despatches.close_windows()  # the 7-day receipt window of despatch advices
    if timestamp % 7200 < 60 and rt.settings.gib_user_list_url:
        try:
            rt.sending.refresh_user_list()
        except Exception:  # keep following statuses with the list we have
            log.exception("refreshing GİB's user list failed")
    with rt.db.system() as conn:
        tenants = outbound.tenants_awaiting_gib(conn)
    return sum(rt.sending.poll(t) for t in tenants)


def earsiv_reports(context: JobContext, timestamp: int) -> int:
    """Every five minutes: report each tenant's e-Arşiv invoices and cancellations of the days
    before today (Istanbul time; nothing is reported twice, so a run that finds nothing does
    nothing), send what waits and follow what GİB has; once an hour, tell the tenants whose
    invoices are past their deadline. How many reports were prepared."""
    rt = _rt(context)
    prepared = rt.earsiv.run_due()
    if timestamp % 3600 < 300:
        rt.earsiv.warn_overdue()
    return prepared


def billing_warnings(context: JobContext, timestamp: int) -> int:
    """Every minute: e-mail the low-credit warnings not mailed yet; once an hour, write off
    the credits of packages past their last day. How many warnings were sent."""
    rt = _rt(context)
    if timestamp % 3600 < 60:
        rt.billing.expire_all()
    return rt.billing.mail_warnings(rt.deliveries.mailer, rt.settings.mail_from)


def wake_waiting(db: Database, *, idle: str) -> int:
    """Wake a signer for tenants whose documents have waited in ``validated`` for ``idle``
    (a PostgreSQL interval) with no live job; how many tenants were woken."""
    with db.system() as conn:
        tenants = jobs_store.waiting_without_job(conn, task=SIGN_TASK, idle=idle)
        return sum(wake_signer(conn, tenant_id) for tenant_id in tenants)


def sweep(context: JobContext, timestamp: int) -> int:
    """Wake a signer for tenants whose documents wait in ``validated`` with no live job (a
    job that ran out of retries, say). Returns how many tenants were woken."""
    del timestamp
    rt = _rt(context)
    woken = wake_waiting(rt.db, idle="2 minutes")
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
        (DELIVERY_TASK, deliver_invoices, QUEUE),
        (IMPORT_TASK, run_import, QUEUE),
        (WEBHOOK_TASK, deliver_webhooks, WEBHOOK_QUEUE),
    ):
        app.task(
            name=name,
            queue=queue,
            pass_context=True,
            retry=RetryStrategy(max_attempts=20, exponential_wait=2),
        )(work)
    for cron, periodic_id, task, queue in (
        ("* * * * *", "webhooks-due", webhooks_due, WEBHOOK_QUEUE),
        ("* * * * *", "follow-gib", follow_gib, QUEUE),
        ("* * * * *", "deliveries-due", deliveries_due, QUEUE),
        ("* * * * *", "billing-warnings", billing_warnings, QUEUE),
        ("*/5 * * * *", "sweep", sweep, QUEUE),
        ("*/5 * * * *", "earsiv-reports", earsiv_reports, QUEUE),
    ):
        name = f"entegrator.{task.__name__}"
        app.periodic(cron=cron, periodic_id=periodic_id)(
            app.task(name=name, queue=queue, pass_context=True)(task)
        )
    return app


async def _run_webhook_worker(app: procrastinate.App, runtime: Runtime, *, wait: bool) -> None:
    """The ``webhooks`` queue in slots and threads of its own, beside the ``documents`` one;
    runs until cancelled (or, with ``wait=False``, until idle)."""
    s = runtime.settings
    threads = ThreadPoolExecutor(s.webhook_concurrency, thread_name_prefix="webhooks")
    try:
        await app.run_worker_async(
            queues=[WEBHOOK_QUEUE],
            name="webhooks",
            concurrency=s.webhook_concurrency,
            wait=wait,
            install_signal_handlers=False,  # stopped with the documents worker
            update_heartbeat_interval=s.heartbeat_seconds,
            stalled_worker_timeout=s.stalled_after_seconds,
            # The jobs find the runtime, and their threads, in their context.
            additional_context={"runtime": runtime, "threads": threads},
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


class _Worker(Worker):
    """procrastinate's worker, which tells ``health`` as soon as it begins to stop (a failed
    side task stops it, and its clean-up may wait long for a database that is away)."""

    def __init__(self, *, health: WorkerHealth, **options: Any) -> None:
        super().__init__(**options)
        self.health = health

    def stop(self) -> None:
        self.health.status = WorkerStatus.STOPPING
        super().stop()  # type: ignore[no-untyped-call]  # procrastinate's is untyped


async def _catch_up(app: procrastinate.App, runtime: Runtime, health: WorkerHealth) -> None:
    """What a worker does before its first job: after a restart, drop the pooled connections
    (they may have died with the server); remove the registration the previous run left
    behind (its jobs in ``doing`` are queued again by the next look for stalled jobs, not
    after ``stalled_after_seconds``); wake every tenant whose documents wait with no live job.
    """
    if health.restarts:  # pooled connections may have died with the server: start afresh
        await asyncio.to_thread(runtime.db.dispose)
    if health.registration is not None:
        await app.job_manager.unregister_worker(health.registration)
        log.info("the jobs of the previous run (worker %d) are queued again", health.registration)
        health.registration = None
    woken = await asyncio.to_thread(wake_waiting, runtime.db, idle="0 seconds")
    if woken:
        log.info("signing woken for %d tenants with waiting documents", woken)


async def run_worker(
    runtime: Runtime,
    *,
    concurrency: int | None = None,
    wait: bool = True,
    health: WorkerHealth | None = None,
    **options: Any,
) -> None:
    """Run a worker in this event loop until stopped (or, with ``wait=False``, until idle).

    It also returns, or raises, when it fails (the database went away): ``supervise_worker``
    runs it again. ``health`` follows its state.
    """
    s = runtime.settings
    health = health if health is not None else WorkerHealth()
    runtime.signing  # noqa: B018 - load the master key before the first job
    app = make_app(runtime.database_url)
    worker = _Worker(
        health=health,
        app=app,
        queues=[QUEUE],
        concurrency=concurrency or s.worker_concurrency,
        wait=wait,
        update_heartbeat_interval=s.heartbeat_seconds,
        stalled_worker_timeout=s.stalled_after_seconds,
        additional_context={"runtime": runtime},  # the jobs find the runtime in their context
        **options,
    )
    async with app.open_async():
        await _catch_up(app, runtime, health)
        recovery = asyncio.create_task(
            recover_stalled(app, every=s.heartbeat_seconds, stalled_after=s.stalled_after_seconds)
        )
        webhooks = asyncio.create_task(_run_webhook_worker(app, runtime, wait=wait))

        def webhooks_ended(task: asyncio.Task[None]) -> None:
            _report_failure(task)
            if wait and not task.cancelled():  # it died: stop both, the supervisor restarts
                worker.stop()

        webhooks.add_done_callback(webhooks_ended)
        health.status = WorkerStatus.RUNNING
        log.info("worker running (%d jobs at once)", worker.concurrency)
        try:
            await worker.run()  # type: ignore[no-untyped-call]  # procrastinate's is untyped
            if not wait:
                await webhooks
        finally:
            recovery.cancel()
            webhooks.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await webhooks
            # Still set when the worker could not unregister (the database was away).
            health.registration = worker.worker_id


async def supervise_worker(
    runtime: Runtime, health: WorkerHealth, *, concurrency: int | None = None, **options: Any
) -> None:
    """Run a worker until cancelled, starting it again (with back-off) whenever it stops on
    its own; cancel the task to stop it (its running jobs finish first)."""
    await supervise(
        lambda: run_worker(
            runtime,
            concurrency=concurrency,
            health=health,
            install_signal_handlers=False,
            **options,
        ),
        health,
    )
