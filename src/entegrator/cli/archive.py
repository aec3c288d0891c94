"""``entegrator archive import``: file another integrator's export of a tenant's documents here
(the archive that goes with a tax payer moving between integrators)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from entegrator.cli._errors import cli_errors, fail
from entegrator.cli.platform import _find_tenant, _platform_errors, _runtime

__all__ = ["archive_app"]

archive_app = typer.Typer(
    rich_markup_mode=None,
    help="A tenant's archive from another integrator: archive import F.zip --tenant VKN.",
    no_args_is_help=True,
)


@archive_app.command("import")
def import_(
    archive: Annotated[Path, typer.Argument(metavar="F.zip", help="The export to file here")],
    tenant: Annotated[
        str, typer.Option("--tenant", metavar="VKN", help="The tenant's VKN/TCKN or id")
    ],
    manifest_sha256: Annotated[
        str | None,
        typer.Option(
            "--manifest-sha256",
            metavar="HEX",
            help="The digest the export printed: shows the manifest itself is unchanged",
        ),
    ] = None,
    source: Annotated[
        str | None,
        typer.Option("--source", metavar="NAME", help="The previous integrator, for the record"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON")] = False,
) -> None:
    """Verify the export, then file each of its documents for the tenant as it was (XML,
    status, event log with its hash chain), marked as imported. Documents already here are
    skipped and listed; importing the same zip twice files nothing twice."""
    if not archive.is_file():
        fail(
            "FILE_NOT_FOUND",
            f"Dosya yok: {archive}",
            f"No such file: {archive}",
            where=str(archive),
            as_json=as_json,
        )
    _import(archive, tenant, manifest_sha256, source, as_json=as_json)


@_platform_errors
def _import(
    archive: Path, tenant: str, manifest_sha256: str | None, source: str | None, *, as_json: bool
) -> None:
    rt = _runtime()
    tenant_id = _find_tenant(rt, tenant, as_json)
    with cli_errors(str(archive), as_json=as_json):
        summary = rt.archive.import_archive(
            tenant_id, archive, manifest_sha256=manifest_sha256, source=source, actor="cli"
        )
    if as_json:
        typer.echo(json.dumps(summary.to_dict(), ensure_ascii=False))
        return
    typer.echo(
        f"{summary.imported} of {summary.documents} documents imported, "
        f"{len(summary.skipped)} skipped (manifest SHA-256 {summary.manifest_sha256})"
    )
    for skipped in summary.skipped:
        typer.echo(
            f"skipped {skipped.number or skipped.document_id}: {skipped.reason} ({skipped.detail})",
            err=True,
        )
    for series, value in sorted(summary.series.items()):
        typer.echo(f"series {series}: the next number follows {value}")
