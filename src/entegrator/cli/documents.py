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
from entegrator.documents.ns import DESPATCH, RECEIPT
from entegrator.documents.safe_xml import DEFAULT_MAX_BYTES

if TYPE_CHECKING:
    from entegrator.documents.model import DespatchDraft, InvoiceDraft, ReceiptDraft

__all__ = ["build", "parse", "samples", "schema", "tour"]

MAX_DRAFT_BYTES = 20 * 1024 * 1024


def _samples() -> ModuleType:
    import entegrator.documents.samples as samples_module  # loads the models: on demand

    return samples_module


def _load_draft(path: Path) -> InvoiceDraft | DespatchDraft | ReceiptDraft:
    from entegrator.documents.read import read_any_draft

    data = read_input(path, limit=MAX_DRAFT_BYTES)
    with cli_errors(str(path)):
        return read_any_draft(data)


def _build_xml(d: InvoiceDraft | DespatchDraft | ReceiptDraft) -> bytes:
    from entegrator.documents.build import build_despatch, build_receipt
    from entegrator.documents.model import DespatchDraft, ReceiptDraft

    if isinstance(d, DespatchDraft):
        return build_despatch(d)
    if isinstance(d, ReceiptDraft):
        return build_receipt(d)
    return docs.build_invoice(d)


def _label(d: InvoiceDraft | DespatchDraft | ReceiptDraft) -> str:
    kind = getattr(d, "type", "YANIT")  # an irsaliye yanıtı has no type
    return f"{d.profile}/{kind}"


def build(
    draft: Annotated[Path, typer.Argument(help="Draft JSON file (- for standard input).")],
    out: Annotated[
        Path | None, typer.Option("-o", "--out", help="Where to write the XML (default: stdout).")
    ] = None,
    number: Annotated[
        str | None,
        typer.Option(metavar="NUMBER", help="Document number, when the draft has none."),
    ] = None,
) -> None:
    """Build UBL-TR XML from a draft (JSON): an invoice, or with "kind" "despatch" an
    e-İrsaliye, "receipt" an irsaliye yanıtı."""
    d = _load_draft(draft)
    updates: dict[str, object] = {}
    if number:
        updates["number"] = number
    if d.ettn is None:
        updates["ettn"] = ettn.new()
    with cli_errors(str(draft)):
        d = type(d).model_validate(d.model_dump() | updates) if updates else d
        xml = _build_xml(d)
    if out is None:
        sys.stdout.buffer.write(xml)
    else:
        write_output(out, xml)
        typer.echo(f"{out}: {_label(d)} {d.number} ({len(xml)} bytes)", err=True)


def parse(
    xml: Annotated[
        Path,
        typer.Argument(help="UBL-TR invoice, despatch or receipt advice XML (- for stdin)."),
    ],
    out: Annotated[
        Path | None, typer.Option("-o", "--out", help="Where to write the draft JSON.")
    ] = None,
) -> None:
    """Read a UBL-TR invoice, despatch advice or receipt advice and print its draft JSON."""
    from entegrator.documents.model import InvoiceDraft
    from entegrator.documents.parse import (
        parse_despatch_tree,
        parse_invoice_tree,
        parse_receipt_tree,
    )
    from entegrator.documents.safe_xml import parse as safe_parse

    data = read_input(xml, limit=DEFAULT_MAX_BYTES)
    with cli_errors(str(xml)):
        root = safe_parse(data)
        d: InvoiceDraft | DespatchDraft | ReceiptDraft
        if root.tag == "{" + DESPATCH + "}DespatchAdvice":
            d = parse_despatch_tree(root)
        elif root.tag == "{" + RECEIPT + "}ReceiptAdvice":
            d = parse_receipt_tree(root)
        else:
            d = parse_invoice_tree(root)
    text = d.model_dump_json(indent=2, exclude_defaults=True) + "\n"
    if not isinstance(d, InvoiceDraft):  # the kind names the draft: keep it in the JSON
        text = json.dumps({"kind": d.kind} | json.loads(text), ensure_ascii=False, indent=2) + "\n"
    if out is None:
        sys.stdout.write(text)
    else:
        write_output(out, text.encode("utf-8"))


def _write_draft(stem: Path, d: InvoiceDraft | DespatchDraft | ReceiptDraft, xml: bytes) -> None:
    from entegrator.documents.model import InvoiceDraft

    text = d.model_dump_json(indent=1, exclude_defaults=True)
    if not isinstance(d, InvoiceDraft):
        text = json.dumps({"kind": d.kind} | json.loads(text), ensure_ascii=False, indent=1)
    Path(f"{stem}.json").write_text(text + "\n", "utf-8")
    Path(f"{stem}.xml").write_bytes(xml)


def samples(
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the drafts (.json) and documents (.xml).")
    ],
    count: Annotated[int, typer.Option("--count", min=1, max=100_000)] = 20,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    kind: Annotated[
        str,
        typer.Option(
            "--kind",
            metavar="KIND",
            help="invoice, or despatch (e-İrsaliye drafts and their irsaliye yanıtı).",
        ),
    ] = "invoice",
) -> None:
    """Write N varied sample drafts and their XML, deterministic per seed."""
    if kind not in ("invoice", "despatch"):
        fail(
            "UNKNOWN_KIND",
            f"Bilinmeyen tür: {kind} (invoice, despatch)",
            f"Unknown kind: {kind} (invoice, despatch)",
        )
    out.mkdir(parents=True, exist_ok=True)
    kinds: Counter[str] = Counter()
    lines = 0
    start = time.perf_counter()
    with cli_errors():
        if kind == "despatch":
            from entegrator.documents.build import build_despatch, build_receipt
            from entegrator.documents.despatch_samples import generate_receipts

            for i, (despatch, receipt) in enumerate(generate_receipts(count, seed=seed)):
                stem = out / f"{i + 1:05d}-{despatch.profile}-{despatch.type}"
                _write_draft(stem, despatch, build_despatch(despatch))
                _write_draft(Path(f"{stem}-yanit"), receipt, build_receipt(receipt, despatch))
                kinds[f"{despatch.profile}/{despatch.type}"] += 1
                lines += len(despatch.lines)
        else:
            for i, d in enumerate(_samples().generate(count, seed=seed)):
                stem = out / f"{i + 1:05d}-{d.profile}-{d.type}"
                _write_draft(stem, d, docs.build_invoice(d))
                kinds[f"{d.profile}/{d.type}"] += 1
                lines += len(d.lines)
    took = time.perf_counter() - start
    what = "despatches and their answers" if kind == "despatch" else "invoices"
    typer.echo(
        f"{count} {what} ({lines} lines, {len(kinds)} profile/type combinations)"
        f" in {out} ({took:.1f} s)"
    )


def schema(
    kind: Annotated[
        str,
        typer.Argument(metavar="KIND", help="Document kind: invoice, despatch or receipt."),
    ] = "invoice",
) -> None:
    """Print the JSON Schema of a draft."""
    from entegrator.documents.read import DRAFT_KINDS

    model = DRAFT_KINDS.get(kind)
    if model is None:
        fail(
            "UNKNOWN_KIND",
            f"Bilinmeyen tür: {kind} (invoice, despatch, receipt)",
            f"Unknown kind: {kind} (invoice, despatch, receipt)",
        )
    sys.stdout.write(json.dumps(model.model_json_schema(), ensure_ascii=False, indent=2) + "\n")


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
