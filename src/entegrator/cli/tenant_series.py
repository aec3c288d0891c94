"""``entegrator tenant series``: show or change a tenant's default series per kind."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from entegrator.cli._errors import fail
from entegrator.cli.platform import _find_tenant, _platform_errors, _runtime

__all__ = ["despatch_series", "series"]

_SERIES_HELP = "3 characters of A-Z and 0-9."


@_platform_errors
def series(
    tenant: Annotated[str, typer.Option(metavar="TENANT", help="Tenant id (or its VKN/TCKN).")],
    efatura: Annotated[
        str | None, typer.Option(metavar="SERIES", help=f"e-Fatura default. {_SERIES_HELP}")
    ] = None,
    earsiv: Annotated[
        str | None, typer.Option(metavar="SERIES", help=f"e-Arşiv default. {_SERIES_HELP}")
    ] = None,
    internet: Annotated[
        str | None,
        typer.Option(metavar="SERIES", help=f"e-Arşiv internet-sale default. {_SERIES_HELP}"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the default series (seri) per kind of invoice, or change the ones given.

    An invoice issued without a series (?series=) takes the default of its kind: e-Fatura, e-Arşiv
    or e-Arşiv internet sale.
    """
    from entegrator.services.errors import RequestError

    rt = _runtime()
    tenant_id = _find_tenant(rt, tenant, as_json)
    if efatura is None and earsiv is None and internet is None:
        current = rt.invoices.series_defaults(tenant_id)
    else:
        try:
            current = rt.invoices.set_series_defaults(
                tenant_id, actor="cli", efatura=efatura, earsiv=earsiv, internet=internet
            )
        except RequestError as exc:
            fail(
                "INVALID_SERIES",
                exc.text_tr,
                exc.text_en,
                where=f"--{exc.where}" if exc.where else None,
                as_json=as_json,
            )
    if as_json:
        typer.echo(json.dumps(current.to_dict()))
    else:
        for kind, value in current.to_dict().items():
            typer.echo(f"{kind:<9}{value}")


@_platform_errors
def despatch_series(
    tenant: Annotated[str, typer.Option(metavar="TENANT", help="Tenant id (or its VKN/TCKN).")],
    despatch: Annotated[
        str | None,
        typer.Option(metavar="SERIES", help=f"Despatch advices (e-İrsaliye). {_SERIES_HELP}"),
    ] = None,
    receipt: Annotated[
        str | None,
        typer.Option(metavar="SERIES", help=f"Receipt answers (irsaliye yanıtı). {_SERIES_HELP}"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the default series of despatch advices and of their receipt answers, or change
    the ones given. They are counted apart from invoices, even under the same letters."""
    from entegrator.documents.identifiers import numbering
    from entegrator.errors import EntegratorError
    from entegrator.store import repo, tenants

    for name, value in (("despatch", despatch), ("receipt", receipt)):
        if value is None:
            continue
        try:
            numbering.validate_series(value)
        except EntegratorError as exc:
            fail("INVALID_SERIES", exc.text_tr, exc.text_en, where=f"--{name}", as_json=as_json)
    rt = _runtime()
    tenant_id = _find_tenant(rt, tenant, as_json)
    with rt.db.system() as conn:
        if despatch is None and receipt is None:
            current = tenants.despatch_series(conn, tenant_id)
        else:
            current = tenants.set_despatch_series(
                conn, tenant_id, despatch=despatch, receipt=receipt
            )
            repo.append_audit(
                conn,
                tenant_id,
                actor="cli",
                action="tenant.despatch-series",
                data={"despatch": despatch, "receipt": receipt},
            )
    shown = {"despatch": current[0], "receipt": current[1]}
    if as_json:
        typer.echo(json.dumps(shown))
    else:
        for kind, value in shown.items():
            typer.echo(f"{kind:<9}{value}")
