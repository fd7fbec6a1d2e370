"""check_many / iter_check_many against real loopback servers: input order
and equality with sequential check(), per-target options with their
twins, invalid targets refused before anything starts, progress counts,
the concurrency limit counted on the server side, silent peers timing out
together, a thousand checks in flight, early exit closing every socket,
Ctrl-C in a child process, the descriptor limit, pickling."""
from __future__ import annotations

import asyncio
import contextlib
import os
import pickle
import resource
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path
from typing import List, Tuple

import pytest

import pytlscheck
from fds import fd_set
from pki import pem_of
from pytlscheck import InvalidTargets, check_many, iter_check_many
from servers import raw_server, tls_server

ROOT = Path(__file__).resolve().parent.parent
MARGIN = 2.0      # seconds a batch may take past its bound on a busy 2-core machine


def signature(r):
    """Everything a report says, minus timings and times."""
    return (r.ok, tuple((p.kind, p.depth, p.message, p.fix, p.inspect_command) for p in r.problems),
            r.target, r.protocol, r.cipher, r.group, r.alpn, r.address, r.port, r.server_name,
            r.hostname, r.trust, tuple(c.fingerprint_sha256 for c in r.chain),
            None if r.verified_chain is None else
            tuple(c.fingerprint_sha256 for c in r.verified_chain))


@pytest.fixture(scope="module")
def pki(root, inter):
    leaf = inter.leaf("localhost", "127.0.0.1")
    return {"root": root, "chain": pem_of(leaf, inter), "key": leaf.key_pem}


@pytest.fixture(scope="module")
def server(pki):
    with tls_server(pki["chain"], pki["key"]) as addr:
        yield addr


# ---------------------------------------------------------------------------
# A TLS server on an asyncio loop in a thread: takes thousands of
# connections at once and holds each TCP connection before its TLS
# handshake (`hold` seconds, or until `gate` connections wait at once).
# It counts the connections waiting at the same time: a check cannot end
# before its handshake starts, so each one waiting is a check in flight
# (connections merely not yet seen closed would blur an "open" count).


class CountingServer:
    def __init__(self, chain_pem: str, key_pem: str, *, hold: float = 0.0,
                 gate: int = 0, gate_timeout: float = 15.0) -> None:
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        with tempfile.TemporaryDirectory() as d:
            cert, key = os.path.join(d, "c.pem"), os.path.join(d, "k.pem")
            Path(cert).write_text(chain_pem)
            Path(key).write_text(key_pem)
            self.ctx.load_cert_chain(cert, key)
        self.hold, self.gate, self.gate_timeout = hold, gate, gate_timeout
        self.waiting = self.max_waiting = self.accepted = 0
        self.loop = asyncio.new_event_loop()
        self.opened = None           # asyncio.Event, made on the loop
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._main, daemon=True)

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        self.opened = asyncio.Event()
        self.stop = asyncio.Event()
        srv = await self.loop.create_server(lambda: _Conn(self), "127.0.0.1", 0, backlog=4096)
        self.port = srv.sockets[0].getsockname()[1]
        self.ready.set()
        await self.stop.wait()
        srv.close()
        for t in list(_Conn.tasks.get(self, ())):
            t.cancel()
        await srv.wait_closed()

    def __enter__(self) -> Tuple[str, int]:
        self.thread.start()
        assert self.ready.wait(10)
        return "127.0.0.1", self.port

    def __exit__(self, *exc) -> None:
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(15)
        self.loop.close()


class _Conn(asyncio.Protocol):
    tasks: dict = {}

    def __init__(self, server: CountingServer) -> None:
        self.server = server
        self.closed = asyncio.Event()

    def connection_made(self, transport) -> None:
        transport.pause_reading()        # no byte is read before TLS starts
        s = self.server
        s.accepted += 1
        s.waiting += 1
        s.max_waiting = max(s.max_waiting, s.waiting)
        if s.gate and s.waiting >= s.gate:
            s.opened.set()
        task = asyncio.get_running_loop().create_task(self._tls(transport))
        _Conn.tasks.setdefault(s, set()).add(task)
        task.add_done_callback(_Conn.tasks[s].discard)

    async def _tls(self, transport) -> None:
        s = self.server
        try:
            try:
                if s.gate:
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(s.opened.wait(), s.gate_timeout)
                if s.hold:
                    await asyncio.sleep(s.hold)
            finally:
                s.waiting -= 1
            if transport.is_closing():
                return
            app = _TLSApp()
            tls = await asyncio.get_running_loop().start_tls(
                transport, app, s.ctx, server_side=True, ssl_handshake_timeout=30)
            await asyncio.wait_for(app.closed.wait(), 30)   # the checker closes first
            tls.close()
        except (OSError, ssl.SSLError, ConnectionError, asyncio.TimeoutError):
            transport.close()

    def connection_lost(self, exc) -> None:
        self.closed.set()


class _TLSApp(asyncio.Protocol):
    """What runs over TLS: nothing; notices the checker's close."""

    def __init__(self) -> None:
        self.closed = asyncio.Event()

    def connection_lost(self, exc) -> None:
        self.closed.set()


# ---------------------------------------------------------------------------
# order, equality, options


def test_order_and_equality_with_sequential_check(pki, server, other_root):
    host, port = server
    good = f"{host}:{port}"
    with raw_server("http") as (h2, p2), raw_server("reset") as (h3, p3):
        targets = [good, f"{h2}:{p2}", f"https://localhost:{port}/x", f"{h3}:{p3}",
                   good, (good, {"trust": other_root.pem}), good]
        many = check_many(targets, trust=pki["root"].pem, timeout=10)
        seq = []
        for t in targets:
            if isinstance(t, tuple):
                seq.append(pytlscheck.check(t[0], trust=t[1]["trust"], timeout=10))
            else:
                seq.append(pytlscheck.check(t, trust=pki["root"].pem, timeout=10))
    assert [signature(r) for r in many] == [signature(r) for r in seq]
    assert [r.kinds for r in many][:4] == [[], ["not_tls"], [], many[3].kinds]
    assert many[0].ok and many[2].target == f"localhost:{port}"
    assert many[3].kinds and many[3].kinds[0] in ("connection_reset", "handshake_failure")
    assert not many[5].ok     # the twin: another root, same server
    for r in many:
        assert r.timings["total"] is not None and r.checked_at.tzinfo is not None


def test_per_target_options_and_their_twins(root, inter, other_root):
    """Two servers under different roots, one that only names api.test:
    each target's own trust / server_name / port makes it pass; the same
    targets without them fail the way check() says."""
    other_inter = other_root.intermediate("Other Issuing CA")
    a = inter.leaf("localhost", "127.0.0.1")
    b = other_inter.leaf("localhost", "127.0.0.1")
    c = inter.leaf("api.test")
    with tls_server(pem_of(a, inter), a.key_pem) as (h, pa), \
            tls_server(pem_of(b, other_inter), b.key_pem) as (_, pb), \
            tls_server(pem_of(c, inter), c.key_pem) as (_, pc):
        reports = check_many([
            f"{h}:{pa}",
            (f"{h}:{pb}", {"trust": other_root.pem}),
            (h, {"port": pc, "server_name": "api.test"}),
            (f"{h}:{pa}", {"timeout": 5, "min_days": 3650}),
        ], trust=root.pem)
        twins = check_many([f"{h}:{pa}", f"{h}:{pb}", (h, {"port": pc})], trust=root.pem)
    assert [r.ok for r in reports] == [True, True, True, True]
    assert reports[1].verified_chain[-1].subject == other_root.subject
    assert reports[0].verified_chain[-1].subject == root.subject
    assert reports[2].server_name == "api.test" and reports[2].hostname == "api.test"
    assert "expires_soon" in reports[3].kinds and "expires_soon" not in reports[0].kinds
    assert twins[0].ok
    assert not twins[1].ok and twins[1].errors[0].kind in ("untrusted_root",
                                                           "unknown_root")
    assert "hostname_mismatch" in twins[2].kinds


def test_trust_loaded_once_per_distinct_value(pki, server, monkeypatch, tmp_path):
    """One trust store and one TLS client per distinct trust value in a
    batch, however many targets use it (and whether they name it in their
    own options or take the batch's)."""
    from pytlscheck import _core, api, many
    api._TRUST_CACHE.clear()
    api._CLIENT_CACHE.clear()
    loads: List[str] = []
    clients: List[object] = []
    real_from_path, real_client = _core.TrustStore.from_path, many._client

    def spy_client(trust, cert, key):
        clients.append(trust)
        return real_client(trust, cert, key)

    class TS:
        system = _core.TrustStore.system
        from_der = _core.TrustStore.from_der

        @staticmethod
        def from_path(path):
            loads.append(path)
            return real_from_path(path)

    monkeypatch.setattr(many, "_client", spy_client)
    monkeypatch.setattr(api._core, "TrustStore", TS)
    root_file = tmp_path / "root.pem"
    root_file.write_text(pki["root"].pem)
    host, port = server
    try:
        reports = check_many([f"{host}:{port}"] * 30
                             + [(f"{host}:{port}", {"trust": str(root_file)})] * 30,
                             trust=str(root_file), concurrency=8)
    finally:
        api._TRUST_CACHE.clear()
        api._CLIENT_CACHE.clear()
    assert all(r.ok for r in reports)
    assert loads == [str(root_file)]
    assert clients == [str(root_file)]


def test_shared_intermediate_signature_checked_once_per_batch(pki, server):
    """The root's signature on the intermediate every endpoint serves is
    verified once, then remembered (csrc/core/x509/sigcache.c); the leaf's
    signature is verified for every check."""
    from pytlscheck import _core
    _core.sigcache_clear()
    host, port = server
    reports = check_many([f"{host}:{port}"] * 40, trust=pki["root"].pem, concurrency=8)
    assert all(r.ok for r in reports)
    assert _core.sigcache_stats() == {"hits": 39, "misses": 1}
    # A single check() shares the same memory.
    assert pytlscheck.check(host, port, trust=pki["root"].pem).ok
    assert _core.sigcache_stats() == {"hits": 40, "misses": 1}


def test_certificates_made_when_first_read_and_still_pickle(pki, server):
    """A report's certificates are made on first read (a batch whose user
    reads only ok does not pay for every leaf); reading them from many
    threads at once, or pickling a report never read, gives the same."""
    host, port = server
    reports = check_many([f"{host}:{port}"] * 3, trust=pki["root"].pem)
    fresh = pickle.loads(pickle.dumps(reports[0]))       # never read before
    assert fresh.chain[0].fingerprint_sha256 == reports[1].chain[0].fingerprint_sha256
    assert fresh.leaf.dns_names == ("localhost",)
    # check() defers even the leaf's extraction (a handle in C until read).
    single = pytlscheck.check(host, port, trust=pki["root"].pem)
    again = pickle.loads(pickle.dumps(single))
    assert again.leaf.fingerprint_sha256 == fresh.leaf.fingerprint_sha256
    assert single.leaf.not_after == fresh.leaf.not_after
    r = reports[2]
    seen: List[str] = []
    barrier = threading.Barrier(8)

    def read() -> None:
        barrier.wait()
        seen.append(",".join(c.fingerprint_sha256 for c in r.verified_chain))

    threads = [threading.Thread(target=read) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 8 and len(set(seen)) == 1 and seen[0].count(",") == 2
    assert r.path is not None and [c.fingerprint_sha256 for c in r.path] == seen[0].split(",")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_batch_made_before_fork_says_so_in_the_child(pki, server):
    """After fork() the child has no driver thread for a batch the parent
    made: using it raises an error naming the fork, and nothing hangs
    (stats, close and garbage collection included)."""
    from pytlscheck import _core, api
    host, port = server
    _, client = api._client(pki["root"].pem, None, None)
    batch = _core.Batch(2)
    batch.add(0, client, host, port, None, 5.0, 30, 0.0)      # starts the driver
    got = []
    deadline = time.monotonic() + 10
    while not got and time.monotonic() < deadline:
        got += batch.run(0.1)
    assert got and got[0][1]["ok"]
    pid = os.fork()
    if pid == 0:                                               # the child
        code = 10
        try:
            batch.add(1, client, host, port, None, 5.0, 30, 0.0)
        except RuntimeError as e:
            code = 0 if "fork()" in str(e) and str(os.getpid()) in str(e) else 11
        except BaseException:                                  # noqa: BLE001
            code = 12
        try:
            batch.run(0.1)
            code = code or 13
        except RuntimeError:
            pass
        batch.stats()
        batch.close()
        assert batch.closed
        os._exit(code)
    deadline = time.monotonic() + 15
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail("the child hung using a batch made before fork()")
        time.sleep(0.05)
    assert os.waitstatus_to_exitcode(status) == 0
    batch.add(2, client, host, port, None, 5.0, 30, 0.0)       # the parent's still works
    got = []
    deadline = time.monotonic() + 10
    while not got and time.monotonic() < deadline:
        got += batch.run(0.1)
    assert got and got[0][0] == 2 and got[0][1]["ok"]
    batch.close()


# ---------------------------------------------------------------------------
# invalid input


def test_invalid_targets_are_all_named_before_anything_starts(pki):
    accepted = []

    def handler(conn):
        accepted.append(1)

    with raw_server(handler) as (h, p):
        targets = [f"{h}:{p}", "bad host:1", ("x", {"bogus": 1}), 42, "http://example.com",
                   f"{h}:{p}", "[::1", ("y", {"timeout": -1})]
        with pytest.raises(InvalidTargets) as ei:
            check_many(targets, trust=pki["root"].pem)
        with pytest.raises(ValueError):
            list(iter_check_many(targets, trust=pki["root"].pem))
        time.sleep(0.2)
    e = ei.value
    assert [i for i, _, _ in e.invalid] == [1, 2, 3, 4, 6, 7]
    msg = str(e)
    assert "6 of 8 targets are not valid" in msg
    assert "'bad host:1'" in msg and "bogus" in msg and "http://" in msg
    assert "#7" in msg and "timeout" in msg
    assert accepted == []          # not one connection was made


def test_bad_batch_options_raise_like_check(pki):
    with pytest.raises(ValueError, match="timeout"):
        check_many(["localhost:1"], timeout=0)
    with pytest.raises(ValueError, match="99999") as ei:     # once, not once per target
        check_many(["localhost"] * 3, port=99999)
    assert not isinstance(ei.value, InvalidTargets)
    with pytest.raises(TypeError):
        check_many(["localhost:1"], concurrency="8")
    with pytest.raises(ValueError):
        check_many(["localhost:1"], concurrency=0)
    with pytest.raises(TypeError, match="single string"):
        check_many("localhost:443")
    with pytest.raises(TypeError):
        check_many(["localhost:1"], verify=False)   # no escape hatch here either
    assert check_many([]) == []
    assert list(iter_check_many([])) == []


# ---------------------------------------------------------------------------
# progress, streaming


def test_progress_counts_every_completion(pki, server):
    host, port = server
    calls = []
    reports = check_many([f"{host}:{port}"] * 12, trust=pki["root"].pem, concurrency=4,
                         progress=lambda done, total: calls.append((done, total)))
    assert calls == [(i, 12) for i in range(1, 13)]
    assert all(r.ok for r in reports)


def test_progress_exception_stops_the_batch():
    """The first completion (a refused port) raises in progress(): the 39
    checks still waiting on a listener that never answers are dropped and
    their sockets closed at once."""
    lsock = _listener()
    try:
        fds = fd_set()
        port = lsock.getsockname()[1]

        def boom(done, total):
            raise RuntimeError("stop here")

        t0 = time.monotonic()
        with pytest.raises(RuntimeError, match="stop here"):
            check_many([f"127.0.0.1:{port}"] * 39 + ["127.0.0.1:1"], timeout=30,
                       concurrency=40, progress=boom)
        assert time.monotonic() - t0 < 5
        new = fd_set() - fds
        assert not new, f"descriptors left open: {new}"
    finally:
        lsock.close()


def test_iter_yields_every_index_once(pki, server):
    host, port = server
    with raw_server("http") as (h2, p2):
        targets = [f"{host}:{port}" if i % 3 else f"{h2}:{p2}" for i in range(30)]
        calls = []
        seen = {}
        for index, report in iter_check_many(targets, trust=pki["root"].pem, concurrency=6,
                                             progress=lambda d, t: calls.append(d)):
            assert index not in seen
            seen[index] = report
            time.sleep(0.01)       # a slow consumer does not stall the checks
    assert sorted(seen) == list(range(30))
    assert all(seen[i].ok == bool(i % 3) for i in range(30))
    assert all(seen[i].kinds == ["not_tls"] for i in range(0, 30, 3))
    assert calls == list(range(1, 31))


def test_iter_slow_consumer_holds_back_new_checks(pki, monkeypatch):
    """A consumer slower than the checks: the bounded queue fills, and no
    new check starts until the consumer takes reports again, so memory
    stays bounded however slow the loop body is."""
    from pytlscheck import many
    monkeypatch.setattr(many, "_ITER_QUEUE_MIN", 2)
    srv = CountingServer(pki["chain"], pki["key"])
    with srv as (host, port):
        it = iter_check_many([f"{host}:{port}"] * 60, trust=pki["root"].pem, concurrency=2)
        first = next(it)
        time.sleep(1.5)          # unbounded, all 60 would be done by now
        started_while_stalled = srv.accepted
        rest = list(it)
    assert first[1].ok and len(rest) == 59 and all(r.ok for _, r in rest)
    assert sorted([first[0]] + [i for i, _ in rest]) == list(range(60))
    # 1 taken + 2 queued + 1 in hand + 4 added ahead of need (2 x concurrency)
    assert started_while_stalled <= 12, started_while_stalled
    assert srv.accepted == 60


def test_iter_early_exit_closes_every_socket():
    lsock = _listener()
    try:
        fds = fd_set()
        port = lsock.getsockname()[1]
        it = iter_check_many([f"127.0.0.1:{port}"] * 20 + ["127.0.0.1:1"], timeout=30,
                             concurrency=21)
        t0 = time.monotonic()
        index, report = next(it)          # the refused one comes back at once
        assert index == 20 and report.kinds == ["connection_refused"]
        it.close()
        assert time.monotonic() - t0 < 5
        new = fd_set() - fds
        assert not new, f"descriptors left open: {new}"
    finally:
        lsock.close()


# ---------------------------------------------------------------------------
# concurrency


def test_concurrency_limit_counted_at_the_server():
    """K=8 and 40 checks of a server that holds each connection 0.2 s: the
    server sees exactly 8 connections at once, never more."""
    lock = threading.Lock()
    state = {"open": 0, "max": 0, "total": 0}

    def handler(conn):
        with lock:
            state["open"] += 1
            state["total"] += 1
            state["max"] = max(state["max"], state["open"])
        time.sleep(0.2)
        with lock:
            state["open"] -= 1      # before the close the client will see

    with raw_server(handler) as (h, p):
        reports = check_many([f"{h}:{p}"] * 40, timeout=10, concurrency=8)
    assert state["total"] == 40
    assert state["max"] == 8
    assert all(r.kinds and r.kinds[0] in ("handshake_failure", "connection_reset", "not_tls")
               for r in reports), {tuple(r.kinds) for r in reports}


def test_silent_peers_time_out_together(pki, server):
    """5 silent peers among 20 good ones, 1 s timeout each: the batch takes
    about one timeout, not five."""
    host, port = server
    with raw_server("silent") as (h2, p2):
        targets = [f"{host}:{port}"] * 20 + [f"{h2}:{p2}"] * 5
        t0 = time.monotonic()
        reports = check_many(targets, trust=pki["root"].pem, timeout=1.0, concurrency=32)
        elapsed = time.monotonic() - t0
    assert [r.ok for r in reports] == [True] * 20 + [False] * 5
    assert all(r.kinds == ["handshake_timeout"] for r in reports[20:])
    assert elapsed < 1.0 + MARGIN       # five in a row would be 5 s


def test_a_queued_check_gets_its_whole_timeout(pki):
    """K=2, 6 silent peers with a 0.5 s timeout: checks wait in the queue
    for slots, and each still gets 0.5 s once started (three rounds)."""
    with raw_server("silent") as (h, p):
        t0 = time.monotonic()
        reports = check_many([f"{h}:{p}"] * 6, timeout=0.5, concurrency=2)
        elapsed = time.monotonic() - t0
    assert all(r.kinds == ["handshake_timeout"] for r in reports)
    assert all(r.timings["total"] >= 450 for r in reports)
    assert elapsed >= 1.4


def test_a_thousand_in_flight(pki):
    """1,200 TLS checks with 1,200 slots against a server that opens no
    handshake until 1,000 connections are open at once: they all pass, so
    the driver had them in flight together on one thread."""
    n, gate = 1200, 1000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 2 * n + 300:
        pytest.skip(f"the descriptor hard limit ({hard}) is too low for {n} connections "
                    "on both ends in one process")
    if soft != resource.RLIM_INFINITY and soft < 2 * n + 300:
        # Client and server share this process: room for the server's end
        # too (check_many raises the soft limit only for its own sockets).
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    srv = CountingServer(pki["chain"], pki["key"], gate=gate)
    with srv as (h, p):
        reports = check_many([f"{h}:{p}"] * n, trust=pki["root"].pem, timeout=60,
                             concurrency=n)
    assert sum(r.ok for r in reports) == n, {tuple(r.kinds) for r in reports if not r.ok}
    assert srv.max_waiting >= gate
    assert srv.accepted == n


def test_concurrency_limit_with_tls(pki):
    """The same limit with full handshakes: the asyncio server holds each
    TCP connection 50 ms, and never sees more than K open."""
    srv = CountingServer(pki["chain"], pki["key"], hold=0.05)
    with srv as (h, p):
        reports = check_many([f"{h}:{p}"] * 120, trust=pki["root"].pem, concurrency=16)
    assert all(r.ok for r in reports)
    assert srv.accepted == 120
    assert srv.max_waiting == 16


# ---------------------------------------------------------------------------
# Ctrl-C, descriptor limits (child processes)


CHILD_CTRL_C = textwrap.dedent("""
    import os, sys, time
    import pytlscheck
    host, port = sys.argv[1], int(sys.argv[2])
    pytlscheck.check_many([], timeout=1)            # imports done
    before = len(os.listdir("/proc/self/fd"))
    print("ready", flush=True)
    t0 = time.monotonic()
    try:
        pytlscheck.check_many([f"{host}:{port}"] * 300, timeout=60, concurrency=100)
        print("finished?!", flush=True)
    except KeyboardInterrupt:
        after = len(os.listdir("/proc/self/fd"))
        print(f"interrupted {time.monotonic() - t0:.2f} fds {before} {after}", flush=True)
""")


def _listener(backlog: int = 512) -> socket.socket:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(backlog)       # never accepts: connections wait in the backlog
    return s


def test_ctrl_c_stops_the_batch_and_closes_every_socket():
    lsock = _listener()
    try:
        proc = subprocess.Popen([sys.executable, "-c", CHILD_CTRL_C, "127.0.0.1",
                                 str(lsock.getsockname()[1])],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                cwd=ROOT)
        try:
            assert proc.stdout.readline().strip() == "ready"
            time.sleep(0.8)                   # the batch is running, 100 in flight
            sent = time.monotonic()
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=10)
            took = time.monotonic() - sent
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    finally:
        lsock.close()
    assert proc.returncode == 0, err
    words = out.split()
    assert words[0] == "interrupted", out + err
    assert words[3] == words[4], out        # descriptors before == after
    assert took < 3.0                        # well before the 60 s timeout


CHILD_FD_LIMIT = textwrap.dedent("""
    import errno, resource, sys
    import pytlscheck
    host, port = sys.argv[1], int(sys.argv[2])
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, 700))
    rs = pytlscheck.check_many([f"{host}:{port}"] * 300, timeout=1, concurrency=300)
    print("soft", resource.getrlimit(resource.RLIMIT_NOFILE)[0], len(rs),
          sum(r.kinds == ["handshake_timeout"] for r in rs))
    try:
        pytlscheck.check_many([f"{host}:{port}"] * 2000, timeout=1, concurrency=2000)
    except OSError as e:
        print("error", e.errno == errno.EMFILE, str(e))
""")


def test_descriptor_limit_raised_or_named():
    lsock = _listener(1024)
    try:
        p = subprocess.run([sys.executable, "-c", CHILD_FD_LIMIT, "127.0.0.1",
                            str(lsock.getsockname()[1])],
                           capture_output=True, text=True, timeout=60, cwd=ROOT)
    finally:
        lsock.close()
    lines = p.stdout.splitlines()
    assert p.returncode == 0, p.stderr
    assert lines[0].split() == ["soft", "700", "300", "300"]
    assert lines[1].startswith("error True")
    assert "at most 700" in lines[1] and "concurrency" in lines[1]


# ---------------------------------------------------------------------------
# pickling


def test_reports_pickle_round_trip(pki, server, other_root):
    host, port = server
    reports = check_many([f"{host}:{port}", (f"{host}:{port}", {"trust": other_root.pem})],
                         trust=pki["root"].pem)
    for r in reports:
        for proto in range(2, pickle.HIGHEST_PROTOCOL + 1):
            back = pickle.loads(pickle.dumps(r, protocol=proto))
            assert back is not r
            assert back.to_dict() == r.to_dict()
            assert signature(back) == signature(r)
            assert back.problems == r.problems
            assert back.chain == r.chain and back.path == r.path
            assert back.checked_at == r.checked_at and back.timings == r.timings
            assert back.ok == r.ok and back.explain() == r.explain()
            # one Certificate object per certificate, as before
            if back.problems and back.problems[0].certificate is not None:
                assert any(back.problems[0].certificate is c for c in back.path)
    assert not reports[1].ok
    p = reports[1].errors[0]
    assert pickle.loads(pickle.dumps(p)) == p
    leaf = reports[0].leaf
    assert pickle.loads(pickle.dumps(leaf)) == leaf
