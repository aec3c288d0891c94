"""Document core throughput: build (draft → XML) and parse (XML → draft), warm, per size class.

Reproduce with ``make bench`` (or ``uv run python benchmarks/documents.py``). Each figure is
the median of several timed rounds over the same drafts in one warm process; read the
numbers as ratios, machines are noisy. For scale, the same run also times the independent
validator efatura-kontrol on the documents we built (the cost of GİB's rules per document).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from _corpus import drafts
from efatura_kontrol.kontrol import hazirla, kontrol_et

from entegrator.documents import build_invoice, parse_invoice

SIZES = (1, 10, 100, 1000)
ROUNDS = 5

T = TypeVar("T")


def _rate(func: Callable[[], object], n: int) -> float:
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return n / statistics.median(times)


def _each(func: Callable[[T], object], items: Sequence[T]) -> Callable[[], object]:
    """``func`` over every item, as one timed call."""
    return lambda: [func(item) for item in items]


def main() -> None:
    hazirla()
    print(f"{'lines':>5} {'build/s':>10} {'parse/s':>10} {'peer check/s':>13} {'build÷peer':>11}")
    for size in SIZES:
        count = max(3, 300 // size)
        batch = drafts(size, count)
        xmls = [build_invoice(d) for d in batch]
        build = _rate(_each(build_invoice, batch), count)
        parse = _rate(_each(parse_invoice, xmls), count)
        peer = _rate(_each(kontrol_et, xmls), count)
        print(f"{size:>5} {build:>10.0f} {parse:>10.0f} {peer:>13.0f} {build / peer:>10.1f}×")


if __name__ == "__main__":
    main()
