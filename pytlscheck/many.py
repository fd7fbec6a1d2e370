"""Many endpoints at once: :func:`check_many`, :func:`iter_check_many`,
:func:`check_async` and :func:`check_many_async`.

One thread drives every check of a batch in the C core (``_core.Batch``,
csrc/core/conn/multi.c): non-blocking sockets under epoll, one deadline per
check, at most ``concurrency`` checks in flight, the GIL released while it
waits.  A check's timeout starts when it starts, not when it was queued.
Trust stores and TLS client contexts are made once per distinct ``trust``
/ client certificate of the batch and shared by its checks.

Threads: :func:`check_many` drives the batch in the calling thread.
:func:`iter_check_many` drives it in one helper thread, so the caller may
take its time over each report without stalling the checks in flight.
:func:`check_many_async` drives its batch in one worker thread and hands
the result to the event loop; :func:`check_async` shares one worker
thread per event loop among all its calls.  No thread per check, ever.

Full documentation: docs/many.md.
"""
from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import sys
import queue
import threading
import time
import weakref
from datetime import datetime, timedelta, timezone
from typing import (Any, Callable, Dict, Generator, Hashable, Iterable, List, Mapping,
                    Optional, Sequence, Tuple, Union)

from . import _core, _defaults
from ._target import _port, _quote, _starttls_arg, normalize_hostname, parse_target
from .api import TrustInput, _client, _window
from .report import Report

__all__ = ["check_many", "iter_check_many", "check_async", "check_many_async",
           "DEFAULT_CONCURRENCY", "ASYNC_CONCURRENCY"]

#: Checks in flight at once in a batch, unless ``concurrency=`` says otherwise.
DEFAULT_CONCURRENCY = 256
#: Checks of :func:`check_async` in flight at once per event loop; more wait
#: in a queue (each one's timeout starts when it starts).
ASYNC_CONCURRENCY = 256

#: The options a target may set for itself in a ``(target, options)`` pair.
TARGET_OPTIONS = ("port", "server_name", "trust", "timeout", "min_days", "min_remaining",
                  "client_cert", "client_key", "starttls", "probe")

# How long the driver waits in C before looking at signals, cancellation
# and the queue again (seconds).
_WAIT = 0.1
# iter_check_many: completed reports waiting for the consumer, at most
# max(this, concurrency).
_ITER_QUEUE_MIN = 64
# How many invalid targets the ValueError message lists.
_SHOW_INVALID = 20

Target = Union[str, Tuple[str, Mapping[str, Any]]]
Progress = Optional[Callable[[int, int], Any]]


# ---- preparing a batch -----------------------------------------------------

class _Job:
    """One check, ready for the core."""

    __slots__ = ("index", "label", "host", "port", "server_name", "timeout", "days",
                 "frac", "client", "trust", "starttls", "probe")

    def __init__(self, index: int, label: str, host: str, port: int,
                 server_name: Optional[str], timeout: float, days: int, frac: float,
                 client: Any, trust: Tuple[str, Tuple[str, ...]],
                 starttls: Optional[str] = None, probe: bool = False) -> None:
        self.index = index
        self.label = label
        self.host = host
        self.port = port
        self.server_name = server_name
        self.timeout = timeout
        self.days = days
        self.frac = frac
        self.client = client
        self.trust = trust          # (description, sources) of the store
        self.starttls = starttls
        self.probe = probe

    def add_to(self, batch: Any, tag: int) -> None:
        batch.add(tag, self.client, self.host, self.port, self.server_name, self.timeout,
                  self.days, self.frac, starttls=self.starttls, probe=self.probe)


_timeout = _defaults.timeout_seconds


def _key(value: Any) -> Hashable:
    """A cache key for an option value: the value when hashable and cheap,
    else the object's identity (the caller keeps the object alive)."""
    if value is None or isinstance(value, (str, bytes, int, float)):
        return (type(value).__name__, value)
    if isinstance(value, os.PathLike):
        return ("path", os.fspath(value))
    return ("id", id(value))


class _Settings:
    """Validated options shared by the targets that use them."""

    __slots__ = ("port", "server_name", "timeout", "days", "frac", "client", "trust", "starttls",
                 "probe")

    def __init__(self, opts: Mapping[str, Any],
                 clients: Dict[Hashable, Tuple[Any, Tuple[str, Tuple[str, ...]]]]) -> None:
        port = opts.get("port")
        self.port = _port(port, "port") if port is not None else None
        sni = opts.get("server_name")
        self.server_name = (normalize_hostname(sni, "server_name")[0]
                            if sni is not None else None)
        self.starttls = opts.get("starttls")
        _starttls_arg(self.starttls)     # a bad batch-wide value raises here
        self.probe = bool(opts.get("probe", False))
        self.timeout = _timeout(opts.get("timeout", _defaults.TIMEOUT))
        self.days, self.frac = _window(opts.get("min_days", _defaults.MIN_DAYS), opts.get("min_remaining"))
        trust, cert, key = opts.get("trust"), opts.get("client_cert"), opts.get("client_key")
        ckey = (_key(trust), _key(cert), _key(key))
        made = clients.get(ckey)
        if made is None:
            store, client = _client(trust, cert, key)
            made = clients[ckey] = (client, (store.description, store.sources))
        self.client, self.trust = made


class InvalidTargets(ValueError):
    """Raised before any check starts when some targets are not valid.

    ``invalid`` lists every one as ``(index, target, message)``.  A
    ``ValueError``: ``except ValueError`` catches it."""

    def __init__(self, invalid: List[Tuple[int, Any, str]], total: int) -> None:
        self.invalid = invalid
        lines = [f"  #{i}: {_quote(t) if isinstance(t, str) else repr(t)}: {msg}"
                 for i, t, msg in invalid[:_SHOW_INVALID]]
        if len(invalid) > _SHOW_INVALID:
            lines.append(f"  ... and {len(invalid) - _SHOW_INVALID} more (see .invalid)")
        n = len(invalid)
        super().__init__(
            f"{n} of {total} target{'s' if total != 1 else ''} "
            f"{'is' if n == 1 else 'are'} not valid, so no check was started "
            "(fix or drop them; indexes count from 0):\n" + "\n".join(lines))


def _prepare(targets: Iterable[Target], options: Mapping[str, Any]) -> List[_Job]:
    """Validates every target and its options; raises InvalidTargets
    listing all the bad ones, or the options' own error for a bad
    batch-wide option (as check() would)."""
    if isinstance(targets, (str, bytes)):
        raise TypeError("targets must be an iterable of targets (a list of 'host:port' "
                        "strings, ...), not a single string")
    clients: Dict[Hashable, Tuple[Any, Tuple[str, Tuple[str, ...]]]] = {}
    base = _Settings(options, clients)    # a bad batch-wide option raises here
    derived: Dict[Hashable, _Settings] = {}
    keep: List[Any] = []                  # keeps id()-keyed option values alive
    jobs: List[_Job] = []
    invalid: List[Tuple[int, Any, str]] = []
    for index, item in enumerate(targets):
        try:
            target, own = _split(item)
            st = base
            if own:
                merged = dict(options)
                merged.update(own)
                key = tuple(sorted((k, _key(v)) for k, v in own.items()))
                st = derived.get(key)  # type: ignore[assignment]
                if st is None:
                    st = derived[key] = _Settings(merged, clients)
                    keep.append(own)
            tgt = parse_target(target, st.port, st.starttls)
            jobs.append(_Job(index, target, tgt.host, tgt.port, st.server_name, st.timeout,
                             st.days, st.frac, st.client, st.trust, tgt.starttls, st.probe))
        except (ValueError, TypeError, OSError) as e:
            invalid.append((index, item, str(e)))
    if invalid:
        raise InvalidTargets(invalid, len(jobs) + len(invalid))
    return jobs


def _split(item: Any) -> Tuple[str, Optional[Mapping[str, Any]]]:
    if isinstance(item, str):
        return item, None
    if isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[1], Mapping):
        target, own = item
        unknown = sorted(set(own) - set(TARGET_OPTIONS))
        if unknown:
            raise ValueError(f"unknown option{'s' if len(unknown) > 1 else ''} "
                             f"{', '.join(map(repr, unknown))}; a target may set "
                             f"{', '.join(TARGET_OPTIONS)}")
        if not isinstance(target, str):
            raise TypeError(f"the target must be str, not {type(target).__name__}")
        return target, own
    raise TypeError("a target must be a str ('host', 'host:port', an https:// URL) or a "
                    f"(target, options dict) pair, not {type(item).__name__}")


def _options(port: Optional[int], server_name: Optional[str], trust: TrustInput,
             timeout: float, min_days: Optional[int], min_remaining: Optional[float],
             client_cert: Any, client_key: Any, starttls: Any = None,
             probe: bool = False) -> Dict[str, Any]:
    return {"port": port, "server_name": server_name, "trust": trust, "timeout": timeout,
            "min_days": min_days, "min_remaining": min_remaining,
            "client_cert": client_cert, "client_key": client_key, "starttls": starttls,
            "probe": probe}


def _concurrency(value: Any, n: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"concurrency must be an int, not {type(value).__name__}")
    if value < 1:
        raise ValueError(f"concurrency must be at least 1, not {value}")
    return max(1, min(value, n))


def _report(job: _Job, data: Any) -> Report:
    if isinstance(data, BaseException):
        # The check could not run at all (no memory, no socket left): a
        # local failure, not the endpoint's; say which target it hit.
        if sys.version_info >= (3, 11):     # exception notes are 3.11's
            data.add_note(f"while checking {job.label!r} (target #{job.index})")
        raise data
    timings = data.timings
    started = datetime.now(timezone.utc) - timedelta(milliseconds=timings["total"] or 0.0)
    report = Report(data, trust=job.trust[0], checked_at=started, trust_store=job.trust[1])
    report.timings = timings        # made already: kept rather than made twice
    return report


# ---- driving a batch -------------------------------------------------------

def _drive(jobs: Sequence[_Job], concurrency: int,
           stop: Optional[threading.Event] = None,
           on_batch: Optional[Callable[[Any], None]] = None) -> Generator[Tuple[_Job, Any], None, None]:
    """Runs the jobs on one _core.Batch in the calling thread and yields
    (job, _core.Result or exception) as checks complete.  Jobs are handed
    to the core a little ahead of need, so a huge batch does not sit in C
    memory twice.  Closes the batch (every socket) however it ends."""
    n = len(jobs)
    if n == 0:
        return
    batch = _core.Batch(_concurrency(concurrency, n))
    if on_batch is not None:
        on_batch(batch)
    ahead = 2 * batch.stats()["concurrency"]
    added = done = 0
    try:
        while done < n:
            while added < n and added - done < ahead:
                jobs[added].add_to(batch, added)
                added += 1
            for tag, data in batch.run(_WAIT):
                done += 1
                yield jobs[tag], data
            if stop is not None and stop.is_set():
                return
    finally:
        batch.close()


def check_many(targets: Iterable[Target], *, concurrency: int = DEFAULT_CONCURRENCY,
               progress: Progress = None, port: Optional[int] = None,
               server_name: Optional[str] = None, trust: TrustInput = None,
               timeout: float = _defaults.TIMEOUT, min_days: Optional[int] = _defaults.MIN_DAYS,
               min_remaining: Optional[float] = None, client_cert: Any = None,
               client_key: Any = None, starttls: Union[None, bool, str] = None, probe: bool = False) -> List[Report]:
    """Checks many TLS endpoints at once; returns their reports in input order.

    ``targets``: any iterable of targets as for :func:`~pytlscheck.check`
    (``host``, ``host:port``, ``[v6]:port``, an IP address, an ``https://``
    URL), or of ``(target, options)`` pairs whose dict overrides the
    batch's options for that target: ``port``, ``server_name``, ``trust``,
    ``timeout``, ``min_days``, ``min_remaining``, ``client_cert``,
    ``client_key``, ``starttls``, ``probe``.  HTTPS, SMTP, PostgreSQL, ... targets mix
    freely: each one's STARTTLS dialogue runs in the same driver.  It is read to the end before anything starts.

    ``concurrency``: at most this many checks in flight (default 256).
    ``progress``: called as ``progress(done, total)`` after each check
    completes, in the calling thread (keep it quick: the checks in flight
    wait meanwhile).  The other options are :func:`~pytlscheck.check`'s,
    for every target.

    Every target is validated first: when some are not valid, an
    :class:`InvalidTargets` (a ``ValueError``) lists them all and no check
    starts.  TLS, certificate and network problems are in the reports,
    never raised.  Ctrl-C stops the batch within 0.1 s, closing every
    socket, and raises ``KeyboardInterrupt``.  More than the open-file
    limit allows in flight: the soft limit is raised to the hard limit, or
    an ``OSError`` (EMFILE) names the limit.
    """
    jobs = _prepare(targets, _options(port, server_name, trust, timeout, min_days,
                                      min_remaining, client_cert, client_key, starttls, probe))
    n = len(jobs)
    reports: List[Optional[Report]] = [None] * n
    done = 0
    # closing(): an exception in here (progress, Ctrl-C) closes the batch
    # now, not when the traceback holding this frame goes.
    with contextlib.closing(_drive(jobs, concurrency)) as results:
        for job, data in results:
            reports[job.index] = _report(job, data)
            done += 1
            if progress is not None:
                progress(done, n)
    return reports  # type: ignore[return-value]


def iter_check_many(targets: Iterable[Target], *, concurrency: int = DEFAULT_CONCURRENCY,
                    progress: Progress = None, port: Optional[int] = None,
                    server_name: Optional[str] = None, trust: TrustInput = None,
                    timeout: float = _defaults.TIMEOUT, min_days: Optional[int] = _defaults.MIN_DAYS,
                    min_remaining: Optional[float] = None, client_cert: Any = None,
                    client_key: Any = None,
                    starttls: Union[None, bool, str] = None,
                    probe: bool = False) -> Generator[Tuple[int, Report], None, None]:
    """Like :func:`check_many`, but yields ``(index, report)`` as each
    check completes (``index`` is the target's position in ``targets``).

    The targets are validated before the first item is produced.  The
    batch runs in one helper thread, so the loop body may take its time
    without stalling the checks in flight (reports wait in a queue).  The
    queue is bounded: while it is full no new check starts, so a slow
    loop body holds at most a few times ``concurrency`` reports in memory.
    ``progress(done, total)`` is called in the caller's thread just before
    each report is yielded.  Leaving the loop early (``break``, an
    exception, Ctrl-C) or closing the iterator stops the batch and closes
    every socket.
    """
    jobs = _prepare(targets, _options(port, server_name, trust, timeout, min_days,
                                      min_remaining, client_cert, client_key, starttls, probe))
    k = _concurrency(concurrency, max(1, len(jobs)))
    return _iterate(jobs, k, progress)


_END = object()


def _iterate(jobs: List[_Job], concurrency: int, progress: Progress) -> Generator[Tuple[int, Report], None, None]:
    n = len(jobs)
    if n == 0:
        return
    # Bounded: a consumer slower than the checks holds the helper thread
    # here, which then starts no new check (the ones in flight finish in
    # the core and wait there), so memory stays bounded by about
    # 4 x concurrency reports however slow the loop body is.
    out: "queue.Queue[Any]" = queue.Queue(maxsize=max(_ITER_QUEUE_MIN, concurrency))
    stop = threading.Event()
    holder: List[Any] = []

    def hand_over(item: Any) -> bool:
        """Puts item for the consumer; False once it has gone."""
        while not stop.is_set():
            try:
                out.put(item, timeout=_WAIT)
                return True
            except queue.Full:
                pass
        return False

    def work() -> None:
        try:
            with contextlib.closing(_drive(jobs, concurrency, stop, holder.append)) as results:
                for job, data in results:
                    if not hand_over((job, data)):
                        return
        except BaseException as e:  # noqa: BLE001 - handed to the consumer
            hand_over(e)
        hand_over(_END)

    worker = threading.Thread(target=work, name="pytlscheck-batch", daemon=True)
    worker.start()
    done = 0
    try:
        while True:
            item = out.get()
            if item is _END:
                break
            if isinstance(item, BaseException):
                raise item
            job, data = item
            report = _report(job, data)
            done += 1
            if progress is not None:
                progress(done, n)
            yield job.index, report
    finally:
        stop.set()
        for b in holder:
            b.wake()
        worker.join()


# ---- asyncio ---------------------------------------------------------------

async def check_many_async(targets: Iterable[Target], *,
                           concurrency: int = DEFAULT_CONCURRENCY,
                           progress: Progress = None, port: Optional[int] = None,
                           server_name: Optional[str] = None, trust: TrustInput = None,
                           timeout: float = _defaults.TIMEOUT, min_days: Optional[int] = _defaults.MIN_DAYS,
                           min_remaining: Optional[float] = None, client_cert: Any = None,
                           client_key: Any = None,
                           starttls: Union[None, bool, str] = None, probe: bool = False) -> List[Report]:
    """:func:`check_many` for asyncio: ``await check_many_async(targets)``.

    The batch (validation included) runs in one worker thread that drives
    every check in the C core; the event loop is never blocked and gets
    the list of reports (input order) when the batch is done.
    ``progress(done, total)`` is called on the event loop's thread.
    Cancelling the awaiting task stops the batch within 0.1 s and closes
    every socket.
    """
    loop = asyncio.get_running_loop()
    opts = _options(port, server_name, trust, timeout, min_days, min_remaining,
                    client_cert, client_key, starttls, probe)
    fut: "asyncio.Future[List[Report]]" = loop.create_future()
    stop = threading.Event()
    holder: List[Any] = []

    def settle(ok: bool, value: Any) -> None:
        if not fut.done():
            if ok:
                fut.set_result(value)
            else:
                fut.set_exception(value)

    def report_progress(counts: List[int], total: int) -> None:
        if progress is not None and not fut.done():
            for c in counts:
                progress(c, total)

    def work() -> None:
        try:
            jobs = _prepare(targets, opts)
            n = len(jobs)
            reports: List[Optional[Report]] = [None] * n
            done = 0
            counts: List[int] = []
            last = time.monotonic()
            with contextlib.closing(_drive(jobs, concurrency, stop, holder.append)) as results:
                for job, data in results:
                    reports[job.index] = _report(job, data)
                    done += 1
                    counts.append(done)
                    # One hand-over to the loop per burst of completions.
                    now = time.monotonic()
                    if progress is not None and (now - last > 0.05 or done == n):
                        loop.call_soon_threadsafe(report_progress, counts, n)
                        counts, last = [], now
            if progress is not None and counts:
                loop.call_soon_threadsafe(report_progress, counts, n)
            loop.call_soon_threadsafe(settle, True, reports)
        except BaseException as e:  # noqa: BLE001 - handed to the awaiting task
            try:
                loop.call_soon_threadsafe(settle, False, e)
            except RuntimeError:
                pass            # the loop is closed: nobody is waiting

    worker = threading.Thread(target=work, name="pytlscheck-async-batch", daemon=True)
    worker.start()
    try:
        return await fut
    finally:
        if not fut.done() or fut.cancelled():
            stop.set()
            for b in holder:
                b.wake()


class _LoopDriver:
    """The one worker thread and _core.Batch that serve every
    check_async() call on one event loop.  The thread exits when nothing
    is left to do and is started again by the next call."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        # Weak: the driver lives in a WeakKeyDictionary keyed by the loop,
        # and must not keep its own key alive.
        self.loop_ref = weakref.ref(loop)
        self.batch = _core.Batch(ASYNC_CONCURRENCY)
        self.lock = threading.Lock()
        self.waiting: Dict[int, Tuple["asyncio.Future[Report]", _Job]] = {}
        self.thread: Optional[threading.Thread] = None
        self.tags = itertools.count()

    def submit(self, job: _Job) -> "asyncio.Future[Report]":
        fut: "asyncio.Future[Report]" = asyncio.get_running_loop().create_future()
        tag = next(self.tags)
        with self.lock:
            job.add_to(self.batch, tag)
            self.waiting[tag] = (fut, job)
            if self.thread is None:
                self.thread = threading.Thread(target=self._run, name="pytlscheck-async",
                                               daemon=True)
                self.thread.start()
        fut.add_done_callback(lambda f: self._forget(tag) if f.cancelled() else None)
        return fut

    def _forget(self, tag: int) -> None:
        with self.lock:
            if self.waiting.pop(tag, None) is not None:
                self.batch.cancel(tag)

    def _run(self) -> None:
        while True:
            results = self.batch.run(_WAIT)
            settled: List[Tuple[Any, bool, Any]] = []
            with self.lock:
                entries = [(self.waiting.pop(tag, None), data) for tag, data in results]
            for entry, data in entries:
                if entry is None:
                    continue        # cancelled meanwhile
                fut, job = entry
                try:
                    settled.append((fut, True, _report(job, data)))
                except Exception as e:  # noqa: BLE001 - the check could not run
                    settled.append((fut, False, e))
            if settled:
                try:
                    loop = self.loop_ref()
                    if loop is None:
                        raise RuntimeError("the event loop is gone")
                    loop.call_soon_threadsafe(_settle_all, settled)
                    del loop
                except RuntimeError:
                    # The loop is closed: nobody will await these.
                    with self.lock:
                        for tag in list(self.waiting):
                            self.batch.cancel(tag)
                        self.waiting.clear()
            with self.lock:
                # Cancelled checks are dropped by the next run(): stay
                # until the core holds nothing.
                st = self.batch.stats()
                if not self.waiting and st["queued"] == 0 and st["in_flight"] == 0:
                    self.thread = None
                    return


def _settle_all(settled: List[Tuple["asyncio.Future[Report]", bool, Any]]) -> None:
    for fut, ok, value in settled:
        if fut.done():
            continue
        if ok:
            fut.set_result(value)
        else:
            fut.set_exception(value)


_DRIVERS: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopDriver]" = \
    weakref.WeakKeyDictionary()
_DRIVERS_LOCK = threading.Lock()


def _driver(loop: asyncio.AbstractEventLoop) -> _LoopDriver:
    with _DRIVERS_LOCK:
        d = _DRIVERS.get(loop)
        if d is None:
            d = _DRIVERS[loop] = _LoopDriver(loop)
        return d


async def check_async(target: str, port: Optional[int] = None, *,
                      server_name: Optional[str] = None, trust: TrustInput = None,
                      timeout: float = _defaults.TIMEOUT, min_days: Optional[int] = _defaults.MIN_DAYS,
                      min_remaining: Optional[float] = None, client_cert: Any = None,
                      client_key: Any = None, starttls: Union[None, bool, str] = None,
                      probe: bool = False) -> Report:
    """:func:`~pytlscheck.check` for asyncio: ``await check_async(target)``.

    Same arguments, same report, same errors (bad arguments raise at once,
    before anything is queued).  Every ``check_async`` call on an event
    loop is driven by one shared worker thread (started on demand, gone
    when idle) with at most :data:`ASYNC_CONCURRENCY` checks in flight; the
    loop itself never blocks.  Cancelling the call (``asyncio.wait_for``,
    task cancellation) drops the check and closes its socket.
    """
    opts = _options(port, server_name, trust, timeout, min_days, min_remaining,
                    client_cert, client_key, starttls, probe)
    clients: Dict[Hashable, Tuple[Any, Tuple[str, Tuple[str, ...]]]] = {}
    st = _Settings(opts, clients)
    tgt = parse_target(target, port, starttls)
    job = _Job(0, target, tgt.host, tgt.port, st.server_name, st.timeout, st.days, st.frac,
               st.client, st.trust, tgt.starttls, st.probe)
    return await _driver(asyncio.get_running_loop()).submit(job)
