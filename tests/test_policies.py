"""Certificate policies processed as RFC 5280 section 6.1 says (issue 16,
items 1 and 2): the relying party's defaults (initial policy set anyPolicy,
no explicit policy of its own, mapping and anyPolicy allowed), so only the
CAs' policyConstraints and inhibitAnyPolicy make a path fail, as
invalid_policy naming the certificate whose constraint it was.  Each chain
is also given to `openssl verify -policy_check -policy anyPolicy`, which
must agree."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import CertificatePoliciesOID

import pytlscheck
from pki import CA, pem_of

sys.path.insert(0, str(Path(__file__).parent / "conformance"))
import _der  # noqa: E402  (DER for the policyMappings extension, which cryptography cannot build)

HOST = "policy.test"
ANY = CertificatePoliciesOID.ANY_POLICY.dotted_string


def policies(*oids: str) -> x509.CertificatePolicies:
    return x509.CertificatePolicies([x509.PolicyInformation(x509.ObjectIdentifier(o), None)
                                     for o in oids])


def constraints(require=None, inhibit_mapping=None, critical=True) -> x509.PolicyConstraints:
    ext = x509.PolicyConstraints(require_explicit_policy=require,
                                 inhibit_policy_mapping=inhibit_mapping)
    ext._critical = critical  # type: ignore[attr-defined]
    return ext


def inhibit_any(skip: int) -> x509.InhibitAnyPolicy:
    ext = x509.InhibitAnyPolicy(skip)
    ext._critical = True  # type: ignore[attr-defined]
    return ext


def _oid_der(dotted: str) -> bytes:
    arcs = [int(a) for a in dotted.split(".")]
    body = bytes([40 * arcs[0] + arcs[1]])
    for v in arcs[2:]:
        enc = [v & 0x7F]
        v >>= 7
        while v:
            enc.append(0x80 | (v & 0x7F))
            v >>= 7
        body += bytes(reversed(enc))
    return _der.encode(0x06, body)


def mapping(issuer_policy: str, subject_policy: str) -> x509.UnrecognizedExtension:
    value = _der.encode(0x30, _der.encode(0x30, _oid_der(issuer_policy) + _oid_der(subject_policy)))
    ext = x509.UnrecognizedExtension(x509.ObjectIdentifier("2.5.29.33"), value)
    ext._critical = True  # type: ignore[attr-defined]
    return ext


def chain(*levels, leaf_ext=()):
    """root -> one CA per entry of `levels` (each a list of extensions) -> leaf."""
    root = CA.root("Policy Root")
    cas = [root]
    for i, ext in enumerate(levels):
        cas.append(cas[-1].intermediate(f"Policy CA {i + 1}", extra_extensions=list(ext)))
    leaf = cas[-1].leaf(HOST, extra_extensions=list(leaf_ext))
    return root, pem_of(leaf, *reversed(cas[1:]))


def openssl_agrees(root, pem, tmp_path) -> bool:
    (tmp_path / "root.pem").write_text(root.pem)
    (tmp_path / "chain.pem").write_text(pem)
    leaf = pem.split("-----END CERTIFICATE-----")[0] + "-----END CERTIFICATE-----\n"
    (tmp_path / "leaf.pem").write_text(leaf)
    out = subprocess.run(["openssl", "verify", "-policy_check", "-policy", ANY, "-x509_strict",
                          "-CAfile", str(tmp_path / "root.pem"),
                          "-untrusted", str(tmp_path / "chain.pem"), str(tmp_path / "leaf.pem")],
                         capture_output=True, text=True, timeout=30)
    return out.returncode == 0


needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI")


@needs_openssl
def test_a_policy_every_certificate_asserts_validates(tmp_path):
    root, pem = chain([policies("1.2.3.4"), constraints(require=0)],
                      leaf_ext=[policies("1.2.3.4")])
    r = pytlscheck.verify_chain(pem, hostname=HOST, trust=root.pem)
    assert r.ok and r.problems == [], r.explain()
    assert openssl_agrees(root, pem, tmp_path)


@needs_openssl
def test_require_explicit_policy_without_a_common_policy(tmp_path):
    root, pem = chain([policies("1.2.3.4"), constraints(require=0)],
                      leaf_ext=[policies("1.2.3.5")])
    r = pytlscheck.verify_chain(pem, hostname=HOST, trust=root.pem)
    assert r.kinds == ["invalid_policy"] and not r.ok, r.explain()
    p = r.problems[0]
    assert p.depth == 1 and p.exception is pytlscheck.InvalidPolicy
    assert "because of the intermediate certificate (CN=Policy CA 1)" in p.message
    assert "requireExplicitPolicy=0" in p.message
    assert "CN=Policy CA 1 asserts 1.2.3.4; CN=policy.test asserts 1.2.3.5" in p.message, p.message
    assert "-policy_check" in p.inspect_command
    assert r.verified_chain is None or r.verified_chain == []
    assert not openssl_agrees(root, pem, tmp_path)


def test_a_leaf_without_policies_under_a_required_policy():
    root, pem = chain([policies("1.2.3.4"), constraints(require=0)])
    r = pytlscheck.verify_chain(pem, hostname=HOST, trust=root.pem)
    assert r.kinds == ["invalid_policy"], r.explain()
    assert "CN=policy.test asserts no certificate policy" in r.problems[0].message


def test_without_require_explicit_policy_disjoint_policies_pass():
    """RFC 5280's defaults: no explicit policy unless a CA asks for one."""
    root, pem = chain([policies("1.2.3.4")], leaf_ext=[policies("1.2.3.5")])
    assert pytlscheck.verify_chain(pem, hostname=HOST, trust=root.pem).ok


def test_require_explicit_policy_with_skip_certs_counts_from_its_ca():
    """skipCerts on the top CA counts the certificates below it (6.1.4 (h),
    6.1.5 (a)): with 2, CA 2 and the leaf bring the counter to 0, so the
    policies must meet; with 3 it never reaches 0 on this path."""
    for skip, ok in ((2, False), (3, True)):
        root, pem = chain([policies("1.2.3.4"), constraints(require=skip)],
                          [policies("1.2.3.4")], leaf_ext=[policies("1.2.3.5")])
        r = pytlscheck.verify_chain(pem, hostname=HOST, trust=root.pem)
        assert r.ok is ok, (skip, r.explain())
        if not ok:
            assert r.problems[0].depth == 2 and f"requireExplicitPolicy={skip}" in r.problems[0].message


@needs_openssl
def test_inhibit_policy_mapping_stops_a_mapping_below_it(tmp_path):
    mapped = [policies("1.2.3.4"), mapping("1.2.3.4", "1.2.3.9")]
    # Mapping allowed: CA 2 maps 1.2.3.4 to 1.2.3.9, the leaf asserts 1.2.3.9.
    root, pem = chain([policies("1.2.3.4"), constraints(require=0)], mapped,
                      leaf_ext=[policies("1.2.3.9")])
    assert pytlscheck.verify_chain(pem, hostname=HOST, trust=root.pem).ok
    assert openssl_agrees(root, pem, tmp_path)
    # CA 1 inhibits mapping from the next certificate on: the mapping is void.
    root, pem = chain([policies("1.2.3.4"), constraints(require=0, inhibit_mapping=0)], mapped,
                      leaf_ext=[policies("1.2.3.9")])
    r = pytlscheck.verify_chain(pem, hostname=HOST, trust=root.pem)
    assert r.kinds == ["invalid_policy"], r.explain()
    assert "CN=Policy CA 1 sets inhibitPolicyMapping=0" in r.problems[0].message
    assert not openssl_agrees(root, pem, tmp_path)


@needs_openssl
def test_inhibit_any_policy_makes_any_policy_count_for_nothing(tmp_path):
    root, pem = chain([policies(ANY), constraints(require=0)], leaf_ext=[policies(ANY)])
    assert pytlscheck.verify_chain(pem, hostname=HOST, trust=root.pem).ok
    root, pem = chain([policies(ANY), constraints(require=0), inhibit_any(0)], leaf_ext=[policies(ANY)])
    r = pytlscheck.verify_chain(pem, hostname=HOST, trust=root.pem)
    assert r.kinds == ["invalid_policy"], r.explain()
    m = r.problems[0].message
    assert "CN=Policy CA 1 asserts anyPolicy" in m and "inhibitAnyPolicy=0" in m, m
    assert not openssl_agrees(root, pem, tmp_path)


def test_a_mapping_to_any_policy_is_refused():
    root, pem = chain([policies("1.2.3.4"), mapping("1.2.3.4", ANY)], leaf_ext=[policies("1.2.3.4")])
    r = pytlscheck.verify_chain(pem, hostname=HOST, trust=root.pem)
    assert r.kinds == ["invalid_policy"], r.explain()
    assert r.problems[0].depth == 1
    assert "maps a policy to or from anyPolicy, which RFC 5280 section 4.2.1.5 forbids" in r.problems[0].message


def test_a_non_critical_policy_constraints_is_a_warning_about_its_issuer():
    """Item 1: RFC 3280-era CAs leave policyConstraints non-critical; every
    validator accepts it, and the policies are processed all the same."""
    root, pem = chain([policies("1.2.3.4"), constraints(require=0, critical=False)],
                      leaf_ext=[policies("1.2.3.4")])
    r = pytlscheck.verify_chain(pem, hostname=HOST, trust=root.pem)
    assert r.ok and r.kinds == ["profile_deviation"], r.explain()
    p = r.problems[0]
    assert p.severity == "warning" and p.depth == 1 and p.exception is pytlscheck.ProfileDeviation
    assert "policyConstraints extension is not marked critical" in p.message
    # ... and the constraint still binds.
    root, pem = chain([policies("1.2.3.4"), constraints(require=0, critical=False)],
                      leaf_ext=[policies("1.2.3.5")])
    r = pytlscheck.verify_chain(pem, hostname=HOST, trust=root.pem)
    assert "invalid_policy" in r.kinds, r.explain()
