"""``entegrator import``: a bulk import from the command line, and the empty template.

``entegrator import FILE --tenant VKN`` stores the file as the API does and processes it in
this process (no worker needed for the import itself; signing and sending stay the
worker's), with a progress bar. Exit 0 when every document was issued (or had been issued
by an earlier import of the same keys), 1 when some were refused.
"""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from entegrator.cli._errors import cli_errors, fail
from entegrator.cli.platform import _find_tenant, _platform_errors, _runtime

__all__ = ["import_app"]


class _FileOrCommand(TyperGroup):
    """``entegrator import FILE …`` runs ``import file FILE …``; ``import template`` stays."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # typer's own click
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["file", *args]
        return super().parse_args(ctx, args)


import_app = typer.Typer(
    cls=_FileOrCommand,
    rich_markup_mode=None,
    help="Bulk import of invoices: `entegrator import FILE --tenant VKN` (XLSX or CSV in the "
    "template, or a zip of drafts and UBL-TR XML); `entegrator import template` writes the "
    "template.",
    no_args_is_help=True,
)


@import_app.command("template")
def template(
    format: Annotated[
        str, typer.Option("--format", metavar="xlsx|csv", help="xlsx (with dropdowns) or csv.")
    ] = "xlsx",
    out: Annotated[
        Path | None,
        typer.Option("--out", metavar="<path>", help="Where to write it (default: ./template.*)."),
    ] = None,
) -> None:
    """Write the empty import template with one filled example row (the XLSX carries GİB's
    code lists — units, tax, exemption and withholding codes — as dropdowns)."""
    from entegrator.services.imports.template import write_csv, write_xlsx

    if format not in ("xlsx", "csv"):
        fail(
            "INVALID_FORMAT",
            f"--format xlsx veya csv olmalı, '{format}' değil",
            f"--format must be xlsx or csv, not '{format}'",
            where="--format",
        )
    target = out or Path(f"entegrator-import.{format}")
    (write_xlsx if format == "xlsx" else write_csv)(target)
    typer.echo(str(target))


def _summary(row: Any, docs: list[Any]) -> dict[str, Any]:
    return {
        "id": str(row.import_id),
        "status": row.status,
        "format": row.format,
        "policy": row.policy,
        "file_name": row.file_name,
        "counts": {
            "rows": row.rows,
            "documents": row.documents,
            "processed": row.processed,
            "issued": row.issued,
            "already_issued": row.already_issued,
            "refused": row.refused,
            "problems": row.problem_count,
        },
        "problems": row.problems,
        "documents": [
            {
                "document_key": d.erp_key,
                "id": str(d.document_id),
                "number": d.number,
                "ettn": d.ettn,
                "already_issued": d.replayed,
            }
            for d in docs
        ],
    }


def _where(problem: dict[str, Any]) -> str:
    if problem.get("file"):
        return f"{problem['file']}" + (f" {problem['path']}" if problem.get("path") else "")
    parts = []
    if problem.get("row") is not None:
        parts.append(f"row {problem['row']}")
    if problem.get("column"):
        parts.append(
            f"column {problem['column']}" + (f" ({problem['cell']})" if problem.get("cell") else "")
        )
    if problem.get("path") and not problem.get("column"):
        parts.append(str(problem["path"]))
    return ", ".join(parts) or "file"


@import_app.command("file")
@_platform_errors
def import_file(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="XLSX, CSV or zip.")],
    tenant: Annotated[str, typer.Option(metavar="TENANT", help="Tenant id (or its VKN/TCKN).")],
    policy: Annotated[
        str,
        typer.Option(
            metavar="all-or-nothing|valid-only",
            help="valid-only: issue the valid documents, report the rest; all-or-nothing: "
            "issue nothing unless every document is valid.",
        ),
    ] = "valid-only",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Import FILE for the tenant: every problem is reported with its row and column (or
    file and path); exit 0 when every document was issued, 1 when some were refused."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from entegrator.store.keys import ApiKey

    if not file.is_file():
        fail(
            "FILE_NOT_FOUND",
            f"Dosya bulunamadı: {file}",
            f"File not found: {file}",
            where="FILE",
            as_json=as_json,
        )
    rt = _runtime()
    rt.db.upgrade()
    tenant_id = _find_tenant(rt, tenant, as_json)
    key = ApiKey(tenant_id, uuid.UUID(int=0), "owner", "cli")
    with cli_errors("import", as_json=as_json):
        created = rt.imports.create(
            key, file, file_name=file.name, policy=policy, queue=False, actor="cli"
        )
    console = Console(file=sys.stderr)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        disable=as_json,
        transient=False,
    ) as bar:
        task = bar.add_task(file.name, total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total or None)

        rt.imports.process(tenant_id, created.import_id, progress=progress)
    row, docs = rt.imports.get(tenant_id, created.import_id, limit=100_000)
    ok = row.status == "done" and row.refused == 0
    if as_json:
        typer.echo(json.dumps(_summary(row, docs), ensure_ascii=False, default=str))
    else:
        typer.echo(
            f"import {row.import_id} ({row.policy}): {row.documents} documents, "
            f"{row.issued} issued, {row.already_issued} already issued, {row.refused} refused"
        )
        for p in row.problems:
            typer.echo(
                f"  {p['code']} [{_where(p)}]\n    TR: {p['message_tr']}\n    EN: {p['message_en']}"
            )
        if row.problem_count > len(row.problems):
            typer.echo(f"  … {row.problem_count - len(row.problems)} more problems")
    if not ok:
        raise typer.Exit(1)
