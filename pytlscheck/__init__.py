"""pytlscheck: tells you, precisely and in plain words, what is wrong with a
TLS endpoint or a certificate chain, and what to do about it.

    >>> import pytlscheck
    >>> report = pytlscheck.verify_chain("fullchain.pem", hostname="api.example.com")
    >>> print(report.explain())
    >>> pytlscheck.check("api.example.com").ok

The checks run in a C core over the system OpenSSL; this package is its
documented Python API (docs/api.md).  There is no switch that makes a
failing chain pass.
"""
try:
    from ._core import OPENSSL_VERSION
except ModuleNotFoundError as _exc:
    if _exc.name != __name__ + "._core":
        raise
    # A bare "No module named 'pytlscheck._core'" does not say why (usually a
    # source checkout shadowing the installed package): _nocore.py does.
    from . import _nocore
    _text_ = _nocore.message(__path__[0])
    _nocore.exit_if_running_as_main(_text_)
    raise ImportError(_text_, name=_exc.name, path=__path__[0]) from None
from .api import HostnameMatch, check, match_hostname, verify, verify_chain
from .certificate import Certificate
from .many import (InvalidTargets, check_async, check_many, check_many_async,
                   iter_check_many)
from . import errors
from .errors import (
    KINDS,
    CertificateExpired,
    CertificateExpiresSoon,
    RevocationNotChecked,
    CertificateNotYetValid,
    CertificateProblem,
    CertificateRevoked,
    ChainInvalid,
    ClientCertificateNotAccepted,
    ClientCertificateRequested,
    ChainCostsRoundTrip,
    ChainIncludesRoot,
    ChainHasUnneededCertificates,
    ChainHasDuplicates,
    ChainWrongOrder,
    LeafNotFirst,
    ChainTooLarge,
    ClientCertificateRequired,
    ConnectionProblem,
    ConnectionRefused,
    ConnectionReset,
    ConnectionTimedOut,
    DNSLookupFailed,
    HandshakeFailed,
    HandshakeProblem,
    HandshakeTimedOut,
    HostnameMismatch,
    IncompleteChain,
    InvalidCA,
    InvalidPolicy,
    InvalidPurpose,
    KindInfo,
    MalformedCertificate,
    NameConstraintsViolation,
    NoSharedCipher,
    NotTLS,
    OCSPStapleInvalid,
    LegacyProtocolAccepted,
    WeakCipherAccepted,
    NoForwardSecrecy,
    WeakDHGroup,
    PathLengthExceeded,
    ProfileDeviation,
    ProtocolVersionMismatch,
    SelfSignedCertificate,
    StartTLSProtocolMismatch,
    StartTLSRefused,
    StartTLSUnavailable,
    TLSCheckError,
    UntrustedRoot,
    UnknownRoot,
    WeakKey,
    WeakSignature,
)
from .report import Problem, Report
from ._ocsp import OCSPResponse
from ._economics import handshake_cost
from ._probe import Probe
from ._diagnose import Diagnosis, diagnose, explaining

__version__ = "0.1.0"

__all__ = [
    # functions
    "verify_chain",
    "match_hostname",
    "check",
    "verify",
    "check_many",
    "iter_check_many",
    "check_async",
    "check_many_async",
    "diagnose",
    "explaining",
    "handshake_cost",
    # result types
    "Certificate",
    "Report",
    "Problem",
    "HostnameMatch",
    "OCSPResponse",
    "Probe",
    "InvalidTargets",
    "Diagnosis",
    # versions
    "__version__",
    "OPENSSL_VERSION",
]
# The exception hierarchy, KINDS and KindInfo: listed once, in errors.py.
__all__ += errors.__all__


def load_ipython_extension(ipython):  # type: ignore[no-untyped-def]
    """``%load_ext pytlscheck``: a cell that raises a TLS failure shows its
    traceback, then pytlscheck's diagnosis (HTML in Jupyter, text in a
    terminal IPython)."""
    from . import _ipython

    _ipython.load(ipython)


def unload_ipython_extension(ipython):  # type: ignore[no-untyped-def]
    """``%unload_ext pytlscheck``: removes the handler."""
    from . import _ipython

    _ipython.unload(ipython)
