"""An invoice that refers to the despatches it bills (``DespatchDocumentReference``): built,
accepted by GİB's rules (ours and efatura-kontrol), parsed back and rebuilt byte-identical,
part of the exported JSON Schema; its view names the despatches instead of saying
"İrsaliye yerine geçer."."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from lxml import etree, html
from typer.testing import CliRunner

from entegrator.cli import app
from entegrator.documents import build_invoice, parse_invoice
from entegrator.documents.despatch_samples import generate_despatches
from entegrator.documents.model import DocumentReference, InvoiceDraft
from entegrator.documents.ns import CAC, CBC
from entegrator.rendering import html_view
from entegrator.rules import Validator
from tests.clock import validation_settings
from tests.documents.factory import draft
from tests.oracle import check

DESPATCHES = list(generate_despatches(3, seed=5))


def referencing(count: int) -> InvoiceDraft:
    refs = [
        DocumentReference(id=d.number or "", issue_date=d.issue_date) for d in DESPATCHES[:count]
    ]
    return draft(despatch_references=refs, issue_date=dt.date(2026, 11, 30))


def text_of(markup: str) -> str:
    body = html.fromstring(markup).find("body")
    assert body is not None
    return " ".join(" ".join(str(t) for t in body.itertext()).split())


@pytest.mark.parametrize("count", [1, 3])
def test_despatch_references_pass_gib_rules_and_round_trip(count: int) -> None:
    d = referencing(count)
    xml = build_invoice(d)
    root = etree.fromstring(xml)
    refs = root.findall(CAC + "DespatchDocumentReference")
    assert [(r.findtext(CBC + "ID"), r.findtext(CBC + "IssueDate")) for r in refs] == [
        (x.number, x.issue_date.isoformat()) for x in DESPATCHES[:count]
    ]
    verdict = check(xml, f"invoice-despatch-{count}")
    assert verdict.errors == [], verdict.errors
    report = Validator(settings=validation_settings()).validate(xml)
    assert report.valid == verdict.valid is True, report.codes()
    parsed = parse_invoice(xml)
    assert parsed.despatch_references == d.despatch_references
    assert parsed == d
    assert build_invoice(parsed) == xml


def test_the_view_names_the_despatches_and_drops_the_irsaliye_note() -> None:
    shown = text_of(html_view(build_invoice(referencing(3))).html)
    for d in DESPATCHES:
        assert f"İrsaliye No: {d.number}" in shown
    assert "İrsaliye yerine geçer." not in shown
    assert "İrsaliye yerine geçer." in text_of(html_view(build_invoice(draft())).html)


def test_the_json_schema_describes_despatch_references() -> None:
    result = CliRunner().invoke(app, ["schema", "invoice"])
    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    field = schema["properties"]["despatch_references"]
    assert field["type"] == "array"
    assert field["items"] == {"$ref": "#/$defs/DocumentReference"}
    assert set(schema["$defs"]["DocumentReference"]["required"]) == {"id", "issue_date"}


def test_a_draft_refusing_a_bad_reference() -> None:
    data = draft().model_dump(mode="json")
    data["despatch_references"] = [{"id": "IRS2026000000001"}]
    with pytest.raises(ValueError, match="issue_date"):
        InvoiceDraft.model_validate(data)
