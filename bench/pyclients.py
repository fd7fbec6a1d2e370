"""Benchmark clients other than the C reference; one run per process.

    python bench/pyclients.py MODE --addr IP --port P --sni NAME --ca FILE --k K --n N

MODE is one of:
  threads         stdlib ssl, ThreadPoolExecutor(K): create_connection,
                  wrap_socket (handshake deferred), do_handshake, close
  asyncio         asyncio.open_connection(ssl=ctx) with K coroutines in flight,
                  then writer.close() and await writer.wait_closed()
  sclient         `openssl s_client` per check, K processes in flight
                  (-verify_return_error -verify_hostname, stdin at EOF)
  tcpconnect      plain TCP connect + close, no TLS: measures the network path
                  (used to verify the simulated RTT)
  pytlscheck-seq  pytlscheck.check(...) one after another (K is ignored)
  pytlscheck-many pytlscheck.check_many(targets, concurrency=K, ...)
  probe           prints which pytlscheck entry points exist

Every TLS client verifies the chain against --ca only and checks the host name
--sni (also sent as SNI); a check counts as ok only if that succeeds.
Prints one JSON object like bench/build/cref: ok, failed, wall_s, checks_per_s,
p50_ms, p99_ms, cpu_ms_per_check (this process's user+system CPU over the run
/ N; for sclient the children's), peak_rss_kb (this process's VmHWM; for
sclient one s_client process's, from an untimed run under GNU time),
first_error. Exit status 0 when all checks
passed, 1 when some failed, 3 when the mode is unavailable (JSON has "skipped").
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import resource
import shutil
import socket
import ssl
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor


def percentile(sorted_ms: list[float], p: float) -> float:
    """Nearest-rank percentile, the same definition as cref.c."""
    if not sorted_ms:
        return -1.0
    rank = min(max(math.ceil(p / 100.0 * len(sorted_ms) - 1e-9), 1), len(sorted_ms))
    return sorted_ms[rank - 1]


def cpu_ms(who: int) -> float:
    ru = resource.getrusage(who)
    return (ru.ru_utime + ru.ru_stime) * 1e3


def peak_rss_kb() -> int:
    """VmHWM of this process. ru_maxrss is not used: Linux carries it over
    execve from the spawning parent, so it would report run.py's RSS."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


def sclient_rss_kb(cmd: list[str]) -> int | None:
    """Peak RSS of one s_client process, from an untimed run under GNU time
    (a small parent, so the carried-over ru_maxrss is its own, not ours)."""
    gtime = shutil.which("time") or ("/usr/bin/time" if os.access("/usr/bin/time", os.X_OK)
                                     else None)
    if gtime is None:
        return None
    p = subprocess.run([gtime, "-f", "%M", *cmd], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        return int(p.stderr.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return None


class Tally:
    """Latencies and failures of one run, and the clocks it started from."""

    def __init__(self, who: int) -> None:
        self.who = who
        self.start()

    def start(self) -> None:
        """Called once set-up and the untimed warm-up check are done: what
        came before (imports, trust store, OpenSSL's lazy initialisation) is
        not measured, for every client alike."""
        self.lat_ms: list[float] = []
        self.failed = 0
        self.first_error = ""
        self.protocol = ""
        self.cpu0 = cpu_ms(self.who)
        self.t0 = time.perf_counter()

    def ok(self, start: float, protocol: str = "") -> None:
        self.lat_ms.append((time.perf_counter() - start) * 1e3)
        if protocol and not self.protocol:
            self.protocol = protocol

    def fail(self, why: str) -> None:
        self.failed += 1
        if not self.first_error:
            self.first_error = why


def make_ctx(ca: str) -> ssl.SSLContext:
    # The defaults a careful user gets: CERT_REQUIRED, check_hostname, TLS 1.2+.
    ctx = ssl.create_default_context(cafile=ca)
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    return ctx


def run_threads(a, t: Tally) -> None:
    ctx = make_ctx(a.ca)

    def one(_: int) -> None:
        start = time.perf_counter()
        try:
            sock = socket.create_connection((a.addr, a.port), timeout=a.timeout)
            try:
                tls = ctx.wrap_socket(sock, server_hostname=a.sni, do_handshake_on_connect=False)
            except BaseException:
                sock.close()
                raise
            with tls:
                tls.do_handshake()
                proto = tls.version() or ""
            t.ok(start, proto)
        except Exception as e:  # noqa: BLE001 - every failure is counted
            t.fail(f"{type(e).__name__}: {e}")

    one(0)  # warm-up
    t.start()
    with ThreadPoolExecutor(a.k) as pool:
        for _ in pool.map(one, range(a.n)):
            pass


def run_asyncio(a, t: Tally) -> None:
    ctx = make_ctx(a.ca)
    remaining = iter(range(a.n))

    async def one() -> None:
        start = time.perf_counter()
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(a.addr, a.port, ssl=ctx, server_hostname=a.sni),
                a.timeout)
            proto = writer.get_extra_info("ssl_object").version() or ""
            writer.close()
            await writer.wait_closed()
            t.ok(start, proto)
        except Exception as e:  # noqa: BLE001
            t.fail(f"{type(e).__name__}: {e}")

    async def worker() -> None:
        for _ in remaining:
            await one()

    async def main() -> None:
        await one()  # warm-up
        t.start()
        await asyncio.gather(*(worker() for _ in range(min(a.k, a.n))))

    asyncio.run(main())


def run_tcpconnect(a, t: Tally) -> None:
    for i in range(a.n + 1):
        if i == 1:
            t.start()  # after one warm-up connect
        start = time.perf_counter()
        try:
            socket.create_connection((a.addr, a.port), timeout=a.timeout).close()
            t.ok(start)
        except OSError as e:
            t.fail(f"{type(e).__name__}: {e}")


def run_sclient(a, t: Tally) -> dict:
    cmd = ["openssl", "s_client", "-connect", f"{a.addr}:{a.port}", "-servername", a.sni,
           "-verify_hostname", a.sni, "-CAfile", a.ca, "-verify_return_error", "-brief"]
    exe = shutil.which("openssl")
    if exe is None:
        raise SystemExit("openssl is not on PATH")
    devnull = os.open(os.devnull, os.O_RDWR)
    actions = [(os.POSIX_SPAWN_DUP2, devnull, 0), (os.POSIX_SPAWN_DUP2, devnull, 1),
               (os.POSIX_SPAWN_DUP2, devnull, 2)]
    started: dict[int, float] = {}
    launched = 0
    rss = sclient_rss_kb(cmd)  # also the warm-up run
    t.start()
    try:
        while launched < a.n or started:
            while launched < a.n and len(started) < a.k:
                pid = os.posix_spawn(exe, cmd, os.environ, file_actions=actions)
                started[pid] = time.perf_counter()
                launched += 1
            pid, status = os.waitpid(-1, 0)
            begin = started.pop(pid)
            if os.waitstatus_to_exitcode(status) == 0:
                t.ok(begin)
            else:
                t.fail(f"s_client exit status {os.waitstatus_to_exitcode(status)}")
    finally:
        os.close(devnull)
    return {"peak_rss_kb": rss,
            "note": "CPU is the s_client children's; RSS is one s_client process's peak"}


def run_pytlscheck_seq(a, t: Tally, pytlscheck) -> None:
    trust = a.ca  # a CA file path, as for every other client
    t.start()  # main() did the warm-up check
    for _ in range(a.n):
        start = time.perf_counter()
        try:
            r = pytlscheck.check(a.addr, a.port, server_name=a.sni, trust=trust,
                                 timeout=a.timeout)
        except Exception as e:  # noqa: BLE001
            t.fail(f"{type(e).__name__}: {e}")
            continue
        if r.ok:
            t.ok(start, getattr(r, "protocol", "") or "")
        else:
            t.fail("; ".join(f"{p.kind}: {p.message}" for p in r.errors) or "report not ok")


def run_pytlscheck_many(a, t: Tally, pytlscheck) -> None:
    trust = a.ca  # a CA file path, as for every other client
    targets = [f"{a.addr}:{a.port}"] * a.n
    t.start()  # main() did the warm-up check
    reports = pytlscheck.check_many(targets, concurrency=a.k, server_name=a.sni, trust=trust,
                                    timeout=a.timeout)
    # check_many returns at the end, so per-check latency comes from each
    # report's own timings (total, or the sum of its phases).
    for r in reports:
        timings = dict(getattr(r, "timings", None) or {})
        total = timings.get("total", sum(v for v in timings.values() if v is not None))
        if r.ok:
            t.lat_ms.append(float(total))
            if not t.protocol:
                t.protocol = getattr(r, "protocol", "") or ""
        else:
            t.fail("; ".join(f"{p.kind}: {p.message}" for p in r.errors) or "report not ok")


def probe() -> dict:
    try:
        import pytlscheck
    except Exception as e:  # noqa: BLE001
        return {"import": f"{type(e).__name__}: {e}", "check": False, "check_many": False}
    return {"import": "ok", "check": callable(getattr(pytlscheck, "check", None)),
            "check_many": callable(getattr(pytlscheck, "check_many", None)),
            "file": getattr(pytlscheck, "__file__", "")}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["threads", "asyncio", "sclient", "tcpconnect",
                                     "pytlscheck-seq", "pytlscheck-many", "probe"])
    ap.add_argument("--addr", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8443)
    ap.add_argument("--sni", default="bench.test")
    ap.add_argument("--ca")
    ap.add_argument("--k", type=int, default=1)
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--timeout", type=float, default=10.0)
    a = ap.parse_args()

    if a.mode == "probe":
        print(json.dumps(probe()))
        return 0

    extra: dict = {}
    pytlscheck = None
    if a.mode.startswith("pytlscheck"):
        info = probe()
        need = "check_many" if a.mode == "pytlscheck-many" else "check"
        if info["import"] != "ok" or not info[need]:
            why = (f"pytlscheck does not import ({info['import']})" if info["import"] != "ok"
                   else f"pytlscheck.{need} does not exist yet")
            print(json.dumps({"client": a.mode, "skipped": why}))
            return 3
        import pytlscheck  # noqa: F811
        # Untimed warm-up: the first check pays for imports and the trust
        # store. If it does not pass, the row cannot be measured: say why.
        try:
            r = pytlscheck.check(a.addr, a.port, server_name=a.sni, trust=a.ca,
                                 timeout=a.timeout)
            why = None if r.ok else "; ".join(f"{p.kind}: {p.message}" for p in r.problems)
        except Exception as e:  # noqa: BLE001
            why = f"{type(e).__name__}: {e}"
        if why is not None:
            print(json.dumps({"client": a.mode,
                              "skipped": f"the untimed warm-up check did not pass: {why}"}))
            return 3
    k = 1 if a.mode in ("pytlscheck-seq", "tcpconnect") else min(a.k, a.n)
    a.k = k

    t = Tally(resource.RUSAGE_CHILDREN if a.mode == "sclient" else resource.RUSAGE_SELF)
    if a.mode == "threads":
        run_threads(a, t)
    elif a.mode == "asyncio":
        run_asyncio(a, t)
    elif a.mode == "sclient":
        extra = run_sclient(a, t)
    elif a.mode == "tcpconnect":
        run_tcpconnect(a, t)
    elif a.mode == "pytlscheck-seq":
        run_pytlscheck_seq(a, t, pytlscheck)
    else:
        run_pytlscheck_many(a, t, pytlscheck)
    wall = time.perf_counter() - t.t0
    cpu = cpu_ms(t.who) - t.cpu0
    lat = sorted(t.lat_ms)
    out = {
        "client": a.mode, "k": k, "n": a.n, "ok": len(lat), "failed": t.failed,
        "wall_s": round(wall, 4), "checks_per_s": round(len(lat) / wall, 2),
        "p50_ms": round(percentile(lat, 50), 3), "p99_ms": round(percentile(lat, 99), 3),
        "cpu_ms_per_check": round(cpu / a.n, 4),
        "peak_rss_kb": peak_rss_kb(),
        "protocol": t.protocol, "first_error": t.first_error,
    }
    out.update(extra)
    print(json.dumps(out))
    return 0 if t.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
