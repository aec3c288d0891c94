"""``/iceri-aktar``: bulk imports from the portal (upload, progress, problems, documents).

The upload goes to the same ``ImportService`` as ``POST /api/v1/imports``: written to disk in
pieces (never held in memory) under the same size limit, stored and queued; the worker's job
``entegrator.run_import`` issues the documents while the import's page polls its progress.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException

from entegrator.errors import EntegratorError
from entegrator.runtime import Runtime
from entegrator.services.accounts import PortalUser
from entegrator.services.imports import POLICIES, ImportNotFoundError
from entegrator.store.imports import ImportDocument, ImportRow
from entegrator.web import imports_text as _texts  # noqa: F401 - registers the pages' words
from entegrator.web.auth import (
    WRITE_ROLES,
    CurrentUser,
    ForbiddenPageError,
    NotFoundPageError,
    RuntimeDep,
)
from entegrator.web.i18n import translate
from entegrator.web.render import language, render

__all__ = ["PATH", "router"]

PATH = "/iceri-aktar"
DOCUMENTS_SHOWN = 500
_CHUNK = 1 << 20
_TEMPLATES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}

router = APIRouter()


def _recent(runtime: Runtime, user: PortalUser) -> list[ImportRow]:
    return runtime.imports.recent(user.tenant_id, limit=50)


async def _list_page(
    request: Request,
    runtime: Runtime,
    user: PortalUser,
    *,
    error: str | None = None,
    policy: str = "valid-only",
    status_code: int = 200,
) -> Response:
    rows = await run_in_threadpool(_recent, runtime, user)
    return render(
        request,
        "imports/list.html",
        title=translate("imports.title", language(request)),
        imports=rows,
        policies=POLICIES,
        policy=policy,
        error=error,
        status_code=status_code,
    )


@router.get(PATH, response_class=HTMLResponse)
async def import_list(request: Request, runtime: RuntimeDep, user: CurrentUser) -> Response:
    return await _list_page(request, runtime, user)


def _copy(source: Any, path: Path) -> None:
    with path.open("wb") as target:
        shutil.copyfileobj(source, target, _CHUNK)


def _create(runtime: Runtime, user: PortalUser, path: Path, name: str, policy: str) -> ImportRow:
    return runtime.imports.create(user, path, file_name=name, policy=policy)


@router.post(PATH, response_class=HTMLResponse)
async def upload(request: Request, runtime: RuntimeDep, user: CurrentUser) -> Response:
    # The CSRF guard has read the form already (its spooled file is closed here, whatever
    # the answer); the role is checked after it, as ``Writer`` would.
    try:
        form = await request.form(max_files=1, max_fields=5)
    except HTTPException as exc:  # a malformed multipart body
        return await _list_page(request, runtime, user, error=f"{exc.detail}", status_code=400)
    try:
        if user.role not in WRITE_ROLES:
            raise ForbiddenPageError
        return await _upload(request, runtime, user, form)
    finally:
        await form.close()


async def _upload(request: Request, runtime: Runtime, user: PortalUser, form: FormData) -> Response:
    lang = language(request)
    policy = form.get("policy")
    policy = policy if isinstance(policy, str) else "valid-only"
    upload_file = form.get("file")
    if not isinstance(upload_file, UploadFile) or not upload_file.filename:
        return await _list_page(
            request,
            runtime,
            user,
            error=translate("imports.no_file", lang),
            policy=policy,
            status_code=422,
        )
    folder = runtime.settings.data_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="import-", dir=folder))
    path = work / "upload"
    limit = runtime.settings.import_max_bytes
    try:
        await run_in_threadpool(_copy, upload_file.file, path)
        size = path.stat().st_size
        if size > limit:  # the API's body limit stops larger ones first; this holds without it
            return await _list_page(
                request,
                runtime,
                user,
                error=translate("imports.too_large", lang, limit=limit),
                policy=policy,
                status_code=413,
            )
        if size == 0:
            return await _list_page(
                request,
                runtime,
                user,
                error=translate("imports.no_file", lang),
                policy=policy,
                status_code=422,
            )
        try:
            row = await run_in_threadpool(
                _create, runtime, user, path, upload_file.filename, policy
            )
        except EntegratorError as exc:  # unknown format, unsafe zip, unknown policy
            status = exc.http_status if 400 <= exc.http_status < 500 else 422
            message = exc.text_en if lang == "en" else exc.text_tr
            return await _list_page(
                request,
                runtime,
                user,
                error=f"{message} ({exc.code})",
                policy=policy,
                status_code=status,
            )
    finally:
        await run_in_threadpool(shutil.rmtree, work, True)
    return RedirectResponse(f"{PATH}/{row.import_id}", status_code=303)


@router.get(PATH + "/sablon.{fmt}")
async def template(fmt: str, user: CurrentUser) -> Response:
    """The empty template with its example row, from the generator
    ``entegrator import template`` uses."""
    from entegrator.services.imports.template import write_csv, write_xlsx

    if fmt not in _TEMPLATES:
        raise NotFoundPageError

    def build() -> bytes:
        with tempfile.TemporaryDirectory(prefix="template-") as folder:
            target = Path(folder) / f"template.{fmt}"
            (write_xlsx if fmt == "xlsx" else write_csv)(target)
            return target.read_bytes()

    data = await run_in_threadpool(build)
    return Response(
        data,
        media_type=_TEMPLATES[fmt],
        headers={
            "Content-Disposition": f'attachment; filename="entegrator-import.{fmt}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _one(
    runtime: Runtime, user: PortalUser, import_id: uuid.UUID
) -> tuple[ImportRow, list[ImportDocument]]:
    try:
        return runtime.imports.get(user.tenant_id, import_id, limit=DOCUMENTS_SHOWN)
    except ImportNotFoundError:
        raise NotFoundPageError from None


def _values(row: ImportRow, docs: list[ImportDocument]) -> dict[str, Any]:
    return {
        "imp": row,
        "docs": docs,
        "documents_shown": DOCUMENTS_SHOWN,
        "polling": row.status in ("queued", "running"),
    }


@router.get(PATH + "/{import_id:uuid}", response_class=HTMLResponse)
async def import_page(
    request: Request, import_id: uuid.UUID, runtime: RuntimeDep, user: CurrentUser
) -> Response:
    row, docs = await run_in_threadpool(_one, runtime, user, import_id)
    return render(
        request,
        "imports/import.html",
        title=f"{translate('imports.title', language(request))}: {row.file_name}",
        **_values(row, docs),
    )


@router.get(PATH + "/{import_id:uuid}/durum", response_class=HTMLResponse)
async def import_status(
    request: Request, import_id: uuid.UUID, runtime: RuntimeDep, user: CurrentUser
) -> Response:
    """The status part of the import's page, which the page polls (htmx) while it runs."""
    row, docs = await run_in_threadpool(_one, runtime, user, import_id)
    return render(request, "imports/_status.html", **_values(row, docs))
