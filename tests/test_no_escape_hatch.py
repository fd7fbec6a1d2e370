"""There is no way to make a failing chain pass: no parameter, environment
variable or CLI flag like verify=False, insecure, check_hostname=False or
CERT_NONE, anywhere in the public API."""
import importlib
import inspect
import os
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

import pytlscheck
from pki import days, pem_of

PKG = Path(pytlscheck.__file__).resolve().parent
ROOT = Path(__file__).resolve().parent.parent   # the source tree
# Child interpreters import the very package under test (installed or in
# place), never a source tree without its built extension.
CHILD_PATH = str(PKG.parent)

FORBIDDEN = re.compile(
    r"^(verify|verify_mode|cert_reqs|check_hostname|ssl_verify|no_verify|noverify|"
    r"skip_verify|skip_verification|insecure|unsafe|trust_all|accept_all)$|"
    r"insecure|unsafe|no_?verif|skip_?verif|disable_?(verif|check)|ignore_?(errors|cert|problems)|"
    r"allow_(invalid|expired|self_?signed|untrusted|any)|cert_none|dangerous",
    re.I)


def _public_modules():
    mods = [pytlscheck]
    for info in pkgutil.walk_packages(pytlscheck.__path__, "pytlscheck."):
        if info.name.endswith("__main__"):
            continue   # importing it runs the CLI
        try:
            mods.append(importlib.import_module(info.name))
        except ImportError:
            continue   # optional surfaces (e.g. a plugin whose dependency is missing)
    return mods


def _callables():
    seen = set()
    for mod in _public_modules():
        for name, obj in vars(mod).items():
            if name.startswith("_") or id(obj) in seen:
                continue
            if not (inspect.isfunction(obj) or inspect.isclass(obj) or inspect.isbuiltin(obj)):
                continue
            if not (getattr(obj, "__module__", None) or "").startswith("pytlscheck"):
                continue   # imported from elsewhere (dataclasses, typing, ...)
            seen.add(id(obj))
            yield f"{mod.__name__}.{name}", obj
            if inspect.isclass(obj):
                for mname, m in vars(obj).items():
                    if mname.startswith("_") and mname != "__init__":
                        continue
                    if isinstance(m, (staticmethod, classmethod)):
                        m = m.__func__
                    if inspect.isfunction(m):
                        yield f"{mod.__name__}.{name}.{mname}", m


def test_there_are_callables_to_inspect():
    names = {n for n, _ in _callables()}
    assert "pytlscheck.verify_chain" in names and "pytlscheck.check" in names


def test_no_public_signature_has_an_escape_hatch():
    bad = []
    for qual, obj in _callables():
        try:
            sig = inspect.signature(obj)
        except (TypeError, ValueError):
            continue
        for p in sig.parameters:
            if FORBIDDEN.search(p):
                bad.append(f"{qual}({p}=...)")
    assert not bad, "escape hatch parameters: " + ", ".join(bad)


def test_the_forbidden_pattern_works():
    def f(chain, *, verify=True, insecure=False, check_hostname=True, skip_verify=0):
        pass
    names = [p for p in inspect.signature(f).parameters if FORBIDDEN.search(p)]
    assert names == ["verify", "insecure", "check_hostname", "skip_verify"]
    assert not FORBIDDEN.search("hostname") and not FORBIDDEN.search("trust")


ENV_READ = re.compile(r"""(?:os\.environ\.get|os\.getenv|environ\.get|getenv|os\.environ\[)\s*\(?\s*["']([A-Za-z0-9_]+)["']""")


def _sources():
    files = list(PKG.rglob("*.py")) + list((ROOT / "pytlscheck").rglob("*.py"))
    csrc = ROOT / "csrc"
    if csrc.exists():
        files += [p for p in csrc.rglob("*.[ch]") if "tests" not in p.parts]
    return files


def test_no_environment_switch_weakens_checks():
    reads = {}
    for path in _sources():
        for name in ENV_READ.findall(path.read_text(encoding="utf-8", errors="replace")):
            reads.setdefault(name, set()).add(path.name)
    bad = {n: sorted(f) for n, f in reads.items()
           if re.search(r"VERIFY|INSECURE|UNSAFE|SKIP|DISABLE|IGNORE|NO_CHECK|HOSTNAME|ALLOW|"
                        r"CERT_NONE|PYTHONHTTPSVERIFY", n, re.I)}
    assert not bad, f"environment switches that could weaken checks: {bad}"
    # and nothing reads a computed variable name we cannot audit
    for path in _sources():
        text = path.read_text(encoding="utf-8", errors="replace")
        assert not re.search(r"os\.environ\.get\(\s*[a-z_]+\s*[,)]|getenv\(\s*[a-z_]+\s*\)", text), path


def test_switch_like_environment_does_not_make_a_failing_chain_pass(inter, root, tmp_path):
    """Belt and braces: run with every plausible switch set."""
    leaf = inter.leaf("api.example.com", not_before=days(-30), not_after=days(-1))
    code = (
        "import pytlscheck, sys\n"
        "r = pytlscheck.verify_chain(sys.argv[1], hostname='api.example.com', trust=sys.argv[2])\n"
        "print(r.ok, ','.join(p.kind for p in r.problems))\n")
    env = dict(os.environ, PYTHONHTTPSVERIFY="0", PYTLSCHECK_INSECURE="1", PYTLSCHECK_VERIFY="0",
               PYTLSCHECK_NO_VERIFY="1", SSL_NO_VERIFY="1", CURL_CA_BUNDLE="",
               REQUESTS_CA_BUNDLE="", PYTHONPATH=CHILD_PATH)
    out = subprocess.run([sys.executable, "-c", code, pem_of(leaf, inter), root.pem], env=env,
                         capture_output=True, text=True, timeout=120, cwd=str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False expired"


def test_cli_has_no_escape_hatch_flag(tmp_path):
    if importlib.util.find_spec("pytlscheck.cli") is None:
        pytest.skip("no CLI in this build")
    out = subprocess.run([sys.executable, "-m", "pytlscheck", "--help"], capture_output=True,
                         text=True, timeout=120, cwd=str(tmp_path),
                         env=dict(os.environ, PYTHONPATH=CHILD_PATH))
    text = out.stdout + out.stderr
    assert out.returncode == 0, text
    assert not re.search(r"--(insecure|no-verify|no-check|skip-verify|unsafe|ignore)|\s-k[\s,]",
                         text), text
