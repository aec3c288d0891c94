"""The whole outgoing pipeline under load: HTTP request → validated, numbered, signed, stored.

Reproduce with ``uv run python benchmarks/pipeline.py`` (``--count 2000 --clients 32``). It
creates a fresh database on ``ENTEGRATOR_DATABASE_URL`` (or the embedded server), a tenant with
a development seal, starts the platform as a user runs it (``entegrator serve`` and
``entegrator worker`` as separate processes, real HTTP on loopback), then posts 10-line
invoice drafts from concurrent clients and waits until every one is signed and stored.

Figures:
* accepted/s: 201 answers per second (validated, numbered, stored, signing queued).
* end-to-end/s: documents per second from the first request to the last signed, stored one.
* p50 / p99: API latency of the POST under that load.
* in-process: the same steps (build → validate → sign) in one Python thread with no HTTP and
  no database: the cost of the work itself, to read the platform's overhead against.
* CPU ms per document: the processes' own counters (``/proc``) over the measured load, for
  the API processes, the workers and the PostgreSQL backends serving the benchmark's
  database. Unlike the rates, these barely move when other work shares the machine, so they
  are the figures to compare two trees by.

The load generator runs on the same 2 cores as the platform and PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import functools
import json
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psycopg
from _corpus import drafts
from sqlalchemy.engine import make_url

from entegrator.documents import build_invoice
from entegrator.documents.identifiers import vkn as vkn_ids
from entegrator.rules import ValidationSettings, Validator
from entegrator.signing import TestCA, sign_tree
from entegrator.store import Database
from entegrator.store.db import embedded_url, libpq_url

ROOT = Path(__file__).resolve().parents[1]


def _cpu_seconds(match: Callable[[int, str], bool]) -> float:
    """User + system CPU seconds of the live processes ``match(pid, cmdline)`` selects."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            if not match(int(entry.name), cmdline):
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def _descendants(pids: set[int]) -> set[int]:
    """``pids`` and every process below them."""
    found = set(pids)
    changed = True
    while changed:
        changed = False
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) in found:
                continue
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if parent in found:
                found.add(int(entry.name))
                changed = True
    return found


def _draft(vkn: str) -> dict[str, Any]:
    d = next(x for x in drafts(10, 40) if x.profile == "TEMELFATURA" and x.type == "SATIS")
    data: dict[str, Any] = json.loads(d.model_dump_json(exclude_none=True))
    data.pop("number", None)
    data.pop("ettn", None)
    data["supplier"]["vkn"] = vkn
    data["supplier"].pop("tckn", None)
    return data


def in_process_rate(data: dict[str, Any], seconds: float = 5.0) -> float:
    """build → validate → sign in one thread: documents per second."""
    from entegrator.documents.model import InvoiceDraft

    draft = InvoiceDraft.model_validate(
        data | {"number": "EFA2026000000001", "ettn": "0D3E8AE2-8D75-4C8B-9D5B-A8C1E8F6A001"}
    )
    validator = Validator(
        settings=ValidationSettings(clock=functools.partial(dt.datetime.now, dt.UTC))
    )
    validator.warm_up(("invoice",))
    now = dt.datetime.now(dt.UTC)
    seal = TestCA.create(now=now).issue(identity=data["supplier"]["vkn"], name="Bench", now=now)
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        xml = build_invoice(draft)
        report, root = validator.validate_parsed(xml)
        assert report.valid and root is not None, report.findings
        sign_tree(root, seal, signing_time=now)
        n += 1
    return n / (time.perf_counter() - start)


_LUA = """
local f = io.open("{body}", "rb"); local body = f:read("*a"); f:close()
wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {token}"
"""


def _ms(text: str) -> float:
    value = float(re.sub(r"[a-z]+$", "", text))
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0}[re.sub(r"^[0-9.]+", "", text)]


def wrk_load(  # noqa: PLR0917 - one call site
    base: str, token: str, body: bytes, seconds: int, clients: int, folder: Path
) -> tuple[int, float, float, float]:
    """POSTs from ``wrk`` (C, cheap on the CPU the platform also needs): count, s, p50, p99."""
    (folder / "body.json").write_bytes(body)
    script = folder / "post.lua"
    script.write_text(_LUA.format(body=folder / "body.json", token=token))
    start = time.perf_counter()
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{clients}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(script),
            f"{base}/api/v1/invoices",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    elapsed = time.perf_counter() - start
    if "Non-2xx" in out:
        raise RuntimeError(out)
    count = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    return count, elapsed, p50, p99


async def load(
    base: str, token: str, body: bytes, count: int, clients: int
) -> tuple[list[float], float, float]:
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def client(c: httpx.AsyncClient) -> None:
        while True:
            try:
                queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            t = time.perf_counter()
            r = await c.post("/api/v1/invoices", content=body, headers=headers)
            latencies.append(time.perf_counter() - t)
            if r.status_code != 201:
                raise RuntimeError(f"{r.status_code}: {r.text[:500]}")

    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=120) as c:
        start = time.perf_counter()
        await asyncio.gather(*(client(c) for _ in range(clients)))
        accepted = time.perf_counter() - start
    return latencies, start, accepted


def _prepaid(env: dict[str, str], data_dir: Path, vkn: str) -> None:
    """Put the tenant on a prepaid plan with more credits than the run can spend."""
    for command in (
        ["plan", "create", "--name", "bench-prepaid", "--prepaid"],
        ["plan", "assign", "--tenant", vkn, "--plan", "bench-prepaid", "--from", "2000-01-01"],
        ["credits", "add", "--tenant", vkn, "--credits", "10000000"],
    ):
        subprocess.run(
            [sys.executable, "-m", "entegrator", *command],
            env=env,
            capture_output=True,
            check=True,
            cwd=data_dir,
        )


def main() -> None:  # noqa: PLR0915 - one scripted run
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=2000, help="requests (httpx client)")
    parser.add_argument("--seconds", type=int, default=20, help="duration (wrk client)")
    parser.add_argument("--client", choices=("auto", "wrk", "httpx"), default="auto")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--api", type=int, default=1, help="API processes (serve --workers)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes")
    parser.add_argument("--concurrency", type=int, default=2, help="jobs per worker")
    parser.add_argument(
        "--no-in-process", action="store_true", help="skip the one-thread in-process rate"
    )
    parser.add_argument(
        "--metering",
        choices=("on", "off", "prepaid"),
        default="on",
        help="usage metering: on (the default: a usage record per invoice), off "
        "(ENTEGRATOR_METERING=off), prepaid (a prepaid plan: a credit spent per invoice under "
        "the tenant's account lock)",
    )
    args = parser.parse_args()

    base_url = os.environ.get("ENTEGRATOR_DATABASE_URL") or embedded_url(
        Path(tempfile.mkdtemp()) / "pg"
    )
    admin = libpq_url(base_url)
    name = f"entegrator_bench_{secrets.token_hex(3)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    data_dir = Path(tempfile.mkdtemp())
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENTEGRATOR_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env |= {
        "ENTEGRATOR_DATABASE_URL": url,
        "ENTEGRATOR_DATA_DIR": str(data_dir),
        "ENTEGRATOR_SECRET_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "ENTEGRATOR_METERING": "off" if args.metering == "off" else "on",
    }
    procs: list[subprocess.Popen[bytes]] = []
    try:
        first = str(secrets.randbelow(900_000_000) + 100_000_000)
        vkn = first + vkn_ids.calc_check_digit(first)
        made = subprocess.run(
            [
                sys.executable,
                "-m",
                "entegrator",
                "tenant",
                "create",
                "--vkn",
                vkn,
                "--name",
                "Bench A.Ş.",
                "--test-seal",
                "--json",
            ],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            cwd=data_dir,
        )
        token = json.loads(made.stdout)["api_key"]
        if args.metering == "prepaid":
            _prepaid(env, data_dir, vkn)
        port = 18_000 + secrets.randbelow(2000)
        log = (data_dir / "platform.log").open("wb")
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "entegrator",
                    "serve",
                    "--port",
                    str(port),
                    "--workers",
                    str(args.api),
                ],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=data_dir,
            )
        )
        for _ in range(args.workers):
            procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "entegrator",
                        "worker",
                        "--concurrency",
                        str(args.concurrency),
                    ],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=data_dir,
                )
            )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                raise SystemExit((data_dir / "platform.log").read_text())
            time.sleep(0.2)

        data = _draft(vkn)
        body = json.dumps(data).encode()
        db = Database(url)

        def signed() -> int:
            with db.system() as conn:
                from sqlalchemy import text

                return int(
                    conn.execute(
                        text("SELECT count(*) FROM documents WHERE status = 'queued'")
                    ).scalar_one()
                )

        asyncio.run(load(base, token, body, 50, 8))  # warm-up
        while signed() < 50:
            time.sleep(0.05)

        api_pids = _descendants({procs[0].pid})
        worker_pids = _descendants({p.pid for p in procs[1:]})

        def cpu() -> tuple[float, float, float]:
            return (
                _cpu_seconds(lambda pid, _: pid in api_pids),
                _cpu_seconds(lambda pid, _: pid in worker_pids),
                _cpu_seconds(lambda _, cmd: cmd.startswith("postgres: ") and f" {name} " in cmd),
            )

        cpu_before = cpu()
        use_wrk = args.client == "wrk" or (args.client == "auto" and shutil.which("wrk"))
        start = time.perf_counter()
        if use_wrk:
            count, accepted, p50, p99 = wrk_load(
                base, token, body, args.seconds, args.clients, data_dir
            )
            client = "wrk"
        else:
            latencies, start, accepted = asyncio.run(
                load(base, token, body, args.count, args.clients)
            )
            count, client = args.count, "httpx"
            latencies.sort()
            p50 = statistics.median(latencies) * 1000
            p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
        while signed() < count + 50:
            time.sleep(0.01)
        end_to_end = time.perf_counter() - start
        cpu_ms = [(b - a) * 1000 / count for a, b in zip(cpu_before, cpu(), strict=True)]
        db.dispose()
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    floor = float("nan") if args.no_in_process else in_process_rate(data)
    print(
        f"{count} 10-line invoices, {args.clients} clients ({client}), {args.api} API process(es), "
        f"{args.workers} worker process(es) × {args.concurrency} jobs, metering {args.metering}"
    )
    print(f"accepted/s      {count / accepted:8.1f}")
    print(f"end-to-end/s    {count / end_to_end:8.1f}   (signed and stored)")
    print(f"POST p50 / p99  {p50:8.1f} / {p99:.1f} ms")
    print(f"in-process/s    {floor:8.1f}   (build → validate → sign, one thread, no HTTP/DB)")
    api_ms, worker_ms, pg_ms = cpu_ms
    print(
        f"CPU ms/document {api_ms + worker_ms + pg_ms:8.2f}   (API {api_ms:.2f}, worker "
        f"{worker_ms:.2f}, PostgreSQL {pg_ms:.2f})"
    )


if __name__ == "__main__":
    main()
