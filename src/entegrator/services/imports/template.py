"""The bulk-import template: its columns, and the empty XLSX or CSV file an ERP fills in.

One row per invoice line. The rows of one invoice follow each other and share its
``document_key`` (the ERP's own key for the document); the document's columns (buyer, dates…)
are read from its first row and may be left empty on the others. ``docs/erp.md`` describes
every column; the XLSX template carries GİB's code lists as dropdowns (sheet ``Kodlar``).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from entegrator.documents.codes import code_list, rules

__all__ = [
    "CODE_SHEET",
    "COLUMNS",
    "DATA_SHEET",
    "Column",
    "by_name",
    "column_letter",
    "profiles",
    "write_csv",
    "write_xlsx",
]

DATA_SHEET = "Faturalar"
CODE_SHEET = "Kodlar"
HELP_SHEET = "Açıklama"

Kind = Literal["text", "decimal", "date", "time", "code", "id"]


@dataclass(frozen=True)
class Column:
    name: str
    level: Literal["document", "line"]
    kind: Kind
    required: bool
    example: str
    title_tr: str
    title_en: str
    codes: str | None = None  # the code list its values come from (a dropdown in the XLSX)


def profiles() -> list[str]:
    return sorted(code_list("ProfileIDType") | code_list("ProfileIDTypeEarchive"))


def _codes(name: str) -> list[str]:
    if name == "ProfileID":
        return profiles()
    if name == "KDVRate":
        return sorted(rules()["kdv_rates"], key=int)
    return sorted(code_list(name))


def _c(  # noqa: PLR0917 - one column per call, read as a table
    name: str,
    level: Literal["document", "line"],
    kind: Kind,
    required: bool,
    example: str,
    tr: str,
    en: str,
    codes: str | None = None,
) -> Column:
    return Column(name, level, kind, required, example, tr, en, codes)


D: Literal["document"] = "document"
L: Literal["line"] = "line"

COLUMNS: tuple[Column, ...] = (
    _c("document_key", D, "text", True, "ERP-2026-000123",
       "Belge anahtarı (ERP'nin kendi anahtarı)", "Document key (the ERP's own key)"),
    _c("profile", D, "code", True, "TEMELFATURA", "Senaryo (ProfileID)", "Scenario (ProfileID)",
       "ProfileID"),
    _c("invoice_type", D, "code", True, "SATIS", "Fatura tipi", "Invoice type",
       "InvoiceTypeCodeList"),
    _c("series", D, "text", False, "", "Seri (boş: hesabın varsayılan serisi)",
       "Series (empty: the account's default)"),
    _c("number", D, "text", False, "", "Fatura numarası (boş: seriden verilir)",
       "Invoice number (empty: taken from the series)"),
    _c("issue_date", D, "date", True, "2026-11-24", "Düzenleme tarihi", "Issue date"),
    _c("issue_time", D, "time", False, "", "Düzenleme saati", "Issue time"),
    _c("currency", D, "code", False, "TRY", "Para birimi", "Currency", "CurrencyCodeList"),
    _c("exchange_rate", D, "decimal", False, "", "Döviz kuru", "Exchange rate"),
    _c("note", D, "text", False, "Ödeme 30 gün içinde", "Not", "Note"),
    _c("order_number", D, "text", False, "", "Sipariş numarası", "Order number"),
    _c("order_date", D, "date", False, "", "Sipariş tarihi", "Order date"),
    _c("supplier_tax_office", D, "text", False, "Çankaya", "Satıcı vergi dairesi",
       "Supplier tax office"),
    _c("supplier_street", D, "text", False, "İnönü Cad. 5", "Satıcı cadde/sokak",
       "Supplier street"),
    _c("supplier_district", D, "text", True, "Çankaya", "Satıcı ilçe", "Supplier district"),
    _c("supplier_city", D, "text", True, "Ankara", "Satıcı il", "Supplier city"),
    _c("customer_id", D, "id", True, "7047649710", "Alıcı VKN (10 hane) veya TCKN (11 hane)",
       "Buyer VKN (10 digits) or TCKN (11 digits)"),
    _c("customer_name", D, "text", False, "Işık Tekstil A.Ş.", "Alıcı unvanı (VKN ile)",
       "Buyer's name (with a VKN)"),
    _c("customer_first_name", D, "text", False, "", "Alıcı adı (TCKN ile)",
       "Buyer's first name (with a TCKN)"),
    _c("customer_family_name", D, "text", False, "", "Alıcı soyadı (TCKN ile)",
       "Buyer's family name (with a TCKN)"),
    _c("customer_tax_office", D, "text", False, "Nilüfer", "Alıcı vergi dairesi",
       "Buyer's tax office"),
    _c("customer_street", D, "text", False, "Atatürk Cad. 65", "Alıcı cadde/sokak",
       "Buyer's street"),
    _c("customer_district", D, "text", True, "Konak", "Alıcı ilçe", "Buyer's district"),
    _c("customer_city", D, "text", True, "İzmir", "Alıcı il", "Buyer's city"),
    _c("customer_country", D, "text", False, "Türkiye", "Alıcı ülke", "Buyer's country"),
    _c("customer_email", D, "text", False, "fatura@example.com.tr", "Alıcı e-posta",
       "Buyer's e-mail"),
    _c("customer_telephone", D, "text", False, "", "Alıcı telefon", "Buyer's telephone"),
    _c("line_name", L, "text", True, "Yazılım lisansı", "Mal/hizmet adı", "Item name"),
    _c("quantity", L, "decimal", True, "2", "Miktar", "Quantity"),
    _c("unit_code", L, "code", False, "C62", "Birim kodu", "Unit code", "UnitCodeList"),
    _c("unit_price", L, "decimal", True, "1500,00", "Birim fiyat", "Unit price"),
    _c("discount_amount", L, "decimal", False, "", "İskonto tutarı", "Discount amount"),
    _c("kdv_percent", L, "decimal", True, "20", "KDV oranı (%)", "KDV rate (%)", "KDVRate"),
    _c("exemption_code", L, "code", False, "", "KDV istisna/muafiyet kodu",
       "KDV exemption code", "TaxExemptionReasonCodeType"),
    _c("exemption_reason", L, "text", False, "", "İstisna açıklaması", "Exemption reason"),
    _c("withholding_code", L, "code", False, "", "Tevkifat kodu", "Withholding code",
       "WithholdingTaxType"),
    _c("withholding_percent", L, "decimal", False, "", "Tevkifat oranı (%)",
       "Withholding rate (%)"),
    _c("seller_item_id", L, "text", False, "LIS-1", "Satıcı ürün kodu", "Seller's item code"),
    _c("line_note", L, "text", False, "", "Satır notu", "Line note"),
)  # fmt: skip

_BY_NAME = {c.name: c for c in COLUMNS}


def by_name(name: str) -> Column | None:
    return _BY_NAME.get(name)


def column_letter(index: int) -> str:
    """The spreadsheet letter of a 0-based column index (0 → A, 27 → AB)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _code_lists() -> list[tuple[str, list[str]]]:
    names = sorted({c.codes for c in COLUMNS if c.codes})
    return [(name, _codes(name)) for name in names]


def write_csv(target: Path) -> None:
    """The CSV template: UTF-8 with a BOM (Excel opens it right), ``;``-separated, the header
    and one example row (decimal comma)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([c.name for c in COLUMNS])
    writer.writerow([c.example for c in COLUMNS])
    target.write_text(buffer.getvalue(), encoding="utf-8-sig")


def write_xlsx(target: Path, *, rows: int = 10_000) -> None:
    """The XLSX template: the header, one example row, the columns' descriptions, and
    GİB's code lists as dropdowns over the first ``rows`` rows."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    sheet = book.active
    assert sheet is not None  # noqa: S101 - a new workbook has its sheet
    sheet.title = DATA_SHEET
    codes = book.create_sheet(CODE_SHEET)
    help_sheet = book.create_sheet(HELP_SHEET)
    ranges: dict[str, str] = {}
    for index, (name, values) in enumerate(_code_lists()):
        letter = column_letter(index)
        codes.cell(row=1, column=index + 1, value=name).font = Font(bold=True)
        for row, value in enumerate(values, start=2):
            codes.cell(row=row, column=index + 1, value=value).number_format = "@"
        ranges[name] = f"'{CODE_SHEET}'!${letter}$2:${letter}${len(values) + 1}"
    help_sheet.append(["column", "zorunlu / required", "açıklama", "description", "kod listesi"])
    for index, column in enumerate(COLUMNS, start=1):
        head = sheet.cell(row=1, column=index, value=column.name)
        head.font = Font(bold=True)
        head.comment = Comment(f"{column.title_tr}\n{column.title_en}", "entegrator")
        letter = column_letter(index - 1)
        # Text columns: a VKN keeps its leading zero, a code stays a code, and a decimal
        # comma stays as typed (the reader accepts numbers and text alike).
        sheet.column_dimensions[letter].number_format = "@"
        sheet.column_dimensions[letter].width = max(12, len(column.name) + 2)
        sheet.cell(row=2, column=index, value=column.example or None).number_format = "@"
        if column.codes:
            rule = DataValidation(
                type="list",
                formula1=f"={ranges[column.codes]}",
                allow_blank=not column.required,
                showErrorMessage=True,
                errorTitle="Geçersiz kod / Invalid code",
                error=f"{column.codes}: GİB kod listesinde yok / not in GİB's code list",
            )
            rule.add(f"{letter}2:{letter}{rows + 1}")
            sheet.add_data_validation(rule)
        help_sheet.append(
            [
                column.name,
                "evet / yes" if column.required else "",
                column.title_tr,
                column.title_en,
                column.codes or "",
            ]
        )
    sheet.freeze_panes = "A2"
    book.save(target)
