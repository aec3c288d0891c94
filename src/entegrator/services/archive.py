"""Archive transfer between integrators: filing another installation's export for a tenant.

When a tax payer moves from one integrator to another (entegratör değişikliği), its archive
goes with it: the old installation writes an export (:mod:`entegrator.services.exports`), the
new one imports it here. The export is verified first (every file against the manifest, every
event chain); anything that fails is refused whole.

Each document is filed as it was: its id (hence its creation instant), direction, kind,
profile, number, ETTN, parties, totals, final status, its signed XML byte for byte, and its
event log with the original hashes, so the original chain still verifies here; then an
``archived-import`` event names the source and the manifest's digest. The original
``events.json`` is kept as a blob too. Nothing is signed, sent, numbered or validated anew.

* Idempotent: a document whose (direction, ETTN) this tenant has already (a second import of
  the same zip, an invoice delivered here during the move) is skipped and reported, never
  filed twice; so is one whose number another document of the tenant holds.
* Outgoing documents still in flight at the old integrator (``validated``, ``queued``:
  signed but not at GİB or not in an e-Arşiv report yet) and cancelled e-Arşiv invoices are
  skipped and reported: filed here, this installation's workers would sign, send or report
  them. They are settled at the old integrator before its final export.
* Series counters: for each imported outgoing number, the counter of its series and year is
  moved up to at least that number (never down), so a number given here later never repeats
  an imported one. Gaps are not filled.
* Imported documents are not metered and send no webhook; their events do reach the change
  feed, and the import is written to the audit log.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from entegrator.clock import Clock, utc_now
from entegrator.documents import safe_xml
from entegrator.documents.errors import DocumentError
from entegrator.documents.identifiers import numbering as numbers
from entegrator.documents.ns import CBC
from entegrator.errors import EntegratorError
from entegrator.lifecycle import FLOWS, Direction, DocumentKind, DocumentStatus
from entegrator.services.exports import MANIFEST, read_events_json, verify_export
from entegrator.services.imports.reading import Limits, check_archive
from entegrator.services.invoices import invoice_facts
from entegrator.store import Database
from entegrator.store import archive as store
from entegrator.store.audit import append_audit
from entegrator.store.events import EventRow, chain
from entegrator.store.ids import created_at
from entegrator.store.numbering import advance_to
from entegrator.store.parties import remember
from entegrator.store.tenants import get_tenant

__all__ = [
    "ARCHIVE_LIMITS",
    "ArchiveImportService",
    "ArchiveImportSummary",
    "ArchiveRefusedError",
    "ArchiveTenantError",
    "Skipped",
]

IMPORT_EVENT = "archived-import"

# An export holds three entries per document (XML, PDF, events) and may be large; the ratio
# and path checks are those of every uploaded zip.
ARCHIVE_LIMITS = Limits(
    max_entries=3_000_000,
    max_uncompressed=256 * 1024**3,
    max_ratio=200,
    max_entry_bytes=64 * 1024 * 1024,
)

_IN_FLIGHT = frozenset(
    {DocumentStatus.DRAFT, DocumentStatus.VALIDATED, DocumentStatus.SIGNED, DocumentStatus.QUEUED}
)


class ArchiveRefusedError(EntegratorError):
    code = "ARCHIVE_IMPORT_REFUSED"
    message_tr = "Arşiv içe aktarılmadı: dışa aktarım doğrulanamadı ({count} sorun; ilki: {first})"
    message_en = (
        "The archive was not imported: the export fails its check "
        "({count} problems; the first: {first})"
    )
    http_status = 422


class ArchiveTenantError(EntegratorError):
    code = "ARCHIVE_TENANT_MISMATCH"
    message_tr = "Arşiv {found} mükellefinin; içe aktarılmak istenen mükellef {expected}"
    message_en = "The archive is {found}'s; the tenant to import it for is {expected}"
    http_status = 422


@dataclass(frozen=True)
class Skipped:
    """A document of the archive not filed, and why (``exists``, ``number-taken``,
    ``in-flight``, ``id-taken``, ``unsupported``, ``mismatch``)."""

    document_id: str
    number: str | None
    ettn: str | None
    reason: str
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.document_id,
            "number": self.number,
            "ettn": self.ettn,
            "reason": self.reason,
            "detail": self.detail,
        }


@dataclass
class ArchiveImportSummary:
    manifest_sha256: str = ""
    source: str = ""
    exported_at: str | None = None
    documents: int = 0  # in the archive
    imported: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    series: dict[str, int] = field(default_factory=dict)  # "EFA/2026" → the counter now

    def to_dict(self) -> dict[str, Any]:
        return {
            "manifest_sha256": self.manifest_sha256,
            "source": self.source,
            "documents": self.documents,
            "imported": self.imported,
            "skipped": [s.to_dict() for s in self.skipped],
            "series": self.series,
        }


def _manifest_digest(zf: zipfile.ZipFile) -> str:
    digest = hashlib.sha256()
    with zf.open(MANIFEST) as source:
        while chunk := source.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _entries(zf: zipfile.ZipFile) -> Iterator[dict[str, Any]]:
    """The manifest's lines (verified already), the header first."""
    with zf.open(MANIFEST) as manifest:
        while line := manifest.readline(1024 * 1024):
            yield json.loads(line)


def _read(zf: zipfile.ZipFile, name: str, limit: int) -> bytes:
    with zf.open(name) as source:
        data = source.read(limit + 1)
    if len(data) > limit:
        raise ArchiveRefusedError(count=1, first=f"{name}: over {limit} bytes")
    return data


class ArchiveImportService:
    def __init__(self, db: Database, *, clock: Clock = utc_now, limits: Limits = ARCHIVE_LIMITS):
        self.db = db
        self.clock = clock
        self.limits = limits

    def import_archive(
        self,
        tenant_id: uuid.UUID,
        path: Path,
        *,
        manifest_sha256: str | None = None,
        source: str | None = None,
        actor: str = "system",
        batch: int = 100,
    ) -> ArchiveImportSummary:
        """File every document of the export at ``path`` for the tenant (see the module)."""
        check_archive(path, self.limits)
        problems = verify_export(path, manifest_sha256)
        if problems:
            raise ArchiveRefusedError(count=len(problems), first=problems[0][:300])
        with self.db.tenant(tenant_id) as conn:
            tenant = get_tenant(conn, tenant_id)
        summary = ArchiveImportSummary()
        with zipfile.ZipFile(path) as zf:
            summary.manifest_sha256 = _manifest_digest(zf)
            entries = _entries(zf)
            header = next(entries)
            if header.get("tenant") != tenant.vkn:
                raise ArchiveTenantError(found=header.get("tenant"), expected=tenant.vkn)
            summary.exported_at = str(header.get("created_at"))
            summary.source = source or f"export of {summary.exported_at}"
            pending: list[dict[str, Any]] = []
            for item in entries:
                if item.get("type") != "document":
                    continue
                summary.documents += 1
                pending.append(item)
                if len(pending) >= batch:
                    self._file_batch(zf, tenant_id, tenant.vkn, pending, summary, actor)
                    pending = []
            if pending:
                self._file_batch(zf, tenant_id, tenant.vkn, pending, summary, actor)
        with self.db.tenant(tenant_id) as conn:
            append_audit(
                conn,
                tenant_id,
                actor=actor,
                action="archive.import",
                target=summary.manifest_sha256,
                data={
                    "source": summary.source,
                    "documents": summary.documents,
                    "imported": summary.imported,
                    "skipped": len(summary.skipped),
                    "series": summary.series,
                },
            )
        return summary

    def _file_batch(  # noqa: PLR0917 - private, called twice
        self,
        zf: zipfile.ZipFile,
        tenant_id: uuid.UUID,
        vkn: str,
        items: list[dict[str, Any]],
        summary: ArchiveImportSummary,
        actor: str,
    ) -> None:
        # Those here already are skipped before their XML is read: a second import is quick.
        wanted = [(str(i.get("direction")), str(i.get("ettn") or "").upper()) for i in items]
        with self.db.tenant(tenant_id) as conn:
            known = store.known_keys(conn, tenant_id, [k for k in wanted if _is_uuid(k[1])])
        prepared: list[tuple[store.ImportedDocument, bytes, bytes, list[EventRow]]] = []
        for item, key in zip(items, wanted, strict=True):
            if key in known:
                summary.skipped.append(
                    Skipped(str(item.get("id")), item.get("number"), key[1], "exists", "here")
                )
                continue
            got = self._prepare(zf, item, summary)
            if got is not None:
                prepared.append(got)
        if not prepared:
            return
        now = self.clock()
        with self.db.tenant(tenant_id) as conn:
            for doc, xml, events_json, original in prepared:
                skip = Skipped(str(doc.document_id), doc.number, doc.ettn, "", "")
                if store.document_exists(conn, tenant_id, doc.document_id):
                    owner = store.key_owner(conn, tenant_id, doc.direction, doc.ettn)
                    reason = "exists" if owner == doc.document_id else "id-taken"
                    summary.skipped.append(_with(skip, reason, "here"))
                    continue
                sender_key = (doc.sender_id or "") if doc.direction == "in" else vkn
                if not store.claim_keys(conn, tenant_id, doc, sender_key):
                    owner = store.key_owner(conn, tenant_id, doc.direction, doc.ettn)
                    if owner is not None:
                        summary.skipped.append(
                            _with(skip, "exists", f"filed here as document {owner}")
                        )
                    else:
                        summary.skipped.append(
                            _with(skip, "number-taken", "another document here holds its number")
                        )
                    continue
                head = original[-1] if original else None
                data = {
                    "source": summary.source,
                    "manifest_sha256": summary.manifest_sha256,
                    "exported_at": summary.exported_at,
                    "original_event_count": len(original),
                    "original_head_hash": head.hash.hex() if head else None,
                    "original_events_sha256": hashlib.sha256(events_json).hexdigest(),
                }
                added = chain(
                    doc.document_id,
                    after_seq=head.seq if head else 0,
                    after_hash=head.hash if head else bytes(32),
                    events=[(IMPORT_EVENT, doc.status, data)],
                    actor=actor,
                    at=now,
                )
                imported = [
                    EventRow(
                        e.seq, e.at, e.type, e.status, e.actor, dict(e.data), e.prev_hash, e.hash
                    )
                    for e in added
                ]
                store.file_imported(
                    conn,
                    tenant_id,
                    doc,
                    xml=xml,
                    extra_blobs=[events_json],
                    events=[*original, *imported],
                    updated_at=now,
                )
                other = (doc.receiver_id, doc.receiver_name)
                if doc.direction == "in":
                    other = (doc.sender_id, doc.sender_name)
                if other[0] and other[0].isdigit() and len(other[0]) in (10, 11):
                    remember(conn, tenant_id, other[0], other[1] or "")
                if doc.direction == "out" and numbers.is_valid(doc.number):
                    prefix, year, seq = numbers.split(doc.number)
                    # Despatch advices are counted apart from invoices (``numbering``).
                    document = "despatch" if doc.kind == "despatch" else "invoice"
                    summary.series[f"{prefix}/{year}"] = advance_to(
                        conn, tenant_id, prefix, year, seq, document=document
                    )
                summary.imported += 1

    def _prepare(
        self, zf: zipfile.ZipFile, item: dict[str, Any], summary: ArchiveImportSummary
    ) -> tuple[store.ImportedDocument, bytes, bytes, list[EventRow]] | None:
        """The document of a manifest line with its XML and events; None (reported) when it is
        not one to file here."""
        ident = str(item.get("id"))
        number, ettn = item.get("number"), str(item.get("ettn") or "").upper()
        skip = Skipped(ident, number, ettn or None, "", "")
        direction = str(item.get("direction"))
        kind, status = str(item.get("kind")), str(item.get("status"))
        try:
            flow = (DocumentKind(kind), Direction(direction))
            status_ = DocumentStatus(status)
            document_id = uuid.UUID(ident)
            uuid.UUID(ettn)
        except ValueError:
            summary.skipped.append(_with(skip, "unsupported", f"{kind}/{direction}/{status}"))
            return None
        if flow not in FLOWS or status_ not in FLOWS[flow] or document_id.version != 7:
            summary.skipped.append(_with(skip, "unsupported", f"{kind}/{direction}/{status}"))
            return None
        profile = item.get("profile")
        if direction == "out" and (
            status_ in _IN_FLIGHT
            or (profile == "EARSIVFATURA" and status_ is DocumentStatus.CANCELLED)
        ):
            summary.skipped.append(
                _with(skip, "in-flight", f"{status}: to settle at the previous integrator")
            )
            return None
        if not isinstance(number, str) or not number:
            summary.skipped.append(_with(skip, "unsupported", "no number"))
            return None
        base = f"documents/{ident}/"
        if item.get("xml") not in (base + "document.xml", base + "unsigned.xml"):
            summary.skipped.append(_with(skip, "mismatch", "its XML is not in its folder"))
            return None
        try:
            xml = _read(zf, str(item["xml"]), self.limits.max_entry_bytes)
            events_json = _read(zf, base + "events.json", self.limits.max_entry_bytes)
        except KeyError:
            summary.skipped.append(_with(skip, "mismatch", "its XML or event log is missing"))
            return None
        if hashlib.sha256(xml).hexdigest() != item.get("xml_sha256"):
            summary.skipped.append(_with(skip, "mismatch", "its XML is not the one stored"))
            return None
        _, _, original = read_events_json(events_json)
        try:
            root = safe_xml.parse(xml)
        except DocumentError as exc:
            summary.skipped.append(_with(skip, "mismatch", f"unreadable XML: {exc}"[:300]))
            return None
        facts = invoice_facts(root)
        if (root.findtext(f"{CBC}UUID") or "").strip().upper() != ettn or (
            root.findtext(f"{CBC}ID") or ""
        ).strip() != number:
            summary.skipped.append(_with(skip, "mismatch", "the XML names another ETTN or number"))
            return None
        series = item.get("series")
        if series is None and direction == "out" and numbers.is_valid(number):
            series = number[:3]
        doc = store.ImportedDocument(
            document_id=document_id,
            created_at=created_at(document_id),
            direction=direction,
            kind=kind,
            profile=profile,
            type=item.get("invoice_type") or facts["type"],
            number=number,
            series=series,
            ettn=ettn,
            issue_date=facts["issue_date"] or _date(item.get("issue_date")),
            sender_id=facts["sender_id"] or item.get("sender"),
            sender_name=facts["sender_name"],
            receiver_id=facts["receiver_id"] or item.get("receiver"),
            receiver_name=facts["receiver_name"],
            currency=facts["currency"],
            line_extension=facts["line_extension"],
            tax_exclusive=facts["tax_exclusive"],
            tax_total=facts["tax_total"],
            payable=facts["payable"],
            status=status_.value,
            status_code=item.get("status_code"),
            status_detail=item.get("status_detail"),
            gib_alias=item.get("gib_alias"),
            signed=str(item["xml"]).endswith("/document.xml"),
        )
        return doc, xml, events_json, original


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _with(skip: Skipped, reason: str, detail: str) -> Skipped:
    return Skipped(skip.document_id, skip.number, skip.ettn, reason, detail)


def _date(value: object) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None
