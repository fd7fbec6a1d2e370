#!/usr/bin/env python3
"""Runs the x509-limbo path-validation suite through pytlscheck.verify_chain.

    python tools/conformance.py                  # per-family table, total, failures
    python tools/conformance.py -v               # ... and every case
    python tools/conformance.py --only rfc5280::nc
    python tools/conformance.py --json out.json  # machine-readable results
    python tools/conformance.py --markdown       # the table of docs/conformance.md

The suite is read from ``tests/conformance/limbo/x509-limbo.json``, shipped
with its licence in the repository (or from ``--suite PATH``, or the
``PYTLSCHECK_LIMBO`` environment variable).  Each case is mapped onto verify_chain's arguments:

=========================  =================================================
limbo field                verify_chain argument
=========================  =================================================
peer_certificate           chain[0] (the leaf)
untrusted_intermediates    chain[1:] (in the order given, which is no order)
trusted_certs              trust (a list of Certificate anchors)
validation_time            at (null: now)
expected_peer_name         hostname, for DNS and IP names.  RFC822 names are
                           not passed: pytlscheck checks TLS server names, it
                           has no e-mail identity check.  The CLIENT cases that
                           carry them test name constraints on the e-mail SANs,
                           which the chain check enforces without a name.
max_chain_depth            max_depth (the number of intermediates allowed)
crls                       crls (none: no revocation check)
validation_kind CLIENT     purpose="client"
extended_key_usage         ekus (empty: the purpose's own)
=========================  =================================================

``min_days=None``: the expiry-window warning is switched off, it is a
warning and never changes a verdict anyway.  A verdict is SUCCESS when
``report.ok`` (no problem of severity error).  A leaf or anchor that
pytlscheck cannot even parse counts as FAILURE (the certificate is refused),
and is shown as such.  No case is skipped.

Exit status: 0 when every case not listed in
tests/conformance/known_failures.json is correct and every listed one is
still wrong; 1 otherwise; 2 when the suite file is missing.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SUITE = ROOT / "tests" / "conformance" / "limbo" / "x509-limbo.json"
KNOWN_FAILURES = ROOT / "tests" / "conformance" / "known_failures.json"

# What the suite's figures were measured against (README of the suite).
OTHER_VALIDATORS = [
    ("openssl verify (default)", 136),
    ("openssl verify -x509_strict", 143),
    ("pyca/cryptography 48 (skips 47)", 146),
]


def suite_path(explicit: Optional[str] = None) -> Path:
    """The suite file: an explicit path, $PYTLSCHECK_LIMBO, or the default."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("PYTLSCHECK_LIMBO")
    return Path(env) if env else DEFAULT_SUITE


def load_suite(path: Path) -> List[Dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    return data["testcases"]


def load_known_failures(path: Path = KNOWN_FAILURES) -> Dict[str, Dict[str, str]]:
    """{case id: {"category": ..., "reason": ...}}."""
    if not path.exists():
        return {}
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    return {k: v for k, v in data.items() if not k.startswith("_")}


def family(case_id: str) -> str:
    """'rfc5280::nc::permitted-dns-match' -> 'rfc5280::nc'; 'crl::x' -> 'crl'."""
    parts = case_id.split("::")
    return "::".join(parts[:2]) if len(parts) > 2 else parts[0]


@dataclass
class CaseResult:
    id: str
    family: str
    expected: str
    actual: str
    correct: bool
    seconds: float
    features: List[str]
    kinds: List[str] = field(default_factory=list)      # error kinds, report order
    problems: List[str] = field(default_factory=list)   # "kind@depth: message"
    refused_input: Optional[str] = None                 # why a certificate could not be parsed


def _at(value: Optional[str]) -> Optional[datetime]:
    if value is None:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc)


def _hostname(case: Dict[str, Any]) -> Optional[str]:
    name = case.get("expected_peer_name")
    if name and name.get("kind") in ("DNS", "IP"):
        return name["value"]
    return None


def run_case(case: Dict[str, Any]) -> CaseResult:
    """Feeds one case to verify_chain and judges the verdict."""
    import pytlscheck

    start = time.perf_counter()
    kinds: List[str] = []
    problems: List[str] = []
    refused: Optional[str] = None
    try:
        chain = [pytlscheck.Certificate.from_pem(case["peer_certificate"])]
        chain += [pytlscheck.Certificate.from_pem(p) for p in case["untrusted_intermediates"]]
        trust = [pytlscheck.Certificate.from_pem(p) for p in case["trusted_certs"]]
    except ValueError as exc:
        refused = f"{type(exc).__name__}: {exc}"
        actual = "FAILURE"
    else:
        report = pytlscheck.verify_chain(
            chain,
            hostname=_hostname(case),
            trust=trust,
            at=_at(case.get("validation_time")),
            purpose="client" if case["validation_kind"] == "CLIENT" else "server",
            crls=list(case["crls"]) or None,
            max_depth=case.get("max_chain_depth"),
            min_days=None,
            ekus=list(case["extended_key_usage"]) or None,
        )
        actual = "SUCCESS" if report.ok else "FAILURE"
        for p in report.problems:
            if p.severity == "error":
                kinds.append(p.kind)
            problems.append(f"{p.kind}@{p.depth}: {p.message}")
    seconds = time.perf_counter() - start
    return CaseResult(
        id=case["id"], family=family(case["id"]), expected=case["expected_result"],
        actual=actual, correct=actual == case["expected_result"], seconds=seconds,
        features=list(case.get("features") or []), kinds=kinds, problems=problems,
        refused_input=refused)


def run_suite(cases: List[Dict[str, Any]], only: Optional[str] = None,
              progress=None) -> List[CaseResult]:
    results = []
    for case in cases:
        if only and only not in case["id"]:
            continue
        if progress is not None:
            progress(case["id"])
        results.append(run_case(case))
    return results


def family_table(results: List[CaseResult]) -> List[Dict[str, Any]]:
    fams: Dict[str, Dict[str, Any]] = {}
    for r in results:
        f = fams.setdefault(r.family, {"family": r.family, "cases": 0, "correct": 0})
        f["cases"] += 1
        f["correct"] += int(r.correct)
    return [fams[k] for k in sorted(fams)]


def judge(results: List[CaseResult], known: Dict[str, Dict[str, str]]) -> Dict[str, List[str]]:
    """Regressions (wrong, not listed) and stale entries (listed, now right)."""
    wrong = {r.id for r in results if not r.correct}
    ran = {r.id for r in results}
    return {
        "regressions": sorted(wrong - set(known)),
        "stale": sorted(i for i in set(known) - wrong if i in ran),
    }


def print_report(results: List[CaseResult], known: Dict[str, Dict[str, str]],
                 verbose: bool = False, out=sys.stdout) -> None:
    w = out.write
    if verbose:
        for r in results:
            w(f"{'ok ' if r.correct else 'BAD'} {r.id}  expected {r.expected}, got {r.actual}"
              f"  ({r.seconds * 1000:.1f} ms) {' '.join(dict.fromkeys(r.kinds))}\n")
        w("\n")
    rows = family_table(results)
    width = max([len("family")] + [len(r["family"]) for r in rows])
    w(f"{'family':<{width}}  cases  correct  wrong\n")
    for row in rows:
        w(f"{row['family']:<{width}}  {row['cases']:5d}  {row['correct']:7d}  "
          f"{row['cases'] - row['correct']:5d}\n")
    total = len(results)
    correct = sum(r.correct for r in results)
    w(f"{'total':<{width}}  {total:5d}  {correct:7d}  {total - correct:5d}\n\n")
    w(f"pytlscheck: {correct} of {total} correct, 0 skipped")
    w("".join(f"; {name}: {n}" for name, n in OTHER_VALIDATORS) + "\n")
    dos = [r for r in results if "denial-of-service" in r.features]
    if dos:
        slowest = max(dos, key=lambda r: r.seconds)
        w(f"denial-of-service cases: {len(dos)}, slowest {slowest.seconds * 1000:.1f} ms "
          f"({slowest.id})\n")
    wrong = [r for r in results if not r.correct]
    if wrong:
        w(f"\n{len(wrong)} wrong:\n")
    for r in wrong:
        what = ", ".join(dict.fromkeys(r.kinds)) or ("refused to parse" if r.refused_input else "no error")
        w(f"  {r.id}: expected {r.expected}, got {r.actual} [{what}]\n")
        if r.refused_input:
            w(f"      {r.refused_input}\n")
        for p in r.problems[:3]:
            w(f"      {p}\n")
        entry = known.get(r.id)
        w(f"      known failure ({entry['category']}): {entry['reason']}\n" if entry
          else "      NOT in known_failures.json: a regression\n")
    verdict = judge(results, known)
    for cid in verdict["stale"]:
        w(f"  {cid}: listed in known_failures.json but now correct: remove the entry\n")


def markdown_table(results: List[CaseResult]) -> str:
    """The per-family table as Markdown (for docs/conformance.md)."""
    lines = ["| family | cases | correct | wrong |", "|---|---:|---:|---:|"]
    for row in family_table(results):
        lines.append(f"| `{row['family']}` | {row['cases']} | {row['correct']} | "
                     f"{row['cases'] - row['correct']} |")
    total = len(results)
    correct = sum(r.correct for r in results)
    lines.append(f"| **total** | **{total}** | **{correct}** | **{total - correct}** |")
    return "\n".join(lines) + "\n"


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--suite", help="path to x509-limbo.json")
    ap.add_argument("--only", help="run only the cases whose id contains this text")
    ap.add_argument("--json", metavar="PATH", help="write every result as JSON to PATH ('-': stdout)")
    ap.add_argument("-v", "--verbose", action="store_true", help="list every case")
    ap.add_argument("--markdown", action="store_true",
                    help="print only the per-family table, as Markdown")
    args = ap.parse_args(argv)

    path = suite_path(args.suite)
    if not path.exists():
        print(f"The x509-limbo suite is not at {path}; pass --suite or set PYTLSCHECK_LIMBO.",
              file=sys.stderr)
        return 2
    cases = load_suite(path)
    known = load_known_failures()

    def progress(case_id: str) -> None:
        # On stderr, flushed: if the process dies, the last line names the case.
        print(f"running {case_id}", file=sys.stderr, flush=True)

    results = run_suite(cases, args.only, progress if args.json else None)
    if args.json:
        payload = {"suite": str(path), "cases": len(results),
                   "correct": sum(r.correct for r in results),
                   "results": [asdict(r) for r in results]}
        if args.json == "-":
            json.dump(payload, sys.stdout, indent=1)
        else:
            with open(args.json, "w", encoding="utf-8") as f:
                json.dump(payload, f, indent=1)
    if args.markdown:
        sys.stdout.write(markdown_table(results))
    elif args.json != "-":
        print_report(results, known, verbose=args.verbose)
    verdict = judge(results, known)
    return 1 if verdict["regressions"] or verdict["stale"] else 0


if __name__ == "__main__":
    # Run by hand from a checkout built in place (setup.py build_ext
    # --inplace): use the package next to this script.  Otherwise the
    # installed one (pip install .), as CI does.
    if any((ROOT / "pytlscheck").glob("_core*")):
        sys.path.insert(0, str(ROOT))
    sys.exit(main())
