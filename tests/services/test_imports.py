"""Bulk import at the service level: the real store, the real invoice service, files made here."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from entegrator.runtime import Runtime
from entegrator.services.imports import ImportFileError
from entegrator.services.imports.problems import UnsafeArchiveError
from entegrator.store import documents as documents_store
from entegrator.store.ids import created_at
from entegrator.store.keys import ApiKey
from entegrator.store.search import DocumentFilters, search_documents
from tests.testing.imports import HEADER, invoice_rows, row, write_csv, write_xlsx
from tests.testing.platform import TenantHandle

# Seven broken rows of a 1,000-row file: (row index among the data rows, the change, the
# column the problem must name, its code).
BROKEN: list[tuple[int, dict[str, Any], str, str]] = [
    (10, {"quantity": "iki"}, "quantity", "IMPORT_BAD_VALUE"),
    (151, {"unit_code": "ADET"}, "unit_code", "IMPORT_UNKNOWN_CODE"),
    (302, {"issue_date": "31.02.2026"}, "issue_date", "IMPORT_BAD_VALUE"),
    (455, {"line_name": None}, "line_name", "IMPORT_REQUIRED"),
    (600, {"unit_price": "1,234.50"}, "unit_price", "IMPORT_BAD_VALUE"),
    (781, {"customer_id": "12345"}, "customer_id", "IMPORT_BAD_VALUE"),
    (998, {"withholding_code": "999"}, "withholding_code", "IMPORT_UNKNOWN_CODE"),
]


def _key(tenant: TenantHandle) -> ApiKey:
    return ApiKey(tenant.tenant_id, uuid.uuid4(), "owner", "test")


def _import(runtime: Runtime, tenant: TenantHandle, path: Path, policy: str = "valid-only") -> Any:
    created = runtime.imports.create(
        _key(tenant), path, file_name=path.name, policy=policy, queue=False
    )
    assert created.status == "queued"
    return runtime.imports.process(tenant.tenant_id, created.import_id)


def _thousand_rows(prefix: str) -> list[dict[str, Any]]:
    """1,000 rows: 500 invoices of two lines, seven rows broken (in seven invoices)."""
    rows = invoice_rows(prefix, 500, lines=2)
    for index, change, _column, _code in BROKEN:
        rows[index] = rows[index] | change
    return rows


def _issued_count(runtime: Runtime, tenant: TenantHandle) -> int:
    with runtime.db.tenant(tenant.tenant_id) as conn:
        found = search_documents(
            conn, tenant.tenant_id, direction="out", filters=DocumentFilters(), limit=10_000
        )
    return len(found)


def test_valid_only_issues_the_valid_and_names_each_broken_row(
    runtime: Runtime, tenant: TenantHandle, tmp_path: Path
) -> None:
    path = write_xlsx(tmp_path / "faturalar.xlsx", _thousand_rows("V"))
    done = _import(runtime, tenant, path)
    assert (done.status, done.rows, done.documents) == ("done", 1000, 500)
    assert (done.issued, done.refused, done.already_issued) == (493, 7, 0)
    assert done.problem_count == len(done.problems) == 7, json.dumps(done.problems)
    letters = {name: i for i, name in enumerate(HEADER)}
    for problem, (index, _change, column, code) in zip(done.problems, BROKEN, strict=True):
        assert problem["row"] == index + 2  # the header is row 1
        assert problem["column"] == column
        assert problem["code"] == code
        assert problem["cell"].endswith(str(index + 2))
        assert problem["cell"][: -len(str(index + 2))] == _letter(letters[column])
        assert problem["message_tr"] and problem["message_en"]
        assert problem["document_key"] == f"V-{index // 2}"
    _, docs = runtime.imports.get(tenant.tenant_id, done.import_id)
    assert len(docs) == 493 and not any(d.replayed for d in docs)
    assert {d.erp_key for d in docs}.isdisjoint({f"V-{i // 2}" for i, *_ in BROKEN})
    assert len({d.number for d in docs}) == 493


def _letter(index: int) -> str:
    from entegrator.services.imports.template import column_letter

    return column_letter(index)


def test_all_or_nothing_issues_nothing_when_a_row_is_broken(
    runtime: Runtime, tenant: TenantHandle, tmp_path: Path
) -> None:
    path = write_xlsx(tmp_path / "faturalar.xlsx", _thousand_rows("A"))
    done = _import(runtime, tenant, path, policy="all-or-nothing")
    assert (done.status, done.documents, done.issued, done.refused) == ("done", 500, 0, 500)
    codes = [p["code"] for p in done.problems]
    assert codes == [code for *_, code in BROKEN] + ["IMPORT_NOTHING_ISSUED"]
    assert _issued_count(runtime, tenant) == 0


def test_all_or_nothing_issues_everything_when_all_is_valid(
    runtime: Runtime, tenant: TenantHandle, tmp_path: Path
) -> None:
    path = write_xlsx(tmp_path / "faturalar.xlsx", invoice_rows("G", 20, lines=3))
    done = _import(runtime, tenant, path, policy="all-or-nothing")
    assert (done.status, done.documents, done.issued, done.refused) == ("done", 20, 20, 0)
    assert _issued_count(runtime, tenant) == 20


def test_the_same_file_twice_issues_nothing_twice(
    runtime: Runtime, tenant: TenantHandle, tmp_path: Path
) -> None:
    path = write_xlsx(tmp_path / "faturalar.xlsx", invoice_rows("T", 30, lines=2))
    first = _import(runtime, tenant, path)
    second = _import(runtime, tenant, path)
    assert (first.issued, first.already_issued) == (30, 0)
    assert (second.issued, second.already_issued, second.refused) == (0, 30, 0)
    _, one = runtime.imports.get(tenant.tenant_id, first.import_id)
    _, two = runtime.imports.get(tenant.tenant_id, second.import_id)
    assert {(d.erp_key, d.document_id) for d in one} == {(d.erp_key, d.document_id) for d in two}
    assert all(d.replayed for d in two)
    assert _issued_count(runtime, tenant) == 30


def test_a_key_imported_with_other_content_is_refused(
    runtime: Runtime, tenant: TenantHandle, tmp_path: Path
) -> None:
    _import(runtime, tenant, write_xlsx(tmp_path / "a.xlsx", [row("K-1")]))
    changed = write_xlsx(tmp_path / "b.xlsx", [row("K-1", quantity="3"), row("K-2")])
    done = _import(runtime, tenant, changed)
    assert (done.issued, done.refused) == (1, 1)
    assert done.problems[0]["code"] == "IMPORT_KEY_REUSED"
    assert done.problems[0]["document_key"] == "K-1" and done.problems[0]["row"] == 2
    assert _issued_count(runtime, tenant) == 2


@pytest.mark.parametrize(
    ("encoding", "delimiter"), [("cp1254", ","), ("utf-8-sig", ";"), ("utf-8", ";")]
)
def test_csv_in_windows_1254_or_utf8_with_bom(
    runtime: Runtime, tenant: TenantHandle, tmp_path: Path, encoding: str, delimiter: str
) -> None:
    rows = [
        row("C-1", customer_name="Işık Güneş Şirketi", unit_price="1.234,56"),
        row(
            "C-1",
            customer_name="Işık Güneş Şirketi",
            line_name="Çay ve şeker",
            quantity="0,5",
            unit_price="10.5",
        ),
        row("C-2", issue_date="24.11.2026"),
    ]
    path = write_csv(tmp_path / "f.csv", rows, encoding=encoding, delimiter=delimiter)
    if encoding == "cp1254":
        assert "Işık".encode("cp1254") in path.read_bytes()  # really not UTF-8
    done = _import(runtime, tenant, path)
    assert (done.format, done.status, done.issued, done.refused) == ("csv", "done", 2, 0), (
        done.problems
    )
    _, docs = runtime.imports.get(tenant.tenant_id, done.import_id)
    doc_id = next(d for d in docs if d.erp_key == "C-1").document_id
    with runtime.db.tenant(tenant.tenant_id) as conn:
        first = documents_store.get_document(conn, tenant.tenant_id, doc_id, created_at(doc_id))
    assert first is not None
    assert first.receiver_name == "Işık Güneş Şirketi"
    # 2 × 1,234.56 + 0.5 × 10.5: Decimal all the way
    assert first.line_extension == Decimal("2474.37")


def test_a_wrong_template_column_is_named(
    runtime: Runtime, tenant: TenantHandle, tmp_path: Path
) -> None:
    header = [("quantty" if h == "quantity" else h) for h in HEADER]
    rows = [{("quantty" if k == "quantity" else k): v for k, v in row("W-1").items()}]
    path = write_xlsx(tmp_path / "w.xlsx", rows, header=header)
    done = _import(runtime, tenant, path)
    assert (done.status, done.issued) == ("failed", 0)
    [problem] = done.problems
    assert problem["code"] == "IMPORT_TEMPLATE_COLUMN"
    assert problem["column"] == "quantty"
    assert problem["cell"] == f"{_letter(HEADER.index('quantity'))}1"
    assert "quantty" in problem["message_en"] and "quantty" in problem["message_tr"]


def test_a_missing_required_column_is_named(
    runtime: Runtime, tenant: TenantHandle, tmp_path: Path
) -> None:
    header = [h for h in HEADER if h != "unit_price"]
    path = write_csv(tmp_path / "m.csv", [row("M-1")], header=header)
    done = _import(runtime, tenant, path)
    assert done.status == "failed"
    assert done.problems[0]["column"] == "unit_price"
    assert "unit_price" in done.problems[0]["message_en"]


def test_rows_of_one_document_must_follow_each_other(
    runtime: Runtime, tenant: TenantHandle, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "s.csv", [row("S-1"), row("S-2"), row("S-1")])
    done = _import(runtime, tenant, path)
    assert (done.issued, done.refused) == (2, 1)
    assert done.problems[0]["code"] == "IMPORT_KEY_NOT_CONSECUTIVE"
    assert done.problems[0]["row"] == 4


def _zip(path: Path, entries: dict[str, bytes], *, level: int = 9) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


def test_a_zip_of_drafts(runtime: Runtime, tenant: TenantHandle, tmp_path: Path) -> None:
    from entegrator.documents import build_invoice, read_draft

    good = json.dumps(tenant.draft()).encode()
    bad = json.dumps(tenant.draft(lines=[])).encode()
    xml = build_invoice(
        read_draft(
            tenant.draft(number="XML2026000000001", ettn="0F8FAD5B-D9CB-469F-A165-70867728950E")
        )
    )
    path = _zip(
        tmp_path / "drafts.zip",
        {
            "a/1.json": good,
            "a/2.json": bad,
            "notes.txt": b"hello",
            "x.xml": b"<a><b></a>",
            "b/ubl.xml": xml,
            "c/": b"",  # a folder: skipped
        },
    )
    done = _import(runtime, tenant, path)
    assert (done.format, done.documents, done.issued, done.refused) == ("zip", 5, 2, 3), (
        done.problems
    )
    files = {p["file"] for p in done.problems}
    assert files == {"a/2.json", "notes.txt", "x.xml"}
    assert next(p for p in done.problems if p["file"] == "a/2.json")["path"] == "lines"
    _, docs = runtime.imports.get(tenant.tenant_id, done.import_id)
    assert {d.erp_key: d.number for d in docs}["b/ubl.xml"] == "XML2026000000001"


def test_a_zip_bomb_is_refused(runtime: Runtime, tenant: TenantHandle, tmp_path: Path) -> None:
    path = _zip(tmp_path / "bomb.zip", {"big.json": b"0" * (60 * 1024 * 1024)})
    assert path.stat().st_size < 1024 * 1024
    with pytest.raises(UnsafeArchiveError) as caught:
        runtime.imports.create(_key(tenant), path, file_name="bomb.zip", policy="valid-only")
    assert "ratio" in caught.value.text_en


@pytest.mark.parametrize("name", ["../evil.json", "a/../../evil.json", "/etc/evil.json"])
def test_a_zip_with_escaping_paths_is_refused(
    runtime: Runtime, tenant: TenantHandle, tmp_path: Path, name: str
) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo(name), b"{}")
    path = tmp_path / "evil.zip"
    path.write_bytes(buffer.getvalue())
    with pytest.raises(UnsafeArchiveError) as caught:
        runtime.imports.create(_key(tenant), path, file_name="evil.zip", policy="valid-only")
    assert name in caught.value.text_en


def test_an_xlsx_with_entities_is_refused(
    runtime: Runtime, tenant: TenantHandle, tmp_path: Path
) -> None:
    good = write_xlsx(tmp_path / "good.xlsx", [row("E-1")])
    hostile = tmp_path / "hostile.xlsx"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(hostile, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(
                    b"<worksheet",
                    b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">]><worksheet',
                    1,
                )
                assert b"<!DOCTYPE" in data
            target.writestr(info, data)
    done = _import(runtime, tenant, hostile)
    assert (done.status, done.issued) == ("failed", 0)
    assert done.problems[0]["code"] == "IMPORT_UNSAFE_ARCHIVE"


@pytest.mark.parametrize(
    "data",
    [
        b"PK\x03\x04" + b"\x00" * 100,  # a zip header and nothing else
        b"\xff\xfe\x00\x00garbage\x00\x01",  # no header row
        b"document_key\n" + b"x" * 300_000 + b"\n",  # a field past the CSV limit
        b'a;b\n"unterminated',
    ],
)
def test_hostile_files_fail_cleanly(
    runtime: Runtime, tenant: TenantHandle, tmp_path: Path, data: bytes
) -> None:
    path = tmp_path / "hostile.bin"
    path.write_bytes(data)
    try:
        done = _import(runtime, tenant, path)
    except ImportFileError as exc:  # refused at upload
        assert exc.http_status in (415, 422)
        return
    assert done.status == "failed"
    assert done.problems[0]["code"].startswith("IMPORT_")


def test_the_template_reads_back_as_one_valid_invoice(
    runtime: Runtime, tenant: TenantHandle, tmp_path: Path
) -> None:
    from openpyxl import load_workbook

    from entegrator.services.imports.template import CODE_SHEET
    from entegrator.services.imports.template import write_xlsx as template_xlsx

    path = tmp_path / "template.xlsx"
    template_xlsx(path)
    book = load_workbook(path)
    sheet = book["Faturalar"]
    formulas = [dv.formula1 for dv in sheet.data_validations.dataValidation]
    assert len(formulas) == 7 and all(f"'{CODE_SHEET}'!" in (f or "") for f in formulas)
    codes = book[CODE_SHEET]
    lists = {str(column[0].value): {c.value for c in column[1:]} for column in codes.iter_cols()}
    assert "C62" in lists["UnitCodeList"] and "ADET" not in lists["UnitCodeList"]
    assert "351" in lists["TaxExemptionReasonCodeType"]
    assert "612" in lists["WithholdingTaxType"]
    assert "EARSIVFATURA" in lists["ProfileID"]
    # The example row is an invoice of the example buyer: it imports once the supplier's
    # address fits the tenant.
    done = _import(runtime, tenant, path)
    assert (done.documents, done.issued, done.refused) == (1, 1, 0), done.problems
