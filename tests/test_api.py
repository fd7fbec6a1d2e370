"""The public API's shapes: every accepted input form of verify_chain,
trust-store caching, match_hostname, target parsing, __all__ and docs."""
import inspect
import os
import re
import time
from pathlib import Path

import pytest

import pytlscheck
from pki import CA, mint, pem_of
from pytlscheck import Certificate, HostnameMatch, match_hostname, verify_chain
from pytlscheck import api
from pytlscheck._target import Target, parse_target

HOST = "api.example.com"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def leaf(inter):
    return inter.leaf(HOST, "10.0.0.7")


# ---- chain input forms ----------------------------------------------------

def test_chain_forms_give_the_same_verdict(tmp_path, leaf, inter, root):
    trust = root.pem
    path = tmp_path / "fullchain.pem"
    path.write_text(pem_of(leaf, inter))
    der_leaf = tmp_path / "leaf.der"
    der_leaf.write_bytes(leaf.der)
    forms = [
        str(path),                                   # path str
        path,                                        # PathLike
        pem_of(leaf, inter),                         # PEM text
        pem_of(leaf, inter).encode(),                # PEM bytes
        [Certificate.from_pem(leaf.pem), Certificate.from_pem(inter.pem)],
        (Certificate.from_pem(leaf.pem), Certificate.from_pem(inter.pem)),
        [leaf.der, inter.der],                       # list of DER
        [leaf.pem, inter.pem],                       # list of PEM text
        [str(der_leaf), inter.pem],                  # a path inside the list
    ]
    for form in forms:
        r = verify_chain(form, hostname=HOST, trust=trust)
        assert r.ok and not r.problems, (type(form), r.explain())
        assert [c.der for c in r.chain] == [leaf.der, inter.der]


def test_single_certificate_forms(leaf, root):
    for form in (Certificate.from_pem(leaf.pem), leaf.der, leaf.pem):
        r = verify_chain(form, hostname=HOST, trust=root.pem)
        assert [p.kind for p in r.problems] == ["incomplete_chain"]


def test_source_names_the_file(tmp_path, leaf, inter, root):
    path = tmp_path / "served-chain.pem"
    path.write_text(leaf.pem)
    r = verify_chain(str(path), trust=root.pem)
    assert r.source == "served-chain.pem"
    assert "served-chain.pem" in r.explain().splitlines()[0]


# ---- trust input forms and caching ----------------------------------------

def test_trust_forms(tmp_path, leaf, inter, root, other_root):
    chain = pem_of(leaf, inter)
    root_file = tmp_path / "root.pem"
    root_file.write_text(root.pem)
    bundle = tmp_path / "bundle.pem"
    bundle.write_text(pem_of(other_root, root))
    d = tmp_path / "anchors"
    d.mkdir()
    (d / "root.pem").write_text(root.pem)
    forms = [str(root_file), root_file, str(bundle), root.pem, root.pem.encode(), root.der,
             Certificate.from_pem(root.pem), [Certificate.from_pem(root.pem)],
             [Certificate.from_pem(other_root.pem), Certificate.from_pem(root.pem)]]
    for form in forms:
        r = verify_chain(chain, hostname=HOST, trust=form)
        assert r.ok and not r.problems, (form, r.explain())
        assert r.trust
    # a directory of PEM files (hashed or not)
    r = verify_chain(chain, hostname=HOST, trust=str(d))
    assert r.ok, r.explain()
    # negative twin: the wrong anchors
    r = verify_chain(chain, hostname=HOST, trust=other_root.pem)
    assert not r.ok


def test_system_trust_does_not_trust_a_private_root(leaf, inter, root):
    r = verify_chain(pem_of(leaf, inter, root), hostname=HOST)
    assert not r.ok
    assert "untrusted_root" in [p.kind for p in r.problems]
    assert "system" in (r.trust or "").lower()


def test_ssl_cert_file_chooses_the_system_roots(tmp_path, leaf, inter, root, monkeypatch):
    bundle = tmp_path / "my-roots.pem"
    bundle.write_text(root.pem)
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    r = verify_chain(pem_of(leaf, inter), hostname=HOST)
    assert r.ok, r.explain()


def test_trust_store_cache(tmp_path, leaf, inter, root, other_root):
    api._TRUST_CACHE.clear()
    p = tmp_path / "root.pem"
    p.write_text(root.pem)
    s1, k1 = api._trust_store(str(p))
    s2, k2 = api._trust_store(str(p))
    assert s1 is s2 and k1 == k2
    # same bytes, same store; different bytes, another one
    assert api._trust_store(root.pem)[0] is api._trust_store(root.pem.encode())[0]
    assert api._trust_store(root.pem)[0] is not api._trust_store(other_root.pem)[0]
    # a changed file is read again
    time.sleep(0.01)
    p.write_text(other_root.pem)
    os.utime(p, ns=(time.time_ns(), time.time_ns() + 10_000_000))
    s3, _ = api._trust_store(str(p))
    assert s3 is not s1
    assert not verify_chain(pem_of(leaf, inter), hostname=HOST, trust=str(p)).ok


def test_trust_cache_is_bounded():
    api._TRUST_CACHE.clear()
    for i in range(40):
        api._trust_store(CA.root(f"Root {i}").pem)
    assert len(api._TRUST_CACHE._items) <= 16


# ---- match_hostname ---------------------------------------------------------

@pytest.mark.parametrize("san,host,ok,matched", [
    ("api.example.com", "api.example.com", True, "api.example.com"),
    ("api.example.com", "API.EXAMPLE.COM.", True, "api.example.com"),
    ("*.example.com", "www.example.com", True, "*.example.com"),
    ("*.example.com", "a.b.example.com", False, None),
    ("*.example.com", "example.com", False, None),
    ("api.example.com", "www.example.com", False, None),
    ("10.0.0.7", "10.0.0.7", True, "10.0.0.7"),
    ("10.0.0.7", "10.0.0.8", False, None),
    ("2001:db8::7", "2001:DB8:0:0::7", True, "2001:db8::7"),
    ("xn--bcher-kva.example", "bücher.example", True, "xn--bcher-kva.example"),
])
def test_match_hostname(inter, san, host, ok, matched):
    cert = Certificate.from_pem(inter.leaf(san).pem)
    m = match_hostname(cert, host)
    assert isinstance(m, HostnameMatch)
    assert m.ok is ok and m.matched_name == matched
    assert m.reason and isinstance(m.reason, str)
    assert bool(m) is ok
    a, b, c = m
    assert (a, b, c) == (m.ok, m.matched_name, m.reason)


def test_match_hostname_reasons(inter):
    cert = Certificate.from_pem(inter.leaf("*.example.com").pem)
    m = match_hostname(cert, "api.eu.example.com")
    assert "*.example.com" in m.reason and "api.eu.example.com" in m.reason
    cn_only = Certificate.from_pem(mint(HOST, inter).pem)
    m = match_hostname(cn_only, HOST)
    assert not m.ok
    assert re.search(r"CN|common name", m.reason, re.I)


def test_match_hostname_accepts_pem_and_der(inter):
    leaf = inter.leaf(HOST)
    assert match_hostname(leaf.pem, HOST).ok
    assert match_hostname(leaf.der, HOST).ok
    with pytest.raises(TypeError):
        match_hostname(42, HOST)


def test_hostname_match_is_frozen():
    m = HostnameMatch(True, "a", "b")
    with pytest.raises(Exception):
        m.ok = False


# ---- target parsing -------------------------------------------------------

@pytest.mark.parametrize("target,port,expect", [
    ("example.com", None, ("example.com", 443, False)),
    ("Example.COM.", None, ("example.com", 443, False)),
    ("example.com", 8443, ("example.com", 8443, False)),
    ("example.com:8443", None, ("example.com", 8443, False)),
    ("example.com:8443", 8443, ("example.com", 8443, False)),
    ("127.0.0.1", None, ("127.0.0.1", 443, True)),
    ("127.0.0.1:9", None, ("127.0.0.1", 9, True)),
    ("[::1]:8443", None, ("::1", 8443, True)),
    ("[::1]", 993, ("::1", 993, True)),
    ("::1", None, ("::1", 443, True)),
    ("https://api.example.com", None, ("api.example.com", 443, False)),
    ("https://api.example.com:8443/path?q=1", None, ("api.example.com", 8443, False)),
    ("HTTPS://[::1]:4443/", None, ("::1", 4443, True)),
    ("https://bücher.example/", None, ("xn--bcher-kva.example", 443, False)),
    ("  example.com  ", None, ("example.com", 443, False)),
])
def test_parse_target(target, port, expect):
    t = parse_target(target, port)
    assert isinstance(t, Target)
    assert (t.host, t.port, t.is_ip) == expect


@pytest.mark.parametrize("target,port,words", [
    ("", None, "empty"),
    ("http://example.com", None, "http://"),
    ("gopher://example.com", None, "gopher://"),   # ftp:// is a STARTTLS scheme now
    ("example.com:0", None, "out of range"),
    ("example.com:70000", None, "out of range"),
    ("example.com:https", None, "not a port"),
    ("example.com:8443", 443, "port once"),
    ("[::1", None, "never closes"),
    ("[example.com]:443", None, "not an IPv6"),
    ("1:2:3", None, "IPv6"),
    ("exa mple.com", None, "exa mple.com"),
    ("https://user:pw@example.com", None, "credentials"),
    (":443", None, "no host"),
])
def test_parse_target_errors(target, port, words):
    with pytest.raises(ValueError) as e:
        parse_target(target, port)
    assert words in str(e.value)


def test_parse_target_types():
    with pytest.raises(TypeError):
        parse_target(b"example.com")
    with pytest.raises(TypeError):
        parse_target("example.com", True)


@pytest.mark.parametrize("kwargs,exc", [
    ({"timeout": 0}, ValueError),
    ({"timeout": -1}, ValueError),
    ({"timeout": "10"}, ValueError),   # one rule for timeout: see test_timeout_rule.py
    ({"server_name": "bad name"}, ValueError),
    ({"client_key": "-----BEGIN PRIVATE KEY-----\nAA\n-----END PRIVATE KEY-----\n"}, ValueError),
    ({"min_days": -3}, ValueError),
])
def test_check_argument_errors_raise_before_connecting(kwargs, exc):
    with pytest.raises(exc):
        pytlscheck.check("127.0.0.1", 9, **kwargs)


def test_check_bad_target_raises():
    with pytest.raises(ValueError):
        pytlscheck.check("http://example.com")
    with pytest.raises(ValueError):
        pytlscheck.verify("exa mple.com")


# ---- the public surface ----------------------------------------------------

def test_all_names_exist():
    for name in pytlscheck.__all__:
        assert hasattr(pytlscheck, name), name


def test_all_matches_docs_api_md():
    doc = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    m = re.search(r"<!-- __all__ -->(.*?)<!-- /__all__ -->", doc, re.S)
    assert m, "docs/api.md lacks the __all__ block"
    documented = re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", m.group(1))
    assert sorted(documented) == sorted(pytlscheck.__all__)


def test_signatures_are_as_documented():
    sig = inspect.signature(pytlscheck.verify_chain)
    assert list(sig.parameters) == ["chain", "hostname", "trust", "at", "purpose", "crls",
                                    "max_depth", "min_days", "min_remaining", "ekus"]
    assert all(p.kind is p.KEYWORD_ONLY for n, p in sig.parameters.items() if n != "chain")
    for f in (pytlscheck.check, pytlscheck.verify):
        sig = inspect.signature(f)
        assert list(sig.parameters) == ["target", "port", "server_name", "trust", "timeout",
                                        "min_days", "min_remaining", "client_cert", "client_key",
                                        "starttls", "probe"]
        assert sig.parameters["timeout"].default == 10.0
        assert sig.parameters["min_days"].default == 30


def test_py_typed_and_stub_exist():
    pkg = Path(pytlscheck.__file__).parent
    assert (pkg / "py.typed").exists()
    assert (pkg / "_core.pyi").exists()


def test_core_is_multi_phase_with_heap_types():
    from pytlscheck import _core
    assert _core.TrustStore.__module__ == "pytlscheck._core"
    with pytest.raises(TypeError):
        _core.TrustStore()          # made only by its class methods
    with pytest.raises(TypeError):
        _core.TrustStore.x = 1      # immutable type
    assert _core.__spec__ is not None
    assert _core.PURPOSE_SERVER != _core.PURPOSE_CLIENT


def test_core_loads_in_a_subinterpreter():
    """No mutable C globals: the module initialises again in another interpreter."""
    try:
        import _testcapi
    except ImportError:
        pytest.skip("needs _testcapi")
    pkg_parent = str(Path(pytlscheck.__file__).resolve().parent.parent)
    code = (f"import sys; sys.path.insert(0, {pkg_parent!r})\n"
            "import pytlscheck._core as c\n"
            "assert len(c.kinds()) > 20\n"
            "assert c.TrustStore.from_der is not None\n")
    assert _testcapi.run_in_subinterp(code) == 0


def test_idna_without_the_idna_package(monkeypatch, inter):
    """Without the `idna` package the standard library's codec converts."""
    import sys
    from pytlscheck._target import to_ascii
    monkeypatch.setitem(sys.modules, "idna", None)   # import idna -> ImportError
    assert to_ascii("bücher.example") == "xn--bcher-kva.example"
    assert to_ascii("bücher.example.") == "xn--bcher-kva.example."
    leaf = inter.leaf("xn--bcher-kva.example")
    assert match_hostname(leaf.pem, "bücher.example").ok
    with pytest.raises(ValueError) as e:
        to_ascii("a" * 70 + "ü.example")
    assert "not a valid internationalised domain name" in str(e.value)
