"""Monthly sales and purchases (raporlar): invoices per month, KDV by rate, withholding.

The month list comes from the documents' stored amounts; the breakdown of a month (KDV by rate,
withholding by code) as the tax office reads an invoice: the KDV subtotals (TaxTypeCode 0015)
grouped by percent — kept in each row since migration 0009, read from the XML for older and
incoming rows — and the withholding subtotals (WithholdingTaxTotal) by code and percent, read
from the XML of the invoices whose type may carry them. Cancelled, refused and failed invoices
do not count. The sums are of TRY invoices; those in other currencies are counted apart.
"""

from __future__ import annotations

import datetime as dt
import io
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from lxml import etree

from entegrator.documents import safe_xml
from entegrator.documents.codes import rules
from entegrator.documents.errors import XMLError
from entegrator.documents.ns import CAC, CBC
from entegrator.store import Database, blobs
from entegrator.store import monthly_reports as store

__all__ = ["MonthBreakdown", "MonthTotals", "breakdown", "monthly", "to_xlsx"]

ZERO = Decimal("0.00")


@dataclass
class MonthTotals:
    month: dt.date
    sales_count: int = 0
    sales_base: Decimal = ZERO
    sales_tax: Decimal = ZERO
    sales_payable: Decimal = ZERO
    purchases_count: int = 0
    purchases_base: Decimal = ZERO
    purchases_tax: Decimal = ZERO
    purchases_payable: Decimal = ZERO


# Months before the current one change rarely (a late cancellation, an incoming invoice dated
# back) and cost a pass over up to a year of documents: each process keeps them per tenant and
# year for a while; the current month is always read afresh.
PAST_MONTHS_SECONDS = 300.0
_past: dict[tuple[uuid.UUID, int, dt.date], tuple[float, list[store.MonthRow]]] = {}


def _past_rows(
    db: Database, tenant_id: uuid.UUID, year: int, current: dt.date
) -> list[store.MonthRow]:
    first, after = dt.date(year, 1, 1), min(dt.date(year + 1, 1, 1), current)
    if after <= first:
        return []
    key = (tenant_id, year, after)
    now = time.monotonic()
    kept = _past.get(key)
    if kept is not None and kept[0] > now:
        return kept[1]
    with db.tenant(tenant_id) as conn:
        rows = store.monthly(conn, tenant_id, first, after)
    if len(_past) > 10_000:
        _past.clear()
    _past[key] = (now + PAST_MONTHS_SECONDS, rows)
    return rows


def monthly(
    db: Database, tenant_id: uuid.UUID, year: int, *, today: dt.date | None = None
) -> list[MonthTotals]:
    """Twelve months of ``year``, empty ones included. With ``today``, the months before
    today's are kept for ``PAST_MONTHS_SECONDS`` and only today's month is read afresh."""
    months = {m: MonthTotals(dt.date(year, m, 1)) for m in range(1, 13)}
    if today is None:
        with db.tenant(tenant_id) as conn:
            rows = store.monthly(conn, tenant_id, dt.date(year, 1, 1), dt.date(year + 1, 1, 1))
    else:
        current = today.replace(day=1)
        rows = list(_past_rows(db, tenant_id, year, current))
        if current.year == year:
            after = (current + dt.timedelta(days=32)).replace(day=1)
            with db.tenant(tenant_id) as conn:
                rows += store.monthly(conn, tenant_id, current, after)
    for r in rows:
        t = months[r.month.month]
        if r.direction == "out":
            t.sales_count, t.sales_base = r.count, r.tax_exclusive
            t.sales_tax, t.sales_payable = r.tax_total, r.payable
        else:
            t.purchases_count, t.purchases_base = r.count, r.tax_exclusive
            t.purchases_tax, t.purchases_payable = r.tax_total, r.payable
    return list(months.values())


@dataclass
class MonthBreakdown:
    """One month: per direction (``out`` sales, ``in`` purchases), KDV by percent as
    (taxable, tax) and withholding by (code, percent) as (withheld-from KDV, withheld)."""

    month: dt.date
    kdv: dict[str, dict[Decimal, tuple[Decimal, Decimal]]] = field(default_factory=dict)
    withholding: dict[str, dict[tuple[str, Decimal], tuple[Decimal, Decimal]]] = field(
        default_factory=dict
    )
    other_currency: int = 0  # invoices not in TRY, left out of the sums
    unreadable: int = 0


def _dec(node: etree._Element, path: str) -> Decimal:
    text = node.findtext(path)
    try:
        return Decimal(text.strip()) if text else ZERO
    except InvalidOperation:
        return ZERO


def _add(table: dict, key: object, taxable: Decimal, amount: Decimal) -> None:  # type: ignore[type-arg]
    old = table.get(key, (ZERO, ZERO))
    table[key] = (old[0] + taxable, old[1] + amount)


def breakdown(db: Database, tenant_id: uuid.UUID, month: dt.date) -> MonthBreakdown:
    """KDV by rate from the rows that keep it; the XML is read only for the rest and for
    invoices of a type that may withhold KDV (the withholding is not in the rows)."""
    out = MonthBreakdown(month.replace(day=1))
    kdv: dict[str, dict[Decimal, tuple[Decimal, Decimal]]] = defaultdict(dict)
    wht: dict[str, dict[tuple[str, Decimal], tuple[Decimal, Decimal]]] = defaultdict(dict)
    with db.tenant(tenant_id) as conn:
        for direction, rate, taxable, tax in store.kdv_of_month(conn, tenant_id, month):
            _add(kdv[direction], Decimal(rate).normalize(), taxable, tax)
        out.other_currency = store.other_currency_count(conn, tenant_id, month)
        docs = store.documents_of_month(
            conn, tenant_id, month, withholding_types=list(rules()["withholding_types"])
        )
        datas = blobs.get_blobs(conn, tenant_id, [d.sha256 for d in docs])
    scheme = f"{CAC}TaxCategory/{CAC}TaxScheme/{CBC}TaxTypeCode"
    for doc in docs:
        try:
            root = safe_xml.parse(datas[doc.sha256])
        except (XMLError, KeyError):
            out.unreadable += 1
            continue
        if not doc.kdv_known:
            for sub in root.iterfind(f"{CAC}TaxTotal/{CAC}TaxSubtotal"):
                if (sub.findtext(scheme) or "").strip() == "0015":
                    percent = _dec(sub, f"{CBC}Percent").normalize()
                    taxable, amount = _dec(sub, f"{CBC}TaxableAmount"), _dec(sub, f"{CBC}TaxAmount")
                    _add(kdv[doc.direction], percent, taxable, amount)
        for sub in root.iterfind(f"{CAC}WithholdingTaxTotal/{CAC}TaxSubtotal"):
            code = (sub.findtext(scheme) or "").strip()
            percent = _dec(sub, f"{CBC}Percent").normalize()
            taxable, amount = _dec(sub, f"{CBC}TaxableAmount"), _dec(sub, f"{CBC}TaxAmount")
            _add(wht[doc.direction], (code, percent), taxable, amount)
    out.kdv, out.withholding = dict(kdv), dict(wht)
    return out


_MONEY = "#,##0.00"


def to_xlsx(year: int, months: list[MonthTotals], detail: MonthBreakdown | None) -> bytes:
    """The report as an XLSX workbook: numbers are numbers (Decimal), formatted to the kuruş."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None  # noqa: S101 - a new workbook has one sheet
    sheet.title = f"{year}"
    head = [
        "Ay",
        "Satış adedi",
        "Satış matrahı",
        "Satış vergileri",
        "Satış toplamı",
        "Alış adedi",
        "Alış matrahı",
        "Alış vergileri",
        "Alış toplamı",
    ]
    sheet.append(head)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for m in months:
        sheet.append(
            [
                m.month.strftime("%Y-%m"),
                m.sales_count,
                m.sales_base,
                m.sales_tax,
                m.sales_payable,
                m.purchases_count,
                m.purchases_base,
                m.purchases_tax,
                m.purchases_payable,
            ]
        )
    for row in sheet.iter_rows(min_row=2, min_col=2):
        for cell in row:
            if isinstance(cell.value, Decimal):
                cell.number_format = _MONEY
    if detail is not None:
        ws = book.create_sheet(f"KDV {detail.month.strftime('%Y-%m')}")
        ws.append(["Yön", "Vergi", "Oran (%)", "Matrah", "Vergi tutarı"])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for direction, label in (("out", "Satış"), ("in", "Alış")):
            for percent, (taxable, amount) in sorted(detail.kdv.get(direction, {}).items()):
                ws.append([label, "KDV", percent, taxable, amount])
            for (code, percent), (taxable, amount) in sorted(
                detail.withholding.get(direction, {}).items()
            ):
                ws.append([label, f"KDV tevkifatı {code}", percent, taxable, amount])
        for row in ws.iter_rows(min_row=2, min_col=4):
            for cell in row:
                cell.number_format = _MONEY
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
