"""Reports for accountants and ERPs: the KDV figures of a month (sales and purchases), the same
per partner, and document counts, as JSON-ready dicts, CSV or XLSX.

The figures come from each invoice's stored XML (``documents.tax_facts``: the document-level
``TaxTotal`` and ``WithholdingTaxTotal``), read once per XML and cached (``report_facts``); the
document rows say which invoices belong to the period (issue date), their direction and status.
A foreign-currency invoice is converted to TRY at its own ``PricingExchangeRate``: each amount
of each invoice is multiplied by the rate and rounded to the kuruş, then summed. An invoice in a
foreign currency without a rate cannot be converted: it is listed in ``unconverted`` and left
out of the sums. Invoices GİB refused, that failed, that were cancelled or that the buyer
rejected (RED) are counted but left out of the figures.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import uuid
from collections import defaultdict
from decimal import Decimal
from typing import Any

from entegrator.documents.rounding import round_amount
from entegrator.documents.tax_facts import FACTS_VERSION, KDV, tax_facts
from entegrator.errors import EntegratorError
from entegrator.store import Database
from entegrator.store.blobs import get_blobs
from entegrator.store.reports import PeriodDocument, count_documents, period_invoices, save_facts

__all__ = [
    "EXCLUDED_STATUSES",
    "InvalidPeriodError",
    "ReportService",
    "parse_period",
    "to_csv",
    "to_xlsx",
]

EXCLUDED_STATUSES = frozenset({"rejected_by_gib", "failed", "cancelled", "rejected"})
_PERIOD = re.compile(r"^(20[0-9]{2})-(0[1-9]|1[0-2])$")
_BATCH = 200
ZERO = Decimal(0)


class InvalidPeriodError(EntegratorError):
    code = "INVALID_PERIOD"
    message_tr = "Dönem YYYY-AA biçiminde olmalı (ör. 2026-11)"
    message_en = "The period must be YYYY-MM (e.g. 2026-11)"
    http_status = 422


def parse_period(period: str) -> tuple[dt.date, dt.date]:
    """``YYYY-MM`` → its first and last day."""
    match = _PERIOD.match(period)
    if match is None:
        raise InvalidPeriodError(where="period")
    year, month = int(match[1]), int(match[2])
    start = dt.date(year, month, 1)
    end = dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)
    return start, end


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


class _Sums:
    """One direction's sums in TRY."""

    def __init__(self) -> None:
        self.documents = 0
        self.kdv: dict[Decimal, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
        self.withholding: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
        self.exemptions: dict[str, Decimal] = defaultdict(lambda: ZERO)
        self.other: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
        self.tax_exclusive = ZERO
        self.payable = ZERO

    def add(self, facts: dict[str, Any], rate: Decimal | None) -> None:
        def conv(value: str) -> Decimal:
            amount = Decimal(value)
            return amount if rate is None else round_amount(amount * rate)

        self.documents += 1
        for t in facts["taxes"]:
            base, amount = conv(t["base"]), conv(t["amount"])
            if t["code"] == KDV:
                row = self.kdv[Decimal(t["percent"]).normalize()]
                row[0] += base
                row[1] += amount
                if t["exemption"]:
                    self.exemptions[t["exemption"]] += base
            else:
                other = self.other[t["code"]]
                other[0] += base
                other[1] += amount
        for w in facts["withholding"]:
            row = self.withholding[w["code"]]
            row[0] += conv(w["base"])
            row[1] += conv(w["amount"])
        self.tax_exclusive += conv(facts["tax_exclusive"])
        self.payable += conv(facts["payable"])

    def to_dict(self) -> dict[str, Any]:
        return {
            "documents": self.documents,
            "kdv": [
                {"percent": f"{p:f}", "base": _money(b), "kdv": _money(a)}
                for p, (b, a) in sorted(self.kdv.items())
            ],
            "withholding": [
                {"code": c, "base": _money(b), "amount": _money(a)}
                for c, (b, a) in sorted(self.withholding.items())
            ],
            "exemptions": [
                {"code": c, "base": _money(b)} for c, b in sorted(self.exemptions.items())
            ],
            "other_taxes": [
                {"code": c, "base": _money(b), "amount": _money(a)}
                for c, (b, a) in sorted(self.other.items())
            ],
            "totals": {
                "kdv_base": _money(sum((b for b, _ in self.kdv.values()), ZERO)),
                "kdv": _money(sum((a for _, a in self.kdv.values()), ZERO)),
                "withholding": _money(sum((a for _, a in self.withholding.values()), ZERO)),
                "tax_exclusive": _money(self.tax_exclusive),
                "payable": _money(self.payable),
            },
        }


def _rate(facts: dict[str, Any]) -> tuple[bool, Decimal | None]:
    """(convertible, rate): TRY needs none; another currency needs a positive rate."""
    if facts["currency"] == "TRY":
        return True, None
    rate = Decimal(facts["rate"]) if facts["rate"] is not None else ZERO
    return (True, rate) if rate > 0 else (False, None)


class ReportService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def _invoices(self, tenant_id: uuid.UUID, start: dt.date, end: dt.date) -> list[PeriodDocument]:
        """The period's invoices with their figures (computed and cached where missing)."""
        with self.db.tenant(tenant_id) as conn:
            docs = period_invoices(conn, tenant_id, start, end, FACTS_VERSION)
        missing = list(dict.fromkeys(d.sha256 for d in docs if d.facts is None))
        computed: dict[bytes, dict[str, Any]] = {}
        for i in range(0, len(missing), _BATCH):
            chunk = missing[i : i + _BATCH]
            with self.db.tenant(tenant_id) as conn:
                blobs = get_blobs(conn, tenant_id, chunk)
            facts = [(digest, tax_facts(blobs[digest])) for digest in chunk]
            with self.db.tenant(tenant_id) as conn:
                save_facts(conn, tenant_id, facts, FACTS_VERSION)
            computed.update(facts)
        return [d if d.facts is not None else _with_facts(d, computed[d.sha256]) for d in docs]

    def kdv(self, tenant_id: uuid.UUID, period: str) -> dict[str, Any]:
        start, end = parse_period(period)
        sums = {"out": _Sums(), "in": _Sums()}
        excluded = 0
        unconverted: list[dict[str, Any]] = []
        for doc in self._invoices(tenant_id, start, end):
            if doc.status in EXCLUDED_STATUSES:
                excluded += 1
                continue
            assert doc.facts is not None  # noqa: S101 - filled by _invoices
            ok, rate = _rate(doc.facts)
            if not ok:
                unconverted.append(_unconverted(doc))
                continue
            sums[doc.direction].add(doc.facts, rate)
        return {
            "period": period,
            "from": start.isoformat(),
            "to": end.isoformat(),
            "currency": "TRY",
            "sales": sums["out"].to_dict(),
            "purchases": sums["in"].to_dict(),
            "excluded": {"statuses": sorted(EXCLUDED_STATUSES), "documents": excluded},
            "unconverted": unconverted,
            "counts": self._counts(tenant_id, start, end),
        }

    def partners(self, tenant_id: uuid.UUID, period: str) -> dict[str, Any]:
        start, end = parse_period(period)
        per: dict[tuple[str, str], dict[str, Any]] = {}
        unconverted: list[dict[str, Any]] = []
        for doc in self._invoices(tenant_id, start, end):
            if doc.status in EXCLUDED_STATUSES:
                continue
            assert doc.facts is not None  # noqa: S101 - filled by _invoices
            ok, rate = _rate(doc.facts)
            if not ok:
                unconverted.append(_unconverted(doc))
                continue
            key = (doc.direction, doc.partner_id or "")
            entry = per.setdefault(key, {"name": doc.partner_name, "sums": _Sums()})
            entry["sums"].add(doc.facts, rate)
        partners = []
        for (direction, pid), entry in sorted(per.items()):
            totals = entry["sums"].to_dict()
            partners.append(
                {
                    "direction": direction,
                    "partner": pid or None,
                    "name": entry["name"],
                    "documents": entry["sums"].documents,
                    **totals["totals"],
                }
            )
        return {
            "period": period,
            "from": start.isoformat(),
            "to": end.isoformat(),
            "currency": "TRY",
            "partners": partners,
            "unconverted": unconverted,
        }

    def counts(self, tenant_id: uuid.UUID, period: str) -> dict[str, Any]:
        start, end = parse_period(period)
        return {
            "period": period,
            "from": start.isoformat(),
            "to": end.isoformat(),
            "counts": self._counts(tenant_id, start, end),
        }

    def _counts(self, tenant_id: uuid.UUID, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
        with self.db.tenant(tenant_id) as conn:
            rows = count_documents(conn, tenant_id, start, end)
        return [{"direction": d, "kind": k, "status": s, "count": n} for d, k, s, n in rows]


def _with_facts(doc: PeriodDocument, facts: dict[str, Any]) -> PeriodDocument:
    from dataclasses import replace

    return replace(doc, facts=facts)


def _unconverted(doc: PeriodDocument) -> dict[str, Any]:
    assert doc.facts is not None  # noqa: S101
    return {
        "id": str(doc.document_id),
        "number": doc.number,
        "direction": doc.direction,
        "currency": doc.facts["currency"],
    }


# -- tables: what CSV and XLSX write -------------------------------------------------------------

_SECTIONS = (("sales", "out"), ("purchases", "in"))


def tables(report: dict[str, Any]) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """A report as named tables of (header, rows); amounts as ``Decimal``, counts as ``int``."""
    out: dict[str, tuple[list[str], list[list[Any]]]] = {}
    if "sales" in report:
        kdv: list[list[Any]] = []
        withholding: list[list[Any]] = []
        exemptions: list[list[Any]] = []
        other: list[list[Any]] = []
        totals: list[list[Any]] = []
        for name, _ in _SECTIONS:
            section = report[name]
            kdv += [
                [name, Decimal(r["percent"]), Decimal(r["base"]), Decimal(r["kdv"])]
                for r in section["kdv"]
            ]
            withholding += [
                [name, r["code"], Decimal(r["base"]), Decimal(r["amount"])]
                for r in section["withholding"]
            ]
            exemptions += [[name, r["code"], Decimal(r["base"])] for r in section["exemptions"]]
            other += [
                [name, r["code"], Decimal(r["base"]), Decimal(r["amount"])]
                for r in section["other_taxes"]
            ]
            t = section["totals"]
            totals.append(
                [name, section["documents"]]
                + [
                    Decimal(t[k])
                    for k in ("kdv_base", "kdv", "withholding", "tax_exclusive", "payable")
                ]
            )
        out["kdv"] = (["section", "percent", "base", "kdv"], kdv)
        out["withholding"] = (["section", "code", "base", "amount"], withholding)
        out["exemptions"] = (["section", "code", "base"], exemptions)
        out["other_taxes"] = (["section", "code", "base", "amount"], other)
        out["totals"] = (
            ["section", "documents", "kdv_base", "kdv", "withholding", "tax_exclusive", "payable"],
            totals,
        )
    if "partners" in report:
        out["partners"] = (
            [
                "direction",
                "partner",
                "name",
                "documents",
                "kdv_base",
                "kdv",
                "withholding",
                "tax_exclusive",
                "payable",
            ],
            [
                [p["direction"], p["partner"], p["name"], p["documents"]]
                + [
                    Decimal(p[k])
                    for k in ("kdv_base", "kdv", "withholding", "tax_exclusive", "payable")
                ]
                for p in report["partners"]
            ],
        )
    if "counts" in report:
        out["counts"] = (
            ["direction", "kind", "status", "count"],
            [[c["direction"], c["kind"], c["status"], c["count"]] for c in report["counts"]],
        )
    return out


def to_csv(report: dict[str, Any]) -> str:
    """Every table one after the other, each row led by its table's name (UTF-8, comma
    separated, ``.`` as the decimal point: for programs; XLSX is for Excel)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["period", report["period"], report["from"], report["to"], "TRY"])
    for name, (header, rows) in tables(report).items():
        writer.writerow(["table", *header])
        for row in rows:
            writer.writerow([name, *(_csv_cell(v) for v in row)])
    return buffer.getvalue()


def _csv_cell(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value:f}"
    return "" if value is None else value


_SHEET_NAMES = {
    "kdv": "KDV",
    "withholding": "Tevkifat",
    "exemptions": "İstisna",
    "other_taxes": "Diğer vergiler",
    "totals": "Toplamlar",
    "partners": "Cariler",
    "counts": "Belge sayıları",
}
AMOUNT_FORMAT = "#,##0.00"  # a built-in format: Excel shows it in the reader's locale
COUNT_FORMAT = "0"


def to_xlsx(report: dict[str, Any]) -> bytes:
    """One sheet per table; amounts and counts as numeric cells with number formats."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    for name, (header, rows) in tables(report).items():
        sheet = book.create_sheet(_SHEET_NAMES[name])
        sheet.append([f"{report['period']} ({report['from']} – {report['to']}), TRY"])
        sheet.append(header)
        for row in rows:
            cells: list[Any] = []
            for value in row:
                cell = WriteOnlyCell(sheet, value=value)
                if isinstance(value, Decimal):
                    cell.number_format = AMOUNT_FORMAT
                elif isinstance(value, int):
                    cell.number_format = COUNT_FORMAT
                cells.append(cell)
            sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
