"""CLI commands of the document core: build, parse, samples, schema, tour."""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Annotated

import typer

import entegrator.documents as docs
from entegrator.cli._errors import cli_errors, fail
from entegrator.cli._files import read_input, write_output
from entegrator.documents.identifiers import ettn
from entegrator.documents.safe_xml import DEFAULT_MAX_BYTES

__all__ = ["build", "parse", "samples", "schema", "tour"]

MAX_DRAFT_BYTES = 20 * 1024 * 1024

if TYPE_CHECKING:
    from entegrator.documents import InvoiceDraft


def _samples() -> ModuleType:
    import entegrator.documents.samples as samples_module  # loads the models: on demand

    return samples_module


def _load_draft(path: Path) -> InvoiceDraft:
    data = read_input(path, limit=MAX_DRAFT_BYTES)
    with cli_errors(str(path)):
        return docs.read_draft(data)


def build(
    draft: Annotated[Path, typer.Argument(help="Draft JSON file (- for standard input).")],
    out: Annotated[
        Path | None, typer.Option("-o", "--out", help="Where to write the XML (default: stdout).")
    ] = None,
    number: Annotated[
        str | None, typer.Option(metavar="NUMBER", help="Invoice number, when the draft has none.")
    ] = None,
) -> None:
    """Build UBL-TR 1.2 XML from an invoice draft (JSON)."""
    d = _load_draft(draft)
    updates: dict[str, object] = {}
    if number:
        updates["number"] = number
    if d.ettn is None:
        updates["ettn"] = ettn.new()
    with cli_errors(str(draft)):
        d = docs.InvoiceDraft.model_validate(d.model_dump() | updates) if updates else d
        xml = docs.build_invoice(d)
    if out is None:
        sys.stdout.buffer.write(xml)
    else:
        write_output(out, xml)
        typer.echo(f"{out}: {d.profile}/{d.type} {d.number} ({len(xml)} bytes)", err=True)


def parse(
    xml: Annotated[Path, typer.Argument(help="UBL-TR invoice XML (- for standard input).")],
    out: Annotated[
        Path | None, typer.Option("-o", "--out", help="Where to write the draft JSON.")
    ] = None,
) -> None:
    """Read a UBL-TR invoice and print its draft JSON."""
    data = read_input(xml, limit=DEFAULT_MAX_BYTES)
    with cli_errors(str(xml)):
        d = docs.parse_invoice(data)
    text = d.model_dump_json(indent=2, exclude_defaults=True) + "\n"
    if out is None:
        sys.stdout.write(text)
    else:
        write_output(out, text.encode("utf-8"))


def samples(
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the drafts (.json) and invoices (.xml).")
    ],
    count: Annotated[int, typer.Option("--count", min=1, max=100_000)] = 20,
    seed: Annotated[int, typer.Option("--seed")] = 0,
) -> None:
    """Write N varied sample drafts and their XML, deterministic per seed."""
    out.mkdir(parents=True, exist_ok=True)
    kinds: Counter[str] = Counter()
    lines = 0
    start = time.perf_counter()
    with cli_errors():
        for i, d in enumerate(_samples().generate(count, seed=seed)):
            stem = out / f"{i + 1:05d}-{d.profile}-{d.type}"
            Path(f"{stem}.json").write_text(
                d.model_dump_json(indent=1, exclude_defaults=True) + "\n", "utf-8"
            )
            Path(f"{stem}.xml").write_bytes(docs.build_invoice(d))
            kinds[f"{d.profile}/{d.type}"] += 1
            lines += len(d.lines)
    took = time.perf_counter() - start
    typer.echo(
        f"{count} invoices ({lines} lines, {len(kinds)} profile/type combinations)"
        f" in {out} ({took:.1f} s)"
    )


def schema(
    kind: Annotated[
        str, typer.Argument(metavar="KIND", help="Document kind: invoice.")
    ] = "invoice",
) -> None:
    """Print the JSON Schema of a draft."""
    if kind != "invoice":
        fail("UNKNOWN_KIND", f"Bilinmeyen tür: {kind} (invoice)", f"Unknown kind: {kind} (invoice)")
    sys.stdout.write(
        json.dumps(docs.InvoiceDraft.model_json_schema(), ensure_ascii=False, indent=2) + "\n"
    )


def tour(
    out: Annotated[Path, typer.Option("--out")] = Path(".entegrator/tour"),
    count: Annotated[int, typer.Option("--count", min=1, max=10_000)] = 26,
) -> None:
    """Build one sample invoice per profile/type, validate it with GİB's rules, print a table."""
    from entegrator.cli.rules import settings_from_env
    from entegrator.rules import Validator

    out.mkdir(parents=True, exist_ok=True)
    typer.echo(f"entegrator document tour → {out.resolve()}\n")
    typer.echo(
        f"{'file':<40} {'profile/type':<30} {'lines':>5} {'cur':>4} {'payable':>16}  GİB rules"
    )
    validator = Validator(settings=settings_from_env())
    with cli_errors():
        for i, d in enumerate(_samples().generate(count, seed=2026)):
            xml = docs.build_invoice(d)
            report = validator.validate(xml)
            verdict = "valid" if report.valid else "INVALID " + ",".join(report.codes())
            name = f"{d.number}.xml"
            (out / name).write_bytes(xml)
            (out / f"{d.number}.json").write_text(
                d.model_dump_json(indent=1, exclude_defaults=True), "utf-8"
            )
            totals = docs.compute(d)
            typer.echo(
                f"{name:<40} {d.profile + '/' + d.type:<30} {len(d.lines):>5}"
                f" {d.currency:>4} {totals.payable:>16,}  {verdict} ({report.ms:.0f} ms)"
            )
            if i == count - 1:
                break
    typer.echo(
        "\nNext: entegrator validate FILE.xml · entegrator parse FILE.xml · "
        "entegrator schema invoice · make test"
    )
