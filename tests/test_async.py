"""check_async / check_many_async: the same reports as check(), the event
loop never blocked (a ticker keeps ticking through a batch), one thread
per batch or per loop (never one per check), cancellation closing the
sockets, progress on the loop's thread."""
from __future__ import annotations

import asyncio
import socket
import threading
import time

import pytest

import pytlscheck
from fds import fd_set, open_fds
from pki import pem_of
from pytlscheck import InvalidTargets, check_async, check_many_async
from servers import tls_server

MARGIN = 2.0


def signature(r):
    return (r.ok, tuple((p.kind, p.depth, p.message) for p in r.problems), r.target,
            r.protocol, r.address, r.port, r.server_name, r.hostname,
            tuple(c.fingerprint_sha256 for c in r.chain))


@pytest.fixture(scope="module")
def pki(root, inter):
    leaf = inter.leaf("localhost", "127.0.0.1")
    return {"root": root, "chain": pem_of(leaf, inter), "key": leaf.key_pem}


@pytest.fixture(scope="module")
def server(pki):
    with tls_server(pki["chain"], pki["key"]) as addr:
        yield addr


@pytest.fixture
def listener():
    """A port whose connections wait in the backlog, never answered."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(512)
    yield "127.0.0.1", s.getsockname()[1]
    s.close()


class Ticker:
    """Counts 10 ms sleeps on the loop and the longest gap between them."""

    def __init__(self) -> None:
        self.ticks = 0
        self.max_gap = 0.0
        self.task = None

    async def _run(self) -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.01)
            now = time.monotonic()
            self.max_gap = max(self.max_gap, now - last)
            last = now
            self.ticks += 1

    def __enter__(self) -> "Ticker":
        self.task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc) -> None:
        self.task.cancel()


def test_check_async_gives_check_s_report(pki, server, other_root):
    host, port = server

    async def main():
        a = await check_async(f"{host}:{port}", trust=pki["root"].pem)
        b = await check_async(host, port, server_name="localhost", trust=other_root.pem)
        return a, b

    a, b = asyncio.run(main())
    assert signature(a) == signature(pytlscheck.check(f"{host}:{port}", trust=pki["root"].pem))
    assert signature(b) == signature(pytlscheck.check(host, port, server_name="localhost",
                                                      trust=other_root.pem))
    assert a.ok and not b.ok


def test_bad_arguments_raise_before_anything_is_queued():
    async def main():
        with pytest.raises(ValueError):
            await check_async("http://example.com")
        with pytest.raises(ValueError):
            await check_async("localhost:443", timeout=-1)
        with pytest.raises(InvalidTargets) as ei:
            await check_many_async(["localhost:443", "bad host"])
        return ei.value

    e = asyncio.run(main())
    assert [i for i, _, _ in e.invalid] == [1]


def test_loop_keeps_ticking_through_a_batch(pki, server, listener):
    """20 good and 20 silent targets (1 s timeout): the ticker on the loop
    keeps its 10 ms rhythm while the batch runs in its worker thread."""
    host, port = server
    h2, p2 = listener

    async def main():
        with Ticker() as t:
            t0 = time.monotonic()
            reports = await check_many_async([f"{host}:{port}"] * 20 + [f"{h2}:{p2}"] * 20,
                                             trust=pki["root"].pem, timeout=1.0)
            took = time.monotonic() - t0
        return reports, took, t

    reports, took, t = asyncio.run(main())
    assert [r.ok for r in reports] == [True] * 20 + [False] * 20
    assert all(r.kinds == ["handshake_timeout"] for r in reports[20:])
    assert took < 1.0 + MARGIN
    assert t.ticks >= 30                  # ~100 expected in a second
    assert t.max_gap < 0.25               # never blocked for long


def test_gathered_check_async_share_one_thread(pki, server, listener):
    """60 check_async calls at once: one extra thread in all, the loop
    keeps ticking, and the silent ones time out together."""
    host, port = server
    h2, p2 = listener

    def ours() -> int:     # (the test server runs a thread per connection)
        return sum(t.name.startswith("pytlscheck") for t in threading.enumerate())

    async def main():
        peak = 0

        async def watch():
            nonlocal peak
            while True:
                peak = max(peak, ours())
                await asyncio.sleep(0.02)

        w = asyncio.get_running_loop().create_task(watch())
        with Ticker() as t:
            t0 = time.monotonic()
            reports = await asyncio.gather(
                *[check_async(f"{host}:{port}", trust=pki["root"].pem) for _ in range(30)],
                *[check_async(f"{h2}:{p2}", timeout=1.0) for _ in range(30)])
            took = time.monotonic() - t0
        w.cancel()
        return reports, took, t, peak

    reports, took, t, peak = asyncio.run(main())
    assert all(r.ok for r in reports[:30])
    assert all(r.kinds == ["handshake_timeout"] for r in reports[30:])
    assert took < 1.0 + MARGIN
    assert peak == 1
    assert t.max_gap < 0.25


def test_cancelling_check_async_closes_its_socket(listener):
    h, p = listener

    async def main():
        fds = open_fds()           # the loop's own descriptors included
        t0 = time.monotonic()
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(check_async(f"{h}:{p}", timeout=30), 0.3)
        took = time.monotonic() - t0
        # The driver drops the check at its next wake-up (<= 0.1 s).
        for _ in range(100):
            if open_fds() <= fds + 2:        # the loop driver's epoll + eventfd
                break
            await asyncio.sleep(0.02)
        return took, open_fds(), fds

    took, after, fds = asyncio.run(main())
    assert took < 1.0
    assert after <= fds + 2


def test_cancelling_check_many_async_stops_the_batch(listener):
    h, p = listener

    async def main():
        fds = fd_set()
        task = asyncio.get_running_loop().create_task(
            check_many_async([f"{h}:{p}"] * 50, timeout=30, concurrency=50))
        await asyncio.sleep(0.3)
        t0 = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        took = time.monotonic() - t0
        for _ in range(100):
            if not fd_set() - fds:
                break
            await asyncio.sleep(0.02)
        return took, fd_set() - fds, fds

    took, new, fds = asyncio.run(main())
    assert took < 1.0
    assert not new, f"descriptors left open: {new}"


def test_progress_runs_on_the_loop_thread(pki, server):
    host, port = server
    calls = []

    async def main():
        loop_thread = threading.get_ident()

        def progress(done, total):
            calls.append((done, total, threading.get_ident() == loop_thread))

        return await check_many_async([f"{host}:{port}"] * 15, trust=pki["root"].pem,
                                      concurrency=4, progress=progress)

    reports = asyncio.run(main())
    assert all(r.ok for r in reports)
    assert [(d, t) for d, t, _ in calls] == [(i, 15) for i in range(1, 16)]
    assert all(on_loop for _, _, on_loop in calls)


def test_several_loops_in_threads(pki, server):
    """Each event loop (here one per thread) gets its own driver."""
    host, port = server
    results = {}

    def run(n):
        async def main():
            return await asyncio.gather(*[check_async(f"{host}:{port}", trust=pki["root"].pem)
                                          for _ in range(5)])
        results[n] = asyncio.run(main())

    threads = [threading.Thread(target=run, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results) == [0, 1, 2]
    assert all(r.ok for rs in results.values() for r in rs)


def test_finished_loops_leave_nothing_behind(pki, server):
    """asyncio.run() after asyncio.run(): each loop's driver (its epoll and
    eventfd) goes with its loop."""
    import gc
    host, port = server

    async def one():
        return await check_async(f"{host}:{port}", trust=pki["root"].pem)

    assert asyncio.run(one()).ok
    gc.collect()
    fds = open_fds()
    for _ in range(5):
        assert asyncio.run(one()).ok
    for _ in range(50):
        gc.collect()
        if open_fds() <= fds:
            break
        time.sleep(0.02)
    assert open_fds() <= fds
