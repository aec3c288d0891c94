"""e-Arşiv reports: ``/api/v1/earsiv/reports`` (the tenant's reports to GİB, one, its XML)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from entegrator.api.deps import Principal, RuntimeDep
from entegrator.api.errors import InvalidParameterError
from entegrator.api.responses import AUTH, errors
from entegrator.api.schemas import EarsivReport, EarsivReportList
from entegrator.errors import EntegratorError
from entegrator.runtime import Runtime
from entegrator.store import earsiv
from entegrator.store.earsiv import ReportRow
from entegrator.store.keys import ApiKey

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/earsiv/reports", tags=["earsiv"])


class ReportNotFoundError(EntegratorError):
    code = "REPORT_NOT_FOUND"
    message_tr = "e-Arşiv raporu bulunamadı"
    message_en = "e-Arşiv report not found"
    http_status = 404


_READ = errors(*AUTH, 404, when={404: "No such report for this tenant (REPORT_NOT_FOUND)"})


def _period(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(f"{value}-01")
    except ValueError:
        raise InvalidParameterError(
            where="period", detail=f"period: YYYY-MM expected, not {value!r}"
        ) from None


def _load(runtime: Runtime, key: ApiKey, report_id: str) -> tuple[ReportRow, bytes]:
    try:
        ident = uuid.UUID(report_id)
    except ValueError:
        raise ReportNotFoundError from None
    with runtime.db.tenant(key.tenant_id) as conn:
        found = earsiv.get_report(conn, key.tenant_id, ident)
    if found is None:
        raise ReportNotFoundError
    return found


@router.get(
    "",
    operation_id="list_earsiv_reports",
    summary="The tenant's e-Arşiv reports (newest period and part first)",
    responses=errors(*AUTH, 422),
)
def list_earsiv_reports(
    runtime: RuntimeDep,
    key: Principal,
    status: Annotated[
        Literal["pending", "sent", "succeeded", "failed"] | None, Query(description="Status")
    ] = None,
    period: Annotated[
        str | None, Query(description="Month (YYYY-MM)", pattern=r"^[0-9]{4}-[0-9]{2}$")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> EarsivReportList:
    month = _period(period)
    with runtime.db.tenant(key.tenant_id) as conn:
        rows = earsiv.list_reports(conn, key.tenant_id, status=status, period=month, limit=limit)
    return EarsivReportList(
        reports=[EarsivReport.from_row(r) for r in rows],
        counts=dict(Counter(r.status for r in rows)),
    )


@router.get(
    "/{report_id}",
    operation_id="get_earsiv_report",
    summary="One e-Arşiv report, with the invoices and cancellations it carried",
    responses=_READ,
)
def get_earsiv_report(report_id: str, runtime: RuntimeDep, key: Principal) -> EarsivReport:
    row, _ = _load(runtime, key, report_id)
    with runtime.db.tenant(key.tenant_id) as conn:
        entries = earsiv.items_of(conn, key.tenant_id, row.report_id)
    return EarsivReport.from_row(row, entries)


@router.get(
    "/{report_id}/xml",
    operation_id="get_earsiv_report_xml",
    summary="The signed report (eArsivRaporu) exactly as sent",
    response_class=Response,
    responses={200: {"content": {"application/xml": {}}}, **_READ},
)
def get_earsiv_report_xml(report_id: str, runtime: RuntimeDep, key: Principal) -> Response:
    row, xml = _load(runtime, key, report_id)
    return Response(
        xml,
        media_type="application/xml",
        headers={"Content-Disposition": f'attachment; filename="{row.report_id}.xml"'},
    )
