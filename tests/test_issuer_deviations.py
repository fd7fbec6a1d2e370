"""What RFC 5280 asks of the issuing CA but relying parties accept (issue
16, items 1 and 5): a warning about the issuer (profile_deviation), not an
error; and, for a CA's basicConstraints not marked critical, exactly which
clients refuse it, shown with Python's own ssl module."""
from __future__ import annotations

import base64
import socket
import ssl
import sys
from pathlib import Path

import pytest

import pytlscheck
from pytlscheck import _words
from pki import CA, days, pem_of
from servers import tls_server

sys.path.insert(0, str(Path(__file__).parent / "conformance"))
import _der  # noqa: E402  (re-signing a certificate whose validity field is edited)

HOST = "deviation.test"


def python_handshake(host, port, root_pem, strict):
    ctx = ssl.create_default_context(cadata=root_pem)
    if strict:
        ctx.verify_flags |= ssl.VERIFY_X509_STRICT
    with socket.create_connection((host, port), timeout=5) as sock:
        ctx.wrap_socket(sock, server_hostname=HOST).close()


def test_an_intermediate_with_non_critical_basic_constraints_is_a_warning():
    root = CA.root("Deviation Root")
    inter = root.intermediate("Easy-RSA Style CA", bc_critical=False)
    leaf = inter.leaf(HOST, "127.0.0.1")
    r = pytlscheck.verify_chain(pem_of(leaf, inter), hostname=HOST, trust=root.pem)
    assert r.ok and r.kinds == ["profile_deviation"], r.explain()
    p = r.problems[0]
    assert p.severity == "warning" and p.depth == 1 and p.exception is pytlscheck.ProfileDeviation
    assert "basicConstraints (CA:TRUE) is not marked critical" in p.message
    assert "Python 3.13 and later refuse it by default" in p.message
    assert "openssl verify -x509_strict" in p.message
    assert r.verified_chain, "a warning leaves the path verified"
    # What the words claim, with this interpreter's ssl module: the default
    # context of 3.11/3.12 accepts the chain; VERIFY_X509_STRICT (3.13's
    # default) refuses it.
    with tls_server(pem_of(leaf, inter), leaf.key_pem) as (host, port):
        python_handshake(host, port, root.pem, strict=False)
        with pytest.raises(ssl.SSLCertVerificationError, match="not marked critical"):
            python_handshake(host, port, root.pem, strict=True)


def test_a_root_with_non_critical_basic_constraints_gets_the_same_warning():
    root = CA.root("Old Style Root", bc_critical=False)
    inter = root.intermediate("Deviation CA")
    leaf = inter.leaf(HOST)
    r = pytlscheck.verify_chain(pem_of(leaf, inter), hostname=HOST, trust=root.pem)
    assert r.ok and r.kinds == ["profile_deviation"], r.explain()
    assert r.problems[0].depth == 2 and "The root certificate" in r.problems[0].message


def test_this_python_is_named_when_it_is_one_of_the_strict_clients():
    assert _words.this_python_note(89, (3, 11, 7)) == ""
    assert _words.this_python_note(89, (3, 12, 0)) == ""
    note = _words.this_python_note(89, (3, 13, 1))
    assert "This Python (3.13) is one of them" in note and "refuses this chain" in note
    assert _words.this_python_note(20, (3, 14, 0)) == ""
    root = CA.root("Deviation Root")
    inter = root.intermediate("Easy-RSA Style CA", bc_critical=False)
    r = pytlscheck.verify_chain(pem_of(inter.leaf(HOST), inter), hostname=HOST, trust=root.pem)
    says = "This Python (" in r.problems[0].message
    assert says == (sys.version_info >= (3, 13)), r.problems[0].message


def test_a_generalized_time_not_before_before_2050_is_a_warning():
    root = CA.root("Deviation Root")
    leaf = root.leaf(HOST)
    validity = _der.encode(0x30, _der.generalized_time(days(-1).strftime("%Y%m%d%H%M%SZ"))
                           + _der.utc_time(days(60).strftime("%y%m%d%H%M%SZ")))
    der = _der.resign(leaf.cert, root.key, _der.set_field(4, validity))
    pem = ("-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(der).decode()
           + "-----END CERTIFICATE-----\n")
    r = pytlscheck.verify_chain(pem, hostname=HOST, trust=root.pem)
    assert r.ok and r.kinds == ["profile_deviation"], r.explain()
    m = r.problems[0].message
    assert "its notBefore is a GeneralizedTime for a year before 2050" in m
    assert "validators read both" in m
    # A time that is not even a valid GeneralizedTime stays an error.
    bad = _der.encode(0x30, _der.encode(0x18, b"2025010100Z") + _der.utc_time(days(60).strftime("%y%m%d%H%M%SZ")))
    der = _der.resign(leaf.cert, root.key, _der.set_field(4, bad))
    pem = ("-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(der).decode()
           + "-----END CERTIFICATE-----\n")
    r = pytlscheck.verify_chain(pem, hostname=HOST, trust=root.pem)
    assert not r.ok and "malformed_certificate" in r.kinds, r.explain()
