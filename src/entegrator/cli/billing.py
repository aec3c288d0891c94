"""``entegrator plan``, ``entegrator credits`` and ``entegrator billing``: what the
installation's operator sells and bills (docs/billing.md)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any

import typer

from entegrator.cli._errors import cli_errors, fail
from entegrator.cli.platform import _platform_errors, _runtime

__all__ = ["billing_app", "credits_app", "plan_app"]

plan_app = typer.Typer(rich_markup_mode=None, help="Plans (pricing).", no_args_is_help=True)
credits_app = typer.Typer(
    rich_markup_mode=None, help="Credit packages (kontör).", no_args_is_help=True
)
billing_app = typer.Typer(
    rich_markup_mode=None, help="Monthly statements and invoices.", no_args_is_help=True
)

_KINDS = "efatura, earsiv, despatch, incoming, users, storage_gb"
JSON = Annotated[bool, typer.Option("--json", help="Print JSON.")]
TENANT = Annotated[str, typer.Option("--tenant", metavar="VKN", help="The tenant's VKN/TCKN.")]


def _money(value: str, where: str, as_json: bool) -> Decimal:
    try:
        amount = Decimal(value.replace(",", "."))
    except InvalidOperation:
        amount = Decimal(-1)
    if not amount.is_finite() or amount < 0 or amount.as_tuple().exponent < -2:  # type: ignore[operator]
        fail(
            "INVALID_AMOUNT",
            f"{where}: geçersiz tutar {value!r} (ör. 250 ya da 0.80)",
            f"{where}: invalid amount {value!r} (e.g. 250 or 0.80)",
            where=where,
            as_json=as_json,
        )
    return amount


def _pairs(values: list[str], where: str, as_json: bool) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values:
        kind, sep, amount = value.partition("=")
        if not sep or not kind or not amount:
            fail(
                "INVALID_PARAMETER",
                f"{where} TÜR=DEĞER biçiminde olmalı (türler: {_KINDS}): {value!r}",
                f"{where} takes KIND=VALUE (kinds: {_KINDS}): {value!r}",
                where=where,
                as_json=as_json,
            )
        out[kind.strip()] = amount.strip()
    return out


def _echo(data: Any, as_json: bool, text: str) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False) if as_json else text)


@plan_app.command("create")
@_platform_errors
def plan_create(  # noqa: PLR0917 - the options of a command
    name: Annotated[str, typer.Option("--name", metavar="NAME", help="The plan's name.")],
    monthly_fee: Annotated[
        str, typer.Option("--monthly-fee", metavar="TRY", help="Monthly fee without KDV.")
    ] = "0",
    kdv_rate: Annotated[
        str, typer.Option("--kdv-rate", metavar="PERCENT", help="KDV rate.")
    ] = "20",
    prepaid: Annotated[
        bool, typer.Option("--prepaid", help="The tenant prepays credits (kontör).")
    ] = False,
    included: Annotated[
        list[str] | None,
        typer.Option("--included", metavar="KIND=N", help=f"Included per month. Kinds: {_KINDS}."),
    ] = None,
    unit_price: Annotated[
        list[str] | None,
        typer.Option("--unit-price", metavar="KIND=TRY", help="Price of each unit beyond."),
    ] = None,
    as_json: JSON = False,
) -> None:
    """Define a plan: fee, included quantities, unit prices beyond them, prepaid or not."""
    counts: dict[str, int] = {}
    for kind, n in _pairs(included or [], "--included", as_json).items():
        if not n.isdigit():
            fail(
                "INVALID_PARAMETER",
                f"--included {kind}: tam sayı olmalı",
                f"--included {kind}: must be a whole number",
                where="--included",
                as_json=as_json,
            )
        counts[kind] = int(n)
    prices = {
        k: _money(v, "--unit-price", as_json)
        for k, v in _pairs(unit_price or [], "--unit-price", as_json).items()
    }
    fee = _money(monthly_fee, "--monthly-fee", as_json)
    rate = _money(kdv_rate, "--kdv-rate", as_json)
    rt = _runtime()
    with cli_errors(as_json=as_json):
        plan = rt.billing.create_plan(
            name=name,
            monthly_fee=fee,
            kdv_rate=rate,
            prepaid=prepaid,
            included=counts,
            unit_prices=prices,
        )
    _echo(plan.to_dict(), as_json, f"plan {plan.name} created")


@plan_app.command("list")
@_platform_errors
def plan_list(as_json: JSON = False) -> None:
    """The plans."""
    plans = [p.to_dict() for p in _runtime().billing.plans()]
    lines = [
        f"{p['name']:<20} fee {p['monthly_fee']:>10} TRY  KDV {p['kdv_rate']}%  "
        f"{'prepaid' if p['prepaid'] else 'postpaid'}  included {p['included']}  "
        f"unit {p['unit_prices']}"
        for p in plans
    ]
    _echo(plans, as_json, "\n".join(lines) or "no plans")


@plan_app.command("assign")
@_platform_errors
def plan_assign(
    tenant: TENANT,
    plan: Annotated[str, typer.Option("--plan", metavar="NAME", help="The plan's name.")],
    from_: Annotated[
        str | None,
        typer.Option("--from", metavar="DATE", help="Effective from (YYYY-MM-DD); today."),
    ] = None,
    as_json: JSON = False,
) -> None:
    """Put a tenant on a plan from a day on (its earlier plans stay in its history)."""
    day = _date(from_, "--from", as_json)
    with cli_errors(as_json=as_json):
        result = _runtime().billing.assign(tenant, plan, effective_from=day, actor="cli")
    history = ", ".join(f"{a['effective_from']} {a['plan']}" for a in result["assignments"])
    _echo(result, as_json, f"{tenant}: {history}")


def _date(value: str | None, where: str, as_json: bool) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        fail(
            "INVALID_PARAMETER",
            f"{where}: tarih YYYY-AA-GG olmalı",
            f"{where}: a date is YYYY-MM-DD",
            where=where,
            as_json=as_json,
        )


@credits_app.command("add")
@_platform_errors
def credits_add(
    tenant: TENANT,
    credits: Annotated[int, typer.Option("--credits", metavar="N", help="Credits bought.")],
    price: Annotated[str, typer.Option("--price", metavar="TRY", help="Price without KDV.")] = "0",
    expires: Annotated[
        str | None, typer.Option("--expires", metavar="DATE", help="Last day of use (YYYY-MM-DD).")
    ] = None,
    as_json: JSON = False,
) -> None:
    """A credit package bought by a tenant: its balance grows by N."""
    amount = _money(price, "--price", as_json)
    day = _date(expires, "--expires", as_json)
    with cli_errors(as_json=as_json):
        result = _runtime().billing.add_credits(
            tenant, credits, price=amount, expires_on=day, actor="cli"
        )
    _echo(result, as_json, f"{tenant}: +{credits} credits, balance {result['balance']}")


@credits_app.command("expire")
@_platform_errors
def credits_expire(tenant: TENANT, as_json: JSON = False) -> None:
    """Write off what is left of the tenant's packages past their last day of use."""
    with cli_errors(as_json=as_json):
        written = _runtime().billing.expire_credits(tenant)
    _echo({"vkn": tenant, "expired": written}, as_json, f"{tenant}: {written} credits expired")


@billing_app.command("run")
@_platform_errors
def billing_run(
    period: Annotated[str, typer.Option("--period", metavar="YYYY-MM", help="The month to close.")],
    as_json: JSON = False,
) -> None:
    """Close a month: a statement per tenant and the integrator's invoice for each.

    Running it again changes nothing: statements are written once, invoices issued once.
    """
    rt = _runtime()
    with cli_errors(as_json=as_json):
        results = rt.billing.run(period)
    rows = [r.to_dict() for r in results]
    lines = [
        f"{r['vkn']:<12} {r['total']:>12} TRY  "
        f"{'new' if r['created'] else 'closed before'}  "
        f"{r['invoice_number'] or '-'}{' (issued now)' if r['invoice_issued'] else ''}"
        f"{'  ' + r['note'] if r['note'] else ''}"
        for r in rows
    ]
    _echo(rows, as_json, "\n".join(lines) or "no tenant has a plan")


@billing_app.command("party")
@_platform_errors
def billing_party(
    tenant: TENANT,
    file: Annotated[
        Path, typer.Option("--file", metavar="JSON", help="The party (a draft's customer).")
    ],
    email: Annotated[
        list[str] | None, typer.Option("--email", metavar="ADDRESS", help="A billing contact.")
    ] = None,
    as_json: JSON = False,
) -> None:
    """A tenant's details on the integrator's invoices, and who gets its credit warnings."""
    try:
        party = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        fail(
            "INVALID_PARAMETER",
            f"--file okunamadı: {exc}",
            f"--file unreadable: {exc}",
            where="--file",
            as_json=as_json,
        )
    rt = _runtime()
    with cli_errors(as_json=as_json):
        rt.billing.set_party(tenant, party)
        rt.billing.set_contacts(tenant, email or [])
    _echo({"vkn": tenant}, as_json, f"{tenant}: billing details set")


@billing_app.command("notify")
@_platform_errors
def billing_notify(as_json: JSON = False) -> None:
    """E-mail the low-credit warnings not mailed yet to the tenants' billing contacts."""
    rt = _runtime()
    sent = rt.billing.mail_warnings(rt.deliveries.mailer, rt.settings.mail_from)
    _echo({"sent": sent}, as_json, f"{sent} warnings mailed")
