"""The supervisor: a worker that stops on its own is started again, with back-off."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import pytest

from entegrator.runtime import WorkerHealth, WorkerStatus
from entegrator.workflow.supervisor import restart_delay, supervise


def test_restart_delay_doubles_up_to_its_ceiling() -> None:
    delays = [restart_delay(n, first=0.5, most=6.0) for n in range(1, 7)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 6.0, 6.0]


def test_a_worker_that_stops_or_fails_is_started_again_until_cancelled(
    caplog: pytest.LogCaptureFixture,
) -> None:
    health = WorkerHealth()
    seen: list[WorkerStatus] = []

    async def run() -> None:
        seen.append(health.status)
        if len(seen) == 1:
            raise ConnectionError("the database went away")
        if len(seen) == 2:
            return  # stopped on its own, without an error: still not the end
        health.status = WorkerStatus.RUNNING
        await asyncio.Event().wait()  # works until cancelled

    async def main() -> None:
        task = asyncio.create_task(supervise(run, health, first=0.01, most=0.02))
        while health.status is not WorkerStatus.RUNNING:
            assert not task.done()
            await asyncio.sleep(0.005)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    with caplog.at_level(logging.ERROR, logger="entegrator.workflow.supervisor"):
        asyncio.run(main())
    assert seen == [WorkerStatus.STARTING] * 3
    assert health.restarts == 2
    assert health.status is WorkerStatus.STOPPED
    messages = [r.getMessage() for r in caplog.records]
    assert messages[0].startswith("worker stopped (ConnectionError); restart 1")
    assert messages[1].startswith("worker stopped (it stopped on its own); restart 2")
