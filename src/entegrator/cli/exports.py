"""``entegrator export``: a tenant's documents of a date range in one zip (XML, PDF, events with
their hash chain, a manifest of SHA-256 digests); ``entegrator export verify`` checks one
offline."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from entegrator.cli._errors import cli_errors, fail
from entegrator.cli.platform import _find_tenant, _platform_errors, _runtime

__all__ = ["export_app"]

export_app = typer.Typer(
    rich_markup_mode=None,
    help="Export a tenant's documents to a zip, or verify an export (export verify F.zip).",
    invoke_without_command=True,
)


def _date(value: str | None, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value or "")
    except ValueError:
        fail(
            "INVALID_DATE",
            f"{option} bir tarih olmalı (YYYY-AA-GG)",
            f"{option} must be a date (YYYY-MM-DD)",
            where=option,
        )


@export_app.callback()
def export(  # noqa: PLR0917 - one parameter per option
    ctx: typer.Context,
    tenant: Annotated[
        str | None, typer.Option("--tenant", metavar="VKN", help="The tenant's VKN/TCKN or id")
    ] = None,
    from_: Annotated[
        str | None, typer.Option("--from", metavar="DATE", help="First issue date (YYYY-MM-DD)")
    ] = None,
    to: Annotated[
        str | None, typer.Option("--to", metavar="DATE", help="Last issue date (YYYY-MM-DD)")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", metavar="F.zip", help="The zip to write")
    ] = None,
    no_pdf: Annotated[bool, typer.Option("--no-pdf", help="Leave out the PDF views")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON")] = False,
) -> None:
    """Write every document issued from --from to --to (both directions, every kind) with its
    signed XML, PDF view and event log, and a manifest of SHA-256 digests."""
    if ctx.invoked_subcommand is not None:
        return
    if tenant is None or out is None or from_ is None or to is None:
        fail(
            "OPTION_MISSING",
            "--tenant, --from, --to ve --out gerekli",
            "--tenant, --from, --to and --out are required",
            where="export",
        )
    _export(tenant, _date(from_, "--from"), _date(to, "--to"), out, pdf=not no_pdf, as_json=as_json)


@_platform_errors
def _export(
    tenant: str, start: dt.date, end: dt.date, out: Path, *, pdf: bool, as_json: bool
) -> None:
    import asyncio

    from entegrator.rendering.sandbox import Renderer, RenderLimits

    rt = _runtime()
    tenant_id = _find_tenant(rt, tenant, as_json)
    partial = out.with_name(out.name + ".partial")
    with cli_errors(as_json=as_json), asyncio.Runner() as runner:
        renderer: Renderer | None = None
        render: Any = None
        if pdf:
            s = rt.settings
            renderer = Renderer(
                RenderLimits(
                    html_seconds=s.view_html_seconds,
                    pdf_seconds=s.view_pdf_seconds,
                    memory_mb=s.view_memory_mb,
                    concurrency=1,
                    queue_seconds=max(s.view_queue_seconds, s.view_pdf_seconds * 2),
                )
            )
            active = renderer

            def render(xml: bytes, cancelled: bool) -> bytes:
                return runner.run(active.pdf(xml, cancelled=cancelled)).pdf

        try:
            summary = rt.exports.export(tenant_id, start, end, partial, pdf=render, max_days=None)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        finally:
            if renderer is not None:
                runner.run(renderer.aclose())
        partial.replace(out)  # a zip that exists is a finished one
    result = {
        "out": str(out),
        "documents": summary.documents,
        "files": summary.files,
        "pdf_failures": summary.pdf_failures,
        "manifest_sha256": summary.manifest_sha256,
    }
    if as_json:
        typer.echo(json.dumps(result))
        return
    typer.echo(f"{summary.documents} documents, {summary.files} files → {out}")
    typer.echo(f"manifest SHA-256: {summary.manifest_sha256} (keep it apart from the zip)")
    for ident in summary.pdf_failures:
        typer.echo(f"PDF view failed (XML and events exported): {ident}", err=True)


@export_app.command("verify")
def verify(
    archive: Annotated[Path, typer.Argument(metavar="F.zip", help="The export to check")],
    manifest_sha256: Annotated[
        str | None,
        typer.Option(
            "--manifest-sha256",
            metavar="HEX",
            help="The digest the export printed: shows the manifest itself is unchanged",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON")] = False,
) -> None:
    """Check an export offline: every file against the manifest's SHA-256, every event chain.
    Exit 0 when intact, 1 when anything differs."""
    from entegrator.services.exports import verify_export

    if not archive.is_file():
        fail(
            "FILE_NOT_FOUND",
            f"Dosya yok: {archive}",
            f"No such file: {archive}",
            where=str(archive),
            as_json=as_json,
        )
    with cli_errors(str(archive), as_json=as_json):
        problems = verify_export(archive, manifest_sha256)
    if as_json:
        typer.echo(json.dumps({"ok": not problems, "problems": problems}, ensure_ascii=False))
    elif problems:
        for problem in problems:
            typer.echo(f"✗ {problem}", err=True)
    else:
        typer.echo(f"✓ {archive}: every file and event chain is intact")
    raise typer.Exit(1 if problems else 0)
