"""The command line: real files, real exit codes, no tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from entegrator.cli import app
from tests.documents.factory import draft
from tests.oracle import check

runner = CliRunner()


def _draft_file(tmp_path: Path, **kw: object) -> Path:
    path = tmp_path / "draft.json"
    path.write_text(draft(**kw).model_dump_json(), encoding="utf-8")
    return path


def test_build_then_parse(tmp_path: Path) -> None:
    src = _draft_file(tmp_path)
    out = tmp_path / "out.xml"
    result = runner.invoke(app, ["build", str(src), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert check(out.read_bytes()).errors == []
    parsed = runner.invoke(app, ["parse", str(out)])
    assert parsed.exit_code == 0
    assert json.loads(parsed.stdout)["number"] == "ABC2026000000001"


def test_build_assigns_ettn_and_number(tmp_path: Path) -> None:
    src = _draft_file(tmp_path, number=None, ettn=None)
    result = runner.invoke(app, ["build", str(src), "--number", "XYZ2026000000007"])
    assert result.exit_code == 0, result.output
    assert b"XYZ2026000000007" in result.stdout_bytes and b"<cbc:UUID>" in result.stdout_bytes


@pytest.mark.parametrize(
    ("content", "code"),
    [
        ("{not json", "MALFORMED_JSON"),
        ('{"profile": "TEMELFATURA"}', "INVALID_DRAFT"),
        ("[]", "INVALID_DRAFT"),
    ],
)
def test_bad_json_exits_2_with_a_clear_message(tmp_path: Path, content: str, code: str) -> None:
    src = tmp_path / "bad.json"
    src.write_text(content)
    result = runner.invoke(app, ["build", str(src)])
    assert result.exit_code == 2
    assert code in result.stderr and "TR:" in result.stderr and "EN:" in result.stderr
    assert "Traceback" not in result.output


def test_bad_vkn_and_impossible_combination_exit_2(tmp_path: Path) -> None:
    data = json.loads(draft().model_dump_json())
    data["supplier"]["vkn"] = "12345"
    data["profile"], data["type"] = "TICARIFATURA", "IADE"
    src = tmp_path / "bad.json"
    src.write_text(json.dumps(data))
    result = runner.invoke(app, ["build", str(src)])
    assert result.exit_code == 2
    assert "INVALID_COMBINATION" in result.stderr
    assert "supplier.vkn" in result.stderr


def test_missing_file_and_malformed_xml(tmp_path: Path) -> None:
    assert runner.invoke(app, ["build", str(tmp_path / "nope.json")]).exit_code == 2
    bad = tmp_path / "bad.xml"
    bad.write_bytes(b"<Invoice><cbc:ID>")
    result = runner.invoke(app, ["parse", str(bad)])
    assert result.exit_code == 2 and "MALFORMED_XML" in result.stderr and "line" in result.stderr


def test_samples_writes_drafts_and_xml(tmp_path: Path) -> None:
    result = runner.invoke(app, ["samples", "--count", "30", "--out", str(tmp_path), "--seed", "3"])
    assert result.exit_code == 0, result.output
    xmls = sorted(tmp_path.glob("*.xml"))
    assert len(xmls) == 30 and len(list(tmp_path.glob("*.json"))) == 30
    assert check(xmls[0].read_bytes()).errors == []
    again = tmp_path / "again"
    runner.invoke(app, ["samples", "--count", "30", "--out", str(again), "--seed", "3"])
    assert [p.read_bytes() for p in xmls] == [p.read_bytes() for p in sorted(again.glob("*.xml"))]


def test_schema_prints_the_draft_json_schema() -> None:
    result = runner.invoke(app, ["schema", "invoice"])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["title"] == "InvoiceDraft"
    assert {"profile", "type", "supplier", "customer", "lines"} <= set(schema["required"])
    sale = schema["$defs"]["InternetSale"]["properties"]
    assert {"payment_type", "payment_date", "shipment_date", "carrier"} <= set(sale)
    assert "KAPIDAODEME" in sale["payment_type"]["pattern"]
    assert runner.invoke(app, ["schema", "nope"]).exit_code == 2


def test_tour(tmp_path: Path) -> None:
    result = runner.invoke(app, ["tour", "--out", str(tmp_path), "--count", "3"])
    assert result.exit_code == 0, result.output
    assert len(list(tmp_path.glob("*.xml"))) == 3
    assert result.stdout.count(" valid (") == 3 and "INVALID" not in result.stdout


def test_field_errors_are_listed_in_turkish_and_english_with_paths(tmp_path: Path) -> None:
    data = json.loads(draft().model_dump_json())
    data["lines"][0]["quantity"] = "-1"
    data["lines"][0]["colour"] = "red"
    src = tmp_path / "bad.json"
    src.write_text(json.dumps(data))
    result = runner.invoke(app, ["build", str(src)])
    assert result.exit_code == 2
    assert "lines[0].quantity: daha büyük olmalı (0)" in result.stderr
    assert "lines[0].colour: bilinmeyen alan / Extra inputs are not permitted" in result.stderr
