"""``entegrator import`` as a user runs it: a subprocess on the test database."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from entegrator.config import Settings
from tests.cli.test_cli_platform import _cli, _env
from tests.testing.imports import HEADER, invoice_rows, row, write_xlsx
from tests.testing.platform import TenantHandle


def test_import_exits_0_when_all_is_issued_and_1_when_some_are_refused(
    settings: Settings, tmp_path: Path, tenant: TenantHandle
) -> None:
    env = _env(settings, tmp_path)
    good = write_xlsx(tmp_path / "good.xlsx", invoice_rows("CLI", 4, lines=2))
    ran = _cli(env, "import", str(good), "--tenant", tenant.vkn, "--json")
    assert ran.returncode == 0, ran.stderr
    out = json.loads(ran.stdout)
    assert (out["status"], out["counts"]["issued"], out["counts"]["refused"]) == ("done", 4, 0)
    assert len(out["documents"]) == 4

    again = _cli(env, "import", str(good), "--tenant", tenant.vkn, "--json")
    assert again.returncode == 0, again.stderr
    counts = json.loads(again.stdout)["counts"]
    assert (counts["issued"], counts["already_issued"]) == (0, 4)

    mixed = write_xlsx(tmp_path / "mixed.xlsx", [row("CLI-M1"), row("CLI-M2", quantity="x")])
    ran = _cli(env, "import", str(mixed), "--tenant", tenant.vkn)
    assert ran.returncode == 1, ran.stderr
    assert "1 issued" in ran.stdout and "1 refused" in ran.stdout
    assert "row 3, column quantity (AC3)" in ran.stdout
    assert "TR: " in ran.stdout and "EN: " in ran.stdout

    strict = _cli(env, "import", str(mixed), "--tenant", tenant.vkn, "--policy", "all-or-nothing")
    assert strict.returncode == 1
    assert "IMPORT_NOTHING_ISSUED" in strict.stdout


def test_import_refuses_a_zip_bomb_and_an_unknown_tenant(
    settings: Settings, tmp_path: Path, tenant: TenantHandle
) -> None:
    import zipfile

    env = _env(settings, tmp_path)
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a.json", b"0" * (30 * 1024 * 1024))
    ran = _cli(env, "import", str(bomb), "--tenant", tenant.vkn)
    assert ran.returncode == 1
    assert "IMPORT_UNSAFE_ARCHIVE" in ran.stderr and "Traceback" not in ran.stderr
    ran = _cli(env, "import", str(bomb), "--tenant", "1111111111")
    assert ran.returncode == 2 and "TENANT_NOT_FOUND" in ran.stderr


def test_template_files(settings: Settings, tmp_path: Path) -> None:
    env = _env(settings, tmp_path)
    target = tmp_path / "t.csv"
    ran = _cli(env, "import", "template", "--format", "csv", "--out", str(target))
    assert ran.returncode == 0, ran.stderr
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    header, example = list(csv.reader(raw.decode("utf-8-sig").splitlines(), delimiter=";"))
    assert header == HEADER and example[0] == "ERP-2026-000123"

    xlsx = tmp_path / "t.xlsx"
    assert _cli(env, "import", "template", "--out", str(xlsx)).returncode == 0
    from openpyxl import load_workbook

    book = load_workbook(xlsx)
    assert book.sheetnames[:2] == ["Faturalar", "Kodlar"]
    assert [c.value for c in book["Faturalar"][1]] == HEADER

    wrong = _cli(env, "import", "template", "--format", "pdf")
    assert wrong.returncode == 2 and "INVALID_FORMAT" in wrong.stderr
