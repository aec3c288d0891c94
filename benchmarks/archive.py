"""Archive transfer at scale: one installation's export of a tenant filed at another.

Reproduce with ``uv run python benchmarks/archive.py`` (``--invoices 5000``). It creates two
fresh databases on ``ENTEGRATOR_DATABASE_URL`` (or the embedded server), seeds the old one with
a tenant's invoices (both directions, final statuses, UBL-TR XML from the sample generator with
each document's own number and ETTN, two events each), exports them (no PDFs), and times, in
this process:

* **import**: ``entegrator archive import``'s service into the new database (verification
  included), with the process's peak resident memory (``VmHWM``) above what it held before;
* **again**: the same zip imported a second time (everything skipped as already there).
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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from entegrator.config import Settings
from entegrator.documents import build_invoice
from entegrator.documents.samples import generate
from entegrator.runtime import Runtime
from entegrator.store import repo
from entegrator.store.db import embedded_url, libpq_url
from entegrator.store.events import EVENTS_INSERT, chain, event_columns
from entegrator.store.ids import created_at, uuid7

VKN = "8799758740"


def _rss_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _reset_peak() -> None:
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


@contextlib.contextmanager
def _database(admin: str, data_dir: Path) -> Iterator[Runtime]:
    name = f"entegrator_bench_{secrets.token_hex(3)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    rt = Runtime.from_settings(
        Settings(
            database_url=url, data_dir=data_dir, secret_key=base64.b64encode(b"b" * 32).decode()
        )
    )
    try:
        rt.db.upgrade()
        yield rt
    finally:
        rt.close()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def seed(rt: Runtime, count: int) -> uuid.UUID:
    rng = random.Random(1)  # noqa: S311 - benchmark data
    drafts = [d for d in generate(200, seed=2) if len(d.lines) <= 10]
    with rt.db.system() as conn:
        tenant = repo.create_tenant(conn, vkn=VKN, name="Bench")
    for first in range(0, count, 500):
        rows, events = [], []
        for i in range(first, min(first + 500, count)):
            ettn = str(uuid.uuid4()).upper()
            number = f"ABC2026{i + 1:09d}"
            draft = rng.choice(drafts).model_copy(update={"number": number, "ettn": ettn})
            xml = build_invoice(draft)
            ident = uuid7()
            direction = rng.choice(["out", "in"])
            status = "accepted" if direction == "out" else "received"
            new = chain(
                ident, after_seq=0, after_hash=bytes(32),
                events=[("received", status, {}), ("noted", status, {"n": i})], actor="bench",
            )  # fmt: skip
            rows.append(
                {
                    "t": tenant, "d": ident, "c": created_at(ident), "direction": direction,
                    "number": number, "ettn": ettn, "day": draft.issue_date,
                    "x": hashlib.sha256(xml).digest(), "xml": xml, "h": new[-1].hash,
                    "status": status, "s": VKN if direction == "out" else f"{i:010d}",
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
                    "number, ettn, issue_date, sender_id, status, xml_sha256, signed_sha256, "
                    "event_count, head_hash, updated_at) VALUES (:t, :d, :c, :direction, "
                    "'invoice', :number, :ettn, :day, :s, :status, :x, :x, 2, :h, :c)"
                ),
                rows,
            )
            for ident, new in events:
                conn.execute(
                    text(EVENTS_INSERT),
                    {"t": tenant, "d": ident, "at": new[0].at, "actor": "bench"}
                    | event_columns(new),
                )
    return tenant


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=5_000)
    args = parser.parse_args()
    base_url = os.environ.get("ENTEGRATOR_DATABASE_URL") or embedded_url(
        Path(tempfile.mkdtemp()) / "pg"
    )
    admin = libpq_url(base_url)
    data_dir = Path(tempfile.mkdtemp())
    result: dict[str, Any] = {"invoices": args.invoices}
    with _database(admin, data_dir) as old, _database(admin, data_dir) as new:
        tenant = seed(old, args.invoices)
        out = data_dir / "archive.zip"
        summary = old.exports.export(
            tenant, dt.date(2000, 1, 1), dt.date(2099, 12, 31), out, max_days=None
        )
        assert summary.documents == args.invoices
        result["zip_mb"] = round(out.stat().st_size / 2**20, 1)
        with new.db.system() as conn:
            target = repo.create_tenant(conn, vkn=VKN, name="Bench")
        _reset_peak()
        before = _rss_kb("VmHWM")
        started = time.perf_counter()
        done = new.archive.import_archive(target, out, manifest_sha256=summary.manifest_sha256)
        seconds = time.perf_counter() - started
        assert done.imported == args.invoices, done.skipped[:3]
        result["import_seconds"] = round(seconds, 1)
        result["import_documents_per_second"] = round(args.invoices / seconds)
        result["import_rss_above_start_mb"] = round((_rss_kb("VmHWM") - before) / 1024, 1)
        started = time.perf_counter()
        again = new.archive.import_archive(target, out)
        result["again_seconds"] = round(time.perf_counter() - started, 1)
        assert again.imported == 0 and len(again.skipped) == args.invoices
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
