"""``entegrator plan``, ``credits`` and ``billing``, run as the operator runs them."""

from __future__ import annotations

import calendar
import json
import secrets
from decimal import Decimal
from pathlib import Path

from entegrator.config import Settings
from entegrator.documents.rounding import round_amount
from tests.cli.test_cli_platform import _cli, _env
from tests.clock import today
from tests.testing.platform import TenantHandle


def test_plan_credits_and_billing_commands(
    settings: Settings, tmp_path: Path, tenant: TenantHandle
) -> None:
    env = _env(settings, tmp_path)
    name = f"cli-{secrets.token_hex(3)}"
    created = _cli(
        env,
        "plan",
        "create",
        "--name",
        name,
        "--monthly-fee",
        "100",
        "--prepaid",
        "--included",
        "efatura=5",
        "--unit-price",
        "efatura=0.50",
        "--json",
    )
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["included"] == {"efatura": 5}
    listed = _cli(env, "plan", "list", "--json")
    assert name in [p["name"] for p in json.loads(listed.stdout)]
    again = _cli(env, "plan", "create", "--name", name, "--json")
    assert again.returncode != 0 and "PLAN_EXISTS" in again.stdout + again.stderr
    bad = _cli(env, "plan", "create", "--name", "x", "--included", "efatura=many")
    assert bad.returncode == 2 and "--included" in bad.stdout + bad.stderr
    kind = _cli(env, "plan", "create", "--name", "y", "--unit-price", "fax=1")
    assert kind.returncode != 0 and "fax" in kind.stdout + kind.stderr

    assigned = _cli(
        env,
        "plan",
        "assign",
        "--tenant",
        tenant.vkn,
        "--plan",
        name,
        "--from",
        today().replace(day=1).isoformat(),
    )
    assert assigned.returncode == 0, assigned.stdout + assigned.stderr
    assert f"{today().replace(day=1).isoformat()} {name}" in assigned.stdout
    nobody = _cli(env, "plan", "assign", "--tenant", "3221555337", "--plan", name, "--json")
    assert nobody.returncode != 0 and "TENANT_NOT_FOUND" in nobody.stdout + nobody.stderr

    added = _cli(
        env,
        "credits",
        "add",
        "--tenant",
        tenant.vkn,
        "--credits",
        "10",
        "--price",
        "50",
        "--expires",
        "2027-12-31",
        "--json",
    )
    assert added.returncode == 0, added.stdout + added.stderr
    assert json.loads(added.stdout)["balance"] == 10
    assert _cli(env, "credits", "add", "--tenant", tenant.vkn, "--credits", "0").returncode != 0

    day = today()
    period = f"{day.year:04d}-{day.month:02d}"
    month_days = calendar.monthrange(day.year, day.month)[1]
    # A tenant that joined today pays the days left of the month, and the package.
    total = round_amount(Decimal(100) * (month_days - day.day + 1) / month_days) + 50
    first = _cli(env, "billing", "run", "--period", period, "--json")
    assert first.returncode == 0, first.stdout + first.stderr
    mine = [r for r in json.loads(first.stdout) if r["vkn"] == tenant.vkn]
    assert len(mine) == 1 and Decimal(mine[0]["total"]) == total
    second = _cli(env, "billing", "run", "--period", period, "--json")
    again_mine = [r for r in json.loads(second.stdout) if r["vkn"] == tenant.vkn]
    assert again_mine[0]["created"] is False and Decimal(again_mine[0]["total"]) == total
    wrong = _cli(env, "billing", "run", "--period", "2026-13")
    assert wrong.returncode != 0 and "YYYY-MM" in wrong.stdout + wrong.stderr
