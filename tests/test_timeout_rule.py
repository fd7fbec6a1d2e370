"""One rule and one wording for `timeout` at every entry point (issue 12,
item 4): check, check_many, iter_check_many, check_async,
check_many_async and the CLI give the same ValueError message."""
import asyncio
import subprocess
import sys

import pytest

import pytlscheck
from pytlscheck import many

BAD = [0, -1, float("nan"), float("inf"), 1e6, "soon"]


def _msg(value):
    return ("timeout must be a number of seconds greater than 0 and at most 86400 "
            f"(one day), not {value!r}")


def _check(t):
    pytlscheck.check("localhost", 1, timeout=t)


def _check_many(t):
    many.check_many(["localhost:1"], timeout=t)


def _iter_check_many(t):
    list(many.iter_check_many(["localhost:1"], timeout=t))


def _check_async(t):
    asyncio.run(many.check_async("localhost:1", timeout=t))


def _check_many_async(t):
    asyncio.run(many.check_many_async(["localhost:1"], timeout=t))


ENTRY = [_check, _check_many, _iter_check_many, _check_async, _check_many_async]


@pytest.mark.parametrize("value", BAD, ids=repr)
@pytest.mark.parametrize("entry", ENTRY, ids=lambda f: f.__name__.lstrip("_"))
def test_every_entry_point_same_timeout_error(entry, value):
    with pytest.raises(ValueError) as ei:
        entry(value)
    assert str(ei.value) == _msg(value)


@pytest.mark.parametrize("text,value", [("0", 0.0), ("-1", -1.0), ("nan", float("nan")),
                                        ("inf", float("inf")), ("1e6", 1e6), ("soon", "soon")])
def test_cli_timeout_error_is_the_same_message(text, value):
    r = subprocess.run([sys.executable, "-m", "pytlscheck", "--timeout", text,
                        "localhost:1"], capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    assert _msg(value) in r.stderr
    assert "Traceback" not in r.stderr
