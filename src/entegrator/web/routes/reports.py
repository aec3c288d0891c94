"""``/raporlar``: monthly sales and purchases, a month's KDV by rate and withholding, and the
same as an XLSX workbook."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from entegrator.runtime import Runtime
from entegrator.services import monthly_reports as reports
from entegrator.web import forms_text as _texts  # noqa: F401 - registers the pages' words
from entegrator.web.auth import CurrentUser, RuntimeDep
from entegrator.web.i18n import translate
from entegrator.web.render import language, render, security_headers

__all__ = ["router"]

router = APIRouter()
Year = Annotated[int | None, Query(ge=2000, le=2099)]
Month = Annotated[int | None, Query(ge=1, le=12)]


def _today(runtime: Runtime) -> dt.date:
    return runtime.clock().astimezone(ZoneInfo("Europe/Istanbul")).date()


def _period(runtime: Runtime, yil: int | None, ay: int | None) -> tuple[int, dt.date]:
    today = _today(runtime)
    year = yil or today.year
    month = ay or (today.month if year == today.year else 12)
    return year, dt.date(year, month, 1)


def _data(
    runtime: Runtime, user: CurrentUser, year: int, month: dt.date, *, fresh: bool = False
) -> tuple[list[reports.MonthTotals], reports.MonthBreakdown]:
    """The year (past months kept a few minutes; ``fresh`` reads them all, for the export)
    and the month's breakdown."""
    return (
        reports.monthly(runtime.db, user.tenant_id, year, today=None if fresh else _today(runtime)),
        reports.breakdown(runtime.db, user.tenant_id, month),
    )


@router.get("/raporlar", response_class=HTMLResponse)
async def report_page(
    request: Request, runtime: RuntimeDep, user: CurrentUser, yil: Year = None, ay: Month = None
) -> Response:
    year, month = _period(runtime, yil, ay)
    months, detail = await run_in_threadpool(_data, runtime, user, year, month)
    return render(
        request,
        "forms/reports.html",
        title=translate("reports.title", language(request)),
        year=year,
        month=month,
        months=months,
        detail=detail,
    )


@router.get("/raporlar/xlsx")
async def report_xlsx(
    runtime: RuntimeDep, user: CurrentUser, yil: Year = None, ay: Month = None
) -> Response:
    year, month = _period(runtime, yil, ay)
    months, detail = await run_in_threadpool(lambda: _data(runtime, user, year, month, fresh=True))
    data = await run_in_threadpool(reports.to_xlsx, year, months, detail)
    return Response(
        data,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={
            **security_headers(),
            "Content-Disposition": f'attachment; filename="rapor-{year}-{month.month:02d}.xlsx"',
        },
    )
