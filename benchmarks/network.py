"""The GİB network end to end: invoices from one integrator instance to another through the
GİB simulator, each issued, validated, signed, enveloped, checked by GİB, delivered, checked
and filed by the receiver, and answered with system responses back to the sender.

Reproduce with ``uv run python benchmarks/network.py`` (``--invoices 500 --runs 1``). It runs
``entegrator demo --invoices N --json`` (three processes: the simulator and two integrators
with their workers, each on its own database on ``ENTEGRATOR_DATABASE_URL`` or the embedded
server) and reports, from the demo's step 4:

* issued/s: invoices accepted by the sending integrator's API (8 concurrent clients);
* delivered/s: invoices from the first request until the last one is ``delivered`` (1300) at
  the sender and filed at the receiver, each exactly once (the demo fails otherwise).

No peer tool does this whole path, so there is no ratio; the figure is for tracking. All
processes share the machine's cores with PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys


def run(invoices: int) -> tuple[float, float]:
    done = subprocess.run(
        [sys.executable, "-m", "entegrator", "demo", "--json", "--invoices", str(invoices)],
        capture_output=True,
        text=True,
        check=False,
        env=os.environ.copy(),
    )
    report = json.loads(done.stdout)
    if not report["ok"]:
        raise SystemExit(f"the demo failed: {json.dumps(report['steps'], ensure_ascii=False)}")
    load = report["steps"][-1]
    found = re.search(r"issued in ([0-9.]+) s, all delivered in ([0-9.]+) s", load["detail"])
    assert found, load
    issued, delivered = float(found[1]), float(found[2])
    return invoices / issued, invoices / delivered


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=500)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    print(f"network: {args.invoices} invoices A → GİB → C, {os.cpu_count()} cores")
    for i in range(args.runs):
        issued, delivered = run(args.invoices)
        print(f"  run {i + 1}: issued {issued:6.1f}/s   delivered end to end {delivered:6.1f}/s")


if __name__ == "__main__":
    main()
