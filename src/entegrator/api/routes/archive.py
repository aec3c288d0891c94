"""Archive transfer: ``/api/v1/archive/imports`` (file another integrator's export of the
tenant here; owners only).

The zip is streamed to a file under the data directory (never held in memory), verified and
filed by :class:`entegrator.services.archive.ArchiveImportService`, and the file removed.
``docs/onboarding.md`` ("Moving between integrators").
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from entegrator.api.deps import Owner, RuntimeDep
from entegrator.api.errors import EmptyBodyError
from entegrator.api.responses import AUTH, BODY, errors

__all__ = ["PREFIX", "router"]

PREFIX = "/api/v1/archive/imports"

router = APIRouter(prefix=PREFIX, tags=["archive"])


class SkippedDocument(BaseModel):
    """A document of the archive not filed: ``exists`` (already here), ``number-taken``,
    ``in-flight`` (still to settle at the previous integrator), ``id-taken``,
    ``unsupported``, ``mismatch``."""

    id: str
    number: str | None
    ettn: str | None
    reason: str
    detail: str


class ArchiveImport(BaseModel):
    manifest_sha256: str
    source: str
    documents: int
    imported: int
    skipped: list[SkippedDocument]
    series: dict[str, int]


@router.post(
    "",
    operation_id="import_archive",
    summary="File another integrator's export of the tenant's documents here (owner)",
    responses=errors(
        *AUTH,
        *BODY,
        403,
        422,
        when={
            422: "Empty, not an export, failing its check (ARCHIVE_IMPORT_REFUSED), another "
            "tax payer's (ARCHIVE_TENANT_MISMATCH), a zip bomb or a zip with paths that leave "
            "it (IMPORT_UNSAFE_ARCHIVE)",
        },
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def import_archive(
    request: Request,
    runtime: RuntimeDep,
    key: Owner,
    *,
    manifest_sha256: Annotated[
        str | None,
        Query(
            description="The digest the export printed (shows the manifest is unchanged)",
            pattern=r"^[0-9a-fA-F]{64}$",
        ),
    ] = None,
    source: Annotated[
        str | None, Query(description="The previous integrator, for the record", max_length=200)
    ] = None,
) -> ArchiveImport:
    # The caller is known (Owner) before its body is read; the body goes to disk in pieces.
    folder = runtime.settings.data_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="archive-", dir=folder))
    path = work / "archive.zip"
    try:
        with path.open("wb") as f:
            async for chunk in request.stream():
                f.write(chunk)
        if path.stat().st_size == 0:
            raise EmptyBodyError

        def run() -> dict[str, Any]:
            return runtime.archive.import_archive(
                key.tenant_id, path, manifest_sha256=manifest_sha256, source=source, actor=key.actor
            ).to_dict()

        summary = await run_in_threadpool(run)
    finally:
        await run_in_threadpool(shutil.rmtree, work, True)
    return ArchiveImport.model_validate(summary)
