"""Views rendered in limited child processes, so a document's own stylesheet cannot stall us.

A trading partner's stylesheet is a program: it may recurse for ever, eat memory, or write an
HTML page that takes WeasyPrint minutes. :class:`Renderer` runs every render in one of a few
warm worker processes (:mod:`entegrator.rendering._worker`), each with an address-space limit
(``RLIMIT_AS``), a CPU limit per job (``RLIMIT_CPU``) and a wall-clock limit enforced here, by
killing it. A request waits on the event loop, never on a thread, and at most ``concurrency``
renders run at once; a request that finds no free worker within ``queue_seconds`` is refused
(:class:`ViewBusyError`).

When the document's own stylesheet hits a limit, entegrator's own view is rendered instead
and the answer says why (``fallback``: ``time-limit``, ``memory-limit``, ``crash``,
``output-too-large``, ``render-error``, or from the stylesheet itself ``stylesheet-error``,
``stylesheet-refused``). When even our view cannot be rendered in the limits,
:class:`ViewUnavailableError` is raised.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import struct
import subprocess
import sys
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

from entegrator.rendering import HtmlView, with_logo
from entegrator.rendering.errors import ViewBusyError, ViewUnavailableError

__all__ = ["PdfView", "RenderLimits", "Renderer"]

log = logging.getLogger(__name__)

_LENGTHS = struct.Struct(">II")
_MAX_HEADER_BYTES = 64 * 1024
# A fresh worker imports WeasyPrint (about a second, more on a loaded machine).
_START_SECONDS = 60.0
# A worker is replaced after this many jobs, so slow leaks in the libraries never add up.
_MAX_JOBS = 200


@dataclass(frozen=True)
class RenderLimits:
    """How much one render may take, and how many run at once (see ``docs/configuration.md``)."""

    html_seconds: float = 10.0
    pdf_seconds: float = 30.0
    memory_mb: int = 512
    concurrency: int = 2
    queue_seconds: float = 10.0
    max_output_bytes: int = 50 * 1024 * 1024


@dataclass(frozen=True)
class PdfView:
    """A PDF view, which stylesheet made its HTML, and why ours stood in (see :class:`HtmlView`)."""

    pdf: bytes
    source: str
    fallback: str | None = None


# Killed workers until their exit is collected (a process object dropped before that warns).
_dying: list[subprocess.Popen[bytes]] = []


def _reap() -> None:
    _dying[:] = [process for process in _dying if process.poll() is None]


def _kill_all(workers: list[_Worker]) -> None:
    """Kill ``workers`` and empty the list (the list itself stays: a finalizer holds it)."""
    ending = list(workers)
    workers.clear()
    for worker in ending:
        worker.kill()


class _LimitError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def _fd_ready(fd: int, *, write: bool) -> None:
    loop = asyncio.get_running_loop()
    ready = loop.create_future()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    if write:
        loop.add_writer(fd, wake)
    else:
        loop.add_reader(fd, wake)
    try:
        await ready
    finally:
        if write:
            loop.remove_writer(fd)
        else:
            loop.remove_reader(fd)


async def _read_exactly(fd: int, size: int) -> bytes:
    """``size`` bytes from a non-blocking pipe; EOFError when it ends first."""
    data = bytearray()
    while len(data) < size:
        try:
            chunk = os.read(fd, min(size - len(data), 1 << 20))
        except BlockingIOError:
            await _fd_ready(fd, write=False)
            continue
        if not chunk:
            raise EOFError
        data += chunk
    return bytes(data)


async def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            written = os.write(fd, view)
        except BlockingIOError:
            await _fd_ready(fd, write=True)
            continue
        view = view[written:]


class _Worker:
    """One child process and its pipes; killed on any limit, never reused after that.

    Plain pipes, waited on with the running loop's reader and writer callbacks only while a
    job runs: an idle worker is bound to no event loop, and nothing is left open on one.
    """

    def __init__(self, process: subprocess.Popen[bytes], limits: RenderLimits) -> None:
        if process.stdin is None or process.stdout is None:
            raise RuntimeError("the render worker was started without pipes")
        self.process = process
        self.limits = limits
        self.requests = process.stdin.fileno()
        self.answers = process.stdout.fileno()
        os.set_blocking(self.requests, False)
        os.set_blocking(self.answers, False)
        self.jobs = 0
        self.broken = False

    @classmethod
    async def start(cls, limits: RenderLimits) -> _Worker:
        args = [str(limits.memory_mb), str(limits.max_output_bytes)]
        try:
            # Our own interpreter and module; the arguments are two integers.
            process = subprocess.Popen(  # noqa: S603
                [sys.executable, "-m", "entegrator.rendering._worker", *args],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
            )
        except OSError as exc:  # no process to be had (limits of the machine)
            log.error("render worker could not start: %s", exc)
            raise _LimitError("crash") from None
        worker = cls(process, limits)
        try:
            async with asyncio.timeout(_START_SECONDS):
                header, _ = await worker._read()
        except (_LimitError, TimeoutError) as exc:
            worker.kill()
            raise _LimitError("crash") from exc
        except BaseException:
            worker.kill()
            raise
        if not header.get("ready"):
            worker.kill()
            raise _LimitError("crash")
        return worker

    @property
    def alive(self) -> bool:
        return not self.broken and self.process.poll() is None

    def kill(self) -> None:
        """Kill the process and close its pipes; :func:`_reap` collects its exit later."""
        if self.broken:
            return
        self.broken = True
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()
        _dying.append(self.process)
        _reap()

    async def _read(self) -> tuple[dict[str, Any], bytes]:
        try:
            head_len, body_len = _LENGTHS.unpack(await _read_exactly(self.answers, _LENGTHS.size))
            if head_len > _MAX_HEADER_BYTES or body_len > self.limits.max_output_bytes:
                raise _LimitError("output-too-large")
            header = json.loads(await _read_exactly(self.answers, head_len))
            body = await _read_exactly(self.answers, body_len)
        except (EOFError, ConnectionError):
            raise _LimitError(await self._death()) from None
        except ValueError:  # not JSON: the worker is not itself
            raise _LimitError("crash") from None
        if not isinstance(header, dict):
            raise _LimitError("crash")
        return header, body

    async def _death(self) -> str:
        """Why the worker's output ended: its exit tells a CPU limit from a crash."""
        for _ in range(500):
            code = self.process.poll()
            if code is not None:
                return "time-limit" if code == -signal.SIGXCPU else "crash"
            await asyncio.sleep(0.01)
        return "crash"

    async def call(
        self, header: dict[str, Any], body: bytes, *, seconds: float
    ) -> tuple[dict[str, Any], bytes]:
        """Run one job; raise :class:`_LimitError` (and kill the worker) on any limit."""
        self.jobs += 1
        head = json.dumps(header | {"seconds": seconds}).encode()
        try:
            async with asyncio.timeout(seconds):
                await _write_all(self.requests, _LENGTHS.pack(len(head), len(body)) + head + body)
                answer, data = await self._read()
        except TimeoutError:
            self.kill()
            raise _LimitError("time-limit") from None
        except _LimitError:
            self.kill()
            raise
        except ConnectionError:  # it died before reading the job
            reason = await self._death()
            self.kill()
            raise _LimitError(reason) from None
        except BaseException:  # cancelled: the worker is mid-job, so it cannot be reused
            self.kill()
            raise
        if answer.get("retire") or answer.get("reason") == "memory-limit":
            self.kill()
        if not answer.get("ok"):
            raise _LimitError(_reason(answer.get("reason")))
        return answer, data


def _reason(value: object) -> str:
    known = {"memory-limit", "output-too-large"}
    return value if isinstance(value, str) and value in known else "render-error"


class _Lease:
    """A worker held by one request; a broken one is replaced before the next job."""

    def __init__(self, renderer: Renderer, worker: _Worker | None) -> None:
        self.renderer = renderer
        self.worker = worker

    async def call(
        self, header: dict[str, Any], body: bytes, *, seconds: float
    ) -> tuple[dict[str, Any], bytes]:
        worker = self.worker
        if worker is None or not worker.alive:
            worker = self.worker = await _Worker.start(self.renderer.limits)
        return await worker.call(header, body, seconds=seconds)

    async def html(self, xml: bytes, *, own: bool, cancelled: bool = False) -> HtmlView:
        seconds = self.renderer.limits.html_seconds
        header = {"op": "html", "own": own, "cancelled": cancelled}
        answer, data = await self.call(header, xml, seconds=seconds)
        source = "document" if answer.get("source") == "document" else "entegrator"
        fallback = answer.get("fallback")
        return HtmlView(data.decode(), source, fallback if isinstance(fallback, str) else None)

    async def pdf(self, html: str) -> bytes:
        seconds = self.renderer.limits.pdf_seconds
        _answer, data = await self.call({"op": "pdf"}, html.encode(), seconds=seconds)
        if not data.startswith(b"%PDF-"):
            raise _LimitError("render-error")
        return data


def _logo(view: HtmlView, logo: tuple[bytes, str] | None) -> HtmlView:
    """entegrator's view with the issuer's logo; a document's own view as it is."""
    if logo is None or view.source != "entegrator":
        return view
    return replace(view, html=with_logo(view.html, logo))


class Renderer:
    """Renders invoice views in warm, limited worker processes (one event loop at a time).

    Create it once per application; :meth:`aclose` ends its workers (they also end by
    themselves when this process goes away and their input closes).
    """

    def __init__(self, limits: RenderLimits) -> None:
        self.limits = limits
        self._loop: asyncio.AbstractEventLoop | None = None
        self._slots: asyncio.Semaphore | None = None
        self._idle: list[_Worker] = []
        # A renderer dropped without aclose (an app run without its lifespan) still ends its
        # idle workers; killed ones wait in _dying to be reaped.
        weakref.finalize(self, _kill_all, self._idle)

    def _bind(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._slots is None:
            # A semaphore belongs to one loop; the idle workers belong to none and stay.
            self._loop, self._slots = loop, asyncio.Semaphore(self.limits.concurrency)
        return self._slots

    @contextlib.asynccontextmanager
    async def _lease(self) -> AsyncIterator[_Lease]:
        slots = self._bind()
        try:
            await asyncio.wait_for(slots.acquire(), self.limits.queue_seconds)
        except TimeoutError:
            raise ViewBusyError from None
        lease = _Lease(self, self._idle.pop() if self._idle else None)
        try:
            yield lease
        finally:
            worker = lease.worker
            _reap()
            if worker is not None and worker.alive and worker.jobs < _MAX_JOBS:
                self._idle.append(worker)
            elif worker is not None:
                worker.kill()
            slots.release()

    async def warm(self) -> None:
        """Start one worker ahead of the first request (best effort)."""
        try:
            async with self._lease() as lease:
                if lease.worker is None:
                    lease.worker = await _Worker.start(self.limits)
        except (_LimitError, ViewBusyError, OSError) as exc:
            log.warning("render worker did not start: %s", exc)

    async def html(
        self, xml: bytes, *, cancelled: bool = False, logo: tuple[bytes, str] | None = None
    ) -> HtmlView:
        """The HTML view of a stored invoice: its own stylesheet in limits, else ours;
        ``cancelled`` marks it "İPTAL EDİLMİŞTİR"; ``logo`` (the issuer's, PNG or JPEG and its
        media type) is printed on ours (a document's own view is left as its issuer made it)."""
        async with self._lease() as lease:
            return await self._html(lease, xml, cancelled=cancelled, logo=logo)

    async def _html(
        self,
        lease: _Lease,
        xml: bytes,
        *,
        cancelled: bool = False,
        logo: tuple[bytes, str] | None = None,
    ) -> HtmlView:
        try:
            return _logo(await lease.html(xml, own=True, cancelled=cancelled), logo)
        except _LimitError as exc:
            reason = exc.reason
        log.warning("document stylesheet stopped (%s); entegrator's view stands in", reason)
        try:
            view = await lease.html(xml, own=False, cancelled=cancelled)
        except _LimitError as exc:
            raise ViewUnavailableError(detail=exc.reason) from None
        return replace(_logo(view, logo), fallback=reason)

    async def pdf(
        self, xml: bytes, *, cancelled: bool = False, logo: tuple[bytes, str] | None = None
    ) -> PdfView:
        """The PDF view of a stored invoice; ours (in limits) when the document's own fails."""
        async with self._lease() as lease:
            view = await self._html(lease, xml, cancelled=cancelled, logo=logo)
            try:
                return PdfView(await lease.pdf(view.html), view.source, view.fallback)
            except _LimitError as exc:
                if view.source == "entegrator":
                    raise ViewUnavailableError(detail=exc.reason) from None
                reason = exc.reason
            log.warning("document view too costly as PDF (%s); entegrator's stands in", reason)
            try:
                ours = _logo(await lease.html(xml, own=False, cancelled=cancelled), logo)
                return PdfView(await lease.pdf(ours.html), "entegrator", reason)
            except _LimitError as exc:
                raise ViewUnavailableError(detail=exc.reason) from None

    async def aclose(self) -> None:
        """End every idle worker (busy ones end with their request)."""
        _kill_all(self._idle)
        for _ in range(500):
            _reap()
            if not _dying:
                return
            await asyncio.sleep(0.01)
