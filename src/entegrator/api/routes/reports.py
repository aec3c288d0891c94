"""Reports and exports: ``/api/v1/reports/{kdv,partners,counts}`` (JSON, CSV or XLSX) and
``/api/v1/exports`` (a zip of a date range's documents; see ``docs/erp.md``)."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

import anyio.from_thread
from fastapi import APIRouter, Query, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from entegrator.api.deps import Principal, RendererDep, RuntimeDep, Writer
from entegrator.api.responses import AUTH, errors
from entegrator.services.exports import check_range
from entegrator.services.reports import to_csv, to_xlsx

__all__ = ["router"]

router = APIRouter(tags=["reports"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Format = Annotated[Literal["json", "csv", "xlsx"], Query(description="json, csv or xlsx")]
Period = Annotated[str, Query(max_length=7, description="A month: YYYY-MM")]
_REPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}, XLSX: {}}},
    **errors(*AUTH, 422, when={422: "The period is not YYYY-MM (INVALID_PERIOD)"}),
}


def _answer(report: dict[str, Any], fmt: str, name: str) -> Any:
    if fmt == "json":
        return report
    stem = f"{name}-{report['period']}"
    if fmt == "csv":
        return Response(
            to_csv(report),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{stem}.csv"'},
        )
    return Response(
        to_xlsx(report),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{stem}.xlsx"'},
    )


@router.get(
    "/api/v1/reports/kdv",
    operation_id="report_kdv",
    summary="A month's KDV figures: sales and purchases, per rate, withholding, exemptions (TRY)",
    responses=_REPORT_RESPONSES,
)
def report_kdv(runtime: RuntimeDep, key: Principal, period: Period, format: Format = "json") -> Any:
    return _answer(runtime.reports.kdv(key.tenant_id, period), format, "kdv")


@router.get(
    "/api/v1/reports/partners",
    operation_id="report_partners",
    summary="A month's figures per partner (buyers and suppliers, TRY)",
    responses=_REPORT_RESPONSES,
)
def report_partners(
    runtime: RuntimeDep, key: Principal, period: Period, format: Format = "json"
) -> Any:
    return _answer(runtime.reports.partners(key.tenant_id, period), format, "partners")


@router.get(
    "/api/v1/reports/counts",
    operation_id="report_counts",
    summary="A month's documents counted by direction, kind and status",
    responses=_REPORT_RESPONSES,
)
def report_counts(
    runtime: RuntimeDep, key: Principal, period: Period, format: Format = "json"
) -> Any:
    return _answer(runtime.reports.counts(key.tenant_id, period), format, "counts")


@router.get(
    "/api/v1/exports",
    operation_id="export_documents",
    summary="A zip of the documents issued in a date range: XML, events, manifest (and PDF)",
    response_class=FileResponse,
    responses={
        200: {"content": {"application/zip": {}}},
        **errors(*AUTH, 403, 422, when={422: "A bad date range (INVALID_DATE_RANGE)"}),
    },
)
async def export_documents(
    *,
    runtime: RuntimeDep,
    renderer: RendererDep,
    key: Writer,
    from_: Annotated[dt.date, Query(alias="from")],
    to: dt.date,
    pdf: bool = False,
) -> FileResponse:
    check_range(from_, to)
    render: Callable[[bytes, bool], bytes] | None = None
    if pdf:

        async def one(xml: bytes, cancelled: bool) -> bytes:
            return (await renderer.pdf(xml, cancelled=cancelled)).pdf

        def render(xml: bytes, cancelled: bool) -> bytes:
            return anyio.from_thread.run(one, xml, cancelled)

    handle, name = tempfile.mkstemp(prefix="entegrator-export-", suffix=".zip")
    os.close(handle)
    try:
        summary = await run_in_threadpool(
            runtime.exports.export, key.tenant_id, from_, to, Path(name), pdf=render
        )
    except BaseException:
        os.unlink(name)
        raise
    return FileResponse(
        name,
        media_type="application/zip",
        filename=f"export-{from_}-{to}.zip",
        headers={
            "X-Entegrator-Manifest-SHA256": summary.manifest_sha256,
            "X-Entegrator-Documents": str(summary.documents),
        },
        background=BackgroundTask(os.unlink, name),
    )
