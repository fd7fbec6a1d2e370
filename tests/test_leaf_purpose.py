"""A CA certificate as the end entity, and a pathLenConstraint in one (issue
16, items 4 and 7): refused for a TLS server under the web PKI's rules,
judged by keyUsage and EKU for a client certificate or EKUs the caller
names; a leaf's pathLenConstraint is ignored (a warning about the issuer).
Each verdict is held against what real clients do: openssl verify and this
interpreter's ssl module, on minted certificates and a loopback server."""
from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import sys

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtensionOID

import pytlscheck
from pytlscheck import _words
from pki import CA, have_openssl_cli, pem_of
from servers import foreign_client_env, tls_server

HOST = "ca-leaf.test"


@pytest.fixture(scope="module")
def pki():
    root = CA.root("CA Leaf Root")
    return {"root": root, "inter": root.intermediate("CA Leaf Issuing CA", path_length=0)}


def ca_leaf(inter, *, key_usage=("digitalSignature", "keyCertSign"), eku=("serverAuth", "clientAuth"),
            path_length=None):
    return inter.leaf(HOST, "127.0.0.1", is_ca=True, path_length=path_length,
                      key_usage=list(key_usage), eku=list(eku) if eku is not None else None)


def openssl_verify(tmp_path, leaf, inter, root, purpose, *flags):
    """`openssl verify -purpose PURPOSE`: (accepted, output)."""
    if not have_openssl_cli():
        pytest.skip("the openssl command line tool is not installed")
    files = {}
    for name, item in (("leaf", leaf), ("inter", inter), ("root", root)):
        files[name] = tmp_path / f"{name}.pem"
        files[name].write_text(item.pem)
    p = subprocess.run(["openssl", "verify", *flags, "-purpose", purpose, "-CAfile", str(files["root"]),
                        "-untrusted", str(files["inter"]), str(files["leaf"])],
                       capture_output=True, text=True, timeout=30)
    return p.returncode == 0, p.stdout + p.stderr


def python_handshake(addr, root_pem, strict=False):
    ctx = ssl.create_default_context(cadata=root_pem)
    if strict:
        ctx.verify_flags |= ssl.VERIFY_X509_STRICT
    with socket.create_connection(addr, timeout=5) as sock:
        ctx.wrap_socket(sock, server_hostname=HOST).close()


# --- item 4: a CA:TRUE end entity, purpose by purpose ----------------------

def test_a_ca_leaf_is_refused_as_a_tls_server_naming_the_clients_that_refuse_it(pki, tmp_path):
    leaf = ca_leaf(pki["inter"])
    r = pytlscheck.verify_chain(pem_of(leaf, pki["inter"]), hostname=HOST, trust=pki["root"].pem)
    assert r.kinds == ["invalid_purpose"], r.explain()
    m = r.problems[0].message
    assert "it is a CA certificate (basicConstraints CA:TRUE)" in m
    assert "Baseline Requirements (7.1.2.7.8)" in m and "Firefox and rustls refuse it" in m
    assert "OpenSSL, Python's ssl module and curl accept it" in m
    assert "keyUsage" not in m, "digitalSignature is there: only the CA flag is wrong"
    # What the words say of OpenSSL and Python, checked with both.
    ok, out = openssl_verify(tmp_path, leaf, pki["inter"], pki["root"], "sslserver")
    assert ok, out
    with tls_server(pem_of(leaf, pki["inter"]), leaf.key_pem) as addr:
        python_handshake(addr, pki["root"].pem)
        root_file = tmp_path / "root.pem"
        live = pytlscheck.check(f"{addr[0]}:{addr[1]}", server_name=HOST, trust=pki["root"].pem, timeout=5)
        if shutil.which("curl"):
            # curl (OpenSSL underneath) accepts it, as the words say.
            p = subprocess.run(["curl", "-sS", "-o", "/dev/null", "--max-time", "10", "--cacert", str(root_file),
                                "--resolve", f"{HOST}:{addr[1]}:{addr[0]}", f"https://{HOST}:{addr[1]}/"],
                               capture_output=True, text=True, timeout=30, env=foreign_client_env())
            assert "SSL certificate problem" not in p.stderr, p.stderr
    assert [p.kind for p in live.problems] == ["invalid_purpose"], live.explain()
    assert "Firefox and rustls" in live.problems[0].message


def test_a_ca_leaf_as_a_client_certificate_is_judged_by_key_usage_and_eku(pki, tmp_path):
    leaf = ca_leaf(pki["inter"])
    r = pytlscheck.verify_chain(pem_of(leaf, pki["inter"]), purpose="client", trust=pki["root"].pem)
    assert r.ok and r.kinds == [], r.explain()
    ok, out = openssl_verify(tmp_path, leaf, pki["inter"], pki["root"], "sslclient")
    assert ok, out
    # Without an EKU extension any use is allowed (RFC 5280 4.2.1.12).
    bare = ca_leaf(pki["inter"], eku=None)
    r = pytlscheck.verify_chain(pem_of(bare, pki["inter"]), purpose="client", trust=pki["root"].pem)
    assert r.ok, r.explain()


def test_a_ca_leaf_whose_key_usage_cannot_sign_a_handshake_is_refused_for_that(pki, tmp_path):
    leaf = ca_leaf(pki["inter"], key_usage=("keyCertSign", "cRLSign"))
    r = pytlscheck.verify_chain(pem_of(leaf, pki["inter"]), purpose="client", trust=pki["root"].pem)
    assert r.kinds == ["invalid_purpose"], r.explain()
    m = r.problems[0].message
    assert "its keyUsage allows only keyCertSign, cRLSign" in m and "digitalSignature or keyAgreement" in m
    assert "CA certificate" not in m, "for a client certificate the CA flag itself is no reason"
    ok, out = openssl_verify(tmp_path, leaf, pki["inter"], pki["root"], "sslclient")
    assert not ok and "unsuitable certificate purpose" in out, out


def test_a_ca_leaf_with_ekus_named_by_the_caller_is_judged_by_them(pki):
    leaf = ca_leaf(pki["inter"], eku=("serverAuth",))
    chain = pem_of(leaf, pki["inter"])
    r = pytlscheck.verify_chain(chain, hostname=HOST, ekus=["serverAuth"], trust=pki["root"].pem)
    assert r.ok and r.kinds == [], r.explain()
    r = pytlscheck.verify_chain(chain, purpose="client", ekus=["clientAuth"], trust=pki["root"].pem)
    assert r.kinds == ["invalid_purpose"], r.explain()
    m = r.problems[0].message
    assert "without clientAuth, which you required" in m and "CA certificate" not in m
    # The server purpose with its own EKU still refuses the same certificate.
    r = pytlscheck.verify_chain(chain, hostname=HOST, trust=pki["root"].pem)
    assert r.kinds == ["invalid_purpose"] and "CA:TRUE" in r.problems[0].message


# --- item 7: a pathLenConstraint in the end entity --------------------------

def pathlen_leaf(inter):
    """A CA:FALSE leaf whose basicConstraints carries pathLenConstraint 0,
    which cryptography's builder refuses to write: the DER by hand."""
    bc = x509.UnrecognizedExtension(ExtensionOID.BASIC_CONSTRAINTS, b"\x30\x03\x02\x01\x00")
    bc._critical = True  # type: ignore[attr-defined]
    return inter.leaf(HOST, "127.0.0.1", basic_constraints=False, extra_extensions=[bc])


def test_a_leaf_pathlen_is_ignored_with_a_warning_about_its_issuer(pki, tmp_path):
    leaf = pathlen_leaf(pki["inter"])
    # basicConstraints (2.5.29.19), critical, SEQUENCE { pathLenConstraint 0 }
    assert b"\x06\x03\x55\x1d\x13\x01\x01\xff\x04\x05\x30\x03\x02\x01\x00" in leaf.der
    # Under an intermediate whose own pathLenConstraint is 0: the leaf is
    # no intermediate, so neither constraint counts it.
    r = pytlscheck.verify_chain(pem_of(leaf, pki["inter"]), hostname=HOST, trust=pki["root"].pem)
    assert r.ok and set(r.kinds) == {"profile_deviation"}, r.explain()
    msgs = " ".join(p.message for p in r.problems)
    assert all(p.depth == 0 and p.severity == "warning" for p in r.problems)
    assert "pathLenConstraint although it is not a CA certificate (CA:FALSE)" in msgs
    assert "Python 3.13 and later refuse it by default" in msgs and "openssl verify -x509_strict" in msgs
    assert r.verified_chain
    # OpenSSL's own codes (80, 81) travel with the warning, so a Python
    # 3.13+ interpreter adds that it is one of the clients that refuse it.
    assert {p.openssl_code for p in r.problems} <= {80, 81} and r.problems[0].openssl_code in (80, 81)
    assert ("This Python (" in msgs) == (sys.version_info >= (3, 13)), msgs
    # The clients the words name: openssl verify accepts, -x509_strict
    # refuses; this Python's default context accepts, VERIFY_X509_STRICT
    # (3.13's default) refuses.
    ok, out = openssl_verify(tmp_path, leaf, pki["inter"], pki["root"], "sslserver")
    assert ok, out
    ok, out = openssl_verify(tmp_path, leaf, pki["inter"], pki["root"], "sslserver", "-x509_strict")
    assert not ok and "Path length invalid for non-CA cert" in out, out
    with tls_server(pem_of(leaf, pki["inter"]), leaf.key_pem) as addr:
        python_handshake(addr, pki["root"].pem)
        with pytest.raises(ssl.SSLCertVerificationError, match="Path length invalid for non-CA"):
            python_handshake(addr, pki["root"].pem, strict=True)


def test_a_ca_leaf_pathlen_is_ignored_for_a_client_certificate(pki):
    leaf = ca_leaf(pki["inter"], path_length=0)
    r = pytlscheck.verify_chain(pem_of(leaf, pki["inter"]), purpose="client", trust=pki["root"].pem)
    assert r.ok and r.kinds == [], r.explain()
    # pathLen without keyCertSign: the issuer's mistake, a warning.
    leaf = ca_leaf(pki["inter"], path_length=0, key_usage=("digitalSignature",))
    r = pytlscheck.verify_chain(pem_of(leaf, pki["inter"]), purpose="client", trust=pki["root"].pem)
    assert r.ok and r.kinds == ["profile_deviation"], r.explain()
    assert "its keyUsage does not include keyCertSign" in r.problems[0].message


def test_this_python_is_named_for_a_leaf_pathlen_too():
    for code in (80, 81):
        assert _words.this_python_note(code, (3, 12, 9)) == ""
        assert "This Python (3.13) is one of them" in _words.this_python_note(code, (3, 13, 0))
