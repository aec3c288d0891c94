"""GİB's network in one test process: the simulator over HTTP and integrator installations,
each with its own database, its API served on loopback (GİB delivers there), its integrator
seal and its registration at GİB. No admin API registers users: tenants are enrolled through
USERENVELOPEs, as in production.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
from pydantic import SecretStr
from sqlalchemy.engine import make_url

from entegrator.gibsim.app import SERVICE, create_app
from entegrator.gibsim.service import Simulator
from entegrator.runtime import Runtime
from entegrator.services.enrolment import Request
from entegrator.signing.certs import to_pkcs12
from entegrator.store import repo
from entegrator.store.db import libpq_url
from tests.clock import now
from tests.testing.platform import (
    DEV_CA,
    EXAMPLE,
    INBOUND_TOKEN,
    drain,
    free_port,
    make_settings,
    new_vkn,
    serve,
)

__all__ = ["Installation", "Network", "network", "wait_until"]


def wait_until(what: str, check: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@dataclass
class Installation:
    """One integrator: its runtime on its own database, its API served, its GİB token."""

    name: str
    vkn: str
    runtime: Runtime
    url: str
    gib_token: str
    tenants: dict[str, tuple[uuid.UUID, str]] = field(default_factory=dict)  # vkn → (id, key)

    def tenant(self, vkn: str, name: str | None = None) -> uuid.UUID:
        """A customer of this installation, with its own test seal and an owner key."""
        from entegrator.services.seals import install_test_seal

        rt = self.runtime
        with rt.db.system() as conn:
            tid = repo.create_tenant(conn, vkn=vkn, name=name or f"Şirket {vkn}")
            key, _ = repo.create_api_key(conn, tid, role="owner", name="test")
            install_test_seal(
                conn, tid, vkn, name or f"Şirket {vkn}", rt.settings.key_bytes(), DEV_CA
            )
        self.tenants[vkn] = (tid, key)
        return tid

    def client(self, vkn: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {self.tenants[vkn][1]}"},
            timeout=60,
        )

    def pump(self, tenant_id: uuid.UUID) -> None:
        """What the worker does for a tenant: send what waits, ask GİB about the rest."""
        self.runtime.sending.send_pending(tenant_id)
        self.runtime.sending.poll(tenant_id)

    def settle(
        self, tenant_id: uuid.UUID, requests: list[Request], timeout: float = 60
    ) -> list[Request]:
        """Send the requests and follow them until GİB answered, then fetch GİB's list."""
        ids = {r.request_id for r in requests}

        def answered() -> bool:
            self.pump(tenant_id)
            got = [r for r in self.runtime.enrolment.requests(tenant_id) if r.request_id in ids]
            return all(r.status not in ("queued", "sent") for r in got)

        wait_until("GİB's answer to the user-account requests", answered, timeout)
        self.runtime.sending.refresh_user_list()
        return [r for r in self.runtime.enrolment.requests(tenant_id) if r.request_id in ids]

    def jobs(self) -> None:
        drain(self.runtime)


@dataclass
class Network:
    gib: str
    sim: Simulator
    database_url: str
    folder: Path
    installations: list[Installation] = field(default_factory=list)
    _stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    databases: list[str] = field(default_factory=list)

    def installation(self, name: str) -> Installation:
        """A new integrator installation, registered at GİB with its own VKN and seal."""
        vkn = new_vkn()
        data = self.folder / name
        data.mkdir(parents=True)
        seal = DEV_CA.issue(identity=vkn, name=f"Entegratör {name}", now=now())
        (data / "integrator.p12").write_bytes(to_pkcs12(seal, b"gizli"))
        (data / "integrator.pass").write_bytes(b"gizli\n")
        db_name = f"{make_url(self.database_url).database}_{name}_{secrets.token_hex(2)}"
        admin = libpq_url(self.database_url)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{db_name}"')
        self.databases.append(db_name)
        db_url = (
            make_url(self.database_url).set(database=db_name).render_as_string(hide_password=False)
        )
        settings = make_settings(
            db_url,
            data,
            gib_url=f"{self.gib}{SERVICE}",
            gib_user_list_url=f"{self.gib}/EFaturaMerkez",
            integrator_seal=data / "integrator.p12",
            integrator_seal_password_file=data / "integrator.pass",
            gib_alias_domain=f"{name}.example",
        )
        rt = Runtime.from_settings(settings)
        rt.db.upgrade()
        rt.sending.reroute_refresh_seconds = 0.0
        self._stack.callback(rt.close)
        url = self._stack.enter_context(serve(rt))
        # Registered at GİB once it listens: GİB delivers to its /gib endpoint.
        r = httpx.post(
            f"{self.gib}/admin/integrators",
            json={
                "integrator_id": name,
                "name": f"Entegratör {name}",
                "vkn": vkn,
                "endpoint": f"{url}/gib/EFatura",
                "delivery_token": INBOUND_TOKEN,
            },
        )
        r.raise_for_status()
        token = r.json()["token"]
        settings.gib_token = SecretStr(token)  # read when GİB is first called
        inst = Installation(name, vkn, rt, url, token)
        self.installations.append(inst)
        return inst

    def close(self) -> None:
        self._stack.close()
        admin = libpq_url(self.database_url)
        with psycopg.connect(admin, autocommit=True) as conn:
            for name in self.databases:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def network(database_url: str, folder: Path) -> Iterator[Network]:
    """The simulator (GİB) served on loopback, with its deliveries running."""
    import uvicorn

    sim = Simulator(database_url, max_attempts=20, retry_seconds=0.2, ca=DEV_CA)
    sim.create_schema()
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(sim, delivery_interval=0.05),
            host="127.0.0.1",
            port=port,
            log_level="warning",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    net = Network(f"http://127.0.0.1:{port}", sim, database_url, folder)
    try:
        yield net
    finally:
        net.close()
        server.should_exit = True
        thread.join(10)
        sim.dispose()


def draft(seller: str, buyer: str, number: int) -> dict[str, Any]:
    import json

    data: dict[str, Any] = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["supplier"]["vkn"] = seller
    data["customer"]["vkn"] = buyer
    data["notes"] = [f"Fatura {number}"]
    return data
