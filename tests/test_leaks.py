"""Python-level leak tests (issue 7): 20,000 live checks against a loopback
server and 100,000 verify_chain calls; the resident memory of this process
after a warm-up must stay flat (growth under LIMIT_MB).

They take a few minutes, so the normal run skips them; .ci/hardening.sh
runs them (PYTLSCHECK_HARDENING=1), against the normal build (under
AddressSanitizer resident memory says nothing: its quarantine holds freed
memory on purpose).  By hand:

    PYTLSCHECK_HARDENING=1 pytest tests/test_leaks.py -v

The servers run in a child process, so their memory is not counted here.
Resident memory is read from /proc/self/statm.  sys.gettotalrefcount is
only available in a debug build of CPython, which this environment does not
have (docs/security.md); when it exists the reference count total is
checked too.
"""
from __future__ import annotations

import gc
import json
import os
import subprocess
import sys

import pytest

import pytlscheck
from pki import CA, days, mint, pem_of

pytestmark = pytest.mark.skipif(
    os.environ.get("PYTLSCHECK_HARDENING") != "1",
    reason="long leak test: run by .ci/hardening.sh (set PYTLSCHECK_HARDENING=1)")

LIMIT_MB = 5.0
CHECKS = 20_000
VERIFIES = 100_000
TESTS_DIR = os.path.dirname(os.path.abspath(__file__))

SERVER_CHILD = """
import json, sys
sys.path.insert(0, sys.argv[1])
import servers
spec = json.loads(sys.argv[2])
kind = spec.pop("kind")
if kind == "flood":            # a hostile peer of test_hostile.py
    import test_hostile as hostile
    prefix, chunk, _ = hostile.FLOODS[spec.pop("name")]
    server = servers.raw_server(hostile.flood_server(prefix, chunk, {}))
elif kind == "crafted":        # a TLS 1.2 flight with these certificates (hex DER)
    import test_hostile as hostile
    server = servers.raw_server(hostile._crafted_flight([bytes.fromhex(d) for d in spec.pop("ders")]))
else:
    server = getattr(servers, kind)(*spec.pop("args", []), **spec)
with server as (host, port):
    print(json.dumps([host, port]), flush=True)
    sys.stdin.read()          # until the test closes our stdin
"""


class ServerProcess:
    """A tests/servers.py server in a child interpreter."""

    def __init__(self, kind, *args, **kwargs):
        spec = dict(kwargs, kind=kind, args=list(args))
        self.proc = subprocess.Popen([sys.executable, "-c", SERVER_CHILD, TESTS_DIR, json.dumps(spec)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line:
            self.close()
            raise RuntimeError("the server process did not start")
        host, port = json.loads(line)
        self.target = f"{host}:{port}"

    def close(self):
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def rss_mb():
    with open("/proc/self/statm") as f:
        resident_pages = int(f.read().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)


def total_refs():
    gc.collect()
    get = getattr(sys, "gettotalrefcount", None)
    return get() if get else None


def assert_flat(run, total, warmup):
    """run(n) does n operations.  Warm up, then measure the growth of the
    rest in two halves: both must stay under LIMIT_MB, so a slow leak
    shows as well as a quick one."""
    run(warmup)
    gc.collect()
    base, refs0 = rss_mb(), total_refs()
    half = (total - warmup) // 2
    run(half)
    gc.collect()
    mid = rss_mb()
    run(total - warmup - half)
    gc.collect()
    end, refs1 = rss_mb(), total_refs()
    print(f"\nRSS after warm-up {base:.1f} MB, half-way {mid:.1f} MB, end {end:.1f} MB "
          f"(growth {end - base:+.2f} MB, limit {LIMIT_MB} MB)")
    assert end - base < LIMIT_MB, f"RSS grew {end - base:.1f} MB ({base:.1f} -> {mid:.1f} -> {end:.1f})"
    if refs0 is not None:
        assert refs1 - refs0 < 1000, f"reference total grew by {refs1 - refs0}"
    return base, mid, end


@pytest.fixture(scope="module")
def pki():
    root = CA.root("Leak Test Root CA")
    inter = root.intermediate("Leak Test Issuing CA")
    return root, inter


def test_20000_checks_do_not_grow_memory(pki):
    root, inter = pki
    leaf = inter.leaf("localhost", "127.0.0.1")
    expired = inter.leaf("localhost", "127.0.0.1", not_before=days(-60), not_after=days(-1))
    with ServerProcess("tls_server", pem_of(leaf, inter), leaf.key_pem) as good, \
            ServerProcess("tls_server", pem_of(expired, inter), expired.key_pem,
                          max_version="TLSv1.2") as bad, \
            ServerProcess("raw_server", "http") as http, \
            ServerProcess("raw_server", "reset") as reset:
        # Mostly healthy checks; every 10th against a broken peer.
        plan = [(good.target, True)] * 6 + [(bad.target, False), (http.target, False),
                                            (reset.target, False), ("127.0.0.1:1", False)]
        seen = {"n": 0}

        def run(n):
            for _ in range(n):
                target, ok = plan[seen["n"] % len(plan)]
                seen["n"] += 1
                r = pytlscheck.check(target, trust=root.pem, timeout=10)
                assert r.ok == ok, r.explain()
                r.explain()
                r.to_dict()

        base, mid, end = assert_flat(run, CHECKS, warmup=2_000)
    assert seen["n"] == CHECKS


def test_100000_verify_chain_calls_do_not_grow_memory(pki):
    root, inter = pki
    good = inter.leaf("api.example.com")
    expired = inter.leaf("api.example.com", not_before=days(-60), not_after=days(-1))
    evil = mint("evil\x00\x1b[31m", inter, dns_names=["api.example.com\x00.evil.test"], eku=["serverAuth"])
    good_pem = pem_of(good, inter)
    inputs = [
        (good_pem, "api.example.com", True),
        ([good.der, inter.der], "api.example.com", True),
        (pem_of(expired, inter), "api.example.com", False),
        (good_pem, "other.example.com", False),
        (good.pem, "api.example.com", False),            # incomplete chain
        (pem_of(evil, inter), "api.example.com", False),  # malformed
    ]
    seen = {"n": 0}

    def run(n):
        for _ in range(n):
            chain, host, ok = inputs[seen["n"] % len(inputs)]
            seen["n"] += 1
            r = pytlscheck.verify_chain(chain, hostname=host, trust=root.pem)
            assert r.ok == ok
            if not ok:
                # The exception path too: it carries the report.
                try:
                    r.raise_for_problems()
                except pytlscheck.TLSCheckError as e:
                    assert e.report is r

    assert_flat(run, VERIFIES, warmup=5_000)
    assert seen["n"] == VERIFIES


def test_hostile_peers_do_not_grow_memory(pki):
    """3,000 checks against the hostile peers of test_hostile.py: floods,
    an unparsable certificate, a certificate with NUL bytes, garbage, a
    close after the ClientHello."""
    root, inter = pki
    leaf = inter.leaf("localhost", "127.0.0.1")
    evil = mint("evil\x00\x1b[31m", inter, dns_names=["localhost\x00.evil.test"],
                ip_addresses=["127.0.0.1"], eku=["serverAuth"])
    with ServerProcess("flood", name="random-bytes") as f1, \
            ServerProcess("flood", name="serverhello-then-random-records") as f2, \
            ServerProcess("crafted", ders=[leaf.der[:-30].hex(), inter.der.hex()]) as crafted, \
            ServerProcess("tls_server", pem_of(evil, inter), evil.key_pem) as nul, \
            ServerProcess("raw_server", "garbage") as garbage, \
            ServerProcess("raw_server", "close_after_hello") as closer:
        plan = [f1.target, f2.target, crafted.target, nul.target, garbage.target, closer.target]
        seen = {"n": 0}

        def run(n):
            for _ in range(n):
                target = plan[seen["n"] % len(plan)]
                seen["n"] += 1
                r = pytlscheck.check(target, trust=root.pem, timeout=5)
                assert not r.ok and r.errors
                r.explain()

        assert_flat(run, 3_000, warmup=600)
