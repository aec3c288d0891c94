"""Keeping a worker alive: run it again, with back-off, whenever it stops on its own.

A procrastinate worker stops for good when one of its side tasks fails (its notification
listener, when PostgreSQL goes away) or raises when it cannot fetch a job. In a process whose
purpose is to work, that is never the end: the supervisor logs it, waits (1 s, 2 s, 4 s … up
to 30 s; back to 1 s after a run that lasted a minute) and starts it again, until the process
is asked to stop (the supervising task is cancelled). ``WorkerHealth`` says where it stands,
for ``/readyz``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from entegrator.lifecycle.backoff import backoff
from entegrator.runtime import WorkerHealth, WorkerStatus

__all__ = ["WorkerHealth", "WorkerStatus", "restart_delay", "supervise"]

log = logging.getLogger(__name__)

FIRST_DELAY = 1.0
MOST_DELAY = 30.0
HEALTHY_AFTER = 60.0  # a run this long resets the back-off


def restart_delay(failures: int, *, first: float = FIRST_DELAY, most: float = MOST_DELAY) -> float:
    """Seconds to wait before the restart that follows ``failures`` failures in a row (≥ 1):
    doubling from ``first``, never more than ``most``.

    >>> [restart_delay(n) for n in (1, 2, 3, 5, 6, 40)]
    [1.0, 2.0, 4.0, 16.0, 30.0, 30.0]
    """
    return backoff(failures, first=first, cap=most)


def _describe(exc: BaseException) -> str:
    """Class names along the causes (the messages may quote SQL parameters: never logged)."""
    names: list[str] = []
    seen: BaseException | None = exc
    while seen is not None and len(names) < 4:
        names.append(type(seen).__name__)
        seen = seen.__cause__
    return " ← ".join(names)


async def supervise(
    run: Callable[[], Awaitable[None]],
    health: WorkerHealth,
    *,
    first: float = FIRST_DELAY,
    most: float = MOST_DELAY,
) -> None:
    """Await ``run()`` again and again until cancelled; a run that returns or raises is a
    failure, logged, followed by a back-off. Cancelling waits for the current run to stop."""
    loop = asyncio.get_running_loop()
    failures = 0
    try:
        while True:
            health.status = WorkerStatus.STARTING
            started = loop.time()
            try:
                await run()
                reason = "it stopped on its own"
            except Exception as exc:  # anything but cancellation: run it again
                reason = _describe(exc)
            failures = 1 if loop.time() - started >= HEALTHY_AFTER else failures + 1
            delay = restart_delay(failures, first=first, most=most)
            health.status = WorkerStatus.RESTARTING
            health.restarts += 1
            log.error("worker stopped (%s); restart %d in %.0f s", reason, health.restarts, delay)
            await asyncio.sleep(delay)
    finally:
        health.status = WorkerStatus.STOPPED
