"""Probe benchmark (issue 15): `pytlscheck HOST --probe` against sslyze and
testssl.sh, on the same `openssl s_server` over the same simulated link.

    python bench/probe.py [--rtt-ms 80] [--runs 3]

The link is bench/server.py's: two network namespaces joined by
bench/tundelay.c, which delays every IP packet (TCP handshake included) by
RTT/2 each way. The server is `openssl s_server -tls1_3` with tickets (one
connection at a time, as the issue's politeness rule assumes), in the
server namespace at 198.18.0.2; every client runs in the client namespace.
Each tool's wall-clock time is a median over --runs runs in this same run,
so the figures are ratios against each other on this machine, not absolute
claims. A tool that is not installed is reported as such, not timed.

Needs root (namespaces, TUN). Prints one JSON document on stdout.
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import server as bsrv  # noqa: E402


def start_s_server(net: bsrv.Network, pki: "bsrv.Pki", port: int, work: Path) -> subprocess.Popen:
    # s_server sends only -cert's first certificate: the rest goes to -cert_chain.
    end = "-----END CERTIFICATE-----\n"
    blocks = [b + end for b in pki.chain.read_text().split(end) if "BEGIN" in b]
    (work / "leaf-only.pem").write_text(blocks[0])
    (work / "inter-only.pem").write_text("".join(blocks[1:]))
    cmd = [*net.server_prefix(), "openssl", "s_server", "-accept", f"{bsrv.SERVER_ADDR}:{port}",
           "-cert", str(work / "leaf-only.pem"), "-key", str(pki.key),
           "-cert_chain", str(work / "inter-only.pem"), "-tls1_3"]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    lines: list = []

    def drain() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)

    threading.Thread(target=drain, daemon=True).start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if any(line.startswith("ACCEPT") for line in lines):
            return proc
        time.sleep(0.05)
    proc.kill()
    raise SystemExit("s_server did not start: " + "".join(lines[-10:]))


def timed(cmd: list, runs: int) -> dict:
    times, last = [], None
    for _ in range(runs):
        t = time.monotonic()
        last = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        times.append(time.monotonic() - t)
    assert last is not None
    return {"median_s": round(statistics.median(times), 3), "runs_s": [round(x, 3) for x in times],
            "exit": last.returncode, "stdout": last.stdout}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rtt-ms", type=int, default=80)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    if not bsrv.namespaces_available():
        raise SystemExit("needs root, ip netns and /dev/net/tun (the simulated link)")
    exes = bsrv.build_c()
    work = Path(tempfile.mkdtemp(prefix="tcprobe-"))
    pki = bsrv.mint_pki(work)
    net = bsrv.Network(args.rtt_ms)
    out: dict = {"rtt_ms": args.rtt_ms, "server": "openssl s_server -tls1_3 (tickets on)"}
    try:
        net.start(exes["tundelay"], work)
        port = 8444
        srv = start_s_server(net, pki, port, work)
        try:
            target = f"{bsrv.SERVER_ADDR}:{port}"
            cli = net.client_prefix(True)
            py = [*cli, sys.executable, "-m", "pytlscheck", target, "--probe", "--json",
                  "--trust", str(pki.root), "--server-name", bsrv.SNI]
            r = timed(py, args.runs)
            doc = json.loads(r.pop("stdout"))
            probe = doc["results"][0]["probe"]
            r["probe"] = {k: probe[k] for k in ("rtt_ms", "handshake_round_trips",
                                                "cold_start_ms", "resumption", "early_data",
                                                "connections", "complete")}
            out["pytlscheck"] = r
            sslyze = shutil.which("sslyze") or str(Path(sys.executable).parent / "sslyze")
            if Path(sslyze).exists():
                r = timed([*cli, sslyze, target], args.runs)
                r.pop("stdout")
                out["sslyze"] = r
            else:
                out["sslyze"] = "not installed"
            testssl = shutil.which("testssl") or shutil.which("testssl.sh")
            if testssl:
                r = timed([*cli, testssl, "--quiet", "--color", "0", target], 1)
                r.pop("stdout")
                out["testssl.sh"] = r
            else:
                out["testssl.sh"] = "not installed"
        finally:
            srv.kill()
            srv.wait(5)
    finally:
        net.stop()
    json.dump(out, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
