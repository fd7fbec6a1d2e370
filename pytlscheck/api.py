"""The functions of pytlscheck: offline chain verification, hostname
matching, and live endpoint checks.

There is deliberately no way to turn a check off: no ``verify=False``, no
``insecure``, no environment switch.  A chain that fails, fails.
"""
from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import (Any, Callable, Hashable, Iterable, List, Optional, Sequence, Tuple,
                    Union)

from . import _core, _defaults, _stores
from ._target import normalize_hostname, parse_target, to_ascii
from .certificate import Certificate
from .report import Report

__all__ = ["verify_chain", "match_hostname", "check", "verify", "HostnameMatch"]

PathType = Union[str, "os.PathLike[str]"]
ChainInput = Union[PathType, bytes, Certificate, Sequence[Union[Certificate, bytes, str]]]
TrustInput = Union[None, PathType, bytes, Certificate,
                   Sequence[Union[Certificate, bytes, PathType]]]

_PEM_MARK = "-----BEGIN"


# ---- a small LRU of trust stores and clients ----------------------------

class _LRU:
    """Thread-safe LRU cache: building a trust store reads and parses
    files, building a client makes an SSL_CTX; repeated calls reuse them."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: "OrderedDict[Hashable, Any]" = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, make: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make()   # outside the lock: may take a while, may raise
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_TRUST_CACHE = _LRU(16)
_CLIENT_CACHE = _LRU(16)


def _digest(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


# ---- input conversion ----------------------------------------------------

def _read(path: PathType, what: str) -> bytes:
    """The core's reader: bounded (16 MiB) and answering at once for a FIFO
    or a device, where a plain open() and read() would hang or never end."""
    p = os.fspath(path)
    try:
        return _core.read_file(p)
    except OSError as e:
        reason = os.strerror(e.errno) if e.errno else (e.strerror or str(e))
        msg = f"Could not read {what} {p!r}: {reason}."
        if e.errno is not None:
            raise type(e)(e.errno, msg) from None
        raise OSError(msg) from None
    except ValueError as e:
        raise ValueError(f"Could not read {what} {p!r}: {e}.") from None


def _is_pem_text(s: str) -> bool:
    return _PEM_MARK in s


def _chain_input(chain: Any) -> Tuple[Union[bytes, List[bytes]], str, Optional[str]]:
    """(data for the core, `what` for its messages, source for the report)."""
    if isinstance(chain, Certificate):
        return [chain.der], "the given certificate", None
    if isinstance(chain, (bytes, bytearray, memoryview)):
        data = bytes(chain)
        if not data.strip():
            raise ValueError("The chain data is empty: pass the leaf certificate (and its "
                             "intermediates) as PEM or DER.")
        return data, "the chain data", None
    if isinstance(chain, str):
        if _is_pem_text(chain):
            return _ascii(chain, "the chain PEM text"), "the chain PEM text", None
        if not chain.strip():
            raise ValueError("The chain is an empty string: pass a file path, PEM text, "
                             "or Certificate objects.")
        return _read(chain, "the chain file"), f"the chain file {chain}", os.path.basename(chain)
    if isinstance(chain, os.PathLike):
        p = os.fspath(chain)
        return _read(p, "the chain file"), f"the chain file {p}", os.path.basename(p)
    if isinstance(chain, (list, tuple)):
        if not chain:
            raise ValueError("The chain is empty: pass at least the leaf certificate.")
        items: List[bytes] = []
        for i, c in enumerate(chain):
            if isinstance(c, Certificate):
                items.append(c.der)
            elif isinstance(c, (bytes, bytearray, memoryview)):
                items.append(bytes(c))
            elif isinstance(c, str) and _is_pem_text(c):
                items.append(_ascii(c, f"chain item {i + 1}"))
            elif isinstance(c, (str, os.PathLike)):
                items.append(_read(c, f"chain item {i + 1}, the file"))
            else:
                raise TypeError(f"chain item {i + 1} must be a Certificate, PEM/DER bytes, "
                                f"PEM text or a path, not {type(c).__name__}")
        return items, "the chain", None
    raise TypeError("chain must be a path, PEM text, PEM or DER bytes, a Certificate, or a "
                    f"list of Certificates (leaf first), not {type(chain).__name__}")


def _ascii(text: str, what: str) -> bytes:
    try:
        return text.encode("ascii")
    except UnicodeEncodeError as e:
        raise ValueError(f"{what[0].upper()}{what[1:]} contains a non-ASCII character at "
                         f"position {e.start}; PEM is ASCII text.") from None


def _system_store() -> Tuple[Any, Hashable]:
    """The system store (OpenSSL's default paths), compared with certifi's
    bundle when certifi is installed."""
    bundle = _stores.certifi_path()
    # The system store follows SSL_CERT_FILE / SSL_CERT_DIR (OpenSSL's
    # own variables, which only choose which roots to trust).
    key: Hashable = ("system", os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"),
                     bundle)
    return _TRUST_CACHE.get(key, lambda: _core.TrustStore.system(compare=bundle)), key


def _certifi_store() -> Tuple[Any, Hashable]:
    """Mozilla's list from certifi, compared with the system store."""
    found = _stores.certifi_bundle()
    if found is None:
        raise ValueError(_stores.certifi_missing())
    path, version = found
    st = os.stat(path)
    key: Hashable = ("certifi", path, st.st_mtime_ns, st.st_size, st.st_ino,
                     os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
    return _TRUST_CACHE.get(key, lambda: _core.TrustStore.mozilla(path, f"certifi {version}")), key


def _path_store(trust: Any, what: str) -> Tuple[Any, Hashable]:
    path = os.fspath(trust)
    if not path.strip():
        raise ValueError(f"{what} is an empty string: give a trust store name "
                         f"({_stores.names_phrase()}), a PEM file or directory path, "
                         "PEM text, or None for the system trust store.")
    try:
        st = os.stat(path)
    except OSError as e:
        msg = (f"Could not read the trust anchors {path!r}: {e.strerror or e}; it is not a "
               f"trust store name either (the names are {_stores.names_phrase('and')}).")
        raise (type(e)(e.errno, msg) if e.errno is not None else OSError(msg)) from None
    key = ("path", os.path.abspath(path), st.st_mtime_ns, st.st_size, st.st_ino)
    return _TRUST_CACHE.get(key, lambda: _core.TrustStore.from_path(path)), key


def _anchor_der(c: Any, what: str) -> Optional[bytes]:
    """The bytes of one certificate-like trust item, None for a name or path."""
    if isinstance(c, Certificate):
        return c.der
    if isinstance(c, (bytes, bytearray, memoryview)):
        return bytes(c)
    if isinstance(c, str) and _is_pem_text(c):
        return _ascii(c, what)
    return None


def _one_store(trust: Any, what: str) -> Tuple[Any, Hashable]:
    """A store name or a path."""
    if trust == "system":
        return _system_store()
    if trust == "certifi":
        return _certifi_store()
    return _path_store(trust, what)


def _trust_store(trust: Any) -> Tuple[Any, Hashable]:
    """(a _core.TrustStore, its cache key).  The one place a trust= input
    becomes a store: None or "system", "certifi", a path, data,
    certificates, or a list mixing them (one union store)."""
    if trust is None:
        return _system_store()
    if isinstance(trust, _core.TrustStore):
        return trust, ("object", id(trust))
    if isinstance(trust, Certificate):
        trust = [trust]
    if isinstance(trust, (list, tuple)):
        if not trust:
            raise ValueError("trust is an empty list: give at least one root certificate, "
                             f"store name ({_stores.names_phrase()}) or file, "
                             "or None for the system trust store.")
        ders: List[bytes] = []
        named: List[Tuple[int, Any]] = []
        first = -1                      # where the first certificate is
        for i, c in enumerate(trust):
            der = _anchor_der(c, f"trust item {i + 1}")
            if der is not None:
                ders.append(der)
                first = i if first < 0 else first
            elif isinstance(c, (str, os.PathLike)):
                named.append((i, c))
            else:
                raise TypeError(f"trust item {i + 1} must be a Certificate, PEM/DER bytes, "
                                f"PEM text, a store name ({_stores.names_phrase()}) or a path, "
                                f"not {type(c).__name__}")
        key: Hashable = ("certs",) + tuple(_digest(d) for d in ders)
        if not named:
            return _TRUST_CACHE.get(key, lambda: _core.TrustStore.from_der(ders, "the trust anchors")), key
        parts = [_one_store(c, f"trust item {i + 1}") for i, c in named]
        if ders:
            # The certificates of the list, as one part where the first one was.
            certs = (_TRUST_CACHE.get(key, lambda: _core.TrustStore.from_der(ders, "the trust anchors")), key)
            parts.insert(sum(1 for i, _ in named if i < first), certs)
        if len(parts) == 1:
            return parts[0]
        ukey: Hashable = ("union",) + tuple(k for _, k in parts)
        stores = [store for store, _ in parts]
        return _TRUST_CACHE.get(ukey, lambda: _core.TrustStore.union(stores)), ukey
    if isinstance(trust, (bytes, bytearray, memoryview)):
        data = bytes(trust)
        if not data.strip():
            raise ValueError("The trust data is empty: give PEM or DER root certificates.")
        key = ("data", _digest(data))
        return _TRUST_CACHE.get(key, lambda: _core.TrustStore.from_der(data, "the trust data")), key
    if isinstance(trust, str) and _is_pem_text(trust):
        data = _ascii(trust, "the trust PEM text")
        key = ("data", _digest(data))
        return _TRUST_CACHE.get(key, lambda: _core.TrustStore.from_der(data, "the trust PEM text")), key
    if isinstance(trust, (str, os.PathLike)):
        return _one_store(trust, "trust")
    raise TypeError("trust must be None or a store name (" + _stores.names_phrase() + "), "
                    "a PEM file or directory path, PEM data, or a list of Certificates, "
                    "names and paths, not " + type(trust).__name__)


def _timestamp(at: Any) -> Tuple[Optional[float], datetime]:
    if at is None:
        return None, datetime.now(timezone.utc)
    if isinstance(at, datetime):
        when = at if at.tzinfo is not None else at.replace(tzinfo=timezone.utc)
        return when.timestamp(), when.astimezone(timezone.utc)
    if isinstance(at, date):
        when = datetime(at.year, at.month, at.day, tzinfo=timezone.utc)
        return when.timestamp(), when
    raise TypeError("at must be a datetime (aware, or naive meaning UTC) or a date, "
                    f"not {type(at).__name__}")


_PURPOSES = {"server": _core.PURPOSE_SERVER, "client": _core.PURPOSE_CLIENT}


def _purpose(purpose: Any) -> int:
    try:
        return _PURPOSES[purpose]
    except (KeyError, TypeError):
        raise ValueError(f"purpose must be 'server' (a TLS server certificate) or 'client' "
                         f"(a TLS client certificate, for mutual TLS), not {purpose!r}") from None


def _int(value: Any, name: str, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, not {value}")
    return value


def _window(min_days: Any, min_remaining: Any) -> Tuple[int, float]:
    days = -1 if min_days is None else _int(min_days, "min_days", minimum=0)
    if min_remaining is None:
        frac = 0.0
    else:
        if isinstance(min_remaining, bool) or not isinstance(min_remaining, (int, float)):
            raise TypeError(f"min_remaining must be a number, not {type(min_remaining).__name__}")
        frac = float(min_remaining)
        if not 0.0 <= frac < 1.0:
            raise ValueError("min_remaining is the fraction of the validity period that must "
                             f"remain, between 0 and 1, not {min_remaining!r}")
    return days, frac


def _ekus(ekus: Any) -> Optional[Tuple[str, ...]]:
    if ekus is None:
        return None
    if isinstance(ekus, str):
        ekus = (ekus,)
    out = tuple(ekus)
    for e in out:
        if not isinstance(e, str) or not e:
            raise ValueError(f"ekus must hold names such as 'serverAuth' or dotted OIDs, not {e!r}")
    return out


def _crls(crls: Any) -> Optional[List[bytes]]:
    if crls is None:
        return None
    items = crls if isinstance(crls, (list, tuple)) else [crls]
    out: List[bytes] = []
    for i, c in enumerate(items):
        if isinstance(c, (bytes, bytearray, memoryview)):
            out.append(bytes(c))
        elif isinstance(c, str) and _is_pem_text(c):
            out.append(_ascii(c, f"CRL {i + 1}"))
        elif isinstance(c, (str, os.PathLike)):
            out.append(_read(c, "the CRL file"))
        else:
            raise TypeError(f"crls must be paths, PEM text or PEM/DER bytes, not {type(c).__name__}")
    return out


# ---- public functions ----------------------------------------------------

def verify_chain(chain: ChainInput, *, hostname: Optional[str] = None,
                 trust: TrustInput = None, at: Union[datetime, date, None] = None,
                 purpose: str = "server", crls: Any = None,
                 max_depth: Optional[int] = None, min_days: Optional[int] = _defaults.MIN_DAYS,
                 min_remaining: Optional[float] = None,
                 ekus: Optional[Iterable[str]] = None) -> Report:
    """Verifies a certificate chain offline and reports every problem.

    ``chain``: a file path (PEM bundle or DER), PEM text (``str``), PEM or
    DER ``bytes``, a :class:`Certificate`, or a list of them (leaf first,
    the rest in any order).

    ``hostname``: the DNS name or IP address the leaf must be valid for
    (internationalised names are converted with IDNA), or None to skip the
    name check.

    ``trust``: None or "system" for the system trust store (OpenSSL's
    default paths, honouring SSL_CERT_FILE / SSL_CERT_DIR), "certifi" for
    Mozilla's list from the optional certifi package, a PEM file or a
    directory of PEM files, PEM data, :class:`Certificate` anchors, or a
    list mixing names, paths and certificates (one store with all their
    roots; docs/api.md, "Trust stores").  ``report.trust_store`` names it.

    ``at``: evaluate validity at this time (an aware datetime, a naive one
    meaning UTC, or a date meaning midnight UTC); default now.

    ``purpose``: "server" (TLS server certificate, the default) or "client"
    (TLS client certificate, for mutual TLS).  ``ekus``: extended key
    usages the leaf must carry ("serverAuth", dotted OIDs), when they
    differ from the purpose's own.

    ``crls``: CRLs (paths, PEM text, PEM/DER bytes, or a list) to check
    revocation against, wherever one covers a certificate of the path (a
    certificate none covers is the warning ``revocation_not_checked``); PEM
    may also carry the certificates of CRL signers, used only to check their
    CRLs (docs/api.md, "Revocation"); None skips revocation.  ``max_depth``: the most
    intermediates allowed.  ``min_days``: warn (``expires_soon``) when a
    certificate expires within that many days (None: never);
    ``min_remaining``: also warn when less than this fraction of a
    certificate's validity period remains.

    Returns a :class:`Report`; raises only for bad arguments (ValueError,
    TypeError, or OSError for a file that cannot be read).
    """
    data, what, source = _chain_input(chain)
    store, _ = _trust_store(trust)
    host = normalize_hostname(hostname)[0] if hostname is not None else None
    ts, checked_at = _timestamp(at)
    days, frac = _window(min_days, min_remaining)
    depth = -1 if max_depth is None else _int(max_depth, "max_depth", minimum=0)
    # A chain read from a file: the "see it by hand" commands name it (it
    # holds the leaf first, what `openssl x509 -in` and `verify` read, and
    # the intermediates, for -untrusted).
    file_name = (os.fspath(chain) if source is not None and isinstance(chain, (str, os.PathLike))
                 else None)
    result = _core.verify(data, store, hostname=host, at=ts, purpose=_purpose(purpose),
                          crls=_crls(crls), max_depth=depth, min_days=days,
                          min_remaining=frac, ekus=_ekus(ekus), what=what, file=file_name)
    return Report(result, trust=store.description, checked_at=checked_at, source=source,
                  trust_store=store.sources)


@dataclass(frozen=True)
class HostnameMatch:
    """The answer of :func:`match_hostname`.

    ``ok``: whether the certificate is valid for the name; ``matched_name``:
    the Subject Alternative Name entry that matched (None when none did);
    ``reason``: one sentence saying why it matched or not.  Truthy exactly
    when ``ok``; unpacks like a tuple: ``ok, name, reason = match``.
    """

    ok: bool
    matched_name: Optional[str]
    reason: str

    def __bool__(self) -> bool:
        return self.ok

    def __iter__(self):
        return iter((self.ok, self.matched_name, self.reason))


def match_hostname(cert: Union[Certificate, bytes, str], hostname: str) -> HostnameMatch:
    """Whether ``cert`` is valid for ``hostname``, and why.

    Follows RFC 6125 and the CA/Browser Forum rules: DNS names match only
    dNSName SANs, IP addresses only iPAddress SANs, the subject CN is never
    used, a wildcard covers exactly one whole left-most label.  ``cert`` is a
    :class:`Certificate`, PEM text or PEM/DER bytes; ``hostname`` a DNS name
    (internationalised names are converted with IDNA) or an IP address.
    """
    if isinstance(cert, Certificate):
        der: bytes = cert.der
    elif isinstance(cert, (bytes, bytearray, memoryview)):
        der = bytes(cert)
    elif isinstance(cert, str) and _is_pem_text(cert):
        der = _ascii(cert, "the certificate PEM text")
    else:
        raise TypeError("cert must be a Certificate, PEM text or PEM/DER bytes, "
                        f"not {type(cert).__name__}")
    host = to_ascii(hostname)
    ok, matched, reason = _core.match_hostname(der, host)
    return HostnameMatch(ok, matched, reason)


def _pem_input(value: Any, what: str) -> Optional[bytes]:
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str) and _is_pem_text(value):
        return _ascii(value, what)
    if isinstance(value, (str, os.PathLike)):
        return _read(value, what)
    raise TypeError(f"{what} must be a path or PEM data, not {type(value).__name__}")


def _client(trust: Any, client_cert: Any, client_key: Any) -> Any:
    store, trust_key = _trust_store(trust)
    cert = _pem_input(client_cert, "the client certificate")
    key = _pem_input(client_key, "the client key")
    if key is not None and cert is None:
        raise ValueError("client_key was given without client_cert: give both (or one "
                         "PEM file holding the certificate and its key as client_cert).")
    ckey = (trust_key, _digest(cert) if cert else None, _digest(key) if key else None)
    return store, _CLIENT_CACHE.get(ckey, lambda: _core.Client(store, cert, key))


def check(target: str, port: Optional[int] = None, *, server_name: Optional[str] = None,
          trust: TrustInput = None, timeout: float = _defaults.TIMEOUT, min_days: Optional[int] = _defaults.MIN_DAYS,
          min_remaining: Optional[float] = None, client_cert: Any = None,
          client_key: Any = None, starttls: Union[None, bool, str] = None,
          probe: bool = False) -> Report:
    """Connects to a TLS endpoint and reports everything wrong with it.

    ``target``: ``host``, ``host:port``, ``[v6addr]:port``, an IP address, an
    ``https://`` URL, or a STARTTLS service's URL (``smtp://host:587``,
    ``imap://``, ``pop3://``, ``ftp://``, ``ldap://``, ``postgres://``,
    ``mysql://``, ``xmpp://``; ``smtps://``, ``imaps://``, ``pop3s://``,
    ``ldaps://`` are TLS from the first byte); ``port`` applies when the
    target names none (443, or the scheme's port, by default).
    ``starttls``: the plaintext protocol to speak before TLS, one of
    ``"smtp"``, ``"imap"``, ``"pop3"``, ``"ftp"``, ``"ldap"``,
    ``"postgres"``, ``"mysql"``, ``"xmpp"``; ``False`` for TLS from the
    first byte; None (default) to choose by the URL's scheme, else by the
    port (25 and 587 smtp, 143 imap, 110 pop3, 21 ftp, 389 ldap, 5432
    postgres, 3306 mysql, 5222 xmpp).  ``report.starttls`` says which was
    used (docs/starttls.md).  ``probe=True``: after the check, a bounded
    survey of the endpoint (at most 32 short connections, one at a time,
    within ``timeout``) fills ``report.probe`` (:class:`Probe`: round trips,
    RTT, resumption, 0-RTT, protocols, cipher suites, groups; docs/probe.md)
    and may add the warnings legacy_protocol, weak_cipher, no_forward_secrecy,
    weak_dh.  ``server_name``: the name sent as SNI and verified, when
    it differs from where you connect (connect to 10.0.0.5, verify
    ``api.internal``).  ``trust`` as for :func:`verify_chain`.
    ``timeout`` (seconds) bounds the whole check: DNS, connect, handshake.
    ``client_cert`` / ``client_key``: paths or PEM data, for servers that
    require mutual TLS.  ``min_days`` / ``min_remaining``: the
    ``expires_soon`` warning window.

    Never raises for a TLS, certificate or network problem: the returned
    :class:`Report` holds it.  Raises only for bad arguments.
    """
    tgt = parse_target(target, port, starttls)
    sni = normalize_hostname(server_name, "server_name")[0] if server_name is not None else None
    timeout = _defaults.timeout_seconds(timeout)
    days, frac = _window(min_days, min_remaining)
    store, client = _client(trust, client_cert, client_key)
    checked_at = datetime.now(timezone.utc)
    result = _core.check(client, tgt.host, tgt.port, server_name=sni, timeout=float(timeout),
                         min_days=days, min_remaining=frac, starttls=tgt.starttls,
                         probe=bool(probe))
    return Report(result, trust=store.description, checked_at=checked_at,
                  trust_store=store.sources)


def verify(target: str, port: Optional[int] = None, *, server_name: Optional[str] = None,
           trust: TrustInput = None, timeout: float = _defaults.TIMEOUT, min_days: Optional[int] = _defaults.MIN_DAYS,
           min_remaining: Optional[float] = None, client_cert: Any = None,
           client_key: Any = None, starttls: Union[None, bool, str] = None,
          probe: bool = False) -> Report:
    """Like :func:`check`, but raises the exception of the first error.

    It also raises :class:`~pytlscheck.CertificateExpiresSoon` when a
    certificate has fewer than ``min_days`` days (or less than
    ``min_remaining`` of its validity) left: that is what the window is
    asked for, as :func:`pytlscheck.testing.assert_tls_healthy` fails on it.
    ``min_days=None`` (and ``min_remaining=None``) turns that off.  Other
    warnings never raise.  Returns the :class:`Report` otherwise.  The
    exception (a :class:`~pytlscheck.TLSCheckError` subclass, also a
    built-in ``ConnectionRefusedError``/``TimeoutError``/... for connection
    problems) carries ``.report`` and ``.problem``.
    """
    report = check(target, port, server_name=server_name, trust=trust, timeout=timeout,
                   min_days=min_days, min_remaining=min_remaining, client_cert=client_cert,
                   client_key=client_key, starttls=starttls,
                   probe=probe).raise_for_problems()
    # Errors first (above); then the expiry window the caller asked for.
    for p in report.problems:
        if p.kind == "expires_soon":
            raise p.exception(report=report, problem=p)
    return report
