"""Webhook deliveries: bounded in time and size, apart from the work every tenant needs, and
sent only to the address that was checked."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import http.server
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from entegrator.client import verify_webhook
from entegrator.runtime import Runtime
from entegrator.services.webhooks import WebhookError, wake_webhooks
from tests.testing.platform import TenantHandle, make_settings

MIB = 1024 * 1024


def _read_request(conn: socket.socket) -> None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return
        body += chunk


class _Dripper:
    """A webhook receiver on loopback that reads the request, then answers one byte every
    ``interval`` seconds, never finishing the headers, for at most ``lasts`` seconds. It
    records how many connections are open at once and how long each lasted when the client
    hung up."""

    def __init__(self, *, interval: float = 1.0, lasts: float = 20.0) -> None:
        self.interval = interval
        self.lasts = lasts
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.active = 0
        self.peak = 0
        self.hung_up: list[float] = []  # seconds each connection lasted, closed by the client
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/hooks"
        self.threads = [threading.Thread(target=self._accept, daemon=True)]
        self.threads[0].start()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            thread = threading.Thread(target=self._drip, args=(conn,), daemon=True)
            self.threads.append(thread)
            thread.start()

    def _drip(self, conn: socket.socket) -> None:
        started = time.monotonic()
        with self.lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
        answer = b"HTTP/1.1 200 OK\r\nX-Drip: " + b"a" * 100_000
        try:
            with conn:
                conn.settimeout(5)
                _read_request(conn)
                for byte in answer:
                    if self.stop.is_set() or time.monotonic() - started > self.lasts:
                        return
                    readable, _, _ = select.select([conn], [], [], self.interval)
                    if readable and not conn.recv(1024):
                        self._hung_up(started)
                        return
                    conn.sendall(bytes([byte]))
        except OSError:
            self._hung_up(started)
        finally:
            with self.lock:
                self.active -= 1

    def _hung_up(self, started: float) -> None:
        with self.lock:
            self.hung_up.append(time.monotonic() - started)

    def close(self) -> None:
        self.stop.set()
        for thread in list(self.threads):
            thread.join(10)
        self.listener.close()


class _Receiver:
    """An HTTP server on loopback, in a thread: records each POST; ``answer`` writes the
    reply (204 by default)."""

    def __init__(self) -> None:
        outer = self
        self.received: list[tuple[dict[str, str], bytes]] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append((dict(self.headers.items()), body))
                outer.answer(self)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_response(204)
        handler.end_headers()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)


class _Flood(_Receiver):
    """Answers 200 with a body of ``total`` bytes and counts how much of it it could write."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.sent = 0
        self.done = threading.Event()
        super().__init__()

    def answer(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/octet-stream")
        handler.send_header("Content-Length", str(self.total))
        handler.end_headers()
        chunk = b"\0" * 65536
        try:
            while self.sent < self.total:
                handler.wfile.write(chunk)
                self.sent += len(chunk)
            handler.wfile.flush()
        except OSError:
            handler.close_connection = True
        finally:
            self.done.set()


@contextlib.contextmanager
def _platform(database_url: str, tmp_path: Path, **overrides: Any) -> Iterator[Runtime]:
    """A runtime of the installation whose ERPs listen on loopback."""
    overrides.setdefault("webhook_allow_private", True)
    rt = Runtime.from_settings(make_settings(database_url, tmp_path, **overrides))
    try:
        yield rt
    finally:
        rt.close()


def _register(rt: Runtime, who: TenantHandle, url: str) -> str:
    with rt.db.tenant(who.tenant_id) as conn:
        return str(rt.webhooks.create(conn, who.tenant_id, url, ["document.status"])["id"])


def _notify(rt: Runtime, who: TenantHandle) -> None:
    """A status change of one of ``who``'s documents, as every status change notifies."""
    with rt.db.tenant(who.tenant_id) as conn:
        conn.execute(
            text("SELECT entegrator_notify('document.status', CAST(:p AS jsonb))"),
            {"p": '{"event": "document.status", "document": {}}'},
        )


def _wait(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _wake_again(rt: Runtime, who: TenantHandle) -> None:
    """Another delivery job for ``who`` (as the next status change would queue while the
    first job is busy), once the waiting one has been taken."""

    def taken() -> bool:
        with rt.db.system() as conn:
            return not conn.execute(
                text(
                    "SELECT count(*) FROM procrastinate_jobs WHERE status = 'todo' "
                    "AND queueing_lock = :l"
                ),
                {"l": f"webhooks:{who.tenant_id}"},
            ).scalar_one()

    _wait(taken, 3)
    with rt.db.tenant(who.tenant_id) as conn:
        wake_webhooks(conn, who.tenant_id)


@contextlib.contextmanager
def _worker(rt: Runtime) -> Iterator[None]:
    """A worker with the default concurrency, in a thread, until the block ends."""
    from entegrator.workflow.jobs import run_worker

    stop = threading.Event()

    async def run() -> None:
        worker = asyncio.create_task(run_worker(rt, install_signal_handlers=False))
        while not stop.is_set() and not worker.done():
            await asyncio.sleep(0.05)
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker

    thread = threading.Thread(target=asyncio.run, args=(run(),), daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(60)


def _deliveries(rt: Runtime, who: TenantHandle) -> list[Any]:
    with rt.db.tenant(who.tenant_id) as conn:
        return list(
            conn.execute(
                text(
                    "SELECT status, attempts, last_status, last_error, "
                    "next_attempt_at > now() AS later FROM webhook_deliveries"
                )
            ).all()
        )


@pytest.mark.parametrize(
    "per_tenant",
    [
        2,  # the default: the tenant holds half the webhook slots, a neighbour gets the rest
        4,  # every webhook slot held: only their own queue keeps signing going
    ],
)
def test_dripping_endpoints_leave_other_tenants_signing_and_webhooks_alone(
    per_tenant: int,
    make_tenant: Callable[..., TenantHandle],
    database_url: str,
    tmp_path: Path,
) -> None:
    attacker, victim, neighbour = make_tenant(seal=False), make_tenant(), make_tenant()
    drip, erp = _Dripper(interval=1.0, lasts=60.0), _Receiver()
    try:
        with (
            _platform(
                database_url,
                tmp_path,
                webhook_timeout_seconds=30,
                webhook_tenant_concurrency=per_tenant,
            ) as rt,
            _worker(rt),
        ):
            for n in range(5):
                _register(rt, attacker, f"{drip.url}/{n}")
            _register(rt, neighbour, erp.url)
            _notify(rt, attacker)  # five deliveries, each hanging
            for _ in range(4):
                _wake_again(rt, attacker)
            assert _wait(lambda: drip.active >= per_tenant, 10), drip.active
            with victim.client() as c:
                doc = victim.issue(c)
                _notify(rt, neighbour)

                def signed() -> bool:
                    return bool(c.get(f"/api/v1/invoices/{doc['id']}").json()["status"] == "queued")

                assert _wait(signed, 15), "the other tenant's invoice waited for the webhooks"
            if per_tenant < rt.settings.webhook_concurrency:
                assert _wait(lambda: len(erp.received) == 1, 15), "a neighbour's webhook waited"
            assert drip.active == per_tenant, "the dripping deliveries ended; nothing was proved"
            assert drip.hung_up == []
            assert drip.peak == per_tenant  # one tenant: at most its share of the webhook slots
            drip.close()  # the hanging deliveries end, and so can the worker
    finally:
        drip.close()
        erp.close()


def test_a_dripping_delivery_ends_at_the_deadline_as_an_attempt_to_retry(
    make_tenant: Callable[..., TenantHandle], database_url: str, tmp_path: Path
) -> None:
    attacker = make_tenant(seal=False)
    drip = _Dripper(interval=1.0, lasts=20.0)
    try:
        with _platform(
            database_url, tmp_path, webhook_timeout_seconds=2, webhook_tenant_concurrency=5
        ) as rt:
            for n in range(5):
                _register(rt, attacker, f"{drip.url}/{n}")
            _notify(rt, attacker)
            with concurrent.futures.ThreadPoolExecutor(5) as pool:
                delivered = list(
                    pool.map(lambda _: rt.webhooks.deliver_pending(attacker.tenant_id), range(5))
                )
            rows = _deliveries(rt, attacker)
        assert _wait(lambda: len(drip.hung_up) == 5, 5), drip.hung_up
    finally:
        drip.close()
    assert delivered == [0] * 5
    # Each ended at the 2 s deadline (a loaded machine may be late, never 10 s late).
    assert all(1.5 <= seconds <= 10 for seconds in drip.hung_up), drip.hung_up
    assert len(rows) == 5
    for row in rows:
        assert (row.status, row.attempts, row.last_status, row.later) == ("pending", 1, None, True)
        assert "deadline" in row.last_error, row.last_error


def test_a_huge_answer_is_read_no_further_than_the_cap(
    make_tenant: Callable[..., TenantHandle], database_url: str, tmp_path: Path
) -> None:
    who = make_tenant(seal=False)
    flood = _Flood(total=256 * MIB)
    try:
        with _platform(database_url, tmp_path) as rt:
            _register(rt, who, flood.url)
            _notify(rt, who)
            assert rt.webhooks.deliver_pending(who.tenant_id) == 1
            rows = _deliveries(rt, who)
        assert flood.done.wait(10)
    finally:
        flood.close()
    assert [(r.status, r.last_status) for r in rows] == [("delivered", 200)]
    # What the server got out before the connection closed is socket buffers, not the body.
    assert flood.sent < 32 * MIB, flood.sent


def test_an_empty_event_list_is_refused(tenant: TenantHandle) -> None:
    with tenant.client() as c:
        refused = c.post("/api/v1/webhooks", json={"url": "http://127.0.0.1:9/h", "events": []})
        assert refused.status_code == 422
        error = refused.json()["error"]
        assert (error["code"], error["where"]) == ("WEBHOOK_INVALID", "events")
        assert error["message_tr"] and error["message_en"]
        assert c.get("/api/v1/webhooks").json()["items"] == []


INSIDE = [
    "127.0.0.1",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "100.64.0.1",  # shared address space (carrier NAT)
    "169.254.169.254",  # link-local: the cloud's metadata service
    "0.0.0.0",
    "224.0.0.1",  # multicast
    "239.255.255.250",
    "240.0.0.1",  # reserved
    "255.255.255.255",
    "::1",
    "::",
    "fe80::1",
    "fd00::1",
    "fec0::1",  # site-local (deprecated)
    "ff02::1",
    "ff0e::1",  # global-scope multicast
    "2001:db8::1",
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "64:ff9b:1::a00:1",  # local-use NAT64
    "2002:7f00:1::",  # 6to4 of 127.0.0.1
    "2002:c0a8:101::1",  # 6to4 of 192.168.1.1
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:a9fe:a9fe",
    "::127.0.0.1",  # IPv4-compatible
    "::10.0.0.1",
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
    "2001:0:a00:1:8000:63bf:f7f7:f7f7",  # Teredo, server 10.0.0.1, client 8.8.8.8
]
OUTSIDE = [
    "8.8.8.8",
    "2001:4860:4860::8888",
    "64:ff9b::808:808",  # NAT64 of 8.8.8.8
    "2002:808:808::1",  # 6to4 of 8.8.8.8
    "::ffff:8.8.8.8",
]


def _literal(address: str) -> str:
    return f"[{address}]" if ":" in address else address


@pytest.mark.parametrize("address", INSIDE)
def test_an_address_inside_is_refused_in_every_form(address: str, runtime: Runtime) -> None:
    with pytest.raises(WebhookError) as refused:
        runtime.webhooks.check_url(f"https://{_literal(address)}/hooks")
    assert refused.value.where == "url"


@pytest.mark.parametrize("address", OUTSIDE)
def test_a_public_address_is_allowed_in_every_form(address: str, runtime: Runtime) -> None:
    runtime.webhooks.check_url(f"https://{_literal(address)}/hooks")


class _Network:
    """DNS and routing as a test sees them: ``erp.example`` resolves to the public address
    ``PUBLIC`` the first time and to a loopback service after that (DNS rebinding), and a
    connection to ``PUBLIC`` reaches the ERP's server on loopback. Every other name and
    address goes to the real resolver and the real network (loopback only in these tests)."""

    PUBLIC = "8.8.8.8"

    def __init__(self, erp_port: int, inside_port: int) -> None:
        self.resolve, self.connect = socket.getaddrinfo, socket.create_connection
        self.erp_port, self.inside_port = erp_port, inside_port
        self.calls = 0

    def getaddrinfo(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "erp.example":
            return self.resolve(host, port, *args, **kwargs)
        self.calls += 1
        if self.calls == 1:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (self.PUBLIC, int(port or 0)))]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", self.inside_port))]

    def create_connection(self, address: tuple[str, int], *args: Any, **kwargs: Any) -> Any:
        if address[0] == self.PUBLIC:
            address = ("127.0.0.1", self.erp_port)
        return self.connect(address, *args, **kwargs)


def test_the_connection_goes_to_the_address_that_was_checked(
    make_tenant: Callable[..., TenantHandle],
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    who = make_tenant(seal=False)
    erp, inside = _Receiver(), _Receiver()
    net = _Network(erp.port, inside.port)
    monkeypatch.setattr(socket, "getaddrinfo", net.getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", net.create_connection)
    try:
        with _platform(database_url, tmp_path, webhook_allow_private=False) as rt:
            _register(rt, who, f"http://erp.example:{erp.port}/hooks")
            _notify(rt, who)
            net.calls = 0  # the delivery's own resolution comes first
            assert rt.webhooks.deliver_pending(who.tenant_id) == 1
    finally:
        erp.close()
        inside.close()
    assert inside.received == []
    assert len(erp.received) == 1
    assert erp.received[0][0]["Host"] == f"erp.example:{erp.port}"
    assert net.calls == 1


def test_deliveries_go_through_the_transport_and_clock_they_are_given(
    tenant: TenantHandle, runtime: Runtime
) -> None:
    """The service's seams: the network (a transport) and the time (a clock) come from outside;
    the notification is signed with that time over the exact bytes posted."""
    import datetime as dt
    import uuid as uuid_

    from entegrator.services import _webhook_http as web
    from entegrator.services.webhooks import WebhookService, signature
    from entegrator.store import documents
    from entegrator.store.ids import created_at

    posted: list[tuple[web.Target, bytes, dict[str, str]]] = []

    class Recording:
        def resolve(self, target: web.Target) -> list[str]:
            return ["192.0.2.10"]  # never connected to: the transport records instead

        def post(self, target: web.Target, addresses: Any, **kw: Any) -> int:
            posted.append((target, kw["content"], kw["headers"]))
            return 204

    fixed = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)
    service = WebhookService(
        runtime.db,
        runtime.settings.key_bytes(),
        allow_private=True,
        clock=lambda: fixed,
        transport=Recording(),
    )
    with tenant.client() as c:
        doc_id = uuid_.UUID(tenant.issue(c)["id"])
    with runtime.db.tenant(tenant.tenant_id) as conn:
        created = service.create(conn, tenant.tenant_id, "https://erp.example/hook", None)
        documents.notify(conn, tenant.tenant_id, doc_id, created_at(doc_id), "document.status")
    assert service.deliver_pending(tenant.tenant_id) == 1
    [(target, body, headers)] = posted
    assert target.host == "erp.example"
    expected = signature(created["secret"], int(fixed.timestamp()), body)
    assert headers["Entegrator-Signature"] == expected
    # The client library's helper accepts it, and refuses it for another body or secret.
    now = fixed.timestamp()
    assert verify_webhook(created["secret"], expected, body, now=now)
    assert not verify_webhook(created["secret"], expected, body + b" ", now=now)
    assert not verify_webhook("another secret", expected, body, now=now)


def test_an_endpoint_may_subscribe_to_deliveries_to_the_buyer(
    make_tenant: Callable[..., TenantHandle], database_url: str, tmp_path: Path
) -> None:
    who = make_tenant(seal=False)
    with _platform(database_url, tmp_path) as rt, rt.db.tenant(who.tenant_id) as conn:
        chosen = rt.webhooks.create(
            conn, who.tenant_id, "http://127.0.0.1:9/h", ["document.delivered"]
        )
        everything = rt.webhooks.create(conn, who.tenant_id, "http://127.0.0.1:9/all", None)
    assert chosen["events"] == ["document.delivered"]
    assert "document.delivered" in everything["events"]
