"""The command line with e-İrsaliye drafts: samples, build, parse, schema."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from entegrator.cli import app
from entegrator.documents.despatch_samples import generate_despatches
from tests.oracle import check

runner = CliRunner()


def test_samples_build_parse_round_trip_both_kinds(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["samples", "--kind", "despatch", "--count", "4", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    despatches = sorted(p for p in tmp_path.glob("*.xml") if not p.stem.endswith("-yanit"))
    receipts = sorted(tmp_path.glob("*-yanit.xml"))
    assert len(despatches) == 4 and len(receipts) == 4
    for xml in (*despatches, *receipts):
        assert check(xml.read_bytes(), xml.name).errors == []
        parsed = runner.invoke(app, ["parse", str(xml)])
        assert parsed.exit_code == 0, parsed.output
        expected = "receipt" if xml in receipts else "despatch"
        assert json.loads(parsed.stdout)["kind"] == expected
        draft = tmp_path / f"{xml.stem}.parsed.json"
        draft.write_text(parsed.stdout, encoding="utf-8")
        rebuilt = tmp_path / f"{xml.stem}.rebuilt"
        built = runner.invoke(app, ["build", str(draft), "-o", str(rebuilt)])
        assert built.exit_code == 0, built.output
        assert rebuilt.read_bytes() == xml.read_bytes()


def test_build_assigns_number_and_ettn_to_a_despatch(tmp_path: Path) -> None:
    draft = next(generate_despatches(1, seed=5))
    data = json.loads(draft.model_dump_json(exclude={"number", "ettn"}))
    src = tmp_path / "despatch.json"
    src.write_text(json.dumps(data), encoding="utf-8")
    result = runner.invoke(app, ["build", str(src), "--number", "IRS2026000000042"])
    assert result.exit_code == 0, result.output
    assert b"<cbc:ID>IRS2026000000042</cbc:ID>" in result.stdout_bytes
    assert b"<DespatchAdvice" in result.stdout_bytes


def test_build_reports_despatch_draft_errors(tmp_path: Path) -> None:
    data = json.loads(next(generate_despatches(1, seed=5)).model_dump_json())
    data["shipment"]["plate"] = "PLAKA"
    data["kind"] = "despatch"
    src = tmp_path / "bad.json"
    src.write_text(json.dumps(data), encoding="utf-8")
    result = runner.invoke(app, ["build", str(src)])
    assert result.exit_code == 2
    assert "not a Turkish plate" in result.stderr
    assert "shipment.plate" in result.stderr and "Traceback" not in result.output
    data["kind"] = "waybill"
    src.write_text(json.dumps(data), encoding="utf-8")
    unknown = runner.invoke(app, ["build", str(src)])
    assert unknown.exit_code == 2 and "kind" in unknown.stderr


def test_schema_of_despatch_and_receipt() -> None:
    despatch = json.loads(runner.invoke(app, ["schema", "despatch"]).stdout)
    assert despatch["title"] == "DespatchDraft"
    assert {"kind", "issue_time", "supplier", "customer", "shipment", "lines"} <= set(
        despatch["required"]
    )
    assert "plate" in despatch["$defs"]["DespatchShipment"]["properties"]
    receipt = json.loads(runner.invoke(app, ["schema", "receipt"]).stdout)
    assert receipt["title"] == "ReceiptDraft"
    assert {"despatch_ettn", "despatch_date", "lines"} <= set(receipt["required"])
    invoice = json.loads(runner.invoke(app, ["schema"]).stdout)
    assert invoice["title"] == "InvoiceDraft"
