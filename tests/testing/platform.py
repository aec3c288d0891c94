"""Platform fixtures: a fresh PostgreSQL database, the API over real HTTP, tenants, workers.

Imported by ``tests/conftest.py`` (every test folder has them) and importable by any test
(``from tests.testing.platform import TenantHandle, serve``).

The database server is ``ENTEGRATOR_DATABASE_URL`` when set (CI points it at the server on
127.0.0.1:5432), else an embedded one (pgserver) in a temporary folder. Each test session
gets its own database, created and migrated here and dropped at the end.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import secrets
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import httpx
import pytest

from entegrator.config import Settings
from entegrator.documents.identifiers import vkn as vkn_ids
from entegrator.runtime import Runtime
from entegrator.signing.certs import TestCA
from entegrator.store import repo
from tests.clock import now

__all__ = [
    "DEV_CA",
    "EXAMPLE",
    "GIB_HEADERS",
    "INBOUND_TOKEN",
    "TenantHandle",
    "base_url",
    "drain",
    "free_port",
    "make_settings",
    "make_tenant",
    "new_vkn",
    "run_jobs",
    "runtime",
    "serve",
    "settings",
    "tenant",
    "write_dev_ca",
]

if TYPE_CHECKING:
    from entegrator.runtime import WorkerHealth

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "api" / "invoice.json"


# The development CA of every test session: the tenants' test seals, GİB's seal in the
# simulator and the trust anchor of /gib all come from it (as in the demo).
DEV_CA = TestCA.create("entegrator Test SM", now=now())
# What GİB (the simulator, or a test posting as GİB) presents on /gib.
INBOUND_TOKEN = "gib-inbound-test-token"
GIB_HEADERS = {"Authorization": f"Bearer {INBOUND_TOKEN}"}


def write_dev_ca(data_dir: Path) -> Path:
    """``DEV_CA`` as the files ``ENTEGRATOR_TEST_CA`` points at; the certificate's path."""
    cert_pem, key_pem = DEV_CA.to_pem()
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "test-ca.key").write_bytes(key_pem)
    (data_dir / "test-ca.crt").write_bytes(cert_pem)
    return data_dir / "test-ca.crt"


def make_settings(database_url: str, data_dir: Path, **overrides: Any) -> Settings:
    ca = write_dev_ca(data_dir)
    values: dict[str, Any] = {
        "database_url": database_url,
        "data_dir": data_dir,
        "secret_key": base64.b64encode(b"k" * 32).decode(),
        "heartbeat_seconds": 1.0,
        "stalled_after_seconds": 3.0,
        "test_ca": ca,
        "gib_trust_anchors": ca,
        "gib_inbound_token": INBOUND_TOKEN,
    }
    return Settings(**(values | overrides))


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(database_url, tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="session")
def runtime(settings: Settings) -> Iterator[Runtime]:
    rt = Runtime.from_settings(settings)
    rt.db.upgrade()
    yield rt
    rt.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serve(
    runtime: Runtime, *, lifespan: Literal["on", "off"] = "off", worker: WorkerHealth | None = None
) -> Iterator[str]:
    """The API of ``runtime`` served by uvicorn on a loopback port, in a thread.

    ``lifespan="on"`` runs the app's start-up as ``entegrator serve`` does (request threads
    limited to ``api_threads``); ``worker``: the health of a worker said to run beside it.
    """
    import uvicorn

    from entegrator.api.app import create_app

    port = free_port()
    config = uvicorn.Config(
        create_app(runtime, worker=worker),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan=lifespan,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:  # pragma: no cover
            raise RuntimeError("the API did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture(scope="session")
def base_url(runtime: Runtime) -> Iterator[str]:
    with serve(runtime) as url:
        yield url


def new_vkn() -> str:
    """A fresh VKN with a valid check digit."""
    first = str(secrets.randbelow(900_000_000) + 100_000_000)
    return first + vkn_ids.calc_check_digit(first)


@dataclass
class TenantHandle:
    tenant_id: uuid.UUID
    vkn: str
    token: str
    base_url: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, headers=self.headers, timeout=60)

    def draft(self, **changes: Any) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(EXAMPLE.read_text(encoding="utf-8"))
        data["supplier"]["vkn"] = self.vkn
        data.update(changes)
        return data

    def issue(self, client: httpx.Client, **changes: Any) -> dict[str, Any]:
        response = client.post("/api/v1/invoices", json=self.draft(**changes))
        assert response.status_code == 201, response.text
        return dict(response.json())

    def key(self, runtime: Runtime, role: str) -> str:
        with runtime.db.system() as conn:
            token, _ = repo.create_api_key(conn, self.tenant_id, role=role, name=role)
        return token


@pytest.fixture(scope="session")
def make_tenant(runtime: Runtime, base_url: str) -> Callable[..., TenantHandle]:
    from entegrator.services.seals import install_test_seal

    def make(*, seal: bool = True, series: str = "EFA") -> TenantHandle:
        vkn = new_vkn()
        with runtime.db.system() as conn:
            tid = repo.create_tenant(conn, vkn=vkn, name=f"Test {vkn}", default_series=series)
            token, _ = repo.create_api_key(conn, tid, role="owner", name="test")
            if seal:
                install_test_seal(
                    conn, tid, vkn, f"Test {vkn}", runtime.settings.key_bytes(), runtime.test_ca
                )
        return TenantHandle(tid, vkn, token, base_url)

    return make


@pytest.fixture
def tenant(make_tenant: Callable[..., TenantHandle]) -> TenantHandle:
    return make_tenant()


def drain(runtime: Runtime) -> None:
    """Run a worker in this process until no job is waiting (a job may queue another one
    while the worker is deciding it has caught up, hence the loop)."""
    from sqlalchemy import text

    from entegrator.workflow.jobs import run_worker

    for _ in range(10):
        asyncio.run(run_worker(runtime, wait=False, install_signal_handlers=False))
        with runtime.db.system() as conn:
            waiting = conn.execute(
                text(
                    "SELECT count(*) FROM procrastinate_jobs WHERE status = 'todo' "
                    "AND (scheduled_at IS NULL OR scheduled_at <= now())"
                )
            ).scalar_one()
        if not waiting:
            return


@pytest.fixture
def run_jobs(runtime: Runtime) -> Callable[[], None]:
    return lambda: drain(runtime)
