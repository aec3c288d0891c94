"""``entegrator earsiv report`` as a user runs it: a subprocess on the test database, GİB's
e-Arşiv service played by the simulator over HTTP."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from entegrator.config import Settings
from entegrator.gibsim.app import EARSIV_SERVICE, create_app
from entegrator.runtime import Runtime
from entegrator.store import earsiv
from tests.cli.test_cli_platform import _cli, _env
from tests.testing.earsiv import Earsiv, issue_earsiv, istanbul, make_earsiv
from tests.testing.platform import TenantHandle, free_port


@pytest.fixture(scope="module")
def gib(database_url: str, make_tenant: Callable[..., TenantHandle]) -> Iterator[Earsiv]:
    yield from make_earsiv(database_url, make_tenant())


@pytest.fixture(scope="module")
def gib_url(gib: Earsiv) -> Iterator[str]:
    import uvicorn

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(gib.simulator), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}{EARSIV_SERVICE}"
    server.should_exit = True
    thread.join(10)


def test_report_now_sends_the_tenants_report(  # noqa: PLR0917 - fixtures
    runtime: Runtime,
    settings: Settings,
    tmp_path: Path,
    gib: Earsiv,
    gib_url: str,
    make_tenant: Callable[..., TenantHandle],
) -> None:
    tenant = make_tenant()
    issue_earsiv(runtime, tenant, istanbul(2026, 11, 24, 12, 0))
    issue_earsiv(runtime, tenant, istanbul(2026, 11, 25, 12, 0))  # a later day: not yet
    env = _env(settings, tmp_path) | {
        "ENTEGRATOR_EARSIV_URL": gib_url,
        "ENTEGRATOR_GIB_TOKEN": gib.token,
        "ENTEGRATOR_EARSIV_PREPARER_VKN": gib.preparer.vkn,
    }
    done = _cli(env, "earsiv", "report", "--tenant", tenant.vkn, "--date", "2026-11-24", "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert (out["prepared"], out["sent"], out["through"]) == (1, 1, "2026-11-24")
    (report,) = out["reports"]
    assert (report["period"], report["part"], report["invoices"]) == ("2026-11", 1, 1)
    with runtime.db.tenant(tenant.tenant_id) as conn:
        (row,) = earsiv.list_reports(conn, tenant.tenant_id)
    assert str(row.report_id) == report["id"] and row.status == "sent"
    # The command asked once (15: processing); the next question finds it checked.
    assert gib.simulator.earsiv.status(report["id"]) == (30, "Başarılı", tenant.vkn)

    again = _cli(env, "earsiv", "report", "--tenant", tenant.vkn, "--date", "2026-11-24")
    assert again.returncode == 0, again.stderr
    assert "0 reports prepared" in again.stdout  # nothing twice


def test_without_gib_the_report_is_kept_and_bad_input_is_refused(
    runtime: Runtime,
    settings: Settings,
    tmp_path: Path,
    gib: Earsiv,
    make_tenant: Callable[..., TenantHandle],
) -> None:
    tenant = make_tenant()
    issue_earsiv(runtime, tenant, istanbul(2026, 11, 24, 12, 0))
    env = _env(settings, tmp_path) | {"ENTEGRATOR_EARSIV_PREPARER_VKN": gib.preparer.vkn}
    done = _cli(env, "earsiv", "report", "--tenant", tenant.vkn, "--date", "2026-11-24")
    assert done.returncode == 0, done.stderr
    assert "1 reports prepared, 0 sent" in done.stdout and "not sent" in done.stdout
    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).date().isoformat()
    for args, code in (
        (["--date", "24.11.2026"], "INVALID_DATE"),
        (["--date", tomorrow], "INVALID_DATE"),
    ):
        refused = _cli(env, "earsiv", "report", "--tenant", tenant.vkn, *args)
        assert refused.returncode == 2 and code in refused.stderr, refused.stderr
    unknown = _cli(env, "earsiv", "report", "--tenant", "1234567890")
    assert unknown.returncode == 2 and "TENANT_NOT_FOUND" in unknown.stderr
