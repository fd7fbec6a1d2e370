"""Just enough DER to break a certificate on purpose.

`cryptography` refuses to build some of the certificates the policy tests
need (serial number zero, negative or longer than 20 octets; a
GeneralizedTime before 2050; two copies of one extension).  These helpers
take a certificate it did build, rewrite fields of the to-be-signed part,
and sign it again with the issuer's key, so the result is a certificate
whose signature verifies and whose only flaw is the one the test names.
"""
from __future__ import annotations

from typing import Callable, List, Tuple

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

# Positions in TBSCertificate (RFC 5280 section 4.1) when the version is present.
SERIAL, VALIDITY, EXTENSIONS = 1, 4, -1


def _read(buf: bytes, i: int) -> Tuple[int, int, int]:
    """(tag, start of content, end) of the TLV at buf[i]."""
    tag, n = buf[i], buf[i + 1]
    i += 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(buf[i:i + k], "big")
        i += k
    return tag, i, i + n


def encode(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        head = bytes([tag, n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        head = bytes([tag, 0x80 | len(raw)]) + raw
    return head + content


def children(content: bytes) -> List[bytes]:
    """The TLVs inside a constructed value, each as its full encoding."""
    out, i = [], 0
    while i < len(content):
        _, start, end = _read(content, i)
        out.append(content[i:end])
        i = end
    return out


def content_of(tlv: bytes) -> bytes:
    _, start, end = _read(tlv, 0)
    return tlv[start:end]


def integer(value: int) -> bytes:
    """An INTEGER of any sign and size (two's complement, minimal)."""
    if value == 0:
        return encode(0x02, b"\x00")
    n = (value.bit_length() + 8) // 8
    return encode(0x02, value.to_bytes(n, "big", signed=True))


def utc_time(text: str) -> bytes:
    return encode(0x17, text.encode("ascii"))


def generalized_time(text: str) -> bytes:
    return encode(0x18, text.encode("ascii"))


def _sign(key, data: bytes) -> bytes:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(data, ec.ECDSA(hashes.SHA256()))
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    raise TypeError(f"cannot sign with {type(key).__name__}")


def resign(cert: x509.Certificate, issuer_key,
           mutate: Callable[[List[bytes]], List[bytes]]) -> bytes:
    """The DER of cert with mutate() applied to the list of its
    TBSCertificate fields, signed again by issuer_key (same algorithm
    identifier as before).  DER, not a parsed certificate: `cryptography`
    warns about (and will refuse) some of what these tests build."""
    der = cert.public_bytes(serialization.Encoding.DER)
    tbs, algid, _sig = children(content_of(der))
    fields = mutate(children(content_of(tbs)))
    new_tbs = encode(0x30, b"".join(fields))
    sig = encode(0x03, b"\x00" + _sign(issuer_key, new_tbs))
    return encode(0x30, new_tbs + algid + sig)


def set_field(index: int, value: bytes) -> Callable[[List[bytes]], List[bytes]]:
    def mutate(fields: List[bytes]) -> List[bytes]:
        fields = list(fields)
        fields[index] = value
        return fields
    return mutate


def duplicate_extension(oid_der: bytes) -> Callable[[List[bytes]], List[bytes]]:
    """Appends a second copy of the extension whose OID encoding is oid_der."""
    def mutate(fields: List[bytes]) -> List[bytes]:
        fields = list(fields)
        # The last field is [3] { SEQUENCE OF Extension }.
        seq = content_of(fields[EXTENSIONS])
        items = children(content_of(seq))
        twin = [e for e in items if children(content_of(e))[0] == oid_der]
        assert twin, "the certificate has no such extension to duplicate"
        items.append(twin[0])
        fields[EXTENSIONS] = encode(0xA3, encode(0x30, b"".join(items)))
        return fields
    return mutate
