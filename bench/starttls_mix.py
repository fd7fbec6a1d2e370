#!/usr/bin/env python3
"""Hand-run: does a STARTTLS preamble cost check_many its concurrency?

Starts a TLS server (Python ssl, tests/servers.py, in a child process so
it does not share this one's GIL), Exim (SMTP) and
PostgreSQL (tests/daemons.py; as root) on loopback, then, in the same run,
for each kind of endpoint and for a mixed list of all three: N checks one
after the other (pytlscheck.check) and the same N at once
(pytlscheck.check_many).  It prints the medians and the ratio
sequential / batch per row: a preamble that serialised the batch would
bring its row's ratio down towards 1 while the HTTPS row's stays high.
Ratios only, within one run (docs/performance.md's rule).

    python bench/starttls_mix.py [N] [REPEATS]      # defaults 64 and 5
"""
from __future__ import annotations

import contextlib
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, ROOT)

import pytlscheck  # noqa: E402
from daemons import exim_server, postgres_server  # noqa: E402
from pki import CA, pem_of  # noqa: E402


@contextlib.contextmanager
def https_server(chain: str, key: str):
    """tests/servers.py's tls_server in a child process: yields (host, port)."""
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from servers import tls_server\n"
            "chain, key = sys.stdin.read().split('\\0')\n"
            "with tls_server(chain, key) as (h, p):\n"
            "    print(p, flush=True); sys.stdin.close(); import time; time.sleep(3600)\n")
    proc = subprocess.Popen([sys.executable, "-c", code, os.path.join(ROOT, "tests")],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(chain + "\0" + key)
        proc.stdin.close()
        yield "127.0.0.1", int(proc.stdout.readline())
    finally:
        proc.kill()
        proc.wait(5)


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 64
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    root = CA.root("bench root")
    inter = root.intermediate("bench issuing CA")
    leaf = inter.leaf("localhost", "127.0.0.1")
    chain, key = pem_of(leaf, inter), leaf.key_pem
    with contextlib.ExitStack() as stack:
        https = stack.enter_context(https_server(chain, key))
        smtp = stack.enter_context(exim_server(chain, key))
        pg = stack.enter_context(postgres_server(chain, key))
        rows = {
            "https": [f"{https[0]}:{https[1]}"] * n,
            "smtp": [f"smtp://{smtp[0]}:{smtp[1]}"] * n,
            "postgres": [f"postgres://{pg[0]}:{pg[1]}"] * n,
        }
        rows["mixed"] = [t for trio in zip(rows["https"], rows["smtp"], rows["postgres"])
                         for t in trio][:n]
        kw = {"trust": root.pem, "timeout": 10}
        print(f"N={n}, {repeats} repetitions, medians")
        print(f"{'endpoints':<10} {'sequential s':>13} {'check_many s':>13} {'ratio':>7}")
        for name, targets in rows.items():
            seq, batch = [], []
            for _ in range(repeats):
                t0 = time.perf_counter()
                reports = [pytlscheck.check(t, **kw) for t in targets]
                seq.append(time.perf_counter() - t0)
                assert all(r.ok for r in reports), [r.kinds for r in reports if not r.ok][:3]
                t0 = time.perf_counter()
                reports = pytlscheck.check_many(targets, **kw)
                batch.append(time.perf_counter() - t0)
                assert all(r.ok for r in reports), [r.kinds for r in reports if not r.ok][:3]
            s, b = statistics.median(seq), statistics.median(batch)
            print(f"{name:<10} {s:>13.3f} {b:>13.3f} {s / b:>7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
