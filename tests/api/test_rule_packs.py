"""The API with a rule pack installed for a later day: /readyz warns of it, and documents
issued on that day are checked with it (real HTTP, real PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from entegrator.rules import RulePack
from entegrator.rules.xpath import ISTANBUL
from entegrator.runtime import Runtime
from entegrator.services.rulepacks import PackStore
from tests.clock import today
from tests.testing.packs import MARK, NEW_CODE, derived_pack
from tests.testing.platform import TenantHandle, serve

EFFECTIVE = today() + dt.timedelta(days=10)


class Moment:
    """The clock of the API under test, moved by the test."""

    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def scheduled(runtime: Runtime, tmp_path: Path) -> Iterator[tuple[Runtime, RulePack, Moment]]:
    """A second API process on the session's database whose data directory holds a derived
    pack taking effect on ``EFFECTIVE``."""
    settings = runtime.settings.model_copy(update={"data_dir": tmp_path / "data"})
    store = PackStore(settings.rules_dir())
    pack = store.install(
        derived_pack(tmp_path / "new"), effective=EFFECTIVE, baseline=RulePack.default()
    ).entry.pack
    moment = Moment()
    rt = Runtime(settings, runtime.database_url, clock=moment)
    yield rt, pack, moment
    rt.close()


def rules_warnings(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The /readyz warnings about rule packs. The warnings are the installation's: the
    session's database also holds other tests' e-Arşiv invoices, which the test's later clock
    finds overdue (EARSIV_OVERDUE)."""
    return [w for w in body.get("warnings", []) if w["code"].startswith("RULES_PACK")]


def test_readyz_warns_of_a_pack_waiting_for_its_day(
    scheduled: tuple[Runtime, RulePack, Moment],
) -> None:
    rt, pack, moment = scheduled
    with serve(rt) as base, httpx.Client(base_url=base) as c:
        ready = c.get("/readyz")
        assert ready.status_code == 200, ready.text  # a warning does not make it unready
        body = ready.json()
        assert body["rules_pack"]["fingerprint"] == RulePack.default().fingerprint
        (warning,) = rules_warnings(body)
        assert warning["code"] == "RULES_PACK_PENDING"
        assert str(EFFECTIVE) in warning["message_en"]
        assert pack.fingerprint[:12] in warning["message_tr"]

        moment.now = dt.datetime.combine(EFFECTIVE, dt.time(9), ISTANBUL)
        body = c.get("/readyz").json()
        assert body["rules_pack"]["fingerprint"] == pack.fingerprint
        assert rules_warnings(body) == []


def test_readyz_says_nothing_of_packs_when_none_waits(runtime: Runtime) -> None:
    with serve(runtime) as base, httpx.Client(base_url=base) as c:
        body = c.get("/readyz").json()
    assert body["rules_pack"] == RulePack.default().identity()
    assert rules_warnings(body) == []


def test_documents_issued_on_the_day_are_checked_with_its_pack(
    scheduled: tuple[Runtime, RulePack, Moment], tenant: TenantHandle
) -> None:
    rt, pack, moment = scheduled
    draft = tenant.draft(notes=[f"{MARK} not"])
    with serve(rt) as base, httpx.Client(base_url=base, headers=tenant.headers) as c:
        before = c.post("/api/v1/invoices", json=draft)
        assert before.status_code == 201, before.text

        moment.now = dt.datetime.combine(EFFECTIVE, dt.time(9), ISTANBUL)
        after = c.post("/api/v1/invoices", json=draft)
        assert after.status_code == 422, after.text
        assert NEW_CODE in after.text
        plain = c.post("/api/v1/invoices", json=tenant.draft(notes=["sıradan"]))
        assert plain.status_code == 201, plain.text

        checked = c.post(
            "/api/v1/validate", json=draft, headers={"Content-Type": "application/json"}
        )
        assert checked.status_code == 200, checked.text
        report = checked.json()
        assert report["pack"]["fingerprint"] == pack.fingerprint
        assert NEW_CODE in [f["code"] for f in report["findings"]]
