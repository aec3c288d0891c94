"""`entegrator demo` as a user runs it: the simulator and two integrators as separate
processes on loopback, each with its own database; 1,000 invoices between the integrators,
every one delivered exactly once; an e-Arşiv invoice e-mailed through the demo's SMTP server
(STARTTLS, login) with its PDF and verified XML, and reported to
the simulator's e-Arşiv service, checked against GİB's EArsiv.xsd."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from entegrator.store.db import sqlalchemy_url
from tests.testing.earsiv import earsiv_package

LOAD = 1000


def _demo(database_url: str, data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "ENTEGRATOR_DATABASE_URL": database_url,
        "ENTEGRATOR_DATA_DIR": str(data_dir),
        # The simulator checks every e-Arşiv report against GİB's schema and schematron.
        "ENTEGRATOR_GIBSIM_EARSIV_XSD": str(earsiv_package() / "EArsiv.xsd"),
    }
    return subprocess.run(
        [sys.executable, "-m", "entegrator", "demo", "--json", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


@contextlib.contextmanager
def _connect(database_url: str, name: str | None = None) -> Iterator[Any]:
    url = make_url(sqlalchemy_url(database_url))
    if name is not None:
        url = url.set(database=name)
    engine = create_engine(url, isolation_level="AUTOCOMMIT", pool_size=1)
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def test_the_demo_network_delivers_every_invoice_exactly_once(
    database_url: str, tmp_path: Path
) -> None:
    run = _demo(database_url, tmp_path, "--invoices", str(LOAD), "--keep")
    assert run.stdout, run.stderr
    report = json.loads(run.stdout)
    try:
        steps = {s["step"]: s for s in report["steps"]}
        assert run.returncode == 0 and report["ok"], json.dumps(report, ensure_ascii=False)
        assert steps["1 TICARIFATURA, KABUL"]["sender_status"] == "accepted"
        assert steps["1 TICARIFATURA, KABUL"]["receiver_status"] == "accepted"
        assert steps["2 TEMELFATURA"]["sender_status"] == "delivered (1300)"
        earsiv = steps["3 unregistered buyer"]
        assert earsiv["number"].startswith("EAR")
        assert earsiv["sender_status"] == "EARSIVFATURA reported (30)"
        assert earsiv["receiver_status"].startswith("e-mail yes (fatura@")
        assert earsiv["receiver_status"].endswith(": PDF + verified XML); report 30")
        # The e-mail the buyer got, kept for the user: the signed XML attached.
        eml = Path(earsiv["detail"].removeprefix("e-mail: "))
        mail = message_from_bytes(eml.read_bytes(), policy=policy.default)
        assert isinstance(mail, EmailMessage)
        assert mail["To"] == earsiv["receiver_status"].split("(")[1].split(":")[0]
        # It went through the SMTP server (which keeps what it accepts), not to an outbox.
        run_folder = next(p for p in (tmp_path / "demo").iterdir() if p.is_dir())
        assert [p.name for p in (run_folder / "mailbox").iterdir()] == ["0001.eml"]
        assert not (run_folder / "integrator1" / "outbox").exists()
        names = {p.get_filename() for p in mail.iter_attachments()}
        assert names == {f"{earsiv['number']}.xml", f"{earsiv['number']}.pdf"}
        # Independently of the demo's own counting: the databases of the two integrators.
        a_vkn, c_vkn = (
            next(c["vkn"] for c in report["companies"] if c["key"] == k) for k in ("A", "C")
        )
        one, two = (d for d in report["databases"] if not d.endswith("_gib"))
        # Step 7's invoices (C moving from integrator 2 to 1) are counted by the step itself.
        moved = steps["7 C moves 2 → 1"]
        first, last = moved["number"].split("…")
        span = {"c": c_vkn, "first": first, "last": last}
        with _connect(database_url, one) as conn:
            sent = conn.execute(
                text(
                    "SELECT count(*), count(DISTINCT ettn), "
                    "count(*) FILTER (WHERE status = 'delivered') FROM documents "
                    "WHERE direction = 'out' AND kind = 'invoice' AND receiver_id = :c "
                    "AND number NOT BETWEEN :first AND :last"
                ),
                span,
            ).one()
            envelopes = conn.execute(
                text(
                    "SELECT count(*), count(DISTINCT e.document_id) FROM outbound_envelopes e "
                    "JOIN documents d ON d.document_id = e.document_id "
                    "WHERE e.kind = 'document' AND d.kind = 'invoice' "
                    "AND e.receiver_alias LIKE :alias AND d.number NOT BETWEEN :first AND :last"
                ),
                span | {"alias": f"%{c_vkn}%"},
            ).one()
        assert tuple(sent) == (LOAD + 1, LOAD + 1, LOAD + 1)
        assert tuple(envelopes) == (LOAD + 1, LOAD + 1)  # one envelope per invoice
        with _connect(database_url, two) as conn:
            received = conn.execute(
                text(
                    "SELECT count(*), count(DISTINCT ettn), count(DISTINCT number) "
                    "FROM documents WHERE direction = 'in' AND kind = 'invoice' AND sender_id = :a "
                    "AND number NOT BETWEEN :first AND :last"
                ),
                {"a": a_vkn, "first": first, "last": last},
            ).one()
            inbound = conn.execute(
                text(
                    "SELECT count(*) FROM inbound_envelopes WHERE envelope_type = 'SENDERENVELOPE'"
                )
            ).scalar_one()
            moved_here = int(moved["receiver_status"].split(" at 2")[0])
        assert tuple(received) == (LOAD + 1, LOAD + 1, LOAD + 1)
        # Step 2's invoice, the load, the move's invoices filed here, and step 4's despatch.
        assert inbound == LOAD + 1 + moved_here + 1
        assert moved["ok"] and moved["sender_status"] == "12 delivered"
    finally:
        with _connect(database_url) as conn:
            for name in report.get("databases", []):
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


DESPATCHES = 50  # sized for a test; benchmarks/despatch_network.py runs 500


def test_the_demo_sends_despatches_and_their_answers_between_integrators(
    database_url: str, tmp_path: Path
) -> None:
    """Step 4: A (integrator 1) sends C (integrator 2) a despatch advice of three lines, C
    rejects part of one line, A sees the answer. Step 6: many more, each delivered once and
    answered once. Each integrator's own database says so too."""
    run = _demo(database_url, tmp_path, "--keep", "--despatches", str(DESPATCHES))
    assert run.stdout, run.stderr
    report = json.loads(run.stdout)
    try:
        assert run.returncode == 0 and report["ok"], json.dumps(report, ensure_ascii=False)
        step = {s["step"]: s for s in report["steps"]}["4 e-İrsaliye, yanıt"]
        assert step["number"].startswith("IRS")
        assert step["sender_status"] == "accepted (partly-rejected)"
        assert step["receiver_status"] == "accepted"
        assert step["detail"].startswith("IRY")
        assert "Hasarlı koli" in step["detail"]
        load = {s["step"]: s for s in report["steps"]}[f"6 {DESPATCHES} despatches"]
        assert load["sender_status"] == f"{DESPATCHES} accepted"
        one, two = (d for d in report["databases"] if not d.endswith("_gib"))
        with _connect(database_url, one) as conn:
            sent = conn.execute(
                text(
                    "SELECT number, status, status_code FROM documents "
                    "WHERE direction = 'out' AND kind = 'despatch' ORDER BY number"
                )
            ).all()
            envelopes = conn.execute(
                text(
                    "SELECT count(*), count(DISTINCT e.document_id) FROM outbound_envelopes e "
                    "JOIN documents d ON d.document_id = e.document_id "
                    "WHERE e.kind = 'document' AND d.kind = 'despatch'"
                )
            ).one()
        assert tuple(sent[0]) == (step["number"], "accepted", "partly-rejected")
        assert [(r.status, r.status_code) for r in sent[1:]] == [
            ("accepted", "received")
        ] * DESPATCHES
        assert tuple(envelopes) == (DESPATCHES + 1, DESPATCHES + 1)  # one envelope each
        with _connect(database_url, two) as conn:
            filed = conn.execute(
                text(
                    "SELECT count(*), count(DISTINCT ettn), "
                    "count(*) FILTER (WHERE status = 'accepted') FROM documents "
                    "WHERE direction = 'in' AND kind = 'despatch'"
                )
            ).one()
            answers = conn.execute(
                text(
                    "SELECT count(*), count(DISTINCT document_id) FROM outbound_envelopes "
                    "WHERE kind = 'response'"
                )
            ).one()
        assert tuple(filed) == (DESPATCHES + 1,) * 3
        assert tuple(answers) == (DESPATCHES + 1, DESPATCHES + 1)  # answered once each
    finally:
        with _connect(database_url) as conn:
            for name in report.get("databases", []):
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_the_demo_exits_non_zero_when_a_step_fails(database_url: str, tmp_path: Path) -> None:
    # No step can finish in a millisecond: each one times out and is reported as failed.
    run = _demo(database_url, tmp_path, "--timeout", "0.001")
    report = json.loads(run.stdout)
    assert run.returncode == 1
    assert report["ok"] is False
    assert report["steps"][0]["ok"] is False
    with _connect(database_url) as conn:  # nothing left behind without --keep
        left = conn.execute(
            text("SELECT count(*) FROM pg_database WHERE datname LIKE :p"),
            {"p": f"entegrator_demo_{report['run']}%"},
        ).scalar_one()
    assert left == 0
