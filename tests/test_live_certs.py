"""Certificate problems seen through a live TLS server on loopback: each
misconfigured server next to its good twin, which differs in exactly the
thing that is broken, so the failure is proved to come from it.
"""
from __future__ import annotations

import time

import pytest

import pytlscheck
from pki import CA, days, mint, pem_of
from servers import tls_server

MARGIN = 2.0


def check(addr, **kw):
    host, port = addr
    kw.setdefault("timeout", 5.0)
    t0 = time.monotonic()
    r = pytlscheck.check(f"{host}:{port}", **kw)
    assert time.monotonic() - t0 <= kw["timeout"] + MARGIN
    return r


@pytest.fixture(scope="module")
def ca():
    root = CA.root("Cert Scenario Root CA")
    return {"root": root, "inter": root.intermediate("Cert Scenario Issuing CA"),
            "other_root": CA.root("Somebody Else's Root CA")}


def serve(leaf, *chain):
    return tls_server(pem_of(leaf, *chain), leaf.key_pem)


def assert_live_commands(report, addr):
    """Every problem of a live report shows the s_client line for this endpoint."""
    host, port = addr
    for p in report.problems:
        assert p.inspect_command.startswith(f"timeout 10 openssl s_client -connect {host}:{port}"), p


def test_expired_and_its_twin(ca):
    inter = ca["inter"]
    expired = inter.leaf("localhost", "127.0.0.1", not_before=days(-100), not_after=days(-3))
    with serve(expired, inter) as addr:
        r = check(addr, trust=ca["root"].pem)
    assert "expired" in r.kinds, r.explain()
    p = next(p for p in r.problems if p.kind == "expired")
    assert p.depth == 0 and "3 days ago" in p.message
    assert_live_commands(r, addr)
    assert r.protocol == "TLSv1.3"        # the handshake itself worked

    fresh = inter.leaf("localhost", "127.0.0.1")
    with serve(fresh, inter) as addr:
        assert check(addr, trust=ca["root"].pem).ok


def test_hostname_mismatch_and_its_twin(ca):
    inter = ca["inter"]
    other = inter.leaf("www.example.test")
    with serve(other, inter) as addr:
        r = check(("localhost", addr[1]), trust=ca["root"].pem)
    assert r.kinds == ["hostname_mismatch"], r.explain()
    assert "www.example.test" in r.problems[0].message
    assert "-servername localhost" in r.problems[0].inspect_command

    right = inter.leaf("localhost")
    with serve(right, inter) as addr:
        assert check(("localhost", addr[1]), trust=ca["root"].pem).ok


def test_incomplete_chain_and_its_twin(ca):
    inter = ca["inter"]
    leaf = inter.leaf("localhost", "127.0.0.1")
    with serve(leaf) as addr:                       # cert.pem instead of fullchain.pem
        r = check(addr, trust=ca["root"].pem)
    assert r.kinds == ["incomplete_chain"], r.explain()
    assert len(r.chain) == 1
    assert "-showcerts" in r.problems[0].inspect_command

    with serve(leaf, inter) as addr:                # fullchain.pem
        r = check(addr, trust=ca["root"].pem)
    assert r.ok, r.explain()
    assert len(r.chain) == 2


def test_self_signed_and_its_twin(ca):
    selfie = mint("localhost", None, dns_names=["localhost"], ip_addresses=["127.0.0.1"],
                  eku=["serverAuth"])
    with serve(selfie) as addr:
        r = check(addr, trust=ca["root"].pem)
        assert "self_signed" in r.kinds, r.explain()
        # the twin: the same server, its certificate explicitly trusted
        r = check(addr, trust=selfie.pem)
    assert "self_signed" not in r.kinds, r.explain()


def test_untrusted_root_and_its_twin(ca):
    inter = ca["inter"]
    leaf = inter.leaf("localhost", "127.0.0.1")
    with serve(leaf, inter, ca["root"]) as addr:    # the root is even served
        r = check(addr, trust=ca["other_root"].pem)
        assert "untrusted_root" in r.kinds, r.explain()
        assert r.verified_chain in (None, [])
        r = check(addr, trust=ca["root"].pem)
    assert r.ok, r.explain()


def test_explain_for_a_misconfigured_server_is_actionable(ca, tmp_path):
    # The "done when": check('127.0.0.1:PORT', trust='root.pem').explain()
    root_file = tmp_path / "root.pem"
    root_file.write_text(ca["root"].pem)
    leaf = ca["inter"].leaf("localhost", "127.0.0.1")
    with serve(leaf) as addr:
        text = check(addr, trust=str(root_file)).explain()
    assert "incomplete" in text.lower()
    assert "fullchain.pem" in text                   # what to change
    assert f"openssl s_client -connect 127.0.0.1:{addr[1]}" in text
    assert "127.0.0.1" in text                        # which address answered


def test_private_ca_server_without_trust_is_unknown_root():
    root = CA.root("Live Private Root")
    inter = root.intermediate("Live Private Issuing CA")
    leaf = inter.leaf("localhost", "127.0.0.1")
    with serve(leaf, inter) as addr:
        r = check(addr)
        assert [p.kind for p in r.problems] == ["unknown_root"], r.explain()
        assert "trust=" in r.problems[0].fix
        assert check(addr, trust=root.pem).ok


def test_self_signed_ca_server_is_one_error():
    ss = mint("localhost", None, is_ca=True, dns_names=["localhost"], ip_addresses=["127.0.0.1"])
    with serve(ss) as addr:
        r = check(addr)
        assert [p.kind for p in r.problems] == ["self_signed"], r.explain()
