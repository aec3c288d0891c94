"""The render worker: a child process that renders views for :mod:`entegrator.rendering.sandbox`.

It runs as ``python -m entegrator.rendering._worker MEMORY_MB``, limits its own address space to
``MEMORY_MB`` and its CPU time per job, then answers jobs one at a time over its standard input
and output until its input closes (the parent went away). Each message is a frame: two 4-byte
big-endian lengths, a JSON header and a binary body. The parent trusts nothing it reads back
beyond the frame's shape and size.

Jobs (the header's ``op``):

* ``html``: body = invoice XML, ``own`` = use the document's own stylesheet; answers
  ``source``, ``fallback`` and the HTML (UTF-8) as body;
* ``pdf``: body = HTML (UTF-8); answers the PDF as body.

An answer is ``{"ok": true, ...}`` or ``{"ok": false, "reason": ...}`` where the reason is
``memory-limit``, ``output-too-large`` or ``error``.
"""

from __future__ import annotations

import json
import logging
import math
import os
import resource
import struct
import sys
import threading
import warnings
from typing import Any, BinaryIO

__all__ = ["main", "read_frame", "write_frame"]

_LENGTHS = struct.Struct(">II")
MAX_HEADER_BYTES = 64 * 1024
# A job's input: a stored document (at most 50 MiB) or the HTML made from one.
MAX_INPUT_BYTES = 64 * 1024 * 1024
# Renders run below the API's priority: a busy renderer never starves the requests.
NICE = 10


def write_frame(out: BinaryIO, header: dict[str, Any], body: bytes = b"") -> None:
    """Write one message (header as JSON, body as bytes) and flush it."""
    head = json.dumps(header).encode()
    out.write(_LENGTHS.pack(len(head), len(body)) + head + body)
    out.flush()


def read_frame(stream: BinaryIO, *, max_body: int) -> tuple[dict[str, Any], bytes] | None:
    """Read one message; None at the end of the stream."""
    lengths = stream.read(_LENGTHS.size)
    if len(lengths) < _LENGTHS.size:
        return None
    head_len, body_len = _LENGTHS.unpack(lengths)
    if head_len > MAX_HEADER_BYTES or body_len > max_body:
        raise ValueError("frame too large")
    head = stream.read(head_len)
    body = stream.read(body_len)
    if len(head) < head_len or len(body) < body_len:
        return None
    header = json.loads(head)
    if not isinstance(header, dict):
        raise ValueError("frame header is not an object")
    return header, body


def _limit_cpu(seconds: float) -> None:
    """Let this job use ``seconds`` more CPU (rounded up, plus one): then SIGXCPU ends us."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = usage.ru_utime + usage.ru_stime
    _soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = math.ceil(used + seconds) + 1
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _run(header: dict[str, Any], body: bytes, max_output: int) -> tuple[dict[str, Any], bytes]:
    from entegrator.rendering import html_view, render_pdf

    if header.get("op") == "html":
        view = html_view(
            body,
            own_stylesheet=bool(header.get("own", True)),
            cancelled=header.get("cancelled") is True,
        )
        data = view.html.encode()
        answer: dict[str, Any] = {"ok": True, "source": view.source, "fallback": view.fallback}
    elif header.get("op") == "pdf":
        data, answer = render_pdf(body.decode()), {"ok": True}
    else:
        return {"ok": False, "reason": "error"}, b""
    if len(data) > max_output:
        return {"ok": False, "reason": "output-too-large"}, b""
    return answer, data


def _memory() -> tuple[int, int]:
    """This process's address space now and at its peak (Linux), in bytes; 0 when unknown."""
    found = {"VmSize:": 0, "VmPeak:": 0}
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                key = line.split(":", 1)[0] + ":"
                if key in found:
                    found[key] = int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return found["VmSize:"], found["VmPeak:"]


def _spent_memory(before: tuple[int, int], limit: int) -> bool:
    """Whether the last job took more than half the address space that was left to it."""
    size, peak = before
    _now, new_peak = _memory()
    return new_peak > peak and new_peak - size >= (limit - size) / 2


def _serve(requests: BinaryIO, answers: BinaryIO, *, limit: int, max_output: int) -> None:
    log = logging.getLogger(__name__)
    while True:
        frame = read_frame(requests, max_body=MAX_INPUT_BYTES)
        if frame is None:
            return
        header, body = frame
        _limit_cpu(float(header.get("seconds", 10)))
        before = _memory()
        try:
            answer, data = _run(header, body, max_output)
        except MemoryError:
            # The heap may be in any state now: answer, then leave for a fresh worker.
            write_frame(answers, {"ok": False, "reason": "memory-limit"})
            sys.exit(3)
        except Exception as exc:
            log.warning("render failed: %s", type(exc).__name__)
            answer, data = {"ok": False, "reason": "error"}, b""
        if _spent_memory(before, limit):
            # libxslt reports a failed allocation as an ordinary stylesheet error: one that
            # failed after taking most of what was left ran out of memory. A fresh worker
            # takes the next job, whatever its heap looks like now.
            answer["retire"] = True
            if answer.get("fallback") == "stylesheet-error":
                answer["fallback"] = "memory-limit"
        write_frame(answers, answer, data)


def main() -> None:
    memory_mb, max_output = int(sys.argv[1]), int(sys.argv[2])
    # The protocol owns the real standard output; anything a library prints goes to stderr.
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    requests = sys.stdin.buffer
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    os.nice(NICE)
    logging.basicConfig(level=logging.WARNING, format="render worker: %(message)s")
    # WeasyPrint announces each rendering step and fontTools each table it subsets at INFO,
    # several lines per PDF; their warnings (a bad stylesheet, a missing font) are kept.
    for name in ("weasyprint", "fontTools"):
        logging.getLogger(name).setLevel(logging.WARNING)
    import entegrator.rendering  # noqa: F401 - what every job needs

    write_frame(answers, {"ok": True, "ready": True})
    # WeasyPrint takes a second to load: it loads while the first HTML job runs (a PDF job
    # waits for it on the import lock), so a worker replacing a killed one is ready at once.
    threading.Thread(target=_load_weasyprint, daemon=True).start()
    _serve(requests, answers, limit=limit, max_output=max_output)


def _load_weasyprint() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import weasyprint  # noqa: F401


if __name__ == "__main__":
    main()
