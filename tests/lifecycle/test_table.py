"""The transition table, the statuses' documentation, the database's list of them."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from entegrator.lifecycle import (
    FLOWS,
    Direction,
    DocumentKind,
    DocumentStatus,
    allowed,
    backoff,
    initial,
)
from entegrator.lifecycle.diagram import render

ROOT = Path(__file__).resolve().parents[2]
OUT = (DocumentKind.INVOICE, Direction.OUT)
IN = (DocumentKind.INVOICE, Direction.IN)
DOUT = (DocumentKind.DESPATCH, Direction.OUT)
DIN = (DocumentKind.DESPATCH, Direction.IN)
S = DocumentStatus


def test_every_status_of_a_flow_is_reachable_from_its_creation() -> None:
    for flow, table in FLOWS.items():
        reached: set[DocumentStatus] = set()
        todo = list(initial(flow))
        while todo:
            status = todo.pop()
            if status in reached:
                continue
            reached.add(status)
            todo.extend(table.get(status, frozenset()))
        named = {s for s in table if s is not None} | {t for ts in table.values() for t in ts}
        assert named == reached, (flow, named - reached)
        assert all(t in table for t in named), flow  # every target has a row of its own


@pytest.mark.parametrize(
    ("flow", "source", "target", "ok"),
    [
        (OUT, None, S.VALIDATED, True),
        (OUT, None, S.QUEUED, False),
        (OUT, S.VALIDATED, S.QUEUED, True),
        (OUT, S.QUEUED, S.QUEUED, True),  # staying: an event, no change
        (OUT, S.PROCESSING, S.ACCEPTED, True),  # the buyer's answer before GİB's 1300
        (OUT, S.ACCEPTED, S.DELIVERED, False),  # a late 1300 never undoes an answer
        (OUT, S.DELIVERED, S.PROCESSING, False),  # nothing backwards
        (OUT, S.REJECTED_BY_GIB, S.SENT, False),  # final
        (OUT, S.FAILED, S.QUEUED, False),
        (IN, None, S.RECEIVED, True),
        (IN, S.RECEIVED, S.ACCEPTED, True),
        (IN, S.RECEIVED, S.DELIVERED, False),
        (IN, S.ACCEPTED, S.REJECTED, False),
        (DOUT, None, S.VALIDATED, True),
        (DOUT, S.DELIVERED, S.ACCEPTED, True),  # the receipt answer, or 7 days of silence
        (DOUT, S.DELIVERED, S.RETURNED, False),  # a despatch is not returned with IADE
        (DOUT, S.QUEUED, S.REPORTED, False),  # no e-Arşiv report for despatches
        (DIN, S.RECEIVED, S.REJECTED, True),
        (DIN, S.ACCEPTED, S.REJECTED, False),  # answered once
        ((DocumentKind.RECEIPT, Direction.OUT), None, S.VALIDATED, False),  # events only
    ],
)
def test_allowed_moves(
    flow: tuple[DocumentKind, Direction],
    source: DocumentStatus | None,
    target: DocumentStatus,
    ok: bool,
) -> None:
    assert allowed(flow, source, target) is ok


def test_the_state_diagram_in_the_docs_is_drawn_from_the_table() -> None:
    doc = (ROOT / "docs" / "lifecycle.md").read_text(encoding="utf-8")
    assert doc == render(), "docs/lifecycle.md is stale: python -m entegrator.lifecycle > it"
    for status in DocumentStatus:  # every status is explained, none left out
        assert f"| `{status.value}` |" in doc


def test_the_database_knows_exactly_the_lifecycles_statuses() -> None:
    versions = ROOT / "src" / "entegrator" / "store" / "migrations" / "versions"
    spec = importlib.util.spec_from_file_location("m0006", versions / "0006_earsiv_reports.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert set(module.STATUSES) == {s.value for s in DocumentStatus}


def test_backoff_doubles_to_its_cap() -> None:
    assert [backoff(n, first=5, cap=3600) for n in (0, 1, 2, 3, 10, 10_000)] == [
        0.0,
        5.0,
        10.0,
        20.0,
        2560.0,
        3600.0,
    ]
