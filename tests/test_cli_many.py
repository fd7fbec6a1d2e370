"""The pytlscheck command with many targets: targets from files and stdin
(comments, blank lines), --jsonl streaming one report per line, invalid
lines named by file and line before anything connects, --concurrency, and
the progress line on a terminal while check_many runs."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from pki import pem_of
from pytlscheck import cli
from servers import raw_server, tls_server

from test_cli import ANSI, run_with_tty_stderr


@pytest.fixture(scope="module")
def pki(root, inter, tmp_path_factory):
    leaf = inter.leaf("localhost", "127.0.0.1")
    d = tmp_path_factory.mktemp("cli-many")
    root_file = d / "root.pem"
    root_file.write_text(root.pem)
    return {"root": str(root_file), "chain": pem_of(leaf, inter), "key": leaf.key_pem}


@pytest.fixture(scope="module")
def good(pki):
    with tls_server(pki["chain"], pki["key"]) as (h, p):
        yield f"{h}:{p}"


@pytest.fixture
def silent():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    yield f"127.0.0.1:{sock.getsockname()[1]}"
    sock.close()


def run(argv, capsys):
    status = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_targets_from_a_file_with_comments(pki, good, tmp_path, capsys):
    with raw_server("http") as (h, p):
        listing = tmp_path / "hosts.txt"
        listing.write_text(f"# production\n{good}\n\n  {h}:{p}   # the admin port\n{good}\n")
        status, out, err = run(["--from", listing, "--trust", pki["root"]], capsys)
    assert status == 2
    assert out.count("OK ") == 2 and out.count("FAIL") == 1
    assert "not_tls" in out
    assert out.rstrip().endswith("3 checked: 2 ok, 0 with warnings, 1 failing")
    assert err == ""


def test_targets_from_stdin_and_arguments_together(pki, good):
    proc = subprocess.run([sys.executable, "-m", "pytlscheck", good, "--from", "-",
                           "--trust", pki["root"], "--json"],
                          input=f"{good}\n# nothing\n{good}\n", capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["summary"] == {"total": 3, "ok": 3, "warnings": 0, "errors": 0}


def test_jsonl_streams_one_report_per_line(pki, good, silent, capsys):
    status, out, err = run([good, silent, good, "--timeout", "1", "--trust", pki["root"],
                            "--jsonl"], capsys)
    assert status == 2
    lines = out.splitlines()
    assert len(lines) == 3
    docs = [json.loads(line) for line in lines]
    assert sorted(d["index"] for d in docs) == [0, 1, 2]
    assert docs[-1]["index"] == 1           # the silent one comes last: streamed
    by_index = {d["index"]: d for d in docs}
    assert by_index[0]["ok"] and by_index[2]["ok"]
    assert [p["kind"] for p in by_index[1]["problems"]] == ["handshake_timeout"]
    assert set(docs[0]) == {"index"} | set(docs[1]) - {"index"}
    assert err == ""


def test_jsonl_and_json_exclude_each_other(good, capsys):
    status, out, err = run([good, "--json", "--jsonl"], capsys)
    assert status == 3 and "choose one" in err and out == ""


def test_invalid_lines_are_named_and_nothing_connects(tmp_path, capsys):
    accepted = []
    with raw_server(lambda conn: accepted.append(1)) as (h, p):
        listing = tmp_path / "hosts.txt"
        listing.write_text(f"{h}:{p}\nbad host\n{h}:{p}\nhttp://x.test\n")
        status, out, err = run([f"{h}:{p}", "--from", listing], capsys)
    assert status == 3 and out == ""
    errors = [line for line in err.splitlines() if ": error: " in line]
    assert len(errors) == 1
    assert f"line 2 of {listing}" in errors[0] and "'bad host'" in errors[0]
    assert f"line 4 of {listing}" in errors[0] and "http://" in errors[0]
    assert "2 targets are not valid" in errors[0]
    assert accepted == []


@pytest.mark.parametrize("argv, says", [
    (["--from", "/nonexistent/hosts.txt"], "/nonexistent/hosts.txt"),
    (["x.test", "--concurrency", "0"], "--concurrency"),
    (["x.test", "--concurrency", "many"], "--concurrency"),
])
def test_bad_many_arguments_exit_3(argv, says, capsys):
    status, out, err = run(argv, capsys)
    assert status == 3 and out == ""
    assert "Traceback" not in err and says in err


def test_empty_file_is_no_target(tmp_path, capsys):
    listing = tmp_path / "empty.txt"
    listing.write_text("# nothing yet\n\n")
    status, out, err = run(["--from", listing], capsys)
    assert status == 3 and "TARGET" in err


def test_concurrency_above_the_descriptor_limit_says_so(good):
    code = ("import resource, sys\n"
            "resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))\n"
            "from pytlscheck import cli\n"
            f"sys.exit(cli.main([{good!r}] * 400 + ['--concurrency', '5000']))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 3
    assert "at most 256" in proc.stderr and "Traceback" not in proc.stderr


def test_progress_line_ticks_while_a_batch_runs(pki, good, silent):
    """stderr on a terminal: the progress line is drawn while the slow
    target is still running, and erased at the end."""
    argv = [good, silent, good, "--timeout", "1.6", "--trust", pki["root"]]
    status, out, terminal = run_with_tty_stderr(argv)
    assert status == 2
    assert "checked 2/3" in terminal
    assert terminal.endswith("\r\x1b[K")
    assert "checked 2/3" not in out and not ANSI.search(out)
