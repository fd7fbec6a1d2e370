"""A chain path that is a FIFO, a device or a file over the core's 16 MiB
bound is refused at once with an error naming the file, through
verify_chain and through `pytlscheck file` (issue 12, item 2).  The bound
on "at once" is a subprocess timeout: the old plain open()/read() blocked
on a FIFO without a writer and read /dev/zero forever."""
import os
import subprocess
import sys

import pytest

TIMEOUT = 30   # generous for a loaded machine; a hang never finishes


def _special(kind, tmp_path):
    if kind == "fifo":
        p = tmp_path / "chain.fifo"
        os.mkfifo(p)
        return str(p)
    if kind == "big":
        p = tmp_path / "big.pem"
        with open(p, "wb") as f:
            f.truncate(17 * 1024 * 1024)
        return str(p)
    return kind


KINDS = ["fifo", "/dev/zero", "/dev/null", "big"]


def _run(args):
    return subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT,
                          stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("kind", KINDS)
def test_verify_chain_special_path_answers_at_once(kind, tmp_path):
    path = _special(kind, tmp_path)
    code = ("import sys, pytlscheck\n"
            "try:\n"
            "    pytlscheck.verify_chain(sys.argv[1])\n"
            "except (ValueError, OSError) as e:\n"
            "    print('ERR', e)\n"
            "    sys.exit(3)\n")
    r = _run([sys.executable, "-c", code, path])
    assert r.returncode == 3, r.stderr
    assert r.stdout.startswith("ERR ")
    assert path in r.stdout


@pytest.mark.parametrize("kind", KINDS)
def test_cli_file_special_path_answers_at_once(kind, tmp_path):
    path = _special(kind, tmp_path)
    r = _run([sys.executable, "-m", "pytlscheck", "file", path])
    assert r.returncode != 0
    assert "Traceback" not in r.stderr
    assert path in r.stderr
    assert "error:" in r.stderr


def test_big_file_error_says_why(tmp_path):
    path = _special("big", tmp_path)
    import pytlscheck
    with pytest.raises(ValueError, match="16 MiB"):
        pytlscheck.verify_chain(path)
