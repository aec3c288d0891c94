"""``entegrator rules install``, ``rules list`` and ``rules diff``: rule packs by the day
they take effect (docs/rules.md)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from entegrator.cli._errors import cli_errors, fail
from entegrator.cli.platform import _platform_errors, _runtime
from entegrator.rules import PackSchedule, RulePack, ScheduledPack

if TYPE_CHECKING:
    from entegrator.config import Settings
    from entegrator.services.rulepacks import PackStore

__all__ = ["diff", "install", "list_packs", "schedule", "today"]

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _settings() -> Settings:
    from entegrator.config import Settings

    return Settings()


def _store(settings: Settings) -> PackStore:
    from entegrator.services.rulepacks import PackStore

    return PackStore(settings.rules_dir())


def today() -> dt.date:
    """Today in Türkiye: the day whose pack is in force."""
    from entegrator.rules.xpath import ISTANBUL

    return dt.datetime.now(dt.UTC).astimezone(ISTANBUL).date()


def _baseline(settings: Settings) -> RulePack:
    """``ENTEGRATOR_RULES_PACK``, else the pack shipped in efatura-kontrol."""
    return RulePack.load(settings.rules_pack)


def schedule(settings: Settings | None = None) -> PackSchedule:
    """The baseline and the packs installed in ``ENTEGRATOR_DATA_DIR``."""
    s = settings or _settings()
    return _store(s).schedule(_baseline(s))


def parse_day(value: str, option: str, *, as_json: bool = False) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        fail(
            "DATE_INVALID",
            f"{option} YYYY-AA-GG biçiminde bir tarih olmalı, '{value}' değil",
            f"{option} must be a date as YYYY-MM-DD, not '{value}'",
            where=option,
            as_json=as_json,
        )


def entry_dict(entry: ScheduledPack, day: dt.date, current: ScheduledPack) -> dict[str, Any]:
    pack = entry.pack
    if entry is current:
        state = "in force"
    elif entry.effective is not None and entry.effective > day:
        state = "pending"
    else:
        state = "superseded"
    return {
        **pack.identity(),
        "effective": entry.effective.isoformat() if entry.effective else None,
        "baseline": entry.baseline,
        "state": state,
        "published": pack.published.isoformat() if pack.published else None,
        "installed_at": entry.installed_at.isoformat() if entry.installed_at else None,
        "root": str(pack.root),
    }


def install(
    path: Annotated[
        Path, typer.Argument(help="GİB's e-FaturaPaketi.zip, or a folder in the pack layout.")
    ],
    effective: Annotated[
        str,
        typer.Option(
            "--effective", metavar="YYYY-MM-DD", help="The day the rules take effect (YYYY-MM-DD)."
        ),
    ],
    ubl: Annotated[
        Path | None,
        typer.Option(
            "--ubl",
            help="GİB's UBL-TR package zip, for the document schemas (default: the baseline's).",
            dir_okay=False,
        ),
    ] = None,
    version: Annotated[
        str | None,
        typer.Option(
            "--version",
            metavar="VERSION",
            help="What reports call this pack's version (e.g. 1.43).",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Install a GİB rule package to take effect on a date; the same package twice is a no-op."""
    with cli_errors(as_json=as_json):
        day = parse_day(effective, "--effective", as_json=as_json)
        settings = _settings()
        done = _store(settings).install(
            path.expanduser(),
            effective=day,
            baseline=_baseline(settings),
            ubl=ubl.expanduser() if ubl else None,
            version=version,
        )
        sched = schedule(settings)
        now = today()
        data = entry_dict(done.entry, now, sched.in_force(now))
        data["already_installed"] = done.already
        if as_json:
            typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
            return
        verb = "zaten kurulu/already installed" if done.already else "kuruldu/installed"
        typer.echo(
            f"{verb}: {data['name']} {data['version']} {data['fingerprint'][:12]} "
            f"yürürlük/effective {data['effective']} ({data['state']})"
        )


def list_packs(as_json: JsonOption = False) -> None:
    """List the rule packs by effective date and which is in force today."""
    with cli_errors(as_json=as_json):
        sched = schedule()
        now = today()
        current = sched.in_force(now)
        rows = [entry_dict(e, now, current) for e in sched.entries]
        if as_json:
            typer.echo(json.dumps({"today": now.isoformat(), "packs": rows}, indent=2))
            return
        typer.echo(f"bugün/today {now}")
        for row in rows:
            mark = "*" if row["state"] == "in force" else " "
            typer.echo(
                f"{mark} {row['effective'] or 'baseline':<10}  {row['fingerprint'][:12]}  "
                f"{row['name']} {row['version']}  ({row['state']})"
            )


def _candidate(spec: str) -> RulePack:
    """An installed pack by fingerprint prefix, or a folder in the pack layout."""
    sched = schedule()
    found = sched.find(spec)
    if found is not None:
        return found.pack
    path = Path(spec).expanduser()
    if path.is_dir():
        return RulePack.from_dir(path)
    fail(
        "RULES_PACK_NOT_FOUND",
        f"'{spec}' ne kurulu bir paketin parmak izi ne de bir paket klasörü",
        f"'{spec}' is neither an installed pack's fingerprint nor a pack folder",
        where="--pack",
    )


@_platform_errors
def diff(
    pack: Annotated[
        str,
        typer.Option(
            "--pack",
            metavar="FINGERPRINT|DIR",
            help="The new pack: an installed pack's fingerprint (prefix) or a folder.",
        ),
    ],
    days: Annotated[
        int,
        typer.Option("--days", min=1, metavar="N", help="Re-check documents of the last N days."),
    ] = 30,
    as_json: JsonOption = False,
) -> None:
    """Re-validate the stored outgoing documents of the last N days with a new pack and list
    those it would newly refuse (a shadow run; exit 1 if any)."""
    from entegrator.rules import Validator
    from entegrator.services.rulepacks import shadow_run

    with cli_errors(as_json=as_json):
        rt = _runtime()
        candidate = Validator(_candidate(pack), settings=rt.validation_settings())
        current = rt.validator.current()
        since = rt.clock() - dt.timedelta(days=days)
        result = shadow_run(rt.db, current=current, candidate=candidate, since=since)
        if as_json:
            out = {
                "current": current.pack.identity(),
                "candidate": candidate.pack.identity(),
                "since": since.isoformat(),
                "checked": result.checked,
                "new_failures": [f.to_dict() for f in result.failures],
            }
            typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
        else:
            typer.echo(
                f"{result.checked} belge/documents since {since:%Y-%m-%d %H:%M} UTC: "
                f"{len(result.failures)} yeni hata alır/would newly fail "
                f"({current.pack.fingerprint[:12]} → {candidate.pack.fingerprint[:12]})"
            )
            for f in result.failures:
                typer.echo(
                    f"  {f.ettn}  {f.number or '-':<16}  tenant {f.tenant_id}  "
                    + ", ".join(f.new_codes)
                )
    raise typer.Exit(1 if result.failures else 0)
