"""What a bulk import reports: one problem, with where it is (row and column, or file and
path), and the errors that refuse a whole file."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from entegrator.errors import EntegratorError

__all__ = [
    "ImportFileError",
    "ImportNotFoundError",
    "Problem",
    "TemplateColumnError",
    "UnknownFormatError",
    "UnreadableFileError",
    "UnsafeArchiveError",
    "locate_draft_path",
]


@dataclass
class Problem:
    """One reason a row group, a file in a zip, or the whole upload was not issued."""

    code: str
    message_tr: str
    message_en: str
    row: int | None = None  # the spreadsheet row (the header is row 1)
    column: str | None = None  # the template column's name
    cell: str | None = None  # its spreadsheet reference, e.g. ``AC17``
    document_key: str | None = None
    file: str | None = None  # a zip entry
    path: str | None = None  # where in the document (JSON path or XPath)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "code": self.code,
            "message_tr": self.message_tr,
            "message_en": self.message_en,
        }
        for name in ("row", "column", "cell", "document_key", "file", "path"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return {k: _printable(v) if isinstance(v, str) else v for k, v in out.items()}


def _printable(text: str) -> str:
    """A text fit for JSON in PostgreSQL and for a terminal: control characters (a NUL
    from a binary upload, say) shown as U+FFFD."""
    return "".join(c if c.isprintable() or c in "\t\n" else "\ufffd" for c in text)


class ImportFileError(EntegratorError):
    """The upload as a whole cannot be imported; nothing of it is issued."""

    code = "IMPORT_FILE_INVALID"
    message_tr = "Dosya içe aktarılamaz: {detail_tr}"
    message_en = "The file cannot be imported: {detail_en}"
    http_status = 422

    def problem(self) -> Problem:
        return Problem(
            self.code,
            self.text_tr,
            self.text_en,
            row=self.data.get("row"),
            column=self.data.get("column"),
            cell=self.data.get("cell"),
            file=self.data.get("file"),
        )


class UnknownFormatError(ImportFileError):
    code = "IMPORT_UNKNOWN_FORMAT"
    message_tr = "Dosya XLSX, CSV veya zip değil: {detail_tr}"
    message_en = "The file is not XLSX, CSV or zip: {detail_en}"
    http_status = 415


class UnsafeArchiveError(ImportFileError):
    """A zip (or XLSX) over the limits (a zip bomb) or with paths that escape it."""

    code = "IMPORT_UNSAFE_ARCHIVE"
    message_tr = "Arşiv reddedildi: {detail_tr}"
    message_en = "The archive is refused: {detail_en}"


class UnreadableFileError(ImportFileError):
    code = "IMPORT_UNREADABLE"
    message_tr = "Dosya okunamadı: {detail_tr}"
    message_en = "The file cannot be read: {detail_en}"


class TemplateColumnError(ImportFileError):
    """The header row does not follow the template (an unknown, missing or repeated column)."""

    code = "IMPORT_TEMPLATE_COLUMN"
    message_tr = "Şablon sütunu hatalı: {detail_tr}"
    message_en = "Template column problem: {detail_en}"


class ImportNotFoundError(EntegratorError):
    code = "IMPORT_NOT_FOUND"
    message_tr = "İçe aktarma bulunamadı"
    message_en = "Import not found"
    http_status = 404


_LINE = re.compile(r"^lines\[(\d+)\](?:\.([a-z_]+))?")

# A draft field (JSON path) → the template column its value came from.
DOCUMENT_FIELDS = {
    "profile": "profile",
    "type": "invoice_type",
    "number": "number",
    "issue_date": "issue_date",
    "issue_time": "issue_time",
    "currency": "currency",
    "exchange_rate": "exchange_rate",
    "notes": "note",
    "order_reference.id": "order_number",
    "order_reference.issue_date": "order_date",
    "order_reference": "order_number",
    "supplier.tax_office": "supplier_tax_office",
    "supplier.address.street": "supplier_street",
    "supplier.address.district": "supplier_district",
    "supplier.address.city": "supplier_city",
    "customer.vkn": "customer_id",
    "customer.tckn": "customer_id",
    "customer.name": "customer_name",
    "customer.first_name": "customer_first_name",
    "customer.family_name": "customer_family_name",
    "customer.tax_office": "customer_tax_office",
    "customer.address.street": "customer_street",
    "customer.address.district": "customer_district",
    "customer.address.city": "customer_city",
    "customer.address.country": "customer_country",
    "customer.contact.email": "customer_email",
    "customer.contact.telephone": "customer_telephone",
    "customer": "customer_id",
}
LINE_FIELDS = {
    "name": "line_name",
    "quantity": "quantity",
    "unit_code": "unit_code",
    "unit_price": "unit_price",
    "allowances_charges": "discount_amount",
    "kdv_percent": "kdv_percent",
    "exemption_code": "exemption_code",
    "exemption_reason": "exemption_reason",
    "withholding_code": "withholding_code",
    "withholding_percent": "withholding_percent",
    "seller_item_id": "seller_item_id",
    "notes": "line_note",
}


def locate_draft_path(where: str | None) -> tuple[int | None, str | None]:
    """A draft's JSON path → (the line's index or None for the document, the column)."""
    if not where:
        return None, None
    line = _LINE.match(where)
    if line is not None:
        return int(line.group(1)), LINE_FIELDS.get(line.group(2) or "")
    path = re.sub(r"\[\d+\]", "", where).removeprefix("/")
    while path:
        if path in DOCUMENT_FIELDS:
            return None, DOCUMENT_FIELDS[path]
        path = path.rpartition(".")[0]
    return None, None
