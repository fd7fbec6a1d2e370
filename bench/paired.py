"""Paired three-way runs: cref, the C core alone (ccore) and pytlscheck.

    python bench/server.py &                      # prints the namespaces and the CA
    python bench/paired.py --ns tcbench-srv-PID --ca /tmp/tcbench-.../pki/root.pem \\
        --k 32 --n 1500 --reps 15
    python bench/paired.py --ns tcbench-cli-PID --addr 198.18.0.2 --ca ... --k 200 --n 2000

Each repetition runs `cref`, then `ccore` and pytlscheck (`check_many`, or
sequential `check()` when --k is 1) in alternating order, then `cref`
again, every client pinned to core 0 in the given namespace; each ratio
divides a client's figure by the geometric mean of the two `cref` runs of
its repetition. Prints every repetition and the medians. Needs
bench/build/cref (run.py or server.py builds it) and bench/build/ccore
(see docs/performance.md). A hand tool, like run.py: not a test.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ns", required=True, help="network namespace to run the clients in")
    ap.add_argument("--ca", required=True, help="the bench root CA file")
    ap.add_argument("--addr", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8443)
    ap.add_argument("--sni", default="bench.test")
    ap.add_argument("--k", type=int, default=32)
    ap.add_argument("--n", type=int, default=1500)
    ap.add_argument("--reps", type=int, default=15)
    a = ap.parse_args()
    common = ["--addr", a.addr, "--port", str(a.port), "--sni", a.sni, "--ca", a.ca,
              "--k", str(a.k), "--n", str(a.n)]
    py_mode = "pytlscheck-many" if a.k > 1 else "pytlscheck-seq"
    commands = {
        "cref": [str(BENCH / "build" / "cref"), *common],
        "ccore": [str(BENCH / "build" / "ccore"), *common],
        "pytlscheck": [sys.executable, str(BENCH / "pyclients.py"), py_mode, *common],
    }
    for name in ("cref", "ccore"):
        if not Path(commands[name][0]).exists():
            raise SystemExit(f"{commands[name][0]} is missing: see docs/performance.md")
    env = dict(os.environ, PYTHONPATH=str(REPO))

    def run(name: str) -> tuple[float, float]:
        p = subprocess.run(["ip", "netns", "exec", a.ns, "taskset", "-c", "0",
                            *commands[name]], capture_output=True, text=True, env=env)
        try:
            j = json.loads(p.stdout.strip().splitlines()[-1])
        except (IndexError, ValueError):
            raise SystemExit(f"{name} printed no result: {p.stderr.strip()[-500:]}")
        if j.get("failed"):
            raise SystemExit(f"{name}: {j['failed']} checks failed: {j.get('first_error')}")
        return j["checks_per_s"], j["cpu_ms_per_check"]

    ratios: dict[str, tuple[list[float], list[float]]] = {"ccore": ([], []),
                                                          "pytlscheck": ([], [])}
    for rep in range(a.reps):
        order = ["ccore", "pytlscheck"] if rep % 2 == 0 else ["pytlscheck", "ccore"]
        before = run("cref")
        got = {name: run(name) for name in order}
        after = run("cref")
        rate = (before[0] * after[0]) ** 0.5
        cpu = (before[1] * after[1]) ** 0.5
        line = [f"rep {rep + 1}/{a.reps}: cref {before[0]:.0f}/{after[0]:.0f} checks/s"]
        for name, (r, c) in got.items():
            ratios[name][0].append(r / rate)
            ratios[name][1].append(c / cpu)
            line.append(f"{name} {r:.0f} ({r / rate:.2f}x, CPU {c / cpu:.2f}x)")
        print("  ".join(line), flush=True)
    for name, (rs, cs) in ratios.items():
        print(f"median {name}: rate {statistics.median(rs):.3f}x cref "
              f"({min(rs):.2f}-{max(rs):.2f}), CPU {statistics.median(cs):.3f}x "
              f"({min(cs):.2f}-{max(cs):.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
