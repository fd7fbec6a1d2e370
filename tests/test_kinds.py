"""The Python kinds and exceptions match the C core's table, and
docs/kinds.md is what tools/gen_kinds_doc.py makes of it."""
import importlib.util
import inspect
import socket
from pathlib import Path

import pytest

import pytlscheck
from pytlscheck import _core, errors

ROOT = Path(__file__).resolve().parent.parent

ISSUE_KINDS = {
    # certificate kinds (issue 2)
    "expired", "not_yet_valid", "hostname_mismatch", "incomplete_chain", "self_signed",
    "untrusted_root", "unknown_root", "weak_signature", "weak_key", "revoked", "invalid_purpose",
    "invalid_ca", "path_length_exceeded", "name_constraints_violation",
    "malformed_certificate", "chain_invalid", "expires_soon",
    # connection and handshake kinds (issue 3)
    "dns_failure", "connection_refused", "connection_timeout", "connection_reset",
    "not_tls", "protocol_mismatch", "no_shared_cipher", "client_certificate_required",
    "handshake_timeout", "handshake_failure",
}

BASES = (errors.CertificateProblem, errors.ConnectionProblem, errors.HandshakeProblem)


def test_python_kinds_equal_the_c_table():
    rows = _core.kinds()
    assert list(pytlscheck.KINDS) == [r["name"] for r in rows]   # same order
    for r in rows:
        k = pytlscheck.KINDS[r["name"]]
        assert k.severity == r["severity"] in ("error", "warning")
        assert k.exception.__name__ == r["exception"]
        assert (k.message, k.fix, k.cause) == (r["message"], r["fix"], r["cause"])
        assert k.message and k.fix and k.cause


def test_every_live_s_client_command_has_a_time_limit():
    """An s_client command against a server that accepts and never speaks
    waits forever; every one the table gives carries `timeout 10`."""
    seen = 0
    for r in _core.kinds():
        for part in r["see_live"].split("\n"):
            if "s_client" in part and "-connect" in part:
                seen += 1
                # {starttls}: "-starttls smtp" after a STARTTLS check, else nothing.
                assert part.startswith("timeout 10 openssl s_client {starttls} -connect "), (r["name"], part)
    assert seen >= 20


def test_every_issue_kind_is_in_the_table():
    assert ISSUE_KINDS <= set(pytlscheck.KINDS)
    assert [k for k, v in pytlscheck.KINDS.items() if v.severity == "warning"] == [
        "expires_soon", "profile_deviation", "revocation_not_checked", "ocsp_staple_invalid",
        "legacy_protocol", "weak_cipher", "no_forward_secrecy", "weak_dh",
        "client_certificate_requested",
        "client_certificate_not_accepted",
        "chain_wrong_order", "chain_duplicates", "chain_unneeded_certificates",
        "chain_includes_root", "chain_extra_round_trip"]


def test_every_c_exception_exists_in_python():
    for r in _core.kinds():
        cls = getattr(pytlscheck, r["exception"], None)
        assert inspect.isclass(cls), r["exception"]
        assert issubclass(cls, pytlscheck.TLSCheckError)
        assert issubclass(cls, BASES)
        assert r["exception"] in pytlscheck.__all__


def test_every_python_kind_exception_is_in_the_c_table():
    in_table = {r["exception"] for r in _core.kinds()}
    concrete = {name for name, obj in vars(errors).items()
                if inspect.isclass(obj) and issubclass(obj, BASES) and obj not in BASES}
    assert concrete == in_table


@pytest.mark.parametrize("kind,bases", [
    ("dns_failure", (socket.gaierror, OSError)),
    ("connection_refused", (ConnectionRefusedError,)),
    ("connection_timeout", (TimeoutError,)),
    ("connection_reset", (ConnectionResetError,)),
    ("handshake_timeout", (TimeoutError,)),
])
def test_connection_exceptions_are_also_builtins(kind, bases):
    cls = pytlscheck.KINDS[kind].exception
    exc = cls("something went wrong")
    for b in bases:
        assert isinstance(exc, b)
    assert isinstance(exc, pytlscheck.TLSCheckError)
    assert str(exc) == "something went wrong"   # never "[Errno ...]"
    assert exc.errno is not None
    with pytest.raises(bases[0]):
        raise exc


def test_category_of_each_kind():
    """The table's category column is the exception's base class."""
    bases = {"certificate": pytlscheck.CertificateProblem,
             "connection": pytlscheck.ConnectionProblem,
             "handshake": pytlscheck.HandshakeProblem}
    seen = set()
    for r in _core.kinds():
        info = pytlscheck.KINDS[r["name"]]
        assert issubclass(info.exception, bases[r["category"]]), r["name"]
        for other, base in bases.items():
            if other != r["category"]:
                assert not issubclass(info.exception, base), r["name"]
        seen.add(r["category"])
    assert seen == set(bases)


def test_kinds_that_break_the_path_leave_no_verified_chain():
    breaking = {r["name"] for r in _core.kinds() if r["breaks_path"]}
    assert breaking == {"incomplete_chain", "unknown_root", "untrusted_root", "self_signed",
                        "invalid_ca", "path_length_exceeded", "name_constraints_violation",
                        "invalid_policy", "revoked"}
    assert all(r["category"] == "certificate" for r in _core.kinds() if r["breaks_path"])


def _generator():
    spec = importlib.util.spec_from_file_location("gen_kinds_doc", ROOT / "tools" / "gen_kinds_doc.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.skipif(not (ROOT / "tools" / "gen_kinds_doc.py").exists(), reason="source tree only")
def test_docs_kinds_md_is_up_to_date():
    text = _generator().render(_core.kinds())
    assert (ROOT / "docs" / "kinds.md").read_text(encoding="utf-8") == text, \
        "docs/kinds.md is stale: run python tools/gen_kinds_doc.py"
    for name in pytlscheck.KINDS:
        assert f"| `{name}` |" in text
