"""The web-PKI rules of csrc/core/x509/policy.c, on chains minted here, not taken
from the x509-limbo suite: each rule the suite decides is checked again on
a certificate built to break that rule and nothing else, next to its good
twin (the same chain without the flaw), which must pass.

Rows are (name, how to break the chain, expected kind at depth); the kind
None means the chain must verify.  Some good twins are the documented
leniencies (docs/conformance.md): what real roots do, a leaf without EKU,
a CN that names another host.
"""
from __future__ import annotations

import datetime as dt
import ipaddress
from typing import Any, Dict, List, Optional, Sequence

import pytest

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

import pytlscheck

import _der

UTC = dt.timezone.utc
NOW = dt.datetime.now(UTC).replace(microsecond=0)
HOST = "api.example.com"

OID_SAN = bytes.fromhex("0603551d11")        # 2.5.29.17, DER-encoded
OID_POLICY_CONSTRAINTS = ObjectIdentifier("2.5.29.36")
OID_NAME_CONSTRAINTS = ObjectIdentifier("2.5.29.30")
OID_AIA = ObjectIdentifier("1.3.6.1.5.5.7.1.1")
OID_SAN_X = ObjectIdentifier("2.5.29.17")


class Cert:
    """A certificate (as built by `cryptography`, or DER bytes after a
    rewrite) and its key."""

    def __init__(self, cert: Any, key: Any):
        self.cert, self.key = cert, key

    @property
    def der(self) -> bytes:
        if isinstance(self.cert, bytes):
            return self.cert
        return self.cert.public_bytes(serialization.Encoding.DER)

    def public(self) -> pytlscheck.Certificate:
        return pytlscheck.Certificate.from_der(self.der)


def p256():
    return ec.generate_private_key(ec.SECP256R1())


def make(cn: Optional[str], issuer: Optional[Cert] = None, *, key=None,
         dns: Sequence[str] = (), ips: Sequence[str] = (), ca: bool = False,
         bc: bool = True, bc_critical: bool = True, path_len: Optional[int] = None,
         ku: Optional[Dict[str, bool]] = None, eku: Optional[Sequence[Any]] = ("serverAuth",),
         eku_critical: bool = False, san_critical: bool = False, ski: bool = True,
         aki: bool = True, extra: Sequence[Any] = (), subject: Optional[x509.Name] = None,
         not_before: Optional[dt.datetime] = None,
         not_after: Optional[dt.datetime] = None) -> Cert:
    """One certificate with exactly the extensions asked for.  extra: tuples
    (ExtensionType, critical).  eku: names, OIDs, or None (no extension)."""
    key = key or p256()
    name = subject if subject is not None else x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, cn)] if cn else [])
    signer = issuer.key if issuer else key
    b = (x509.CertificateBuilder()
         .subject_name(name)
         .issuer_name(issuer.cert.subject if issuer else name)
         .public_key(key.public_key())
         .serial_number(x509.random_serial_number())
         .not_valid_before(not_before or NOW - dt.timedelta(days=1))
         .not_valid_after(not_after or NOW + dt.timedelta(days=90)))
    if bc:
        b = b.add_extension(x509.BasicConstraints(ca=ca, path_length=path_len), bc_critical)
    usage = dict(digital_signature=not ca, content_commitment=False, key_encipherment=False,
                 data_encipherment=False, key_agreement=False, key_cert_sign=ca,
                 crl_sign=ca, encipher_only=False, decipher_only=False)
    if ku != {}:
        usage.update(ku or {})
        b = b.add_extension(x509.KeyUsage(**usage), True)
    if eku is not None and not ca:
        oids = [getattr(ExtendedKeyUsageOID, _snake(e)) if isinstance(e, str) else e for e in eku]
        b = b.add_extension(x509.ExtendedKeyUsage(oids), eku_critical)
    sans = [x509.DNSName(d) for d in dns] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    if sans:
        b = b.add_extension(x509.SubjectAlternativeName(sans), san_critical)
    for ext, crit in extra:
        b = b.add_extension(ext, crit)
    if ski:
        b = b.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
    if aki:
        b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            signer.public_key()), False)
    algorithm = None if isinstance(signer, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return Cert(b.sign(signer, algorithm), key)


def _snake(name: str) -> str:
    return {"serverAuth": "SERVER_AUTH", "clientAuth": "CLIENT_AUTH",
            "anyExtendedKeyUsage": "ANY_EXTENDED_KEY_USAGE"}[name]


def resign(c: Cert, issuer: Optional[Cert], mutate) -> Cert:
    """c rewritten by mutate (a _der helper) and signed again; built last,
    as nothing can be issued under a rewritten certificate."""
    return Cert(_der.resign(c.cert, (issuer or c).key, mutate), c.key)


class Chain:
    """root -> inter -> leaf for HOST, each knob a keyword of make()."""

    def __init__(self, root: Optional[Dict[str, Any]] = None,
                 inter: Optional[Dict[str, Any]] = None,
                 leaf: Optional[Dict[str, Any]] = None):
        self.root = make("Policy Test Root", ca=True, **(root or {}))
        self.inter = make("Policy Test Issuing CA", self.root, ca=True, **(inter or {}))
        opts = {"dns": [HOST]}
        opts.update(leaf or {})
        self.leaf = make(opts.pop("cn", HOST), self.inter, **opts)

    def verify(self, **kw) -> pytlscheck.Report:
        kw.setdefault("hostname", HOST)
        kw.setdefault("min_days", None)
        return pytlscheck.verify_chain([self.leaf.public(), self.inter.public()],
                                       trust=[self.root.public()], **kw)


# ---- how each row breaks the chain ----------------------------------------

def _leaf_serial(value: int):
    def build() -> Chain:
        ch = Chain()
        ch.leaf = resign(ch.leaf, ch.inter, _der.set_field(_der.SERIAL, _der.integer(value)))
        return ch
    return build


def _leaf_validity(not_before: bytes, not_after: bytes):
    def build() -> Chain:
        ch = Chain()
        ch.leaf = resign(ch.leaf, ch.inter, _der.set_field(
            _der.VALIDITY, _der.encode(0x30, not_before + not_after)))
        return ch
    return build


def _utc(when: dt.datetime) -> bytes:
    return _der.utc_time(when.strftime("%y%m%d%H%M%SZ"))


def _leaf_duplicate_san() -> Chain:
    ch = Chain()
    ch.leaf = resign(ch.leaf, ch.inter, _der.duplicate_extension(OID_SAN))
    return ch


def _chain(**parts):
    return lambda: Chain(**parts)


def _raw(oid: ObjectIdentifier, value: bytes, critical: bool):
    return (x509.UnrecognizedExtension(oid, value), critical)


def _cross_nc(excluded: Sequence[str] = (), permitted: Sequence[str] = (), leaf_dns=("*.example.com",)):
    nc = x509.NameConstraints(
        permitted_subtrees=[x509.DNSName(d) for d in permitted] or None,
        excluded_subtrees=[x509.DNSName(d) for d in excluded] or None)
    return lambda: Chain(inter={"extra": [(nc, True)]}, leaf={"dns": list(leaf_dns)})


def _anchor_with(mutate):
    """The root re-signed with a flaw, the rest of the chain re-issued under it."""
    def build() -> Chain:
        ch = Chain()
        ch.root = resign(ch.root, None, mutate)
        return ch
    return build


ROWS: List[Any] = [
    # name, chain builder, verify_chain keywords, expected kind, at depth
    ("clean chain", _chain(), {}, None, None),

    # Serial numbers, RFC 5280 4.1.2.2
    ("leaf serial zero", _leaf_serial(0), {}, "malformed_certificate", 0),
    ("leaf serial negative", _leaf_serial(-5), {}, "malformed_certificate", 0),
    ("leaf serial 21 octets", _leaf_serial(1 << 166), {}, "malformed_certificate", 0),
    ("leaf serial 20 octets", _leaf_serial((1 << 158) + 7), {}, None, None),

    # Validity encoding, RFC 5280 4.1.2.5
    ("leaf GeneralizedTime before 2050",
     _leaf_validity(_utc(NOW - dt.timedelta(days=1)), _der.generalized_time("20491231000000Z")),
     {}, "profile_deviation", 0),
    ("leaf UTCTime for 2049", _leaf_validity(_utc(NOW - dt.timedelta(days=1)),
                                             _der.utc_time("491231000000Z")), {}, None, None),

    # Extensions, RFC 5280 4.2
    ("leaf with two SAN extensions", _leaf_duplicate_san, {}, "malformed_certificate", 0),
    ("leaf critical authorityKeyIdentifier",
     _chain(leaf={"aki": False, "extra": [(x509.AuthorityKeyIdentifier(b"\x01" * 20, None, None), True)]}),
     {}, "malformed_certificate", 0),
    ("leaf without authorityKeyIdentifier", _chain(leaf={"aki": False}), {}, "malformed_certificate", 0),
    ("leaf AKI without keyIdentifier",
     _chain(leaf={"aki": False, "extra": [(x509.AuthorityKeyIdentifier(
         None, [x509.DirectoryName(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Policy Test Root")]))],
         12345), False)]}), {}, "malformed_certificate", 0),
    ("leaf empty AIA", _chain(leaf={"extra": [_raw(OID_AIA, b"\x30\x00", False)]}),
     {}, "malformed_certificate", 0),
    ("leaf undecodable AIA", _chain(leaf={"extra": [_raw(OID_AIA, b"garbage", False)]}),
     {}, "malformed_certificate", 0),
    ("leaf carries nameConstraints",
     _chain(leaf={"extra": [(x509.NameConstraints([x509.DNSName("example.com")], None), True)]}),
     {}, "malformed_certificate", 0),

    # basicConstraints and keyUsage, RFC 5280 4.2.1.3 / 4.2.1.9, CA/B 7.1.2.7.8
    ("intermediate basicConstraints not critical", _chain(inter={"bc_critical": False}),
     {}, "profile_deviation", 1),
    ("intermediate without subjectKeyIdentifier", _chain(inter={"ski": False}), {},
     "malformed_certificate", 1),
    ("intermediate policyConstraints not critical",
     _chain(inter={"extra": [(x509.PolicyConstraints(require_explicit_policy=None,
                                                     inhibit_policy_mapping=0), False)]}),
     {}, "profile_deviation", 1),
    ("leaf is a CA", _chain(leaf={"ca": True, "eku": None}), {}, "invalid_purpose", 0),
    ("leaf keyCertSign without cA", _chain(leaf={"ku": {"key_cert_sign": True}}),
     {}, "invalid_purpose", 0),

    # EKU, CA/B 7.1.2.7.6 / 7.1.2.7.10 / 7.1.2.2
    ("leaf EKU with anyExtendedKeyUsage",
     _chain(leaf={"eku": ["serverAuth", "anyExtendedKeyUsage"]}), {}, "invalid_purpose", 0),
    ("leaf EKU critical", _chain(leaf={"eku_critical": True}), {}, "invalid_purpose", 0),
    ("leaf without EKU (accepted, RFC 5280 4.2.1.12)", _chain(leaf={"eku": None}), {}, None, None),
    ("intermediate EKU clientAuth only, server purpose",
     _chain(inter={"extra": [(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), False)]}),
     {}, "invalid_purpose", 1),
    ("intermediate EKU serverAuth", _chain(inter={"extra": [(x509.ExtendedKeyUsage(
        [ExtendedKeyUsageOID.SERVER_AUTH]), False)]}), {}, None, None),
    ("intermediate EKU serverAuth only, client certificate",
     _chain(inter={"extra": [(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)]},
            leaf={"eku": ["clientAuth"]}),
     {"purpose": "client", "hostname": None}, "invalid_purpose", 1),
    ("intermediate EKU clientAuth, client certificate",
     _chain(inter={"extra": [(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), False)]},
            leaf={"eku": ["clientAuth"]}),
     {"purpose": "client", "hostname": None}, None, None),

    # subjectAltName, RFC 5280 4.2.1.6, CA/B 7.1.2.7.12
    ("leaf SAN with underscore", _chain(leaf={"dns": [HOST, "a_b.example.com"]}),
     {}, "malformed_certificate", 0),
    ("leaf SAN with leading dot", _chain(leaf={"dns": [HOST, ".example.com"]}),
     {}, "malformed_certificate", 0),
    ("leaf empty SAN", _chain(leaf={"dns": [], "extra": [_raw(OID_SAN_X, b"\x30\x00", False)]}),
     {"hostname": None}, "malformed_certificate", 0),
    ("leaf SAN critical, subject not empty", _chain(leaf={"san_critical": True}),
     {}, "malformed_certificate", 0),
    ("leaf empty subject, SAN not critical", _chain(leaf={"cn": None}), {}, "malformed_certificate", 0),
    ("leaf empty subject, SAN critical", _chain(leaf={"cn": None, "san_critical": True}), {}, None, None),
    ("server leaf without SAN, no hostname asked", _chain(leaf={"dns": []}),
     {"hostname": None}, "invalid_purpose", 0),

    # Subject CN against the SANs, CA/B 7.1.4.3
    ("CN differs from its SAN in case", _chain(leaf={"cn": "API.example.com"}),
     {}, "malformed_certificate", 0),
    ("CN 192.168.001.001 for SAN 192.168.1.1",
     _chain(leaf={"cn": "192.168.001.001", "dns": [], "ips": ["192.168.1.1"]}),
     {"hostname": "192.168.1.1"}, "malformed_certificate", 0),
    ("CN 2001:DB8::1 for SAN 2001:db8::1",
     _chain(leaf={"cn": "2001:DB8::1", "dns": [], "ips": ["2001:db8::1"]}),
     {"hostname": "2001:db8::1"}, "malformed_certificate", 0),
    ("CN in Unicode", _chain(leaf={"cn": "b\u00fccher.example.com", "dns": [HOST]}),
     {}, "malformed_certificate", 0),
    ("CN 192.168.1.1 for SAN 192.168.1.1",
     _chain(leaf={"cn": "192.168.1.1", "dns": [], "ips": ["192.168.1.1"]}),
     {"hostname": "192.168.1.1"}, None, None),
    ("descriptive CN (not a host name)", _chain(leaf={"cn": "ACME Internal API"}), {}, None, None),
    ("CN naming another host (ignored, like browsers)", _chain(leaf={"cn": "www.example.org"}),
     {}, None, None),

    # Keys, CA/B 6.1.5 / 7.1.3.1
    ("leaf RSA 1024", _chain(leaf={"key": rsa.generate_private_key(65537, 1024)}), {}, "weak_key", 0),
    ("leaf RSA 2052 (not whole bytes)", _chain(leaf={"key": rsa.generate_private_key(65537, 2052)}),
     {}, "weak_key", 0),
    ("leaf DSA 2048", _chain(leaf={"key": dsa.generate_private_key(2048)}), {}, "weak_key", 0),
    ("leaf P-192", _chain(leaf={"key": ec.generate_private_key(ec.SECP192R1())}), {}, "weak_key", 0),
    ("intermediate P-384", _chain(inter={"key": ec.generate_private_key(ec.SECP384R1())}),
     {}, None, None),
    ("leaf RSA 3072", _chain(leaf={"key": rsa.generate_private_key(65537, 3072)}), {}, None, None),
    ("leaf Ed25519 (RFC 8410, private PKIs)", _chain(leaf={"key": ed25519.Ed25519PrivateKey.generate()}),
     {}, None, None),

    # Name constraints, RFC 5280 4.2.1.10 with RFC 9525 wildcards (CVE-2025-61727)
    ("wildcard covers an excluded name", _cross_nc(excluded=["bar.example.com"]),
     {"hostname": "foo.example.com"}, "name_constraints_violation", 0),
    ("wildcard beside an excluded name elsewhere", _cross_nc(excluded=["bar.other.example.org"]),
     {"hostname": "foo.example.com"}, None, None),
    ("wildcard inside a permitted subtree", _cross_nc(permitted=["example.com"]),
     {"hostname": "foo.example.com"}, None, None),
    ("nameConstraints with no subtree",
     _chain(inter={"extra": [_raw(OID_NAME_CONSTRAINTS, b"\x30\x00", True)]}), {}, "invalid_ca", 1),
    ("nameConstraints not critical (CA/B 7.1.2.5.2 allows)",
     _chain(inter={"extra": [(x509.NameConstraints([x509.DNSName("example.com")], None), False)]}),
     {}, None, None),
    ("nameConstraints with a leading-dot DNS subtree (browsers accept)",
     _chain(inter={"extra": [(x509.NameConstraints([x509.DNSName(".example.com")], None), True)]}),
     {}, None, None),

    # Trust anchors: what roots of the public store do is accepted
    ("anchor serial zero", _anchor_with(_der.set_field(_der.SERIAL, _der.integer(0))), {}, None, None),
    ("anchor basicConstraints not critical", _chain(root={"bc_critical": False}), {},
     "profile_deviation", 2),
    ("anchor without keyUsage", _chain(root={"ku": {}}), {}, None, None),
    ("anchor without subjectKeyIdentifier", _chain(root={"ski": False}), {}, None, None),
    ("anchor without basicConstraints", _chain(root={"bc": False}), {}, "invalid_ca", 2),
    ("anchor keyUsage without keyCertSign", _chain(root={"ku": {"key_cert_sign": False}}),
     {}, "invalid_ca", 2),
    ("anchor with DSA key", _chain(root={"key": dsa.generate_private_key(2048)}), {}, "weak_key", 2),
]

@pytest.mark.parametrize("name,build,kw,kind,depth", ROWS, ids=[r[0] for r in ROWS])
def test_rule(name, build, kw, kind, depth):
    report = build().verify(**kw)
    errors = [(p.kind, p.depth) for p in report.problems if p.severity == "error"]
    if kind is not None and pytlscheck.KINDS[kind].severity == "warning":
        # A rule for the issuer that relying parties accept: verifies, warned.
        assert report.ok, f"{name}: expected to verify with {kind}, got {errors}"
        warned = [(p.kind, p.depth) for p in report.problems if p.severity == "warning"]
        assert (kind, depth) in warned, f"{name}: expected the warning {kind} at depth {depth}, got {warned}"
    elif kind is None:
        assert report.ok, f"{name}: expected to verify, got {errors}: " + \
            "; ".join(p.message for p in report.errors)
    else:
        assert not report.ok, f"{name}: expected {kind} at depth {depth}, the chain verified"
        assert (kind, depth) in errors, f"{name}: expected {kind} at depth {depth}, got {errors}"


def test_problem_message_names_the_rule():
    """A policy finding says which rule, in words, in the problem's message."""
    ch = _leaf_serial(0)()
    report = ch.verify()
    msg = next(p.message for p in report.errors if p.kind == "malformed_certificate")
    assert msg[0].isupper()
    assert "serial number is zero" in msg and "RFC 5280 section 4.1.2.2" in msg


def test_several_findings_on_one_certificate_are_listed_together():
    """One problem per kind and certificate, saying every rule it breaks,
    whether OpenSSL's strict checks (verify.c) or policy.c found them."""
    ch = Chain(leaf={"aki": False, "cn": "API.example.com", "dns": [HOST, "a_b.example.com"]})
    malformed = [p for p in ch.verify().errors
                 if p.kind == "malformed_certificate" and p.depth == 0]
    assert len(malformed) == 1
    msg = malformed[0].message
    assert "no authorityKeyIdentifier" in msg
    assert 'subject CN "API.example.com" names the same host' in msg
    assert "DNS:a_b.example.com is not a valid DNS name" in msg
    assert msg.count("authorityKeyIdentifier") == 1, msg


def test_max_depth_does_not_count_self_issued():
    """root -> I -> I' (self-issued: the same CA after a key rollover) ->
    leaf is one intermediate for max_depth, as RFC 5280 6.1.4 (l) counts
    for pathLenConstraint; root -> I1 -> I2 -> leaf is two."""
    root = make("Depth Root", ca=True)
    old = make("Depth CA", root, ca=True)
    rollover = make("Depth CA", old, ca=True)
    leaf = make(HOST, rollover, dns=[HOST])
    report = pytlscheck.verify_chain([leaf.public(), rollover.public(), old.public()],
                                     trust=[root.public()], hostname=HOST, max_depth=1,
                                     min_days=None)
    assert report.ok, [p.message for p in report.errors]

    first = make("First CA", root, ca=True)
    second = make("Second CA", first, ca=True)
    leaf2 = make(HOST, second, dns=[HOST])
    report = pytlscheck.verify_chain([leaf2.public(), second.public(), first.public()],
                                     trust=[root.public()], hostname=HOST, max_depth=1,
                                     min_days=None)
    assert not report.ok
    assert "path_length_exceeded" in [p.kind for p in report.errors]


def _crl(issuer: Cert, with_number: bool) -> str:
    b = (x509.CertificateRevocationListBuilder()
         .issuer_name(issuer.cert.subject)
         .last_update(NOW - dt.timedelta(days=1))
         .next_update(NOW + dt.timedelta(days=7))
         .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
                        False))
    if with_number:
        b = b.add_extension(x509.CRLNumber(1), False)
    return b.sign(issuer.key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()


@pytest.mark.parametrize("with_number", [True, False], ids=["CRLNumber", "no CRLNumber"])
def test_crl_without_crl_number(with_number):
    """RFC 5280 5.2.3: a CRL carries a CRLNumber; without one its verdict
    is not used (the chain fails), with one the chain verifies."""
    ch = Chain()
    crls = [_crl(ch.inter, with_number), _crl(ch.root, True)]
    report = ch.verify(crls=crls)
    if with_number:
        assert report.ok, [p.message for p in report.errors]
    else:
        assert not report.ok
        assert ("chain_invalid", 0) in [(p.kind, p.depth) for p in report.errors]


def test_path_length_does_not_count_self_issued():
    """RFC 5280 6.1.4 (l): under a CA with pathLenConstraint 0, a
    self-issued certificate of that same CA (a key rollover) is not another
    CA; a distinct CA is, and breaks the constraint."""
    root = make("PathLen Root", ca=True)
    ca = make("PathLen CA", root, ca=True, path_len=0)
    rollover = make("PathLen CA", ca, ca=True, path_len=0)
    leaf = make(HOST, rollover, dns=[HOST])
    report = pytlscheck.verify_chain([leaf.public(), rollover.public(), ca.public()],
                                     trust=[root.public()], hostname=HOST, min_days=None)
    assert report.ok, [p.message for p in report.errors]

    sub = make("PathLen Sub CA", ca, ca=True)
    leaf2 = make(HOST, sub, dns=[HOST])
    report = pytlscheck.verify_chain([leaf2.public(), sub.public(), ca.public()],
                                     trust=[root.public()], hostname=HOST, min_days=None)
    assert not report.ok
    assert "path_length_exceeded" in [p.kind for p in report.errors]
