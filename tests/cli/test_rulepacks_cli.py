"""``entegrator rules install | list | info | diff`` and ``validate --at``, as an operator runs
them: a derived pack installed for a later day, the days before and after it."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from entegrator.cli import app
from entegrator.documents import build_invoice
from entegrator.documents.samples import generate
from entegrator.rules import RulePack
from entegrator.runtime import Runtime
from tests.clock import today
from tests.rules.test_schedule import with_note
from tests.testing.packs import MARK, NEW_CODE, derived_zip
from tests.testing.platform import TenantHandle

runner = CliRunner()
EFFECTIVE = today() + dt.timedelta(days=10)


def run(env: dict[str, str], *args: str) -> Result:
    return runner.invoke(app, list(args), env={"COLUMNS": "200", **env})


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"ENTEGRATOR_DATA_DIR": str(tmp_path / "data"), "ENTEGRATOR_RULES_PACK": ""}


@pytest.fixture
def installed(env: dict[str, str], tmp_path: Path) -> dict[str, object]:
    result = run(
        env,
        "rules",
        "install",
        str(derived_zip(tmp_path / "paket.zip")),
        "--effective",
        str(EFFECTIVE),
        "--version",
        "1.43",
        "--json",
    )
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.stdout)
    return data


@pytest.fixture
def marked(tmp_path: Path) -> Path:
    draft = next(d for d in generate(50, seed=3, today=today()) if len(d.lines) < 5)
    path = tmp_path / "marked.xml"
    path.write_bytes(with_note(build_invoice(draft), f"{MARK} not"))
    return path


def test_install_then_list_shows_the_pack_waiting_for_its_day(
    env: dict[str, str], installed: dict[str, object], tmp_path: Path
) -> None:
    assert installed["effective"] == str(EFFECTIVE)
    assert installed["state"] == "pending" and installed["version"] == "1.43"
    assert installed["already_installed"] is False
    again = run(
        env,
        "rules",
        "install",
        str(tmp_path / "paket.zip"),
        "--effective",
        str(EFFECTIVE),
        "--json",
    )
    assert again.exit_code == 0 and json.loads(again.stdout)["already_installed"] is True

    listed = json.loads(run(env, "rules", "list", "--json").stdout)
    states = [(p["effective"], p["state"], p["fingerprint"]) for p in listed["packs"]]
    assert states == [
        (None, "in force", RulePack.default().fingerprint),
        (str(EFFECTIVE), "pending", installed["fingerprint"]),
    ]
    human = run(env, "rules", "list").stdout
    assert f"{EFFECTIVE}  {str(installed['fingerprint'])[:12]}" in human and "(pending)" in human


def test_validate_at_a_day_uses_the_pack_in_force_on_it(
    env: dict[str, str], installed: dict[str, object], marked: Path
) -> None:
    now = run(env, "validate", "--json", str(marked))
    assert now.exit_code == 0, now.output
    assert json.loads(now.stdout)["pack"]["fingerprint"] == RulePack.default().fingerprint

    eve = run(env, "validate", "--json", "--at", str(EFFECTIVE - dt.timedelta(days=1)), str(marked))
    assert eve.exit_code == 0, eve.output

    on_the_day = run(env, "validate", "--json", "--at", str(EFFECTIVE), str(marked))
    assert on_the_day.exit_code == 1, on_the_day.output
    report = json.loads(on_the_day.stdout)
    assert NEW_CODE in [f["code"] for f in report["findings"]]
    assert report["pack"] == {
        "name": "e-FaturaPaketi",
        "version": "1.43",
        "fingerprint": installed["fingerprint"],
    }


def test_validate_at_a_bad_date_says_so(env: dict[str, str], marked: Path) -> None:
    result = run(env, "validate", "--at", "14.09.2026", str(marked))
    assert result.exit_code == 2
    assert "DATE_INVALID" in result.stderr and "YYYY-MM-DD" in result.stderr


def test_a_bad_package_is_a_clear_error_not_a_traceback(
    env: dict[str, str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"PK\x03\x04 but not really")
    result = run(env, "rules", "install", str(bad), "--effective", "2026-09-14")
    assert result.exit_code == 2
    assert "RULES_PACK_REFUSED" in result.stderr
    assert "TR: Kural paketi kurulamadı" in result.stderr and "EN: The rule pack" in result.stderr
    assert str(bad) in result.stderr
    assert "Traceback" not in result.output
    missing = run(env, "rules", "install", str(tmp_path / "nope"), "--effective", "2026-09-14")
    assert missing.exit_code == 2 and "no such file" in missing.stderr
    date = run(env, "rules", "install", str(bad), "--effective", "yarın")
    assert date.exit_code == 2 and "DATE_INVALID" in date.stderr


def test_rules_info_warns_of_a_waiting_pack_and_an_old_one(
    env: dict[str, str], installed: dict[str, object]
) -> None:
    info = run(env, "rules", "info", "--json")
    assert info.exit_code == 0, info.output
    data = json.loads(info.stdout)
    assert data["fingerprint"] == RulePack.default().fingerprint  # still in force today
    assert [w["code"] for w in data["warnings"]] == ["RULES_PACK_PENDING"]
    human = run(env, "rules", "info")
    assert "RULES_PACK_PENDING" in human.stderr and str(EFFECTIVE) in human.stderr

    old = run({**env, "ENTEGRATOR_RULES_MAX_AGE_DAYS": "1"}, "rules", "info", "--json")
    codes = [w["code"] for w in json.loads(old.stdout)["warnings"]]
    assert codes == ["RULES_PACK_PENDING", "RULES_PACK_OLD"]


def test_rules_diff_lists_the_stored_documents_the_new_pack_would_refuse(
    env: dict[str, str],
    installed: dict[str, object],
    make_tenant: Callable[..., TenantHandle],
    runtime: Runtime,
) -> None:
    first, second = make_tenant(), make_tenant()
    affected: dict[str, uuid.UUID] = {}
    for tenant, notes in (
        (first, [f"{MARK} birinci"]),
        (first, []),
        (second, ["sıradan"]),
        (second, [f"{MARK} ikinci"]),
    ):
        with tenant.client() as c:
            issued = tenant.issue(c, notes=notes)
        if notes and notes[0].startswith(MARK):
            affected[issued["ettn"].upper()] = tenant.tenant_id

    db_env = {**env, "ENTEGRATOR_DATABASE_URL": runtime.database_url}
    fingerprint = str(installed["fingerprint"])[:12]
    result = run(db_env, "rules", "diff", "--pack", fingerprint, "--days", "1", "--json")
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert data["candidate"]["fingerprint"] == installed["fingerprint"]
    assert data["current"]["fingerprint"] == RulePack.default().fingerprint
    assert data["checked"] >= 4
    # Every tenant's documents are checked; other tests of the session may have stored marked
    # ones too, so the list is compared for these two tenants.
    ours = {first.tenant_id, second.tenant_id}
    found = {
        f["ettn"]: (uuid.UUID(f["tenant_id"]), f["new_codes"])
        for f in data["new_failures"]
        if uuid.UUID(f["tenant_id"]) in ours
    }
    assert found == {ettn: (tenant, [NEW_CODE]) for ettn, tenant in affected.items()}

    human = run(db_env, "rules", "diff", "--pack", fingerprint, "--days", "1")
    assert human.exit_code == 1
    for ettn in affected:
        assert ettn in human.stdout
    unknown = run(db_env, "rules", "diff", "--pack", "0123456789ab", "--days", "1")
    assert unknown.exit_code == 2 and "RULES_PACK_NOT_FOUND" in unknown.stderr
