"""``entegrator validate`` and ``entegrator rules info`` as a user runs them (subprocesses)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from entegrator.cli import app
from entegrator.documents import build_invoice
from entegrator.documents.samples import generate
from entegrator.rules import RulePack

runner = CliRunner()


def _write_samples(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, draft in enumerate(d for d in generate(count * 2, seed=31) if len(d.lines) < 50):
        if i == count:
            break
        path = folder / f"f{i:03d}.xml"
        path.write_bytes(build_invoice(draft))
        paths.append(path)
    return paths


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "entegrator", *args], capture_output=True, text=True, check=False
    )


def test_folder_with_two_workers_in_order_and_one_invalid(tmp_path: Path) -> None:
    paths = _write_samples(tmp_path / "docs", 12)
    broken = paths[5].read_bytes().replace(b'unitCode="', b'unitCode="X', 1)
    paths[5].write_bytes(broken)
    result = _cli("validate", "--json", "--jobs", "2", str(tmp_path / "docs"))
    assert result.returncode == 1, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [Path(x["path"]).name for x in lines] == [p.name for p in paths]
    assert [x["valid"] for x in lines] == [i != 5 for i in range(12)]
    bad = lines[5]
    assert set(bad) == {
        "path",
        "valid",
        "kind",
        "profile",
        "type",
        "purpose",
        "findings",
        "truncated",
        "ms",
        "pack",
    }
    assert bad["purpose"] == "outbound"
    # Each worker process names the pack it validated with: the one in force today.
    assert {x["pack"]["fingerprint"] for x in lines} == {RulePack.default().fingerprint}
    assert any(f["code"] == "sch-GeneralUnitCodeCheck-1" for f in bad["findings"])


def test_all_valid_exits_zero(tmp_path: Path) -> None:
    paths = _write_samples(tmp_path, 2)
    result = runner.invoke(app, ["validate", "--jobs", "1", *map(str, paths)])
    assert result.exit_code == 0, result.output
    assert "GEÇERLİ/valid" in result.stdout


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(tmp_path / "none.xml")])
    assert result.exit_code == 2
    assert "PATH_NOT_FOUND" in result.output


def test_bad_setting_is_a_usage_error(tmp_path: Path) -> None:
    paths = _write_samples(tmp_path, 1)
    result = runner.invoke(
        app, ["validate", str(paths[0])], env={"ENTEGRATOR_ID_CHECKSUM": "maybe"}
    )
    assert result.exit_code == 2
    assert "SETTING_INVALID" in result.output


def test_hostile_file_is_a_finding_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "xxe.xml"
    path.write_bytes(b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>')
    result = runner.invoke(app, ["validate", "--json", str(path)])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["findings"][0]["code"] == "xml-unsafe"
    assert "root:" not in result.stdout


def test_rules_pack_option_and_saxon_engine(tmp_path: Path) -> None:
    paths = _write_samples(tmp_path / "d", 1)
    bad_pack = tmp_path / "pack"
    bad_pack.mkdir()
    result = runner.invoke(app, ["validate", "--rules-pack", str(bad_pack), str(paths[0])])
    assert result.exit_code == 2 and "RULES_PACK_INVALID" in result.output
    saxon = runner.invoke(app, ["validate", "--engine", "saxon", "--json", str(paths[0])])
    assert saxon.exit_code == 0, saxon.output
    assert json.loads(saxon.stdout)["valid"] is True


def test_rules_info() -> None:
    result = runner.invoke(app, ["rules", "info", "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["origin"] == "efatura-kontrol"
    assert info["versions"]["ublTr"]
    assert (
        info["schematron"]["compiled_rules"] + len(info["schematron"]["saxon_only_rules"])
        == (info["schematron"]["rules"])
    )
    text = runner.invoke(app, ["rules", "info"])
    assert "asserts" in text.stdout


def test_purpose_decides_what_refuses_gibs_own_sample(corpus: Path) -> None:
    """GİB's TicariFaturaOrnegi writes LineExtensionAmount before the line discounts: an error
    for what we send, a warning naming the convention for an ERP's upload and for inbound."""
    sample = corpus / "external" / "phax__phive-rules" / "TicariFaturaOrnegi.xml"
    verdicts = {}
    for purpose in ("outbound", "upload", "inbound"):
        result = runner.invoke(app, ["validate", "--json", "--purpose", purpose, str(sample)])
        report = json.loads(result.stdout)
        assert report["purpose"] == purpose
        codes = {f["code"]: f["severity"] for f in report["findings"]}
        verdicts[purpose] = (result.exit_code, codes["arith-convention-line-discounts"])
    assert verdicts == {
        "outbound": (1, "error"),
        "upload": (0, "warning"),
        "inbound": (0, "warning"),
    }
    default = runner.invoke(app, ["validate", "--json", str(sample)])
    assert json.loads(default.stdout)["purpose"] == "outbound"
    assert default.exit_code == 1


def test_unknown_purpose_is_a_usage_error(tmp_path: Path) -> None:
    paths = _write_samples(tmp_path, 1)
    result = runner.invoke(app, ["validate", "--purpose", "sideways", str(paths[0])])
    assert result.exit_code == 2
