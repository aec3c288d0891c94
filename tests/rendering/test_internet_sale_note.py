"""The view of an e-Arşiv internet sale prints GİB's sentence; other invoices do not."""

from __future__ import annotations

from pathlib import Path

import pytest

from entegrator.documents import build_invoice
from entegrator.documents.model import InvoiceDraft
from entegrator.rendering import render_html

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "invoice"
SENTENCE = "Bu satış internet üzerinden yapılmıştır."


def _xml(name: str) -> bytes:
    text = (EXAMPLES / name).read_text(encoding="utf-8")
    return build_invoice(InvoiceDraft.model_validate_json(text))


def test_an_internet_sale_prints_the_sentence_once() -> None:
    html, source = render_html(_xml("earsivfatura-satis-internet.json"))
    assert source == "entegrator"
    assert html.count(SENTENCE) == 1


@pytest.mark.parametrize("name", ["earsivfatura-satis.json", "temelfatura-satis.json"])
def test_other_invoices_do_not(name: str) -> None:
    html, _ = render_html(_xml(name))
    assert SENTENCE not in html
