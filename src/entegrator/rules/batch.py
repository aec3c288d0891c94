"""Validating many files: both cores, one warm validator per worker, results in input order."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from entegrator.findings import Report
from entegrator.rules.pack import RulePack
from entegrator.rules.validator import ValidationSettings, Validator

__all__ = ["collect", "default_jobs", "validate_paths"]

_WORKER: dict[str, Validator] = {}  # the warm validator of a worker process


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)


def collect(paths: Iterable[str | Path]) -> tuple[list[Path], list[Path]]:
    """Files to validate (folders expanded to their ``*.xml``, sorted) and missing paths."""
    files: list[Path] = []
    missing: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(
                sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() == ".xml")
            )
        elif path.is_file():
            files.append(path)
        else:
            missing.append(path)
    return files, missing


def _init(pack_root: str | None, settings: ValidationSettings) -> None:
    # Forked workers inherit the parent's compiled schemas and rules; spawned ones compile.
    _WORKER["validator"] = Validator(RulePack.load(pack_root), settings=settings)


def _run(path: str) -> Report:
    return _WORKER["validator"].validate_file(path)


def validate_paths(
    files: Sequence[Path],
    *,
    pack: RulePack,
    settings: ValidationSettings,
    jobs: int = 1,
) -> Iterator[Report]:
    """Reports for ``files`` in the same order; ``jobs`` > 1 uses worker processes."""
    jobs = max(1, min(jobs, len(files)))
    if jobs == 1:
        validator = Validator(pack, settings=settings)
        for path in files:
            yield validator.validate_file(path)
        return
    pack_root = None if pack.origin == RulePack.DEFAULT_ORIGIN else str(pack.root)
    # Compile the common case once, before forking: every worker starts warm.
    Validator(pack, settings=settings).warm_up(("invoice",))
    context = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
    chunk = max(1, min(32, len(files) // (jobs * 8) or 1))
    with context.Pool(jobs, initializer=_init, initargs=(pack_root, settings)) as pool:
        yield from pool.imap(_run, [str(p) for p in files], chunksize=chunk)
