"""A database outage: PostgreSQL stops for about ten seconds under load, then comes back.

The API answers 503 with ``Retry-After`` while the database is away (never 500), ``/readyz``
says not ready, the worker (in ``serve --with-worker`` and as ``entegrator worker``) is
restarted by its supervisor, and every document accepted before and after the outage is
signed without restarting anything. The shared test server cannot be stopped, so each test
runs a PostgreSQL server of its own on a loopback port.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx
import psycopg
import pytest

from entegrator.runtime import Runtime
from entegrator.services.seals import install_test_seal
from entegrator.store import repo
from tests.testing.platform import EXAMPLE, free_port, make_settings, new_vkn, serve

OUTAGE_SECONDS = 10.0


def _quiet_port() -> int:
    """A free loopback port below the ephemeral range: while the server is down, the clients'
    own connection attempts must not take its port (a socket connecting to a closed port of
    its own host can end up bound to it)."""
    ports = Path("/proc/sys/net/ipv4/ip_local_port_range")
    low = int(ports.read_text().split()[0]) if ports.exists() else 32768
    for port in random.sample(range(low // 2, low), 200):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")  # pragma: no cover


class PostgresServer:
    """A server of the test's own: ``initdb`` once, then ``stop``/``start`` on the same port
    and data folder, with the binaries ``pgserver`` ships. PostgreSQL refuses to run as root;
    as root it runs as pgserver's own system user, as the embedded database does."""

    def __init__(self, root: Path) -> None:
        with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
            warnings.simplefilter("ignore")
            from pgserver import _commands, utils

        self._bin = _commands.POSTGRES_BIN_PATH
        self.data = root / "pgdata"
        self.log = root / "postgres.log"
        self.port = _quiet_port()
        self._user: str | None = None
        if os.geteuid() == 0:
            self._user = "pgserver"
            utils.ensure_user_exists(self._user)
            shutil.chown(root, self._user)
            utils.ensure_prefix_permissions(root)
        self._run("initdb", "-D", str(self.data), "--auth=trust", "-U", "postgres", "-E", "utf8")

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = f"-h 127.0.0.1 -p {self.port} -k '' -c fsync=off -c max_connections=200"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def _run(self, program: str, *args: str) -> None:
        extra: dict[str, Any] = {"user": self._user} if self._user else {}
        done = subprocess.run(
            [str(self._bin / program), *args],
            capture_output=True,
            text=True,
            timeout=60,
            cwd="/",
            check=False,
            **extra,
        )
        if done.returncode:
            raise RuntimeError(f"{program} failed: {done.stdout}{done.stderr}")


@pytest.fixture
def postgres() -> Iterator[PostgresServer]:
    # Not under pytest's folder, which every new pytest session (of anyone on the machine)
    # closes to its owner alone: the server's own user must keep access to its data.
    root = Path(tempfile.mkdtemp(prefix="entegrator-pg-"))
    try:
        server = PostgresServer(root)
        server.start()
        try:
            yield server
        finally:
            with contextlib.suppress(RuntimeError):  # stopped already
                server.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class Tenant:
    token: str
    vkn: str


@pytest.fixture
def platform(postgres: PostgresServer, tmp_path: Path) -> Iterator[tuple[Runtime, Tenant]]:
    """The schema on the test's own server, and one tenant with a test seal."""
    rt = Runtime.from_settings(make_settings(postgres.url, tmp_path / "data"))
    rt.db.upgrade()
    vkn = new_vkn()
    with rt.db.system() as conn:
        tid = repo.create_tenant(conn, vkn=vkn, name=f"Test {vkn}", default_series="OUT")
        token, _ = repo.create_api_key(conn, tid, role="owner", name="test")
        install_test_seal(conn, tid, vkn, f"Test {vkn}", rt.settings.key_bytes())
    try:
        yield rt, Tenant(token, vkn)
    finally:
        rt.close()


@dataclass
class Observed:
    """What the clients saw: every answer to a POST, every /readyz."""

    accepted: list[str] = field(default_factory=list)
    refused: list[httpx.Response] = field(default_factory=list)
    other: list[str] = field(default_factory=list)
    ready: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


def _load(base: str, tenant: Tenant, seen: Observed, stop: threading.Event) -> None:
    """POST invoices one after the other until told to stop."""
    import json

    draft = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    draft["supplier"]["vkn"] = tenant.vkn
    headers = {"Authorization": f"Bearer {tenant.token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        while not stop.is_set():
            try:
                r = client.post("/api/v1/invoices", json=draft)
            except httpx.TransportError as exc:
                seen.other.append(repr(exc))
                continue
            if r.status_code == 201:
                seen.accepted.append(r.json()["id"])
                time.sleep(0.05)  # a few dozen documents, not hundreds
            elif r.status_code == 503:
                seen.refused.append(r)
                time.sleep(0.1)
            else:
                seen.other.append(f"{r.status_code} {r.text}")


def _watch(base: str, seen: Observed, stop: threading.Event) -> None:
    with httpx.Client(base_url=base, timeout=30) as client:
        while not stop.is_set():
            try:
                r = client.get("/readyz")
                seen.ready.append((r.status_code, r.json()))
            except httpx.TransportError:
                pass
            time.sleep(0.2)


def _outage(
    postgres: PostgresServer, base: str, tenant: Tenant, alive: Callable[[], None]
) -> Observed:
    """Load the API, stop PostgreSQL for ``OUTAGE_SECONDS`` and start it again; what the
    clients saw before, during and just after."""
    seen = Observed()
    stop = threading.Event()
    threads = [
        threading.Thread(target=_load, args=(base, tenant, seen, stop)),
        threading.Thread(target=_watch, args=(base, seen, stop)),
    ]
    for thread in threads:
        thread.start()
    try:
        time.sleep(3)
        postgres.stop()
        down = time.monotonic()
        before = len(seen.accepted)
        while time.monotonic() - down < OUTAGE_SECONDS:
            alive()
            time.sleep(0.5)
        during = len(seen.accepted)
        postgres.start()
        deadline = time.monotonic() + 20
        while len(seen.accepted) < during + 5 and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)
    assert before >= 3, seen.other
    assert during == before, "accepted while the database was down"
    assert len(seen.accepted) >= during + 5, (seen.other, len(seen.refused))
    return seen


def _statuses(url: str) -> dict[str, str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT document_id::text, status FROM documents").fetchall()
    return {doc: status for doc, status in rows}


def _all_signed(url: str, accepted: list[str], alive: Callable[[], None]) -> None:
    """Every accepted document reaches ``queued`` (signed) within 40 s."""
    deadline = time.monotonic() + 40
    while True:
        alive()
        statuses = _statuses(url)
        assert set(accepted) <= set(statuses)
        if all(status == "queued" for status in statuses.values()):
            return
        left = {s for s in statuses.values() if s != "queued"}
        assert time.monotonic() < deadline, f"not signed: {left}"
        time.sleep(0.5)


def _check_answers(seen: Observed) -> None:
    assert seen.other == []  # no 500, no dropped connection: 201 or 503
    assert seen.refused, "no request met the outage"
    for r in seen.refused:
        assert r.headers.get("Retry-After", "").isdigit(), r.headers
        assert r.json()["error"]["code"] == "DATABASE_UNAVAILABLE", r.text
        assert r.json()["error"]["message_tr"]
    assert any(status == 503 for status, _ in seen.ready), "readyz never said not ready"


def _env(rt: Runtime, data_dir: Path) -> dict[str, str]:
    s = rt.settings
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENTEGRATOR_")}
    env.update(
        ENTEGRATOR_DATABASE_URL=rt.database_url,
        ENTEGRATOR_DATA_DIR=str(data_dir),
        ENTEGRATOR_SECRET_KEY=s.secret_key.get_secret_value() if s.secret_key else "",
        ENTEGRATOR_CACHE_DIR=os.environ.get("ENTEGRATOR_CACHE_DIR", str(data_dir)),
    )  # the default heartbeat and stalled-worker timeouts: recovery must not wait for them
    return env


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:  # pragma: no cover
        process.kill()
        process.wait()


def _running(process: subprocess.Popen[bytes], log: Path) -> Callable[[], None]:
    def alive() -> None:
        assert process.poll() is None, log.read_text()

    return alive


def _start(args: list[str], env: dict[str, str], out: IO[bytes]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "entegrator", *args], env=env, stdout=out, stderr=subprocess.STDOUT
    )


def test_serve_with_worker_rides_out_a_database_outage(
    postgres: PostgresServer, platform: tuple[Runtime, Tenant], tmp_path: Path
) -> None:
    rt, tenant = platform
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        server = _start(
            ["serve", "--with-worker", "--port", str(port)], _env(rt, tmp_path / "data"), out
        )
        try:
            alive = _running(server, log)
            deadline = time.monotonic() + 60
            while True:
                alive()
                assert time.monotonic() < deadline, log.read_text()
                try:
                    ready = httpx.get(f"{base}/readyz")
                    if ready.status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.2)
            assert ready.json()["worker"] == "running"
            seen = _outage(postgres, base, tenant, alive)
            _all_signed(postgres.url, seen.accepted, alive)
            # Ready again without a restart of the process (the webhook worker, which shares
            # the supervisor, may take one more restart to come back).
            deadline = time.monotonic() + 60
            while (ready := httpx.get(f"{base}/readyz")).status_code != 200:
                assert time.monotonic() < deadline, ready.text
                time.sleep(0.2)
            assert ready.json()["worker"] == "running", ready.text
        finally:
            _stop(server)
    _check_answers(seen)
    # Never ready without a running worker, nor while the database is away. (Whether a
    # sample catches the worker between its stop and its restart is a matter of timing: the
    # restart itself is in the log.)
    assert all(body["worker"] == "running" for status, body in seen.ready if status == 200)
    assert all(status == 503 for status, body in seen.ready if body["status"] != "ready")
    assert "worker stopped" in log.read_text()


def test_a_worker_process_rides_out_a_database_outage(
    postgres: PostgresServer, platform: tuple[Runtime, Tenant], tmp_path: Path
) -> None:
    rt, tenant = platform
    log = tmp_path / "worker.log"
    with log.open("wb") as out, serve(rt) as base:
        worker = _start(["worker"], _env(rt, tmp_path / "data"), out)
        try:
            alive = _running(worker, log)
            deadline = time.monotonic() + 60
            while "worker running" not in log.read_text():
                alive()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
            seen = _outage(postgres, base, tenant, alive)
            _all_signed(postgres.url, seen.accepted, alive)
            ready = httpx.get(f"{base}/readyz")
            assert (ready.status_code, ready.json()["worker"]) == (200, "absent"), ready.text
        finally:
            _stop(worker)
    _check_answers(seen)
    assert "worker stopped" in log.read_text()
