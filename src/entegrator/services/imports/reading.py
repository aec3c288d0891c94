"""Reading an upload, streamed: XLSX and CSV rows grouped into invoices, or a zip of drafts
(JSON) and UBL-TR XML files.

Nothing reads a whole file into memory: CSV is read a record at a time, XLSX through
openpyxl's read-only mode, a zip one entry at a time. A zip, and an XLSX (itself a zip), is
checked against the limits before it is opened (entry count, total uncompressed size, the
compression ratio, paths that leave the archive) and again while it is read, since the sizes
a zip declares can lie; XML parts with a document type declaration are refused.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import math
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path, PurePosixPath
from typing import Any

from entegrator.documents import read_draft
from entegrator.documents.codes import code_list
from entegrator.documents.errors import DraftError
from entegrator.documents.model import InvoiceDraft
from entegrator.services.imports import template
from entegrator.services.imports.problems import (
    Problem,
    TemplateColumnError,
    UnknownFormatError,
    UnreadableFileError,
    UnsafeArchiveError,
    locate_draft_path,
)

__all__ = [
    "Candidate",
    "Limits",
    "Supplier",
    "candidates",
    "check_archive",
    "parse_decimal",
    "sniff",
]

_CHUNK = 1 << 16


@dataclass(frozen=True)
class Limits:
    max_entries: int = 100_000
    max_uncompressed: int = 2 * 1024**3  # the sum over a zip's entries
    max_ratio: int = 200  # uncompressed / compressed, of an entry over 1 MiB
    max_entry_bytes: int = 50 * 1024 * 1024
    max_rows: int = 1_000_000
    max_lines: int = 10_000  # lines of one invoice


@dataclass(frozen=True)
class Supplier:
    """The tenant: every imported invoice is its own."""

    vkn: str
    name: str


@dataclass
class Candidate:
    """One document of the upload: a row group (XLSX, CSV) or a zip entry."""

    key: str
    row: int | None = None  # its first row
    file: str | None = None
    draft: InvoiceDraft | None = None
    xml: bytes | None = None
    series: str | None = None
    problems: list[Problem] = field(default_factory=list)
    line_rows: list[int] = field(default_factory=list)
    rows: int = 0
    letters: dict[str, str] = field(default_factory=dict)  # template column → its letter

    def request_sha256(self) -> bytes:
        """What makes a second import of the same document the same request."""
        body = self.draft.model_dump_json().encode() if self.draft is not None else self.xml
        return hashlib.sha256(
            b"\0".join((b"import", (self.series or "").encode(), body or b""))
        ).digest()

    def place(self, where: str | None) -> Problem:
        """An empty problem placed at a draft's JSON path (row and column) or XPath."""
        line, column = locate_draft_path(where)
        row = self.row
        if line is not None and line < len(self.line_rows):
            row = self.line_rows[line]
        cell = None
        if row is not None and column is not None:
            cell = f"{self.letters[column]}{row}" if column in self.letters else None
        return Problem(
            "",
            "",
            "",
            row=row,
            column=column,
            cell=cell,
            document_key=self.key,
            file=self.file,
            path=None if column is not None and self.file is None else where,
        )


# -- format and container ------------------------------------------------------------------


def sniff(path: Path) -> str:
    """``xlsx``, ``zip`` or ``csv`` from the file's first bytes and, for a zip, its parts."""
    with path.open("rb") as f:
        head = f.read(8)
    if not head:
        raise UnknownFormatError(detail_tr="dosya boş", detail_en="the file is empty")
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise UnreadableFileError(
                detail_tr=f"bozuk zip ({exc})", detail_en=f"a damaged zip ({exc})"
            ) from None
        return "xlsx" if "xl/workbook.xml" in names else "zip"
    if head.startswith((b"\xd0\xcf\x11\xe0", b"%PDF", b"\x7fELF", b"\x1f\x8b")):
        raise UnknownFormatError(
            detail_tr="eski XLS, PDF veya başka bir ikili dosya; XLSX veya CSV kullanın",
            detail_en="an old XLS, a PDF or another binary file; use XLSX or CSV",
        )
    return "csv"


def _unsafe_name(name: str) -> bool:
    if "\\" in name or name.startswith("/") or re.match(r"^[A-Za-z]:", name) or "\0" in name:
        return True
    return ".." in PurePosixPath(name).parts


def check_archive(path: Path, limits: Limits) -> None:
    """Refuse a zip bomb or a zip with paths that escape it, by what its directory declares
    (reading checks the real sizes again)."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise UnreadableFileError(
            detail_tr=f"bozuk zip ({exc})", detail_en=f"a damaged zip ({exc})"
        ) from None
    if len(infos) > limits.max_entries:
        raise UnsafeArchiveError(
            detail_tr=f"{len(infos)} dosya, sınır {limits.max_entries}",
            detail_en=f"{len(infos)} entries, the limit is {limits.max_entries}",
        )
    total = 0
    seen: set[str] = set()
    for info in infos:
        if _unsafe_name(info.filename):
            raise UnsafeArchiveError(
                detail_tr=f"arşiv dışına çıkan veya mutlak yol: {info.filename!r}",
                detail_en=f"a path that leaves the archive or is absolute: {info.filename!r}",
                file=info.filename,
            )
        if info.filename in seen:
            raise UnsafeArchiveError(
                detail_tr=f"aynı adlı iki dosya: {info.filename!r}",
                detail_en=f"two entries of the same name: {info.filename!r}",
                file=info.filename,
            )
        seen.add(info.filename)
        total += info.file_size
        _check_ratio(info.filename, info.file_size, info.compress_size, limits)
    if total > limits.max_uncompressed:
        raise UnsafeArchiveError(
            detail_tr=f"açılmış boyut {total} bayt, sınır {limits.max_uncompressed}",
            detail_en=f"{total} bytes uncompressed, the limit is {limits.max_uncompressed}",
        )


def _check_ratio(name: str, size: int, compressed: int, limits: Limits) -> None:
    if size > 1024 * 1024 and size > limits.max_ratio * max(compressed, 1):
        raise UnsafeArchiveError(
            detail_tr=f"{name!r} {size} bayta açılıyor ({compressed} bayttan): sıkıştırma "
            f"oranı {limits.max_ratio}'ü aşıyor",
            detail_en=f"{name!r} expands to {size} bytes (from {compressed}): the "
            f"compression ratio exceeds {limits.max_ratio}",
            file=name,
        )


def _read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """An entry's bytes, never more than ``limit`` (whatever its header declares)."""
    with archive.open(info) as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise UnsafeArchiveError(
            detail_tr=f"{info.filename!r} {limit} baytı aşıyor",
            detail_en=f"{info.filename!r} exceeds {limit} bytes",
            file=info.filename,
        )
    return data


def _scan_xlsx(path: Path, limits: Limits) -> None:
    """Every part of an XLSX, read to the end under the limits: the real sizes, and no XML
    part with a document type declaration (entities) reaches the reader."""
    total = 0
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            tail = b""
            size = 0
            with archive.open(info) as f:
                while chunk := f.read(_CHUNK):
                    size += len(chunk)
                    total += len(chunk)
                    if total > limits.max_uncompressed or size > max(info.file_size, 0) + len(
                        chunk
                    ):
                        raise UnsafeArchiveError(
                            detail_tr=f"{info.filename!r} bildirdiğinden büyük açılıyor",
                            detail_en=f"{info.filename!r} expands beyond what it declares",
                            file=info.filename,
                        )
                    window = tail + chunk
                    if b"<!DOCTYPE" in window or b"<!ENTITY" in window:
                        raise UnsafeArchiveError(
                            detail_tr=f"{info.filename!r} belge tipi bildirimi (DTD) içeriyor",
                            detail_en=f"{info.filename!r} has a document type declaration",
                            file=info.filename,
                        )
                    tail = chunk[-16:]
            _check_ratio(info.filename, size, info.compress_size, limits)


# -- cells ---------------------------------------------------------------------------------

_PLAIN = re.compile(r"^[+-]?\d+(\.\d+)?$")
_TURKISH = re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?$")


def parse_decimal(text: str) -> Decimal | None:
    """A number as the template documents it: ``1234.56``, ``1234,56`` or ``1.234,56``.

    With a comma, the comma is the decimal separator and dots may group thousands; without
    one, a dot is the decimal separator. None when it is neither.

    >>> parse_decimal("1.234,56"), parse_decimal("1234.56"), parse_decimal("0,5")
    (Decimal('1234.56'), Decimal('1234.56'), Decimal('0.5'))
    >>> parse_decimal("1,234.56") is None, parse_decimal("1.234.567") is None
    (True, True)
    """
    value = text.strip().replace("\u00a0", "").replace(" ", "")
    if "," in value:
        if not _TURKISH.match(value):
            return None
        value = value.replace(".", "").replace(",", ".")
    elif not _PLAIN.match(value):
        return None
    try:
        return Decimal(value)
    except InvalidOperation:  # pragma: no cover - the patterns let only numbers through
        return None


def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    return str(value).strip()


def _date(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value)
    for pattern in ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(text, pattern).date()  # noqa: DTZ007 - a date only
        except ValueError:
            continue
    return None


def _time(value: object) -> dt.time | None:
    if isinstance(value, dt.datetime):
        return value.time()
    if isinstance(value, dt.time):
        return value
    text = _text(value)
    for pattern in ("%H:%M:%S", "%H:%M"):
        try:
            return dt.datetime.strptime(text, pattern).time()  # noqa: DTZ007 - a time only
        except ValueError:
            continue
    return None


def _number(value: object) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        # Excel keeps numbers as binary doubles; their shortest decimal form is what it shows.
        return Decimal(repr(value)) if math.isfinite(value) else None
    return parse_decimal(_text(value))


def _codes(name: str) -> frozenset[str]:
    if name == "ProfileID":
        return frozenset(template.profiles())
    if name == "KDVRate":
        return frozenset()  # any percent: GİB's rules judge the rate with the document
    return code_list(name)


# -- rows → invoices -----------------------------------------------------------------------


@dataclass
class _Header:
    names: list[str | None]  # per spreadsheet column, the template column (None: empty)
    index: dict[str, int]
    letters: dict[str, str]


def _header(row_number: int, values: Sequence[object]) -> _Header:
    names: list[str | None] = []
    index: dict[str, int] = {}
    for position, raw in enumerate(values):
        name = _text(raw).lower() if raw is not None else ""
        letter = template.column_letter(position)
        if not name:
            names.append(None)
            continue
        if template.by_name(name) is None:
            raise TemplateColumnError(
                detail_tr=f"{letter}{row_number} hücresindeki '{_text(raw)[:60]}' şablonda yok",
                detail_en=f"'{_text(raw)[:60]}' in cell {letter}{row_number} is not a template "
                "column",
                row=row_number,
                column=_text(raw)[:60],
                cell=f"{letter}{row_number}",
            )
        if name in index:
            raise TemplateColumnError(
                detail_tr=f"'{name}' sütunu iki kez var ({letter}{row_number})",
                detail_en=f"column '{name}' appears twice ({letter}{row_number})",
                row=row_number,
                column=name,
                cell=f"{letter}{row_number}",
            )
        index[name] = position
        names.append(name)
    missing = [c.name for c in template.COLUMNS if c.required and c.name not in index]
    if missing:
        raise TemplateColumnError(
            detail_tr=f"zorunlu sütun eksik: {', '.join(missing)}",
            detail_en=f"required column missing: {', '.join(missing)}",
            row=row_number,
            column=missing[0],
        )
    letters = {name: template.column_letter(i) for name, i in index.items()}
    return _Header(names, index, letters)


def _blank(values: Sequence[object]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


class _Group:
    def __init__(self, key: str, row: int, letters: dict[str, str]) -> None:
        self.candidate = Candidate(key=key, row=row, letters=letters)
        self.document: dict[str, Any] = {}
        self.lines: list[dict[str, Any]] = []


def _cell(group: _Group, column: template.Column, raw: object, row: int) -> tuple[bool, Any]:
    """(present, value) of one cell; a problem is added for a value that does not read."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return False, None
    value: Any
    kind = column.kind
    if kind == "decimal":
        value = _number(raw)
        what_tr, what_en = "sayı (1234,56 veya 1234.56)", "a number (1234,56 or 1234.56)"
    elif kind == "date":
        value = _date(raw)
        what_tr, what_en = "tarih (YYYY-AA-GG veya GG.AA.YYYY)", "a date (YYYY-MM-DD or DD.MM.YYYY)"
    elif kind == "time":
        value = _time(raw)
        what_tr, what_en = "saat (SS:DD[:ss])", "a time (HH:MM[:SS])"
    elif kind == "id":
        text = _text(raw)
        if text.isdigit() and len(text) < 10 and not isinstance(raw, str):
            text = text.zfill(10)  # a VKN typed as a number lost its leading zero
        value = text if text.isdigit() and len(text) in (10, 11) else None
        what_tr, what_en = "VKN (10 hane) veya TCKN (11 hane)", "a VKN (10 digits) or TCKN (11)"
    else:
        value = _text(raw)
        what_tr = what_en = ""
        if kind == "code" and column.codes:
            value = value.upper() if column.codes != "UnitCodeList" else value
            allowed = _codes(column.codes)
            if allowed and value not in allowed:
                _problem(
                    group,
                    row,
                    column.name,
                    "IMPORT_UNKNOWN_CODE",
                    f"'{value[:40]}' {column.codes} kod listesinde yok",
                    f"'{value[:40]}' is not in GİB's {column.codes} code list",
                )
                return True, None
    if value is None:
        _problem(
            group,
            row,
            column.name,
            "IMPORT_BAD_VALUE",
            f"'{_text(raw)[:40]}' okunamadı: {what_tr} bekleniyor",
            f"'{_text(raw)[:40]}' does not read: expected {what_en}",
        )
        return True, None
    return True, value


def _problem(  # noqa: PLR0917 - where and what, read as one sentence
    group: _Group, row: int, column: str, code: str, tr: str, en: str
) -> None:
    letter = group.candidate.letters.get(column, "")
    group.candidate.problems.append(
        Problem(
            code,
            f"{column}: {tr}",
            f"{column}: {en}",
            row=row,
            column=column,
            cell=f"{letter}{row}" if letter else None,
            document_key=group.candidate.key,
        )
    )


def _add_row(group: _Group, header: _Header, row: int, values: Sequence[object]) -> None:
    first = not group.lines
    line: dict[str, Any] = {}
    for name, position in header.index.items():
        column = template.by_name(name)
        assert column is not None  # noqa: S101 - the header holds template columns only
        raw = values[position] if position < len(values) else None
        present, value = _cell(group, column, raw, row)
        if column.level == "line":
            if present:
                line[name] = value
        elif first:
            if present:
                group.document[name] = value  # None: unreadable, its problem reported
        elif (
            present
            and value is not None
            and group.document.get(name, value) is not None
            and group.document.get(name) != value
        ):
            _problem(
                group,
                row,
                name,
                "IMPORT_DOCUMENT_MISMATCH",
                f"aynı belgenin ilk satırındaki değerden farklı ({group.candidate.row}. satır)",
                f"differs from the document's first row (row {group.candidate.row})",
            )
    for column in template.COLUMNS:
        if (
            column.required
            and column.level == "line"
            and column.name not in line
            and not any(p.row == row and p.column == column.name for p in group.candidate.problems)
        ):
            _problem(group, row, column.name, "IMPORT_REQUIRED", "boş olamaz", "is required")
    group.lines.append(line)
    group.candidate.line_rows.append(row)
    group.candidate.rows += 1


def _draft(group: _Group, supplier: Supplier) -> dict[str, Any]:
    d = group.document
    customer_id = d.get("customer_id") or ""
    customer: dict[str, Any] = {
        "address": _drop(
            {
                "street": d.get("customer_street"),
                "district": d.get("customer_district"),
                "city": d.get("customer_city"),
                "country": d.get("customer_country"),
            }
        ),
    }
    if len(customer_id) == 11:
        customer |= {
            "tckn": customer_id,
            "first_name": d.get("customer_first_name"),
            "family_name": d.get("customer_family_name"),
        }
    else:
        customer |= {"vkn": customer_id or None, "name": d.get("customer_name")}
    customer["tax_office"] = d.get("customer_tax_office")
    contact = _drop({"email": d.get("customer_email"), "telephone": d.get("customer_telephone")})
    if contact:
        customer["contact"] = contact
    draft: dict[str, Any] = {
        "profile": d.get("profile"),
        "type": d.get("invoice_type"),
        "number": d.get("number"),
        "issue_date": d.get("issue_date"),
        "issue_time": d.get("issue_time"),
        "currency": d.get("currency"),
        "exchange_rate": d.get("exchange_rate"),
        "notes": [d["note"]] if d.get("note") else [],
        "supplier": _drop(
            {
                "vkn": supplier.vkn,
                "name": supplier.name,
                "tax_office": d.get("supplier_tax_office"),
                "address": _drop(
                    {
                        "street": d.get("supplier_street"),
                        "district": d.get("supplier_district"),
                        "city": d.get("supplier_city"),
                    }
                ),
            }
        ),
        "customer": _drop(customer),
        "lines": [_line(line) for line in group.lines],
    }
    if d.get("order_number"):
        draft["order_reference"] = {"id": d["order_number"], "issue_date": d.get("order_date")}
    return _drop(draft)


def _line(row: dict[str, Any]) -> dict[str, Any]:
    line = {
        "name": row.get("line_name"),
        "quantity": row.get("quantity"),
        "unit_code": row.get("unit_code"),
        "unit_price": row.get("unit_price"),
        "kdv_percent": row.get("kdv_percent"),
        "exemption_code": row.get("exemption_code"),
        "exemption_reason": row.get("exemption_reason"),
        "withholding_code": row.get("withholding_code"),
        "withholding_percent": row.get("withholding_percent"),
        "seller_item_id": row.get("seller_item_id"),
        "notes": [row["line_note"]] if row.get("line_note") else [],
    }
    if row.get("discount_amount") is not None:
        line["allowances_charges"] = [{"charge": False, "amount": row["discount_amount"]}]
    return _drop(line)


def _drop(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None and v != []}


def _finish(group: _Group, supplier: Supplier, limits: Limits) -> Candidate:
    candidate = group.candidate
    candidate.series = group.document.get("series")
    if len(group.lines) > limits.max_lines:
        candidate.problems.append(
            Problem(
                "IMPORT_TOO_MANY_LINES",
                f"belgenin {len(group.lines)} satırı var, sınır {limits.max_lines}",
                f"the document has {len(group.lines)} lines, the limit is {limits.max_lines}",
                row=candidate.row,
                document_key=candidate.key,
            )
        )
    if candidate.problems:
        return candidate  # cell problems first: the draft would only repeat them
    try:
        candidate.draft = read_draft(_draft(group, supplier))
    except DraftError as exc:
        for p in exc.problems or []:
            problem = candidate.place(p.where)
            problem.code, problem.message_tr, problem.message_en = (
                "IMPORT_INVALID_FIELD" if p.code == "INVALID_FIELD" else p.code,
                f"{problem.column or p.where}: {p.message_tr}",
                f"{problem.column or p.where}: {p.message_en}",
            )
            candidate.problems.append(problem)
        if not candidate.problems:
            candidate.problems.append(
                Problem(
                    exc.code,
                    exc.text_tr,
                    exc.text_en,
                    row=candidate.row,
                    document_key=candidate.key,
                )
            )
    return candidate


def tabular(
    rows: Iterable[tuple[int, Sequence[object]]], supplier: Supplier, limits: Limits
) -> Iterator[Candidate]:
    """Row groups as invoices. The rows of one document follow each other; a key that comes
    back after another document's rows is refused (its rows are not consecutive)."""
    header: _Header | None = None
    group: _Group | None = None
    done: set[str] = set()
    count = 0
    for row_number, values in rows:
        if _blank(values):
            continue
        if header is None:
            header = _header(row_number, values)
            continue
        count += 1
        if count > limits.max_rows:
            raise UnreadableFileError(
                detail_tr=f"{limits.max_rows} satırdan fazla",
                detail_en=f"more than {limits.max_rows} rows",
                row=row_number,
            )
        position = header.index["document_key"]
        raw_key = values[position] if position < len(values) else None
        key = _text(raw_key) if raw_key is not None else ""
        if group is None or key != group.candidate.key:
            if group is not None:
                yield _finish(group, supplier, limits)
            group = _Group(key, row_number, header.letters)
            if not key or len(key) > 150:
                _problem(
                    group,
                    row_number,
                    "document_key",
                    "IMPORT_BAD_KEY",
                    "boş veya 150 karakterden uzun olamaz",
                    "must not be empty nor longer than 150 characters",
                )
            elif key in done:
                _problem(
                    group,
                    row_number,
                    "document_key",
                    "IMPORT_KEY_NOT_CONSECUTIVE",
                    f"'{key}' dosyada daha önce geçti: bir belgenin satırları art arda olmalı",
                    f"'{key}' came earlier in the file: a document's rows must follow each other",
                )
            done.add(key)
        _add_row(group, header, row_number, values)
    if header is None:
        raise TemplateColumnError(
            detail_tr="başlık satırı yok (dosya boş)",
            detail_en="no header row (the file is empty)",
        )
    if group is not None:
        yield _finish(group, supplier, limits)


# -- CSV -----------------------------------------------------------------------------------


def _encoding(path: Path) -> str:
    """UTF-8 (with or without a BOM) when the whole file decodes as UTF-8, else
    Windows-1254 (Turkish Windows, what Excel writes)."""
    with path.open("rb") as f:
        if f.read(3) == codecs.BOM_UTF8:
            return "utf-8-sig"
        f.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := f.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1254"
    return "utf-8"


def _csv_rows(path: Path) -> Iterator[tuple[int, Sequence[object]]]:
    encoding = _encoding(path)
    with path.open(encoding=encoding, newline="") as f:
        first = f.readline(1 << 20)
        delimiter = ";" if first.count(";") >= first.count(",") else ","
        f.seek(0)
        reader = csv.reader(f, delimiter=delimiter)
        number = 0
        try:
            for record in reader:
                number += 1
                yield number, record
        except (csv.Error, UnicodeDecodeError) as exc:
            raise UnreadableFileError(
                detail_tr=f"CSV {number + 1}. kayıtta okunamadı ({encoding}): {exc}",
                detail_en=f"the CSV does not read at record {number + 1} ({encoding}): {exc}",
                row=number + 1,
            ) from None


# -- XLSX ----------------------------------------------------------------------------------


def _xlsx_rows(path: Path, limits: Limits) -> Iterator[tuple[int, Sequence[object]]]:
    from openpyxl import load_workbook

    check_archive(path, limits)
    _scan_xlsx(path, limits)
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise UnreadableFileError(
            detail_tr=f"XLSX açılamadı ({type(exc).__name__})",
            detail_en=f"the XLSX does not open ({type(exc).__name__})",
        ) from None
    try:
        name = template.DATA_SHEET if template.DATA_SHEET in book.sheetnames else None
        sheet = book[name] if name else book.worksheets[0]
        if not hasattr(sheet, "iter_rows"):
            raise UnreadableFileError(
                detail_tr="ilk sayfa bir tablo değil", detail_en="the first sheet is not a table"
            )
        number = 0
        rows = sheet.iter_rows(values_only=True)
        while True:
            try:
                values = next(rows)
            except StopIteration:
                break
            except Exception as exc:
                raise UnreadableFileError(
                    detail_tr=f"XLSX {number + 1}. satırda okunamadı ({type(exc).__name__})",
                    detail_en=f"the XLSX does not read at row {number + 1} ({type(exc).__name__})",
                    row=number + 1,
                ) from None
            number += 1
            yield number, values
    finally:
        book.close()


# -- zip of drafts and XML -----------------------------------------------------------------


def _zip_candidates(path: Path, limits: Limits) -> Iterator[Candidate]:
    check_archive(path, limits)
    total = 0
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            name = info.filename
            candidate = Candidate(key=name[:200], file=name)
            suffix = PurePosixPath(name).suffix.lower()
            if suffix not in (".json", ".xml"):
                candidate.problems.append(
                    Problem(
                        "IMPORT_UNKNOWN_ENTRY",
                        "yalnız .json (taslak) ve .xml (UBL-TR) dosyaları içe aktarılır",
                        "only .json (draft) and .xml (UBL-TR) files are imported",
                        file=name,
                        document_key=candidate.key,
                    )
                )
                yield candidate
                continue
            data = _read_entry(archive, info, limits.max_entry_bytes)
            total += len(data)
            if total > limits.max_uncompressed:
                raise UnsafeArchiveError(
                    detail_tr=f"açılmış boyut {limits.max_uncompressed} baytı aşıyor",
                    detail_en=f"more than {limits.max_uncompressed} bytes uncompressed",
                    file=name,
                )
            _check_ratio(name, len(data), info.compress_size, limits)
            if suffix == ".xml":
                candidate.xml = data
                yield candidate
                continue
            try:
                candidate.draft = read_draft(data)
            except DraftError as exc:
                for p in exc.problems or []:
                    candidate.problems.append(
                        Problem(
                            "IMPORT_INVALID_FIELD" if p.code == "INVALID_FIELD" else p.code,
                            p.message_tr,
                            p.message_en,
                            file=name,
                            path=p.where,
                            document_key=candidate.key,
                        )
                    )
                if not candidate.problems:
                    candidate.problems.append(
                        Problem(exc.code, exc.text_tr, exc.text_en, file=name, path=exc.where)
                    )
            else:
                if len(candidate.draft.lines) > limits.max_lines:
                    candidate.draft = None
                    candidate.problems.append(
                        Problem(
                            "IMPORT_TOO_MANY_LINES",
                            f"satır sayısı {limits.max_lines} sınırını aşıyor",
                            f"more lines than the limit of {limits.max_lines}",
                            file=name,
                            path="lines",
                        )
                    )
            yield candidate


def candidates(path: Path, format: str, supplier: Supplier, limits: Limits) -> Iterator[Candidate]:
    """The documents of an upload, one at a time. Raises an ``ImportFileError`` when the
    upload as a whole is refused (a wrong template column, a zip bomb, an unreadable file)."""
    if format == "zip":
        yield from _zip_candidates(path, limits)
    elif format == "xlsx":
        yield from tabular(_xlsx_rows(path, limits), supplier, limits)
    else:
        yield from tabular(_csv_rows(path), supplier, limits)
