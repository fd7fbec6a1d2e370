"""The pytest plugin, as a user meets it: a test file of theirs run by
pytest (pytester), a passing test and a failing one, and the failure text
they see: the report's explanation, no traceback into pytlscheck."""
from __future__ import annotations

import re
from importlib.metadata import entry_points

import pytest

from pytlscheck.lab import Lab

pytest_plugins = ["pytester"]


def _plugin_args():
    """Load the plugin the way the installed package does (the pytest11
    entry point); from a bare checkout, name it with -p instead."""
    registered = any(ep.value == "pytlscheck.pytest_plugin"
                     for ep in entry_points(group="pytest11"))
    return [] if registered else ["-p", "pytlscheck.pytest_plugin"]


@pytest.fixture(scope="module")
def lab():
    with Lab(only=["healthy", "expired", "expiring_soon"]) as lab:
        yield lab


USER_TESTS = '''
from pytlscheck.testing import assert_tls_healthy

ROOT = {root!r}

def test_healthy_service():
    assert_tls_healthy("{healthy}", server_name="localhost", trust=ROOT)

def test_expired_service():
    assert_tls_healthy("{expired}", server_name="localhost", trust=ROOT)
'''


def test_assert_tls_healthy_pass_and_fail_as_the_user_sees_it(pytester, lab):
    pytester.makepyfile(test_user=USER_TESTS.format(
        root=lab.root_pem_path, healthy=lab["healthy"].target, expired=lab["expired"].target))
    result = pytester.runpytest(*_plugin_args(), "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    out = result.stdout.str()
    # the explanation is the assertion message: verdict, what, fix, command
    result.stdout.fnmatch_lines([
        "*test_expired_service*",
        "E * FAIL: the TLS endpoint 127.0.0.1:* has a problem: expired*",
        "*What is wrong: *expired on *",
        "*Fix: Renew the certificate*",
        "*openssl s_client -connect 127.0.0.1:*",
    ])
    # no traceback into pytlscheck's internals: only the user's own frame
    failure = out[out.index("test_expired_service"):]
    assert "pytlscheck/testing.py" not in failure
    assert "pytlscheck/api.py" not in failure
    assert "raise AssertionError" not in failure
    assert re.search(r"test_user\.py:\d+: AssertionError", failure), failure


def test_min_days_makes_a_soon_expiring_certificate_fail(pytester, lab):
    pytester.makepyfile(test_soon=f'''
from pytlscheck.testing import assert_tls_healthy

def test_soon():
    assert_tls_healthy("{lab["expiring_soon"].target}", min_days=30,
                       server_name="localhost", trust={lab.root_pem_path!r})

def test_soon_lenient():
    assert_tls_healthy("{lab["expiring_soon"].target}", min_days=2,
                       server_name="localhost", trust={lab.root_pem_path!r})

def test_soon_by_fraction():
    # 5 days of 90 left: past a third, although more than 2 days remain
    assert_tls_healthy("{lab["expiring_soon"].target}", min_days=2, min_remaining=0.33,
                       server_name="localhost", trust={lab.root_pem_path!r})
''')
    result = pytester.runpytest(*_plugin_args(), "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(["*expires_soon*"])


def test_tls_check_fixture_defaults_from_options(pytester, lab):
    pytester.makepyfile(test_fixture=f'''
def test_defaults(tls_check):
    assert tls_check.min_days == 3
    assert tls_check.trust == {lab.root_pem_path!r}
    report = tls_check("{lab["expiring_soon"].target}", server_name="localhost")
    assert report.ok and report.problems == []          # 5 days left > 3

def test_override(tls_check):
    report = tls_check("{lab["expiring_soon"].target}", server_name="localhost", min_days=30)
    assert [p.kind for p in report.problems] == ["expires_soon"]

def test_assert_healthy_method(tls_check):
    tls_check.assert_healthy("{lab["healthy"].target}", server_name="localhost")
''')
    result = pytester.runpytest(*_plugin_args(), "-p", "no:cacheprovider",
                                "--tls-min-days", "3", "--tls-trust", lab.root_pem_path)
    result.assert_outcomes(passed=3)


def test_tls_check_fixture_without_options_uses_system_trust(pytester, lab):
    pytester.makepyfile(test_plain=f'''
def test_plain(tls_check):
    assert tls_check.min_days == 30 and tls_check.trust is None
    report = tls_check("{lab["healthy"].target}", server_name="localhost")
    assert not report.ok      # the lab root is not in the system store
''')
    result = pytester.runpytest(*_plugin_args(), "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_tls_lab_fixture_is_session_scoped(pytester):
    pytester.makepyfile(test_lab_fixture='''
import pytest
from pytlscheck.testing import assert_tls_healthy

seen = []

@pytest.mark.parametrize("name", ["healthy", "expired"])
def test_lab(tls_lab, name):
    seen.append(id(tls_lab))
    ep = tls_lab.endpoints[name]
    if name == "healthy":
        assert_tls_healthy(ep, trust=tls_lab.root_pem_path)
    else:
        with pytest.raises(AssertionError, match="expired"):
            assert_tls_healthy(ep, trust=tls_lab.root_pem_path)

def test_same_lab(tls_lab):
    assert len(set(seen)) == 1 and seen[0] == id(tls_lab)
''')
    result = pytester.runpytest(*_plugin_args(), "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


def test_options_are_documented_in_help(pytester):
    result = pytester.runpytest(*_plugin_args(), "--help")
    result.stdout.fnmatch_lines(["*--tls-min-days=N*", "*--tls-trust=NAME|FILE|DIR*"])


# ---- the "TLS diagnosis" section (issue 17) ------------------------------------

REQUESTS_TESTS = '''
import requests

URL = {url!r}
ROOT = {root!r}

def test_calls_the_expired_server():
    requests.get(URL, verify=ROOT, timeout=5)

def test_calls_it_again():
    requests.get(URL, verify=ROOT, timeout=5)

def test_fails_otherwise():
    assert 1 + 1 == 3
'''


def test_a_failing_test_shows_the_tls_diagnosis(pytester, lab, monkeypatch):
    pytest.importorskip("requests")
    import pytlscheck._diagnose as diagnose_module

    checked = []
    real_check = diagnose_module.check

    def counting_check(target, **kwargs):
        checked.append((target, kwargs.get("timeout")))
        return real_check(target, **kwargs)

    # pytester runs pytest in this process: count the checks it makes
    monkeypatch.setattr(diagnose_module, "check", counting_check)
    pytester.makepyfile(test_client=REQUESTS_TESTS.format(url=lab["expired"].url,
                                                          root=lab.root_pem_path))
    result = pytester.runpytest(*_plugin_args(), "-p", "no:cacheprovider")
    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines([
        "*_ test_calls_the_expired_server _*",
        "*- TLS diagnosis -*",
        "TLS diagnosis (pytlscheck):",
        "FAIL  localhost:*: expired",
        "*Your client (requests) reported CERTIFICATE_VERIFY_FAILED: certificate has expired*",
        "*agrees: expired*",
        "*Fix: Renew the certificate*",
    ])
    out = result.stdout.str()
    assert out.count("- TLS diagnosis -") == 2          # not for the plain failure
    plain = out[out.index("_ test_fails_otherwise _"):]
    assert "TLS diagnosis" not in plain.split("short test summary")[0]
    # one check for the one endpoint, with the plugin's short timeout
    assert checked == [(f"localhost:{lab['expired'].port}", 3.0)]


def test_no_tls_diagnose_turns_it_off(pytester, lab):
    pytest.importorskip("requests")
    pytester.makepyfile(test_client=REQUESTS_TESTS.format(url=lab["expired"].url,
                                                          root=lab.root_pem_path))
    result = pytester.runpytest(*_plugin_args(), "-p", "no:cacheprovider",
                                "--no-tls-diagnose")
    result.assert_outcomes(failed=3)
    assert "TLS diagnosis" not in result.stdout.str()
    assert "CERTIFICATE_VERIFY_FAILED" in result.stdout.str()   # the failure itself stays


def test_diagnose_options_are_documented_in_help(pytester):
    result = pytester.runpytest(*_plugin_args(), "--help")
    result.stdout.fnmatch_lines(["*--no-tls-diagnose*", "*--tls-diagnose-timeout=SECONDS*"])
