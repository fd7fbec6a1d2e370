"""Threads and signals (issue 7).

- 16 threads check several real loopback servers at once (healthy,
  expired, wrong name, untrusted, plain HTTP, closing after the
  ClientHello) and verify chains in between: no crash, and every report is
  the report a sequential run gives.
- Ctrl-C (SIGINT) during a long CLI run over many silent targets stops
  promptly with the CLI's KeyboardInterrupt handling (exit 130), with no
  socket left open, no thread left behind and no queued target started;
  during a single check() in the main thread, KeyboardInterrupt is raised
  promptly and never lost.

The Ctrl-C tests run the CLI (or check()) in a child interpreter, send it
SIGINT once it is connected to the silent servers, and read back what
the child saw after the interrupt: its exit status, the threads still
alive and the sockets still open (/proc/self/fd).
"""
from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import pytlscheck
from pki import CA, days, pem_of
from servers import raw_server, tls_server

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
THREADS = 16
ROUNDS = 12           # checks per thread (each thread cycles through every target)
TIMEOUT = 10.0

needs_proc = pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")


def signature(r):
    """Everything a report says, minus timings and the time it was made."""
    return (r.ok, tuple((p.kind, p.severity, p.depth, p.message, p.fix, p.inspect_command)
                        for p in r.problems),
            r.protocol, r.cipher, r.group, r.alpn, r.address, r.port, r.server_name, r.hostname,
            r.peer_banner, tuple(c.fingerprint_sha256 for c in r.chain),
            tuple(c.fingerprint_sha256 for c in (r.verified_chain or ())))


@pytest.fixture(scope="module")
def targets():
    """(name, target, kwargs) for six differently broken or healthy servers."""
    root = CA.root("Threads Root CA")
    inter = root.intermediate("Threads Issuing CA")
    stranger = CA.root("Threads Stranger CA")
    good = inter.leaf("localhost", "127.0.0.1")
    expired = inter.leaf("localhost", "127.0.0.1", not_before=days(-90), not_after=days(-1))
    untrusted = stranger.leaf("localhost", "127.0.0.1")
    with contextlib.ExitStack() as stack:
        def serve(cm):
            host, port = stack.enter_context(cm)
            return f"{host}:{port}"
        t = [
            ("healthy-tls13", serve(tls_server(pem_of(good, inter), good.key_pem)), {}),
            ("expired-tls12", serve(tls_server(pem_of(expired, inter), expired.key_pem,
                                               max_version="TLSv1.2")), {}),
            ("wrong-name", None, {"server_name": "other.example.com"}),
            ("untrusted", serve(tls_server(untrusted.pem, untrusted.key_pem)), {}),
            ("plain-http", serve(raw_server("http")), {}),
            ("closes-after-hello", serve(raw_server("close_after_hello")), {}),
        ]
        t[2] = ("wrong-name", t[0][1], t[2][2])
        yield [(name, target, dict(kw, trust=root.pem, timeout=TIMEOUT)) for name, target, kw in t], \
            (pem_of(good, inter), root.pem)


def test_16_threads_give_the_reports_of_a_sequential_run(targets):
    servers, (chain, root_pem) = targets
    sequential = {}
    for name, target, kw in servers:
        runs = {signature(pytlscheck.check(target, **kw)) for _ in range(2)}
        assert len(runs) == 1, f"{name}: two sequential runs differ"
        sequential[name] = runs.pop()
    offline = signature(pytlscheck.verify_chain(chain, hostname="localhost", trust=root_pem))
    assert sequential["healthy-tls13"][0] and not sequential["expired-tls12"][0]

    results, errors = [], []
    lock = threading.Lock()
    go = threading.Barrier(THREADS)

    def worker(n):
        try:
            go.wait(10)
            for i in range(ROUNDS):
                # Each thread walks the targets from its own starting point.
                name, target, kw = servers[(n + i) % len(servers)]
                sig = signature(pytlscheck.check(target, **kw))
                off = signature(pytlscheck.verify_chain(chain, hostname="localhost", trust=root_pem))
                with lock:
                    results.append((name, sig, off))
        except BaseException as e:      # reported in the main thread
            with lock:
                errors.append(repr(e))

    threads = [threading.Thread(target=worker, args=(n,), name=f"checker-{n}") for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert not any(t.is_alive() for t in threads)
    assert len(results) == THREADS * ROUNDS
    for name, sig, off in results:
        assert sig == sequential[name], f"{name}: a threaded report differs from the sequential one"
        assert off == offline
    assert {name for name, *_ in results} == set(sequential)


# ---- Ctrl-C ----------------------------------------------------------------

@contextlib.contextmanager
def silent_servers(count):
    """`count` servers that accept and never answer; yields (addresses,
    stats) where stats counts connections accepted and still open (a
    connection is closed once the client closes it)."""
    stats = {"accepted": 0, "open": 0}
    lock = threading.Lock()

    def handler(conn):
        with lock:
            stats["accepted"] += 1
            stats["open"] += 1
        try:
            conn.settimeout(60)
            while conn.recv(4096):
                pass
        finally:
            with lock:
                stats["open"] -= 1

    with contextlib.ExitStack() as stack:
        addrs = [stack.enter_context(raw_server(handler)) for _ in range(count)]
        yield addrs, stats


CHILD = textwrap.dedent("""
    import json, os, sys, threading, time

    def sockets():
        out = []
        for fd in os.listdir("/proc/self/fd"):
            try:
                link = os.readlink(f"/proc/self/fd/{fd}")
            except OSError:
                continue
            if link.startswith("socket:"):
                out.append(link)
        return out

    result_path, mode, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    before = sockets()
    t0 = time.monotonic()
    outcome = None
    try:
        if mode == "cli":
            from pytlscheck import cli
            outcome = cli.main(args)
        else:
            import pytlscheck
            pytlscheck.check(args[0], timeout=float(args[1]))
            outcome = "returned"
    except KeyboardInterrupt:
        outcome = "KeyboardInterrupt"
    done = time.monotonic()
    time.sleep(0.2)          # threads that are merely finishing get to finish
    with open(result_path, "w") as f:
        json.dump({"outcome": outcome, "returned_at": done,
                   "threads": [t.name for t in threading.enumerate() if t is not threading.main_thread()],
                   "sockets": len(sockets()) - len(before)}, f)
""")


def _start_child(tmp_path, mode, *args):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    result = tmp_path / "result.json"
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, str(script), str(result), mode, *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    return proc, result


def _wait_for(cond, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.02)
    return False


def _interrupt(proc, stats, started, timeout):
    """Waits until `started` connections reached the servers, sends SIGINT,
    and returns (seconds from SIGINT to exit, stdout, stderr)."""
    try:
        assert _wait_for(lambda: stats["accepted"] >= started, 20), \
            f"the child connected only {stats['accepted']} times"
        time.sleep(0.3)
        t_sig = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=timeout)
        return time.monotonic() - t_sig, out, err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


CLI_TIMEOUT = 5.0       # per target; the run would take several times this
N_TARGETS = 48
CONCURRENCY = 16        # so 32 targets wait in the queue when SIGINT comes


@needs_proc
def test_ctrl_c_during_a_long_cli_run_stops_promptly_and_cleanly(tmp_path):
    with silent_servers(4) as (addrs, stats):
        targets = [f"{h}:{p}" for h, p in addrs] * (N_TARGETS // len(addrs))
        proc, result = _start_child(tmp_path, "cli", *targets, "--timeout", CLI_TIMEOUT,
                                    "--concurrency", CONCURRENCY)
        took, out, err = _interrupt(proc, stats, CONCURRENCY, timeout=4 * CLI_TIMEOUT)
        seen = json.loads(result.read_text()) if result.exists() else {}
        assert _wait_for(lambda: stats["open"] == 0, 5), "a connection stayed open"
    assert seen.get("outcome") == 130 and "interrupted" in err, (seen, err[-2000:])
    assert seen["threads"] == [], f"threads left behind: {seen['threads']}"
    assert seen["sockets"] <= 0, f"{seen['sockets']} sockets left open"
    assert took < 3.0, f"the CLI took {took:.1f} s to stop after SIGINT"
    assert stats["accepted"] <= CONCURRENCY + 2     # the queued targets were never started


@needs_proc
def test_ctrl_c_during_a_cli_run_is_never_lost(tmp_path):
    """The least to expect: the interrupt is handled (exit 130,
    'interrupted', no thread or socket left), at the latest once the
    checks in flight reach their deadline."""
    with silent_servers(2) as (addrs, stats):
        targets = [f"{h}:{p}" for h, p in addrs] * 2
        proc, result = _start_child(tmp_path, "cli", *targets, "--timeout", 2.0)
        took, out, err = _interrupt(proc, stats, 4, timeout=30)
        seen = json.loads(result.read_text())
        assert _wait_for(lambda: stats["open"] == 0, 5)
    assert proc.returncode == 0      # main() returned 130 to the child script
    assert seen["outcome"] == 130 and "interrupted" in err
    assert seen["threads"] == [] and seen["sockets"] <= 0
    assert took < 2.0 + 3.0


@needs_proc
def test_ctrl_c_during_a_single_check_raises_promptly(tmp_path):
    with silent_servers(1) as (addrs, stats):
        host, port = addrs[0]
        proc, result = _start_child(tmp_path, "check", f"{host}:{port}", 6.0)
        took, out, err = _interrupt(proc, stats, 1, timeout=30)
        seen = json.loads(result.read_text())
        assert _wait_for(lambda: stats["open"] == 0, 5), "the connection stayed open"
    assert seen["outcome"] == "KeyboardInterrupt"
    assert took < 2.0, f"check() took {took:.1f} s to raise KeyboardInterrupt"
    assert seen["sockets"] <= 0 and seen["threads"] == []


@needs_proc
def test_ctrl_c_during_a_single_check_is_raised_when_it_returns(tmp_path):
    """Its twin with a deadline close by: the interrupt is not lost to a
    check that ends on its own deadline."""
    with silent_servers(1) as (addrs, stats):
        host, port = addrs[0]
        proc, result = _start_child(tmp_path, "check", f"{host}:{port}", 2.0)
        took, out, err = _interrupt(proc, stats, 1, timeout=30)
        seen = json.loads(result.read_text())
    assert seen["outcome"] == "KeyboardInterrupt", seen
    assert took < 2.0 + 2.0
    assert seen["sockets"] <= 0 and seen["threads"] == []
