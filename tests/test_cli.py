"""The pytlscheck command against the built-in lab's real loopback servers:
exit statuses 0/1/2/3, --json against docs/json-schema.md, colour rules,
bad arguments, the offline `file` subcommand and the demo."""
from __future__ import annotations

import json
import os
import pty
import re
import select
import socket
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import pytlscheck
from pytlscheck import cli
from pytlscheck.lab import SCENARIOS, Lab

DOCS = Path(__file__).resolve().parent.parent / "docs"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(scope="module")
def lab():
    with Lab() as lab:
        yield lab


def run(argv, capsys):
    """main() in-process: (exit status, stdout, stderr)."""
    status = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def run_process(argv, env=None, timeout=120):
    """`python -m pytlscheck` as a user runs it."""
    full_env = dict(os.environ)
    full_env.pop("NO_COLOR", None)
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "pytlscheck", *map(str, argv)],
                          capture_output=True, text=True, env=full_env, timeout=timeout)


def target_args(lab, name):
    ep = lab[name]
    return [ep.target, "--trust", lab.root_pem_path, "--server-name", ep.server_name]


# ---- exit statuses ----------------------------------------------------------

def test_healthy_exits_0_and_shows_handshake_and_chain(lab, capsys):
    status, out, err = run(target_args(lab, "healthy"), capsys)
    assert status == 0, out
    assert out.startswith("OK ")
    assert lab["healthy"].target in out
    assert "TLSv1." in out and "handshake" in out and " ms" in out
    assert "CN=localhost" in out and "CN=pytlscheck lab intermediate" in out
    assert "days left" in out
    assert "No problems found." in out
    assert err == ""            # no progress line: stderr is not a terminal
    assert not ANSI.search(out)  # no colour: stdout is not a terminal


def test_expiring_soon_is_a_warning_exit_1(lab, capsys):
    status, out, _ = run(target_args(lab, "expiring_soon"), capsys)
    assert status == 1, out
    assert out.startswith("WARN")
    assert "expires_soon" in out
    # its twin: the same server with a 3-day threshold has nothing to say
    status, out, _ = run(target_args(lab, "expiring_soon") + ["--min-days", "3"], capsys)
    assert status == 0, out


def test_min_remaining_turns_a_fresh_looking_certificate_into_a_warning(lab, capsys):
    # expiring_soon: 5 of 90 days left.  With --min-days 3 only the
    # fraction rule can fire: 5/90 < 0.33.
    argv = target_args(lab, "expiring_soon") + ["--min-days", "3", "--min-remaining", "0.33"]
    status, out, _ = run(argv, capsys)
    assert status == 1, out
    assert "expires_soon" in out
    # healthy (89 of 91 days left) stays ok with the same threshold
    status, out, _ = run(target_args(lab, "healthy") + ["--min-remaining", "0.33"], capsys)
    assert status == 0, out


def test_expired_exits_2_with_explanation_fix_and_command(lab, capsys):
    ep = lab["expired"]
    status, out, _ = run(target_args(lab, "expired"), capsys)
    assert status == 2, out
    assert out.startswith("FAIL")
    assert "EXPIRED 10 days ago" in out
    assert "ERROR expired" in out
    assert "Fix: " in out
    assert f"See it yourself: timeout 10 openssl s_client -connect {ep.target}" in out


def test_many_targets_any_error_exits_2_results_in_order(lab, capsys):
    names = ["healthy", "expiring_soon", "wrong_host", "plain_http"]
    argv = [lab[n].target for n in names] + ["--trust", lab.root_pem_path]
    status, out, _ = run(argv, capsys)
    assert status == 2
    positions = [out.index(lab[n].target) for n in names]
    assert positions == sorted(positions)
    assert "4 checked:" in out
    assert "not_tls" in out
    # connecting by IP: the lab leaves carry 127.0.0.1, wrong_host's does not
    assert "hostname_mismatch" in out


def test_only_warnings_across_targets_exits_1(lab, capsys):
    argv = [lab["healthy"].target, lab["expiring_soon"].target, "--trust", lab.root_pem_path]
    status, out, _ = run(argv, capsys)
    assert status == 1, out


def test_client_certificate_options(lab, capsys):
    status, out, _ = run(target_args(lab, "client_cert_required"), capsys)
    assert status == 2 and "client_certificate_required" in out
    argv = target_args(lab, "client_cert_required") + [
        "--client-cert", lab.client_cert_path, "--client-key", lab.client_key_path]
    status, out, _ = run(argv, capsys)
    assert status == 0, out


def test_client_cert_alone_when_its_pem_holds_the_key(lab, capsys, tmp_path):
    both = tmp_path / "client-both.pem"
    both.write_bytes(Path(lab.client_cert_path).read_bytes() + Path(lab.client_key_path).read_bytes())
    status, out, _ = run(target_args(lab, "client_cert_required") + ["--client-cert", str(both)],
                         capsys)
    assert status == 0, out


def test_version_and_help(capsys):
    status, out, _ = run(["--version"], capsys)
    assert status == 0 and out.startswith(f"pytlscheck {pytlscheck.__version__} (OpenSSL 3")
    status, out, _ = run(["--help"], capsys)
    assert status == 0
    assert "examples:" in out and "pytlscheck demo" in out
    assert "130 interrupted (Ctrl-C)" in out


def test_check_spelled_out_is_the_default_command(lab, capsys):
    """`pytlscheck check TARGET` checks TARGET, not a host named "check"."""
    status, out, _ = run(["check"] + target_args(lab, "healthy") + ["--json"], capsys)
    doc = json.loads(out)
    assert status == 0 and [r["target"] for r in doc["results"]] == [lab["healthy"].target]


def test_a_huge_target_is_not_echoed_whole(capsys):
    target = "https://" + "a" * 10000 + ":99999"
    status, out, err = run([target], capsys)
    assert status == 3
    assert len(err) < 1000, len(err)
    assert "characters)" in err


# ---- bad arguments: exit 3, one line, no traceback ---------------------------

@pytest.mark.parametrize("argv, says", [
    ([], "required: TARGET"),
    (["--timeout", "0", "x.test"], "--timeout"),
    (["--timeout", "soon", "x.test"], "--timeout"),
    (["--min-days", "-2", "x.test"], "--min-days"),
    (["--min-remaining", "1.5", "x.test"], "--min-remaining"),
    (["--no-such-option", "x.test"], "unrecognized arguments"),
    (["x.test:99999"], "out of range"),
    (["https://"], "https://"),
    (["x.test", "--client-key", "k.pem"], "--client-key needs --client-cert"),
    (["x.test", "--trust", "/nonexistent/roots.pem"], "/nonexistent/roots.pem"),
    (["file"], "CHAIN.pem"),
    (["file", "/nonexistent/chain.pem"], "/nonexistent/chain.pem"),
    (["file", "setup.py", "--at", "next tuesday"], "--at"),
    (["demo", "--root-out", "x.pem"], "--root-out goes with --serve"),
])
def test_bad_arguments_exit_3_with_one_line(argv, says, capsys):
    status, out, err = run(argv, capsys)
    assert status == 3
    assert out == ""
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if ": error: " in line]
    assert len(errors) == 1, err
    assert says in errors[0]
    assert err.splitlines()[0].startswith("usage: pytlscheck")


def test_bad_arguments_as_a_process(tmp_path):
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
    proc = run_process(["file", garbage])
    assert proc.returncode == 3
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
    assert len([l for l in proc.stderr.splitlines() if "error:" in l]) == 1


# ---- JSON --------------------------------------------------------------------

def documented_keys():
    """{section title: set of keys} from the tables in docs/json-schema.md."""
    text = (DOCS / "json-schema.md").read_text()
    sections, current = {}, None
    for line in text.splitlines():
        if line.startswith("## "):
            current = line[3:].strip()
        m = re.match(r"\| `([a-z_0-9]+)` \|", line)
        if m and current:
            sections.setdefault(current, set()).add(m.group(1))
    return sections


needs_docs = pytest.mark.skipif(not (DOCS / "json-schema.md").exists(),
                                reason="docs/ not present (installed package only)")


@needs_docs
def test_json_matches_the_documented_schema(lab, capsys):
    keys = documented_keys()
    names = ["healthy", "expired", "plain_http"]
    argv = [lab[n].target for n in names] + ["--trust", lab.root_pem_path,
                                            "--server-name", "localhost", "--json"]
    status, out, _ = run(argv, capsys)
    doc = json.loads(out)  # one document, nothing else on stdout
    assert status == 2 and doc["exit_status"] == 2
    assert set(doc) == keys["Top level"] - {"at"}
    assert set(doc["summary"]) == keys["Summary"]
    assert doc["summary"] == {"total": 3, "ok": 1, "warnings": 0, "errors": 2}
    assert doc["command"] == "check" and doc["tool"] == "pytlscheck" and doc["schema"] == 1
    assert [r["target"] for r in doc["results"]] == [lab[n].target for n in names]
    for report in doc["results"]:
        assert set(report) == keys["Report"]
        assert set(report["timings"]) == {"dns", "connect", "handshake", "total"}
        for problem in report["problems"]:
            assert set(problem) == keys["Problem"]
        for cert in report["chain"]:
            assert set(cert) == keys["Certificate"]
    healthy, expired, plain = doc["results"]
    assert healthy["ok"] and healthy["problems"] == []
    assert healthy["verified_chain"][0] == healthy["chain"][0]["fingerprint_sha256"]
    assert [p["kind"] for p in expired["problems"]][0] == "expired"
    assert expired["problems"][0]["exception"] == "CertificateExpired"
    assert "not_tls" in [p["kind"] for p in plain["problems"]]
    assert plain["chain"] == []


@needs_docs
def test_demo_json_matches_the_documented_schema(capsys):
    keys = documented_keys()
    status, out, _ = run(["demo", "--json"], capsys)
    doc = json.loads(out)
    assert status == 0 and doc["command"] == "demo"
    assert [r["endpoint"] for r in doc["results"]] == [s.name for s in SCENARIOS]
    for r in doc["results"]:
        assert set(r) == keys["Demo result"]
        assert r["as_expected"], r["endpoint"]
        assert set(r["report"]) == keys["Report"]


# ---- colour -----------------------------------------------------------------

def run_in_pty(argv, env):
    """Runs the command with stdout on a pseudo-terminal; returns its output."""
    master, slave = pty.openpty()
    full_env = dict(os.environ)
    full_env.pop("NO_COLOR", None)
    full_env.update(env)
    proc = subprocess.Popen([sys.executable, "-m", "pytlscheck", *map(str, argv)],
                            stdout=slave, stderr=subprocess.PIPE, env=full_env)
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            proc.kill()
            break
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    proc.wait(timeout=60)
    proc.stderr.close()
    return proc.returncode, b"".join(chunks).decode()


def test_colour_on_a_terminal_and_no_color_honoured(lab):
    argv = target_args(lab, "expired")
    status, out = run_in_pty(argv, {"TERM": "xterm"})
    assert status == 2
    assert ANSI.search(out), out[:300]
    status, out = run_in_pty(argv, {"TERM": "xterm", "NO_COLOR": "1"})
    assert status == 2
    assert not ANSI.search(out)
    assert "FAIL" in out


def test_no_colour_when_piped(lab):
    proc = run_process(target_args(lab, "expired"), env={"TERM": "xterm"})
    assert proc.returncode == 2
    assert not ANSI.search(proc.stdout)
    assert "expired" in proc.stdout


# ---- file -------------------------------------------------------------------

def test_file_subcommand_with_at(lab, capsys):
    chain = lab["expired"].chain_path  # leaf (expired 10 days ago) + intermediate
    base = ["file", chain, "--host", "localhost", "--trust", lab.root_pem_path]
    status, out, _ = run(base, capsys)
    assert status == 2 and "ERROR expired" in out
    assert "Chain as given" in out
    # its twin: the same chain as of a day when it was valid
    when = (datetime.now(timezone.utc) - timedelta(days=50)).strftime("%Y-%m-%d")
    status, out, _ = run(base + ["--at", when], capsys)
    assert status == 0, out
    assert f"as of {when} 00:00 UTC, not now" in out
    assert "days left" in out and "EXPIRED" not in out  # days counted from --at
    # and a date past the root's own expiry breaks everything again
    status, out, _ = run(base + ["--at", "2099-01-01T00:00:00Z"], capsys)
    assert status == 2


def test_file_subcommand_json_and_host(lab, capsys):
    chain = lab["healthy"].chain_path
    status, out, _ = run(["file", chain, "--trust", lab.root_pem_path, "--host",
                          "api.example.test", "--json"], capsys)
    doc = json.loads(out)
    assert status == 2 and doc["command"] == "file" and doc["at"] is None
    assert doc["results"][0]["problems"][0]["kind"] == "hostname_mismatch"
    assert doc["results"][0]["target"] is None
    status, out, _ = run(["file", chain, "--trust", lab.root_pem_path, "--host", "localhost"],
                         capsys)
    assert status == 0, out


def test_file_without_trust_flags_the_private_root(lab, capsys):
    status, out, _ = run(["file", lab["healthy"].chain_path, "--host", "localhost"], capsys)
    assert status == 2
    assert "unknown_root" in out   # leaf + intermediate sent: the private root is the cause


# ---- demo -------------------------------------------------------------------

def test_demo_prints_the_diagnosis_table_and_exits_0():
    proc = run_process(["demo"])
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
    header = next(line for line in out.splitlines() if line.startswith("endpoint"))
    assert "verdict" in header and "found" in header and "explanation" in header
    for sc in SCENARIOS:
        row = next(line for line in out.splitlines() if line.startswith(sc.name + " "))
        if sc.expected_kind:
            assert sc.expected_kind in row, row
        else:
            assert " OK " in row, row
        assert f"== {sc.name}: " in out
    assert "NOT THE EXPECTED DIAGNOSIS" not in out
    assert f"All {len(SCENARIOS)} lab endpoints got the diagnosis" in out
    assert "Traceback" not in proc.stderr


def test_python_dash_m_and_help():
    proc = run_process(["--help"])
    assert proc.returncode == 0
    assert "exit status" in proc.stdout and "0 all checks passed" in proc.stdout


# ---- progress line and --serve ---------------------------------------------------

def run_with_tty_stderr(argv):
    """stdout piped, stderr on a pseudo-terminal: (status, stdout, terminal text)."""
    master, slave = pty.openpty()
    env = dict(os.environ)
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen([sys.executable, "-m", "pytlscheck", *map(str, argv)],
                            stdout=subprocess.PIPE, stderr=slave, env=env)
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            proc.kill()
            break
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    out = proc.stdout.read().decode()
    proc.stdout.close()
    return proc.wait(timeout=60), out, b"".join(chunks).decode()


@pytest.fixture
def silent_server():
    """Accepts TCP connections (the kernel does, from the backlog) and never
    says a word: every TLS handshake with it runs into the timeout."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    yield f"127.0.0.1:{sock.getsockname()[1]}"
    sock.close()


def test_progress_line_only_on_a_terminal_and_only_for_slow_work(lab, silent_server):
    argv = [lab["healthy"].target, silent_server, "--timeout", "1.5",
            "--trust", lab.root_pem_path]
    status, out, terminal = run_with_tty_stderr(argv)
    assert status == 2
    assert "handshake_timeout" in out
    assert "checked 1/2" in terminal       # shown while waiting for the slow one...
    assert terminal.endswith("\r\x1b[K")   # ...and erased at the end
    assert "checked 1/2" not in out        # never on stdout
    # its twin: stderr piped, not a terminal: nothing on it
    proc = run_process(argv)
    assert proc.returncode == 2 and proc.stderr == ""


def test_demo_serve_runs_until_terminated_and_cleans_up(tmp_path):
    root_out = tmp_path / "lab-root.pem"
    proc = subprocess.Popen([sys.executable, "-m", "pytlscheck", "demo", "--serve",
                             "--root-out", str(root_out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("  wildcard_too_deep"):
                break
        text = "".join(lines)
        assert "The lab is running" in text
        expired = next(l for l in lines if l.startswith("  expired ")).split()
        # the printed command line works as printed
        assert expired[1:] == ["pytlscheck", expired[2], "--trust", str(root_out)]
        check = run_process(expired[2:])
        assert check.returncode == 2 and "expired" in check.stdout
        lab_dir = next(l for l in lines if l.startswith("Client certificate")).split()[4]
        assert os.path.exists(lab_dir)
    finally:
        proc.terminate()
        rest, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "stopping the lab" in rest
    assert not os.path.exists(os.path.dirname(lab_dir))  # temporary files gone
