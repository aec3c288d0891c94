"""Exports for an inspection or a migration: a tenant's documents of a date range in one zip,
and the offline check of such a zip.

The zip holds, for each document (``documents/<id>/``), its XML (``document.xml``: signed; or
``unsigned.xml`` for one not signed yet), optionally its PDF view (``document.pdf``), and its
event log with the hash chain (``events.json``); and ``manifest.jsonl``: a header line, then one
line per file (path, size, SHA-256) and one per document (its row: number, ETTN, status, the
digest of its XML and the head of its event chain). The manifest is written last; its own
SHA-256 is returned, to keep apart from the zip.

The archive is written entry by entry to a file (``zipfile`` streams each entry to disk), the
documents read in batches, and the manifest lines spooled to a temporary file: memory does not
grow with the export. ``verify_export`` reads the zip entry by entry too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tempfile
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from entegrator.errors import EntegratorError
from entegrator.store import Database
from entegrator.store.blobs import get_blobs
from entegrator.store.documents import DocumentRow
from entegrator.store.events import EventRow, list_events_of, verify_chain
from entegrator.store.reports import ExportPosition, documents_between
from entegrator.store.tenants import get_tenant

__all__ = [
    "FORMAT",
    "MANIFEST",
    "ExportService",
    "ExportSummary",
    "InvalidExportError",
    "read_events_json",
    "verify_export",
]

FORMAT = "entegrator-export"
VERSION = 1
MANIFEST = "manifest.jsonl"
_CHUNK = 1024 * 1024
MAX_ENTRIES = 10_000_000  # entries a zip to verify may hold
MAX_MANIFEST_LINE = 1024 * 1024

# A PDF of a document's XML (``cancelled``: stamped as cancelled); None for none.
PdfRenderer = Callable[[bytes, bool], bytes]


class InvalidExportError(EntegratorError):
    code = "INVALID_EXPORT"
    message_tr = "Dışa aktarım dosyası okunamadı: {detail}"
    message_en = "The export file cannot be read: {detail}"
    http_status = 422


class InvalidRangeError(EntegratorError):
    code = "INVALID_DATE_RANGE"
    message_tr = (
        "Tarih aralığı geçersiz: başlangıç bitişten sonra ya da aralık API için 400 günden uzun"
    )
    message_en = "Invalid date range: the start is after the end, or over 400 days for the API"
    http_status = 422


@dataclass
class ExportSummary:
    documents: int = 0
    files: int = 0
    pdf_failures: list[str] = field(default_factory=list)
    manifest_sha256: str = ""


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _events_json(doc: DocumentRow, events: list[EventRow]) -> bytes:
    return json.dumps(
        {
            "document_id": str(doc.document_id),
            "head_hash": doc.head_hash.hex(),
            "events": [
                {
                    "seq": e.seq,
                    "at": e.at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
                    "type": e.type,
                    "status": e.status,
                    "actor": e.actor,
                    "data": e.data,
                    "prev_hash": e.prev_hash.hex(),
                    "hash": e.hash.hex(),
                }
                for e in events
            ],
        },
        ensure_ascii=False,
        indent=1,
    ).encode()


MAX_API_DAYS = 400  # a range the API builds within one request


def check_range(start: dt.date, end: dt.date, max_days: int | None = MAX_API_DAYS) -> None:
    if start > end or (max_days is not None and (end - start).days > max_days):
        raise InvalidRangeError(where="from")


class ExportService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def export(
        self,
        tenant_id: uuid.UUID,
        start: dt.date,
        end: dt.date,
        out: Path | IO[bytes],
        *,
        pdf: PdfRenderer | None = None,
        now: dt.datetime | None = None,
        batch: int = 200,
        max_days: int | None = MAX_API_DAYS,
    ) -> ExportSummary:
        """Write the tenant's documents issued from ``start`` to ``end`` to ``out``
        (``max_days``: the longest range accepted; None for any)."""
        check_range(start, end, max_days)
        summary = ExportSummary()
        with self.db.tenant(tenant_id) as conn:
            tenant = get_tenant(conn, tenant_id)
        header = {
            "type": "header",
            "format": FORMAT,
            "version": VERSION,
            "tenant": tenant.vkn,
            "from": start.isoformat(),
            "to": end.isoformat(),
            "created_at": (now or dt.datetime.now(dt.UTC)).isoformat(),
            "pdf": pdf is not None,
        }
        with (
            tempfile.TemporaryFile() as lines,
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zf,
        ):
            lines.write(json.dumps(header, ensure_ascii=False).encode() + b"\n")

            def add(path: str, data: bytes) -> None:
                zf.writestr(path, data)
                entry = {"type": "file", "path": path, "size": len(data), "sha256": _sha(data)}
                lines.write(json.dumps(entry).encode() + b"\n")
                summary.files += 1

            for docs in self._batches(tenant_id, start, end, batch):
                for doc, xml, events in docs:
                    base = f"documents/{doc.document_id}/"
                    name = "document.xml" if doc.signed_sha256 is not None else "unsigned.xml"
                    add(base + name, xml)
                    add(base + "events.json", _events_json(doc, events))
                    if pdf is not None:
                        try:
                            add(base + "document.pdf", pdf(xml, doc.status == "cancelled"))
                        except Exception:
                            summary.pdf_failures.append(str(doc.document_id))
                    lines.write(json.dumps(_document_entry(doc, base + name)).encode() + b"\n")
                    summary.documents += 1
            lines.seek(0)
            digest = hashlib.sha256()
            with zf.open(MANIFEST, "w", force_zip64=True) as target:
                while chunk := lines.read(_CHUNK):
                    digest.update(chunk)
                    target.write(chunk)
        summary.manifest_sha256 = digest.hexdigest()
        return summary

    def _batches(
        self, tenant_id: uuid.UUID, start: dt.date, end: dt.date, size: int
    ) -> Iterator[list[tuple[DocumentRow, bytes, list[EventRow]]]]:
        """The documents with their XML and events, ``size`` at a time, each batch read in a
        transaction of its own (none stays open while the zip is written)."""
        after: ExportPosition | None = None
        while True:
            with self.db.tenant(tenant_id) as conn:
                rows = documents_between(conn, tenant_id, start, end, after=after, limit=size)
                if not rows:
                    return
                blobs = get_blobs(conn, tenant_id, [_xml_digest(d) for d in rows])
                events = list_events_of(conn, tenant_id, [d.document_id for d in rows])
                batch = [(d, blobs[_xml_digest(d)], events[d.document_id]) for d in rows]
            yield batch
            last = rows[-1]
            assert last.issue_date is not None  # noqa: S101 - the range keeps dated rows only
            after = (last.issue_date, last.created_at, last.document_id)


def _xml_digest(doc: DocumentRow) -> bytes:
    return doc.signed_sha256 if doc.signed_sha256 is not None else doc.xml_sha256


def _document_entry(doc: DocumentRow, xml_path: str) -> dict[str, Any]:
    return {
        "type": "document",
        "id": str(doc.document_id),
        "direction": doc.direction,
        "kind": doc.kind,
        "profile": doc.profile,
        "invoice_type": doc.type,
        "number": doc.number,
        "ettn": str(doc.ettn).upper(),
        "issue_date": doc.issue_date.isoformat() if doc.issue_date else None,
        "sender": doc.sender_id,
        "receiver": doc.receiver_id,
        "status": doc.status,
        "status_code": doc.status_code,
        "status_detail": doc.status_detail,
        "series": doc.series,
        "gib_alias": doc.gib_alias,
        "xml": xml_path,
        "xml_sha256": _xml_digest(doc).hex(),
        "event_count": doc.event_count,
        "head_hash": doc.head_hash.hex(),
    }


# -- verification (offline) ----------------------------------------------------------------------


def _hash_entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with zf.open(info) as source:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _event_rows(data: bytes) -> tuple[uuid.UUID, bytes, list[EventRow]]:
    """A document's ``events.json``: its id, its head hash and its events."""
    body = json.loads(data)
    rows = [
        EventRow(
            int(e["seq"]),
            dt.datetime.fromisoformat(e["at"]),
            str(e["type"]),
            e["status"],
            e["actor"],
            dict(e["data"]),
            bytes.fromhex(e["prev_hash"]),
            bytes.fromhex(e["hash"]),
        )
        for e in body["events"]
    ]
    return uuid.UUID(body["document_id"]), bytes.fromhex(body["head_hash"]), rows


read_events_json = _event_rows


def verify_export(path: Path | IO[bytes], manifest_sha256: str | None = None) -> list[str]:
    """Problems found in an export (empty: every file is as listed, every event chain intact
    and ending at its document's head). ``manifest_sha256``: the digest the export printed,
    which also shows that the manifest itself was not rewritten."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InvalidExportError(detail=str(exc)[:200]) from None
    problems: list[str] = []
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_ENTRIES:
            raise InvalidExportError(detail="too many entries")
        by_name: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            name = info.filename
            if name.startswith("/") or ".." in name.split("/") or "\\" in name:
                problems.append(f"{name!r}: an unsafe path")
                continue
            if name in by_name:
                problems.append(f"{name}: stored twice")
            by_name[name] = info
        if MANIFEST not in by_name:
            raise InvalidExportError(detail=f"no {MANIFEST}")
        try:
            problems += _check_manifest(zf, by_name, manifest_sha256)
        except (ValueError, KeyError, TypeError, AttributeError, zipfile.BadZipFile) as exc:
            problems.append(f"{MANIFEST}: unreadable ({type(exc).__name__}: {str(exc)[:200]})")
    return problems


def _check_manifest(
    zf: zipfile.ZipFile, by_name: dict[str, zipfile.ZipInfo], expected: str | None
) -> list[str]:
    problems: list[str] = []
    listed: dict[str, str] = {}
    documents: list[dict[str, Any]] = []
    digest = hashlib.sha256()
    with zf.open(by_name[MANIFEST]) as manifest:
        header = None
        while line := manifest.readline(MAX_MANIFEST_LINE):
            digest.update(line)
            if not line.endswith(b"\n"):
                raise ValueError("a line is too long or unfinished")
            item = json.loads(line)
            if header is None:
                header = item
                if item.get("format") != FORMAT or item.get("version") != VERSION:
                    raise ValueError("not an entegrator export of a known version")
                continue
            if item["type"] == "file":
                listed[item["path"]] = item["sha256"]
                info = by_name.get(item["path"])
                if info is None:
                    problems.append(f"{item['path']}: listed but missing")
                    continue
                actual, size = _hash_entry(zf, info)
                if actual != item["sha256"] or size != item["size"]:
                    problems.append(f"{item['path']}: its content differs from the manifest")
            elif item["type"] == "document":
                documents.append(item)
        if header is None:
            raise ValueError("empty")
    if expected is not None and digest.hexdigest() != expected.lower():
        problems.append(f"{MANIFEST}: its SHA-256 is not the one given")
    for name in by_name:
        if name != MANIFEST and name not in listed:
            problems.append(f"{name}: not in the manifest")
    for doc in documents:
        problems += _check_document(zf, by_name, listed, doc)
    return problems


def _check_document(
    zf: zipfile.ZipFile,
    by_name: dict[str, zipfile.ZipInfo],
    listed: dict[str, str],
    doc: dict[str, Any],
) -> list[str]:
    ident = doc["id"]
    problems: list[str] = []
    if listed.get(doc["xml"]) != doc["xml_sha256"] and listed.get(doc["xml"]) is not None:
        # The stored digest (the database's) and the file's must agree.
        problems.append(f"document {ident}: its XML is not the one stored")
    events_path = f"documents/{ident}/events.json"
    if events_path not in by_name:
        return [*problems, f"document {ident}: no event log"]
    with zf.open(by_name[events_path]) as source:
        document_id, head, events = _event_rows(source.read(64 * 1024 * 1024))
    if str(document_id) != ident or head.hex() != doc["head_hash"]:
        problems.append(f"document {ident}: its event log names another document or head")
    if len(events) != doc["event_count"]:
        problems.append(f"document {ident}: {len(events)} events, {doc['event_count']} expected")
    problems += [f"document {ident}: {p}" for p in verify_chain(events, document_id, head)]
    return problems
