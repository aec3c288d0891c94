"""Every draft in examples/ builds, passes GİB's rules and round-trips."""

from __future__ import annotations

from pathlib import Path

import pytest

from entegrator.documents import InvoiceDraft, build_invoice, parse_invoice
from entegrator.documents.samples import SCENARIOS
from tests.oracle import check

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples" / "invoice").glob("*.json"))


def test_one_example_per_scenario() -> None:
    names = {p.stem for p in EXAMPLES}
    scenarios = {f"{p.value.lower()}-{t.value.lower()}" for p, t in SCENARIOS}
    assert names == scenarios | {"earsivfatura-satis-internet"}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_builds_and_passes(path: Path) -> None:
    draft = InvoiceDraft.model_validate_json(path.read_text(encoding="utf-8"))
    xml = build_invoice(draft)
    verdict = check(xml, path.name)
    assert verdict.errors == [] and verdict.warnings == []
    assert build_invoice(parse_invoice(xml)) == xml
