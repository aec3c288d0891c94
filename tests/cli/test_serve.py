"""``entegrator serve`` as a user runs it: a taken port ends it at once with a clear message;
SIGTERM and SIGINT stop it and the embedded PostgreSQL it started."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil  # type: ignore[import-untyped]
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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _postgres_of(data_dir: Path) -> list[psutil.Process]:
    """The embedded server's processes for ``data_dir`` (run as pgserver's user when root)."""
    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        cmdline = proc.info["cmdline"] or []
        if proc.info["name"] == "postgres" and any(str(data_dir) in part for part in cmdline):
            found.append(proc)
    return found


def _run_until_ready_then(
    data_dir: Path,
    sig: signal.Signals,
    command: tuple[str, ...] = ("serve", "--with-worker"),
    ready: str = "/readyz",
) -> None:
    """``command`` (by default ``serve --with-worker``) on the embedded PostgreSQL, until
    ``ready`` answers 200; then ``sig``, and the server and its PostgreSQL must be gone."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENTEGRATOR_")}
    env.update(ENTEGRATOR_DATA_DIR=str(data_dir))  # no ENTEGRATOR_DATABASE_URL: embedded
    port = _free_port()
    log = data_dir / f"{command[0]}-{sig.name}.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "entegrator", *command, "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"http://127.0.0.1:{port}{ready}").status_code == 200:
                    break
            time.sleep(0.2)
        assert _postgres_of(data_dir), "the embedded PostgreSQL is not running"
        server.send_signal(sig)
        assert server.wait(timeout=30) == 0, log.read_text()
    finally:
        if server.poll() is None:
            server.kill()
    deadline = time.monotonic() + 15
    while _postgres_of(data_dir) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _postgres_of(data_dir), log.read_text()


@pytest.fixture
def embedded_dir() -> Iterator[Path]:
    """A data folder for an embedded PostgreSQL, outside pytest's (pruned) temporary folders."""
    path = Path(tempfile.mkdtemp(prefix="entegrator-embedded-"))
    yield path
    for proc in _postgres_of(path):  # only when the test failed
        proc.kill()
    shutil.rmtree(path, ignore_errors=True)


def test_sigterm_and_sigint_stop_the_embedded_postgresql(embedded_dir: Path) -> None:
    _run_until_ready_then(embedded_dir, signal.SIGTERM)

    # A process killed outright stays on pgserver's list, and a postmaster.pid may name a
    # number the system has since given to another program: neither may stop the next run.
    with subprocess.Popen(["true"]) as gone:
        gone.wait()
    pgdata = embedded_dir / "pgdata"
    (pgdata / ".handle_pids.json").write_text(json.dumps([gone.pid]))
    (pgdata / "postmaster.pid").write_text(
        f"{os.getpid()}\n{pgdata}\n1700000000\n5432\n{pgdata}\n\n  0 0\nready\n"
    )
    _run_until_ready_then(embedded_dir, signal.SIGINT)
    assert json.loads((pgdata / ".handle_pids.json").read_text()) == []


def test_sigterm_stops_the_simulator_and_its_embedded_postgresql(embedded_dir: Path) -> None:
    """Found walking through the e-Arşiv tour: uvicorn raises SIGTERM again after its graceful
    shutdown, which killed ``gibsim`` before its clean-up, and its embedded PostgreSQL ran on."""
    _run_until_ready_then(
        embedded_dir,
        signal.SIGTERM,
        ("gibsim",),
        ready="/EFaturaMerkez/newUserPkListxml.zip",
    )
