"""Certificate: every field against what `cryptography` minted, the three
constructors, equality and hashing by fingerprint, repr and to_dict."""
import copy
import ipaddress
import json
import pickle
import re
from datetime import timezone

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from pki import CA, days, mint, not_after_utc, not_before_utc, pem_of
from pytlscheck import Certificate


@pytest.fixture(scope="module")
def leaf(inter):
    return inter.leaf("api.example.com", "www.example.com", "10.0.0.1", "2001:db8::1",
                      email_addresses=["ops@example.com"], org="Example Org",
                      aia_ca_issuers="http://ca.example.test/issuing.crt",
                      ocsp_url="http://ocsp.example.test",
                      not_before=days(-10), not_after=days(50),
                      key_usage=["digitalSignature", "keyEncipherment"],
                      eku=["serverAuth", "clientAuth"])


def test_fields_match_what_was_minted(leaf, inter):
    c = Certificate.from_pem(leaf.pem)
    assert c.subject == "CN=api.example.com,O=Example Org"
    assert c.issuer == "CN=pytlscheck Test Issuing CA"
    assert c.common_name == "api.example.com"
    assert c.dns_names == ("api.example.com", "www.example.com")
    assert c.ip_addresses == (ipaddress.ip_address("10.0.0.1"), ipaddress.ip_address("2001:db8::1"))
    assert all(isinstance(a, (ipaddress.IPv4Address, ipaddress.IPv6Address)) for a in c.ip_addresses)
    assert c.email_addresses == ("ops@example.com",)
    assert int(c.serial_number, 16) == leaf.cert.serial_number
    assert c.serial_number == c.serial_number.lower() and len(c.serial_number) % 2 == 0
    assert c.not_before == not_before_utc(leaf.cert)
    assert c.not_after == not_after_utc(leaf.cert)
    assert c.not_after.tzinfo is not None and c.not_after.utcoffset().total_seconds() == 0
    assert c.fingerprint_sha256 == leaf.cert.fingerprint(hashes.SHA256()).hex()
    assert c.key_type == "EC" and c.key_bits == 256 and c.key_curve == "prime256v1"
    assert c.signature_algorithm == "ecdsa-with-SHA256"
    assert c.version == 3
    assert c.is_ca is False and c.path_length is None
    assert set(c.key_usage) == {"digitalSignature", "keyEncipherment"}
    assert c.extended_key_usage == ("serverAuth", "clientAuth")
    assert c.ca_issuers == ("http://ca.example.test/issuing.crt",)
    assert c.ocsp_urls == ("http://ocsp.example.test",)
    assert c.self_signed is False
    assert c.der == leaf.der
    assert c.days_remaining in (49, 50)


def test_ca_fields(root):
    inter = root.intermediate("Path CA", path_length=2)
    c = Certificate.from_der(inter.der)
    assert c.is_ca is True and c.path_length == 2
    assert "keyCertSign" in c.key_usage
    r = Certificate.from_pem(root.pem)
    assert r.self_signed is True and r.subject == r.issuer


@pytest.mark.parametrize("key_type,bits,expect_type,expect_bits,curve", [
    ("rsa", 2048, "RSA", 2048, None),
    ("ec384", None, "EC", 384, "secp384r1"),
    ("ed25519", None, "Ed25519", None, None),
])
def test_key_types(inter, key_type, bits, expect_type, expect_bits, curve):
    leaf = inter.leaf("k.example.com", key_type=key_type, bits=bits)
    c = Certificate.from_pem(leaf.pem)
    assert c.key_type == expect_type
    if expect_bits is not None:
        assert c.key_bits == expect_bits
    assert c.key_curve == curve


def test_pem_round_trip(leaf):
    c = Certificate.from_pem(leaf.pem)
    assert c.pem.startswith("-----BEGIN CERTIFICATE-----\n")
    assert Certificate.from_pem(c.pem) == c
    assert x509.load_pem_x509_certificate(c.pem.encode()).fingerprint(hashes.SHA256()).hex() \
        == c.fingerprint_sha256


def test_from_pem_takes_str_and_bytes(leaf):
    assert Certificate.from_pem(leaf.pem) == Certificate.from_pem(leaf.pem.encode())


def test_from_pem_with_a_key_block_ignores_the_key(leaf):
    assert Certificate.from_pem(leaf.pem + leaf.key_pem).der == leaf.der


def test_from_pem_refuses_a_bundle_and_list_from_pem_takes_it(leaf, inter):
    with pytest.raises(ValueError, match="2 certificates"):
        Certificate.from_pem(pem_of(leaf, inter))
    certs = Certificate.list_from_pem(pem_of(leaf, inter))
    assert [c.der for c in certs] == [leaf.der, inter.der]


def test_from_pem_refuses_der_and_from_der_refuses_pem(leaf):
    with pytest.raises(ValueError, match="from_der"):
        Certificate.from_pem(leaf.der)
    with pytest.raises(ValueError, match="from_pem"):
        Certificate.from_der(leaf.pem.encode())


def test_load_bundle_and_der_files(tmp_path, leaf, inter, root):
    bundle = tmp_path / "fullchain.pem"
    bundle.write_text(pem_of(leaf, inter, root))
    certs = Certificate.load(bundle)
    assert [c.der for c in certs] == [leaf.der, inter.der, root.der]
    der = tmp_path / "leaf.der"
    der.write_bytes(leaf.der)
    assert Certificate.load(str(der)) == [Certificate.from_der(leaf.der)]


def test_load_missing_file_names_it(tmp_path):
    missing = tmp_path / "nope.pem"
    with pytest.raises(OSError) as e:
        Certificate.load(missing)
    assert "nope.pem" in str(e.value)


def test_equality_and_hash_by_fingerprint(leaf, inter):
    a = Certificate.from_pem(leaf.pem)
    b = Certificate.from_der(leaf.der)
    other = Certificate.from_pem(inter.pem)
    assert a == b and hash(a) == hash(b)
    assert a != other
    assert len({a, b, other}) == 2
    assert a != leaf.pem  # not equal to non-certificates


def test_immutable(leaf):
    c = Certificate.from_pem(leaf.pem)
    with pytest.raises(AttributeError):
        c.subject = "CN=evil"
    with pytest.raises(AttributeError):
        del c.der
    with pytest.raises(AttributeError):
        c.anything = 1
    with pytest.raises(TypeError):
        Certificate()
    assert copy.deepcopy(c) is c
    assert pickle.loads(pickle.dumps(c)) == c


def test_repr(leaf, inter):
    c = Certificate.from_pem(leaf.pem)
    assert re.fullmatch(r"<Certificate CN=api\.example\.com, expires \d{4}-\d\d-\d\d "
                        r"\((49|50) days\), issuer CN=pytlscheck Test Issuing CA>", repr(c)), repr(c)
    old = inter.leaf("old.example.com", not_before=days(-30), not_after=days(-3.5))
    assert re.search(r"expired \d{4}-\d\d-\d\d \(3 days ago\)", repr(Certificate.from_pem(old.pem)))
    selfsigned = mint("self.example.com", None, dns_names=["self.example.com"])
    assert "self-signed" in repr(Certificate.from_pem(selfsigned.pem))


def test_repr_without_cn_uses_the_subject(inter):
    leaf = inter.leaf("nocn.example.com", cn=None, org="Only Org")
    c = Certificate.from_pem(leaf.pem)
    assert c.common_name is None
    assert "O=Only Org" in repr(c)


def test_to_dict_is_json_ready(leaf):
    c = Certificate.from_pem(leaf.pem)
    d = c.to_dict()
    json.dumps(d)
    assert d["subject"] == c.subject
    assert d["ip_addresses"] == ["10.0.0.1", "2001:db8::1"]
    assert d["not_after"] == c.not_after.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert d["fingerprint_sha256"] == c.fingerprint_sha256
    assert d["pem"] == c.pem
    assert set(d) >= {"subject", "issuer", "common_name", "dns_names", "ip_addresses",
                      "serial_number", "not_before", "not_after", "days_remaining",
                      "key_type", "key_bits", "signature_algorithm", "is_ca",
                      "extended_key_usage", "ca_issuers", "ocsp_urls", "self_signed"}


def test_weak_and_old_certificates_still_parse(root):
    """Parsing is not judging: a SHA-1, RSA-1024 certificate is still a Certificate."""
    rsa_root = CA.root("RSA Root", key_type="rsa")
    weak = rsa_root.leaf("weak.example.com", key_type="rsa", bits=1024, digest="sha1")
    c = Certificate.from_pem(weak.pem)
    assert c.key_type == "RSA" and c.key_bits == 1024
    assert c.signature_algorithm == "sha1WithRSAEncryption"
