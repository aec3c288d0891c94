"""The cost of rendering views in limited worker processes, next to rendering in process.

Reproduce with ``uv run python benchmarks/views.py``. A 2-line invoice (``examples/api``), warm:
"in process" calls ``html_view``/``render_pdf`` directly (what the API did before views moved
to workers); "worker" awaits :class:`entegrator.rendering.sandbox.Renderer` with default limits
(HTML: one round trip; PDF: HTML then PDF, two round trips). Median of 20 renders each.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from pathlib import Path

from entegrator.documents import build_invoice
from entegrator.documents.model import InvoiceDraft
from entegrator.rendering import html_view, render_pdf
from entegrator.rendering.sandbox import Renderer, RenderLimits

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "api" / "invoice.json"
RENDERS = 20


def _invoice() -> bytes:
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    data |= {"number": "EFA2026000000001", "ettn": "0D3E8AE2-8D75-4C8B-9D5B-A8C1E8F6A001"}
    return build_invoice(InvoiceDraft.model_validate(data))


async def main() -> None:
    xml = _invoice()
    renderer = Renderer(RenderLimits())
    await renderer.html(xml)  # warm both sides
    await renderer.pdf(xml)
    render_pdf(html_view(xml).html)
    timings: dict[str, list[float]] = {}
    for _ in range(RENDERS):
        for name, run in (
            ("html in process", lambda: asyncio.sleep(0, html_view(xml))),
            ("html worker", lambda: renderer.html(xml)),
            ("pdf in process", lambda: asyncio.sleep(0, render_pdf(html_view(xml).html))),
            ("pdf worker", lambda: renderer.pdf(xml)),
        ):
            start = time.perf_counter()
            await run()
            timings.setdefault(name, []).append(time.perf_counter() - start)
    await renderer.aclose()
    for name, values in timings.items():
        print(f"{name:16} {statistics.median(values) * 1000:8.1f} ms")


if __name__ == "__main__":
    asyncio.run(main())
