"""The cost of the e-İrsaliye views: a despatch and its answer as HTML and PDF, in process.

Reproduce with ``uv run python benchmarks/despatch_views.py``. Sample drafts from
``entegrator.documents.despatch_samples`` (a 6-line and the 100-line despatch of seed 11, and
their answers), warm; ``html_view`` and ``render_pdf(html_view(...).html)`` called directly,
median of 10 renders each.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from entegrator.documents.build import build_despatch, build_receipt
from entegrator.documents.despatch_samples import generate_receipts
from entegrator.rendering import html_view, render_pdf

RENDERS = 10


def _documents() -> list[tuple[str, bytes]]:
    pairs = list(generate_receipts(6, seed=11))
    small = next((d, r) for d, r in pairs if len(d.lines) == 6)
    large = next((d, r) for d, r in pairs if len(d.lines) == 100)
    out = []
    for label, (despatch, receipt) in (("6 lines", small), ("100 lines", large)):
        out.append((f"despatch, {label}", build_despatch(despatch)))
        out.append((f"answer, {label}", build_receipt(receipt, despatch)))
    return out


def _median_ms(run: Callable[[], object]) -> float:
    run()  # warm
    values = []
    for _ in range(RENDERS):
        start = time.perf_counter()
        run()
        values.append(time.perf_counter() - start)
    return statistics.median(values) * 1000


def main() -> None:
    for name, xml in _documents():
        html = _median_ms(lambda xml=xml: html_view(xml))  # type: ignore[misc]
        pdf = _median_ms(lambda xml=xml: render_pdf(html_view(xml).html))  # type: ignore[misc]
        print(f"{name:20} html {html:8.1f} ms   pdf {pdf:8.1f} ms")


if __name__ == "__main__":
    main()
