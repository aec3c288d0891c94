"""Bulk-import files for tests: template rows, written as XLSX, CSV or a zip."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from entegrator.services.imports.template import COLUMNS

__all__ = ["HEADER", "invoice_rows", "row", "write_csv", "write_xlsx"]

HEADER = [c.name for c in COLUMNS]

_BASE: dict[str, Any] = {
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
    "line_name": "Yazılım lisansı",
    "quantity": "2",
    "unit_code": "C62",
    "unit_price": "1500,00",
    "kdv_percent": "20",
}


def row(key: str, **changes: Any) -> dict[str, Any]:
    return _BASE | {"document_key": key} | changes


def invoice_rows(prefix: str, documents: int, lines: int = 1) -> list[dict[str, Any]]:
    """``documents`` invoices of ``lines`` lines each, keyed ``<prefix>-<n>``."""
    return [
        row(f"{prefix}-{n}", line_name=f"Kalem {n}/{i}", quantity=str(i + 1))
        for n in range(documents)
        for i in range(lines)
    ]


def _cells(rows: Iterable[dict[str, Any]], header: list[str]) -> Iterable[list[Any]]:
    yield header
    for r in rows:
        yield [r.get(name) for name in header]


def write_xlsx(path: Path, rows: Iterable[dict[str, Any]], header: list[str] = HEADER) -> Path:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Faturalar")
    for values in _cells(rows, header):
        sheet.append(values)
    book.save(path)
    return path


def write_csv(
    path: Path,
    rows: Iterable[dict[str, Any]],
    *,
    encoding: str = "utf-8",
    delimiter: str = ";",
    header: list[str] = HEADER,
) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    for values in _cells(rows, header):
        writer.writerow(["" if v is None else v for v in values])
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path
