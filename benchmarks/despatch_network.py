"""e-İrsaliye across the GİB network: despatch advices from one integrator instance to
another through the GİB simulator, each issued, signed, enveloped, checked by GİB, delivered,
filed once by the receiver, answered with a signed receipt advice that GİB checks (7-day
window, answered once) and delivers back, and settled at the sender.

Reproduce with ``uv run python benchmarks/despatch_network.py`` (``--despatches 500``). It
runs ``entegrator demo --despatches N --json`` (three processes: the simulator and two
integrators with their workers, each on its own database) and reports, from the demo's
step 6, despatches per second from the first request until the last answer is ``accepted``
at the sender. The demo fails unless every despatch is filed once, answered once and
accepted at the sender.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys


def run(despatches: int) -> float:
    done = subprocess.run(
        [sys.executable, "-m", "entegrator", "demo", "--json", "--despatches", str(despatches)],
        capture_output=True,
        text=True,
        check=False,
        env=os.environ.copy(),
    )
    report = json.loads(done.stdout)
    if not report["ok"]:
        raise SystemExit(f"the demo failed: {json.dumps(report['steps'], ensure_ascii=False)}")
    load = report["steps"][-1]
    found = re.search(r"all answered at A in ([0-9.]+) s", load["detail"])
    assert found, load
    return despatches / float(found[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--despatches", type=int, default=500)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    print(f"despatch network: {args.despatches} despatches A → GİB → C and back, answered")
    for i in range(args.runs):
        print(
            f"  run {i + 1}: issued, delivered, answered end to end {run(args.despatches):6.1f}/s"
        )


if __name__ == "__main__":
    main()
