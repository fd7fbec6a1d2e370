"""Report and Problem: what a check found, in data and in words."""
from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Type

from . import _core, _html, _text, _words
from ._ocsp import OCSPResponse
from ._probe import Probe
from ._words import days_until
from .certificate import Certificate, iso, utc_datetime
from .errors import KINDS, TLSCheckError, exception_for

__all__ = ["Report", "Problem"]

#: Version of the to_dict()/to_json() layout, and of the CLI's --json
#: document that holds such reports (docs/json-schema.md): one number.
SCHEMA_VERSION = 1


class Problem:
    """One thing wrong (or worth a warning) in a report.

    ``kind`` is the stable kind string ("expired", "incomplete_chain", ...;
    see :data:`pytlscheck.KINDS`), ``severity`` "error" or "warning",
    ``message`` what is wrong and why it matters, ``fix`` what to do,
    ``inspect_command`` the openssl command line that shows the same thing
    by hand.  ``depth`` indexes the report's ``path`` (0 = the leaf; -1 when
    the problem is not about one certificate) and ``certificate`` is that
    certificate.  ``openssl_code`` / ``openssl_reason`` keep OpenSSL's own
    verify code and text (0 / None for checks of pytlscheck's own).
    """

    __slots__ = ("kind", "severity", "message", "fix", "depth", "openssl_code",
                 "openssl_reason", "inspect_command", "certificate")

    kind: str
    severity: str
    message: str
    fix: str
    depth: int
    openssl_code: int
    openssl_reason: Optional[str]
    inspect_command: str
    certificate: Optional[Certificate]

    def __init__(self, *, kind: str, severity: str, message: str, fix: str,
                 depth: int = -1, openssl_code: int = 0,
                 openssl_reason: Optional[str] = None, inspect_command: str = "",
                 certificate: Optional[Certificate] = None) -> None:
        put = object.__setattr__
        put(self, "kind", kind)
        put(self, "severity", severity)
        put(self, "message", message)
        put(self, "fix", fix)
        put(self, "depth", depth)
        put(self, "openssl_code", openssl_code)
        put(self, "openssl_reason", openssl_reason)
        put(self, "inspect_command", inspect_command)
        put(self, "certificate", certificate)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"Problem is immutable (cannot set {name!r})")

    def __reduce__(self) -> Any:
        # Immutable with __slots__: pickle rebuilds it through __init__
        # (reports travel between processes, e.g. a batch sharded over Dask).
        return (_problem, (self.kind, self.severity, self.message, self.fix, self.depth,
                           self.openssl_code, self.openssl_reason, self.inspect_command,
                           self.certificate))

    @property
    def exception(self) -> Type[TLSCheckError]:
        """The exception class raised for this problem."""
        return exception_for(self.kind)

    @property
    def cause(self) -> str:
        """The typical cause of this kind of problem."""
        info = KINDS.get(self.kind)
        return info.cause if info is not None else ""

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def to_dict(self) -> Dict[str, Any]:
        cert = self.certificate
        return {
            "kind": self.kind,
            "severity": self.severity,
            "message": self.message,
            "fix": self.fix,
            "depth": self.depth,
            "certificate": None if cert is None else {
                "subject": cert.subject,
                "fingerprint_sha256": cert.fingerprint_sha256,
            },
            "openssl_code": self.openssl_code,
            "openssl_reason": self.openssl_reason,
            "inspect_command": self.inspect_command,
            "exception": self.exception.__name__,
        }

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Problem):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash((self.kind, self.depth, self.message))

    def __repr__(self) -> str:
        where = f" at depth {self.depth}" if self.depth >= 0 else ""
        return f"<Problem {self.kind} ({self.severity}){where}: {self.message}>"

    def _repr_html_(self) -> Optional[str]:
        return _html.render_html(self)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(_text.pretty(self, cycle))


def _problem(kind: str, severity: str, message: str, fix: str, depth: int,
             openssl_code: int, openssl_reason: Optional[str], inspect_command: str,
             certificate: Optional[Certificate]) -> Problem:
    """Unpickles a Problem (see Problem.__reduce__)."""
    return Problem(kind=kind, severity=severity, message=message, fix=fix, depth=depth,
                   openssl_code=openssl_code, openssl_reason=openssl_reason,
                   inspect_command=inspect_command, certificate=certificate)


def _certs(infos: Optional[Sequence[Mapping[str, Any]]],
           memo: Dict[int, Certificate]) -> Optional[List[Certificate]]:
    """Certificates from a report mapping's dicts (Report(data) with a
    dict); one Certificate per dict shared by chain/path/verified."""
    if infos is None:
        return None
    out = []
    for info in infos:
        cert = memo.get(id(info))
        if cert is None:
            cert = memo[id(info)] = _certificate(info)
        out.append(cert)
    return out


# Intermediates and roots recur across the reports of a batch (a few CAs
# issue most certificates); a Certificate is immutable, so one object per
# CA certificate serves every report, by SHA-256 fingerprint.  Bounded by
# starting over when full.
_CA_CERTS: Dict[str, Certificate] = {}
_CA_CERTS_MAX = 1024


def _shared_ca(fp: str, make: Callable[[], Certificate]) -> Certificate:
    cert = _CA_CERTS.get(fp)
    if cert is None:
        if len(_CA_CERTS) >= _CA_CERTS_MAX:
            _CA_CERTS.clear()
        cert = _CA_CERTS[fp] = make()
    return cert


def _certificate(info: Mapping[str, Any]) -> Certificate:
    if not info.get("is_ca"):
        return Certificate._from_info(info)
    return _shared_ca(info["fingerprint_sha256"], lambda: Certificate._from_info(info))


def _result_certs(raw: Any) -> Tuple[List[Certificate], Optional[List[Certificate]],
                                     Optional[List[Certificate]]]:
    """chain, path and verified of a _core.Result: each distinct
    certificate made once (a CA's shared across reports, see _CA_CERTS)."""
    made: Dict[int, Certificate] = {}

    def one(i: int) -> Certificate:
        cert = made.get(i)
        if cert is None:
            fp = raw.cert_key(i)
            if fp is None:
                cert = Certificate._from_info(raw.cert_info(i))
            else:
                cert = _shared_ca(fp, lambda: Certificate._from_info(raw.cert_info(i)))
            made[i] = cert
        return cert

    chain, path, verified = raw.certs()
    return ([one(i) for i in chain or ()],
            None if path is None else [one(i) for i in path],
            None if verified is None else [one(i) for i in verified])


# The report's fields that come from the core (_core.REPORT_FIELDS, one
# table in csrc/binding/result.c): made on first read from the core's
# result (Report.__getattr__), then kept in the instance's __dict__ like
# any attribute.  A report built from a mapping (Report(data)) reads the
# same names from it; these make its values the types a Result gives.
_FIELDS: Tuple[str, ...] = tuple(_core.REPORT_FIELDS)
_TIMING_KEYS = ("dns", "connect", "handshake", "total")
_FROM_MAPPING: Dict[str, Callable[[Any], Any]] = {
    "ocsp_stapled": bool,
    "client_certificate_requested": bool,
    "client_ca_names": lambda v: list(v or ()),
    "timings": lambda v: {k: (v or {}).get(k) for k in _TIMING_KEYS},
}
# Fields whose core value (a Result's or a mapping's alike) is made into
# a Python object of the package's.
_OBJECTS: Dict[str, Callable[[Any], Any]] = {
    "ocsp": OCSPResponse._from_core,
    "probe": Probe._from_core,
}


def _problems(report: "Report", raw: Any) -> List["Problem"]:
    if isinstance(raw, Mapping):
        rows = [(p["kind"], p["severity"], p["message"], p["fix"], p["depth"],
                 p["openssl_code"], p["openssl_reason"], p["inspect_command"])
                for p in raw.get("problems", ())]
    else:
        rows = raw.problems()
    return [Problem(kind=kind, severity=severity,
                    message=message + _words.this_python_note(code, sys.version_info),
                    fix=fix, depth=depth, openssl_code=code, openssl_reason=reason,
                    inspect_command=inspect, certificate=report._cert_at(depth))
            for kind, severity, message, fix, depth, code, reason, inspect in rows]


def _field(report: "Report", raw: Any, name: str) -> Any:
    if name == "problems":
        return _problems(report, raw)
    if isinstance(raw, Mapping):
        value = raw.get(name)
        conv = _FROM_MAPPING.get(name)
        value = conv(value) if conv is not None else value
    else:
        value = getattr(raw, name)
    make = _OBJECTS.get(name)
    return make(value) if make is not None else value


# evaluated_at is read once, for checked_at (Report.__init__).
_LAZY = (frozenset(_FIELDS) - {"evaluated_at"}) | {"problems"}


class Report:
    """The result of :func:`~pytlscheck.verify_chain` or :func:`~pytlscheck.check`.

    ``ok`` is True when no problem of severity "error" was found (warnings
    such as ``expires_soon`` do not make it False).  ``problems`` lists
    every problem, most fundamental first (fix the first one first);
    ``errors`` and ``warnings`` split them.  ``chain`` is the chain as given
    or as served (leaf first), ``path`` the path OpenSSL built from it (leaf
    first, the anchor last when one was reached), ``verified_chain`` that
    path when it reaches a trusted anchor through sound links, else None
    (it may still have other problems, such as expiry: ``ok`` is the
    verdict).

    For live checks, ``target``, ``address`` (which address answered),
    ``port``, ``server_name`` (the SNI sent), ``protocol``, ``cipher``,
    ``group``, ``alpn``, ``ocsp_stapled``, ``ocsp`` (the stapled response
    read and verified, an :class:`OCSPResponse`, or None), ``client_certificate_requested``,
    ``client_ca_names`` and ``timings`` (milliseconds: dns, connect,
    handshake, total) describe the connection.
    """

    def __init__(self, data: Any, *, trust: Optional[str] = None,
                 checked_at: Optional[datetime] = None,
                 source: Optional[str] = None,
                 trust_store: Optional[Sequence[str]] = None) -> None:
        # ``data``: the core's result (a _core.Result) or a mapping of the
        # same fields.  The fields of _FIELDS, the problems and the
        # certificates are made when first read (__getattr__, _built): a
        # batch whose user reads only ok and timings does not pay for the
        # rest.
        self._raw: Any = data
        self._certs: Any = None
        self.trust: Optional[str] = trust
        #: the store's parts, one stable string each, its first word the
        #: kind: "system (FILE, DIR)", "certifi VERSION (PATH)", "file
        #: (PATH)", "directory (PATH/)", "certificates (N)" (docs/api.md)
        self.trust_store: Optional[List[str]] = (list(trust_store) if trust_store is not None
                                                 else None)
        # The core's own validation time, when it validated a chain: every
        # day count (messages, cards, JSON) is measured from that one
        # reading of the clock, so they cannot disagree by a rounding.
        evaluated = _field(self, data, "evaluated_at")
        if evaluated is not None:
            checked_at = datetime.fromtimestamp(evaluated, timezone.utc)
        self.checked_at: datetime = checked_at or datetime.now(timezone.utc)
        #: where the chain came from, in words ("leaf.pem", "the PEM data")
        self.source: Optional[str] = source
        #: why ``trust`` is the store checked against, when pytlscheck
        #: chose it (diagnose(): "requests' default: certifi's CA bundle")
        self.trust_reason: Optional[str] = None
        #: set by :func:`pytlscheck.diagnose`: what the client said and how
        #: this report's verdict compares (a :class:`pytlscheck.Diagnosis`)
        self.diagnosis: Any = None

    if TYPE_CHECKING:
        # Made on first read (__getattr__); declared for type checkers.
        hostname: Optional[str]
        target: Optional[str]
        server_name: Optional[str]
        address: Optional[str]
        port: Optional[int]
        protocol: Optional[str]
        cipher: Optional[str]
        group: Optional[str]
        alpn: Optional[str]
        #: bytes the chain takes in the TLS Certificate message (what client
        #: limits and TCP's initial window count), or None
        chain_bytes: Optional[int]
        ocsp_stapled: bool
        #: the stapled OCSP response, read and verified; None when none was stapled
        ocsp: Optional[OCSPResponse]
        #: what check(..., probe=True) measured; None without the probe
        probe: Optional[Probe]
        client_certificate_requested: bool
        client_ca_names: List[str]
        peer_banner: Optional[str]
        #: the STARTTLS protocol spoken before TLS ("smtp", "postgres", ...),
        #: or None: TLS from the first byte
        starttls: Optional[str]
        timings: Dict[str, Optional[float]]
        problems: List[Problem]
    else:
        def __getattr__(self, name: str) -> Any:
            # Only called when the attribute is not in __dict__ yet.
            d = self.__dict__
            if name in _LAZY and "_raw" in d:
                value = d[name] = _field(self, d["_raw"], name)
                return value
            raise AttributeError(f"'Report' object has no attribute {name!r}")

    def __dir__(self) -> List[str]:
        return sorted(set(super().__dir__()) | _LAZY)

    def _built(self) -> Tuple[List[Certificate], Optional[List[Certificate]],
                              Optional[List[Certificate]]]:
        # Two threads reading at once both build them and keep equal lists.
        built = self._certs
        if built is None:
            raw = self.__dict__.get("_raw")
            if isinstance(raw, Mapping):
                memo: Dict[int, Certificate] = {}
                built = (_certs(raw.get("chain"), memo) or [], _certs(raw.get("path"), memo),
                         _certs(raw.get("verified"), memo))
            elif raw is not None:
                built = _result_certs(raw)
            else:
                built = ([], None, None)
            self._certs = built
        return built  # type: ignore[no-any-return]

    @property
    def chain(self) -> List[Certificate]:
        """The chain as given or as served, leaf first."""
        return self._built()[0]

    @property
    def path(self) -> Optional[List[Certificate]]:
        """The path OpenSSL built, leaf first (the anchor last when reached)."""
        return self._built()[1]

    @property
    def verified_chain(self) -> Optional[List[Certificate]]:
        """The path when it reaches a trusted anchor through sound links."""
        return self._built()[2]

    def __getstate__(self) -> Dict[str, Any]:
        # The core's result does not pickle: everything it holds is made
        # now, and the state is the plain attributes.
        for name in _LAZY:
            getattr(self, name)
        self._built()
        state = dict(self.__dict__)
        state.pop("_raw", None)
        return state

    def _cert_at(self, depth: int) -> Optional[Certificate]:
        if depth < 0:
            return None
        for certs in (self.path, self.chain):
            if certs and depth < len(certs):
                return certs[depth]
        return None

    # ---- summary -------------------------------------------------------

    @property
    def ok(self) -> bool:
        """True when no problem of severity "error" was found."""
        d = self.__dict__
        if "problems" not in d and isinstance(d.get("_raw"), _core.Result):
            return d["_raw"].ok        # the same verdict, without the Problems
        return not any(p.severity == "error" for p in self.problems)

    @property
    def errors(self) -> List[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> List[Problem]:
        return [p for p in self.problems if p.severity != "error"]

    @property
    def kinds(self) -> List[str]:
        """The kinds of every problem, in order."""
        return [p.kind for p in self.problems]

    @property
    def leaf(self) -> Optional[Certificate]:
        """The end-entity certificate (first of the chain), or None."""
        return self.chain[0] if self.chain else None

    @property
    def days_remaining(self) -> Optional[int]:
        """Whole days until the leaf certificate expires (negative once
        expired), counted from the evaluation time (``checked_at``: the
        ``at=`` of :func:`verify_chain`, else when the check ran), or None
        when there is no certificate."""
        if self._certs is None and isinstance(self.__dict__.get("_raw"), _core.Result):
            ts = self._raw.leaf_not_after      # without making the leaf's Certificate
            if ts is not None:
                return days_until(utc_datetime(ts), self.checked_at)
        leaf = self.leaf
        return leaf.days_remaining_at(self.checked_at) if leaf is not None else None

    @property
    def is_live(self) -> bool:
        """True for a report of a live endpoint check."""
        return self.target is not None

    def raise_for_problems(self) -> "Report":
        """Raises the exception of the first error, else returns the report.

        Warnings never raise.  The exception carries ``.report`` (this
        report) and ``.problem``.
        """
        for p in self.problems:
            if p.severity == "error":
                raise p.exception(report=self, problem=p)
        return self

    # ---- data ----------------------------------------------------------

    def to_dict(self) -> Dict[str, Any]:
        """JSON-ready data with stable keys (docs/api.md, "JSON schema")."""
        return {
            "schema": SCHEMA_VERSION,
            "ok": self.ok,
            "checked_at": iso(self.checked_at),
            "source": self.source,
            "target": self.target,
            "address": self.address,
            "port": self.port,
            "server_name": self.server_name,
            "hostname": self.hostname,
            "trust": self.trust,
            "trust_reason": self.trust_reason,
            "trust_store": None if self.trust_store is None else list(self.trust_store),
            "protocol": self.protocol,
            "cipher": self.cipher,
            "group": self.group,
            "alpn": self.alpn,
            "ocsp_stapled": self.ocsp_stapled,
            "ocsp": None if self.ocsp is None else self.ocsp.to_dict(),
            "probe": None if self.probe is None else self.probe.to_dict(),
            "client_certificate_requested": self.client_certificate_requested,
            "client_ca_names": list(self.client_ca_names),
            "peer_banner": self.peer_banner,
            "starttls": self.starttls,
            "timings": dict(self.timings),
            "days_remaining": self.days_remaining,
            "chain_bytes": self.chain_bytes,
            "problems": [p.to_dict() for p in self.problems],
            "chain": [c.to_dict(self.checked_at) for c in self.chain],
            "path": None if self.path is None else [c.fingerprint_sha256 for c in self.path],
            "verified_chain": None if self.verified_chain is None
            else [c.fingerprint_sha256 for c in self.verified_chain],
            "diagnosis": None if self.diagnosis is None else self.diagnosis.to_dict(),
        }

    def to_json(self, indent: Optional[int] = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    # ---- words (the text view, _text.py, writes them) --------------------

    def verdict(self) -> str:
        """One line: passes or fails, with counts."""
        return _text.verdict_sentence(self)

    def explain(self) -> str:
        """A plain-English explanation a person new to TLS can act on:
        the verdict, what was checked, then each problem with what is wrong,
        why it matters, how to fix it and how to see it by hand."""
        return _text.explain(self)

    # ---- dunder --------------------------------------------------------

    def __bool__(self) -> bool:
        # A report is a result object, always truthy; use .ok for the verdict.
        return True

    def __repr__(self) -> str:
        what = self.target or self.source or (self.leaf.label if self.leaf else "empty chain")
        if self.ok and not self.problems:
            status = "ok"
        elif self.ok:
            status = "ok, warnings: " + ", ".join(p.kind for p in self.warnings)
        else:
            status = "problems: " + ", ".join(p.kind for p in self.problems)
        return f"<Report {what}: {status}>"

    def _repr_html_(self) -> Optional[str]:
        return _html.render_html(self)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(_text.pretty(self, cycle))
