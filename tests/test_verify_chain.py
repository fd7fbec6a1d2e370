"""verify_chain: every certificate problem kind, produced from a certificate
minted here, each followed by its good twin that differs only in the one
property broken (which proves the problem came from that property)."""
import re
import shlex
import shutil
import subprocess
from datetime import datetime, timedelta, timezone

import pytest
from cryptography import x509
from cryptography.x509.oid import ObjectIdentifier

import pytlscheck
from pki import CA, days, mint, pem_of
from pytlscheck import Certificate, verify_chain

HOST = "api.example.com"
AIA = "http://pki.example.test/issuing-ca.der"


def kinds(report):
    return [p.kind for p in report.problems]


def anchors(*cas):
    return [Certificate.from_pem(c.pem) for c in cas]


def problem(report, kind):
    found = [p for p in report.problems if p.kind == kind]
    assert found, f"no {kind} in {kinds(report)}"
    return found[0]


def assert_clean(report):
    assert report.ok, report.explain()
    assert report.problems == [], kinds(report)


@pytest.fixture(scope="module")
def good(inter):
    return inter.leaf(HOST, aia_ca_issuers=AIA)


@pytest.fixture(scope="module")
def trust(root):
    return anchors(root)


# ---- the good chain itself ------------------------------------------------

def test_good_chain_has_no_problem(good, inter, root, trust):
    r = verify_chain(pem_of(good, inter), hostname=HOST, trust=trust)
    assert_clean(r)
    assert [c.der for c in r.chain] == [good.der, inter.der]
    assert [c.der for c in r.verified_chain] == [good.der, inter.der, root.der]
    assert r.path == r.verified_chain
    assert r.leaf.dns_names == (HOST,)
    assert r.hostname == HOST
    assert r.days_remaining in (89, 90)
    assert r.errors == [] and r.warnings == []
    assert r.raise_for_problems() is r


# ---- expired / not_yet_valid ----------------------------------------------

def test_expired(inter, trust):
    leaf = inter.leaf(HOST, not_before=days(-100), not_after=days(-3))
    r = verify_chain(pem_of(leaf, inter), hostname=HOST, trust=trust)
    assert not r.ok
    p = problem(r, "expired")
    assert p.severity == "error" and p.depth == 0
    assert p.certificate.der == leaf.der
    assert "expired" in p.message and "3 days ago" in p.message
    assert p.exception is pytlscheck.CertificateExpired
    assert "-dates" in p.inspect_command
    assert r.days_remaining == -3


def test_expired_twin_valid_dates(inter, trust):
    leaf = inter.leaf(HOST, not_before=days(-100), not_after=days(60))
    assert_clean(verify_chain(pem_of(leaf, inter), hostname=HOST, trust=trust))


def test_expired_intermediate_is_found_at_depth_1(root, trust):
    old_inter = root.intermediate("Old Issuing CA", not_before=days(-400), not_after=days(-1))
    leaf = old_inter.leaf(HOST, not_before=days(-10), not_after=days(60))
    r = verify_chain(pem_of(leaf, old_inter), hostname=HOST, trust=trust)
    p = problem(r, "expired")
    assert p.depth == 1 and p.certificate.der == old_inter.der
    assert "Old Issuing CA" in p.message


def test_at_evaluates_validity_at_another_time(good, inter, trust):
    later = datetime.now(timezone.utc) + timedelta(days=200)
    assert "expired" in kinds(verify_chain(pem_of(good, inter), hostname=HOST, trust=trust, at=later))
    # a naive datetime means UTC; a date means midnight UTC
    naive = later.replace(tzinfo=None)
    assert "expired" in kinds(verify_chain(pem_of(good, inter), hostname=HOST, trust=trust, at=naive))
    assert "expired" in kinds(verify_chain(pem_of(good, inter), hostname=HOST, trust=trust,
                                           at=later.date()))
    # twin: now
    assert_clean(verify_chain(pem_of(good, inter), hostname=HOST, trust=trust,
                              at=datetime.now(timezone.utc)))


def test_not_yet_valid(inter, trust):
    leaf = inter.leaf(HOST, not_before=days(5), not_after=days(90))
    r = verify_chain(pem_of(leaf, inter), hostname=HOST, trust=trust)
    p = problem(r, "not_yet_valid")
    assert p.depth == 0 and p.exception is pytlscheck.CertificateNotYetValid
    assert "expired" not in kinds(r)


def test_not_yet_valid_twin_started_yesterday(inter, trust):
    leaf = inter.leaf(HOST, not_before=days(-1), not_after=days(90))
    assert_clean(verify_chain(pem_of(leaf, inter), hostname=HOST, trust=trust))


# ---- hostname_mismatch -----------------------------------------------------

def test_hostname_mismatch(good, inter, trust):
    r = verify_chain(pem_of(good, inter), hostname="www.example.com", trust=trust)
    p = problem(r, "hostname_mismatch")
    assert p.depth == 0 and "www.example.com" in p.message
    assert p.exception is pytlscheck.HostnameMismatch
    assert "subjectAltName" in p.inspect_command
    assert kinds(r) == ["hostname_mismatch"]


def test_hostname_mismatch_twin_right_name(good, inter, trust):
    assert_clean(verify_chain(pem_of(good, inter), hostname="API.Example.COM.", trust=trust))


def test_no_hostname_means_no_name_check(good, inter, trust):
    r = verify_chain(pem_of(good, inter), trust=trust)
    assert_clean(r)
    assert r.hostname is None


def test_wildcard_covers_one_label_only(inter, trust):
    leaf = inter.leaf("*.example.com")
    chain = pem_of(leaf, inter)
    assert_clean(verify_chain(chain, hostname="api.example.com", trust=trust))
    r = verify_chain(chain, hostname="api.eu.example.com", trust=trust)
    p = problem(r, "hostname_mismatch")
    assert "*.example.com" in p.message


def test_cn_only_certificate_is_not_valid_for_its_cn(inter, trust):
    leaf = mint(HOST, inter, eku=["serverAuth"])   # CN only, no SAN
    r = verify_chain(pem_of(leaf, inter), hostname=HOST, trust=trust)
    p = problem(r, "hostname_mismatch")
    assert re.search(r"\bCN\b|common name|Subject Alternative Name", p.message, re.I)


def test_ip_hostname_matches_ip_san_only(inter, trust):
    leaf = inter.leaf("10.1.2.3", cn="10.1.2.3")
    chain = pem_of(leaf, inter)
    assert_clean(verify_chain(chain, hostname="10.1.2.3", trust=trust))
    assert "hostname_mismatch" in kinds(verify_chain(chain, hostname="10.1.2.4", trust=trust))
    v6 = inter.leaf("2001:db8::5")
    assert_clean(verify_chain(pem_of(v6, inter), hostname="2001:db8:0::5", trust=trust))


def test_internationalised_hostname_is_converted(inter, trust):
    leaf = inter.leaf("xn--bcher-kva.example")
    r = verify_chain(pem_of(leaf, inter), hostname="bücher.example", trust=trust)
    assert_clean(r)
    assert r.hostname == "xn--bcher-kva.example"


# ---- incomplete_chain / self_signed / untrusted_root ---------------------

def test_incomplete_chain_names_missing_issuer_and_aia(good, trust):
    r = verify_chain(good.pem, hostname=HOST, trust=trust)
    p = problem(r, "incomplete_chain")
    assert p.exception is pytlscheck.IncompleteChain
    assert "pytlscheck Test Issuing CA" in p.message
    assert AIA in p.message
    assert "self_signed" not in kinds(r) and "untrusted_root" not in kinds(r)
    assert r.verified_chain is None


def test_incomplete_chain_without_aia_still_names_issuer(inter, trust):
    leaf = inter.leaf(HOST)
    p = problem(verify_chain(leaf.pem, hostname=HOST, trust=trust), "incomplete_chain")
    assert "pytlscheck Test Issuing CA" in p.message


def test_incomplete_chain_twin_with_intermediate(good, inter, trust):
    assert_clean(verify_chain(pem_of(good, inter), hostname=HOST, trust=trust))


def test_chain_rest_in_any_order(good, inter, root, trust):
    """OpenSSL builds the path whatever the order; the report still says
    the order is wrong and the root needless (issue 13 item 2)."""
    certs = [Certificate.from_pem(x.pem) for x in (good, root, inter)]
    r = verify_chain(certs, hostname=HOST, trust=trust)
    assert r.ok, r.explain()
    assert kinds(r) == ["chain_wrong_order", "chain_includes_root"]
    assert [c.der for c in r.verified_chain] == [good.der, inter.der, root.der]


def test_self_signed_leaf(trust):
    leaf = mint(HOST, None, dns_names=[HOST], eku=["serverAuth"])
    r = verify_chain(leaf.pem, hostname=HOST, trust=trust)
    p = problem(r, "self_signed")
    assert p.depth == 0 and p.exception is pytlscheck.SelfSignedCertificate
    assert "incomplete_chain" not in kinds(r) and "untrusted_root" not in kinds(r)


def test_self_signed_twin_trusted_explicitly():
    leaf = mint(HOST, None, dns_names=[HOST], eku=["serverAuth"])
    r = verify_chain(leaf.pem, hostname=HOST, trust=leaf.pem)
    assert "self_signed" not in kinds(r)
    assert r.ok, r.explain()


def test_untrusted_root(good, inter, root, other_root):
    r = verify_chain(pem_of(good, inter, root), hostname=HOST, trust=anchors(other_root))
    p = problem(r, "untrusted_root")
    assert p.exception is pytlscheck.UntrustedRoot
    assert "pytlscheck Test Root CA" in p.message
    assert "incomplete_chain" not in kinds(r) and "self_signed" not in kinds(r)
    assert r.path is not None and r.path[-1].der == root.der


def test_untrusted_root_twin_trusted(good, inter, root, trust):
    r = verify_chain(pem_of(good, inter, root), hostname=HOST, trust=trust)
    assert r.ok and kinds(r) == ["chain_includes_root"], r.explain()
    assert_clean(verify_chain(pem_of(good, inter), hostname=HOST, trust=trust))


def test_missing_intermediate_with_root_served_is_incomplete(good, root, trust, other_root):
    """Leaf + root, no intermediate: the leaf's issuer is missing."""
    r = verify_chain(pem_of(good, root), hostname=HOST, trust=trust)
    assert "incomplete_chain" in kinds(r)


# ---- weak_signature / weak_key --------------------------------------------

def test_weak_signature_sha1(inter, trust):
    leaf = inter.leaf(HOST, digest="sha1")
    r = verify_chain(pem_of(leaf, inter), hostname=HOST, trust=trust)
    p = problem(r, "weak_signature")
    assert p.depth == 0 and p.exception is pytlscheck.WeakSignature
    assert "SHA1" in p.message.upper().replace("-", "")


def test_weak_signature_md5_on_intermediate():
    rsa_root = CA.root("RSA Root CA", key_type="rsa")
    md5_inter = rsa_root.intermediate("MD5 Issuing CA", digest="md5")
    leaf = md5_inter.leaf(HOST)
    r = verify_chain(pem_of(leaf, md5_inter), hostname=HOST, trust=anchors(rsa_root))
    p = problem(r, "weak_signature")
    assert p.depth == 1
    assert "MD5" in p.message.upper()


def test_weak_signature_twin_sha256(inter, trust):
    leaf = inter.leaf(HOST, digest="sha256")
    assert_clean(verify_chain(pem_of(leaf, inter), hostname=HOST, trust=trust))


def test_sha1_self_signature_on_a_trusted_root_is_not_weak():
    """A root's own signature is not relied upon: only its key is."""
    sha1_root = CA.root("SHA1 Root CA", digest="sha1")
    leaf = sha1_root.intermediate("Issuing CA").leaf(HOST)
    inter = leaf.issuer
    r = verify_chain(pem_of(leaf, inter), hostname=HOST, trust=anchors(sha1_root))
    assert "weak_signature" not in kinds(r)
    assert r.ok, r.explain()


def test_weak_key_rsa_1024(inter, trust):
    leaf = inter.leaf(HOST, key_type="rsa", bits=1024)
    r = verify_chain(pem_of(leaf, inter), hostname=HOST, trust=trust)
    p = problem(r, "weak_key")
    assert p.depth == 0 and p.exception is pytlscheck.WeakKey
    assert "1024" in p.message


def test_weak_key_small_curve(inter, trust):
    leaf = inter.leaf(HOST, key_type="ec192")
    r = verify_chain(pem_of(leaf, inter), hostname=HOST, trust=trust)
    assert "weak_key" in kinds(r)


def test_weak_key_twin_rsa_2048(inter, trust):
    leaf = inter.leaf(HOST, key_type="rsa", bits=2048)
    assert_clean(verify_chain(pem_of(leaf, inter), hostname=HOST, trust=trust))


# ---- revoked ---------------------------------------------------------------

def test_revoked(inter, root, trust):
    leaf = inter.leaf(HOST)
    crls = [inter.crl([leaf]), root.crl([])]
    r = verify_chain(pem_of(leaf, inter), hostname=HOST, trust=trust, crls=crls)
    p = problem(r, "revoked")
    assert p.depth == 0 and p.exception is pytlscheck.CertificateRevoked


def test_revoked_twin_not_on_the_crl(inter, root, trust):
    leaf = inter.leaf(HOST)
    other = inter.leaf("other.example.com")
    crls = [inter.crl([other]), root.crl([])]
    assert_clean(verify_chain(pem_of(leaf, inter), hostname=HOST, trust=trust, crls=crls))


def test_crls_as_files_and_bytes(tmp_path, inter, root, trust):
    leaf = inter.leaf(HOST)
    p = tmp_path / "inter.crl.pem"
    p.write_text(inter.crl([leaf]))
    r = verify_chain(pem_of(leaf, inter), hostname=HOST, trust=trust,
                     crls=[str(p), root.crl([]).encode()])
    assert "revoked" in kinds(r)


# ---- invalid_purpose / invalid_ca / path_length_exceeded -----------------

def test_invalid_purpose_client_only_eku(inter, trust):
    leaf = inter.leaf(HOST, eku=["clientAuth"])
    r = verify_chain(pem_of(leaf, inter), hostname=HOST, trust=trust)
    p = problem(r, "invalid_purpose")
    assert p.depth == 0 and p.exception is pytlscheck.InvalidPurpose


def test_invalid_purpose_twin_server_eku(inter, trust):
    leaf = inter.leaf(HOST, eku=["serverAuth"])
    assert_clean(verify_chain(pem_of(leaf, inter), hostname=HOST, trust=trust))


def test_client_purpose(inter, trust):
    client = inter.leaf("client.example.com", eku=["clientAuth"])
    assert_clean(verify_chain(pem_of(client, inter), trust=trust, purpose="client"))
    server_only = inter.leaf("client.example.com", eku=["serverAuth"])
    assert "invalid_purpose" in kinds(verify_chain(pem_of(server_only, inter), trust=trust,
                                                   purpose="client"))


def test_ca_certificate_as_leaf_is_invalid_purpose(inter, trust):
    r = verify_chain(inter.pem, trust=trust)
    assert "invalid_purpose" in kinds(r)


def test_invalid_ca_leaf_used_as_issuer(root, trust):
    not_a_ca = mint("Not A CA", root, is_ca=False, key_usage=["digitalSignature"])
    leaf = mint(HOST, not_a_ca, dns_names=[HOST], eku=["serverAuth"])
    r = verify_chain(pem_of(leaf, not_a_ca), hostname=HOST, trust=trust)
    p = problem(r, "invalid_ca")
    assert p.depth == 1 and p.exception is pytlscheck.InvalidCA
    assert p.certificate.der == not_a_ca.der


def test_invalid_ca_twin_proper_ca(root, trust):
    ca = root.intermediate("Proper CA")
    leaf = ca.leaf(HOST)
    assert_clean(verify_chain(pem_of(leaf, ca), hostname=HOST, trust=trust))


def test_path_length_exceeded(root, trust):
    top = root.intermediate("Top CA pathlen 0", path_length=0)
    below = top.intermediate("Below CA")
    leaf = below.leaf(HOST)
    r = verify_chain(pem_of(leaf, below, top), hostname=HOST, trust=trust)
    p = problem(r, "path_length_exceeded")
    assert p.exception is pytlscheck.PathLengthExceeded


def test_path_length_twin_allows_one(root, trust):
    top = root.intermediate("Top CA pathlen 1", path_length=1)
    below = top.intermediate("Below CA")
    leaf = below.leaf(HOST)
    assert_clean(verify_chain(pem_of(leaf, below, top), hostname=HOST, trust=trust))


def test_max_depth(root, trust):
    top = root.intermediate("Top CA")
    below = top.intermediate("Below CA")
    leaf = below.leaf(HOST)
    chain = pem_of(leaf, below, top)
    assert not verify_chain(chain, hostname=HOST, trust=trust, max_depth=1).ok
    assert_clean(verify_chain(chain, hostname=HOST, trust=trust, max_depth=2))


# ---- name_constraints_violation -----------------------------------------

def test_name_constraints_violation(root, trust):
    constrained = root.intermediate("Example-only CA", permitted_dns=["example.com"])
    leaf = constrained.leaf("api.other.org")
    r = verify_chain(pem_of(leaf, constrained), hostname="api.other.org", trust=trust)
    p = problem(r, "name_constraints_violation")
    assert p.exception is pytlscheck.NameConstraintsViolation


def test_name_constraints_twin_inside(root, trust):
    constrained = root.intermediate("Example-only CA", permitted_dns=["example.com"])
    leaf = constrained.leaf(HOST)
    assert_clean(verify_chain(pem_of(leaf, constrained), hostname=HOST, trust=trust))


# ---- malformed_certificate / chain_invalid -------------------------------

def test_malformed_certificate_nul_in_name(inter, trust):
    leaf = inter.leaf("api.example.com\x00.evil.test")
    r = verify_chain(pem_of(leaf, inter), trust=trust)
    p = problem(r, "malformed_certificate")
    assert p.depth == 0 and p.exception is pytlscheck.MalformedCertificate
    assert not r.ok


def test_malformed_twin_clean_name(inter, trust):
    leaf = inter.leaf("api.example.com.evil.test")
    assert_clean(verify_chain(pem_of(leaf, inter), trust=trust))


def _unknown_critical():
    ext = x509.UnrecognizedExtension(ObjectIdentifier("1.3.6.1.4.1.55555.1.1"), b"\x05\x00")
    ext._critical = True
    return ext


def test_chain_invalid_unhandled_critical_extension(inter, trust):
    leaf = inter.leaf(HOST, extra_extensions=[_unknown_critical()])
    r = verify_chain(pem_of(leaf, inter), hostname=HOST, trust=trust)
    p = problem(r, "chain_invalid")
    assert p.exception is pytlscheck.ChainInvalid
    assert p.openssl_code != 0 and p.openssl_reason  # OpenSSL's code and text kept
    assert p.openssl_reason in p.message or "critical" in p.message


def test_chain_invalid_bad_signature(inter, trust):
    leaf = inter.leaf(HOST)
    der = bytearray(leaf.der)
    der[-5] ^= 0x55   # inside the signature value
    r = verify_chain([bytes(der), inter.der], hostname=HOST, trust=trust)
    assert not r.ok
    assert {"chain_invalid", "malformed_certificate"} & set(kinds(r)), kinds(r)


def test_chain_invalid_twin_same_extension_not_critical(inter, trust):
    ext = x509.UnrecognizedExtension(ObjectIdentifier("1.3.6.1.4.1.55555.1.1"), b"\x05\x00")
    leaf = inter.leaf(HOST, extra_extensions=[ext])
    assert_clean(verify_chain(pem_of(leaf, inter), hostname=HOST, trust=trust))


# ---- expires_soon (a warning) ---------------------------------------------

def test_expires_soon_is_a_warning(inter, trust):
    leaf = inter.leaf(HOST, not_after=days(10.5))
    r = verify_chain(pem_of(leaf, inter), hostname=HOST, trust=trust)
    p = problem(r, "expires_soon")
    assert p.severity == "warning" and p.exception is pytlscheck.CertificateExpiresSoon
    assert r.ok and r.errors == [] and r.warnings == [p]
    assert "10 days" in p.message
    assert r.raise_for_problems() is r  # warnings do not raise


def test_expires_soon_twins(inter, trust):
    leaf = inter.leaf(HOST, not_after=days(10.5))
    chain = pem_of(leaf, inter)
    assert_clean(verify_chain(chain, hostname=HOST, trust=trust, min_days=5))
    assert_clean(verify_chain(chain, hostname=HOST, trust=trust, min_days=None))
    far = inter.leaf(HOST, not_after=days(60))
    assert_clean(verify_chain(pem_of(far, inter), hostname=HOST, trust=trust))


def test_min_remaining_fraction(inter, trust):
    # 100-day certificate with 20 days left: 20% remains
    leaf = inter.leaf(HOST, not_before=days(-80), not_after=days(20))
    chain = pem_of(leaf, inter)
    assert "expires_soon" in kinds(verify_chain(chain, hostname=HOST, trust=trust, min_days=5,
                                                min_remaining=0.3))
    assert_clean(verify_chain(chain, hostname=HOST, trust=trust, min_days=5, min_remaining=0.1))


# ---- several problems, ordering, exceptions, explain ----------------------

def test_several_problems_in_one_call(inter, trust):
    leaf = inter.leaf(HOST, key_type="rsa", bits=1024, not_before=days(-100), not_after=days(-2))
    r = verify_chain(leaf.pem, hostname="wrong.example.com", trust=trust)
    ks = kinds(r)
    for k in ("incomplete_chain", "hostname_mismatch", "weak_key"):
        assert k in ks, ks
    order = list(pytlscheck.KINDS)
    assert ks == sorted(ks, key=order.index), "problems are not in table order"
    assert len(r.errors) == len(ks)


def test_every_problem_at_every_depth(root, trust):
    old_inter = root.intermediate("Old CA", not_before=days(-400), not_after=days(-1))
    leaf = old_inter.leaf(HOST, not_before=days(-300), not_after=days(-5))
    r = verify_chain(pem_of(leaf, old_inter), hostname=HOST, trust=trust)
    depths = sorted(p.depth for p in r.problems if p.kind == "expired")
    assert depths == [0, 1]


def test_raise_for_problems_raises_first_error(inter, trust):
    leaf = inter.leaf(HOST, not_before=days(-100), not_after=days(-3))
    r = verify_chain(pem_of(leaf, inter), hostname="other.example.com", trust=trust)
    with pytest.raises(pytlscheck.CertificateProblem) as e:
        r.raise_for_problems()
    exc = e.value
    assert type(exc) is r.errors[0].exception
    assert isinstance(exc, pytlscheck.TLSCheckError)
    assert exc.report is r and exc.problem is r.errors[0]
    text = str(exc)
    assert exc.problem.message in text
    assert "Fix:" in text and exc.problem.fix in text
    assert not re.search(r"X509_V_ERR|^\d+$", text)


def test_expired_exception_str(inter, trust):
    leaf = inter.leaf(HOST, not_before=days(-100), not_after=days(-3))
    r = verify_chain(pem_of(leaf, inter), hostname=HOST, trust=trust)
    with pytest.raises(pytlscheck.CertificateExpired) as e:
        r.raise_for_problems()
    text = str(e.value)
    assert "expired" in text and "Renew" in text and HOST in text


def test_explain_expired_chain(inter, trust):
    leaf = inter.leaf(HOST, not_before=days(-100), not_after=days(-3))
    text = verify_chain(pem_of(leaf, inter), hostname=HOST, trust=trust).explain()
    assert text.startswith("FAIL")
    assert "expired" in text and "3 days ago" in text
    assert "What is wrong" in text
    assert "Fix: " in text and "See it yourself:" in text and "Renew the certificate" in text
    assert "openssl x509 -noout -dates" in text
    assert HOST in text and "pytlscheck Test Issuing CA" in text
    assert "EXPIRED" in text   # the chain listing marks the certificate


def test_explain_missing_intermediate(good, trust):
    text = verify_chain(good.pem, hostname=HOST, trust=trust).explain()
    assert text.startswith("FAIL")
    assert "incomplete" in text
    assert "pytlscheck Test Issuing CA" in text
    assert AIA in text
    assert "fullchain.pem" in text
    assert "openssl verify" in text
    assert "Usual cause" in text


def test_explain_good_chain(good, inter, trust):
    text = verify_chain(pem_of(good, inter), hostname=HOST, trust=trust).explain()
    assert text.startswith("OK")
    assert "Nothing to fix" in text
    assert "Path to a trusted root" in text


def test_report_to_dict_and_json(good, inter, trust):
    import json
    r = verify_chain(good.pem, hostname=HOST, trust=trust)
    d = json.loads(r.to_json())
    assert d == json.loads(json.dumps(r.to_dict()))
    assert d["ok"] is False and d["schema"] == 1
    assert d["problems"][0]["kind"] == "incomplete_chain"
    assert d["problems"][0]["exception"] == "IncompleteChain"
    assert d["chain"][0]["fingerprint_sha256"] == Certificate.from_pem(good.pem).fingerprint_sha256
    assert d["verified_chain"] is None
    assert d["target"] is None and d["hostname"] == HOST
    assert set(d) >= {"ok", "problems", "chain", "path", "verified_chain", "hostname", "trust",
                      "target", "address", "port", "protocol", "cipher", "timings",
                      "days_remaining", "checked_at"}


def test_problem_certificate_and_repr(good, trust):
    r = verify_chain(good.pem, hostname=HOST, trust=trust)
    p = r.problems[0]
    assert p.certificate == r.leaf
    assert repr(p).startswith("<Problem incomplete_chain (error)")
    assert "incomplete_chain" in repr(r)
    with pytest.raises(AttributeError):
        p.kind = "expired"


# ---- the openssl commands name the caller's file ---------------------------

@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_inspect_command_names_the_file_and_runs(inter, root, tmp_path):
    """A chain read from a file: the problem's openssl command names that
    file (quoted), and running it shows the same failure."""
    leaf = inter.leaf(HOST)
    path = tmp_path / "my leaf.pem"             # a space: the command quotes it
    path.write_text(pem_of(leaf))               # the intermediate is missing
    anchor = tmp_path / "root.pem"
    anchor.write_text(root.pem)
    r = verify_chain(str(path), hostname=HOST, trust=str(anchor))
    p = problem(r, "incomplete_chain")
    quoted = shlex.quote(str(path))
    assert p.inspect_command == f"openssl verify -show_chain -untrusted {quoted} {quoted}"
    run = subprocess.run(p.inspect_command + " -CAfile " + shlex.quote(str(anchor)),
                         shell=True, capture_output=True, text=True, timeout=30)
    assert run.returncode != 0
    assert "unable to get local issuer certificate" in run.stdout + run.stderr
    # The twin: the same chain as data keeps the generic names.
    r2 = verify_chain(pem_of(leaf), hostname=HOST, trust=str(anchor))
    assert problem(r2, "incomplete_chain").inspect_command.endswith("-untrusted chain.pem leaf.pem")


# ---- issue 13, items 3 and 7 ------------------------------------------

def test_private_ca_chain_without_trust_is_unknown_root_not_incomplete():
    root = CA.root("Private Root")
    inter = root.intermediate("Private Issuing CA")
    leaf = inter.leaf(HOST)
    r = verify_chain(pem_of(leaf, inter), hostname=HOST)
    assert kinds(r) == ["unknown_root"]
    p = problem(r, "unknown_root")
    assert "private root" in p.message and "second intermediate" in p.message
    assert "trust=" in p.fix and "fullchain" not in p.fix
    assert "openssl x509 -noout -subject -issuer" in p.fix
    assert p.depth == 1
    assert issubclass(pytlscheck.UnknownRoot, pytlscheck.UntrustedRoot)
    # Its twin: with the root passed, clean.
    assert_clean(verify_chain(pem_of(leaf, inter), hostname=HOST, trust=anchors(root)))


def test_leaf_sent_alone_keeps_serve_the_full_chain():
    root = CA.root("Private Root")
    inter = root.intermediate("Private Issuing CA")
    leaf = inter.leaf(HOST)
    r = verify_chain(leaf.pem, hostname=HOST, trust=anchors(root))
    assert kinds(r) == ["incomplete_chain"]
    assert "full chain" in problem(r, "incomplete_chain").fix
    r = verify_chain(leaf.pem, hostname=HOST)
    assert kinds(r) == ["incomplete_chain"]


def test_self_signed_ca_leaf_is_one_error():
    ss = mint(HOST, None, is_ca=True, dns_names=[HOST])
    r = verify_chain(ss.pem, hostname=HOST)
    assert kinds(r) == ["self_signed"]
    m = problem(r, "self_signed").message
    assert "self-signed" in m and "CA certificate" in m and "CA:TRUE" in m
