"""pytlscheck.match_hostname: RFC 6125 matching seen from Python.

The C table (csrc/tests/test_hostname.c) holds the matcher against
OpenSSL; these tests check what the Python layer adds (IDNA conversion,
argument forms, exceptions) and that the reasons reach the caller intact.
Certificates are minted here with `cryptography`, each named for its SANs.
"""
from __future__ import annotations

import datetime as dt
import ipaddress
from functools import lru_cache
from typing import Optional, Sequence

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import pytlscheck

_KEY = ec.generate_private_key(ec.SECP256R1())


@lru_cache(maxsize=None)
def mint(sans: Sequence[str] = (), cn: Optional[str] = None) -> bytes:
    """PEM of a self-signed leaf.  sans: "DNS:name" / "IP:addr" / "URI:x"."""
    names = []
    for entry in sans:
        kind, _, value = entry.partition(":")
        if kind == "DNS":
            names.append(x509.DNSName(value))
        elif kind == "IP":
            names.append(x509.IPAddress(ipaddress.ip_address(value)))
        elif kind == "URI":
            names.append(x509.UniformResourceIdentifier(value))
        else:
            raise AssertionError(entry)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)] if cn else [])
    now = dt.datetime.now(dt.timezone.utc)
    builder = (x509.CertificateBuilder()
               .subject_name(subject).issuer_name(subject)
               .public_key(_KEY.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(days=1))
               .not_valid_after(now + dt.timedelta(days=90)))
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    cert = builder.sign(_KEY, hashes.SHA256())
    return cert.public_bytes(serialization.Encoding.PEM)


def match(sans: Sequence[str], host: str, cn: Optional[str] = None):
    return pytlscheck.match_hostname(mint(tuple(sans), cn), host)


# (SANs, host, ok, matched_name, substring of the reason): each positive
# row is followed by its negative twin.
CASES = [
    (["DNS:api.example.com"], "api.example.com", True, "api.example.com",
     "api.example.com matches the SAN entry api.example.com"),
    (["DNS:api.example.com"], "www.example.com", False, None,
     "the certificate is valid for api.example.com, not for www.example.com"),
    (["DNS:api.example.com"], "API.Example.COM", True, "api.example.com", None),
    (["DNS:api.example.com"], "api.example.com.", True, "api.example.com", None),
    (["DNS:api.example.com"], "api.example.com.evil.net", False, None, "not for api.example.com.evil.net"),
    (["DNS:*.example.com"], "www.example.com", True, "*.example.com",
     "www.example.com matches the SAN entry *.example.com"),
    (["DNS:*.example.com"], "api.eu.example.com", False, None,
     "the wildcard *.example.com covers one label; api.eu.example.com has two"),
    (["DNS:*.example.com"], "example.com", False, None,
     "wildcards do not cover the bare domain: *.example.com does not match example.com"),
    (["DNS:*.example.com", "DNS:example.com"], "example.com", True, "example.com", None),
    (["DNS:f*.example.com"], "foo.example.com", False, None, "partial wildcards"),
    (["DNS:*.com"], "example.com", False, None, "too broad"),
    (["DNS:www.*.example.com"], "www.a.example.com", False, None, "left-most label"),
    (["DNS:*.example.com"], "my_host.example.com", False, None, "letters, digits and hyphens"),
    (["IP:10.0.0.5"], "10.0.0.5", True, "10.0.0.5", "10.0.0.5 matches the IP address SAN 10.0.0.5"),
    (["IP:10.0.0.5"], "10.0.0.6", False, None, "valid for 10.0.0.5, not for 10.0.0.6"),
    (["IP:::1"], "::1", True, "::1", None),
    (["IP:::1"], "[::1]", True, "::1", None),
    (["IP:::1"], "0:0:0:0:0:0:0:1", True, "::1", None),
    (["IP:::1"], "::2", False, None, "not for ::2"),
    (["DNS:10.0.0.5"], "10.0.0.5", False, None, "lists 10.0.0.5 as a DNS name"),
    (["DNS:example.com"], "10.0.0.5", False, None,
     "the host is an IP address (10.0.0.5) and the certificate has no IP address SAN; "
     "IP addresses must appear as IP SANs, not DNS names"),
    (["IP:127.0.0.1"], "localhost", False, None, "matches only DNS name SANs"),
    (["IP:10.0.0.5"], "::ffff:10.0.0.5", False, None, "the same address as ::ffff:10.0.0.5"),
    (["URI:https://api.example.com/"], "api.example.com", False, None,
     "has no DNS name or IP address entry"),
    ([f"DNS:h{i}.example.com" for i in range(8)], "other.example.com", False, None,
     "h4.example.com and 3 more, not for other.example.com"),
]


@pytest.mark.parametrize("sans,host,ok,name,why", CASES,
                         ids=[f"{c[1]}-{'ok' if c[2] else 'no'}-{i}" for i, c in enumerate(CASES)])
def test_table(sans, host, ok, name, why):
    m = match(sans, host)
    assert m.ok is ok, m.reason
    assert m.matched_name == name
    assert isinstance(m.reason, str) and m.reason
    if why is not None:
        assert why in m.reason


def test_cn_is_never_used():
    m = match([], "api.example.com", cn="api.example.com")
    assert not m.ok
    assert m.reason == ("the certificate names api.example.com only in its subject CN, which "
                        "clients ignore since RFC 6125/2818 and Chrome 58; it has no Subject "
                        "Alternative Name")
    # The twin: the same name in a SAN matches, whatever the CN says.
    assert match(["DNS:api.example.com"], "api.example.com", cn="something.else").ok


def test_cn_next_to_other_sans():
    m = match(["DNS:www.example.com"], "api.example.com", cn="api.example.com")
    assert not m.ok
    assert "only in its subject CN" in m.reason
    assert "its Subject Alternative Names (www.example.com) do not include it" in m.reason


def test_idna_unicode_host_matches_a_label_san():
    m = match(["DNS:xn--bcher-kva.example"], "bücher.example")
    assert m.ok, m.reason
    assert m.matched_name == "xn--bcher-kva.example"
    assert "xn--bcher-kva.example matches" in m.reason
    # Negative twin: a different A-label.
    assert not match(["DNS:xn--bcher-kva.example"], "büchen.example").ok


def test_idna_wildcard_and_case():
    assert match(["DNS:*.xn--bcher-kva.example"], "www.bücher.example").ok
    assert match(["DNS:xn--bcher-kva.example"], "BÜCHER.example").ok
    assert match(["DNS:xn--bcher-kva.example"], "bücher.example.").ok
    # A wildcard covers a whole A-label label, never part of one.
    assert match(["DNS:*.example.com"], "bücher.example.com").ok
    m = match(["DNS:xn--*.example.com"], "bücher.example.com")
    assert not m.ok and "internationalised (xn--) label" in m.reason


def test_nul_in_san_never_matches():
    m = match(["DNS:api.example.com\x00.evil.com"], "api.example.com")
    assert not m.ok
    assert "contains a NUL byte" in m.reason
    assert match(["DNS:api.example.com\x00.evil.com", "DNS:api.example.com"], "api.example.com").ok


def test_san_with_trailing_dot_is_malformed():
    m = match(["DNS:api.example.com."], "api.example.com")
    assert not m.ok
    assert "ends with a dot" in m.reason


def test_certificate_forms():
    pem = mint(("DNS:api.example.com",))
    cert = pytlscheck.Certificate.from_pem(pem)
    der = x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)
    for form in (cert, pem, pem.decode("ascii"), der):
        m = pytlscheck.match_hostname(form, "api.example.com")
        assert m.ok and m.matched_name == "api.example.com"
        assert not pytlscheck.match_hostname(form, "www.example.com").ok


def test_result_shape():
    m = match(["DNS:api.example.com"], "api.example.com")
    assert isinstance(m, pytlscheck.HostnameMatch)
    assert bool(m) is True
    ok, name, reason = m
    assert (ok, name) == (True, "api.example.com") and reason == m.reason
    no = match(["DNS:api.example.com"], "other.example.com")
    assert bool(no) is False and no.matched_name is None
    assert not no.reason.endswith(".")   # one sentence, usable as a {detail}


@pytest.mark.parametrize("host,needle", [
    ("", "empty"),
    ("a..example.com", "empty label"),
    ("exa mple.com", "neither a DNS name nor an IP address"),
    ("api.example.com:443", "port"),
    ("[10.0.0.5]", "brackets"),
    ("-a.example.com", "hyphen"),
    ("127.1", "ends in a number"),
    ("010.0.0.1", "leading zeros"),
    ("fe80::1%eth0", "zone"),
    ("a" * 64 + ".example.com", "longer than 63"),
])
def test_bad_hostnames_raise_value_error(host, needle):
    with pytest.raises(ValueError) as info:
        pytlscheck.match_hostname(mint(("DNS:api.example.com",)), host)
    assert needle in str(info.value)


def test_bad_hostname_type():
    with pytest.raises(TypeError):
        pytlscheck.match_hostname(mint(("DNS:api.example.com",)), b"api.example.com")  # type: ignore[arg-type]
