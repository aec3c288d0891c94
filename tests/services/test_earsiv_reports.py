"""The e-Arşiv report against PostgreSQL and the simulator's e-Arşiv service: days, parts,
signature, digests, sending, following, restarts and cancellations."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography import x509
from lxml import etree
from sqlalchemy import text

from entegrator.documents.earsiv_report import (
    EARSIV_NS,
    ReportHeader,
    build_report,
    invoice_entry,
    period_of,
    zip_report,
)
from entegrator.gib.earsiv import EArsivClient
from entegrator.gibsim.app import EARSIV_SERVICE, create_app
from entegrator.gibsim.transport import InProcessTransport
from entegrator.lifecycle import DocumentStatus
from entegrator.runtime import Runtime
from entegrator.services.earsiv_cancel import cancel_invoice
from entegrator.services.earsiv_reports import EarsivConfig, EarsivReports, istanbul_day
from entegrator.services.seals import SealKeys
from entegrator.signing import identity_of, sign
from entegrator.signing.xades import XADES
from entegrator.store import documents, earsiv, repo, webhooks
from entegrator.store.ids import created_at
from tests.clock import now
from tests.testing.earsiv import Earsiv, earsiv_package, issue_earsiv, istanbul, make_earsiv
from tests.testing.platform import DEV_CA, TenantHandle, new_vkn

E = "{" + EARSIV_NS + "}"


@pytest.fixture(scope="module")
def gib(database_url: str, make_tenant: Callable[..., TenantHandle]) -> Iterator[Earsiv]:
    yield from make_earsiv(database_url, make_tenant())


def _report(
    runtime: Runtime, tenant: TenantHandle, report_id: uuid.UUID
) -> tuple[earsiv.ReportRow, bytes]:
    with runtime.db.tenant(tenant.tenant_id) as conn:
        found = earsiv.get_report(conn, tenant.tenant_id, report_id)
    assert found is not None
    return found


def _status(runtime: Runtime, tenant: TenantHandle, document_id: uuid.UUID) -> str:
    with runtime.db.tenant(tenant.tenant_id) as conn:
        row = documents.get_document(conn, tenant.tenant_id, document_id, created_at(document_id))
    assert row is not None
    return row.status


def _numbers(xml: bytes, tag: str = "fatura") -> list[str]:
    return [n.findtext(f"{E}faturaNo") or "" for n in etree.fromstring(xml).iterfind(E + tag)]


def test_invoices_at_23_59_and_00_01_istanbul_land_on_their_days(
    runtime: Runtime, gib: Earsiv, make_tenant: Callable[..., TenantHandle]
) -> None:
    tenant = make_tenant()
    late = issue_earsiv(runtime, tenant, istanbul(2026, 11, 24, 23, 59))
    early = issue_earsiv(runtime, tenant, istanbul(2026, 11, 25, 0, 1))
    reports = gib.reports(runtime)

    first = reports.prepare(tenant.tenant_id, through=dt.date(2026, 11, 24))
    assert len(first) == 1
    row, xml = _report(runtime, tenant, first[0])
    with runtime.db.tenant(tenant.tenant_id) as conn:
        late_row = documents.get_document(conn, tenant.tenant_id, late, created_at(late))
        carried = earsiv.items_of(conn, tenant.tenant_id, first[0])
    assert late_row is not None and _numbers(xml) == [late_row.number]
    assert [d for _, d, _ in carried] == [late]
    assert (row.period, row.part, row.part_start, row.part_end) == (
        dt.date(2026, 11, 1),
        1,
        dt.date(2026, 11, 24),
        dt.date(2026, 11, 24),
    )
    second = reports.prepare(tenant.tenant_id, through=dt.date(2026, 11, 25))
    row2, _ = _report(runtime, tenant, second[0])
    with runtime.db.tenant(tenant.tenant_id) as conn:
        assert [d for _, d, _ in earsiv.items_of(conn, tenant.tenant_id, second[0])] == [early]
    assert (row2.part, row2.part_start) == (2, dt.date(2026, 11, 25))
    assert reports.prepare(tenant.tenant_id, through=dt.date(2026, 11, 25)) == []  # none twice


def test_the_report_is_valid_signed_and_its_digests_are_the_stored_xml(
    runtime: Runtime, gib: Earsiv, make_tenant: Callable[..., TenantHandle], tmp_path: Path
) -> None:
    tenant = make_tenant()
    ids = [issue_earsiv(runtime, tenant, istanbul(2026, 11, 24, 10, n)) for n in range(3)]
    reports = gib.reports(runtime)
    (report_id,) = reports.prepare(tenant.tenant_id, through=dt.date(2026, 11, 24))
    row, xml = _report(runtime, tenant, report_id)
    root = etree.fromstring(xml)

    schema = etree.XMLSchema(etree.parse(str(earsiv_package() / "EArsiv.xsd")))
    assert schema.validate(root), schema.error_log
    baslik = root.find(f"{E}baslik")
    assert baslik is not None
    assert baslik.findtext(f"{E}hazirlayan/{E}vkn") == gib.preparer.vkn
    assert baslik.findtext(f"{E}mukellef/{E}vkn") == tenant.vkn
    assert baslik.findtext(f"{E}raporNo") == str(report_id)
    assert row.invoices == 3 and row.preparer == gib.preparer.vkn

    with runtime.db.tenant(tenant.tenant_id) as conn:
        for document_id in ids:
            doc = documents.get_document(
                conn, tenant.tenant_id, document_id, created_at(document_id)
            )
            assert doc is not None and doc.signed_sha256 is not None
            signed = repo.get_blob(conn, tenant.tenant_id, doc.signed_sha256)
            entry = next(
                f for f in root.iterfind(f"{E}fatura") if f.findtext(f"{E}faturaNo") == doc.number
            )
            assert entry.findtext(f"{E}ozetDeger") == hashlib.sha256(signed).hexdigest()
            assert (entry.findtext(f"{E}faturaUUID") or "").lower() == str(doc.ettn)
            assert (
                entry.findtext(f"{E}faturaUrl") or ""
            ).lower() == f"https://fatura.example/e/{doc.ettn}"

    tool = shutil.which("xmlsec1") or "/usr/bin/xmlsec1"
    assert Path(tool).exists(), "xmlsec1 is not installed: make system-tools"
    ca = tmp_path / "ca.pem"
    ca.write_bytes(DEV_CA.to_pem()[0])
    good, bad = tmp_path / "good.xml", tmp_path / "bad.xml"
    good.write_bytes(xml)
    bad.write_bytes(xml.replace(b"<bolumNo>1</bolumNo>", b"<bolumNo>2</bolumNo>"))
    command = [
        tool,
        "--verify",
        "--id-attr:Id",
        f"{XADES}:SignedProperties",
        "--trusted-pem",
        str(ca),
    ]
    ok = subprocess.run([*command, str(good)], capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stderr
    assert subprocess.run([*command, str(bad)], capture_output=True, check=False).returncode != 0


def test_parts_are_numbered_without_gaps_over_days_and_months(
    runtime: Runtime, gib: Earsiv, make_tenant: Callable[..., TenantHandle]
) -> None:
    tenant = make_tenant()
    days = [dt.date(2026, 10, 31), dt.date(2026, 11, 1), dt.date(2026, 11, 2), dt.date(2026, 11, 3)]
    for day in days:
        issue_earsiv(runtime, tenant, istanbul(day.year, day.month, day.day, 12, 0))
    parts = []
    for day in days:
        reports = gib.reports(runtime)
        outcome = reports.report(tenant.tenant_id, through=day)
        assert outcome.prepared == 1 and outcome.sent == 1
        reports.poll(tenant.tenant_id)  # 15, then 30
    with runtime.db.tenant(tenant.tenant_id) as conn:
        rows = earsiv.list_reports(conn, tenant.tenant_id)
    parts = sorted((r.period, r.part, r.status) for r in rows)
    assert parts == [
        (dt.date(2026, 10, 1), 1, "succeeded"),
        (dt.date(2026, 11, 1), 1, "succeeded"),
        (dt.date(2026, 11, 1), 2, "succeeded"),
        (dt.date(2026, 11, 1), 3, "succeeded"),
    ]
    received = gib.simulator.earsiv.received(taxpayer=tenant.vkn)
    assert sorted(r.part or 0 for r in received) == [1, 1, 2, 3]
    assert {r.status for r in received} == {30}


def test_success_moves_the_invoices_to_reported_after_pending(
    runtime: Runtime, gib: Earsiv, make_tenant: Callable[..., TenantHandle]
) -> None:
    tenant = make_tenant()
    doc = issue_earsiv(runtime, tenant, istanbul(2026, 11, 24, 12, 0))
    reports = gib.reports(runtime)
    outcome = reports.report(tenant.tenant_id, through=dt.date(2026, 11, 24))
    assert (outcome.prepared, outcome.sent, outcome.settled) == (1, 1, 0)  # GİB said 15
    assert _status(runtime, tenant, doc) == DocumentStatus.QUEUED
    assert reports.poll(tenant.tenant_id) == 1
    assert _status(runtime, tenant, doc) == DocumentStatus.REPORTED
    with runtime.db.tenant(tenant.tenant_id) as conn:
        (row,) = earsiv.list_reports(conn, tenant.tenant_id)
        events = [e.type for e in repo.list_events(conn, tenant.tenant_id, doc)]
    assert (row.status, row.gib_code) == ("succeeded", 30)
    assert "earsiv-reported" in events


def test_a_restart_mid_send_reports_nothing_twice(
    runtime: Runtime, gib: Earsiv, make_tenant: Callable[..., TenantHandle]
) -> None:
    """The report reached GİB, the answer was lost with the process: the resend is known (102)
    and taken as sent; GİB holds one report, and preparing again makes none."""
    tenant = make_tenant()
    issue_earsiv(runtime, tenant, istanbul(2026, 11, 24, 12, 0))
    reports = gib.reports(runtime)
    (report_id,) = reports.prepare(tenant.tenant_id, through=dt.date(2026, 11, 24))
    with runtime.db.tenant(tenant.tenant_id) as conn:
        due = earsiv.lease_next_due(conn, tenant.tenant_id, lease=dt.timedelta(minutes=5))
    assert due is not None and due.report_id == report_id
    reports.client.send(f"{report_id}.zip", due.zip)  # ... and the process dies here
    with runtime.db.system() as conn:  # the lease runs out
        conn.execute(
            text("UPDATE earsiv_reports SET next_attempt_at = now() WHERE report_id = :r"),
            {"r": report_id},
        )
    restarted = gib.reports(runtime)
    assert restarted.prepare(tenant.tenant_id, through=dt.date(2026, 11, 24)) == []
    assert restarted.send_pending(tenant.tenant_id) == 1
    restarted.poll(tenant.tenant_id)
    restarted.poll(tenant.tenant_id)
    received = gib.simulator.earsiv.received(taxpayer=tenant.vkn)
    assert [(r.report_no, r.status) for r in received] == [(str(report_id), 30)]


def test_gib_away_keeps_the_report_pending_and_resends_the_same_bytes(
    runtime: Runtime, gib: Earsiv, make_tenant: Callable[..., TenantHandle]
) -> None:
    tenant = make_tenant()
    issue_earsiv(runtime, tenant, istanbul(2026, 11, 24, 12, 0))
    reports = gib.reports(runtime)
    gib.simulator.set_faults(outage=True)
    try:
        outcome = reports.report(tenant.tenant_id, through=dt.date(2026, 11, 24))
    finally:
        gib.simulator.set_faults(outage=False)
    assert (outcome.prepared, outcome.sent) == (1, 0)
    with runtime.db.tenant(tenant.tenant_id) as conn:
        (row,) = earsiv.list_reports(conn, tenant.tenant_id)
    assert row.status == "pending" and row.attempts == 1 and row.last_error
    with runtime.db.system() as conn:
        conn.execute(
            text("UPDATE earsiv_reports SET next_attempt_at = now() WHERE report_id = :r"),
            {"r": row.report_id},
        )
    assert reports.send_pending(tenant.tenant_id) == 1
    (received,) = [r for r in gib.simulator.earsiv.received() if r.report_no == str(row.report_id)]
    _, xml = _report(runtime, tenant, row.report_id)
    assert received.xml == xml


def test_a_cancellation_after_reporting_goes_in_a_later_report(
    runtime: Runtime, gib: Earsiv, make_tenant: Callable[..., TenantHandle]
) -> None:
    tenant = make_tenant()
    doc = issue_earsiv(runtime, tenant, istanbul(2026, 11, 24, 12, 0))
    reports = gib.reports(runtime)
    reports.report(tenant.tenant_id, through=dt.date(2026, 11, 24))
    reports.poll(tenant.tenant_id)
    assert _status(runtime, tenant, doc) == DocumentStatus.REPORTED

    cancelled = cancel_invoice(
        runtime.db, tenant.tenant_id, doc, reason="Yanlış tutar", actor="test", now=now()
    )
    today = istanbul_day(now())
    assert cancelled.cancelled_on == today
    assert _status(runtime, tenant, doc) == DocumentStatus.CANCELLED
    later = gib.reports(runtime)
    yesterday = today - dt.timedelta(days=1)
    assert later.prepare(tenant.tenant_id, through=yesterday) == []  # not yet its day
    (report_id,) = later.prepare(tenant.tenant_id, through=today)
    row, xml = _report(runtime, tenant, report_id)
    assert (row.invoices, row.cancellations, row.part) == (0, 1, 2)
    assert _numbers(xml, "faturaIptal") == [cancelled.number] and _numbers(xml) == []
    root = etree.fromstring(xml)
    assert root.findtext(f"{E}faturaIptal/{E}iptalTarihi") == today.isoformat()
    later.send_pending(tenant.tenant_id)
    later.poll(tenant.tenant_id)
    later.poll(tenant.tenant_id)
    known = gib.simulator.earsiv.invoice(tenant.vkn, cancelled.number)
    assert known is not None and known[1] == str(report_id)


def test_an_invoice_cancelled_before_reporting_is_reported_with_its_cancellation(
    runtime: Runtime, gib: Earsiv, make_tenant: Callable[..., TenantHandle]
) -> None:
    tenant = make_tenant()
    doc = issue_earsiv(runtime, tenant, now())
    cancel_invoice(
        runtime.db,
        tenant.tenant_id,
        doc,
        reason="İptal",
        actor="test",
        now=now(),
    )
    reports = gib.reports(runtime)
    (report_id,) = reports.prepare(tenant.tenant_id, through=istanbul_day(now()))
    row, xml = _report(runtime, tenant, report_id)
    assert (row.invoices, row.cancellations) == (1, 1)
    assert _numbers(xml) == _numbers(xml, "faturaIptal")
    reports.send_pending(tenant.tenant_id)
    reports.poll(tenant.tenant_id)
    assert reports.poll(tenant.tenant_id) == 1
    assert _status(runtime, tenant, doc) == DocumentStatus.CANCELLED


def test_a_refused_report_frees_its_entries_and_gives_its_part_back(
    runtime: Runtime, gib: Earsiv, make_tenant: Callable[..., TenantHandle]
) -> None:
    """GİB refuses a report (here: it knows the invoice already, from a report someone else
    sent, 42): the report is ``failed``, its entries are free for the next report and its
    part number is given back."""
    tenant = make_tenant()
    doc = issue_earsiv(runtime, tenant, istanbul(2026, 11, 24, 12, 0))
    with runtime.db.tenant(tenant.tenant_id) as conn:
        row = documents.get_document(conn, tenant.tenant_id, doc, created_at(doc))
        assert row is not None and row.signed_sha256 is not None
        signed = repo.get_blob(conn, tenant.tenant_id, row.signed_sha256)
    elsewhere = str(uuid.uuid4())
    start, end = period_of(dt.date(2026, 11, 24))
    header = ReportHeader(
        tenant.vkn,
        tenant.vkn,
        elsewhere,
        start,
        end,
        dt.date(2026, 11, 24),
        dt.date(2026, 11, 24),
        9,
    )
    seal = DEV_CA.issue(identity=tenant.vkn, name="Mükellef", now=now())
    report = sign(
        build_report(header, [invoice_entry(signed, file_name="x.xml", url="")]),
        seal,
        signing_time=now(),
    )
    reports = gib.reports(runtime)
    reports.client.send(f"{elsewhere}.zip", zip_report(elsewhere, report))
    reports.client.status(elsewhere)
    assert reports.client.status(elsewhere).succeeded

    (first,) = reports.prepare(tenant.tenant_id, through=dt.date(2026, 11, 24))
    reports.send_pending(tenant.tenant_id)
    reports.poll(tenant.tenant_id)
    assert reports.poll(tenant.tenant_id) == 1
    with runtime.db.tenant(tenant.tenant_id) as conn:
        found = earsiv.get_report(conn, tenant.tenant_id, first)
        assert found is not None
        assert (found[0].status, found[0].gib_code, found[0].part) == ("failed", 42, 1)
        assert earsiv.items_of(conn, tenant.tenant_id, first) == []  # freed
        assert earsiv.next_part(conn, tenant.tenant_id, dt.date(2026, 11, 1)) == 1
        waiting = earsiv.unreported_invoices(
            conn, tenant.tenant_id, through=dt.date(2026, 11, 24), limit=10
        )
    assert [w.document_id for w in waiting] == [doc]
    assert _status(runtime, tenant, doc) == DocumentStatus.QUEUED


def test_the_daily_run_reports_yesterday_and_warns_of_overdue_invoices(
    runtime: Runtime, gib: Earsiv, make_tenant: Callable[..., TenantHandle]
) -> None:
    """The scheduled run reports every tenant's days before today; an invoice not reported
    by the end of the next day is overdue: counted, and announced to the tenant's webhooks."""
    tenant = make_tenant()
    hook = uuid.uuid4()
    with runtime.db.tenant(tenant.tenant_id) as conn:
        webhooks.insert_endpoint(
            conn,
            tenant.tenant_id,
            hook,
            url="https://hooks.example/e",
            events=["earsiv.overdue"],
            secret_nonce=b"n" * 12,
            secret_ciphertext=b"c" * 48,
        )
    today = istanbul_day(now())
    old = issue_earsiv(runtime, tenant, now() - dt.timedelta(days=3))
    issue_earsiv(runtime, tenant, now())  # today's: reported tomorrow, not late
    reports = gib.reports(runtime)
    assert reports.overdue().get(tenant.tenant_id) == 1
    assert reports.warn_overdue().get(tenant.tenant_id) == 1
    with runtime.db.tenant(tenant.tenant_id) as conn:
        (delivery,) = webhooks.deliveries(conn, tenant.tenant_id, hook, 10)
    assert delivery.event == "earsiv.overdue"

    assert reports.run_due() >= 1
    with runtime.db.tenant(tenant.tenant_id) as conn:
        (row,) = earsiv.list_reports(conn, tenant.tenant_id)
        (item,) = earsiv.items_of(conn, tenant.tenant_id, row.report_id)
    assert item[1] == old and row.part_end < today
    reports.run_due()  # follows it: GİB says 30
    assert _status(runtime, tenant, old) == DocumentStatus.REPORTED
    assert tenant.tenant_id not in reports.overdue()


def test_the_installations_integrator_seal_prepares_and_signs_the_report(
    runtime: Runtime, gib: Earsiv, make_tenant: Callable[..., TenantHandle]
) -> None:
    """With the installation's integrator seal configured and no preparer named, the
    integrator is the hazirlayan: its VKN in the header, its seal on the report, and GİB
    (which has that VKN on file for the integrator) takes it."""
    tenant = make_tenant()
    doc = issue_earsiv(runtime, tenant, istanbul(2026, 11, 24, 13, 0))
    integrator_vkn = new_vkn()
    seal = DEV_CA.issue(identity=integrator_vkn, name="Platform Entegratör A.Ş.", now=now())
    token = gib.simulator.register_integrator(
        f"I{uuid.uuid4().hex[:8]}", "Platform Entegratör", integrator_vkn, None
    )
    client = EArsivClient(
        f"http://gib.invalid{EARSIV_SERVICE}",
        transport=InProcessTransport(create_app(gib.simulator), token=token),
    )
    keys = SealKeys(runtime.settings.key_bytes(), integrator=seal)
    reports = EarsivReports(runtime.db, keys, EarsivConfig(), client=client)
    outcome = reports.report(tenant.tenant_id, through=dt.date(2026, 11, 24))
    assert (outcome.prepared, outcome.sent) == (1, 1)
    assert reports.poll(tenant.tenant_id) == 1
    with runtime.db.tenant(tenant.tenant_id) as conn:
        (row,) = earsiv.list_reports(conn, tenant.tenant_id)
    assert (row.status, row.gib_code, row.preparer) == ("succeeded", 30, integrator_vkn)
    _, xml = _report(runtime, tenant, row.report_id)
    root = etree.fromstring(xml)
    assert root.findtext(f"{E}baslik/{E}hazirlayan/{E}vkn") == integrator_vkn
    assert root.findtext(f"{E}baslik/{E}mukellef/{E}vkn") == tenant.vkn
    der = root.findtext(".//{http://www.w3.org/2000/09/xmldsig#}X509Certificate") or ""
    signer = x509.load_der_x509_certificate(base64.b64decode(der))
    assert identity_of(signer) == integrator_vkn
    assert _status(runtime, tenant, doc) == DocumentStatus.REPORTED


def test_the_reported_address_is_the_invoices_own_public_page(
    runtime: Runtime, gib: Earsiv, make_tenant: Callable[..., TenantHandle], base_url: str
) -> None:
    """Without a configured address template, ``faturaUrl`` is the invoice's public view page
    (``/e/<token>``, the one its e-mail links to), and that page shows the invoice."""
    import httpx

    tenant = make_tenant()
    doc = issue_earsiv(runtime, tenant, istanbul(2026, 11, 24, 14, 0))
    client = EArsivClient(
        f"http://gib.invalid{EARSIV_SERVICE}",
        transport=InProcessTransport(create_app(gib.simulator), token=gib.token),
    )
    reports = EarsivReports(
        runtime.db,
        runtime.seal_keys,
        EarsivConfig(preparer_vkn=gib.preparer.vkn),
        client=client,
        view_link=runtime.deliveries.public_url,
    )
    (report_id,) = reports.prepare(tenant.tenant_id, through=dt.date(2026, 11, 24))
    _, xml = _report(runtime, tenant, report_id)
    (url,) = [n.text or "" for n in etree.fromstring(xml).iter(f"{E}faturaUrl")]
    with runtime.db.tenant(tenant.tenant_id) as conn:
        assert url == runtime.deliveries.public_url(conn, tenant.tenant_id, doc)  # one link
    path = "/e/" + url.split("/e/", 1)[1]
    page = httpx.get(f"{base_url}{path}", timeout=30)
    assert page.status_code == 200
    with runtime.db.tenant(tenant.tenant_id) as conn:
        number = documents.get_document(conn, tenant.tenant_id, doc, created_at(doc))
    assert number is not None and number.number is not None
    assert number.number in page.text
