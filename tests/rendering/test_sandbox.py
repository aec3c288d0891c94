"""The limited renderer: a runaway, memory-eating or crashing stylesheet ends in our view."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest

from entegrator.documents import build_invoice
from entegrator.documents.model import InvoiceDraft
from entegrator.rendering.errors import ViewBusyError, ViewUnavailableError
from entegrator.rendering.sandbox import Renderer, RenderLimits
from tests.rendering.stylesheets import MEMORY_EATER, RUNAWAY
from tests.rendering.test_views import XSL, _with

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "api" / "invoice.json"
T = TypeVar("T")


@pytest.fixture(scope="module")
def xml() -> bytes:
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    data |= {"number": "EFA2026000000009", "ettn": "0D3E8AE2-8D75-4C8B-9D5B-A8C1E8F6A009"}
    return build_invoice(InvoiceDraft.model_validate(data))


def _run(limits: RenderLimits, work: Callable[[Renderer], Awaitable[T]]) -> T:
    async def main() -> T:
        renderer = Renderer(limits)
        try:
            return await work(renderer)
        finally:
            await renderer.aclose()

    return asyncio.run(main())


def test_a_normal_view_renders_in_a_worker(xml: bytes) -> None:
    async def work(renderer: Renderer) -> tuple[str, bytes]:
        view = await renderer.html(_with(xml, XSL.replace(b"BODY", b"<p>OWN VIEW</p>")))
        assert (view.source, view.fallback) == ("document", None)
        pdf = await renderer.pdf(xml)
        assert (pdf.source, pdf.fallback) == ("entegrator", None)
        return view.html, pdf.pdf

    html, pdf = _run(RenderLimits(), work)
    assert "OWN VIEW" in html and 'id="karekod"' in html
    assert pdf.startswith(b"%PDF-")


def test_a_runaway_stylesheet_is_stopped_at_the_time_limit(xml: bytes) -> None:
    started = time.monotonic()
    view = _run(RenderLimits(html_seconds=1.0), lambda r: r.html(_with(xml, RUNAWAY)))
    assert (view.source, view.fallback) == ("entegrator", "time-limit")
    assert "EFA2026000000009" in view.html
    assert time.monotonic() - started < 15  # one second of runaway, then our view


def test_a_stylesheet_that_eats_memory_is_stopped(xml: bytes) -> None:
    view = _run(RenderLimits(memory_mb=512), lambda r: r.html(_with(xml, MEMORY_EATER)))
    assert (view.source, view.fallback) == ("entegrator", "memory-limit")
    assert "EFA2026000000009" in view.html


def _workers() -> list[int]:
    """The render workers this process started (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if (
            int(stat.rsplit(")", 1)[1].split()[1]) == os.getpid()
            and b"rendering._worker" in cmdline
        ):
            found.append(int(entry.name))
    return found


def test_a_worker_that_crashes_mid_render_leaves_our_view(xml: bytes) -> None:
    async def work(renderer: Renderer) -> tuple[str, str | None]:
        others = set(_workers())  # other tests' servers may keep workers of their own
        await renderer.warm()
        (pid,) = set(_workers()) - others
        render = asyncio.create_task(renderer.html(_with(xml, RUNAWAY)))
        await asyncio.sleep(1.0)  # the runaway is running in the warm worker
        os.kill(pid, signal.SIGSEGV)
        view = await render
        return view.source, view.fallback

    assert _run(RenderLimits(html_seconds=20), work) == ("entegrator", "crash")


def test_when_even_our_view_exceeds_the_limits_the_view_is_unavailable(xml: bytes) -> None:
    with pytest.raises(ViewUnavailableError) as caught:
        _run(RenderLimits(max_output_bytes=2000), lambda r: r.html(xml))
    assert caught.value.to_dict()["code"] == "VIEW_UNAVAILABLE"
    assert "output-too-large" in caught.value.text_en


def test_a_request_that_finds_no_free_worker_is_refused_quickly(xml: bytes) -> None:
    async def work(renderer: Renderer) -> float:
        runaway = asyncio.create_task(renderer.html(_with(xml, RUNAWAY)))
        await asyncio.sleep(0.1)
        started = time.monotonic()
        with pytest.raises(ViewBusyError):
            await renderer.html(xml)
        waited = time.monotonic() - started
        assert (await runaway).fallback == "time-limit"
        return waited

    limits = RenderLimits(html_seconds=2.0, concurrency=1, queue_seconds=0.3)
    assert _run(limits, work) < 1.5


def test_the_pdf_worker_logs_warnings_but_not_each_step(
    xml: bytes, capfd: pytest.CaptureFixture[str]
) -> None:
    """WeasyPrint's and fontTools' INFO lines (seven per PDF) stay out of the log; their
    warnings (here: a property WeasyPrint does not know) stay in."""
    body = b"<style>p { colour: red }</style><p>OWN VIEW</p>"
    pdf = _run(RenderLimits(), lambda r: r.pdf(_with(xml, XSL.replace(b"BODY", body))))
    assert pdf.source == "document" and pdf.pdf.startswith(b"%PDF-")
    err = capfd.readouterr().err
    assert "colour" in err  # WeasyPrint's warning about the unknown property
    assert "Step " not in err and "pruned" not in err, err
