"""Bulk imports: ``/api/v1/imports`` (upload an XLSX, CSV or zip; follow its processing).

The upload is streamed to a file under the data directory (never held in memory), checked
(format, zip limits), stored with its import row and queued, and answered with 202 and the
import's id at once; a worker issues its documents. ``docs/erp.md`` ("Bulk import").
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from entegrator.api.bodies import content_type
from entegrator.api.deps import Principal, RuntimeDep, Writer
from entegrator.api.errors import EmptyBodyError
from entegrator.api.responses import AUTH, BODY, errors
from entegrator.runtime import Runtime
from entegrator.services.errors import RequestError
from entegrator.services.imports import ImportNotFoundError
from entegrator.store.imports import ImportDocument, ImportRow
from entegrator.store.keys import ApiKey

__all__ = ["PREFIX", "router"]

PREFIX = "/api/v1/imports"

router = APIRouter(prefix=PREFIX, tags=["imports"])

_CHUNK = 1 << 20


class ImportProblem(BaseModel):
    """Why a row group, a zip entry or the whole file was not issued, and where."""

    code: str
    message_tr: str
    message_en: str
    row: int | None = None
    column: str | None = None
    cell: str | None = None
    document_key: str | None = None
    file: str | None = None
    path: str | None = None


class ImportedDocument(BaseModel):
    document_key: str
    id: uuid.UUID
    number: str
    ettn: str
    already_issued: bool  # issued by an earlier import of the same ERP key


class ImportCounts(BaseModel):
    rows: int
    documents: int
    processed: int
    issued: int
    already_issued: int
    refused: int
    problems: int


class Import(BaseModel):
    id: uuid.UUID
    status: Literal["queued", "running", "done", "failed"]
    format: Literal["xlsx", "csv", "zip"]
    policy: Literal["all-or-nothing", "valid-only"]
    file_name: str
    file_size: int
    file_sha256: str
    created_at: dt.datetime | None
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    counts: ImportCounts
    problems: list[ImportProblem] | None = None
    documents: list[ImportedDocument] | None = None


class ImportList(BaseModel):
    items: list[Import]


def _out(row: ImportRow, docs: list[ImportDocument] | None = None, *, full: bool) -> Import:
    data: dict[str, Any] = {
        "id": row.import_id,
        "status": row.status,
        "format": row.format,
        "policy": row.policy,
        "file_name": row.file_name,
        "file_size": row.file_size,
        "file_sha256": row.file_sha256.hex(),
        "created_at": row.created_at,
        "started_at": row.started_at,
        "finished_at": row.finished_at,
        "counts": {
            "rows": row.rows,
            "documents": row.documents,
            "processed": row.processed,
            "issued": row.issued,
            "already_issued": row.already_issued,
            "refused": row.refused,
            "problems": row.problem_count,
        },
    }
    if full:
        data["problems"] = row.problems
        data["documents"] = [
            {
                "document_key": d.erp_key,
                "id": d.document_id,
                "number": d.number,
                "ettn": d.ettn,
                "already_issued": d.replayed,
            }
            for d in docs or []
        ]
    return Import.model_validate(data)


def _import_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ImportNotFoundError from None


def _create(runtime: Runtime, key: ApiKey, path: Path, name: str, policy: str) -> ImportRow:
    if path.stat().st_size == 0:
        raise EmptyBodyError
    return runtime.imports.create(key, path, file_name=name, policy=policy)


def _copy(source: Any, path: Path) -> None:
    with path.open("wb") as target:
        shutil.copyfileobj(source, target, _CHUNK)


@router.post(
    "",
    status_code=202,
    operation_id="create_import",
    summary="Upload an XLSX or CSV in the template, or a zip of drafts and UBL-TR XML files",
    responses=errors(
        *AUTH,
        *BODY,
        403,
        415,
        422,
        when={
            415: "Neither XLSX, CSV nor zip (IMPORT_UNKNOWN_FORMAT)",
            422: "Empty, unreadable, a zip bomb or a zip with paths that leave it "
            "(IMPORT_UNSAFE_ARCHIVE), or an unknown policy",
        },
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                        "required": ["file"],
                    }
                },
            },
        }
    },
)
async def create_import(
    request: Request,
    response: Response,
    runtime: RuntimeDep,
    key: Writer,
    *,
    policy: Annotated[
        str, Query(description="all-or-nothing | valid-only", max_length=40)
    ] = "valid-only",
    file_name: Annotated[
        str | None, Query(description="The file's name, as shown in the list", max_length=255)
    ] = None,
) -> Import:
    # The caller is known (Writer) before its body is read; the body goes to disk in pieces.
    folder = runtime.settings.data_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="import-", dir=folder))
    path = work / "upload"
    try:
        name = file_name
        if content_type(request) == "multipart/form-data":
            try:
                form = await request.form(max_files=1, max_fields=5)
            except HTTPException as exc:  # Starlette's answer to a malformed multipart body
                raise RequestError(
                    where="file",
                    detail_tr=f"çok parçalı gövde okunamadı ({exc.detail})",
                    detail_en=f"the multipart body does not read ({exc.detail})",
                ) from None
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise RequestError(
                    where="file",
                    detail_tr="çok parçalı gövdede 'file' alanı yok",
                    detail_en="the multipart body has no 'file' part",
                )
            name = name or upload.filename
            await run_in_threadpool(_copy, upload.file, path)
            await form.close()
        else:
            with path.open("wb") as f:
                async for chunk in request.stream():
                    f.write(chunk)
        row = await run_in_threadpool(_create, runtime, key, path, name or "upload", policy)
    finally:
        await run_in_threadpool(shutil.rmtree, work, True)
    response.headers["Location"] = f"{PREFIX}/{row.import_id}"
    return _out(row, full=False)


@router.get(
    "",
    operation_id="list_imports",
    summary="The tenant's imports, newest first (counts, without problems)",
    responses=errors(*AUTH, 422),
)
def list_imports(
    runtime: RuntimeDep,
    key: Principal,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ImportList:
    rows = runtime.imports.recent(key.tenant_id, limit=limit)
    return ImportList(items=[_out(r, full=False) for r in rows])


@router.get(
    "/{import_id}",
    operation_id="get_import",
    summary="One import: its status, counts, problems and the documents it issued",
    responses=errors(*AUTH, 404, 422),
)
def get_import(
    import_id: str,
    runtime: RuntimeDep,
    key: Principal,
    documents_limit: Annotated[int, Query(ge=0, le=10_000)] = 1000,
    documents_offset: Annotated[int, Query(ge=0)] = 0,
) -> Import:
    row, docs = runtime.imports.get(
        key.tenant_id, _import_id(import_id), limit=documents_limit, offset=documents_offset
    )
    return _out(row, docs, full=True)
