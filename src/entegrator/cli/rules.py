"""``entegrator validate`` and ``entegrator rules info``."""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from entegrator.cli._errors import cli_errors, fail
from entegrator.config import DEFAULT_CACHE_DIR
from entegrator.findings import Report
from entegrator.rules import Engine, Purpose, RulePack, Severity, ValidationSettings
from entegrator.rules.batch import collect, default_jobs, validate_paths

__all__ = ["info", "validate"]

RulesPackOption = Annotated[
    Path | None,
    typer.Option(
        "--rules-pack",
        help="Folder of a GİB rule package (default: ENTEGRATOR_RULES_PACK, else the rules "
        "shipped in efatura-kontrol).",
        file_okay=False,
    ),
]


def _pack(path: Path | None, at: str | None = None, *, as_json: bool = False) -> RulePack:
    """``--rules-pack DIR`` exactly; otherwise the pack in force on ``at`` (default today)
    among the baseline (``ENTEGRATOR_RULES_PACK``, else efatura-kontrol's) and the packs
    installed in ``ENTEGRATOR_DATA_DIR`` (``entegrator rules install``)."""
    if path is not None:
        return RulePack.load(path.expanduser())
    from entegrator.cli.rulepacks import parse_day, schedule, today

    day = parse_day(at, "--at", as_json=as_json) if at else today()
    return schedule().in_force(day).pack


def cache_dir_from_env() -> Path:
    """``ENTEGRATOR_CACHE_DIR`` (default ``~/.cache/entegrator``): translated rule packs."""
    return Path(os.environ.get("ENTEGRATOR_CACHE_DIR") or DEFAULT_CACHE_DIR).expanduser()


def _trust_anchors(paths: list[Path]) -> tuple[object, ...]:
    """CA certificates (PEM) from ``--trust`` and ``ENTEGRATOR_TRUST_ANCHORS`` (path list)."""
    env = os.environ.get("ENTEGRATOR_TRUST_ANCHORS", "")
    files = [*paths, *(Path(p) for p in env.split(os.pathsep) if p)]
    if not files:
        return ()
    from cryptography import x509

    anchors: list[object] = []
    for file in files:
        try:
            anchors.extend(x509.load_pem_x509_certificates(file.read_bytes()))
        except (OSError, ValueError) as exc:
            fail(
                "SETTING_INVALID",
                f"Güvenilen sertifika dosyası okunamadı ({file}): {exc}",
                f"Cannot read the trusted certificates in {file}: {exc}",
                where=str(file),
            )
    return tuple(anchors)


def settings_from_env(
    strict_ids: bool = False,
    engine: str | None = None,
    trust: list[Path] | None = None,
    purpose: Purpose = Purpose.OUTBOUND,
    integrators: list[str] | None = None,
) -> ValidationSettings:
    """Validation settings from the options and ``ENTEGRATOR_ID_CHECKSUM``,
    ``ENTEGRATOR_SCHEMATRON_ENGINE``, ``ENTEGRATOR_TRUST_ANCHORS`` and
    ``ENTEGRATOR_INTEGRATOR_VKNS`` (the integrators whose seals may sign for an issuer)."""
    checksum = os.environ.get("ENTEGRATOR_ID_CHECKSUM", "warning").strip().lower()
    chosen_engine = (engine or os.environ.get("ENTEGRATOR_SCHEMATRON_ENGINE", "auto")).lower()
    if checksum not in ("warning", "error"):
        fail(
            "SETTING_INVALID",
            f"ENTEGRATOR_ID_CHECKSUM 'warning' ya da 'error' olmalı, '{checksum}' değil",
            f"ENTEGRATOR_ID_CHECKSUM must be 'warning' or 'error', not '{checksum}'",
        )
    if chosen_engine not in {e.value for e in Engine}:
        fail(
            "SETTING_INVALID",
            f"Şematron motoru auto, compiled ya da saxon olmalı, '{chosen_engine}' değil",
            f"The schematron engine must be auto, compiled or saxon, not '{chosen_engine}'",
        )
    known = [v.strip() for v in os.environ.get("ENTEGRATOR_INTEGRATOR_VKNS", "").split(",")]
    known = [v for v in [*known, *(integrators or [])] if v]
    wrong = [v for v in known if not (v.isdigit() and len(v) == 10)]
    if wrong:
        fail(
            "SETTING_INVALID",
            f"Entegratör VKN'si 10 haneli olmalı: {', '.join(wrong)}",
            f"An integrator's VKN must have 10 digits: {', '.join(wrong)}",
            where="ENTEGRATOR_INTEGRATOR_VKNS / --integrator",
        )
    return ValidationSettings(
        clock=functools.partial(dt.datetime.now, dt.UTC),
        id_checksum=Severity.ERROR if strict_ids or checksum == "error" else Severity.WARNING,
        engine=Engine(chosen_engine),
        trust=_trust_anchors(trust or []),
        cache_dir=cache_dir_from_env(),
        purpose=purpose,
        integrators=frozenset(known),
    )


def _print_human(report: Report, console: Console) -> None:
    status = "[green]GEÇERLİ/valid[/]" if report.valid else "[red]GEÇERSİZ/invalid[/]"
    what = " / ".join(x for x in (report.kind, report.profile, report.type) if x)
    console.print(
        f"{report.path}: {status} ({what or '?'}; {report.purpose.value}) — "
        f"{report.count(Severity.ERROR)} hata/errors, {report.count(Severity.WARNING)} "
        f"uyarı/warnings, {report.ms:.1f} ms",
        highlight=False,
    )
    for f in report.findings:
        place = f" line {f.line}" if f.line else ""
        console.print(f"  {f.severity.value.upper():7} {f.code}{place}", highlight=False)
        console.print(f"          TR: {f.message_tr}", highlight=False, markup=False)
        console.print(f"          EN: {f.message_en}", highlight=False, markup=False)
        if f.xpath:
            console.print(f"          at: {f.xpath}", highlight=False, markup=False)
        if f.hint:
            console.print(f"          → {f.hint}", highlight=False, markup=False)


def validate(  # noqa: PLR0917 - a Typer command: one parameter per option
    paths: Annotated[list[Path], typer.Argument(help="XML files or folders (searched for *.xml).")],
    as_json: Annotated[
        bool, typer.Option("--json", help="JSON Lines: one object per document.")
    ] = False,
    rules_pack: RulesPackOption = None,
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", min=0, help="Worker processes (0: one per core).")
    ] = 0,
    strict_ids: Annotated[
        bool, typer.Option("--strict-ids", help="VKN/TCKN checksum failures are errors.")
    ] = False,
    engine: Annotated[
        str | None,
        typer.Option(
            metavar="auto|compiled|saxon",
            help="Schematron engine: auto (default), compiled or saxon.",
        ),
    ] = None,
    trust: Annotated[
        list[Path] | None,
        typer.Option("--trust", help="PEM file of CA certificates signed documents must chain to."),
    ] = None,
    purpose: Annotated[
        Purpose,
        typer.Option(
            case_sensitive=False,
            help="Why: outbound (we send it; strictest), upload (an ERP's XML to send: GİB's "
            "layers and real amount mismatches decide) or inbound (delivered by GİB: only what "
            "GİB refuses).",
        ),
    ] = Purpose.OUTBOUND,
    integrator: Annotated[
        list[str] | None,
        typer.Option(
            "--integrator",
            metavar="VKN",
            help="VKN of an integrator's seal: signing for an issuer is a warning (repeatable; "
            "ENTEGRATOR_INTEGRATOR_VKNS adds more).",
        ),
    ] = None,
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            metavar="YYYY-MM-DD",
            help="Use the rule pack in force on this day (default: today).",
        ),
    ] = None,
) -> None:
    """Validate documents with GİB's rules and ours; exit 0 if all are valid, 1 if not."""
    with cli_errors(as_json=as_json):
        settings = settings_from_env(strict_ids, engine, trust, purpose, integrator)
        pack = _pack(rules_pack, at, as_json=as_json)
        files, missing = collect(paths)
        if missing:
            fail(
                "PATH_NOT_FOUND",
                "Bulunamadı: " + ", ".join(map(str, missing)),
                "Not found: " + ", ".join(map(str, missing)),
                as_json=as_json,
            )
        if not files:
            fail(
                "NO_DOCUMENTS",
                "Doğrulanacak XML yok",
                "No XML documents to validate",
                as_json=as_json,
            )
        workers = jobs or default_jobs()
        show_progress = any(p.is_dir() for p in paths) and sys.stderr.isatty()
        out = Console(soft_wrap=True)
        invalid = 0
        progress = Progress(
            TextColumn("doğrulanıyor/validating"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            disable=not show_progress,
        )
        with progress:
            task = progress.add_task("validate", total=len(files))
            for report in validate_paths(files, pack=pack, settings=settings, jobs=workers):
                invalid += not report.valid
                if as_json:
                    sys.stdout.write(json.dumps(report.to_dict(), ensure_ascii=False) + "\n")
                else:
                    _print_human(report, out)
                progress.advance(task)
        if not as_json and len(files) > 1:
            out.print(f"{len(files)} belge/documents, {invalid} geçersiz/invalid", highlight=False)
    raise typer.Exit(1 if invalid else 0)


def info(
    rules_pack: RulesPackOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print the rule pack in force (or the one given): versions, rule counts, and warnings
    (a newer pack waiting for its date, a pack in force older than
    ENTEGRATOR_RULES_MAX_AGE_DAYS)."""
    with cli_errors(as_json=as_json):
        data = _pack(rules_pack, as_json=as_json).info(cache_dir=cache_dir_from_env())
        data["warnings"] = [] if rules_pack is not None else _warnings()
        if as_json:
            typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
            return
        sch = data["schematron"]
        typer.echo(f"rule pack: {data['origin']}")
        typer.echo(f"  folder:      {data['root']}")
        for key, value in data["versions"].items():
            typer.echo(f"  {key + ':':<20} {value}")
        typer.echo(f"  fingerprint: {data['fingerprint'][:16]}")
        typer.echo(
            f"  schematron:  {sch['patterns']} patterns, {sch['rules']} rules, "
            f"{sch['asserts']} asserts, {sch['code_lists']} code lists"
        )
        typer.echo(
            f"  compiled:    {sch['compiled_rules']} rules on libxml2; "
            f"{len(sch['saxon_only_rules'])} left to Saxon: {', '.join(sch['saxon_only_rules'])}"
        )
        typer.echo(f"  xsd:         {data['xsd']['files']} schema files")
        for warning in data["warnings"]:
            typer.echo(f"uyarı/warning {warning['code']}", err=True)
            typer.echo(f"  TR: {warning['message_tr']}", err=True)
            typer.echo(f"  EN: {warning['message_en']}", err=True)


def _warnings() -> list[dict[str, str]]:
    from entegrator.cli.rulepacks import schedule, today
    from entegrator.config import Settings

    settings = Settings()
    found = schedule(settings).warnings(today(), max_age_days=settings.rules_max_age_days)
    return [w.to_dict() for w in found]
