"""Bulk import: an upload is stored, then processed in the background, one document at a time.

``create`` stores the uploaded file (already on disk) in the database with the import row,
and queues the job, in one transaction; the caller gets the import's id at once. ``process``
(the job, or ``entegrator import`` in its own process) reads the file back, turns each row
group or zip entry into a document and issues it through ``InvoiceService.issue``: the
same validation, numbering and signing as ``POST /api/v1/invoices``.

Each document's ERP key is its idempotency key (``import:<key>``): importing the same file
again issues nothing twice (the first result is found and reported as already issued), and
the same key with different content is refused. Policies:

- ``valid-only``: every valid document is issued, the others are reported;
- ``all-or-nothing``: every document is checked first (``InvoiceService.check``); nothing is
  issued unless all of them pass. Issuing can still fail afterwards (a number taken by a
  concurrent request, say): the import stops there and reports it; what was issued stays
  issued (invoice numbers are never given back).
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from entegrator.clock import Clock, utc_now
from entegrator.errors import EntegratorError
from entegrator.rules import Finding
from entegrator.services.errors import RequestError
from entegrator.services.imports.problems import (
    ImportFileError,
    ImportNotFoundError,
    Problem,
)
from entegrator.services.imports.reading import (
    Candidate,
    Limits,
    Supplier,
    candidates,
    check_archive,
    sniff,
)
from entegrator.services.invoices import QUEUE, InvoiceService, ValidationFailedError
from entegrator.store import Database, idempotency
from entegrator.store import imports as store
from entegrator.store.ids import uuid7
from entegrator.store.keys import ApiKey

__all__ = [
    "IMPORT_TASK",
    "KEPT_PROBLEMS",
    "POLICIES",
    "ImportService",
    "Progress",
]

log = logging.getLogger(__name__)

IMPORT_TASK = "entegrator.run_import"
POLICIES = ("all-or-nothing", "valid-only")
KEPT_PROBLEMS = 1000  # problems kept per import; ``problem_count`` counts them all
CHUNK_BYTES = 1024 * 1024  # the stored file's pieces
_PROGRESS_SECONDS = 1.0

Progress = Callable[[int, int], None]
"""Called with (documents done, documents in the file or 0 while unknown)."""


@dataclass(frozen=True)
class _Actor(ApiKey):
    """The key an import issues with: whoever uploaded it (an API key, or the CLI)."""

    who: str = "cli"

    @property
    def actor(self) -> str:
        return self.who


@dataclass
class _Run:
    tenant_id: uuid.UUID
    import_id: uuid.UUID
    key: ApiKey
    rows: int = 0
    documents: int = 0
    processed: int = 0
    refused: int = 0
    problem_count: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0
    last_saved: float = 0.0

    def report(self, problems: list[Problem]) -> None:
        self.problem_count += len(problems)
        room = KEPT_PROBLEMS - len(self.problems)
        self.problems.extend(p.to_dict() for p in problems[: max(room, 0)])


class ImportService:
    """Bulk imports of one installation."""

    def __init__(
        self,
        db: Database,
        invoices: InvoiceService,
        limits: Limits,
        *,
        clock: Clock = utc_now,
    ) -> None:
        self.db = db
        self.invoices = invoices
        self.limits = limits
        self.clock = clock

    # -- uploading ---------------------------------------------------------------------------

    def create(
        self,
        key: ApiKey,
        path: Path,
        *,
        file_name: str,
        policy: str,
        queue: bool = True,
        actor: str | None = None,
    ) -> store.ImportRow:
        """Store the upload at ``path`` and (``queue``) its job, in one transaction.

        Refuses at once (nothing stored) a policy it does not know, a file that is neither
        XLSX, CSV nor zip, and a zip over the limits or with paths that escape it."""
        if policy not in POLICIES:
            raise RequestError(
                where="policy",
                detail_tr=f"politika {' veya '.join(POLICIES)} olmalı, '{policy[:40]}' değil",
                detail_en=f"policy must be {' or '.join(POLICIES)}, not '{policy[:40]}'",
            )
        fmt = sniff(path)
        if fmt in ("zip", "xlsx"):
            check_archive(path, self.limits)
        digest = hashlib.sha256()
        with path.open("rb") as f:
            while chunk := f.read(CHUNK_BYTES):
                digest.update(chunk)
        t = key.tenant_id
        import_id = uuid7(int(self.clock().timestamp() * 1000))
        name = "".join(c for c in file_name if c.isprintable())[:255] or "upload"
        with self.db.tenant(t) as conn:
            store.create(
                conn,
                t,
                import_id,
                format=fmt,
                policy=policy,
                file_name=name,
                file_size=path.stat().st_size,
                file_sha256=digest.digest(),
                actor=actor or key.actor,
            )
            with path.open("rb") as f:
                seq = 0
                while chunk := f.read(CHUNK_BYTES):
                    store.add_chunk(conn, t, import_id, seq, chunk)
                    seq += 1
            if queue:
                store.queue_job(conn, t, import_id, task=IMPORT_TASK, queue=QUEUE)
            row = store.get(conn, t, import_id)
        assert row is not None  # noqa: S101 - written above, in the same transaction
        return row

    # -- reading -----------------------------------------------------------------------------

    def get(
        self, tenant_id: uuid.UUID, import_id: uuid.UUID, *, limit: int = 1000, offset: int = 0
    ) -> tuple[store.ImportRow, list[store.ImportDocument]]:
        with self.db.tenant(tenant_id) as conn:
            row = store.get(conn, tenant_id, import_id)
            if row is None:
                raise ImportNotFoundError
            docs = store.documents(conn, tenant_id, import_id, limit=limit, offset=offset)
        return row, docs

    def recent(self, tenant_id: uuid.UUID, *, limit: int = 50) -> list[store.ImportRow]:
        with self.db.tenant(tenant_id) as conn:
            return store.list_imports(conn, tenant_id, limit=limit)

    # -- processing --------------------------------------------------------------------------

    def process(
        self, tenant_id: uuid.UUID, import_id: uuid.UUID, *, progress: Progress | None = None
    ) -> store.ImportRow:
        """Read the upload and issue its documents under its policy; the finished import.

        Safe to run again after a crash: what was issued is found again by its ERP key."""
        with self.db.tenant(tenant_id) as conn:
            row = store.claim(conn, tenant_id, import_id)
        if row is None:
            return self.get(tenant_id, import_id, limit=0)[0]
        with self.db.tenant(tenant_id) as conn:
            tenant = self.invoices.tenant(conn, tenant_id)
        key = _Actor(tenant_id, uuid.UUID(int=0), "api", "import", who=row.actor)
        run = _Run(tenant_id, import_id, key)
        supplier = Supplier(tenant.vkn, tenant.name)
        status = "done"
        with tempfile.TemporaryDirectory(prefix="entegrator-import-") as folder:
            path = Path(folder) / f"upload.{row.format}"
            self._download(tenant_id, import_id, path)
            try:
                if row.policy == "all-or-nothing":
                    if self._check_all(run, path, row.format, supplier, progress):
                        self._issue_all(run, path, row.format, supplier, progress, stop=True)
                else:
                    self._issue_all(run, path, row.format, supplier, progress, stop=False)
            except ImportFileError as exc:
                status = "failed"
                run.report([exc.problem()])
                run.refused = run.documents - run.processed + run.refused
        with self.db.tenant(tenant_id) as conn:
            store.finish(
                conn,
                tenant_id,
                import_id,
                status=status,
                rows=run.rows,
                documents=run.documents,
                processed=run.processed,
                refused=run.refused,
                problem_count=run.problem_count,
                problems=run.problems,
            )
            store.drop_chunks(conn, tenant_id, import_id)
        if progress is not None:
            progress(run.processed, run.documents)
        return self.get(tenant_id, import_id, limit=0)[0]

    def _download(self, tenant_id: uuid.UUID, import_id: uuid.UUID, path: Path) -> None:
        with self.db.tenant(tenant_id) as conn, path.open("wb") as f:
            for chunk in store.chunks(conn, tenant_id, import_id):
                f.write(chunk)

    def _read(
        self, run: _Run, path: Path, fmt: str, supplier: Supplier, *, count: bool
    ) -> Iterator[Candidate]:
        for candidate in candidates(path, fmt, supplier, self.limits):
            if count:
                run.documents += 1
                run.rows += candidate.rows
            yield candidate

    def _reused(self, run: _Run, candidate: Candidate) -> Problem | None:
        """The ERP key was imported before with other content: refused, never issued."""
        with self.db.tenant(run.tenant_id) as conn:
            found = idempotency.find(conn, run.tenant_id, _idempotency_key(candidate.key))
        if found is None or found.request_sha256 == candidate.request_sha256():
            return None
        return _at(
            candidate,
            None,
            "IMPORT_KEY_REUSED",
            f"'{candidate.key}' anahtarı daha önce başka içerikle içe aktarıldı "
            f"(belge {found.response.get('number', '?')}); yeni belge düzenlenmedi",
            f"key '{candidate.key}' was imported before with other content (document "
            f"{found.response.get('number', '?')}); nothing was issued",
        )

    def _check_all(
        self, run: _Run, path: Path, fmt: str, supplier: Supplier, progress: Progress | None
    ) -> bool:
        """Pass one of all-or-nothing: check every document; True when all of them pass."""
        for candidate in self._read(run, path, fmt, supplier, count=True):
            problems = list(candidate.problems)
            if not problems:
                reused = self._reused(run, candidate)
                if reused is not None:
                    problems.append(reused)
            if not problems:
                try:
                    self.invoices.check(
                        run.key, draft=candidate.draft, xml=candidate.xml, series=candidate.series
                    )
                except EntegratorError as exc:
                    problems = _problems(candidate, exc)
            if problems:
                run.refused += 1
                run.report(problems)
            self._tick(run, progress, checking=True)
        if run.refused:
            run.report(
                [
                    Problem(
                        "IMPORT_NOTHING_ISSUED",
                        f"{run.refused} belgede sorun var; hepsi-ya-hiç politikasıyla hiçbir "
                        "belge düzenlenmedi",
                        f"{run.refused} documents have problems; under the all-or-nothing "
                        "policy nothing was issued",
                    )
                ]
            )
            run.refused = run.documents
            return False
        run.total = run.documents
        return True

    def _issue_all(
        self,
        run: _Run,
        path: Path,
        fmt: str,
        supplier: Supplier,
        progress: Progress | None,
        *,
        stop: bool,
    ) -> None:
        counting = not stop  # all-or-nothing counted the documents in its first pass
        for candidate in self._read(run, path, fmt, supplier, count=counting):
            # A key imported before with other content: ``issue`` finds it (CONFLICT).
            problems = list(candidate.problems) or self._issue(run, candidate)
            run.processed += 1
            if problems:
                run.refused += 1
                run.report(problems)
                if stop:
                    run.refused += run.documents - run.processed
                    run.report(
                        [
                            Problem(
                                "IMPORT_STOPPED",
                                "hepsi-ya-hiç: düzenleme bu belgede durdu; kalanlar düzenlenmedi",
                                "all-or-nothing: issuing stopped at this document; the rest "
                                "were not issued",
                                document_key=candidate.key,
                                row=candidate.row,
                                file=candidate.file,
                            )
                        ]
                    )
                    return
            self._tick(run, progress, checking=False)

    def _issue(self, run: _Run, candidate: Candidate) -> list[Problem]:
        try:
            result = self.invoices.issue(
                run.key,
                draft=candidate.draft,
                xml=candidate.xml,
                series=candidate.series,
                idempotency_key=_idempotency_key(candidate.key),
                request_sha256=candidate.request_sha256(),
            )
        except EntegratorError as exc:
            return _problems(candidate, exc)
        with self.db.tenant(run.tenant_id) as conn:
            store.record_document(
                conn,
                run.tenant_id,
                run.import_id,
                erp_key=candidate.key,
                document_id=result.id,
                number=result.number,
                ettn=result.ettn,
                replayed=result.replayed,
            )
        return []

    def _tick(self, run: _Run, progress: Progress | None, *, checking: bool) -> None:
        now = time.monotonic()
        if now - run.last_saved < _PROGRESS_SECONDS:
            return
        run.last_saved = now
        with self.db.tenant(run.tenant_id) as conn:
            store.progress(
                conn,
                run.tenant_id,
                run.import_id,
                rows=run.rows,
                documents=run.documents,
                processed=run.processed,
            )
        if progress is not None:
            progress(run.processed, run.total if not checking else 0)


def _idempotency_key(erp_key: str) -> str:
    return f"import:{erp_key}"


def _at(candidate: Candidate, where: str | None, code: str, tr: str, en: str) -> Problem:
    problem = candidate.place(where)
    problem.code, problem.message_tr, problem.message_en = code, tr, en
    return problem


def _problems(candidate: Candidate, exc: EntegratorError) -> list[Problem]:
    """What ``InvoiceService`` refused, placed in the file where it can be."""
    if isinstance(exc, ValidationFailedError) and exc.findings:
        return [_finding(candidate, f) for f in exc.findings if f.severity.value == "error"] or [
            _at(candidate, None, exc.code, exc.text_tr, exc.text_en)
        ]
    if exc.data.get("code_detail") == "idempotency-key-reused":
        return [
            _at(
                candidate,
                None,
                "IMPORT_KEY_REUSED",
                f"'{candidate.key}' anahtarı daha önce başka içerikle içe aktarıldı",
                f"key '{candidate.key}' was imported before with other content",
            )
        ]
    return [_at(candidate, exc.where, exc.code, exc.text_tr, exc.text_en)]


def _finding(candidate: Candidate, finding: Finding) -> Problem:
    problem = candidate.place(finding.xpath)
    where = problem.column or finding.xpath
    prefix = f"{where}: " if where and problem.column else ""
    problem.code = finding.code
    problem.message_tr = prefix + finding.message_tr
    problem.message_en = prefix + finding.message_en
    return problem
