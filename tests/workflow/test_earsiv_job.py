"""The scheduled e-Arşiv job run by a real worker: it reports the days before today."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from entegrator.runtime import Runtime
from entegrator.store import earsiv
from entegrator.workflow.jobs import make_app
from tests.clock import now
from tests.testing.earsiv import issue_earsiv
from tests.testing.platform import TenantHandle


def test_the_job_is_scheduled_every_five_minutes(runtime: Runtime) -> None:
    app = make_app(runtime.database_url)
    task = app.periodic_registry.periodic_tasks[("entegrator.earsiv_reports", "earsiv-reports")]
    assert task.cron == "*/5 * * * *"


def test_the_worker_reports_yesterday_with_the_taxpayers_own_seal(
    runtime: Runtime, make_tenant: Callable[..., TenantHandle], run_jobs: Callable[[], None]
) -> None:
    """No preparer configured: the taxpayer prepares and signs its own report; no GİB URL:
    the report is kept, pending, for when one is set."""
    tenant = make_tenant()
    old = issue_earsiv(runtime, tenant, now() - dt.timedelta(days=2))
    issue_earsiv(runtime, tenant, now())  # today's waits for tomorrow
    app = make_app(runtime.database_url)
    with app.open():
        app.configure_task("entegrator.earsiv_reports").defer(timestamp=0)
    run_jobs()
    with runtime.db.tenant(tenant.tenant_id) as conn:
        (row,) = earsiv.list_reports(conn, tenant.tenant_id)
        (item,) = earsiv.items_of(conn, tenant.tenant_id, row.report_id)
    assert (row.preparer, row.status, item[1]) == (tenant.vkn, "pending", old)
