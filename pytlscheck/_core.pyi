"""Type stub of pytlscheck._core, the private CPython binding of the C core.

Dict layouts returned by the functions below:

CertInfo (one certificate; parse_certificates, load_certificates, Result.cert_info):
    subject, issuer: str (RFC 4514); common_name: str | None;
    dns_names, ip_addresses, email_addresses: tuple[str, ...];
    serial_number: str (lowercase hex); not_before, not_after: int (Unix s);
    fingerprint_sha256: str (hex); key_type: str; key_bits: int;
    key_curve: str | None; signature_algorithm: str; version: int;
    has_basic_constraints, is_ca: bool; path_length: int | None;
    key_usage, extended_key_usage, ca_issuers, ocsp_urls: tuple[str, ...];
    self_signed, self_issued, names_have_nul: bool; malformed: str | None
    (what is not well-formed, else None); der: bytes.

Reports come as Result objects (csrc/binding/result.c): one block per
report, each value made when read; pytlscheck.Report reads them.

Errors from the core: ValueError (bad input), OSError with errno (a file
that cannot be read), MemoryError, RuntimeError (an unexpected OpenSSL
failure).
"""
import os
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

_Bytes = Union[bytes, bytearray, memoryview]
CertInfo = Dict[str, Any]

#: The names of Result's report fields, in order (one table in result.c).
REPORT_FIELDS: Tuple[str, ...]

PURPOSE_SERVER: int
PURPOSE_CLIENT: int
OPENSSL_VERSION: str

class TrustStore:
    """An immutable set of trust anchors, shareable between threads."""
    @classmethod
    def system(cls, compare: Optional[str] = None) -> "TrustStore": ...
    @classmethod
    def mozilla(cls, path: Union[str, bytes], label: str) -> "TrustStore": ...
    @classmethod
    def union(cls, stores: Sequence["TrustStore"]) -> "TrustStore": ...
    @classmethod
    def from_path(cls, path: Union[str, bytes]) -> "TrustStore": ...
    @classmethod
    def from_der(cls, certificates: Union[_Bytes, Sequence[_Bytes]],
                 what: str = ...) -> "TrustStore": ...
    def contains(self, certificate: _Bytes) -> bool: ...
    @property
    def description(self) -> str: ...
    @property
    def sources(self) -> Tuple[str, ...]: ...

class Client:
    """A reusable TLS client configuration (one SSL_CTX) for live checks."""
    def __init__(self, trust: TrustStore, client_cert: Optional[_Bytes] = None,
                 client_key: Optional[_Bytes] = None) -> None: ...

class Result:
    """One report of the core (made by verify, check and Batch.run only).
    Each field of REPORT_FIELDS is an attribute (and result["name"])."""
    ok: bool
    hostname: Optional[str]
    chain_bytes: Optional[int]
    evaluated_at: Optional[int]
    target: Optional[str]
    server_name: Optional[str]
    address: Optional[str]
    port: Optional[int]
    protocol: Optional[str]
    cipher: Optional[str]
    group: Optional[str]
    alpn: Optional[str]
    ocsp_stapled: bool
    client_certificate_requested: bool
    client_ca_names: List[str]
    peer_banner: Optional[str]
    probe: Optional[Dict[str, Any]]
    timings: Dict[str, Optional[float]]
    #: the leaf's notAfter (Unix seconds), or None
    leaf_not_after: Optional[int]
    def __getitem__(self, name: str) -> Any: ...
    def problems(self) -> List[Tuple[str, str, str, str, int, int, Optional[str], str]]:
        """(kind, severity, message, fix, depth, openssl_code, openssl_reason,
        inspect_command) per problem, most fundamental first."""
    def certs(self) -> Tuple[Tuple[int, ...], Optional[Tuple[int, ...]], Optional[Tuple[int, ...]]]:
        """chain, path, verified: indices of distinct certificates."""
    def cert_key(self, i: int) -> Optional[str]:
        """SHA-256 fingerprint of certificate i when it is a CA, else None."""
    def cert_info(self, i: int) -> CertInfo: ...

class Batch:
    """Many live checks driven by one thread (csrc/core/multi.c), at most
    `concurrency` in flight.  add/cancel/wake/stats are thread-safe; one
    thread at a time calls run().  Used by pytlscheck.many."""
    def __init__(self, concurrency: int) -> None: ...
    def add(self, tag: int, client: Client, host: str, port: int,
            server_name: Optional[str] = None, timeout: float = 10.0,
            min_days: int = 30, min_remaining: float = 0.0, at: Optional[float] = None,
            purpose: int = ..., crls: Optional[Sequence[_Bytes]] = None,
            max_depth: int = -1, ekus: Optional[Sequence[str]] = None,
            starttls: Optional[str] = None, probe: bool = False) -> None: ...
    def run(self, wait: float) -> List[Tuple[int, Union[Result, BaseException]]]:
        """Drives the checks with the GIL released until some complete or
        `wait` seconds pass; (tag, Result) per completed check, or
        (tag, exception) for one that could not run.  Signals raise here."""
    def cancel(self, tag: int) -> None: ...
    def wake(self) -> None: ...
    def close(self) -> None: ...
    def stats(self) -> Dict[str, int]:
        """queued, in_flight, ready, max_in_flight, concurrency, started, completed."""
    @property
    def closed(self) -> bool: ...

def kinds() -> List[Dict[str, Any]]:
    """Rows of the kinds table: name, severity, exception, category, breaks_path, cause, message,
    fix, see_file, see_live; most fundamental first."""
def parse_certificates(data: Union[_Bytes, Sequence[_Bytes]], what: str = ...) -> List[CertInfo]: ...
def load_certificates(path: Union[str, bytes]) -> List[CertInfo]: ...
def read_file(path: Union[str, bytes, "os.PathLike[str]"]) -> bytes: ...
def kind_for_verify_code(code: int) -> Optional[Tuple[str, bool]]: ...
def normalize_hostname(name: str) -> Tuple[str, bool]: ...
def match_hostname(cert: _Bytes, hostname: str) -> Tuple[bool, Optional[str], str]: ...
def verify(chain: Union[_Bytes, Sequence[_Bytes]], trust: TrustStore,
           hostname: Optional[str] = None, at: Optional[float] = None,
           purpose: int = ..., crls: Optional[Sequence[_Bytes]] = None,
           max_depth: int = -1, min_days: int = 30, min_remaining: float = 0.0,
           ekus: Optional[Sequence[str]] = None, what: str = ...,
           file: Optional[str] = None) -> Result: ...
def check(client: Client, host: str, port: int, server_name: Optional[str] = None,
          timeout: float = 10.0, at: Optional[float] = None, purpose: int = ...,
          crls: Optional[Sequence[_Bytes]] = None, max_depth: int = -1,
          min_days: int = 30, min_remaining: float = 0.0,
          ekus: Optional[Sequence[str]] = None, starttls: Optional[str] = None,
          probe: bool = False) -> Result: ...
def sigcache_stats() -> Dict[str, int]: ...
def sigcache_clear() -> None: ...
def fetch_addr_allowed(target: str, address: str) -> Tuple[bool, str]: ...
def mint(*, common_name: Optional[str] = None, organization: Optional[str] = None,
         dns_names: Optional[Sequence[str]] = None,
         ip_addresses: Optional[Sequence[str]] = None,
         not_before: Optional[float] = None, not_after: Optional[float] = None,
         is_ca: bool = False, path_length: int = -1, key_type: Optional[str] = None,
         rsa_bits: int = 0, digest: Optional[str] = None,
         ekus: Optional[Sequence[str]] = None,
         issuer_cert_pem: Optional[Union[str, _Bytes]] = None,
         issuer_key_pem: Optional[Union[str, _Bytes]] = None,
         aia_ca_issuers: Optional[str] = None,
         ocsp_url: Optional[str] = None) -> Tuple[str, str]: ...
