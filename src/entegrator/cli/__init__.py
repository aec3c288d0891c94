"""The ``entegrator`` command line (Typer)."""

from __future__ import annotations

import typer

from entegrator import __version__
from entegrator.cli import (
    archive,
    billing,
    documents,
    earsiv,
    envelope,
    exports,
    imports,
    platform,
    rulepacks,
    rules,
    signing,
    tenant_series,
)

__all__ = ["app", "main"]

# Every Typer here uses click's plain help (rich_markup_mode=None): typer's rich help prints a
# type after every option, ``<bool>`` after each flag and after --help too; the plain one
# prints none after flags and the option's metavar (VKN, TENANT, PORT, <path>) after the rest.
app = typer.Typer(
    rich_markup_mode=None,
    name="entegrator",
    help="entegrator: UBL-TR e-Fatura, e-Arşiv and e-İrsaliye documents for GİB.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command()(documents.build)
app.command()(documents.parse)
app.command()(documents.samples)
app.command()(documents.schema)
app.command()(documents.tour)
app.command()(rules.validate)

rules_app = typer.Typer(rich_markup_mode=None, help="GİB rule packs.", no_args_is_help=True)
rules_app.command("info")(rules.info)
rules_app.command("install")(rulepacks.install)
rules_app.command("list")(rulepacks.list_packs)
rules_app.command("diff")(rulepacks.diff)
app.add_typer(rules_app, name="rules")
app.command()(signing.sign)
app.command()(signing.verify)
app.add_typer(signing.cert_app, name="cert")
app.add_typer(envelope.envelope_app, name="envelope")
app.command()(platform.serve)
app.command()(platform.worker)
app.command()(platform.gibsim)
app.command()(platform.demo)
app.add_typer(platform.db_app, name="db")
platform.tenant_app.command("series")(tenant_series.series)
platform.tenant_app.command("despatch-series")(tenant_series.despatch_series)
app.add_typer(platform.tenant_app, name="tenant")
app.add_typer(platform.apikey_app, name="apikey")
app.add_typer(platform.user_app, name="user")
app.add_typer(platform.seal_app, name="seal")
app.add_typer(platform.alias_app, name="alias")
app.add_typer(platform.gib_app, name="gib")
app.add_typer(earsiv.earsiv_app, name="earsiv")
app.add_typer(billing.plan_app, name="plan")
app.add_typer(billing.credits_app, name="credits")
app.add_typer(billing.billing_app, name="billing")
app.add_typer(imports.import_app, name="import")
app.add_typer(exports.export_app, name="export")
app.add_typer(archive.archive_app, name="archive")


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


def main() -> None:
    app()
