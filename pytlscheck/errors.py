"""The exceptions of pytlscheck, and the problem kinds they stand for.

Every problem kind in the C core's table (``csrc/include/tc_kinds.h``) names the
exception class raised for it; :data:`KINDS` maps each kind name to a
:class:`KindInfo` holding that class.  ``tests/test_kinds.py`` proves the
two sides match.

Hierarchy::

    TLSCheckError
    +-- CertificateProblem
    |   +-- CertificateExpired, CertificateNotYetValid, HostnameMismatch,
    |   |   IncompleteChain, SelfSignedCertificate, UntrustedRoot,
    |   |   WeakSignature, WeakKey, CertificateRevoked, InvalidPurpose,
    |   |   InvalidCA, PathLengthExceeded, NameConstraintsViolation,
    |   |   InvalidPolicy, MalformedCertificate, ChainInvalid, ChainTooLarge,
    |   |   LeafNotFirst
    |   +-- CertificateExpiresSoon          (warnings' exceptions: raised only
    |   +-- ProfileDeviation, RevocationNotChecked,
    |   +-- ChainWrongOrder, ChainHasDuplicates, ChainHasUnneededCertificates,
    |       ChainIncludesRoot, ChainCostsRoundTrip   by raise_for_problems)
    +-- ConnectionProblem (also OSError)
    |   +-- DNSLookupFailed (also socket.gaierror)
    |   +-- ConnectionRefused (also ConnectionRefusedError)
    |   +-- ConnectionTimedOut (also TimeoutError)
    |   +-- ConnectionReset (also ConnectionResetError)
    +-- HandshakeProblem
        +-- NotTLS, ProtocolVersionMismatch, NoSharedCipher,
        |   ClientCertificateRequired, HandshakeFailed
        +-- StartTLSProtocolMismatch, StartTLSUnavailable, StartTLSRefused
        |   (the plaintext dialogue before TLS: docs/starttls.md)
        +-- ClientCertificateRequested, ClientCertificateNotAccepted,
        |   OCSPStapleInvalid, LegacyProtocolAccepted, WeakCipherAccepted,
        |   NoForwardSecrecy, WeakDHGroup (warnings; the last four from the probe)
        +-- HandshakeTimedOut (also TimeoutError)

The connection exceptions also derive from the matching built-in, so an
existing ``except ConnectionRefusedError:`` or ``except TimeoutError:``
keeps working.
"""
from __future__ import annotations

import errno as _errno
import socket as _socket
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, Optional, Type

from . import _core
from ._words import FIX, SEE

if TYPE_CHECKING:  # pragma: no cover
    from .report import Problem, Report

__all__ = [
    "TLSCheckError",
    "CertificateProblem",
    "CertificateExpired",
    "CertificateNotYetValid",
    "HostnameMismatch",
    "IncompleteChain",
    "SelfSignedCertificate",
    "UntrustedRoot",
    "UnknownRoot",
    "WeakSignature",
    "WeakKey",
    "CertificateRevoked",
    "InvalidPurpose",
    "InvalidCA",
    "PathLengthExceeded",
    "NameConstraintsViolation",
    "InvalidPolicy",
    "ProfileDeviation",
    "MalformedCertificate",
    "ChainInvalid",
    "CertificateExpiresSoon",
    "RevocationNotChecked",
    "ChainTooLarge",
    "LeafNotFirst",
    "ChainWrongOrder",
    "ChainHasDuplicates",
    "ChainHasUnneededCertificates",
    "ChainIncludesRoot",
    "ChainCostsRoundTrip",
    "ClientCertificateRequested",
    "ClientCertificateNotAccepted",
    "OCSPStapleInvalid",
    "LegacyProtocolAccepted",
    "WeakCipherAccepted",
    "NoForwardSecrecy",
    "WeakDHGroup",
    "ConnectionProblem",
    "DNSLookupFailed",
    "ConnectionRefused",
    "ConnectionTimedOut",
    "ConnectionReset",
    "HandshakeProblem",
    "NotTLS",
    "StartTLSProtocolMismatch",
    "StartTLSUnavailable",
    "StartTLSRefused",
    "ProtocolVersionMismatch",
    "NoSharedCipher",
    "ClientCertificateRequired",
    "HandshakeTimedOut",
    "HandshakeFailed",
    "KindInfo",
    "KINDS",
]


class TLSCheckError(Exception):
    """Base of every problem pytlscheck raises.

    ``report`` is the whole :class:`~pytlscheck.Report` (every problem
    found, the chain, the connection details) and ``problem`` the
    :class:`~pytlscheck.Problem` this exception stands for.  ``str(exc)``
    says what is wrong, why it matters and what to do.
    """

    #: the errno value set on OSError-derived subclasses
    _errno: Optional[int] = None

    def __init__(self, message: str = "", *, report: Optional["Report"] = None,
                 problem: Optional["Problem"] = None) -> None:
        if not message and problem is not None:
            message = _describe(problem)
        super().__init__(message)
        self.report = report
        self.problem = problem
        self._message = message
        if isinstance(self, OSError):
            # OSError's fields, so code written for the built-ins works
            # (setattr: these belong to the OSError side of the class).
            setattr(self, "errno", self._errno)
            setattr(self, "strerror", message)

    @property
    def kind(self) -> Optional[str]:
        """The problem kind ("expired", ...), or None."""
        return self.problem.kind if self.problem is not None else None

    def __str__(self) -> str:
        return self._message

    def __reduce__(self):
        # Picklable (multiprocessing): the report does not travel.
        return (_rebuild, (type(self), self._message))


def _rebuild(cls: type, message: str) -> "TLSCheckError":
    return cls(message)


def _describe(problem: "Problem") -> str:
    """What is wrong and why (the problem's message), then what to do."""
    text = problem.message.strip()
    if problem.fix:
        text += f"\n{FIX} " + problem.fix.strip()
    if problem.inspect_command:
        text += f"\n{SEE} " + problem.inspect_command.strip()
    return text


# ---- certificate problems ------------------------------------------------

class CertificateProblem(TLSCheckError):
    """Something is wrong with the certificate chain."""


class CertificateExpired(CertificateProblem):
    """A certificate of the chain is past its notAfter date."""


class CertificateNotYetValid(CertificateProblem):
    """A certificate of the chain is before its notBefore date."""


class HostnameMismatch(CertificateProblem):
    """The leaf certificate does not name the host that was checked."""


class IncompleteChain(CertificateProblem):
    """An intermediate certificate is missing: no path to a trusted root."""


class SelfSignedCertificate(CertificateProblem):
    """The leaf certificate is self-signed and not trusted."""


class UntrustedRoot(CertificateProblem):
    """The chain ends in a root certificate that is not trusted."""


class UnknownRoot(UntrustedRoot):
    """The served chain ends in a CA certificate whose issuer is neither sent
    nor trusted: most likely a private root not passed as ``trust=``."""


class WeakSignature(CertificateProblem):
    """A certificate is signed with a broken hash (SHA-1, MD5)."""


class WeakKey(CertificateProblem):
    """A certificate's key is too small (RSA < 2048, EC < 256 bits)."""


class CertificateRevoked(CertificateProblem):
    """A certificate was revoked by its issuer."""


class InvalidPurpose(CertificateProblem):
    """A certificate may not be used for this purpose (EKU, CA as leaf)."""


class InvalidCA(CertificateProblem):
    """A certificate signs others without being allowed to act as a CA."""


class PathLengthExceeded(CertificateProblem):
    """The chain is longer than a CA's pathLenConstraint allows."""


class NameConstraintsViolation(CertificateProblem):
    """A name lies outside what the issuing CA may issue for."""


class InvalidPolicy(CertificateProblem):
    """No certificate policy is valid for the whole path, and a CA in it
    requires one (RFC 5280 section 6.1)."""


class MalformedCertificate(CertificateProblem):
    """A certificate is not well-formed X.509."""


class ChainInvalid(CertificateProblem):
    """Any other chain validation failure (OpenSSL's code is kept)."""


class CertificateExpiresSoon(CertificateProblem):
    """A warning: a certificate expires within the configured window."""


class ProfileDeviation(CertificateProblem):
    """A warning: a certificate breaks a rule RFC 5280 sets for issuers,
    which clients accept (some strict ones excepted: the message says)."""


class RevocationNotChecked(CertificateProblem):
    """A warning: CRLs were given, and none covers this certificate of the
    chain (none from its CRL issuer, none whose scope includes it)."""


class ChainTooLarge(CertificateProblem):
    """The Certificate message is over what OpenSSL-based clients accept
    (102,400 bytes): repeated certificates, or a leaf with thousands of names."""


class LeafNotFirst(CertificateProblem):
    """The served chain starts with a CA certificate, the server's own
    certificate comes later: every client checks the wrong certificate."""


class ChainWrongOrder(CertificateProblem):
    """A warning: the chain is not sent leaf first, then each issuer."""


class ChainHasDuplicates(CertificateProblem):
    """A warning: the chain carries the same certificate more than once."""


class ChainHasUnneededCertificates(CertificateProblem):
    """A warning: the chain carries certificates off the path to the root."""


class ChainIncludesRoot(CertificateProblem):
    """A warning: the chain carries the root, which clients never use."""


class ChainCostsRoundTrip(CertificateProblem):
    """A warning: the chain overflows TCP's initial window (about 14 KB),
    one extra round trip on every new connection."""


# ---- connection problems -------------------------------------------------

class ConnectionProblem(TLSCheckError, OSError):
    """No TCP connection to the endpoint could be made."""


class DNSLookupFailed(ConnectionProblem, _socket.gaierror):
    """The host name could not be resolved."""

    _errno = _socket.EAI_NONAME


class ConnectionRefused(ConnectionProblem, ConnectionRefusedError):
    """Nothing listens on the port (the host refused the connection)."""

    _errno = _errno.ECONNREFUSED


class ConnectionTimedOut(ConnectionProblem, TimeoutError):
    """No TCP connection could be made before the deadline."""

    _errno = _errno.ETIMEDOUT


class ConnectionReset(ConnectionProblem, ConnectionResetError):
    """The peer closed or reset the connection during the handshake."""

    _errno = _errno.ECONNRESET


# ---- handshake problems --------------------------------------------------

class HandshakeProblem(TLSCheckError):
    """A TCP connection was made but the TLS handshake failed."""


class NotTLS(HandshakeProblem):
    """The peer does not speak TLS on this port (plain HTTP, SSH, ...)."""


class StartTLSProtocolMismatch(HandshakeProblem):
    """Before STARTTLS, the server did not speak the protocol expected (no
    greeting, another service, a reply that never ends)."""


class StartTLSUnavailable(HandshakeProblem):
    """The server does not offer to upgrade the connection to TLS."""


class StartTLSRefused(HandshakeProblem):
    """The server offers STARTTLS but refused to start TLS."""


class ProtocolVersionMismatch(HandshakeProblem):
    """The server and this client share no TLS version."""


class NoSharedCipher(HandshakeProblem):
    """The server accepts none of the cipher suites this client offers."""


class ClientCertificateRequired(HandshakeProblem):
    """The server requires a client certificate (mutual TLS)."""


class ClientCertificateRequested(HandshakeProblem):
    """A warning: the server asked for a client certificate, none was given,
    and it went on without one."""


class ClientCertificateNotAccepted(HandshakeProblem):
    """A warning: the client certificate given is issued by none of the CAs
    the server says it accepts."""


class OCSPStapleInvalid(HandshakeProblem):
    """A warning: the OCSP response the server staples cannot be relied on
    (unreadable, not verifying, about another certificate, or stale)."""


class LegacyProtocolAccepted(HandshakeProblem):
    """A warning (probe): the server still accepts TLS 1.0 or TLS 1.1."""


class WeakCipherAccepted(HandshakeProblem):
    """A warning (probe): the server accepts a NULL, anonymous, EXPORT, RC4,
    DES or 3DES cipher suite."""


class NoForwardSecrecy(HandshakeProblem):
    """A warning (probe): the server accepts a TLS 1.2 suite without ECDHE or
    DHE key exchange."""


class WeakDHGroup(HandshakeProblem):
    """A warning (probe): the server's DHE suites use a group under 2048 bits."""


class HandshakeTimedOut(HandshakeProblem, TimeoutError):
    """The server accepted the connection but never completed the handshake."""

    _errno = _errno.ETIMEDOUT


class HandshakeFailed(HandshakeProblem):
    """Any other handshake failure (the alert is named)."""


# ---- the kinds table -----------------------------------------------------

@dataclass(frozen=True)
class KindInfo:
    """One row of the problem kinds table.

    ``message`` and ``fix`` are templates with ``{cert}``, ``{hostname}``,
    ... placeholders that the core fills in for each problem; ``cause`` is
    the typical cause; ``see_file`` / ``see_live`` the openssl command that
    shows the problem by hand for a chain file / a live endpoint.
    """

    name: str
    severity: str
    exception: Type[TLSCheckError]
    message: str
    fix: str
    cause: str
    see_file: str
    see_live: str
    #: "certificate", "connection" or "handshake": the exception's family
    category: str = "certificate"
    #: the kind says the path itself does not hold (no verified chain)
    breaks_path: bool = False


_CATEGORY_BASES = {"certificate": "CertificateProblem", "connection": "ConnectionProblem",
                   "handshake": "HandshakeProblem"}


def _load_kinds() -> Dict[str, KindInfo]:
    kinds: Dict[str, KindInfo] = {}
    for row in _core.kinds():
        exc: Any = globals().get(row["exception"])
        if not (isinstance(exc, type) and issubclass(exc, TLSCheckError)):
            # The C table names a class this module lacks: a build of
            # mismatched halves.  Fail loudly rather than raise the wrong type.
            raise ImportError(
                f"pytlscheck: the kinds table names the exception {row['exception']!r} "
                f"for kind {row['name']!r}, which pytlscheck.errors does not define")
        if not issubclass(exc, globals()[_CATEGORY_BASES[row["category"]]]):
            raise ImportError(
                f"pytlscheck: the kinds table puts {row['name']!r} among the "
                f"{row['category']} problems, but {row['exception']} is not a "
                f"{_CATEGORY_BASES[row['category']]}")
        kinds[row["name"]] = KindInfo(
            name=row["name"], severity=row["severity"], exception=exc,
            message=row["message"], fix=row["fix"], cause=row["cause"],
            see_file=row["see_file"], see_live=row["see_live"],
            category=row["category"], breaks_path=row["breaks_path"])
    return kinds


#: Every problem kind, in the table's "most fundamental first" order.
KINDS: Dict[str, KindInfo] = _load_kinds()


def exception_for(kind: str) -> Type[TLSCheckError]:
    """The exception class of a kind name (ChainInvalid when unknown)."""
    info = KINDS.get(kind)
    return info.exception if info is not None else ChainInvalid
