"""Many live checks from many threads: the C core releases the GIL for
the whole check, so 8 threads x 50 checks against one server overlap in
time (asserted from recorded start/end times, not from speed) and give
exactly the reports sequential calls give."""
from __future__ import annotations

import threading
import time

import pytest

import pytlscheck
from pki import CA, days, pem_of
from servers import raw_server, tls_server

THREADS = 8
PER_THREAD = 50
TIMEOUT = 10.0
MARGIN = 2.0


def signature(r):
    """Everything a report says, minus timings."""
    return (r.ok, tuple((p.kind, p.depth, p.message, p.inspect_command) for p in r.problems),
            r.protocol, r.cipher, r.group, r.alpn, r.address, r.port, r.server_name,
            tuple(c.fingerprint_sha256 for c in r.chain))


def run_threads(target, **kw):
    """THREADS threads, PER_THREAD checks each; returns [(thread, start, end, signature)]."""
    results = []
    errors = []
    lock = threading.Lock()
    go = threading.Barrier(THREADS)

    def worker(n):
        try:
            go.wait(10)
            for _ in range(PER_THREAD):
                t0 = time.monotonic()
                r = pytlscheck.check(target, timeout=TIMEOUT, **kw)
                t1 = time.monotonic()
                with lock:
                    results.append((n, t0, t1, signature(r)))
        except BaseException as e:      # reported below, in the main thread
            with lock:
                errors.append(e)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert not any(t.is_alive() for t in threads)
    return results


def overlapping_pairs(results):
    spans = sorted((t0, t1, n) for n, t0, t1, _ in results)
    count = 0
    for i, (a0, a1, an) in enumerate(spans):
        for b0, b1, bn in spans[i + 1:]:
            if b0 >= a1:
                break
            if bn != an:
                count += 1
    return count


@pytest.fixture(scope="module")
def pki():
    root = CA.root("Concurrency Root CA")
    inter = root.intermediate("Concurrency Issuing CA")
    return root, inter


@pytest.mark.parametrize("scenario", ["healthy", "expired"])
def test_threads_give_sequential_reports_and_overlap(pki, scenario):
    root, inter = pki
    if scenario == "healthy":
        leaf = inter.leaf("localhost", "127.0.0.1")
    else:
        leaf = inter.leaf("localhost", "127.0.0.1", not_before=days(-60), not_after=days(-2))
    with tls_server(pem_of(leaf, inter), leaf.key_pem) as (host, port):
        target = f"{host}:{port}"
        sequential = {signature(pytlscheck.check(target, trust=root.pem, timeout=TIMEOUT))
                      for _ in range(5)}
        assert len(sequential) == 1
        results = run_threads(target, trust=root.pem)
    assert len(results) == THREADS * PER_THREAD
    assert {sig for *_, sig in results} == sequential
    ok, kinds = next(iter(sequential))[:2]
    assert ok == (scenario == "healthy")
    assert all(t1 - t0 <= TIMEOUT + MARGIN for _, t0, t1, _ in results)
    # Checks of different threads ran at the same time: the GIL was free.
    assert overlapping_pairs(results) > 0


def test_slow_checks_do_not_block_other_threads():
    """While one thread waits on a silent server for its whole timeout, the
    others keep completing checks: their spans fall inside the slow one."""
    with raw_server("silent") as (h1, p1), raw_server("http") as (h2, p2):
        slow = {}

        def slow_check():
            t0 = time.monotonic()
            r = pytlscheck.check(f"{h1}:{p1}", timeout=1.5)
            slow.update(start=t0, end=time.monotonic(), kinds=r.kinds)

        t = threading.Thread(target=slow_check)
        t.start()
        time.sleep(0.2)
        fast = []
        while t.is_alive() and len(fast) < 20:
            t0 = time.monotonic()
            r = pytlscheck.check(f"{h2}:{p2}", timeout=5)
            fast.append((t0, time.monotonic(), r.kinds))
        t.join(10)
    assert slow["kinds"] == ["handshake_timeout"]
    assert all(k == ["not_tls"] for *_, k in fast)
    inside = [f for f in fast if slow["start"] < f[0] and f[1] < slow["end"]]
    assert len(inside) >= 1


def test_a_name_is_resolved_in_a_forked_child_after_the_parent_resolved_one():
    """The resolver pool's threads do not survive fork(): the child starts
    with an empty pool and still resolves names (no deadlock on a lock a
    parent thread held, no wait for workers that do not exist)."""
    import os
    import socket

    with socket.socket() as s:          # a closed port on the loopback
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    parent = pytlscheck.check(f"localhost:{port}", timeout=5.0)
    assert "connection_refused" in parent.kinds
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:                          # the child: one check, its kinds to the pipe
        code = 1
        try:
            os.close(read)
            r = pytlscheck.check(f"localhost:{port}", timeout=5.0)
            os.write(write, ",".join(r.kinds).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as f:
        kinds = f.read().decode()
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    assert kinds.split(",") == parent.kinds
