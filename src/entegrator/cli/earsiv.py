"""``entegrator earsiv``: the e-Arşiv report, now, from the command line."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

import typer

from entegrator.cli._errors import cli_errors, fail
from entegrator.cli.platform import _find_tenant, _platform_errors, _runtime

__all__ = ["earsiv_app"]

earsiv_app = typer.Typer(
    rich_markup_mode=None, help="e-Arşiv: the report to GİB.", no_args_is_help=True
)


def _day(value: str | None, today: dt.date) -> dt.date:
    if value is None:
        return today - dt.timedelta(days=1)
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        fail(
            "INVALID_DATE",
            f"--date YYYY-AA-GG biçiminde olmalı, '{value}' değil",
            f"--date must be YYYY-MM-DD, not '{value}'",
            where="--date",
        )
    if day > today:
        fail(
            "INVALID_DATE",
            f"--date gelecekte olamaz ({value})",
            f"--date cannot be in the future ({value})",
            where="--date",
        )
    return day


@earsiv_app.command("report")
@_platform_errors
def report(
    tenant: Annotated[str, typer.Option(metavar="TENANT", help="Tenant id (or its VKN/TCKN).")],
    date: Annotated[
        str | None,
        typer.Option(
            metavar="YYYY-MM-DD",
            help="Report everything of days up to this one (Istanbul time); default: yesterday.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Prepare the tenant's e-Arşiv reports now, send them to GİB and ask once for their
    status (the worker does it every day, and follows them to the end)."""
    from entegrator.services.earsiv_reports import istanbul_day
    from entegrator.store import earsiv

    rt = _runtime()
    rt.db.upgrade()
    tenant_id = _find_tenant(rt, tenant, as_json)
    through = _day(date, istanbul_day(rt.clock()))
    with cli_errors("earsiv", as_json=as_json):
        outcome = rt.earsiv.report(tenant_id, through=through)
    with rt.db.tenant(tenant_id) as conn:
        rows = earsiv.list_reports(conn, tenant_id, limit=max(outcome.prepared, 1))
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "through": through.isoformat(),
                    "prepared": outcome.prepared,
                    "sent": outcome.sent,
                    "settled": outcome.settled,
                    "sending": rt.earsiv.configured,
                    "reports": [
                        {
                            "id": str(r.report_id),
                            "period": r.period.isoformat()[:7],
                            "part": r.part,
                            "invoices": r.invoices,
                            "cancellations": r.cancellations,
                            "status": r.status,
                            "gib_code": r.gib_code,
                        }
                        for r in rows[: outcome.prepared]
                    ],
                },
                ensure_ascii=False,
            )
        )
        return
    typer.echo(
        f"through {through}: {outcome.prepared} reports prepared, {outcome.sent} sent, "
        f"{outcome.settled} settled by GİB"
    )
    if not rt.earsiv.configured:
        typer.echo("ENTEGRATOR_EARSIV_URL is not set: the reports are stored, not sent")
    for r in rows[: outcome.prepared]:
        typer.echo(
            f"  {r.report_id}  {r.period:%Y-%m} part {r.part}  {r.invoices} invoices, "
            f"{r.cancellations} cancellations  {r.status}"
        )
