"""``entegrator tenant despatch-series``: the despatch and receipt series, apart from invoices."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from entegrator.config import Settings
from tests.cli.test_cli_platform import _cli, _env
from tests.testing.platform import new_vkn

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "api" / "despatch.json"


def test_despatch_series_shows_changes_and_numbers_despatches(
    settings: Settings, tmp_path: Path, base_url: str
) -> None:
    env = _env(settings, tmp_path)
    vkn = new_vkn()
    made = _cli(env, "tenant", "create", "--vkn", vkn, "--name", "İrsaliye A.Ş.", "--json")
    assert made.returncode == 0, made.stderr
    key = json.loads(made.stdout)["api_key"]
    shown = _cli(env, "tenant", "despatch-series", "--tenant", vkn, "--json")
    assert json.loads(shown.stdout) == {"despatch": "IRS", "receipt": "IRY"}
    # The invoices' series are not touched, and the same letters count apart.
    changed = _cli(env, "tenant", "despatch-series", "--tenant", vkn, "--despatch", "EFA")
    assert changed.returncode == 0, changed.stderr
    assert changed.stdout.split() == ["despatch", "EFA", "receipt", "IRY"]
    invoices = _cli(env, "tenant", "series", "--tenant", vkn, "--json")
    assert json.loads(invoices.stdout)["efatura"] == "EFA"
    bad = _cli(env, "tenant", "despatch-series", "--tenant", vkn, "--receipt", "ab", "--json")
    assert bad.returncode == 2
    assert (json.loads(bad.stderr)["code"], json.loads(bad.stderr)["where"]) == (
        "INVALID_SERIES",
        "--receipt",
    )
    draft = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    draft["supplier"]["vkn"] = vkn
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {key}"}) as c:
        invoice_draft = json.loads((EXAMPLE.parent / "invoice.json").read_text(encoding="utf-8"))
        invoice_draft["supplier"]["vkn"] = vkn
        invoice = c.post("/api/v1/invoices", json=invoice_draft)
        assert invoice.status_code == 201, invoice.text
        despatch = c.post("/api/v1/despatches", json=draft)
        assert despatch.status_code == 201, despatch.text
    assert invoice.json()["number"] == "EFA2026000000001"
    assert despatch.json()["number"] == "EFA2026000000001"  # its own counter
