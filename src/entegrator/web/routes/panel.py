"""``/`` and ``/panel``: the dashboard — this month in figures, documents by status, what
needs action, and the year's sales and purchases."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from decimal import Decimal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Connection

from entegrator.services.answers import ANSWER_WINDOW
from entegrator.services.earsiv_reports import istanbul_day
from entegrator.store import dashboard, earsiv
from entegrator.web import labels
from entegrator.web.auth import CurrentUser, OptionalSession, RuntimeDep
from entegrator.web.chart import bar_chart, months_back
from entegrator.web.i18n import translate
from entegrator.web.render import language, render
from entegrator.web.routes.despatches import to_answer as despatches_to_answer

__all__ = ["router"]

router = APIRouter()

SEAL_WARNING = dt.timedelta(days=30)
# The chart's past months change rarely and cost a pass over a year of documents: each process
# keeps them for a while per tenant (this month is always read afresh).
PAST_MONTHS_SECONDS = 300.0
_past_months: dict[tuple[uuid.UUID, dt.date], tuple[float, list[tuple[dt.date, str, Decimal]]]] = {}


def _past_series(
    conn: Connection, tenant_id: uuid.UUID, start: dt.date, first: dt.date
) -> list[tuple[dt.date, str, Decimal]]:
    key = (tenant_id, first)
    now = time.monotonic()
    kept = _past_months.get(key)
    if kept is not None and kept[0] > now:
        return kept[1]
    series = dashboard.monthly_series(conn, tenant_id, start, first)
    if len(_past_months) > 10_000:
        _past_months.clear()
    _past_months[key] = (now + PAST_MONTHS_SECONDS, series)
    return series


def _next_month(first: dt.date) -> dt.date:
    return dt.date(first.year + (first.month == 12), first.month % 12 + 1, 1)


@router.get("/")
async def home(session: OptionalSession) -> Response:
    live = session is not None and not session.mfa_pending
    return RedirectResponse("/panel" if live else "/giris", status_code=303)


@router.get("/panel", response_class=HTMLResponse)
def panel(request: Request, runtime: RuntimeDep, user: CurrentUser) -> Response:
    lang = language(request)
    now = runtime.clock()
    today = istanbul_day(now)
    first = today.replace(day=1)
    after = _next_month(first)
    months = months_back(first)
    t = user.tenant_id
    with runtime.db.tenant(t) as conn:
        totals = dashboard.month_totals(conn, t, first, after)
        by_status = dashboard.documents_by_status(conn, t, first, after)
        kdv = dashboard.kdv_by_rate(conn, t, first, after)
        series = _past_series(conn, t, months[0], first)
        answer = dashboard.to_answer(conn, t, now - ANSWER_WINDOW)
        trouble = dashboard.troubled(conn, t, now - dt.timedelta(days=30))
        overdue = earsiv.overdue_invoices(conn, before=today - dt.timedelta(days=1)).get(t, 0)
        seal_until = dashboard.seal_expiry(conn, t)
    sales = {m: v for m, d, v in series if d == "out"}
    purchases = {m: v for m, d, v in series if d == "in"}
    # This month from its totals (TRY), read afresh above.
    sales[first] = sum(
        (x.payable for x in totals if x.direction == "out" and x.currency == "TRY"), Decimal(0)
    )
    purchases[first] = sum(
        (x.payable for x in totals if x.direction == "in" and x.currency == "TRY"), Decimal(0)
    )
    chart = bar_chart(
        months,
        sales,
        purchases,
        lang=lang,
        title=translate("panel.chart", lang),
        legend=(translate("panel.sales", lang), translate("panel.purchases", lang)),
    )
    out = [x for x in totals if x.direction == "out"]
    inn = [x for x in totals if x.direction == "in"]
    to_answer = [(d, max(0, (d.created_at + ANSWER_WINDOW - now).days)) for d in answer]
    seal_warning = seal_until is None or seal_until - now < SEAL_WARNING
    return render(
        request,
        "panel.html",
        title=translate("nav.panel", lang),
        month=first,
        issued=out,
        received=inn,
        issued_count=sum(x.count for x in out),
        received_count=sum(x.count for x in inn),
        tax_out=sum((x.tax for x in out if x.currency == "TRY"), Decimal(0)),
        tax_in=sum((x.tax for x in inn if x.currency == "TRY"), Decimal(0)),
        by_status=by_status,
        kdv=kdv,
        to_answer=to_answer,
        despatches_to_answer=despatches_to_answer(runtime, user),
        trouble=trouble,
        overdue=overdue,
        seal_until=seal_until,
        seal_warning=seal_warning,
        chart=chart,
        series=[(m, sales.get(m, Decimal(0)), purchases.get(m, Decimal(0))) for m in months],
        labels=labels,
    )
