"""``entegrator demo``: GİB's network on one machine, end to end.

Starts the GİB simulator and two integrator instances as separate processes, each on its own
PostgreSQL database, registers three companies and runs the scenarios every integrator
lives by:

1. A sends a TICARIFATURA invoice to B (both served by integrator 1); B accepts it (KABUL).
2. A sends a TEMELFATURA invoice to C, served by integrator 2.
3. A invoices a buyer who is not an e-Fatura user: the invoice becomes an e-Arşiv invoice,
   is e-mailed to the buyer through the demo's own SMTP server (STARTTLS and a login, as a
   real one; the demo reads what arrived and verifies the attached XML's signature) and
   reported to GİB's e-Arşiv service until GİB answers 30.
4. A sends C a despatch advice (e-İrsaliye) of three lines; C answers it with a receipt advice
   (irsaliye yanıtı) that rejects part of one line; A's despatch takes the answer.
5. Optionally (``--invoices N``): A sends N invoices to C; every one must arrive exactly once.
6. Optionally (``--despatches N``): A sends N despatch advices to C, C answers every one; each
   must be delivered once and answered once, and every answer must reach A.
7. C moves from integrator 2 to integrator 1 (entegratör değişikliği) while A keeps invoicing
   it: integrator 2 cancels C at GİB (CancelUserAccount), integrator 1 enrols it
   (ProcessUserAccount); every invoice is filed exactly once, at one of them.

The companies become e-Fatura and e-İrsaliye users as real ones do: each integrator sends GİB
a ProcessUserAccount in a USERENVELOPE signed with its own integrator seal; the simulator's
admin API only registers the two integrators.

Everything travels over HTTP on loopback, as in production: the API of each instance, GİB's
``sendDocument`` and ``getApplicationResponse``, and GİB's deliveries to the integrators'
``/gib/EFatura`` endpoints. The result is a table of each document's path and final status;
the exit status is non-zero when any step failed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from cryptography import x509
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from entegrator.cli.mailserver import MailServer, mail_server
from entegrator.config import Settings
from entegrator.documents.identifiers import vkn as vkn_ids
from entegrator.findings import Severity
from entegrator.gibsim.app import SERVICE
from entegrator.runtime import Runtime
from entegrator.services.earsiv_reports import istanbul_day
from entegrator.services.trust import development_ca
from entegrator.signing.verify import verify
from entegrator.store import repo, resolve_url
from entegrator.store.db import sqlalchemy_url

__all__ = ["Demo", "Outcome", "run"]

EARSIV_SERVICE = "/earsiv/services/EArsivWsPort"
# Not passed on to the demo's processes: their mail goes to the demo's own SMTP server.
_NOT_INHERITED = frozenset(
    {
        "ENTEGRATOR_SMTP_URL",
        "ENTEGRATOR_SMTP_USER",
        "ENTEGRATOR_SMTP_PASSWORD",
        "ENTEGRATOR_SMTP_STARTTLS",
        "ENTEGRATOR_SMTP_CA_FILE",
    }
)


def _vkn(first9: str) -> str:
    return first9 + vkn_ids.calc_check_digit(first9)


@dataclass(frozen=True)
class Company:
    key: str
    vkn: str
    name: str
    city: str
    integrator: int | None  # None: not an e-Fatura user


COMPANIES = (
    Company("A", _vkn("100000001"), "Anadolu Yazılım A.Ş.", "Ankara", 1),
    Company("B", _vkn("200000002"), "Boğaziçi Tekstil A.Ş.", "İstanbul", 1),
    Company("C", _vkn("300000003"), "Çukurova Gıda Ltd. Şti.", "Adana", 2),
    Company("D", _vkn("400000004"), "Datça Kafe (e-Fatura kullanıcısı değil)", "Muğla", None),
)


@dataclass
class Outcome:
    """One row of the table."""

    step: str
    path: str
    number: str = "-"
    expected: str = ""
    sender_status: str = "-"
    receiver_status: str = "-"
    ok: bool = False
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "path": self.path,
            "number": self.number,
            "expected": self.expected,
            "sender_status": self.sender_status,
            "receiver_status": self.receiver_status,
            "ok": self.ok,
            "detail": self.detail,
        }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _draft(seller: Company, buyer: Company, profile: str, note: str) -> dict[str, Any]:
    def party(c: Company) -> dict[str, Any]:
        return {
            "vkn": c.vkn,
            "name": c.name,
            "tax_office": c.city,
            "address": {
                "street": "Cumhuriyet Cad.",
                "building_number": "1",
                "district": "Merkez",
                "city": c.city,
            },
            # Where an e-Arşiv invoice is delivered when the buyer is routed to e-Arşiv.
            "contact": {"email": f"fatura@{c.vkn}.example.com.tr"},
        }

    return {
        "profile": profile,
        "type": "SATIS",
        "issue_date": dt.datetime.now(ZoneInfo("Europe/Istanbul")).date().isoformat(),
        "notes": [note],
        "supplier": party(seller),
        "customer": party(buyer),
        "lines": [
            {
                "name": "Yazılım lisansı",
                "quantity": "2",
                "unit_price": "1500.00",
                "kdv_percent": "20",
            },
            {
                "name": "Kurulum hizmeti",
                "quantity": "4",
                "unit_code": "HUR",
                "unit_price": "750.00",
                "kdv_percent": "20",
            },
        ],
    }


@dataclass
class Instance:
    """One integrator: its process, database and API."""

    number: int
    port: int
    database_url: str
    data_dir: Path
    ca: Path  # the development CA every process of the demo shares (seals, GİB's seal, trust)
    inbound_token: str
    gib_token: str = ""
    vkn: str = ""  # the integrator's own VKN, the one its integrator seal carries
    # The demo's mail server: its URL with the login, and its certificate (the CA to trust).
    smtp_url: str = ""
    smtp_ca: Path | None = None
    process: subprocess.Popen[bytes] | None = None
    keys: dict[str, str] = field(default_factory=dict)  # company → API key
    tenants: dict[str, uuid.UUID] = field(default_factory=dict)  # company → tenant id
    clients: dict[str, httpx.Client] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def endpoint(self) -> str:
        return f"{self.url}/gib/EFatura"

    def settings(self, gib: str) -> dict[str, str]:
        return {
            "ENTEGRATOR_DATABASE_URL": self.database_url,
            "ENTEGRATOR_DATA_DIR": str(self.data_dir),
            "ENTEGRATOR_GIB_URL": f"{gib}{SERVICE}",
            "ENTEGRATOR_GIB_USER_LIST_URL": f"{gib}/EFaturaMerkez",
            "ENTEGRATOR_GIB_TOKEN": self.gib_token,
            "ENTEGRATOR_GIB_INBOUND_TOKEN": self.inbound_token,
            "ENTEGRATOR_TEST_CA": str(self.ca),
            "ENTEGRATOR_GIB_TRUST_ANCHORS": str(self.ca),
            "ENTEGRATOR_EARSIV_URL": f"{gib}{EARSIV_SERVICE}",
            # The buyer's link in the e-mail and the report's faturaUrl: this instance's API.
            "ENTEGRATOR_PUBLIC_BASE_URL": self.url,
            "ENTEGRATOR_INTEGRATOR_SEAL": str(self.seal),
            "ENTEGRATOR_INTEGRATOR_SEAL_PASSWORD_FILE": str(self.seal_password),
            "ENTEGRATOR_GIB_ALIAS_DOMAIN": self.alias_domain,
        } | (
            {"ENTEGRATOR_SMTP_URL": self.smtp_url, "ENTEGRATOR_SMTP_CA_FILE": str(self.smtp_ca)}
            if self.smtp_url
            else {}
        )

    @property
    def seal(self) -> Path:
        return self.data_dir / "integrator-seal.p12"

    @property
    def seal_password(self) -> Path:
        return self.data_dir / "integrator-seal.pass"

    @property
    def alias_domain(self) -> str:
        return f"entegrator{self.number}.example"

    def runtime_settings(self, gib: str, **more: Any) -> Settings:
        """The settings of an in-process runtime beside the instance's server."""
        env = self.settings(gib)
        return Settings(
            database_url=env["ENTEGRATOR_DATABASE_URL"],
            data_dir=self.data_dir,
            gib_url=env["ENTEGRATOR_GIB_URL"],
            gib_user_list_url=env["ENTEGRATOR_GIB_USER_LIST_URL"],
            gib_token=env["ENTEGRATOR_GIB_TOKEN"],
            test_ca=self.ca,
            gib_trust_anchors=self.ca,
            integrator_seal=self.seal,
            integrator_seal_password_file=self.seal_password,
            gib_alias_domain=self.alias_domain,
            **more,
        )

    @property
    def outbox(self) -> Path:
        return self.data_dir / "outbox"

    def client(self, company: str) -> httpx.Client:
        """The company's API client (one per company, shared by threads: a new client
        costs more than the request)."""
        if company not in self.clients:
            self.clients[company] = httpx.Client(
                base_url=self.url,
                headers={"Authorization": f"Bearer {self.keys[company]}"},
                timeout=60,
            )
        return self.clients[company]

    def close(self) -> None:
        for client in self.clients.values():
            client.close()
        self.clients.clear()


class DemoError(Exception):
    pass


class Demo:
    """The network's processes and databases, for one run."""

    def __init__(self, settings: Settings, *, keep: bool = False, log: Callable[[str], None]):
        self.settings = settings
        self.keep = keep
        self.log = log
        self.run_id = secrets.token_hex(4)
        self.folder = settings.data_dir.resolve() / "demo" / self.run_id
        self.server_url = resolve_url(settings.database_url, settings.data_dir)
        self.databases: list[str] = []
        self.processes: list[subprocess.Popen[bytes]] = []
        self.gib = ""
        self.instances: list[Instance] = []
        self.mail: MailServer | None = None
        self._services = contextlib.ExitStack()

    # -- the network -------------------------------------------------------------------------

    def _database(self, role: str) -> str:
        name = f"entegrator_demo_{self.run_id}_{role}"
        admin = create_engine(
            sqlalchemy_url(self.server_url), isolation_level="AUTOCOMMIT", pool_size=1
        )
        try:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            admin.dispose()
        self.databases.append(name)
        url = make_url(sqlalchemy_url(self.server_url)).set(database=name)
        return url.render_as_string(hide_password=False).replace("postgresql+psycopg", "postgresql")

    def _spawn(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = (self.folder / f"{name}.log").open("wb")
        # Our own interpreter and CLI with the demo's own fixed arguments.
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "entegrator", *args],
            env={k: v for k, v in os.environ.items() if k not in _NOT_INHERITED} | env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes.append(process)
        return process

    def _wait_up(self, url: str, process: subprocess.Popen[bytes], name: str) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise DemoError(f"{name} stopped (see {self.folder / (name + '.log')})")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url, timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        raise DemoError(f"{name} did not start in time (see {self.folder / (name + '.log')})")

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.log(f"databases on {make_url(sqlalchemy_url(self.server_url)).host or 'embedded'}")
        gib_db = self._database("gib")
        port = _free_port()
        self.gib = f"http://127.0.0.1:{port}"
        ca = self.folder / "test-ca.crt"
        development_ca(ca)
        sim_env = {"ENTEGRATOR_DATABASE_URL": gib_db, "ENTEGRATOR_TEST_CA": str(ca)}
        xsd = self.settings.gibsim_earsiv_xsd
        if xsd is not None:
            sim_env["ENTEGRATOR_GIBSIM_EARSIV_XSD"] = str(xsd.resolve())
        sim = self._spawn("gib", ["gibsim", "--port", str(port)], sim_env)
        self._wait_up(f"{self.gib}/healthz", sim, "gib")
        self.log(f"GİB simulator   {self.gib}")
        self.log(
            f"  e-Arşiv reports checked against {xsd}"
            if xsd is not None
            else "  e-Arşiv reports not checked against GİB's schema "
            "(set ENTEGRATOR_GIBSIM_EARSIV_XSD to GİB's EArsiv.xsd)"
        )
        self.mail = self._services.enter_context(
            mail_server(self.folder / "smtp", _free_port(), keep=self.folder / "mailbox")
        )
        self.log(f"mail server     smtp://127.0.0.1:{self.mail.port} (STARTTLS, login)")
        for number in (1, 2):
            inst = Instance(
                number=number,
                port=_free_port(),
                database_url=self._database(f"integrator{number}"),
                data_dir=self.folder / f"integrator{number}",
                ca=ca,
                inbound_token=secrets.token_urlsafe(16),
                smtp_url=self.mail.url,
                smtp_ca=self.mail.ca_file,
            )
            inst.data_dir.mkdir(parents=True)
            inst.vkn = _vkn(f"90000000{number}")
            self._integrator_seal(inst)
            r = httpx.post(
                f"{self.gib}/admin/integrators",
                json={
                    "integrator_id": f"integrator-{number}",
                    "name": f"Entegratör {number}",
                    "vkn": inst.vkn,
                    "endpoint": inst.endpoint,
                    "delivery_token": inst.inbound_token,
                },
            )
            r.raise_for_status()
            inst.gib_token = r.json()["token"]
            self.instances.append(inst)
        self._enrol()
        for inst in self.instances:
            process = self._spawn(
                f"integrator{inst.number}",
                ["serve", "--with-worker", "--port", str(inst.port)],
                inst.settings(self.gib),
            )
            inst.process = process
            self._wait_up(f"{inst.url}/readyz", process, f"integrator{inst.number}")
            self.log(f"integrator {inst.number}    {inst.url}")

    def _integrator_seal(self, inst: Instance) -> None:
        """The integrator's own seal (mali mühür), from the development CA: it signs the
        USERENVELOPEs that enrol the companies."""
        from entegrator.signing.certs import to_pkcs12

        password = secrets.token_urlsafe(12)
        seal = development_ca(inst.ca).issue(
            identity=inst.vkn, name=f"Entegratör {inst.number}", now=dt.datetime.now(dt.UTC)
        )
        inst.seal.write_bytes(to_pkcs12(seal, password.encode()))
        inst.seal.chmod(0o600)
        inst.seal_password.write_text(password + "\n", encoding="utf-8")
        inst.seal_password.chmod(0o600)

    def _enrol(self) -> None:
        """Tenants and seals (test CA) on each instance, each company enrolled at GİB by its
        integrator (a USERENVELOPE); then each instance fetches GİB's user list, which now
        holds everyone, and the companies' aliases become active."""
        runtimes = []
        try:
            for inst in self.instances:
                rt = Runtime.from_settings(inst.runtime_settings(self.gib))
                runtimes.append(rt)
                rt.db.upgrade()
                for company in COMPANIES:
                    if company.integrator == inst.number:
                        inst.keys[company.key], inst.tenants[company.key] = self._tenant(
                            rt, inst, company
                        )
            for rt in runtimes:
                rt.sending.refresh_user_list()
        finally:
            for rt in runtimes:
                rt.close()

    def _tenant(
        self, rt: Runtime, inst: Instance, company: Company, *, enrol: bool = True
    ) -> tuple[str, uuid.UUID]:
        """The company as a tenant of the instance (its key, its test seal), enrolled at GİB
        unless told: its PK and GB aliases, urn:mail:{pk,gb}<VKN>@entegrator<n>.example."""
        from entegrator.services.seals import install_test_seal

        with rt.db.system() as conn:
            tenant_id = repo.create_tenant(conn, vkn=company.vkn, name=company.name)
            token, _ = repo.create_api_key(conn, tenant_id, role="owner", name="demo")
            install_test_seal(
                conn, tenant_id, company.vkn, company.name, rt.settings.key_bytes(), rt.test_ca
            )
        if enrol:
            follow_requests(
                rt, tenant_id, rt.enrolment.enrol(tenant_id, despatch=True, actor="demo")
            )
        return token, tenant_id

    def stop(self) -> None:
        for inst in self.instances:
            inst.close()
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._services.close()
        if self.keep:
            return
        admin = create_engine(
            sqlalchemy_url(self.server_url), isolation_level="AUTOCOMMIT", pool_size=1
        )
        try:
            with admin.connect() as conn:
                for name in self.databases:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        finally:
            admin.dispose()
        shutil.rmtree(self.folder, ignore_errors=True)

    # -- the scenarios -----------------------------------------------------------------------

    def runtime_of(self, inst: Instance) -> Runtime:
        """An in-process runtime on the instance's database, as ``entegrator`` commands run
        beside a server (the caller closes it)."""
        env = inst.settings(self.gib)
        return Runtime.from_settings(
            inst.runtime_settings(
                self.gib,
                earsiv_url=env["ENTEGRATOR_EARSIV_URL"],
                public_base_url=env["ENTEGRATOR_PUBLIC_BASE_URL"],
            )
        )

    def report_earsiv(self, company: str, document_id: str, timeout: float) -> dict[str, Any]:
        """What ``entegrator earsiv report --date <today>`` does, until GİB has settled the
        report carrying the document: prepare, send, ask again. The worker reports a day's
        invoices the day after; the demo does not wait that long. The last report's row."""
        inst = self.instance_of(company)
        tenant_id = inst.tenants[company]
        rt = self.runtime_of(inst)
        try:
            from entegrator.store import earsiv

            def settled() -> bool:
                rt.earsiv.report(tenant_id, through=istanbul_day(rt.clock()))
                return bool(self.status(company, document_id)["status"] != "queued")

            self.wait("GİB to settle the e-Arşiv report", settled, timeout, every=0.5)
            with rt.db.tenant(tenant_id) as conn:
                rows = earsiv.list_reports(conn, tenant_id, limit=1)
            if not rows:
                return {}
            row = rows[0]
            return {
                "id": str(row.report_id),
                "status": row.status,
                "gib_code": row.gib_code,
                "part": row.part,
            }
        finally:
            rt.close()

    def ca_certificate(self) -> x509.Certificate:
        """The development CA every seal of the demo chains to."""
        return x509.load_pem_x509_certificate((self.folder / "test-ca.crt").read_bytes())

    def instance_of(self, company: str) -> Instance:
        return next(i for i in self.instances if company in i.keys)

    def issue(self, seller: str, buyer: Company, profile: str, note: str) -> dict[str, Any]:
        seller_co = next(c for c in COMPANIES if c.key == seller)
        c = self.instance_of(seller).client(seller)
        r = c.post("/api/v1/invoices", json=_draft(seller_co, buyer, profile, note))
        if r.status_code != 201:
            raise DemoError(f"issuing failed: HTTP {r.status_code} {r.text[:300]}")
        return dict(r.json())

    def status(self, company: str, document_id: str, direction: str = "invoices") -> dict[str, Any]:
        c = self.instance_of(company).client(company)
        return dict(c.get(f"/api/v1/{direction}/{document_id}").json())

    def incoming(self, company: str, number: str) -> dict[str, Any] | None:
        c = self.instance_of(company).client(company)
        items = c.get("/api/v1/incoming", params={"number": number}).json()["items"]
        return items[0] if items else None

    def wait(
        self, what: str, check: Callable[[], bool], timeout: float, *, every: float = 0.25
    ) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                return True
            time.sleep(every)
        self.log(f"  timed out waiting for {what}")
        return False


def _path(seller: str, buyer: Company, seller_int: int) -> str:
    if buyer.integrator is None:
        return f"A (entegratör {seller_int}) → e-Arşiv ({buyer.key}: e-Fatura kullanıcısı değil)"
    via = "GİB"
    return (
        f"{seller} (entegratör {seller_int}) → {via} → {buyer.key} (entegratör {buyer.integrator})"
    )


def _company(key: str) -> Company:
    return next(c for c in COMPANIES if c.key == key)


def follow_requests(
    rt: Runtime, tenant_id: uuid.UUID, requests: list[Any], timeout: float = 60.0
) -> None:
    """Send the tenant's user-account requests and follow them until GİB accepted them, as
    ``entegrator gib enrol`` does; raises :class:`DemoError` when GİB refuses one."""
    ids = {r.request_id for r in requests}
    deadline = time.monotonic() + timeout
    while True:
        rt.sending.send_pending(tenant_id)
        rt.sending.poll(tenant_id)
        now = [r for r in rt.enrolment.requests(tenant_id) if r.request_id in ids]
        refused = [r for r in now if r.status in ("refused", "failed")]
        if refused:
            raise DemoError(f"GİB refused {refused[0].action}: {refused[0].gib_detail}")
        if all(r.status in ("accepted", "listed") for r in now):
            return
        if time.monotonic() > deadline:
            raise DemoError("GİB did not answer the user-account request in time")
        time.sleep(0.2)


def scenario_move(demo: Demo, timeout: float, count: int = 12) -> Outcome:
    """C leaves integrator 2 and joins integrator 1 while A sends it ``count`` invoices:
    each is filed exactly once, at integrator 2 (before the move) or 1 (after it)."""
    import threading

    c_ = _company("C")
    one, two = demo.instances
    out = Outcome(
        "7 C moves 2 → 1",
        "A (entegratör 1) → GİB → C (entegratör 2 → 1)",
        expected=f"{count} delivered / each filed once",
    )
    rt1, rt2 = demo.runtime_of(one), demo.runtime_of(two)
    issued: list[dict[str, Any]] = []
    try:
        key, c_one = demo._tenant(rt1, one, c_, enrol=False)
        c_two = two.tenants["C"]
        half = threading.Event()

        def stream() -> None:
            for i in range(count):
                issued.append(demo.issue("A", c_, "TEMELFATURA", f"Demo 5: taşınma {i + 1}"))
                if i == count // 3:
                    half.set()
                time.sleep(0.25)

        sender = threading.Thread(target=stream)
        sender.start()
        half.wait(timeout)
        # Integrator 2 cancels C at GİB; integrator 1 enrols it once GİB has let it go.
        follow_requests(rt2, c_two, rt2.enrolment.cancel(c_two, actor="demo"))
        rt1.sending.refresh_user_list()  # C is moving: A's invoices to it wait
        follow_requests(rt1, c_one, rt1.enrolment.enrol(c_one, actor="demo"))
        for rt in (rt1, rt2):
            rt.sending.refresh_user_list()  # the new mailbox is listed: active, routed to
        one.keys["C"], one.tenants["C"] = key, c_one
        sender.join()
        a_tenant = one.tenants["A"]

        def delivered() -> bool:
            rt1.sending.send_pending(a_tenant)  # what the worker does every minute
            rt1.sending.poll(a_tenant)
            return all(
                demo.status("A", d["id"])["status"] in ("delivered", "failed_delivery")
                for d in issued
            )

        demo.wait("the moving invoices to be delivered", delivered, timeout, every=1.0)
        numbers = {d["number"] for d in issued}
        out.number = f"{min(numbers)}…{max(numbers)}" if numbers else "-"
        a_vkn = _company("A").vkn
        at_two = [
            n
            for n in _numbers(two.client("C"), "/api/v1/incoming", {"party": a_vkn})
            if n in numbers
        ]
        at_one = [
            n
            for n in _numbers(one.client("C"), "/api/v1/incoming", {"party": a_vkn})
            if n in numbers
        ]
        done = sum(demo.status("A", d["id"])["status"] == "delivered" for d in issued)
        out.sender_status = f"{done} delivered"
        out.receiver_status = f"{len(at_two)} at 2, {len(at_one)} at 1"
        filed = at_two + at_one
        out.ok = (
            done == count
            and len(filed) == count
            and set(filed) == numbers
            and bool(at_two)
            and bool(at_one)
        )
    finally:
        rt1.close()
        rt2.close()
    return out


def scenario_accept(demo: Demo, timeout: float) -> Outcome:
    b = _company("B")
    out = Outcome("1 TICARIFATURA, KABUL", _path("A", b, 1), expected="accepted / accepted")
    doc = demo.issue("A", b, "TICARIFATURA", "Demo 1: ticari fatura")
    out.number = doc["number"]
    theirs: dict[str, Any] = {}

    def arrived() -> bool:
        found = demo.incoming("B", doc["number"])
        if found:
            theirs.update(found)
        return bool(found)

    if not demo.wait("B to receive the invoice", arrived, timeout):
        out.sender_status = demo.status("A", doc["id"])["status"]
        return out
    c = demo.instance_of("B").client("B")
    r = c.post(f"/api/v1/incoming/{theirs['id']}/accept")
    if r.status_code != 200:
        out.detail = f"accept: HTTP {r.status_code}"
        return out
    demo.wait(
        "A's invoice to be accepted",
        lambda: demo.status("A", doc["id"])["status"] == "accepted",
        timeout,
    )
    out.sender_status = demo.status("A", doc["id"])["status"]
    out.receiver_status = demo.status("B", theirs["id"], "incoming")["status"]
    out.ok = (out.sender_status, out.receiver_status) == ("accepted", "accepted")
    return out


def scenario_other_integrator(demo: Demo, timeout: float) -> Outcome:
    c_ = _company("C")
    out = Outcome("2 TEMELFATURA", _path("A", c_, 1), expected="delivered / received")
    doc = demo.issue("A", c_, "TEMELFATURA", "Demo 2: temel fatura")
    out.number = doc["number"]
    demo.wait(
        "A's invoice to be delivered",
        lambda: demo.status("A", doc["id"])["status"] in ("delivered", "failed_delivery"),
        timeout,
    )
    detail = demo.status("A", doc["id"])
    out.sender_status = f"{detail['status']} ({detail['status_code']})"
    theirs = demo.incoming("C", doc["number"])
    out.receiver_status = theirs["status"] if theirs else "-"
    out.ok = detail["status"] == "delivered" and out.receiver_status == "received"
    return out


def _open_invoice_mail(message: EmailMessage, ca: x509.Certificate) -> str:
    """What a buyer finds in the e-mail: ``PDF + verified XML`` when the PDF is there and the
    signed XML verifies against the seal's CA; otherwise what is wrong."""
    parts = {
        (part.get_filename() or "").rsplit(".", 1)[-1]: part.get_payload(decode=True)
        for part in message.iter_attachments()
    }
    pdf, xml = parts.get("pdf"), parts.get("xml")
    if not isinstance(pdf, bytes) or not pdf.startswith(b"%PDF-"):
        return "no PDF attached"
    if not isinstance(xml, bytes):
        return "no XML attached"
    errors = [f for f in verify(xml, trust=[ca]) if f.severity is Severity.ERROR]
    return f"XML signature: {errors[0].code}" if errors else "PDF + verified XML"


def _despatch_draft(seller: Company, buyer: Company) -> dict[str, Any]:
    """A despatch advice of three lines, leaving within the hour."""
    now = dt.datetime.now(ZoneInfo("Europe/Istanbul")).replace(microsecond=0)
    leaves = now + dt.timedelta(minutes=30)

    def party(c: Company) -> dict[str, Any]:
        return {
            "vkn": c.vkn,
            "name": c.name,
            "tax_office": c.city,
            "address": {
                "street": "Cumhuriyet Cad.",
                "building_number": "1",
                "district": "Merkez",
                "city": c.city,
                "postal_zone": "01000",
                "country": "Türkiye",
                "country_code": "TR",
            },
        }

    return {
        "kind": "despatch",
        "profile": "TEMELIRSALIYE",
        "type": "SEVK",
        "issue_date": now.date().isoformat(),
        "issue_time": now.time().isoformat(),
        "notes": ["Demo 4: e-İrsaliye"],
        "supplier": party(seller),
        "customer": party(buyer),
        "shipment": {
            "drivers": [{"first_name": "Mehmet", "family_name": "Yılmaz", "tckn": "10000000146"}],
            "plate": "06ABC123",
            "delivery_address": party(buyer)["address"],
            "actual_despatch_date": leaves.date().isoformat(),
            "actual_despatch_time": leaves.time().isoformat(),
        },
        "lines": [
            {"name": "Sunucu", "quantity": "2", "unit_code": "C62", "seller_item_id": "SRV-1"},
            {"name": "Ağ kablosu", "quantity": "20", "unit_code": "C62", "seller_item_id": "KBL"},
            {"name": "Raf kabini", "quantity": "1", "unit_code": "C62", "seller_item_id": "RAF"},
        ],
    }


def scenario_despatch(demo: Demo, timeout: float) -> Outcome:
    """A → C: a despatch advice of three lines; C rejects 5 of line 2's 20 cables."""
    c_ = _company("C")
    out = Outcome(
        "4 e-İrsaliye, yanıt",
        _path("A", c_, 1),
        expected="accepted (partly-rejected) / accepted",
    )
    a = demo.instance_of("A").client("A")
    r = a.post("/api/v1/despatches", json=_despatch_draft(_company("A"), c_))
    if r.status_code != 201:
        raise DemoError(f"issuing the despatch failed: HTTP {r.status_code} {r.text[:300]}")
    doc = r.json()
    out.number = doc["number"]
    c = demo.instance_of("C").client("C")
    theirs: dict[str, Any] = {}

    def arrived() -> bool:
        items = c.get("/api/v1/incoming-despatches", params={"number": doc["number"]}).json()
        if items["items"]:
            theirs.update(items["items"][0])
        return bool(items["items"])

    if not demo.wait("C to receive the despatch", arrived, timeout):
        out.sender_status = demo.status("A", doc["id"], "despatches")["status"]
        return out
    answer = c.post(
        f"/api/v1/incoming-despatches/{theirs['id']}/receipt",
        json={"lines": [{"line": 2, "rejected": "5", "reject_reason": "Hasarlı koli"}]},
    )
    if answer.status_code != 200:
        out.detail = f"receipt: HTTP {answer.status_code} {answer.text[:200]}"
        return out
    demo.wait(
        "A's despatch to take the answer",
        lambda: demo.status("A", doc["id"], "despatches")["status"] == "accepted",
        timeout,
    )
    detail = demo.status("A", doc["id"], "despatches")
    out.sender_status = f"{detail['status']} ({detail['status_code']})"
    out.receiver_status = demo.status("C", theirs["id"], "incoming-despatches")["status"]
    out.detail = f"{answer.json()['receipt_number']}: {detail['status_detail']}"
    out.ok = out.sender_status == "accepted (partly-rejected)" and out.receiver_status == "accepted"
    return out


def scenario_earsiv(demo: Demo, timeout: float) -> Outcome:
    d = _company("D")
    out = Outcome(
        "3 unregistered buyer",
        _path("A", d, 1),
        expected="e-Arşiv: e-mailed, reported (GİB 30)",
    )
    doc = demo.issue("A", d, "TEMELFATURA", "Demo 3: kayıtlı olmayan alıcı")
    out.number = doc["number"]
    routed = [w["code"] for w in doc.get("warnings", [])]
    demo.wait(
        "the e-Arşiv invoice to be signed",
        lambda: demo.status("A", doc["id"])["status_code"] == "earsiv-report",
        timeout,
    )
    signed = demo.status("A", doc["id"])
    if signed["status_code"] != "earsiv-report":
        out.sender_status = f"{signed['profile']} {signed['status']} ({signed['status_code']})"
        return out
    # The worker e-mails it as soon as it is signed, through the demo's SMTP server.
    a = demo.instance_of("A")
    mails: list[dict[str, Any]] = []

    def mailed() -> bool:
        r = a.client("A").get(f"/api/v1/invoices/{doc['id']}/deliveries")
        mails[:] = [m for m in r.json()["items"] if m["channel"] == "email"]
        return any(m["status"] != "queued" for m in mails)

    demo.wait("the e-Arşiv invoice to be e-mailed", mailed, timeout)
    sent = [m for m in mails if m["status"] == "sent"]
    arrived = demo.mail.to(sent[0]["address"]) if sent and demo.mail else []
    opened = _open_invoice_mail(arrived[-1], demo.ca_certificate()) if arrived else "not arrived"
    report = demo.report_earsiv("A", doc["id"], timeout)
    detail = demo.status("A", doc["id"])
    out.sender_status = f"{detail['profile']} {detail['status']} ({detail['status_code']})"
    mail = f"e-mail {'yes' if sent else 'no'}"
    if sent:
        mail += f" ({sent[0]['address']}: {opened})"
    elif mails:
        mail += f" ({mails[0]['status']}: {mails[0]['last_error']})"
    out.receiver_status = f"{mail}; report {report.get('gib_code') or report.get('status', '-')}"
    if arrived:
        # Kept where the run's folder is not removed: the e-mail the buyer got, to open.
        kept = demo.folder.parent / f"{doc['number']}.eml"
        kept.write_bytes(arrived[-1].as_bytes())
        out.detail = f"e-mail: {kept}"
    out.ok = (
        "routed-earsiv" in routed
        and detail["profile"] == "EARSIVFATURA"
        and detail["status"] == "reported"
        and bool(sent)
        and opened == "PDF + verified XML"
        and report.get("gib_code") == 30
        and "enveloped" not in [e["type"] for e in detail["events"]]
    )
    return out


def scenario_load(demo: Demo, count: int, timeout: float) -> Outcome:
    """``count`` invoices from A to C: all delivered at A's side, each filed once at C."""
    c_ = _company("C")
    out = Outcome(
        f"5 {count} invoices",
        _path("A", c_, 1),
        expected=f"{count} delivered / {count} received once",
    )
    started = time.monotonic()
    # As an ERP posts a day's invoices: several requests at once.
    with ThreadPoolExecutor(8) as pool:
        numbers = sorted(
            pool.map(
                lambda i: demo.issue("A", c_, "TEMELFATURA", f"Demo 4: yük {i + 1}")["number"],
                range(count),
            )
        )
    out.number = f"{numbers[0]}…{numbers[-1]}" if numbers else "-"
    issued = time.monotonic() - started

    def counts() -> tuple[int, int, int]:
        c = demo.instance_of("A").client("A")
        delivered = _count(c, "/api/v1/invoices", {"status": "delivered", "party": c_.vkn})
        c = demo.instance_of("C").client("C")
        received = _numbers(c, "/api/v1/incoming", {"party": _company("A").vkn})
        wanted = set(numbers)
        return delivered, len([n for n in received if n in wanted]), len(received)

    state = (0, 0, 0)

    def done() -> bool:
        nonlocal state
        state = counts()
        return state[0] >= count + 1 and state[1] >= count  # +1: scenario 2's invoice

    # Counting pages through both APIs costs the machine too: not too often.
    demo.wait(f"{count} invoices to be delivered", done, timeout, every=2.0)
    delivered, filed, total_at_c = state
    out.sender_status = f"{delivered - 1} delivered"
    out.receiver_status = f"{filed} filed ({total_at_c - 1 - filed} extra)"
    elapsed = time.monotonic() - started
    out.detail = f"issued in {issued:.1f} s, all delivered in {elapsed:.1f} s"
    out.ok = delivered - 1 == count and filed == count and total_at_c == count + 1
    return out


def scenario_despatch_load(demo: Demo, count: int, timeout: float) -> Outcome:
    """``count`` despatch advices from A to C, each filed once at C and answered once (all
    received); every answer reaches A."""
    c_, a_ = _company("C"), _company("A")
    out = Outcome(
        f"6 {count} despatches",
        _path("A", c_, 1),
        expected=f"{count} accepted / {count} answered once",
    )
    started = time.monotonic()
    a = demo.instance_of("A").client("A")
    c = demo.instance_of("C").client("C")

    def issue(i: int) -> str:
        draft = _despatch_draft(a_, c_)
        draft["notes"] = [f"Demo 6: yük {i + 1}"]
        r = a.post("/api/v1/despatches", json=draft)
        if r.status_code != 201:
            raise DemoError(f"issuing a despatch failed: HTTP {r.status_code} {r.text[:300]}")
        return str(r.json()["number"])

    with ThreadPoolExecutor(8) as pool:
        numbers = set(pool.map(issue, range(count)))
    out.number = f"{min(numbers)}…{max(numbers)}" if numbers else "-"
    answered: set[str] = set()
    refused: list[str] = []

    def answer(item: dict[str, Any]) -> None:
        r = c.post(f"/api/v1/incoming-despatches/{item['id']}/receipt", json={"accept_all": True})
        if r.status_code == 200:
            answered.add(item["number"])
        else:
            refused.append(f"{item['number']}: HTTP {r.status_code}")

    def filed_and_answered() -> bool:
        waiting = [
            i
            for i in _pages(c, "/api/v1/incoming-despatches", {"status": "received"})
            if i["number"] in numbers and i["number"] not in answered
        ]
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(answer, waiting))
        return len(answered) >= count

    demo.wait(f"C to receive and answer {count} despatches", filed_and_answered, timeout, every=2.0)

    def accepted() -> int:
        return sum(
            1
            for i in _pages(a, "/api/v1/despatches", {"status": "accepted", "party": c_.vkn})
            if i["number"] in numbers
        )

    demo.wait(f"A to see {count} answers", lambda: accepted() >= count, timeout, every=2.0)
    at_a = accepted()
    at_c = [
        i["number"] for i in _pages(c, "/api/v1/incoming-despatches", {}) if i["number"] in numbers
    ]
    out.sender_status = f"{at_a} accepted"
    out.receiver_status = (
        f"{len(set(at_c))} filed ({len(at_c) - len(set(at_c))} extra), {len(answered)} answered"
    )
    out.detail = f"all answered at A in {time.monotonic() - started:.1f} s" + (
        f"; refused: {refused[:3]}" if refused else ""
    )
    out.ok = at_a == count and len(at_c) == len(set(at_c)) == count and len(answered) == count
    return out


def _pages(client: httpx.Client, path: str, params: dict[str, str]) -> Iterator[dict[str, Any]]:
    cursor = None
    while True:
        query = {**params, "limit": "200"} | ({"cursor": cursor} if cursor else {})
        page = client.get(path, params=query).json()
        yield from page["items"]
        cursor = page.get("next_cursor")
        if not cursor:
            return


def _count(client: httpx.Client, path: str, params: dict[str, str]) -> int:
    return sum(1 for _ in _pages(client, path, params))


def _numbers(client: httpx.Client, path: str, params: dict[str, str]) -> list[str]:
    return [item["number"] for item in _pages(client, path, params)]


def table(outcomes: list[Outcome]) -> str:
    headers = ("step", "path", "number", "sender", "receiver", "result")
    rows = [
        (
            o.step,
            o.path,
            o.number,
            o.sender_status,
            o.receiver_status,
            ("OK" if o.ok else "FAILED") + (f"  {o.detail}" if o.detail else ""),
        )
        for o in outcomes
    ]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    line = "  ".join("{:<" + str(w) + "}" for w in widths)
    out = [line.format(*headers), line.format(*("-" * w for w in widths))]
    out += [line.format(*r) for r in rows]
    return "\n".join(o.rstrip() for o in out)


def run(
    settings: Settings,
    *,
    invoices: int = 0,
    despatches: int = 0,
    timeout: float = 120.0,
    keep: bool = False,
    log: Callable[[str], None] = lambda _: None,
) -> tuple[list[Outcome], dict[str, Any]]:
    """Run the demo; the outcomes and facts about the run (URLs, databases, timings)."""
    demo = Demo(settings, keep=keep, log=log)
    outcomes: list[Outcome] = []
    facts: dict[str, Any] = {"run": demo.run_id}
    started = time.monotonic()
    try:
        demo.start()
        facts |= {
            "gib": demo.gib,
            "integrators": [i.url for i in demo.instances],
            "databases": list(demo.databases),
            "companies": [
                {"key": c.key, "vkn": c.vkn, "name": c.name, "integrator": c.integrator}
                for c in COMPANIES
            ],
        }
        steps: list[tuple[str, Callable[[], Outcome]]] = [
            ("1 TICARIFATURA, KABUL", lambda: scenario_accept(demo, timeout)),
            ("2 TEMELFATURA", lambda: scenario_other_integrator(demo, timeout)),
            ("3 unregistered buyer", lambda: scenario_earsiv(demo, timeout)),
            ("4 e-İrsaliye, yanıt", lambda: scenario_despatch(demo, timeout)),
        ]
        if invoices > 0:
            steps.append(
                (
                    f"5 {invoices} invoices",
                    lambda: scenario_load(demo, invoices, max(timeout, invoices * 0.5)),
                )
            )
        if despatches > 0:
            steps.append(
                (
                    f"6 {despatches} despatches",
                    lambda: scenario_despatch_load(demo, despatches, max(timeout, despatches)),
                )
            )
        # Last: C's invoices go to integrator 1 afterwards.
        steps.append(("7 C moves 2 → 1", lambda: scenario_move(demo, timeout)))
        for name, step in steps:
            try:
                outcome = step()
            except (DemoError, httpx.HTTPError, KeyError) as exc:
                outcome = Outcome(name, "-", detail=str(exc)[:300])
            outcomes.append(outcome)
            log(("  ok      " if outcome.ok else "  FAILED  ") + outcome.step)
    except (DemoError, httpx.HTTPError) as exc:
        outcomes.append(Outcome("start", "-", detail=str(exc)[:300]))
    finally:
        facts["logs"] = str(demo.folder) if keep else None
        demo.stop()
    facts["seconds"] = round(time.monotonic() - started, 1)
    return outcomes, facts


def main(invoices: int, timeout: float, keep: bool, as_json: bool, despatches: int = 0) -> int:
    settings = Settings()

    def log(message: str) -> None:
        if not as_json:
            sys.stdout.write(message + "\n")
            sys.stdout.flush()

    outcomes, facts = run(
        settings,
        invoices=invoices,
        despatches=despatches,
        timeout=timeout,
        keep=keep,
        log=log,
    )
    ok = bool(outcomes) and all(o.ok for o in outcomes)
    if as_json:
        sys.stdout.write(
            json.dumps(
                {"ok": ok, **facts, "steps": [o.to_dict() for o in outcomes]},
                ensure_ascii=False,
                indent=2,
            )
            + "\n"
        )
    else:
        sys.stdout.write("\n" + table(outcomes) + "\n\n")
        sys.stdout.write(f"{'all steps passed' if ok else 'SOME STEPS FAILED'} ")
        sys.stdout.write(f"in {facts['seconds']} s\n")
    return 0 if ok else 1
