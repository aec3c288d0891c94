"""The portal's list pages with 100,000 documents in one tenant: server time per page.

Reproduce with ``uv run python benchmarks/portal.py`` (``--documents 100000``). It creates a
fresh database on ``ENTEGRATOR_DATABASE_URL`` (or the embedded server), a tenant with a
development seal and a portal user, issues a few real invoices through ``InvoiceService`` and
copies their rows (the searchable ``documents`` rows only; new ids, ETTNs and numbers, spread
over the last 12 months, 70 % outgoing, statuses mixed) until the tenant has ``--documents``.
Then it serves the API and the portal (uvicorn, one process, as ``entegrator serve``), logs in
over HTTP, and requests each page ``--rounds`` times, timing each request on loopback (which
bounds the server's time from above). The budget is 300 ms per list page.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import os
import random
import re
import secrets
import statistics
import tempfile
import threading
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg.types.json import Jsonb
from sqlalchemy.engine import make_url

from entegrator.config import Settings
from entegrator.documents import InvoiceDraft
from entegrator.documents.identifiers import vkn as vkn_ids
from entegrator.runtime import Runtime
from entegrator.services.seals import install_test_seal
from entegrator.signing import TestCA
from entegrator.store import repo
from entegrator.store.db import embedded_url, libpq_url
from entegrator.store.ids import uuid7

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "api" / "invoice.json"
BUDGET_MS = 300.0
PASSWORD = "bench-parola-123"  # noqa: S105 - a throw-away database's user
STATUSES_OUT = ["accepted", "delivered", "reported", "queued", "rejected", "cancelled", "sent"]
STATUSES_IN = ["received", "accepted", "rejected"]


def _settings(url: str, data_dir: Path) -> Settings:
    return Settings(
        database_url=url,
        data_dir=data_dir,
        secret_key=base64.b64encode(b"p" * 32).decode(),
        test_ca=data_dir / "test-ca.crt",
        access_log=False,
    )


def seed(runtime: Runtime, count: int) -> tuple[uuid.UUID, str]:
    """A tenant with ``count`` documents and an admin user; the tenant and the user's e-mail."""
    first = str(secrets.randbelow(900_000_000) + 100_000_000)
    vkn = first + vkn_ids.calc_check_digit(first)
    with runtime.db.system() as conn:
        tenant_id = repo.create_tenant(conn, vkn=vkn, name="Bench A.Ş.")
        _, key = repo.create_api_key(conn, tenant_id, role="api", name="bench")
        install_test_seal(
            conn, tenant_id, vkn, "Bench A.Ş.", runtime.settings.key_bytes(), runtime.test_ca
        )
    data: dict[str, Any] = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["supplier"]["vkn"] = vkn
    for _ in range(5):
        runtime.invoices.issue(key, draft=InvoiceDraft.model_validate(data))
    email = "bench@example.com.tr"
    runtime.accounts.create_user(tenant_id, email=email, role="admin", password=PASSWORD)

    rng = random.Random(17)  # noqa: S311 - repeatable test data, not a secret
    now = dt.datetime.now(dt.UTC)
    with psycopg.connect(libpq_url(runtime.database_url)) as conn:
        cur = conn.execute("SELECT * FROM documents WHERE tenant_id = %s LIMIT 1", (tenant_id,))
        template = list(cur.fetchone() or ())
        columns = [d.name for d in cur.description or ()]
        at = {name: i for i, name in enumerate(columns)}
        with conn.cursor().copy(f"COPY documents ({', '.join(columns)}) FROM STDIN") as copy:
            for n in range(count - 5):
                row = list(template)
                created = now - dt.timedelta(seconds=rng.randrange(365 * 86400))
                ident = uuid7(int(created.timestamp() * 1000))
                outgoing = rng.random() < 0.7
                row[at["document_id"]] = ident
                row[at["created_at"]] = row[at["updated_at"]] = created.replace(
                    microsecond=(created.microsecond // 1000) * 1000
                )
                row[at["ettn"]] = uuid.uuid4()
                row[at["number"]] = f"BEN{created.year}{n:09d}"
                row[at["issue_date"]] = created.date()
                row[at["direction"]] = "out" if outgoing else "in"
                row[at["status"]] = rng.choice(STATUSES_OUT if outgoing else STATUSES_IN)
                row[at["profile"]] = "TICARIFATURA" if rng.random() < 0.5 else "TEMELFATURA"
                factor = rng.randrange(1, 200)
                amount = row[at["payable"]]
                row[at["payable"]] = amount * factor if amount else amount
                kdv = template[at["kdv"]] or {}
                row[at["kdv"]] = Jsonb(
                    {
                        k: [str(Decimal(a) * factor), str(Decimal(b) * factor)]
                        for k, (a, b) in kdv.items()
                    }
                )
                copy.write_row(row)
        conn.execute("ANALYZE documents")
        conn.commit()
    return tenant_id, email


def dashboard_queries(runtime: Runtime, tenant_id: uuid.UUID) -> dict[str, float]:
    """Each of the dashboard's queries alone (ms, the best of 3)."""
    from entegrator.store import dashboard, earsiv

    now = dt.datetime.now(dt.UTC)
    first = now.date().replace(day=1)
    after = (first + dt.timedelta(days=32)).replace(day=1)
    year = (first - dt.timedelta(days=335)).replace(day=1)
    calls: dict[str, Any] = {
        "month_totals": lambda c: dashboard.month_totals(c, tenant_id, first, after),
        "kdv_by_rate": lambda c: dashboard.kdv_by_rate(c, tenant_id, first, after),
        "documents_by_status": lambda c: dashboard.documents_by_status(c, tenant_id, first, after),
        "monthly_series": lambda c: dashboard.monthly_series(c, tenant_id, year, after),
        "to_answer": lambda c: dashboard.to_answer(c, tenant_id, now - dt.timedelta(days=8)),
        "troubled": lambda c: dashboard.troubled(c, tenant_id, now - dt.timedelta(days=30)),
        "earsiv_overdue": lambda c: earsiv.overdue_invoices(c, before=now.date()),
    }
    out = {}
    for name, call in calls.items():
        best = float("inf")
        for _ in range(3):
            with runtime.db.tenant(tenant_id) as conn:
                started = time.perf_counter()
                call(conn)
                best = min(best, (time.perf_counter() - started) * 1000)
        out[name] = round(best, 1)
    return out


def serve(runtime: Runtime) -> tuple[str, Any]:
    import uvicorn

    from entegrator.api.app import create_app
    from entegrator.web.app import mount_portal

    app = create_app(runtime)
    mount_portal(app, runtime)
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server


def measure(client: httpx.Client, path: str, rounds: int) -> dict[str, Any]:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        answer = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
    times.sort()
    return {
        "page": path if len(path) < 60 else path[:57] + "...",
        "median_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)], 1),
        "max_ms": round(times[-1], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=20)
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
    ca = TestCA.create("entegrator Bench SM", now=dt.datetime.now(dt.UTC))
    cert_pem, key_pem = ca.to_pem()
    (data_dir / "test-ca.key").write_bytes(key_pem)
    (data_dir / "test-ca.crt").write_bytes(cert_pem)
    runtime = Runtime.from_settings(_settings(url, data_dir))
    try:
        runtime.db.upgrade()
        started = time.perf_counter()
        _tenant, email = seed(runtime, args.documents)
        print(f"seeded {args.documents} documents in {time.perf_counter() - started:.1f} s")
        print(json.dumps(dashboard_queries(runtime, _tenant), indent=1))
        base, server = serve(runtime)
        with httpx.Client(base_url=base, timeout=60) as client:
            form = client.get("/giris").text
            token = re.search(r'name="csrf_token" value="([^"]+)"', form)
            assert token is not None
            logged = client.post(
                "/giris",
                data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)},
            )
            assert logged.status_code == 303
            first = client.get("/faturalar/giden").text
            more = re.search(r'hx-get="\?([^"]+)"', first)
            assert more is not None
            next_page = "/faturalar/giden?" + more.group(1).replace("&amp;", "&")
            pages = [
                "/faturalar/giden",
                "/faturalar/gelen",
                next_page,
                "/faturalar/giden?status=rejected",
                "/faturalar/giden?sort=payable_desc",
                "/faturalar/giden?sort=issue_date_asc",
                "/faturalar/gelen?profile=TICARIFATURA&status=received",
                "/faturalar/giden?min_total=100000",
                "/faturalar/giden?number=BEN2026000000123",
                "/panel",
                "/cariler",
                "/cariler?q=Işık",
                "/raporlar",
                "/faturalar/yeni",
            ]
            results = [measure(client, page, args.rounds) for page in pages]
        server.should_exit = True
        print(f"| page | median ms | p95 ms | max ms | (budget {BUDGET_MS:.0f} ms) |")
        print("|---|---:|---:|---:|---|")
        for r in results:
            flag = "" if r["p95_ms"] <= BUDGET_MS else "over"
            print(f"| `{r['page']}` | {r['median_ms']} | {r['p95_ms']} | {r['max_ms']} | {flag} |")
    finally:
        runtime.close()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
