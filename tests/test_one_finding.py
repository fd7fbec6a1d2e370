"""Each check is written once (issue 12): a finding OpenSSL and pytlscheck's
own rules both see is reported once, with one verdict."""
import base64
import sys
import warnings
from pathlib import Path

import pytlscheck
from pki import CA, pem_of

sys.path.insert(0, str(Path(__file__).parent / "conformance"))
import _der  # noqa: E402  (the suite's DER helpers: re-signing an edited certificate)


def test_max_depth_is_one_problem():
    root = CA.root("One Root")
    cas = [root]
    for i in range(3):
        cas.append(cas[-1].intermediate(f"One Level {i}"))
    leaf = cas[-1].leaf("one.test")
    chain = pem_of(leaf, *cas[:0:-1])
    for depth in (0, 1, 2):
        r = pytlscheck.verify_chain(chain, hostname="one.test", trust=root.pem, max_depth=depth)
        assert r.kinds == ["path_length_exceeded"], r.explain()
        m = r.problems[0].message
        assert f"(max_depth={depth})" in m and "Also:" not in m and m.count("allow") == 1, m
    assert pytlscheck.verify_chain(chain, hostname="one.test", trust=root.pem, max_depth=3).ok


def test_dsa_2048_has_one_weak_key_verdict():
    from cryptography.hazmat.primitives.asymmetric import dsa
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        key = dsa.generate_private_key(2048)
    root = CA.root("One Root")
    for where in ("leaf", "intermediate"):
        if where == "leaf":
            chain = pem_of(root.leaf("one.test", key=key))
            depth = 0
        else:
            inter = root.intermediate("DSA Issuing", key=key)
            chain = pem_of(inter.leaf("one.test"), inter)
            depth = 1
        r = pytlscheck.verify_chain(chain, hostname="one.test", trust=root.pem)
        weak = [p for p in r.problems if p.kind == "weak_key"]
        assert len(weak) == 1 and weak[0].depth == depth, r.explain()
        assert "DSA" in weak[0].message and "Also:" not in weak[0].message
        assert not r.ok


def test_an_undecodable_key_is_one_problem():
    """A leaf whose subjectPublicKeyInfo does not decode (an RSA key that
    is not an RSAPublicKey), signed by a trusted root: one problem, that
    the key cannot be decoded, said once, and no made-up missing issuer
    (OpenSSL cannot build a path through such a certificate at all)."""
    root = CA.root("One Root")
    leaf = root.leaf("one.test")
    rsa = _der.encode(0x30, bytes.fromhex("06092a864886f70d010101") + b"\x05\x00")
    spki = _der.encode(0x30, rsa + _der.encode(0x03, b"\x00\x30\x03\x02\x01"))
    der = _der.resign(leaf.cert, root.key, _der.set_field(6, spki))
    pem = ("-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(der).decode()
           + "-----END CERTIFICATE-----\n")
    r = pytlscheck.verify_chain(pem, hostname="one.test", trust=root.pem)
    assert r.kinds == ["malformed_certificate"], r.explain()
    m = r.problems[0].message
    assert m.count("its public key cannot be decoded") == 1 and "Also:" not in m, m
    assert not r.ok
