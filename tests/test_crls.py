"""CRLs as RFC 5280 section 6.3 reads them (issue 16, items 3 and 6).

Every chain and CRL is minted here (tests/pki.py).  Each test asserts the
verdict and the words; where `openssl verify` gives the same verdict on
the same files with its full CRL support switched on (-crl_check_all
-extended_crl -use_deltas), the test runs it too, and where it differs
(CRLs for part of the chain, a key rollover) the test pins the difference
that docs/kinds.md describes.
"""
from __future__ import annotations

import subprocess

import pytest

import pytlscheck
from pki import CA, crl_dp, have_openssl_cli, idp, mint, new_key, pem_of

HOST = "crl.example.com"
URL = "http://crl.example.com/inter.crl"
OTHER_REASONS = ["affiliation_changed", "superseded", "cessation_of_operation",
                 "certificate_hold", "privilege_withdrawn", "aa_compromise"]


@pytest.fixture(scope="module")
def pki():
    root = CA.root("CRL Test Root")
    inter = root.intermediate("CRL Test Issuing CA")
    leaf = inter.leaf(HOST, extra_extensions=[crl_dp(URL)])
    return root, inter, leaf


def verify(root, inter, leaf, crls):
    return pytlscheck.verify_chain(pem_of(leaf, inter), hostname=HOST, trust=[root.pem],
                                   crls=crls, min_days=None)


def kinds(r):
    return [(p.kind, p.depth) for p in r.problems]


def one(r, kind, depth):
    found = [p for p in r.problems if p.kind == kind and p.depth == depth]
    assert len(found) == 1, r.explain()
    return found[0]


def openssl_verify(tmp_path, root, inter, leaf, crls, *flags, extra_untrusted=()):
    """(passed, last line of output) of `openssl verify` on the same files."""
    if not have_openssl_cli():
        pytest.skip("the openssl command line tool is not installed")
    files = {"root.pem": root.pem, "leaf.pem": leaf.pem,
             "untrusted.pem": inter.pem + "".join(c.pem for c in extra_untrusted)}
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    cmd = ["openssl", "verify", "-CAfile", str(tmp_path / "root.pem"),
           "-untrusted", str(tmp_path / "untrusted.pem"), *flags]
    for i, c in enumerate(crls):
        p = tmp_path / f"crl{i}.pem"
        p.write_text(c)
        cmd += ["-CRLfile", str(p)]
    done = subprocess.run(cmd + [str(tmp_path / "leaf.pem")], capture_output=True, text=True)
    out = (done.stdout + done.stderr).strip().splitlines()
    return done.returncode == 0, "\n".join(out)


FULL = ("-crl_check_all", "-extended_crl", "-use_deltas")


# ---- item 6: CRLs for part of the chain -------------------------------------

def test_crl_of_the_leafs_issuer_only(tmp_path, pki):
    root, inter, leaf = pki
    r = verify(root, inter, leaf, [inter.crl()])
    assert r.ok, r.explain()
    assert r.verified_chain, r.explain()
    assert kinds(r) == [("revocation_not_checked", 1)]
    p = one(r, "revocation_not_checked", 1)
    assert p.severity == "warning" and p.exception is pytlscheck.RevocationNotChecked
    assert p.message.startswith(
        "The intermediate certificate (CN=CRL Test Issuing CA) was not checked for revocation, "
        "although CRLs were given: it needs a CRL from CN=CRL Test Root "
        "(the certificate names no CRL distribution point URL); "
        "none of the CRLs given is from that issuer."), p.message
    # openssl: -crl_check checks the leaf alone and says OK; -crl_check_all
    # fails the whole chain for the root's CRL.
    assert openssl_verify(tmp_path, root, inter, leaf, [inter.crl()], "-crl_check")[0]
    ok, out = openssl_verify(tmp_path, root, inter, leaf, [inter.crl()], "-crl_check_all")
    assert not ok and "error 3 at 1 depth lookup: unable to get certificate CRL" in out


def test_crl_of_the_leafs_issuer_only_still_revokes(pki):
    root, inter, leaf = pki
    r = verify(root, inter, leaf, [inter.crl([leaf])])
    assert not r.ok
    assert kinds(r) == [("revoked", 0), ("revocation_not_checked", 1)]
    assert one(r, "revoked", 0).exception is pytlscheck.CertificateRevoked


def test_root_crl_only_names_the_leafs_distribution_point(tmp_path, pki):
    root, inter, leaf = pki
    r = verify(root, inter, leaf, [root.crl()])
    assert r.ok, r.explain()
    p = one(r, "revocation_not_checked", 0)
    assert ("The server certificate (CN=crl.example.com) was not checked for revocation, although "
            "CRLs were given: it needs a CRL from CN=CRL Test Issuing CA, published at "
            f"{URL}; none of the CRLs given is from that issuer.") in p.message
    ok, out = openssl_verify(tmp_path, root, inter, leaf, [root.crl()], "-crl_check")
    assert not ok and "error 3 at 0 depth lookup: unable to get certificate CRL" in out


def test_revoked_intermediate_is_found_where_crl_check_looks_at_the_leaf_only(tmp_path, pki):
    root, inter, leaf = pki
    crls = [inter.crl(), root.crl([inter])]
    r = verify(root, inter, leaf, crls)
    assert kinds(r) == [("revoked", 1)], r.explain()
    assert "The intermediate certificate (CN=CRL Test Issuing CA) has been revoked by its issuer on " \
        in one(r, "revoked", 1).message
    assert openssl_verify(tmp_path, root, inter, leaf, crls, "-crl_check")[0]
    ok, out = openssl_verify(tmp_path, root, inter, leaf, crls, *FULL)
    assert not ok and "error 23 at 1 depth lookup: certificate revoked" in out


def test_every_crl_given_is_clean(pki):
    root, inter, leaf = pki
    r = verify(root, inter, leaf, [inter.crl(), root.crl()])
    assert r.ok and r.problems == [], r.explain()


# ---- item 3: indirect CRLs, other signing keys, deltas, scopes ---------------

@pytest.fixture(scope="module")
def indirect():
    """A leaf whose distribution point names a cRLIssuer: a revocation
    authority under the same root signs an indirect CRL for it."""
    root = CA.root("Indirect Root")
    inter = root.intermediate("Indirect Issuing CA")
    authority = mint("Indirect Revocation Authority", root, key_usage=["cRLSign"])
    leaf = inter.leaf(HOST, extra_extensions=[crl_dp(URL, crl_issuer=authority)])
    return root, inter, authority, leaf


def test_indirect_crl_revokes(tmp_path, indirect):
    root, inter, authority, leaf = indirect
    crl = inter.crl([leaf], signer=authority, idp=idp(URL, indirect=True))
    # The authority's certificate travels with its CRL (one PEM file).
    r = verify(root, inter, leaf, [crl + authority.pem, root.crl()])
    assert kinds(r) == [("revoked", 0)], r.explain()
    assert "on the indirect CRL of CN=Indirect Revocation Authority" in one(r, "revoked", 0).message
    ok, out = openssl_verify(tmp_path, root, inter, leaf, [crl, root.crl()], *FULL,
                             extra_untrusted=[authority])
    assert not ok and "error 23 at 0 depth lookup: certificate revoked" in out


def test_indirect_crl_clean(tmp_path, indirect):
    root, inter, authority, leaf = indirect
    crl = inter.crl([], signer=authority, idp=idp(URL, indirect=True))
    # The authority's certificate as its own item of the list.
    r = verify(root, inter, leaf, [crl, authority.pem, root.crl()])
    assert r.ok and r.problems == [], r.explain()
    assert openssl_verify(tmp_path, root, inter, leaf, [crl, root.crl()], *FULL,
                          extra_untrusted=[authority])[0]


def test_indirect_crl_without_its_signer(indirect):
    root, inter, authority, leaf = indirect
    crl = inter.crl([leaf], signer=authority, idp=idp(URL, indirect=True))
    r = verify(root, inter, leaf, [crl, root.crl()])
    assert r.ok and kinds(r) == [("revocation_not_checked", 0)], r.explain()
    m = one(r, "revocation_not_checked", 0).message
    assert ("it needs a CRL from CN=Indirect Revocation Authority (the cRLIssuer of its "
            f"distribution point: an indirect CRL), published at {URL}; the CRL given from "
            "CN=Indirect Revocation Authority is signed by a key whose certificate is neither "
            "in the chain, nor in the trust store, nor given with the CRLs: pass the signer's "
            "certificate with the CRL in crls=") in m, m


def test_crl_from_another_issuer_not_marked_indirect(indirect):
    root, inter, authority, leaf = indirect
    crl = inter.crl([leaf], signer=authority, idp=idp(URL))
    r = verify(root, inter, leaf, [crl + authority.pem, root.crl()])
    assert r.ok and kinds(r) == [("revocation_not_checked", 0)], r.explain()
    assert ("is not marked as an indirect CRL (indirectCRL in its issuingDistributionPoint), "
            "so it does not speak for certificates of CN=Indirect Issuing CA") \
        in one(r, "revocation_not_checked", 0).message


def test_crl_signer_certificate_never_builds_the_path(indirect):
    """A certificate given with the CRLs is for CRLs only: the intermediate
    passed there does not complete a chain sent without it."""
    root, inter, authority, leaf = indirect
    r = pytlscheck.verify_chain(leaf.pem, hostname=HOST, trust=[root.pem],
                                crls=[inter.crl(), inter.pem, root.crl()], min_days=None)
    assert not r.ok
    assert "incomplete_chain" in [p.kind for p in r.errors], r.explain()


@pytest.fixture(scope="module")
def separate_key():
    """The issuing CA signs its CRLs with another key, certified by the
    root under the CA's own name (keyUsage cRLSign only)."""
    root = CA.root("Separate Key Root")
    inter = root.intermediate("Separate Key Issuing CA")
    signer = mint("Separate Key Issuing CA", root, key_usage=["cRLSign"])
    leaf = inter.leaf(HOST, extra_extensions=[crl_dp(URL)])
    return root, inter, signer, leaf


def test_crl_signed_by_a_separate_key_revokes(tmp_path, separate_key):
    root, inter, signer, leaf = separate_key
    crl = inter.crl([(leaf, "key_compromise")], signer=signer)
    r = verify(root, inter, leaf, [crl + signer.pem, root.crl()])
    assert kinds(r) == [("revoked", 0)], r.explain()
    assert "(reason: keyCompromise)" in one(r, "revoked", 0).message
    ok, out = openssl_verify(tmp_path, root, inter, leaf, [crl, root.crl()], *FULL,
                             extra_untrusted=[signer])
    assert not ok and "error 23 at 0 depth lookup: certificate revoked" in out


def test_crl_signed_by_a_separate_key_clean(separate_key):
    root, inter, signer, leaf = separate_key
    r = verify(root, inter, leaf, [inter.crl([], signer=signer) + signer.pem, root.crl()])
    assert r.ok and r.problems == [], r.explain()


def test_crl_signing_certificate_in_the_trust_store(separate_key):
    """The signer's certificate may come from trust= as well."""
    root, inter, signer, leaf = separate_key
    r = pytlscheck.verify_chain(pem_of(leaf, inter), hostname=HOST, trust=[root.pem, signer.pem],
                                crls=[inter.crl([leaf], signer=signer), root.crl()], min_days=None)
    assert kinds(r) == [("revoked", 0)], r.explain()


@pytest.fixture(scope="module")
def rollover():
    """The root rolled its key over: the new key, certified by the old one
    in a self-issued certificate, signs the CRL for the intermediate that
    the old key issued."""
    root = CA.root("Rollover Root")
    inter = root.intermediate("Rollover Issuing CA")
    leaf = inter.leaf(HOST, extra_extensions=[crl_dp(URL)])
    new_with_old = mint("Rollover Root", root, key=new_key(), is_ca=True)
    return root, inter, new_with_old, leaf


def test_key_rollover_crl_revokes(tmp_path, rollover):
    root, inter, link, leaf = rollover
    crls = [inter.crl(), root.crl([inter], signer=link) + link.pem]
    r = verify(root, inter, leaf, crls)
    assert kinds(r) == [("revoked", 1)], r.explain()
    # openssl -crl_check_all refuses it for another reason: it validates the
    # new key's certificate with revocation checking again, and its CRL
    # (signed by that same new key) would need a path one level deeper.
    ok, out = openssl_verify(tmp_path, root, inter, leaf, [inter.crl(), root.crl([inter], signer=link)],
                             *FULL, extra_untrusted=[link])
    assert not ok and "error 54 at 1 depth lookup: CRL path validation error" in out


def test_key_rollover_crl_clean(rollover):
    root, inter, link, leaf = rollover
    r = verify(root, inter, leaf, [inter.crl(), root.crl([], signer=link) + link.pem])
    assert r.ok and r.problems == [], r.explain()


def test_delta_crl_revokes(tmp_path, pki):
    root, inter, leaf = pki
    base = inter.crl([], number=1, freshest="http://crl.example.com/delta.crl")
    delta = inter.crl([leaf], number=2, delta_of=1)
    r = verify(root, inter, leaf, [base, delta, root.crl()])
    assert kinds(r) == [("revoked", 0)], r.explain()
    assert ", on the delta CRL number 2:" in one(r, "revoked", 0).message
    ok, out = openssl_verify(tmp_path, root, inter, leaf, [base, delta, root.crl()], *FULL)
    assert not ok and "error 23 at 0 depth lookup: certificate revoked" in out
    # Without -use_deltas openssl reads the base alone and passes it.
    assert openssl_verify(tmp_path, root, inter, leaf, [base, delta, root.crl()],
                          "-crl_check_all", "-extended_crl")[0]


def test_delta_crl_clean(pki):
    root, inter, leaf = pki
    base = inter.crl([], number=1, freshest="http://crl.example.com/delta.crl")
    r = verify(root, inter, leaf, [base, inter.crl([], number=2, delta_of=1), root.crl()])
    assert r.ok and r.problems == [], r.explain()


def test_delta_crl_without_its_base(pki):
    root, inter, leaf = pki
    r = verify(root, inter, leaf, [inter.crl([leaf], number=2, delta_of=1), root.crl()])
    assert r.ok and kinds(r) == [("revocation_not_checked", 0)], r.explain()
    assert ("the CRL given from CN=CRL Test Issuing CA is a delta CRL, read only with the "
            "complete CRL it updates (CRLNumber 1)") in one(r, "revocation_not_checked", 0).message


def test_ca_only_crl_does_not_cover_a_leaf(tmp_path, pki):
    root, inter, leaf = pki
    crls = [inter.crl([leaf], idp=idp(only_ca=True)), root.crl()]
    r = verify(root, inter, leaf, crls)
    assert r.ok and kinds(r) == [("revocation_not_checked", 0)], r.explain()
    assert (f"it needs a CRL from CN=CRL Test Issuing CA, published at {URL}; the CRL given from "
            "CN=CRL Test Issuing CA covers CA certificates only (onlyContainsCACerts), and this "
            "is an end-entity certificate.") in one(r, "revocation_not_checked", 0).message
    ok, out = openssl_verify(tmp_path, root, inter, leaf, crls, *FULL)
    assert not ok and "error 44 at 0 depth lookup: different CRL scope" in out


def test_user_only_crl_does_not_cover_a_ca(pki):
    root, inter, leaf = pki
    r = verify(root, inter, leaf, [inter.crl(), root.crl([inter], idp=idp(only_user=True))])
    assert r.ok and kinds(r) == [("revocation_not_checked", 1)], r.explain()
    assert "covers end-entity certificates only (onlyContainsUserCerts), and this is a CA certificate" \
        in one(r, "revocation_not_checked", 1).message


def test_crl_of_another_distribution_point(pki):
    root, inter, leaf = pki
    r = verify(root, inter, leaf, [inter.crl([leaf], idp=idp("http://crl.example.com/other.crl")),
                                   root.crl()])
    assert r.ok and kinds(r) == [("revocation_not_checked", 0)], r.explain()
    assert ("is the CRL of the distribution point http://crl.example.com/other.crl, which is "
            "not one the certificate names") in one(r, "revocation_not_checked", 0).message


def test_crl_of_the_right_distribution_point(pki):
    root, inter, leaf = pki
    r = verify(root, inter, leaf, [inter.crl([leaf], idp=idp(URL)), root.crl()])
    assert kinds(r) == [("revoked", 0)], r.explain()


def test_reason_partitions(tmp_path, pki):
    root, inter, leaf = pki
    compromise = idp(reasons=["key_compromise", "ca_compromise"])
    rest = idp(reasons=OTHER_REASONS)
    both = [inter.crl(idp=compromise), inter.crl(idp=rest), root.crl()]
    r = verify(root, inter, leaf, both)
    assert r.ok and r.problems == [], r.explain()
    assert openssl_verify(tmp_path, root, inter, leaf, both, *FULL)[0]

    revoked = [inter.crl([(leaf, "key_compromise")], idp=compromise), inter.crl(idp=rest), root.crl()]
    r = verify(root, inter, leaf, revoked)
    assert kinds(r) == [("revoked", 0)], r.explain()

    r = verify(root, inter, leaf, [inter.crl(idp=compromise), root.crl()])
    assert r.ok and kinds(r) == [("revocation_not_checked", 0)], r.explain()
    assert ("covers only revocations for keyCompromise, cACompromise (onlySomeReasons); no CRL "
            "given covers revocations for affiliationChanged, superseded, cessationOfOperation, "
            "certificateHold, privilegeWithdrawn, aACompromise.") \
        in one(r, "revocation_not_checked", 0).message


# ---- what a CRL that is there and unusable stays ------------------------------

def test_expired_crl_stays_an_error(pki):
    from pki import days
    root, inter, leaf = pki
    r = verify(root, inter, leaf, [inter.crl(last_update=days(-30), next_update=days(-20)),
                                   root.crl()])
    assert not r.ok
    assert "has expired (its nextUpdate has passed)" in one(r, "chain_invalid", 0).message


def test_crls_file_of_certificates_only_and_garbage(pki):
    root, inter, leaf = pki
    r = verify(root, inter, leaf, [inter.crl(), root.pem, root.crl()])
    assert r.ok and r.problems == [], r.explain()
    with pytest.raises(ValueError, match="CRL"):
        verify(root, inter, leaf, [b"not a crl"])


def test_crl_signer_needs_no_tls_purpose(separate_key):
    """RFC 5280 section 6.3.3 (f) asks of a CRL signer only cRLSign: one
    whose extendedKeyUsage is for another use still signs CRLs."""
    root, inter, _, leaf = separate_key
    signer = mint("Separate Key Issuing CA", root, key_usage=["cRLSign"], eku=["codeSigning"])
    r = verify(root, inter, leaf, [inter.crl([leaf], signer=signer) + signer.pem, root.crl()])
    assert kinds(r) == [("revoked", 0)], r.explain()


def test_crl_signer_without_crl_sign(separate_key):
    root, inter, _, leaf = separate_key
    signer = mint("Separate Key Issuing CA", root, key_usage=["digitalSignature"])
    r = verify(root, inter, leaf, [inter.crl([], signer=signer) + signer.pem, root.crl()])
    assert not r.ok
    assert "its CRL is signed by a certificate whose keyUsage does not include cRLSign" \
        in one(r, "chain_invalid", 0).message
