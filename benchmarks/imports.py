"""Bulk import: 10,000 invoices from one XLSX, read, checked and issued.

Reproduce with ``uv run python benchmarks/imports.py`` (``--invoices 1000 10000``,
``--lines 1``). It creates a fresh database on ``ENTEGRATOR_DATABASE_URL`` (or the embedded
server) and a tenant, writes one XLSX in the import template per size (each invoice of
``--lines`` rows, every document key new), and then, each in a fresh process so that memory
figures start clean:

* **read**: the file read and every row group turned into a draft (``reading.candidates``:
  openpyxl in read-only mode, the cells parsed, the draft model validated); nothing stored;
* **import**: ``ImportService.create`` (the file into the database, as the API does after
  the upload) and ``ImportService.process`` under ``valid-only``, as the worker's job runs it:
  read, build, validate (GİB's XSD and schematron, arithmetic), number and store every
  invoice, one transaction each. Signing is the worker's next job and is not included.

Peak memory is the process's resident set (``VmHWM``, reset before each part through
``/proc/self/clear_refs``) and Python's own heap peak (``tracemalloc``), both above what the
process held when the part began (the runtime and its compiled rules already loaded). Memory
must not grow with the file: compare the sizes.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from entegrator.config import Settings
from entegrator.documents.identifiers import vkn as vkn_ids
from entegrator.runtime import Runtime
from entegrator.services.imports.reading import Supplier, candidates
from entegrator.services.imports.template import COLUMNS
from entegrator.store import repo
from entegrator.store.db import embedded_url, libpq_url
from entegrator.store.keys import ApiKey

ROW: dict[str, str] = {
    "profile": "TEMELFATURA",
    "invoice_type": "SATIS",
    "issue_date": "2026-11-24",
    "currency": "TRY",
    "supplier_tax_office": "Çankaya",
    "supplier_street": "İnönü Cad. 5",
    "supplier_district": "Çankaya",
    "supplier_city": "Ankara",
    "customer_id": "7047649710",
    "customer_name": "Işık Tekstil San. Tic. A.Ş.",
    "customer_tax_office": "Nilüfer",
    "customer_district": "Konak",
    "customer_city": "İzmir",
    "unit_code": "C62",
    "kdv_percent": "20",
}


def _rss_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


@contextmanager
def measured(label: str, out: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Time a part and its peak memory above what the process held when it began."""
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
    start_rss = _rss_kb("VmRSS")
    tracemalloc.start()
    started, cpu = time.perf_counter(), time.process_time()
    row: dict[str, Any] = {"part": label}
    yield row
    row["seconds"] = round(time.perf_counter() - started, 2)
    row["cpu_seconds"] = round(time.process_time() - cpu, 2)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    row["rss_start_mb"] = round(start_rss / 1024, 1)
    row["rss_above_start_mb"] = round((_rss_kb("VmHWM") - start_rss) / 1024, 1)
    row["python_heap_peak_mb"] = round(peak / 2**20, 1)
    out.append(row)


def _settings(url: str, data_dir: Path) -> Settings:
    return Settings(
        database_url=url,
        data_dir=data_dir,
        secret_key=base64.b64encode(b"b" * 32).decode(),
        test_ca=data_dir / "test-ca.crt",
    )


def write_file(path: Path, prefix: str, invoices: int, lines: int) -> None:
    """An XLSX in the template: ``invoices`` documents of ``lines`` rows, streamed out."""
    from openpyxl import Workbook

    header = [c.name for c in COLUMNS]
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Faturalar")
    sheet.append(header)
    for n in range(invoices):
        for i in range(lines):
            values = ROW | {
                "document_key": f"{prefix}-{n:06d}",
                "line_name": f"Ürün {n % 500}-{i}",
                "quantity": str(1 + (n + i) % 7),
                "unit_price": f"{100 + n % 900},{n % 100:02d}",
                "seller_item_id": f"SKU-{n % 2000}",
            }
            sheet.append([values.get(name) for name in header])
    book.save(path)


def phase(kind: str, url: str, data_dir: Path, tenant: uuid.UUID, path: Path) -> Any:
    runtime = Runtime.from_settings(_settings(url, data_dir))
    runtime.validator  # noqa: B018 - compile the rules outside the figures
    with runtime.db.tenant(tenant) as conn:
        found = runtime.invoices.tenant(conn, tenant)
    rows: list[dict[str, Any]] = []
    if kind == "read":
        with measured("read", rows) as row:
            count = errors = 0
            for candidate in candidates(
                path, "xlsx", Supplier(found.vkn, found.name), runtime.imports.limits
            ):
                count += 1
                errors += bool(candidate.problems)
            row |= {"documents": count, "with_problems": errors}
    else:
        key = ApiKey(tenant, uuid.uuid4(), "api", "bench")
        with measured("import", rows) as row:
            created = runtime.imports.create(
                key, path, file_name=path.name, policy="valid-only", queue=False
            )
            done = runtime.imports.process(tenant, created.import_id)
            row |= {
                "documents": done.documents,
                "issued": done.issued,
                "refused": done.refused,
            }
        row["issued_per_second"] = round(done.issued / max(row["seconds"], 0.001), 1)
    runtime.close()
    return rows[0]


def _child(args: list[str]) -> Any:
    out = subprocess.run(
        [sys.executable, __file__, *args], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, nargs="*", default=[1000, 10_000])
    parser.add_argument("--lines", type=int, default=1)
    parser.add_argument("--phase", choices=("read", "import"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    parser.add_argument("--tenant", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        result = phase(
            args.phase, args.url, Path(args.data_dir), uuid.UUID(args.tenant), Path(args.file)
        )
        print(json.dumps(result))
        return

    base_url = os.environ.get("ENTEGRATOR_DATABASE_URL") or embedded_url(
        Path(tempfile.mkdtemp()) / "pg"
    )
    admin = libpq_url(base_url)
    name = f"entegrator_bench_{secrets.token_hex(3)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    data_dir = Path(tempfile.mkdtemp())
    try:
        runtime = Runtime.from_settings(_settings(url, data_dir))
        runtime.db.upgrade()
        first = str(secrets.randbelow(900_000_000) + 100_000_000)
        vkn = first + vkn_ids.calc_check_digit(first)
        with runtime.db.system() as conn:
            tenant_id = repo.create_tenant(conn, vkn=vkn, name="Bench A.Ş.", default_series="IMP")
        runtime.close()
        results = []
        for invoices in args.invoices:
            path = data_dir / f"import-{invoices}.xlsx"
            started = time.perf_counter()
            write_file(path, f"B{invoices}", invoices, args.lines)
            written = round(time.perf_counter() - started, 1)
            common = ["--url", url, "--data-dir", str(data_dir), "--tenant", str(tenant_id)]
            read = _child(["--phase", "read", *common, "--file", str(path)])
            imported = _child(["--phase", "import", *common, "--file", str(path)])
            results.append(
                {
                    "invoices": invoices,
                    "rows": invoices * args.lines,
                    "file_mb": round(path.stat().st_size / 2**20, 2),
                    "write_seconds": written,
                    "read": read,
                    "import": imported,
                }
            )
            print(json.dumps(results[-1]), flush=True)
        print(json.dumps(results, indent=1))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
