"""ERP feeds at scale: the KDV report, the change feed and an export of one month.

Reproduce with ``uv run python benchmarks/erp.py`` (``--invoices 10000``). It creates a fresh
database on ``ENTEGRATOR_DATABASE_URL`` (or the embedded server) and a tenant, and seeds one
month of invoice rows, both directions, over a few hundred distinct UBL-TR XMLs (built from the
sample generator), each with two events (the feed's trigger writes a change per event). Then it
times, in this process:

* **report, first**: ``GET /reports/kdv``'s service, reading every XML's tax figures and caching
  them; **report, cached**: the same again (figures from the cache);
* **feed**: reading every change from the start in pages of 1,000;
* **export**: ``entegrator export --no-pdf``'s service to a file, and ``export verify`` on it,
  with the process's peak resident memory (``VmHWM``) above what it held before;
* **trigger**: 20,000 events inserted 1,000 per statement, with the feed's trigger and with it
  disabled, alternately (the cost the feed adds to every event written).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime as dt
import hashlib
import json
import os
import random
import secrets
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from entegrator.config import Settings
from entegrator.documents import build_invoice
from entegrator.documents.samples import generate
from entegrator.runtime import Runtime
from entegrator.services.exports import verify_export
from entegrator.store import repo
from entegrator.store.changes import read_changes
from entegrator.store.db import embedded_url, libpq_url
from entegrator.store.events import EVENTS_INSERT, chain, event_columns
from entegrator.store.ids import created_at, uuid7


def _rss_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _reset_peak() -> None:
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def seed(rt: Runtime, count: int) -> tuple[uuid.UUID, float]:
    rng = random.Random(1)  # noqa: S311 - benchmark data
    xmls = [build_invoice(d) for d in generate(400, seed=2) if len(d.lines) <= 10]
    with rt.db.system() as conn:
        tenant = repo.create_tenant(conn, vkn="8799758740", name="Bench")
    started = time.perf_counter()
    for first in range(0, count, 1000):
        rows, events = [], []
        for i in range(first, min(first + 1000, count)):
            xml = rng.choice(xmls)
            ident = uuid7()
            new = chain(
                ident, after_seq=0, after_hash=bytes(32),
                events=[("received", "draft", {}), ("validated", "validated", {})], actor="bench",
            )  # fmt: skip
            direction = rng.choice(["out", "in"])
            rows.append(
                {
                    "t": tenant, "d": ident, "c": created_at(ident), "direction": direction,
                    "number": f"ABC2026{i:09d}", "ettn": uuid.uuid4(),
                    "day": dt.date(2026, 11, 1 + rng.randrange(30)),
                    "x": hashlib.sha256(xml).digest(), "xml": xml, "h": new[-1].hash,
                    "p": f"{rng.randrange(200):010d}",
                }
            )  # fmt: skip
            events.append((ident, new))
        with rt.db.system() as conn:
            conn.execute(
                text(
                    "INSERT INTO blobs (tenant_id, sha256, size, data) VALUES (:t, :x, 0, :xml) "
                    "ON CONFLICT DO NOTHING"
                ),
                rows,
            )
            conn.execute(
                text(
                    "INSERT INTO documents (tenant_id, document_id, created_at, direction, kind, "
                    "number, ettn, issue_date, sender_id, receiver_id, receiver_name, status, "
                    "xml_sha256, signed_sha256, event_count, head_hash, updated_at) VALUES "
                    "(:t, :d, :c, :direction, 'invoice', :number, :ettn, :day, :p, :p, :p, "
                    "'accepted', :x, :x, 2, :h, :c)"
                ),
                rows,
            )
            for ident, new in events:
                conn.execute(
                    text(EVENTS_INSERT),
                    {"t": tenant, "d": ident, "at": new[0].at, "actor": "bench"}
                    | event_columns(new),
                )
    return tenant, time.perf_counter() - started


def feed_rate(rt: Runtime, tenant: uuid.UUID) -> dict[str, int]:
    """Every change from the start, in pages of 1,000."""
    started = time.perf_counter()
    after, seen = 0, 0
    while True:
        with rt.db.tenant(tenant) as conn:
            page = read_changes(conn, tenant, after=after, limit=1000)
        if not page:
            break
        seen += len(page)
        after = page[-1].change_id
    elapsed = time.perf_counter() - started
    return {"feed_changes": seen, "feed_changes_per_second": round(seen / elapsed)}


def trigger_cost(rt: Runtime, tenant: uuid.UUID) -> dict[str, float]:
    """Seconds to insert 20,000 events with and without the change feed's trigger."""
    times: dict[str, list[float]] = {"with_trigger": [], "without_trigger": []}
    for round_ in range(6):
        mode = "with_trigger" if round_ % 2 == 0 else "without_trigger"
        batches = []
        for _ in range(20):
            new = [
                (ident, chain(ident, after_seq=0, after_hash=bytes(32),
                              events=[("note", None, {})], actor="bench"))
                for ident in (uuid.uuid4() for _ in range(1000))
            ]  # fmt: skip
            batches.append(new)
        with rt.db.system() as conn:
            if mode == "without_trigger":
                conn.execute(text("ALTER TABLE events DISABLE TRIGGER events_feed"))
            started = time.perf_counter()
            for batch in batches:
                conn.execute(
                    text(
                        "INSERT INTO events (tenant_id, document_id, seq, at, type, status, "
                        "actor, data, prev_hash, hash) SELECT :t, d, 1, :at, 'note', NULL, "
                        "'bench', '{}', :p, h FROM unnest(CAST(:d AS uuid[]), "
                        "CAST(:h AS bytea[])) AS x(d, h)"
                    ),
                    {
                        "t": tenant,
                        "at": batch[0][1][0].at,
                        "p": bytes(32),
                        "d": [ident for ident, _ in batch],
                        "h": [events[0].hash for _, events in batch],
                    },
                )
            times[mode].append(time.perf_counter() - started)
            if mode == "without_trigger":
                conn.execute(text("ALTER TABLE events ENABLE TRIGGER events_feed"))
    return {f"events_20000_{k}_seconds": round(sorted(v)[1], 2) for k, v in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=10_000)
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
    result: dict[str, Any] = {"invoices": args.invoices}
    rt = Runtime.from_settings(
        Settings(
            database_url=url, data_dir=data_dir, secret_key=base64.b64encode(b"b" * 32).decode()
        )
    )
    try:
        rt.db.upgrade()
        tenant, seconds = seed(rt, args.invoices)
        result["seed_seconds"] = round(seconds, 1)
        for attempt in ("report_first_seconds", "report_cached_seconds"):
            started = time.perf_counter()
            report = rt.reports.kdv(tenant, "2026-11")
            result[attempt] = round(time.perf_counter() - started, 2)
        assert report["sales"]["documents"] + report["purchases"]["documents"] > 0
        result |= feed_rate(rt, tenant)
        out = data_dir / "export.zip"
        _reset_peak()
        before = _rss_kb("VmHWM")
        started = time.perf_counter()
        summary = rt.exports.export(tenant, dt.date(2026, 11, 1), dt.date(2026, 11, 30), out)
        result["export_seconds"] = round(time.perf_counter() - started, 1)
        result["export_rss_above_start_mb"] = round((_rss_kb("VmHWM") - before) / 1024, 1)
        result["export_mb"] = round(out.stat().st_size / 2**20, 1)
        started = time.perf_counter()
        problems = verify_export(out, summary.manifest_sha256)
        result["verify_seconds"] = round(time.perf_counter() - started, 1)
        assert problems == [], problems[:5]
        result |= trigger_cost(rt, tenant)
        print(json.dumps(result, indent=1))
    finally:
        rt.close()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
