"""Run the whole benchmark: `python bench/run.py [--quick]` (as root, by hand).

Starts nginx and the simulated network (bench/server.py), runs every client in
every scenario several times, prints a table and writes bench/results.json.
Everything it starts is stopped at the end, also on Ctrl-C or SIGTERM.

Scenarios (K = checks in flight, N = checks per run):
  loopback-k32   loopback, K=32: cref, threads, asyncio, s_client, check_many
  loopback-seq   loopback, K=1: cref and pytlscheck.check one after another
  rtt-k200       simulated RTT (80 ms), K=200: the same clients as loopback-k32
  rtt-seq        simulated RTT, K=1: cref and pytlscheck.check
  scale-k1000    loopback, K=1000: cref and check_many, with memory per
                 in-flight check = (peak RSS at K=1000 - at K=1) / 999
Each figure is the median over the repetitions. Each ratio ("xC") is computed
within one repetition: the C reference runs first and last in every
repetition (bracketing the other clients), and a client's figure is divided by
the geometric mean of those two cref runs; the median of the per-repetition
ratios is shown. The order of the other clients is rotated per repetition.
The machine may be shared: before each run, run.py waits (--settle seconds at
most) for the CPUs to be mostly idle, and records how busy they were.

pytlscheck rows run when the package in this checkout imports (build it first:
`python setup.py build_ext --inplace`); `check_many` rows are skipped with a
message while pytlscheck.check_many does not exist.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import server  # noqa: E402  (bench/server.py)

REPO = server.BENCH.parent
RESULTS = server.BENCH / "results.json"

# N per run: (quick, full). s_client costs a process per check: small N.
SIZES = {
    "reps": (4, 7),
    "scale_reps": (1, 3),
    "loop_n": (800, 3000),
    "loop_sclient_n": (48, 128),
    "loop_seq_n": (200, 1000),
    "rtt_n": (1200, 4000),       # K=200: fill and drain are ~2 x p50 of the wall
    "rtt_sclient_n": (200, 400),
    "rtt_seq_n": (8, 25),
    "scale_n": (3000, 10000),    # K=1000, and the K=1 baseline at the same N
}

# The goals from issue 6, checked against the medians (pytlscheck rows only).
TARGETS = [
    ("loopback-k32", "check_many", "rate_vs_cref", ">=", 0.95),
    ("loopback-k32", "check_many", "cpu_vs_cref", "<=", 1.05),
    ("rtt-k200", "check_many", "rate_vs_cref", ">=", 0.95),
    ("rtt-k200", "check_many", "rate_vs_asyncio", ">=", 1.3),
    ("loopback-seq", "check (seq)", "rate_vs_cref", ">=", 0.90),
    ("rtt-seq", "check (seq)", "rate_vs_cref", ">=", 0.90),
    ("scale-k1000", "check_many", "kb_per_inflight", "<=", 64.0),
]


def cpu_busy(interval: float = 0.3) -> float:
    """Fraction of all CPUs' time spent non-idle over `interval` seconds."""
    def sample() -> tuple[int, int]:
        with open("/proc/stat") as f:
            vals = [int(v) for v in f.readline().split()[1:]]
        idle = vals[3] + (vals[4] if len(vals) > 4 else 0)  # idle + iowait
        return sum(vals), idle
    t0, i0 = sample()
    time.sleep(interval)
    t1, i1 = sample()
    return 0.0 if t1 == t0 else 1.0 - (i1 - i0) / (t1 - t0)


def wait_quiet(limit_s: float, threshold: float = 0.25) -> float:
    """The machine is shared: before a run, wait (at most limit_s) until the
    CPUs are mostly idle. Returns the busy fraction seen last, which is
    recorded with the run."""
    deadline = time.monotonic() + limit_s
    busy = cpu_busy()
    while busy > threshold and time.monotonic() < deadline:
        busy = cpu_busy()
    return busy


class Runner:
    def __init__(self, bench: server.Bench, pytlscheck_info: dict, timeout_s: float,
                 settle_s: float):
        self.b = bench
        self.settle_s = settle_s
        self.info = pytlscheck_info
        self.timeout_s = timeout_s
        self.env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p))

    def command(self, client: str, delayed: bool, k: int, n: int) -> list[str]:
        addr = self.b.net.server_addr(delayed)
        common = ["--addr", addr, "--port", str(server.PORT), "--sni", server.SNI,
                  "--ca", str(self.b.pki.root), "--k", str(k), "--n", str(n)]
        prefix = [*self.b.net.client_prefix(delayed), *server.pin(server.CLIENT_CORE)]
        if client == "cref":
            return [*prefix, str(self.b.bins["cref"]), *common]
        mode = {"threads": "threads", "asyncio": "asyncio", "s_client": "sclient",
                "check (seq)": "pytlscheck-seq", "check_many": "pytlscheck-many",
                "tcpconnect": "tcpconnect"}[client]
        return [*prefix, sys.executable, str(server.BENCH / "pyclients.py"), mode, *common]

    def skip_reason(self, client: str) -> str | None:
        if client == "check (seq)" and not self.info.get("check"):
            return self.info.get("why_check", "pytlscheck.check is not available")
        if client == "check_many" and not self.info.get("check_many"):
            return self.info.get("why_many", "pytlscheck.check_many does not exist yet")
        return None

    def one(self, client: str, delayed: bool, k: int, n: int) -> dict:
        cmd = self.command(client, delayed, k, n)
        busy = wait_quiet(self.settle_s) if self.settle_s > 0 else None
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env=self.env,
                               timeout=self.timeout_s + n * (0.5 if client == "s_client" else 0.05))
        except subprocess.TimeoutExpired:
            return {"client": client, "error": "timed out"}
        try:
            out = json.loads(p.stdout.strip().splitlines()[-1])
        except (IndexError, json.JSONDecodeError):
            return {"client": client, "error": f"exit {p.returncode}: {p.stderr.strip()[-300:]}"}
        out["client"] = client
        out["cpu_busy_before"] = busy
        return out


def median(xs: list[float]) -> float | None:
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def usable(run: dict | None) -> bool:
    return bool(run) and "error" not in run and "skipped" not in run


def reference(rep: dict, base: str, key: str) -> float | None:
    """The base client's figure in one repetition: for cref, the geometric
    mean of the runs that bracket the others."""
    runs = [r for r in (rep.get(base), rep.get(base + " (after)")) if usable(r) and r.get(key)]
    if not runs:
        return None
    return math.prod(r[key] for r in runs) ** (1 / len(runs))


def summarize(scen: dict) -> None:
    """Medians per client and within-repetition ratios against cref."""
    reps = scen["reps"]
    clients = scen["clients"]
    scen["median"], scen["ratios"] = {}, {}
    for c in clients:
        runs = [x for r in reps for x in (r.get(c), r.get(c + " (after)")) if x]
        good = [r for r in runs if usable(r)]
        if not good:
            scen["median"][c] = next((r for r in runs if r), {"error": "no run"})
            continue
        med = {key: median([r[key] for r in good]) for key in
               ("checks_per_s", "p50_ms", "p99_ms", "cpu_ms_per_check", "peak_rss_kb")}
        for key in ("connect_p50_ms", "handshake_p50_ms"):
            if all(key in r for r in good):
                med[key] = median([r[key] for r in good])
        busy = [r.get("cpu_busy_before") for r in good]
        med["cpu_busy_before"] = median(busy)
        med["failed"] = sum(r["failed"] for r in good)
        med["ok"] = sum(r["ok"] for r in good)
        med["runs"] = len(good)
        med["protocol"] = next((r.get("protocol") for r in good if r.get("protocol")), "")
        errs = [r["first_error"] for r in good if r.get("first_error")]
        if errs:
            med["first_error"] = errs[0]
        scen["median"][c] = med
        ratios = {}
        for name, base, key in (("rate_vs_cref", "cref", "checks_per_s"),
                                ("cpu_vs_cref", "cref", "cpu_ms_per_check"),
                                ("rate_vs_asyncio", "asyncio", "checks_per_s")):
            paired = []
            for r in reps:
                a, ref = r.get(c), reference(r, base, key)
                if usable(a) and ref:
                    paired.append(a[key] / ref)
            if (paired and c != base and not c.endswith("K=1")
                    and (base == "cref" or scen["name"].startswith("rtt"))):
                ratios[name] = median(paired)
        scen["ratios"][c] = ratios
    # Memory per in-flight check at K=1000: (RSS at K - RSS at K=1) / (K - 1).
    for c, c1 in (("cref", "cref K=1"), ("check_many", "check_many K=1")):
        big, small = scen["median"].get(c, {}), scen["median"].get(c1, {})
        if big.get("peak_rss_kb") and small.get("peak_rss_kb"):
            k = scen["k"]
            scen["ratios"].setdefault(c, {})["kb_per_inflight"] = (
                (big["peak_rss_kb"] - small["peak_rss_kb"]) / (k - 1))


def fmt(x: float | None, nd: int = 1) -> str:
    return "-" if x is None else f"{x:,.{nd}f}"


def print_table(scenarios: list[dict]) -> None:
    head = (f"{'scenario':<13} {'client':<15} {'K':>5} {'N':>6} {'checks/s':>9} {'xC':>5} "
            f"{'p50 ms':>8} {'p99 ms':>8} {'CPU ms':>7} {'xC':>5} {'RSS MB':>7} {'fail':>5} "
            f"{'busy':>5}")
    print(head)
    print("-" * len(head))
    for s in scenarios:
        for c in s["clients"]:
            m, rt = s["median"].get(c, {}), s["ratios"].get(c, {})
            k, n = s["plan"][c]
            if "checks_per_s" not in m:
                why = m.get("skipped") or m.get("error") or "no result"
                print(f"{s['name']:<13} {c:<15} {k:>5} {n:>6}  skipped: {why}")
                continue
            print(f"{s['name']:<13} {c:<15} {k:>5} {n:>6} {fmt(m['checks_per_s']):>9} "
                  f"{fmt(rt.get('rate_vs_cref'), 2):>5} {fmt(m['p50_ms']):>8} "
                  f"{fmt(m['p99_ms']):>8} {fmt(m['cpu_ms_per_check'], 2):>7} "
                  f"{fmt(rt.get('cpu_vs_cref'), 2):>5} {fmt(m['peak_rss_kb'] and m['peak_rss_kb'] / 1024):>7} "
                  f"{m['failed']:>5} {fmt(m.get('cpu_busy_before') and 100 * m['cpu_busy_before'], 0):>4}%")
        for c, rt in s["ratios"].items():
            if "kb_per_inflight" in rt:
                print(f"{'':<13} {c}: {rt['kb_per_inflight']:.1f} KB of peak RSS per "
                      f"in-flight check")


def print_markdown(scenarios: list[dict]) -> None:
    print("| scenario | client | K | checks/s | x C | p50 ms | p99 ms | CPU ms/check | x C "
          "| peak RSS MB | CPUs busy before |")
    print("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    for s in scenarios:
        for c in s["clients"]:
            m, rt = s["median"].get(c, {}), s["ratios"].get(c, {})
            k, _ = s["plan"][c]
            if "checks_per_s" not in m:
                why = m.get("skipped") or m.get("error") or "no result"
                print(f"| {s['name']} | {c} | {k} | skipped: {why} | | | | | | | |")
                continue
            print(f"| {s['name']} | {c} | {k} | {fmt(m['checks_per_s'], 0)} | "
                  f"{fmt(rt.get('rate_vs_cref'), 2)} | {fmt(m['p50_ms'])} | {fmt(m['p99_ms'])} | "
                  f"{fmt(m['cpu_ms_per_check'], 2)} | {fmt(rt.get('cpu_vs_cref'), 2)} | "
                  f"{fmt(m['peak_rss_kb'] and m['peak_rss_kb'] / 1024)} | "
                  f"{fmt(m.get('cpu_busy_before') and 100 * m['cpu_busy_before'], 0)}% |")


def check_targets(scenarios: list[dict]) -> list[dict]:
    by_name = {s["name"]: s for s in scenarios}
    out = []
    for scen, client, key, op, goal in TARGETS:
        val = by_name.get(scen, {}).get("ratios", {}).get(client, {}).get(key)
        met = None if val is None else (val >= goal if op == ">=" else val <= goal)
        out.append({"scenario": scen, "client": client, "metric": key, "goal": f"{op} {goal}",
                    "value": val, "met": met})
    return out


def delay_check(r: Runner) -> dict:
    """TCP connect time without and with the simulated link (no TLS)."""
    out = {}
    for delayed in (False, True):
        if delayed and not r.b.net.has_rtt:
            continue
        res = r.one("tcpconnect", delayed, 1, 10)
        out["delayed" if delayed else "loopback"] = {
            "tcp_connect_p50_ms": res.get("p50_ms"), "tcp_connect_p99_ms": res.get("p99_ms"),
            "error": res.get("error") or res.get("first_error") or None}
    return out


def meta(b: server.Bench, args, info: dict, load0) -> dict:
    def cmd_out(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True).stdout.strip()
        except OSError:
            return ""
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
               platform.processor())
    return {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "commit": cmd_out(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"]),
        "mode": "quick" if args.quick else "full",
        "cpu": cpu, "cpus": os.cpu_count(), "kernel": platform.release(),
        "openssl": cmd_out(["openssl", "version"]), "nginx": b.nginx.version(),
        "python": platform.python_version(),
        "pinning": (f"clients on core {server.CLIENT_CORE}, nginx worker and tundelay on core "
                    f"{server.SERVER_CORE}") if server.pinning_available() else "none (1 CPU)",
        "network": ("own network namespaces; loopback runs inside the server namespace; "
                    f"RTT runs over a TUN link delayed {args.rtt_ms // 2} ms each way "
                    "by bench/tundelay" if b.net.has_rtt else "loopback only"),
        "rtt_ms": args.rtt_ms if b.net.has_rtt else None,
        "loadavg_before": load0, "loadavg_after": os.getloadavg(),
        "pytlscheck": info,
    }


def probe_pytlscheck() -> dict:
    p = subprocess.run([sys.executable, str(server.BENCH / "pyclients.py"), "probe"],
                       capture_output=True, text=True, cwd=REPO,
                       env=dict(os.environ, PYTHONPATH=str(REPO)))
    try:
        info = json.loads(p.stdout)
    except json.JSONDecodeError:
        info = {"import": p.stderr.strip()[-300:], "check": False, "check_many": False}
    if info["import"] != "ok":
        info["why_check"] = info["why_many"] = f"pytlscheck does not import: {info['import']}"
    elif not info["check_many"]:
        info["why_many"] = "pytlscheck.check_many does not exist yet"
    return info


def main() -> int:
    ap = argparse.ArgumentParser(description="pytlscheck benchmark (see docs/performance.md)")
    ap.add_argument("--quick", action="store_true", help="fewer repetitions and checks")
    ap.add_argument("--reps", type=int, help="repetitions (default 4 quick, 7 full; scale-k1000: 1 quick, 3 full)")
    ap.add_argument("--rtt-ms", type=int, default=80, help="simulated round-trip time")
    ap.add_argument("--only", nargs="*", help="scenario names to run (default: all)")
    ap.add_argument("--markdown", action="store_true",
                    help="also print the table as Markdown (for docs/performance.md)")
    ap.add_argument("--settle", type=float, default=10.0,
                    help="before each run, wait up to this many seconds for the (shared) "
                         "CPUs to be under 25%% busy; 0 disables")
    ap.add_argument("--out", type=Path, default=RESULTS, help="where to write the JSON")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("note: not root: no namespaces, so no simulated RTT; nginx must be installed",
              file=sys.stderr)
    sz = {k: v[0] if args.quick else v[1] for k, v in SIZES.items()}
    reps = args.reps or sz["reps"]
    server.exit_on_sigterm()
    load0 = os.getloadavg()
    info = probe_pytlscheck()
    for key, why in (("check", "why_check"), ("check_many", "why_many")):
        if not info.get(key):
            server.log(f"pytlscheck {key} rows skipped: {info.get(why)}")

    full_set = ["cref", "threads", "asyncio", "s_client", "check_many"]
    plans = [
        ("loopback-k32", False, 32, {c: sz["loop_sclient_n"] if c == "s_client" else sz["loop_n"]
                                     for c in full_set}),
        ("loopback-seq", False, 1, {"cref": sz["loop_seq_n"], "check (seq)": sz["loop_seq_n"]}),
        ("rtt-k200", True, 200, {c: sz["rtt_sclient_n"] if c == "s_client" else sz["rtt_n"]
                                 for c in full_set}),
        ("rtt-seq", True, 1, {"cref": sz["rtt_seq_n"], "check (seq)": sz["rtt_seq_n"]}),
        ("scale-k1000", False, 1000, {"cref": sz["scale_n"], "cref K=1": sz["scale_n"],
                                      "check_many": sz["scale_n"],
                                      "check_many K=1": sz["scale_n"]}),
    ]
    if args.only:
        unknown = set(args.only) - {p[0] for p in plans}
        if unknown:
            ap.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")
        plans = [p for p in plans if p[0] in args.only]

    with server.Bench(args.rtt_ms) as b:
        r = Runner(b, info, timeout_s=60, settle_s=args.settle)
        if not b.net.has_rtt:
            plans = [p for p in plans if not p[1]]
        delay = delay_check(r)
        if "delayed" in delay:
            server.log(f"TCP connect p50: loopback {delay['loopback']['tcp_connect_p50_ms']} ms, "
                       f"over the delayed link {delay['delayed']['tcp_connect_p50_ms']} ms "
                       f"(expected ~{args.rtt_ms} ms: the SYN/SYN-ACK round trip)")
        scenarios = []
        for name, delayed, k, plan in plans:
            clients = list(plan)
            scen = {"name": name, "delayed": delayed, "k": k, "clients": clients,
                    "plan": {}, "reps": []}
            for c in clients:
                kk = 1 if c.endswith("K=1") or c == "check (seq)" else k
                scen["plan"][c] = (kk, plan[c])
            skipped = {c: self_skip for c in clients
                       if (self_skip := r.skip_reason(c.replace(" K=1", "")))}
            n_reps = min(reps, sz["scale_reps"]) if name.startswith("scale") else reps
            for rep in range(n_reps):
                # cref first and last, the others between, rotated per repetition.
                others = [c for c in clients if c != "cref" and c not in skipped]
                others = others[rep % len(others):] + others[:rep % len(others)] if others else []
                res = {}
                order = ["cref", *others, "cref (after)"] if others else ["cref"]
                for c in order:
                    kk, n = scen["plan"][c.replace(" (after)", "")]
                    real = c.replace(" K=1", "").replace(" (after)", "")
                    res[c] = r.one(real, delayed, kk, n)
                    res[c]["client"] = c
                    m = res[c]
                    server.log(f"{name} rep {rep + 1}/{n_reps} {c}: " + (
                        m.get("error") or m.get("skipped") or
                        f"{m['checks_per_s']:.0f}/s p50 {m['p50_ms']:.1f} ms "
                        f"cpu {m['cpu_ms_per_check']:.2f} ms failed {m['failed']}"))
                for c, why in skipped.items():
                    res[c] = {"client": c, "skipped": why}
                scen["reps"].append(res)
            summarize(scen)
            for c, why in skipped.items():
                scen["median"][c] = {"skipped": why}
            scenarios.append(scen)
        results = {"meta": meta(b, args, info, load0), "delay_check": delay,
                   "scenarios": scenarios, "targets": check_targets(scenarios)}

    # tundelay's counters (forwarded / dropped packets) exist once it stopped.
    results["meta"]["relay"] = b.net.relay_stats or None
    if b.net.relay_stats:
        server.log(b.net.relay_stats)
    print()
    print_table(scenarios)
    d = results["delay_check"]
    if "delayed" in d:
        print(f"\nTCP connect p50: loopback {d['loopback']['tcp_connect_p50_ms']} ms, "
              f"delayed link {d['delayed']['tcp_connect_p50_ms']} ms (RTT {args.rtt_ms} ms)")
    for s in scenarios:
        m = s["median"].get("cref", {})
        if s["k"] == 1 and "connect_p50_ms" in m:
            print(f"{s['name']}: cref TCP connect p50 {m['connect_p50_ms']:.1f} ms, "
                  f"TLS handshake p50 {m['handshake_p50_ms']:.1f} ms ({m.get('protocol')})")
    print("\nissue 6 targets (pytlscheck):")
    for t in results["targets"]:
        state = {None: "not measured", True: "met", False: "MISSED"}[t["met"]]
        val = "-" if t["value"] is None else f"{t['value']:.2f}"
        print(f"  {t['scenario']:<13} {t['client']:<12} {t['metric']:<16} {t['goal']:<8} "
              f"{val:>6}  {state}")
    if args.markdown:
        print()
        print_markdown(scenarios)
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
