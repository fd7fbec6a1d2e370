"""A TLS 1.0-only server, checked again and again through every path
(issue 13 item 6).

The main handshake gets a protocol_version alert; the core then closes
that connection and opens a diagnostic probe, which learns that the server
speaks TLS 1.0 only.  The probe's socket usually gets the number of the
socket just closed, and close() had dropped it from the epoll set of
check_many / check_async (and the CLI, which runs check_many): the probe's
ServerHello went unseen until the check's deadline, and the report fell
back to the vaguer "sent the alert 'protocol version'" message.  Whether it
happened was a race (how fast the server answered), so each path runs many
times in a row, each run bounded far below the timeout.

The server is `openssl s_server -tls1`: one connection at a time, as the
issue saw it.
"""
from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time

import pytest

import pytlscheck
from pki import CA, pem_of
from servers import have_openssl_cli, openssl_server

pytestmark = pytest.mark.skipif(not have_openssl_cli(),
                                reason="needs the openssl command line tool")

TIMEOUT = 4.0
#: A run must finish well before TIMEOUT: a correctness bound against the
#: stall (which waits the whole timeout), not a benchmark.
BOUND = 1.5
RUNS = 10
PRECISE = ("the server only speaks TLS 1.0, which modern clients refuse (RFC 8996); "
           "offered every version from TLS 1.0 to TLS 1.3, it chose TLS 1.0")


@pytest.fixture(scope="module")
def tls10():
    root = CA.root("TLS 1.0 Stall Test Root CA")
    inter = root.intermediate("TLS 1.0 Stall Test Issuing CA")
    leaf = inter.leaf("localhost", "127.0.0.1")
    with openssl_server("-tls1", "-cipher", "DEFAULT@SECLEVEL=0",
                        cert=pem_of(leaf, inter), key=leaf.key_pem) as (host, port):
        yield {"target": f"{host}:{port}", "trust": root.pem}


def assert_precise(kind, message, elapsed, what):
    assert kind == "protocol_mismatch", f"{what}: {kind}: {message}"
    assert PRECISE in message, f"{what} ({elapsed:.2f} s): {message}"
    assert elapsed < BOUND, f"{what} took {elapsed:.2f} s (timeout {TIMEOUT} s): {message}"


def assert_report(report, elapsed, what):
    kinds = [p.kind for p in report.errors]
    assert len(kinds) == 1, f"{what}: {report.explain()}"
    p = report.errors[0]
    assert p.exception is pytlscheck.ProtocolVersionMismatch
    assert_precise(p.kind, p.message, elapsed, what)


def test_check(tls10):
    for i in range(RUNS):
        t0 = time.monotonic()
        r = pytlscheck.check(tls10["target"], timeout=TIMEOUT, trust=tls10["trust"])
        assert_report(r, time.monotonic() - t0, f"check run {i + 1}")


def test_cli(tls10):
    for i in range(RUNS):
        t0 = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "pytlscheck", tls10["target"],
                               "--timeout", str(TIMEOUT), "--json"],
                              capture_output=True, text=True, timeout=60)
        elapsed = time.monotonic() - t0
        assert proc.returncode == 2, proc.stderr
        [result] = json.loads(proc.stdout)["results"]
        [problem] = result["problems"]
        # The bound is on the check itself, as the CLI timed it: the
        # process's own start-up (an interpreter, under ASan in CI's
        # sanitizer stage) is not what a stall would lengthen.
        assert elapsed < 60
        assert_precise(problem["kind"], problem["message"], result["timings"]["total"] / 1000,
                       f"CLI run {i + 1} (process {elapsed:.2f} s)")


def test_check_async(tls10):
    async def runs():
        for i in range(RUNS):
            t0 = time.monotonic()
            r = await pytlscheck.check_async(tls10["target"], timeout=TIMEOUT,
                                             trust=tls10["trust"])
            assert_report(r, time.monotonic() - t0, f"check_async run {i + 1}")

    asyncio.run(runs())


def test_check_async_fresh_loops(tls10):
    # Each asyncio.run starts the shared driver afresh.
    for i in range(5):
        t0 = time.monotonic()
        r = asyncio.run(pytlscheck.check_async(tls10["target"], timeout=TIMEOUT,
                                               trust=tls10["trust"]))
        assert_report(r, time.monotonic() - t0, f"check_async (new loop) run {i + 1}")


@pytest.mark.parametrize("copies", [1, 3])
def test_check_many(tls10, copies):
    for i in range(5 if copies > 1 else RUNS):
        t0 = time.monotonic()
        reports = pytlscheck.check_many([tls10["target"]] * copies, timeout=TIMEOUT,
                                        trust=tls10["trust"])
        elapsed = time.monotonic() - t0
        assert len(reports) == copies
        for k, r in enumerate(reports):
            assert_report(r, elapsed, f"check_many x{copies} run {i + 1}, copy {k + 1}")
