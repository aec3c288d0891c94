"""``entegrator serve`` as a user starts it: a taken port ends it at once, with a clear message."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port another program listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def _serve(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "entegrator", "serve", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=20,  # it used to hang here for ever
        check=False,
    )


def _env(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENTEGRATOR_")}
    env.update(ENTEGRATOR_DATABASE_URL=database_url, ENTEGRATOR_DATA_DIR=str(data_dir), **extra)
    return env


def test_a_taken_port_ends_serve_with_exit_2(
    database_url: str, tmp_path: Path, taken_port: int
) -> None:
    done = _serve(_env(database_url, tmp_path), "--port", str(taken_port), "--with-worker")
    assert done.returncode == 2, done.stderr
    assert "PORT_IN_USE [--port]" in done.stderr
    assert f"127.0.0.1:{taken_port}" in done.stderr
    assert "kullanımda" in done.stderr and "already in use" in done.stderr
    assert "ENTEGRATOR_PORT" in done.stderr and "Traceback" not in done.stderr


def test_a_taken_port_from_the_environment_is_named(
    database_url: str, tmp_path: Path, taken_port: int
) -> None:
    done = _serve(_env(database_url, tmp_path, ENTEGRATOR_PORT=str(taken_port)))
    assert done.returncode == 2, done.stderr
    assert "PORT_IN_USE [ENTEGRATOR_PORT]" in done.stderr
