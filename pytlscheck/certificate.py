"""Certificate: an immutable view of one X.509 certificate.

Every field is extracted by the C core (OpenSSL) once, when the object is
made; the Python side only converts values (aware UTC datetimes,
``ipaddress`` objects, tuples), and the costlier of those (the two dates and
the IP addresses) only when first read: a batch of reports whose users read
``ok`` and ``problems`` does not pay for them.
"""
from __future__ import annotations

import base64
import ipaddress
import os
from datetime import datetime, timezone
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

from . import _core, _html, _text
from ._words import days_until, short_name

__all__ = ["Certificate"]

IPAddress = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]

_FIELDS = (
    "subject", "issuer", "common_name", "dns_names", "ip_addresses",
    "email_addresses", "serial_number", "not_before", "not_after",
    "fingerprint_sha256", "key_type", "key_bits", "key_curve",
    "signature_algorithm", "version", "is_ca", "path_length", "key_usage",
    "extended_key_usage", "ca_issuers", "ocsp_urls", "self_signed",
    "self_issued", "malformed", "der",
)

# Converted on first read (see Certificate.not_before and friends): the
# core's raw value waits in a slot of its own, the converted one in another.
_LAZY = ("not_before", "not_after", "ip_addresses")
_EAGER = tuple(f for f in _FIELDS if f not in _LAZY)
_UNSET: Any = object()

_PEM_MARK = b"-----BEGIN"


def utc_datetime(ts: int) -> datetime:
    """Unix seconds as an aware UTC datetime (Certificate.not_before/after)."""
    return datetime.fromtimestamp(ts, tz=timezone.utc)


def _ip(text: str) -> Any:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        # The core escapes odd lengths as text; keep it rather than fail.
        return text


class Certificate:
    """One X.509 certificate, immutable.

    Make one with :meth:`from_pem`, :meth:`from_der` or :meth:`load` (a
    file, which may hold a bundle).  Two certificates are equal when their
    SHA-256 fingerprints are.

    Fields: ``subject``, ``issuer`` (RFC 4514 strings), ``common_name``,
    ``dns_names``, ``ip_addresses`` (``ipaddress`` objects),
    ``email_addresses``, ``serial_number`` (lowercase hex),
    ``not_before`` / ``not_after`` (aware UTC datetimes),
    ``fingerprint_sha256`` (lowercase hex), ``key_type`` ("RSA", "EC",
    "Ed25519", ...), ``key_bits``, ``key_curve``, ``signature_algorithm``,
    ``version``, ``is_ca``, ``path_length`` (None when absent),
    ``key_usage``, ``extended_key_usage``, ``ca_issuers``, ``ocsp_urls``
    (AIA URLs), ``self_signed``, ``self_issued``, ``malformed`` (None, or
    what is wrong with a certificate that does not follow X.509: its
    unreadable fields are then empty), ``der``; computed:
    ``pem``, ``days_remaining``.
    """

    __slots__ = _EAGER + ("_raw_not_before", "_raw_not_after", "_raw_ip_addresses",
                          "_not_before", "_not_after", "_ip_addresses")

    # Kept raw until first read (see the properties below).
    _raw_not_before: Any
    _raw_not_after: Any
    _raw_ip_addresses: Any
    _not_before: Any
    _not_after: Any
    _ip_addresses: Any
    subject: str
    issuer: str
    common_name: Optional[str]
    dns_names: Tuple[str, ...]
    email_addresses: Tuple[str, ...]
    serial_number: str
    fingerprint_sha256: str
    key_type: str
    key_bits: int
    key_curve: Optional[str]
    signature_algorithm: str
    version: int
    is_ca: bool
    path_length: Optional[int]
    key_usage: Tuple[str, ...]
    extended_key_usage: Tuple[str, ...]
    ca_issuers: Tuple[str, ...]
    ocsp_urls: Tuple[str, ...]
    self_signed: bool
    self_issued: bool
    malformed: Optional[str]
    der: bytes

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("make a Certificate with Certificate.from_pem(), "
                        "Certificate.from_der() or Certificate.load()")

    # ---- construction --------------------------------------------------

    @classmethod
    def _from_info(cls, info: Mapping[str, Any]) -> "Certificate":
        self = object.__new__(cls)
        put = object.__setattr__
        for name in _EAGER:
            put(self, name, info.get(name))
        put(self, "_raw_not_before", info["not_before"])
        put(self, "_raw_not_after", info["not_after"])
        put(self, "_raw_ip_addresses", info["ip_addresses"])
        put(self, "_not_before", _UNSET)
        put(self, "_not_after", _UNSET)
        put(self, "_ip_addresses", _UNSET)
        return self

    # ---- converted on first read ---------------------------------------
    # Two threads reading at once both convert and store equal values.

    @property
    def not_before(self) -> datetime:
        """Start of validity, an aware UTC datetime."""
        v = self._not_before
        if v is _UNSET:
            v = utc_datetime(self._raw_not_before)
            object.__setattr__(self, "_not_before", v)
        return v

    @property
    def not_after(self) -> datetime:
        """End of validity, an aware UTC datetime."""
        v = self._not_after
        if v is _UNSET:
            v = utc_datetime(self._raw_not_after)
            object.__setattr__(self, "_not_after", v)
        return v

    @property
    def ip_addresses(self) -> Tuple[IPAddress, ...]:
        """IP address SANs, as ``ipaddress`` objects."""
        v = self._ip_addresses
        if v is _UNSET:
            v = tuple(_ip(a) for a in self._raw_ip_addresses)
            object.__setattr__(self, "_ip_addresses", v)
        return v

    @classmethod
    def from_pem(cls, data: Union[str, bytes]) -> "Certificate":
        """One certificate from PEM text (``str`` or ``bytes``).

        The data must hold exactly one certificate; for a bundle use
        :meth:`list_from_pem` (or :meth:`load` for a file).  Other PEM
        blocks (a private key) are ignored.
        """
        certs = cls.list_from_pem(data)
        if len(certs) != 1:
            raise ValueError(
                f"The PEM data holds {len(certs)} certificates; Certificate.from_pem() "
                "takes exactly one (use Certificate.list_from_pem() for a bundle).")
        return certs[0]

    @classmethod
    def list_from_pem(cls, data: Union[str, bytes]) -> List["Certificate"]:
        """Every certificate of a PEM bundle, in order."""
        raw = _as_bytes(data, "PEM data")
        if _PEM_MARK not in raw:
            raise ValueError(
                "The PEM data has no '-----BEGIN CERTIFICATE-----' line: it is not PEM "
                "(for binary DER use Certificate.from_der()).")
        return [cls._from_info(i) for i in _core.parse_certificates(raw, "the PEM data")]

    @classmethod
    def from_der(cls, data: bytes) -> "Certificate":
        """One certificate from its binary DER encoding."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"DER data must be bytes, not {type(data).__name__}")
        raw = bytes(data)
        if raw.lstrip().startswith(_PEM_MARK):
            raise ValueError("The DER data is PEM text; use Certificate.from_pem().")
        if not raw:
            raise ValueError("The DER data is empty: pass the bytes of one DER certificate.")
        if raw[0] != 0x30:
            # DER of a certificate is an ASN.1 SEQUENCE: its first byte is 0x30.
            raise ValueError(f"The DER data ({len(raw)} byte{'' if len(raw) == 1 else 's'}) is "
                             f"not a DER certificate: a certificate's DER starts with the byte "
                             f"0x30 (an ASN.1 SEQUENCE), this starts with 0x{raw[0]:02x}.")
        infos = _core.parse_certificates(raw, "the DER data")
        return cls._from_info(infos[0])

    @classmethod
    def load(cls, path: Union[str, "os.PathLike[str]"]) -> List["Certificate"]:
        """Every certificate in a file: a PEM bundle or one DER certificate."""
        return [cls._from_info(i) for i in _core.load_certificates(os.fspath(path))]

    # ---- immutability --------------------------------------------------

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"Certificate is immutable (cannot set {name!r})")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Certificate is immutable (cannot delete {name!r})")

    def __copy__(self) -> "Certificate":
        return self

    def __deepcopy__(self, memo: Any) -> "Certificate":
        return self

    def __reduce__(self):
        return (Certificate.from_der, (self.der,))

    # ---- derived values ------------------------------------------------

    @property
    def pem(self) -> str:
        """The certificate as PEM text."""
        b64 = base64.b64encode(self.der).decode("ascii")
        lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
        return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"

    @property
    def days_remaining(self) -> int:
        """Whole days until notAfter; once expired, minus the whole days
        since (an hour either side of notAfter is 0).  Counted from now; a
        report counts from its evaluation time (:meth:`days_remaining_at`)."""
        return days_until(self.not_after)

    def days_remaining_at(self, when: Optional[datetime]) -> int:
        """:attr:`days_remaining` counted from ``when`` (None: now)."""
        return days_until(self.not_after, when)

    @property
    def label(self) -> str:
        """``CN=...`` when the subject has a CN, else the whole subject."""
        return short_name(self.subject)

    def to_dict(self, at: Optional[datetime] = None) -> Dict[str, Any]:
        """JSON-ready fields (datetimes as ISO 8601 UTC strings);
        ``days_remaining`` counted from ``at`` (a report's evaluation
        time), else from now."""
        return {
            "subject": self.subject,
            "issuer": self.issuer,
            "common_name": self.common_name,
            "dns_names": list(self.dns_names),
            "ip_addresses": [str(a) for a in self.ip_addresses],
            "email_addresses": list(self.email_addresses),
            "serial_number": self.serial_number,
            "not_before": iso(self.not_before),
            "not_after": iso(self.not_after),
            "days_remaining": self.days_remaining_at(at),
            "fingerprint_sha256": self.fingerprint_sha256,
            "key_type": self.key_type,
            "key_bits": self.key_bits,
            "key_curve": self.key_curve,
            "signature_algorithm": self.signature_algorithm,
            "version": self.version,
            "is_ca": self.is_ca,
            "path_length": self.path_length,
            "key_usage": list(self.key_usage),
            "extended_key_usage": list(self.extended_key_usage),
            "ca_issuers": list(self.ca_issuers),
            "ocsp_urls": list(self.ocsp_urls),
            "self_signed": self.self_signed,
            "pem": self.pem,
        }

    # ---- identity ------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Certificate):
            return NotImplemented
        return self.fingerprint_sha256 == other.fingerprint_sha256

    def __hash__(self) -> int:
        return hash(self.fingerprint_sha256)

    def __repr__(self) -> str:
        days = self.days_remaining
        when = self.not_after.strftime("%Y-%m-%d")
        if self.not_after > datetime.now(timezone.utc):
            validity = f"expires {when} ({days} day{'' if days == 1 else 's'})"
        else:
            validity = f"expired {when} ({-days} day{'' if days == -1 else 's'} ago)"
        issuer = "self-signed" if self.self_signed else f"issuer {short_name(self.issuer)}"
        return f"<Certificate {self.label}, {validity}, {issuer}>"

    def _repr_html_(self) -> Optional[str]:
        return _html.render_html(self)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(_text.pretty(self, cycle))


def iso(when: Optional[datetime]) -> Optional[str]:
    if when is None:
        return None
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _as_bytes(data: Union[str, bytes, bytearray, memoryview], what: str) -> bytes:
    if isinstance(data, str):
        try:
            return data.encode("ascii")
        except UnicodeEncodeError as e:
            raise ValueError(f"The {what} contains non-ASCII characters (at position "
                             f"{e.start}); PEM is ASCII text.") from None
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    raise TypeError(f"{what} must be str or bytes, not {type(data).__name__}")
