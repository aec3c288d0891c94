"""The KDV report equals an independent recomputation from the stored XML, over 2,000 mixed
invoices (every type, three currencies, both directions, statuses left out or kept); and the
report's CSV and XLSX forms carry the same figures."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import random
import re
import uuid
from collections import defaultdict
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from lxml import etree
from sqlalchemy import text

from entegrator.documents import build_invoice
from entegrator.documents.samples import generate
from entegrator.runtime import Runtime
from entegrator.store.ids import created_at, uuid7
from tests.testing.platform import TenantHandle

NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
STATUSES = ["signed", "queued", "sent", "delivered", "accepted", "received"]
LEFT_OUT = ["rejected_by_gib", "failed", "cancelled", "rejected"]
COUNT = 2000


def _xmls() -> list[bytes]:
    xmls = [build_invoice(d) for d in generate(400, seed=11) if len(d.lines) <= 10]
    foreign = next(x for x in xmls if b"<cbc:DocumentCurrencyCode>USD" in x)
    # A foreign-currency invoice without its rate: it cannot be converted.
    xmls.append(
        re.sub(rb"<cac:PricingExchangeRate>.*?</cac:PricingExchangeRate>", b"", foreign, flags=re.S)
    )
    return xmls


def _store(runtime: Runtime, tenant: TenantHandle, period: dt.date) -> list[dict[str, Any]]:
    """2,000 invoice rows over a few hundred distinct XMLs, written as the store writes them."""
    rng = random.Random(5)  # noqa: S311 - test data
    xmls = _xmls()
    rows: list[dict[str, Any]] = []
    for i in range(COUNT):
        xml = xmls[i % len(xmls)] if i < len(xmls) else rng.choice(xmls)
        ident = uuid7()
        direction = rng.choice(["out", "in"])
        status = rng.choice(LEFT_OUT) if rng.random() < 0.05 else rng.choice(STATUSES)
        day = period + dt.timedelta(days=rng.randrange(30))
        if rng.random() < 0.03:  # another month
            day = period - dt.timedelta(days=rng.randrange(1, 20))
        partner = f"{rng.randrange(10):010d}"
        rows.append(
            {
                "t": tenant.tenant_id,
                "d": ident,
                "c": created_at(ident),
                "direction": direction,
                "status": status,
                "number": f"ABC2026{i:09d}",
                "ettn": uuid.uuid4(),
                "issue_date": day,
                "sender": tenant.vkn if direction == "out" else partner,
                "receiver": partner if direction == "out" else tenant.vkn,
                "name": f"Cari {partner}",
                "x": hashlib.sha256(xml).digest(),
                "xml": xml,
            }
        )
    with runtime.db.system() as conn:
        conn.execute(
            text(
                "INSERT INTO blobs (tenant_id, sha256, size, data) VALUES (:t, :x, 0, :xml) "
                "ON CONFLICT DO NOTHING"
            ),
            [{"t": r["t"], "x": r["x"], "xml": r["xml"]} for r in rows],
        )
        conn.execute(
            text(
                "INSERT INTO documents (tenant_id, document_id, created_at, direction, kind, "
                "number, ettn, issue_date, sender_id, sender_name, receiver_id, receiver_name, "
                "status, xml_sha256, signed_sha256, event_count, head_hash, updated_at) VALUES "
                "(:t, :d, :c, :direction, 'invoice', :number, :ettn, :issue_date, :sender, "
                ":name, :receiver, :name, :status, :x, :x, 1, :x, :c)"
            ),
            rows,
        )
    return rows


def _str(node: Any, path: str) -> str:
    return str(node.xpath(f"string({path})", namespaces=NS))


def _nodes(node: Any, path: str) -> list[Any]:
    return list(node.xpath(path, namespaces=NS))


def _amount(node: Any, path: str) -> Decimal:
    found = _str(node, path)
    return Decimal(found) if found else Decimal(0)


def _expected(rows: list[dict[str, Any]], start: dt.date, end: dt.date) -> dict[str, Any]:
    """The report recomputed here from each row's XML with XPath."""
    out: dict[str, Any] = {}
    for section, direction in (("sales", "out"), ("purchases", "in")):
        kdv: dict[Decimal, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
        wh: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
        ex: dict[str, Decimal] = defaultdict(Decimal)
        payable = Decimal(0)
        docs = 0
        for r in rows:
            if r["direction"] != direction or r["status"] in LEFT_OUT:
                continue
            if not start <= r["issue_date"] <= end:
                continue
            root = etree.fromstring(r["xml"])
            currency = _str(root, "/*/cbc:DocumentCurrencyCode")
            rate_text = _str(root, "/*/cac:PricingExchangeRate/cbc:CalculationRate")
            if currency != "TRY" and not rate_text:
                continue  # unconverted

            def conv(v: Decimal, currency: str = currency, rate_text: str = rate_text) -> Decimal:
                if currency == "TRY":
                    return v
                return (v * Decimal(rate_text)).quantize(Decimal("0.01"), ROUND_HALF_UP)

            docs += 1
            for sub in _nodes(root, "/*/cac:TaxTotal/cac:TaxSubtotal"):
                code = _str(sub, "cac:TaxCategory/cac:TaxScheme/cbc:TaxTypeCode")
                if code != "0015":
                    continue
                pct = Decimal(_str(sub, "cbc:Percent"))
                base = conv(_amount(sub, "cbc:TaxableAmount"))
                kdv[pct][0] += base
                kdv[pct][1] += conv(_amount(sub, "cbc:TaxAmount"))
                reason = _str(sub, "cac:TaxCategory/cbc:TaxExemptionReasonCode")
                if reason:
                    ex[reason] += base
            for sub in _nodes(root, "/*/cac:WithholdingTaxTotal/cac:TaxSubtotal"):
                code = _str(sub, "cac:TaxCategory/cac:TaxScheme/cbc:TaxTypeCode")
                wh[code][0] += conv(_amount(sub, "cbc:TaxableAmount"))
                wh[code][1] += conv(_amount(sub, "cbc:TaxAmount"))
            payable += conv(_amount(root, "/*/cac:LegalMonetaryTotal/cbc:PayableAmount"))
        out[section] = {
            "documents": docs,
            "kdv": {p.normalize(): (b, a) for p, (b, a) in kdv.items()},
            "withholding": {c: (b, a) for c, (b, a) in wh.items()},
            "exemptions": dict(ex),
            "payable": payable,
        }
    return out


def _got(section: dict[str, Any]) -> dict[str, Any]:
    return {
        "documents": section["documents"],
        "kdv": {
            Decimal(r["percent"]).normalize(): (Decimal(r["base"]), Decimal(r["kdv"]))
            for r in section["kdv"]
        },
        "withholding": {
            r["code"]: (Decimal(r["base"]), Decimal(r["amount"])) for r in section["withholding"]
        },
        "exemptions": {r["code"]: Decimal(r["base"]) for r in section["exemptions"]},
        "payable": Decimal(section["totals"]["payable"]),
    }


@pytest.fixture(scope="module")
def stored(
    runtime: Runtime, make_tenant: Callable[..., TenantHandle]
) -> tuple[TenantHandle, list[dict[str, Any]]]:
    tenant = make_tenant(seal=False)
    return tenant, _store(runtime, tenant, dt.date(2026, 11, 1))


def test_the_kdv_report_equals_a_recomputation_from_the_stored_xml(
    stored: tuple[TenantHandle, list[dict[str, Any]]], runtime: Runtime
) -> None:
    tenant, rows = stored
    expected = _expected(rows, dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    for attempt in ("computed", "cached"):
        with tenant.client() as c:
            r = c.get("/api/v1/reports/kdv", params={"period": "2026-11"})
        assert r.status_code == 200, r.text
        report = r.json()
        for section in ("sales", "purchases"):
            assert _got(report[section]) == expected[section], (attempt, section)
        assert report["sales"]["withholding"] and report["sales"]["exemptions"]
        assert {k for k in expected["sales"]["kdv"]} >= {Decimal(0), Decimal(20)}
        assert report["unconverted"] and all(u["currency"] == "USD" for u in report["unconverted"])
        in_month = [r for r in rows if r["issue_date"].month == 11]
        assert report["excluded"]["documents"] == sum(r["status"] in LEFT_OUT for r in in_month)
        assert sum(c["count"] for c in report["counts"]) == len(in_month)
    with runtime.db.system() as conn:
        cached = conn.execute(
            text("SELECT count(*) FROM report_facts WHERE tenant_id = :t"), {"t": tenant.tenant_id}
        ).scalar_one()
    assert cached == len({r["x"] for r in rows if r["issue_date"].month == 11})


def test_partners_add_up_to_the_kdv_report(
    stored: tuple[TenantHandle, list[dict[str, Any]]],
) -> None:
    tenant, _ = stored
    with tenant.client() as c:
        kdv = c.get("/api/v1/reports/kdv", params={"period": "2026-11"}).json()
        partners = c.get("/api/v1/reports/partners", params={"period": "2026-11"}).json()
    for section, direction in (("sales", "out"), ("purchases", "in")):
        mine = [p for p in partners["partners"] if p["direction"] == direction]
        assert len(mine) == 10
        for field in ("kdv", "payable", "withholding"):
            total = sum(Decimal(p[field]) for p in mine)
            assert total == Decimal(kdv[section]["totals"][field]), (section, field)
        assert sum(p["documents"] for p in mine) == kdv[section]["documents"]


def test_csv_and_xlsx_carry_the_same_numbers(
    stored: tuple[TenantHandle, list[dict[str, Any]]],
) -> None:
    from openpyxl import load_workbook

    tenant, _ = stored
    with tenant.client() as c:
        report = c.get("/api/v1/reports/kdv", params={"period": "2026-11"}).json()
        as_csv = c.get("/api/v1/reports/kdv", params={"period": "2026-11", "format": "csv"})
        as_xlsx = c.get("/api/v1/reports/kdv", params={"period": "2026-11", "format": "xlsx"})
    assert as_csv.headers["content-type"].startswith("text/csv")
    kdv_rows = [row for row in csv.reader(io.StringIO(as_csv.text)) if row[0] == "kdv"]
    assert [(r[1], Decimal(r[2]), Decimal(r[3]), Decimal(r[4])) for r in kdv_rows] == [
        (s, Decimal(k["percent"]), Decimal(k["base"]), Decimal(k["kdv"]))
        for s in ("sales", "purchases")
        for k in report[s]["kdv"]
    ]
    book = load_workbook(io.BytesIO(as_xlsx.content))
    sheet = book["KDV"]
    cells = list(sheet.iter_rows(min_row=3))
    assert len(cells) == len(kdv_rows)
    for row, expected in zip(cells, kdv_rows, strict=True):
        assert isinstance(row[2].value, (int, float)) and row[2].number_format == "#,##0.00"
        assert Decimal(str(row[2].value)) == Decimal(expected[3])
    totals = list(book["Toplamlar"].iter_rows(min_row=3, values_only=True))
    assert [t[1] for t in totals] == [
        report["sales"]["documents"],
        report["purchases"]["documents"],
    ]


@pytest.mark.parametrize(
    "params",
    [
        {"period": "2026-13"},
        {"period": "26-11"},
        {"period": "2026-11-01"},
        {"period": "x" * 5000},
        {},
        {"period": "2026-11", "format": "pdf"},
    ],
)
def test_bad_report_parameters_are_422(tenant: TenantHandle, params: dict[str, str]) -> None:
    with tenant.client() as c:
        for name in ("kdv", "partners", "counts"):
            r = c.get(f"/api/v1/reports/{name}", params=params)
            assert r.status_code == 422, (name, r.text)


def test_a_tenant_sees_only_its_own_figures(
    stored: tuple[TenantHandle, list[dict[str, Any]]], make_tenant: Callable[..., TenantHandle]
) -> None:
    with make_tenant(seal=False).client() as c:
        report = c.get("/api/v1/reports/kdv", params={"period": "2026-11"}).json()
    assert report["sales"]["documents"] == report["purchases"]["documents"] == 0
    assert report["counts"] == []
