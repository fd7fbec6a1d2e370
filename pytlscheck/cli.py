"""The ``pytlscheck`` command (also ``python -m pytlscheck``).

::

    pytlscheck TARGET... [--from FILE|-] [--trust NAME|FILE|DIR] [--server-name NAME]
                         [--min-days N] [--min-remaining F] [--timeout S]
                         [--concurrency K] [--client-cert FILE --client-key FILE]
                         [--json | --jsonl]
    pytlscheck file CHAIN.pem [--host NAME] [--trust NAME|FILE|DIR] [--at DATE]
                              [--min-days N] [--min-remaining F] [--json]
    pytlscheck demo [--json] [--serve]

Exit status (docs/cli.md): 0 every check passed with no warning, 1 only
warnings (e.g. a certificate expires within --min-days), 2 at least one
error, 3 could not run (bad arguments, unreadable file).  ``demo`` exits 0
when every lab endpoint got the diagnosis it was built to produce.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any, Callable, Dict, List, NoReturn, Optional, Sequence, TextIO, Union

from . import __version__, _defaults, _text, _words
from ._core import OPENSSL_VERSION
from ._target import STARTTLS_PROTOCOLS, _quote, _starttls_arg as _starttls_value
from .report import SCHEMA_VERSION

__all__ = ["main", "EXIT_OK", "EXIT_WARNINGS", "EXIT_ERRORS", "EXIT_USAGE"]

EXIT_OK = 0
EXIT_WARNINGS = 1
EXIT_ERRORS = 2
EXIT_USAGE = 3

#: Concurrent checks at most for the demo (each one thread blocked in the
#: C core with the GIL released).  Target lists use check_many instead.
MAX_WORKERS = 32
#: Checks in flight at once for a target list (--concurrency).
DEFAULT_CONCURRENCY = 256
#: Show the progress line only when the work takes longer than this.
PROGRESS_AFTER = 1.0

class UsageError(Exception):
    """Bad arguments or unusable input: exit 3 with one line."""


class _Parser(argparse.ArgumentParser):
    """argparse with exit status 3 and a one-line error after the usage."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _timeout_arg(text: str) -> float:
    """--timeout: the library's one rule and wording (_defaults.timeout_seconds)."""
    try:
        value: object = float(text)
    except ValueError:
        value = text
    try:
        return _defaults.timeout_seconds(value)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _starttls_arg(text: str) -> object:
    """--starttls: a protocol name or none (the library's one rule and wording)."""
    try:
        return _starttls_value(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e).replace("starttls=", "--starttls ")
                                         .replace("False (TLS", "none (TLS")) from None


def _concurrency(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def _days(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be 0 or more days")
    return value


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(
            f"{text!r} must be a fraction of the validity period, from 0 to below 1 (e.g. 0.33)")
    return value


def _date(text: str) -> datetime:
    """ISO 8601 date or date-time; no zone means UTC."""
    raw = text.strip()
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date: use YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][Z]") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--trust", metavar="NAME|FILE|DIR", action="append",
                   help="trust these roots instead of the system trust store: a store "
                        "name ('system', 'certifi': Mozilla's bundle from the certifi "
                        "package), a PEM bundle or a directory of PEM files; repeat it "
                        "to trust several")
    p.add_argument("--min-days", metavar="N", type=_days, default=_defaults.MIN_DAYS,
                   help="warn when a certificate expires in fewer than N days (default 30)")
    p.add_argument("--min-remaining", metavar="F", type=_fraction, default=None,
                   help="also warn when less than this fraction of a certificate's "
                        "validity period remains (e.g. 0.33 for short-lived certificates)")
    p.add_argument("--json", action="store_true",
                   help="print one JSON document instead of text "
                        "(its layout: pytlscheck --json-schema)")


class _PrintSchema(argparse.Action):
    """--json-schema: prints the schema shipped in the package (generated
    from docs/json-schema.md by tools/gen_json_schema.py) and exits 0."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kw: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kw)

    def __call__(self, parser: argparse.ArgumentParser, namespace: Any, values: Any,
                 option_string: Optional[str] = None) -> None:
        from importlib.resources import files
        sys.stdout.write(files("pytlscheck").joinpath("json_schema.json").read_text("utf-8"))
        parser.exit(0)


def build_parsers() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser, argparse.ArgumentParser]:
    epilog = """examples:
  pytlscheck demo                              the built-in lab of broken servers, offline
  pytlscheck api.example.com                   one endpoint, explained
  pytlscheck 10.0.0.5:8443 --server-name api.internal --trust ca.pem
  pytlscheck --from hosts.txt --jsonl          many endpoints, one JSON line each
  pytlscheck file fullchain.pem --host api.example.com   a chain file, offline

exit status: 0 all checks passed, 1 only warnings, 2 at least one error,
3 could not run (bad arguments), 130 interrupted (Ctrl-C).

subcommands: 'pytlscheck file CHAIN.pem' verifies a chain file offline;
'pytlscheck demo' runs the built-in lab.  The JSON layout (--json, --jsonl):
'pytlscheck --json-schema' prints its JSON Schema, every key explained."""
    check = _Parser(prog="pytlscheck",
                    usage="%(prog)s [options] TARGET...   (or: %(prog)s file|demo ...; -h for help)",
                    description="Check TLS endpoints and explain, in plain words, what is "
                                "wrong and how to fix it.",
                    epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter)
    check.add_argument("--version", action="version",
                       version=f"pytlscheck {__version__} ({OPENSSL_VERSION})")
    check.add_argument("--json-schema", action=_PrintSchema,
                       help="print the JSON Schema of --json / --jsonl output and exit")
    check.add_argument("targets", nargs="*", metavar="TARGET",
                       help="host, host:port, [v6addr]:port, an IP, or an https:// URL")
    check.add_argument("--from", dest="targets_from", metavar="FILE", action="append",
                       default=[],
                       help="also read targets from FILE ('-' for stdin), one per line; "
                            "blank lines and '#' comments are skipped (may be repeated)")
    check.add_argument("--concurrency", metavar="K", type=_concurrency,
                       default=DEFAULT_CONCURRENCY,
                       help=f"checks in flight at once (default {DEFAULT_CONCURRENCY})")
    check.add_argument("--jsonl", action="store_true",
                       help="print one JSON line per target as each check completes "
                            "(the Report layout of docs/json-schema.md plus \"index\")")
    check.add_argument("--server-name", metavar="NAME",
                       help="the name to send (SNI) and verify, when it differs from "
                            "where you connect")
    check.add_argument("--starttls", metavar="PROTO", type=_starttls_arg, default=None,
                       help="speak PROTO in plain text before TLS: "
                            + ", ".join(STARTTLS_PROTOCOLS) + ", or none for TLS from the "
                            "first byte (default: chosen by the URL scheme, smtp://..., "
                            "else by the port: 25 and 587 smtp, 5432 postgres, ...)")
    check.add_argument("--timeout", metavar="S", type=_timeout_arg, default=_defaults.TIMEOUT,
                       help="seconds allowed for each check: DNS, connect and handshake "
                            "(default 10)")
    check.add_argument("--probe", action="store_true",
                       help="also survey the endpoint: round trips, RTT and cold start, "
                            "resumption, 0-RTT, TLS versions, cipher suites and groups "
                            "accepted (at most 32 short connections, one at a time; "
                            "docs/probe.md)")
    check.add_argument("--client-cert", metavar="FILE",
                       help="client certificate (PEM, with its chain) for mutual TLS")
    check.add_argument("--client-key", metavar="FILE",
                       help="private key (PEM) of --client-cert, when that file "
                            "does not hold it")
    _add_common(check)

    file_p = _Parser(prog="pytlscheck file",
                     usage="%(prog)s [options] CHAIN.pem   (-h for help)",
                     description="Verify a certificate chain file offline (leaf first), "
                                 "e.g. in a deploy pipeline before it ships.",
                     epilog="exit status: 0 ok, 1 only warnings, 2 errors, 3 could not run.")
    file_p.add_argument("chain", metavar="CHAIN.pem",
                        help="PEM bundle (leaf first, then intermediates) or one DER certificate")
    file_p.add_argument("--host", metavar="NAME",
                        help="the host name (or IP) the certificate must be valid for")
    file_p.add_argument("--at", metavar="DATE", type=_date, default=None,
                        help="verify as of this date instead of now (YYYY-MM-DD or ISO 8601; "
                             "UTC unless a zone is given)")
    _add_common(file_p)

    demo = _Parser(prog="pytlscheck demo",
                   usage="%(prog)s [--json] [--serve [--root-out FILE]]",
                   description="Start the built-in lab of broken TLS servers on 127.0.0.1, "
                               "check each one, print the diagnosis, and shut it down.",
                   epilog="exit status: 0 when every lab endpoint got its expected diagnosis.")
    demo.add_argument("--json", action="store_true", help="print one JSON document")
    demo.add_argument("--serve", action="store_true",
                      help="after the diagnosis, keep the lab running until Ctrl-C so you "
                           "can point pytlscheck, curl or your own client at it")
    demo.add_argument("--root-out", metavar="FILE",
                      help="with --serve: also write the lab root certificate to FILE")
    return check, file_p, demo


# ---------------------------------------------------------------------------
# output helpers


def use_color(stream: TextIO) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set
    (https://no-color.org: any non-empty value)."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class _Progress:
    """``checked 3/40`` on stderr, only on a terminal and only once the
    work has taken more than PROGRESS_AFTER seconds; erased at the end."""

    def __init__(self, total: int, stream: TextIO = sys.stderr) -> None:
        self.total = total
        self.done = 0
        self.stream = stream
        try:
            self.enabled = total > 0 and stream.isatty()
        except (AttributeError, ValueError):
            self.enabled = False
        self.start = time.monotonic()
        self.shown = False
        self._lock = threading.Lock()

    def step(self) -> None:
        with self._lock:
            self.done += 1
            self._draw()

    def tick(self) -> None:
        with self._lock:
            self._draw()

    def _draw(self) -> None:
        if not self.enabled or time.monotonic() - self.start < PROGRESS_AFTER:
            return
        self.stream.write(f"\rchecked {self.done}/{self.total}... ")
        self.stream.flush()
        self.shown = True

    def finish(self) -> None:
        with self._lock:
            if self.shown:
                self.stream.write("\r\x1b[K")
                self.stream.flush()


def run_concurrently(func: Callable[[Any], Any], items: Sequence[Any],
                     progress: Optional[_Progress] = None) -> List[Any]:
    """func over items in a thread pool; results in input order."""
    if not items:
        return []
    workers = min(MAX_WORKERS, len(items))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pytlscheck") as pool:
        futures = [pool.submit(func, item) for item in items]
        if progress is not None:
            for f in futures:
                while True:
                    try:
                        f.result(timeout=0.2)
                        break
                    except TimeoutError:
                        progress.tick()
                    except BaseException:
                        break
                progress.step()
            progress.finish()
        return [f.result() for f in futures]


def exit_status(reports: Sequence[Any]) -> int:
    if any(not r.ok for r in reports):
        return EXIT_ERRORS
    if any(r.problems for r in reports):
        return EXIT_WARNINGS
    return EXIT_OK


def _envelope(command: str, reports: Sequence[Any], status: int,
              **extra: Any) -> Dict[str, Any]:
    doc = {
        "schema": SCHEMA_VERSION,
        "tool": "pytlscheck",
        "version": _version(),
        "command": command,
        "exit_status": status,
        "summary": {
            "total": len(reports),
            "ok": sum(1 for r in reports if r.ok and not r.problems),
            "warnings": sum(1 for r in reports if r.ok and r.problems),
            "errors": sum(1 for r in reports if not r.ok),
        },
    }
    doc.update(extra)
    doc.setdefault("results", [r.to_dict() for r in reports])
    return doc


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("pytlscheck")
    except Exception:  # not installed (running from a checkout)
        return "0+unknown"


def _print_json(doc: Dict[str, Any], out: TextIO) -> None:
    json.dump(doc, out, indent=2)
    out.write("\n")


# ---------------------------------------------------------------------------
# commands


def _readable(path: Optional[str], what: str) -> None:
    if path is not None and not os.path.exists(path):
        raise UsageError(f"{what} {path!r} does not exist")


def _trust_arg(given: Optional[List[str]]) -> Union[None, str, List[str]]:
    """The trust= of the --trust options (one value, or a list when
    repeated).  Each must be a store name or exist and, when it is a plain
    file or a directory, hold trust anchors: its error names --trust.  The
    store is kept (the API's cache), so the check itself does not load it
    again.  A pipe or device (/dev/stdin) is read once, by the check."""
    if not given:
        return None
    from . import _stores
    from .api import _trust_store
    for path in given:
        if path not in _stores.STORE_NAMES and not os.path.exists(path):
            raise UsageError(f"--trust {path!r} is neither a trust store name "
                             f"({_stores.names_phrase()}) nor an existing file or directory")
        if path not in _stores.STORE_NAMES and not (os.path.isfile(path) or os.path.isdir(path)):
            continue
        try:
            _trust_store(path)
        except (ValueError, TypeError, OSError) as e:
            words = _words.exception_line(e)
            raise UsageError(f"--trust: {words}" if path in words
                             else f"--trust {path!r}: {words}") from None
    return given[0] if len(given) == 1 else list(given)


def read_targets(args: argparse.Namespace,
                 stdin: Optional[TextIO] = None) -> tuple[List[str], List[str]]:
    """The targets of the command line, then those of each --from file, with
    where each came from ("argument 2", "line 7 of hosts.txt")."""
    targets = list(args.targets)
    where = [f"argument {i + 1}" for i in range(len(targets))]
    for name in args.targets_from:
        if name == "-":
            lines = (stdin or sys.stdin).read().splitlines()
            label = "stdin"
        else:
            try:
                with open(name, encoding="utf-8") as f:
                    lines = f.read().splitlines()
            except (OSError, UnicodeDecodeError) as e:
                raise UsageError(f"--from {name!r}: {getattr(e, 'strerror', None) or e}") from None
            label = name
        for n, line in enumerate(lines, 1):
            text = line.split(" #", 1)[0].split("\t#", 1)[0].strip()
            if not text or text.startswith("#"):
                continue
            targets.append(text)
            where.append(f"line {n} of {label}")
    if not targets:
        raise UsageError("the following arguments are required: TARGET (or --from FILE)")
    return targets, where


def _invalid(e: Any, where: Sequence[str]) -> str:
    """One line naming every invalid target by where it came from."""
    shown = [f"{where[i]}: {_quote(t)}: {_words.exception_line(ValueError(msg))}" for i, t, msg in e.invalid[:5]]
    more = f"; and {len(e.invalid) - 5} more" if len(e.invalid) > 5 else ""
    n = len(e.invalid)
    return (f"{n} target{'s are' if n != 1 else ' is'} not valid, nothing was checked: "
            + "; ".join(shown) + more)


class _Ticker:
    """Redraws the progress line every 0.2 s while checks run, so a slow
    target does not leave it frozen (the checks run in C meanwhile)."""

    def __init__(self, progress: "_Progress") -> None:
        self.progress = progress
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="pytlscheck-progress",
                                       daemon=True)

    def _run(self) -> None:
        while not self.stop.wait(0.2):
            self.progress.tick()

    def __enter__(self) -> "_Ticker":
        if self.progress.enabled:
            self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop.set()
        if self.thread.is_alive():
            self.thread.join()
        self.progress.finish()


def cmd_check(args: argparse.Namespace, out: TextIO) -> int:
    import contextlib

    import pytlscheck

    if args.client_key is not None and args.client_cert is None:
        raise UsageError("--client-key needs --client-cert (the certificate it belongs to)")
    if args.json and args.jsonl:
        raise UsageError("--json and --jsonl: choose one")
    args.trust = _trust_arg(args.trust)
    _readable(args.client_cert, "--client-cert")
    _readable(args.client_key, "--client-key")
    targets, where = read_targets(args)
    kwargs = dict(server_name=args.server_name, trust=args.trust, timeout=args.timeout,
                  min_days=args.min_days, min_remaining=args.min_remaining,
                  client_cert=args.client_cert, client_key=args.client_key,
                  concurrency=args.concurrency, starttls=args.starttls,
                  probe=args.probe)
    progress = _Progress(len(targets))

    def step(done: int, total: int) -> None:
        progress.step()

    # Every target is validated before anything connects: a bad one is an
    # argument error (exit 3) naming where it came from.
    try:
        if args.jsonl:
            statuses = []
            with _Ticker(progress), contextlib.closing(
                    pytlscheck.iter_check_many(targets, progress=step, **kwargs)) as results:
                for index, report in results:
                    out.write(json.dumps({"index": index, **report.to_dict()}) + "\n")
                    out.flush()
                    statuses.append(exit_status([report]))
            return max(statuses, default=EXIT_OK)
        with _Ticker(progress):
            reports = pytlscheck.check_many(targets, progress=step, **kwargs)
    except pytlscheck.InvalidTargets as e:
        raise UsageError(_invalid(e, where)) from None
    except (ValueError, TypeError, OSError) as e:
        # only bad arguments (an unreadable --trust file...), or a
        # --concurrency above the open-file limit
        raise UsageError(_words.exception_line(e)) from None
    status = exit_status(reports)
    if args.json:
        _print_json(_envelope("check", reports, status), out)
    else:
        color = use_color(out)
        out.write("\n\n".join(_text.render_text(r, color=color) for r in reports) + "\n")
        if len(reports) > 1:
            out.write("\n" + _totals_line(reports) + "\n")
    return status


def _totals_line(reports: Sequence[Any]) -> str:
    ok = sum(1 for r in reports if r.ok and not r.problems)
    warn = sum(1 for r in reports if r.ok and r.problems)
    err = sum(1 for r in reports if not r.ok)
    return f"{len(reports)} checked: {ok} ok, {warn} with warnings, {err} failing"


def cmd_file(args: argparse.Namespace, out: TextIO) -> int:
    import pytlscheck

    _readable(args.chain, "the chain file")
    args.trust = _trust_arg(args.trust)
    try:
        report = pytlscheck.verify_chain(
            args.chain, hostname=args.host, trust=args.trust, at=args.at,
            min_days=args.min_days, min_remaining=args.min_remaining)
    except (ValueError, TypeError, OSError) as e:
        # garbage instead of certificates, an unreadable file, a bad --host
        raise UsageError(_words.exception_line(e)) from None
    status = exit_status([report])
    if args.json:
        extra = {"at": args.at.isoformat() if args.at else None}
        _print_json(_envelope("file", [report], status, **extra), out)
    else:
        out.write(_text.render_text(report, color=use_color(out)) + "\n")
    return status


def cmd_demo(args: argparse.Namespace, out: TextIO) -> int:
    from .lab import Lab

    if args.root_out and not args.serve:
        raise UsageError("--root-out goes with --serve")
    color = use_color(out)
    st = _text.Style(color)
    with Lab() as lab:
        endpoints = list(lab)
        if not args.json:
            out.write(st(f"pytlscheck demo: {len(endpoints)} lab servers on 127.0.0.1, "
                         "certificates minted just now by OpenSSL; checking each one, "
                         "trusting the lab root.", "bold") + "\n\n")
            out.flush()
        progress = _Progress(len(endpoints))
        reports = run_concurrently(
            lambda ep: lab.check(ep.name), endpoints, progress)
        matched = [_matches(ep, r) for ep, r in zip(endpoints, reports)]
        status = EXIT_OK if all(matched) else EXIT_ERRORS
        if args.json:
            results = []
            for ep, r, m in zip(endpoints, reports, matched):
                results.append({"endpoint": ep.name, "target": ep.target,
                                "server_name": ep.server_name,
                                "description": ep.description,
                                "expected_kind": ep.expected_kind,
                                "as_expected": m, "report": r.to_dict()})
            _print_json(_envelope("demo", reports, status, results=results), out)
        else:
            out.write(demo_table(endpoints, reports, matched, color=color) + "\n\n")
            for ep, r in zip(endpoints, reports):
                out.write(st(f"== {ep.name}: {ep.description}", "bold") + "\n")
                out.write(_text.render_text(r, color=color) + "\n\n")
            out.write(_demo_footer(matched, st) + "\n")
        if args.serve:
            _serve(lab, args, out, st)
    return status


def _matches(ep: Any, report: Any) -> bool:
    if ep.expected_kind is None:
        return report.ok and not report.problems
    return ep.expected_kind in {p.kind for p in report.problems}


def demo_table(endpoints: Sequence[Any], reports: Sequence[Any], matched: Sequence[bool],
               *, color: bool = False, width: Optional[int] = None) -> str:
    """The demo's diagnosis table: endpoint, verdict, kinds, one line."""
    st = _text.Style(color)
    width = width or max(80, min(_terminal_width(), 140))
    rows = []
    for ep, r, m in zip(endpoints, reports, matched):
        kinds = ", ".join(dict.fromkeys(p.kind for p in r.problems)) or "-"
        first = r.problems[0].message if r.problems else "Healthy: trusted chain, right name, valid dates."
        rows.append((ep.name, _text.verdict(r), kinds, first, m))
    w_name = max(len("endpoint"), *(len(r[0]) for r in rows))
    w_kind = max(len("found"), *(len(r[2]) for r in rows))
    head = f"{'endpoint':<{w_name}}  {'verdict':<7}  {'found':<{w_kind}}  explanation"
    lead = w_name + 2 + 7 + 2 + w_kind + 2
    room = max(30, width - lead)
    lines = [st(head, "bold"), "-" * min(width, lead + room)]
    colour = {"OK": "green", "WARN": "yellow", "FAIL": "red"}
    for name, word, kinds, first, m in rows:
        text = _text.one_line(first, 10_000)
        if not m:
            text = "<- NOT THE EXPECTED DIAGNOSIS  " + text
        wrapped = textwrap.wrap(text, room, break_long_words=False, break_on_hyphens=False,
                                max_lines=2, placeholder=" ...") or [""]
        if not m:
            wrapped = [st(part, "red", "bold") if "NOT THE EXPECTED" in part else part
                       for part in wrapped]
        lines.append(f"{name:<{w_name}}  {st(f'{word:<7}', colour[word])}  "
                     f"{kinds:<{w_kind}}  {wrapped[0]}")
        lines.extend(" " * lead + part for part in wrapped[1:])
    return "\n".join(lines)


def _terminal_width() -> int:
    import shutil

    return shutil.get_terminal_size((120, 24)).columns


def _demo_footer(matched: Sequence[bool], st: _text.Style) -> str:
    bad = len(matched) - sum(matched)
    if bad:
        return st(f"{bad} of {len(matched)} lab endpoints did not get their expected "
                  "diagnosis (see the rows marked above).", "red", "bold")
    return st(f"All {len(matched)} lab endpoints got the diagnosis they were built to "
              "produce. Try one yourself: pytlscheck demo --serve", "green")


def _serve(lab: Any, args: argparse.Namespace, out: TextIO, st: _text.Style) -> None:
    root = lab.root_pem_path
    if args.root_out:
        with open(args.root_out, "w", encoding="ascii") as f:
            f.write(lab.root_pem)
        root = args.root_out
    out.write("\n" + st("The lab is running; press Ctrl-C to stop it.", "bold") + "\n")
    out.write(f"Lab root (trust it): {root}\n")
    out.write(f"Client certificate for client_cert_required: {lab.client_cert_path} "
              f"(key {lab.client_key_path})\n")
    for ep in lab:
        # The lab's leaves also name 127.0.0.1, so no --server-name is
        # needed except where the scenario is about the name.
        sn = "" if ep.server_name == "localhost" else f" --server-name {ep.server_name}"
        out.write(f"  {ep.name:<22} pytlscheck {ep.target} --trust {root}{sn}\n")
    out.flush()

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    # SIGTERM (kill, a service manager) stops the lab as cleanly as Ctrl-C:
    # servers joined, temporary files deleted.
    previous = signal.signal(signal.SIGTERM, stop)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        out.write("\nstopping the lab\n")
    finally:
        signal.signal(signal.SIGTERM, previous)


# ---------------------------------------------------------------------------


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of the ``pytlscheck`` console script; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    check_p, file_p, demo_p = build_parsers()
    # "file" and "demo" are subcommands; anything else is a target list
    # (a host really named "file" can be written "file:443").  "check" is
    # the default spelled out, so "pytlscheck check HOST" does not check a
    # host named "check".
    commands = {"file": (file_p, cmd_file), "demo": (demo_p, cmd_demo),
                "check": (check_p, cmd_check)}
    if argv and argv[0] in commands:
        (parser, handler), rest = commands[argv[0]], argv[1:]
    else:
        parser, handler, rest = check_p, cmd_check, argv
    try:
        args = parser.parse_args(rest)
    except SystemExit as e:  # --help (0), or bad arguments (3, usage printed)
        return e.code if isinstance(e.code, int) else EXIT_USAGE
    out = sys.stdout
    try:
        return handler(args, out)
    except UsageError as e:
        parser.print_usage(sys.stderr)
        sys.stderr.write(f"{parser.prog}: error: {e}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
    except BrokenPipeError:
        # `pytlscheck ... | head`: stop quietly; point stdout at devnull so
        # the interpreter's final flush does not complain again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return EXIT_ERRORS


def console_main() -> None:  # pragma: no cover - thin wrapper
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
