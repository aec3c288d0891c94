"""The simulator's e-Arşiv report service over its HTTP face: what it takes and what it refuses.

Reports are built by the core and sent by the client (``gib.earsiv``) over the in-process
transport, exactly as over HTTP; the schema is GİB's ``EArsiv.xsd``, read in place.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from entegrator.documents import InvoiceDraft, build_invoice
from entegrator.documents.earsiv_report import (
    Cancellation,
    ReportHeader,
    build_report,
    invoice_entry,
    period_of,
    zip_report,
)
from entegrator.gib.earsiv import EArsivClient, EArsivFaultError
from entegrator.gibsim.app import EARSIV_SERVICE, create_app
from entegrator.gibsim.service import Simulator
from entegrator.gibsim.transport import InProcessTransport
from entegrator.signing import TestCA, sign
from tests.clock import now
from tests.testing.earsiv import earsiv_package
from tests.testing.platform import new_vkn

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "api" / "invoice.json"
CA = TestCA.create(now=now())
DAY = dt.date(2026, 11, 24)


@pytest.fixture(scope="module")
def simulator(database_url: str) -> Iterator[Simulator]:
    sim = Simulator(database_url, ca=CA, earsiv_schema=earsiv_package() / "EArsiv.xsd")
    sim.create_schema()
    yield sim
    sim.dispose()


@pytest.fixture(scope="module")
def integrator(simulator: Simulator) -> tuple[str, EArsivClient]:
    vkn = new_vkn()
    token = simulator.register_integrator(f"E{uuid.uuid4().hex[:8]}", "Entegratör", vkn, None)
    client = EArsivClient(
        f"http://gib.invalid{EARSIV_SERVICE}",
        transport=InProcessTransport(create_app(simulator), token=token),
    )
    return vkn, client


_counter = iter(range(1, 10**6))


def _invoice(taxpayer: str) -> bytes:
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["supplier"]["vkn"] = taxpayer
    data.update(
        profile="EARSIVFATURA",
        number=f"EAR2026{next(_counter):09d}",
        ettn=str(uuid.uuid4()),
        issue_time="10:15:00",
    )
    data.update(issue_time="10:15:00")
    data["customer"].setdefault("contact", {})["email"] = "alici@example.com"
    draft = InvoiceDraft.model_validate(data)
    seal = CA.issue(identity=taxpayer, name="Satıcı", now=now())
    return sign(build_invoice(draft), seal, signing_time=now())


def _report(
    preparer: str,
    taxpayer: str,
    invoices: list[bytes],
    *,
    cancels: tuple[Cancellation, ...] = (),
    part: int = 1,
    signer: str | None = None,
) -> tuple[str, bytes]:
    entries = [invoice_entry(x, file_name="f.xml", url="u") for x in invoices]
    start, end = period_of(DAY)
    report_no = str(uuid.uuid4())
    header = ReportHeader(taxpayer, preparer, report_no, start, end, DAY, DAY, part)
    seal = CA.issue(identity=signer or preparer, name="Hazırlayan", now=now())
    signed = sign(
        build_report(header, entries, cancels), seal, signing_time=now(), check_certificate=False
    )
    return report_no, signed


def _send(client: EArsivClient, report_no: str, signed: bytes) -> int:
    """Send, then ask until GİB settles; the final status code."""
    assert client.send(f"{report_no}.zip", zip_report(report_no, signed)) == "Dosya Kaydedildi"
    first = client.status(report_no)
    assert first.pending and first.code == 15
    return client.status(report_no).code


def test_a_good_report_succeeds_and_is_kept(
    simulator: Simulator, integrator: tuple[str, EArsivClient]
) -> None:
    vkn, client = integrator
    taxpayer = new_vkn()
    invoice = _invoice(taxpayer)
    report_no, signed = _report(vkn, taxpayer, [invoice])
    assert _send(client, report_no, signed) == 30
    assert client.status(report_no).succeeded  # settled stays settled
    (kept,) = simulator.earsiv.received(taxpayer=taxpayer)
    assert kept.xml == signed and kept.part == 1
    number = invoice_entry(invoice, file_name="", url="").number
    assert simulator.earsiv.invoice(taxpayer, number) == (report_no, None)


def test_the_same_invoice_twice_is_refused(integrator: tuple[str, EArsivClient]) -> None:
    vkn, client = integrator
    taxpayer = new_vkn()
    invoice = _invoice(taxpayer)
    assert _send(client, *_report(vkn, taxpayer, [invoice])) == 30
    assert _send(client, *_report(vkn, taxpayer, [invoice], part=2)) == 42


def test_cancellations_need_a_known_invoice_once(integrator: tuple[str, EArsivClient]) -> None:
    vkn, client = integrator
    taxpayer = new_vkn()
    invoice = _invoice(taxpayer)
    number = invoice_entry(invoice, file_name="", url="").number
    cancel = Cancellation(number, DAY, "7200.00")
    assert _send(client, *_report(vkn, taxpayer, [_invoice(taxpayer)], cancels=(cancel,))) == 44
    assert _send(client, *_report(vkn, taxpayer, [invoice], part=1)) == 30
    assert _send(client, *_report(vkn, taxpayer, [], cancels=(cancel,), part=2)) == 30
    assert _send(client, *_report(vkn, taxpayer, [], cancels=(cancel,), part=3)) == 44


def test_a_part_taken_is_refused(integrator: tuple[str, EArsivClient]) -> None:
    vkn, client = integrator
    taxpayer = new_vkn()
    assert _send(client, *_report(vkn, taxpayer, [_invoice(taxpayer)])) == 30
    assert _send(client, *_report(vkn, taxpayer, [_invoice(taxpayer)], part=1)) == 45


def test_a_stranger_preparer_and_a_bad_signature_are_refused(
    integrator: tuple[str, EArsivClient],
) -> None:
    vkn, client = integrator
    taxpayer = new_vkn()
    stranger = new_vkn()
    assert _send(client, *_report(stranger, taxpayer, [_invoice(taxpayer)])) == 43
    assert _send(client, *_report(vkn, taxpayer, [_invoice(taxpayer)], signer=stranger)) == 41
    report_no, signed = _report(vkn, taxpayer, [_invoice(taxpayer)])
    tampered = signed.replace(b"<bolumNo>1</bolumNo>", b"<bolumNo>7</bolumNo>")
    assert _send(client, report_no, tampered) == 41


def test_a_report_gib_schema_refuses_is_40(integrator: tuple[str, EArsivClient]) -> None:
    vkn, client = integrator
    taxpayer = new_vkn()
    report_no, signed = _report(vkn, taxpayer, [_invoice(taxpayer)])
    broken = signed.replace(b"<paraBirimi>TRY</paraBirimi>", b"<paraBirimi>XYZ</paraBirimi>")
    assert _send(client, report_no, broken) == 40
    report_no, _ = _report(vkn, taxpayer, [_invoice(taxpayer)])
    assert _send(client, report_no, b"not xml") == 40


def _zip(entries: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_hostile_files_are_refused_before_they_are_kept(
    simulator: Simulator, integrator: tuple[str, EArsivClient]
) -> None:
    _, client = integrator
    report_no = str(uuid.uuid4())
    cases = [
        ("../etc.zip", zip_report(report_no, b"<x/>"), 100),
        (f"{report_no}.zip", b"not a zip at all", 101),
        (f"{report_no}.zip", _zip({f"{report_no}.xml": b"<x/>", "b.xml": b"<y/>"}), 101),
        (f"{report_no}.zip", _zip({"other.xml": b"<x/>"}), 101),
        (f"{report_no}.zip", _zip({f"{report_no}.xml": b"<" + b"a" * 5_000_000 + b"/>"}), 101),
    ]
    for name, data, code in cases:
        with pytest.raises(EArsivFaultError) as refused:
            client.send(name, data)
        assert refused.value.fault_code == code, name
    assert report_no not in {r.report_no for r in simulator.earsiv.received()}


def test_a_report_number_twice_and_an_unknown_package(
    integrator: tuple[str, EArsivClient],
) -> None:
    vkn, client = integrator
    taxpayer = new_vkn()
    report_no, signed = _report(vkn, taxpayer, [_invoice(taxpayer)])
    data = zip_report(report_no, signed)
    client.send(f"{report_no}.zip", data)
    with pytest.raises(EArsivFaultError) as again:
        client.send(f"{report_no}.zip", data)
    assert again.value.fault_code == 102
    with pytest.raises(EArsivFaultError) as unknown:
        client.status(str(uuid.uuid4()))
    assert unknown.value.fault_code == 104


def test_gib_schematron_refuses_a_ytb_invoice_without_its_incentive_data(
    integrator: tuple[str, EArsivClient],
) -> None:
    """GİB's compiled report schematron: YTB types need ``ytbBilgileri`` (the schema alone
    lets it pass)."""
    vkn, client = integrator
    taxpayer = new_vkn()
    entry = invoice_entry(_invoice(taxpayer), file_name="f.xml", url="u")
    ytb = type(entry)(
        entry.number,
        entry.ettn,
        entry.total,
        entry.xml.replace(b"<faturaTip>SATIS</faturaTip>", b"<faturaTip>YTBSATIS</faturaTip>"),
    )
    start, end = period_of(DAY)
    report_no = str(uuid.uuid4())
    header = ReportHeader(taxpayer, vkn, report_no, start, end, DAY, DAY, 1)
    seal = CA.issue(identity=vkn, name="Hazırlayan", now=now())
    signed = sign(build_report(header, [ytb]), seal, signing_time=now())
    assert _send(client, report_no, signed) == 40
    assert _send(client, *_report(vkn, taxpayer, [_invoice(taxpayer)])) == 30  # SATIS passes
