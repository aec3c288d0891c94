"""The e-Arşiv report of a busy day: 10,000 invoices of one tenant, prepared and checked.

Reproduce with ``uv run python benchmarks/earsiv.py`` (``--invoices 10000``). It creates a
fresh database on ``ENTEGRATOR_DATABASE_URL`` (or the embedded server), a tenant with a
development seal, and seeds one Istanbul day of signed e-Arşiv invoices through the services
the API and the worker use, in this process (no HTTP): ``InvoiceService.issue`` (validated,
numbered, stored) with its clock on that day, then ``SigningService.sign_pending`` (signed with
the tenant's seal, stored). Then, each in a fresh process so that memory figures start clean:

* **prepare**: ``EarsivReports.prepare`` as the daily run calls it, with the installation's
  settings (``ENTEGRATOR_EARSIV_MAX_ENTRIES``, default 5000, splits the day into parts): the
  unreported invoices read, each entry read from its stored signed XML (with its public view
  address), the report built, signed by the taxpayer's seal, zipped and stored with its items.
  Each part is timed on its own.
* **check**: the simulator's ``sendDocumentFile`` and the ``getBatchStatus`` that checks a
  report: unzip and parse, GİB's ``EArsiv.xsd``, GİB's e-Arşiv schematron (Saxon), the
  preparer's signature, the invoices registered. The same steps are also timed one by one.

Peak memory is the process's resident set (``VmHWM``, reset before each part through
``/proc/self/clear_refs``; lxml and Saxon allocate outside Python's heap) and Python's own
heap peak (``tracemalloc``), both above what the process held when the part began.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from lxml import etree
from sqlalchemy import text
from sqlalchemy.engine import make_url

from entegrator.config import Settings
from entegrator.documents import InvoiceDraft, safe_xml
from entegrator.documents.identifiers import vkn as vkn_ids
from entegrator.gibsim.earsiv import MAX_XML_BYTES, _unzip
from entegrator.gibsim.service import Simulator
from entegrator.runtime import Runtime
from entegrator.services.invoices import InvoiceService
from entegrator.services.seals import install_test_seal
from entegrator.signing import TestCA
from entegrator.signing.verify import verify_tree
from entegrator.store import earsiv, repo
from entegrator.store.db import embedded_url, libpq_url

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "api" / "invoice.json"
PACKAGE = ROOT.parent / "shared" / "gib-packages" / "earsiv-report"
ISTANBUL = dt.timezone(dt.timedelta(hours=3))


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
    row["seconds"] = round(time.perf_counter() - started, 3)
    row["cpu_seconds"] = round(time.process_time() - cpu, 3)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    row["rss_start_mb"] = round(start_rss / 1024, 1)
    row["rss_peak_mb"] = round(_rss_kb("VmHWM") / 1024, 1)
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


def seed(url: str, data_dir: Path, count: int, day: dt.date) -> dict[str, Any]:
    """A tenant with a development seal and ``count`` signed e-Arşiv invoices of ``day``."""
    ca = TestCA.create("entegrator Bench SM", now=dt.datetime.now(dt.UTC))
    cert_pem, key_pem = ca.to_pem()
    (data_dir / "test-ca.key").write_bytes(key_pem)
    (data_dir / "test-ca.crt").write_bytes(cert_pem)
    runtime = Runtime.from_settings(_settings(url, data_dir))
    runtime.db.upgrade()
    first = str(secrets.randbelow(900_000_000) + 100_000_000)
    vkn = first + vkn_ids.calc_check_digit(first)
    with runtime.db.system() as conn:
        tenant_id = repo.create_tenant(conn, vkn=vkn, name="Bench A.Ş.", default_series="EAR")
        _, key = repo.create_api_key(conn, tenant_id, role="api", name="bench")
        install_test_seal(
            conn, tenant_id, vkn, "Bench A.Ş.", runtime.settings.key_bytes(), runtime.test_ca
        )
    data: dict[str, Any] = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["supplier"]["vkn"] = vkn
    data.update(profile="EARSIVFATURA", issue_date=day.isoformat())
    draft = InvoiceDraft.model_validate(data)
    moment = dt.datetime.combine(day, dt.time(12), tzinfo=ISTANBUL)
    service = InvoiceService(runtime.db, runtime.validator, clock=lambda: moment)
    started = time.perf_counter()
    for _ in range(count):
        service.issue(key, draft=draft)
    issued = time.perf_counter() - started
    runtime.signing.sign_pending(tenant_id)
    signed = time.perf_counter() - started - issued
    runtime.close()
    return {
        "tenant": str(tenant_id),
        "vkn": vkn,
        "issue_seconds": round(issued, 1),
        "sign_seconds": round(signed, 1),
    }


def phase_prepare(url: str, data_dir: Path, tenant: uuid.UUID, day: dt.date) -> Any:
    runtime = Runtime.from_settings(_settings(url, data_dir))
    reports = runtime.earsiv
    rows: list[dict[str, Any]] = []
    made: list[str] = []
    while True:
        with measured(f"part {len(made) + 1}", rows) as row:
            # One report (part) per call, as prepare() loops.
            report_id = reports._prepare_one(tenant, day)
        if report_id is None:
            rows.pop()
            break
        made.append(str(report_id))
        with runtime.db.tenant(tenant) as conn:
            found = earsiv.get_report(conn, tenant, report_id)
        assert found is not None
        row["invoices"] = found[0].invoices
        row["xml_mb"] = round(len(found[1]) / 2**20, 2)
    runtime.close()
    return {"reports": made, "parts": rows}


def phase_check(url: str, data_dir: Path, vkn: str, reports: list[str]) -> Any:
    ca_pem = (data_dir / "test-ca.crt").read_bytes()
    from cryptography import x509

    sim = Simulator(url, earsiv_schema=PACKAGE / "EArsiv.xsd")
    sim.trust = (x509.load_pem_x509_certificate(ca_pem),)
    sim.earsiv.trust = sim.trust
    sim.create_schema()
    integrator = f"B{uuid.uuid4().hex[:8]}"
    sim.register_integrator(integrator, "Bench", vkn, None)
    intake = sim.earsiv
    schema = intake.schema
    assert schema is not None
    intake.schematron(b"<x/>")  # compile Saxon's stylesheet once, outside the figures
    zips: dict[str, bytes] = {}
    with sim.engine.connect() as conn:
        for report_no in reports:
            zips[report_no] = bytes(
                conn.execute(
                    text("SELECT zip FROM earsiv_reports WHERE report_id = :r"), {"r": report_no}
                ).scalar_one()
            )
    rows: list[dict[str, Any]] = []
    steps: list[dict[str, Any]] = []
    for n, (report_no, data) in enumerate(zips.items(), 1):
        with measured(f"part {n}", rows) as row:
            intake.receive(integrator, f"{report_no}.zip", data)
            intake.status(report_no)  # 10 → 15
            code, description, _ = intake.status(report_no) or (0, "", None)
        row["gib_status"] = f"{code} {description}"
        timings: dict[str, Any] = {"part": f"part {n}"}
        xml = _step(timings, "unzip", _unzip, data, report_no)
        root = _step(timings, "parse", lambda x: safe_xml.parse(x, max_bytes=MAX_XML_BYTES), xml)
        _step(timings, "xsd", schema.validate, root)
        failed = _step(
            timings,
            "schematron",
            lambda r: intake.schematron(etree.tostring(r, encoding="UTF-8")),
            root,
        )
        findings = _step(timings, "signature", lambda r: verify_tree(r, trust=sim.trust), root)
        timings["schematron_ok"] = failed is None
        timings["signature_ok"] = not findings
        steps.append(timings)
    sim.dispose()
    return {"parts": rows, "steps": steps}


def _step(timings: dict[str, Any], name: str, fn: Callable[..., Any], *args: Any) -> Any:
    started = time.perf_counter()
    result = fn(*args)
    timings[name] = round(time.perf_counter() - started, 3)
    return result


def _child(args: list[str]) -> Any:
    out = subprocess.run(
        [sys.executable, __file__, *args], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=10_000)
    parser.add_argument("--phase", choices=("prepare", "check"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    parser.add_argument("--tenant", help=argparse.SUPPRESS)
    parser.add_argument("--vkn", help=argparse.SUPPRESS)
    parser.add_argument("--day", help=argparse.SUPPRESS)
    parser.add_argument("--reports", nargs="*", default=[], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase == "prepare":
        day = dt.date.fromisoformat(args.day)
        result = phase_prepare(args.url, Path(args.data_dir), uuid.UUID(args.tenant), day)
        print(json.dumps(result))
        return
    if args.phase == "check":
        result = phase_check(args.url, Path(args.data_dir), args.vkn, args.reports)
        print(json.dumps(result))
        return
    if not (PACKAGE / "EArsiv.xsd").is_file():
        sys.exit(f"GİB's e-Arşiv report package not found at {PACKAGE}")

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
        day = (dt.datetime.now(ISTANBUL) - dt.timedelta(days=1)).date()
        seeded = seed(url, data_dir, args.invoices, day)
        print(
            f"seeded {args.invoices} signed e-Arşiv invoices of {day}: issued in "
            f"{seeded['issue_seconds']} s, signed in {seeded['sign_seconds']} s"
        )
        common = ["--url", url, "--data-dir", str(data_dir), "--day", day.isoformat()]
        prepared = _child(["--phase", "prepare", "--tenant", seeded["tenant"], *common])
        checked = _child(
            ["--phase", "check", "--vkn", seeded["vkn"], *common, "--reports", *prepared["reports"]]
        )
        print(json.dumps({"prepare": prepared["parts"], **checked}, indent=1))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
