"""Validation throughput: entegrator against efatura-kontrol, same documents, same run.

Reproduce with ``make bench-validate`` (or ``uv run python benchmarks/validate.py``). Two
measurements per size class (1, 10, 100 and 1000 invoice lines):

* **warm**: one process, both validators warmed up, documents handed over as bytes; the figure
  is documents per second (median of rounds). This is the cost of the rules themselves.
* **process**: the whole command on a folder of files, as a user runs it, start-up included:
  ``entegrator validate --json DIR`` against ``efatura-kontrol toplu --json DIR`` (both use every
  core by default), after one untimed run of each (Python's bytecode written, as on any machine
  after the first run).

Both validators must agree on every document of the run (all valid) or the benchmark stops.
Read the figures as ratios: the machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _corpus import drafts
from efatura_kontrol.kontrol import hazirla, kontrol_et

from entegrator.documents import build_invoice
from entegrator.rules import ValidationSettings, Validator

SIZES = (1, 10, 100, 1000)
BIN = Path(sys.executable).parent


def _once(func: Callable[[bytes], object], docs: list[bytes]) -> float:
    start = time.perf_counter()
    for doc in docs:
        func(doc)
    return time.perf_counter() - start


def warm_rates(
    ours: Callable[[bytes], object], peer: Callable[[bytes], object], docs: list[bytes], rounds: int
) -> tuple[float, float, float]:
    """Docs/s of each and the median of per-round ratios (rounds interleaved: the machine's
    load changes from second to second, a ratio of neighbours is steadier than of medians)."""
    mine, theirs, ratios = [], [], []
    for _ in range(rounds):
        a, b = _once(ours, docs), _once(peer, docs)
        mine.append(len(docs) / a)
        theirs.append(len(docs) / b)
        ratios.append(b / a)
    return statistics.median(mine), statistics.median(theirs), statistics.median(ratios)


# As on a user's machine: Python keeps compiled bytecode (some sandboxes turn that off, and then
# every start-up recompiles every module, hiding the cost of the work itself).
_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _run(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=False, capture_output=True, env=_ENV)
    return time.perf_counter() - start


def process_rates(
    ours: list[str], peer: list[str], count: int, rounds: int
) -> tuple[float, float, float]:
    _run(ours), _run(peer)  # untimed: bytecode and caches as after any first run
    mine, theirs, ratios = [], [], []
    for _ in range(rounds):
        a, b = _run(ours), _run(peer)
        mine.append(count / a)
        theirs.append(count / b)
        ratios.append(b / a)
    return statistics.median(mine), statistics.median(theirs), statistics.median(ratios)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-process", action="store_true", help="warm figures only")
    args = parser.parse_args()

    hazirla()
    ours = Validator(settings=ValidationSettings(clock=functools.partial(dt.datetime.now, dt.UTC)))
    ours.warm_up()
    print(f"cores: {len(os.sched_getaffinity(0))}; rounds: {args.rounds} (median)")
    print(
        f"{'lines':>5} | {'warm docs/s':>11} {'peer':>8} {'ratio':>6} | "
        f"{'process docs/s':>14} {'peer':>8} {'ratio':>6}"
    )
    for size in args.sizes:
        count = {1: 300, 10: 200, 100: 60, 1000: 8}.get(size, 20)
        docs = [build_invoice(d) for d in drafts(size, count)]
        for doc in docs:  # the two must agree before anything is timed
            mine, peer = ours.validate(doc), kontrol_et(doc)
            if not (mine.valid and peer.gecerli):
                raise SystemExit(f"disagreement or invalid sample: {mine.to_dict()}")
        warm_ours, warm_peer, ratio = warm_rates(ours.validate, kontrol_et, docs, args.rounds)
        line = f"{size:>5} | {warm_ours:>11.0f} {warm_peer:>8.0f} {ratio:>5.1f}× | "
        if args.no_process:
            print(line)
            continue
        folder = Path(tempfile.mkdtemp(prefix=f"bench-{size}-"))
        try:
            n_files = {1: 1000, 10: 600, 100: 150, 1000: 16}.get(size, 50)
            for i in range(n_files):
                (folder / f"{i:05d}.xml").write_bytes(docs[i % len(docs)])
            proc_ours, proc_peer, proc_ratio = process_rates(
                [str(BIN / "entegrator"), "validate", "--json", str(folder)],
                [str(BIN / "efatura-kontrol"), "toplu", "--json", str(folder)],
                n_files,
                max(1, min(args.rounds, 3)),
            )
        finally:
            shutil.rmtree(folder)
        print(line + f"{proc_ours:>14.0f} {proc_peer:>8.0f} {proc_ratio:>5.1f}×")


if __name__ == "__main__":
    main()
