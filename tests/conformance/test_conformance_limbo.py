"""The x509-limbo suite (tests/conformance/limbo/x509-limbo.json) through
pytlscheck.verify_chain, one test per case.

The suite runs once, in a child process (tools/conformance.py --json), so
that a crash in the C core fails these tests and names the case instead of
killing pytest.  Then every case must be correct, except those listed in
known_failures.json, which must still be wrong (an entry that starts
passing is stale: remove it).  A case that passed before and fails now
therefore fails the build.  The suite ships with the repository, so a
missing file is an error, not a skip.
"""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("limbo_runner", ROOT / "tools" / "conformance.py")
runner = importlib.util.module_from_spec(_spec)
sys.modules["limbo_runner"] = runner     # dataclasses look their module up
_spec.loader.exec_module(runner)

SUITE = runner.suite_path()
if not SUITE.exists():
    raise FileNotFoundError(f"the x509-limbo suite is not at {SUITE}: it ships in "
                            "tests/conformance/limbo/ (or set PYTLSCHECK_LIMBO to its path)")

CASES = runner.load_suite(SUITE)
KNOWN = runner.load_known_failures()
CATEGORIES = {"conflict", "policy", "gap"}
EXPECTED_CASES = 207


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """{case id: result dict}, from one run of the whole suite."""
    import pytlscheck

    out = tmp_path_factory.mktemp("limbo") / "results.json"
    # The child imports the very package these tests import (installed, or
    # the checkout built in place), not whatever sits next to the script.
    package_root = str(Path(pytlscheck.__file__).resolve().parents[1])
    code = ("import sys; sys.path[:0] = [sys.argv[1], sys.argv[2]]; import conformance; "
            "sys.exit(conformance.main(sys.argv[3:]))")
    done = subprocess.run([sys.executable, "-c", code, package_root, str(ROOT / "tools"),
                           "--suite", str(SUITE), "--json", str(out)],
                          capture_output=True, text=True, timeout=600)
    if done.returncode not in (0, 1) or not out.exists():
        started = [ln for ln in done.stderr.splitlines() if ln.startswith("running ")]
        last = started[-1][len("running "):] if started else "(none)"
        pytest.fail(f"the suite run died (exit {done.returncode}) during case {last}:\n"
                    f"{done.stderr[-3000:]}")
    data = json.loads(out.read_text())
    return {r["id"]: r for r in data["results"]}


def _explain(r) -> str:
    lines = [f"{r['id']}: expected {r['expected']}, got {r['actual']}"]
    if r.get("refused_input"):
        lines.append(f"  refused to parse: {r['refused_input']}")
    lines += [f"  {p}" for p in r["problems"][:6]]
    return "\n".join(lines)


def test_every_case_runs(results):
    """No case skipped, none lost: the suite has 207 and all get a verdict."""
    assert len(CASES) == EXPECTED_CASES
    assert sorted(results) == sorted(c["id"] for c in CASES)
    assert all(r["actual"] in ("SUCCESS", "FAILURE") for r in results.values())


@pytest.mark.parametrize("case_id", [c["id"] for c in CASES])
def test_case(results, case_id):
    r = results[case_id]
    entry = KNOWN.get(case_id)
    if entry is None:
        assert r["correct"], _explain(r) + "\n(not in known_failures.json: a regression)"
    else:
        assert not r["correct"], (
            f"{case_id} is listed in known_failures.json ({entry['category']}: "
            f"{entry['reason']}) but is now correct: remove the entry")


def test_known_failures_are_documented():
    """Every entry names a real case, a category and a reason."""
    ids = {c["id"] for c in CASES}
    for case_id, entry in KNOWN.items():
        assert case_id in ids, f"known_failures.json lists {case_id}, which is not in the suite"
        assert entry.get("category") in CATEGORIES, case_id
        assert len(entry.get("reason", "")) > 40, f"{case_id}: say why, in a sentence"


def test_target(results):
    """The figure of issue 16: at least 194 of 207 (issue 5 asked for 190)."""
    correct = sum(r["correct"] for r in results.values())
    assert correct >= 194, f"{correct} of {len(results)} correct"


with open(Path(__file__).with_name("expected_kinds.json"), encoding="utf-8") as _f:
    EXPECTED_KINDS = json.load(_f)
MISCLASSIFIED = EXPECTED_KINDS.pop("_misclassified")
EXPECTED_KINDS.pop("_about")


@pytest.mark.parametrize("case_id", sorted(EXPECTED_KINDS))
def test_refusal_kind(results, case_id):
    """Each refusal comes out under the kind that names its reason
    (expected_kinds.json), not a vague chain_invalid."""
    r = results[case_id]
    assert r["actual"] == "FAILURE", _explain(r)
    want = EXPECTED_KINDS[case_id]
    if case_id in MISCLASSIFIED:
        assert want not in r["kinds"], (
            f"{case_id} now reports {want}: remove it from _misclassified in expected_kinds.json")
        pytest.xfail(MISCLASSIFIED[case_id])
    assert want in r["kinds"], f"expected {want}\n" + _explain(r)


def test_every_refusal_has_an_expected_kind():
    """expected_kinds.json covers every FAILURE case not in known_failures."""
    missing = [c["id"] for c in CASES
               if c["expected_result"] == "FAILURE" and c["id"] not in KNOWN
               and c["id"] not in EXPECTED_KINDS]
    assert not missing, missing


def test_denial_of_service_cases_finish(results):
    """The denial-of-service cases are refused, not run out of time: each
    finished (the child process has an overall timeout).  Their times are
    printed by tools/conformance.py and recorded in docs/conformance.md;
    speed itself is measured in bench/, not asserted here."""
    dos = [r for r in results.values() if "denial-of-service" in r["features"]]
    assert len(dos) == 7
    assert all(r["correct"] for r in dos), [_explain(r) for r in dos if not r["correct"]]
