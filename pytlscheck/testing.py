"""Assertions for test suites: certificate health as a test.

::

    from pytlscheck.testing import assert_tls_healthy

    def test_api_certificate():
        assert_tls_healthy("api.example.com", min_days=21)

On failure the AssertionError's message is the report's explanation (what
is wrong, why it matters, how to fix it, how to see it by hand), and pytest
shows it without a traceback into pytlscheck.
"""
from __future__ import annotations

from typing import Any, Optional

from . import _defaults

__all__ = ["assert_tls_healthy", "assert_chain_healthy"]


def assert_tls_healthy(target: Any, min_days: Optional[int] = _defaults.MIN_DAYS,
                       min_remaining: Optional[float] = None, **kwargs: Any) -> Any:
    """Checks a live endpoint and fails unless it has no problem at all.

    ``target``: ``host``, ``host:port``, ``[v6addr]:port``, an IP, an
    ``https://`` URL, or a :class:`pytlscheck.lab.Endpoint` (its
    ``server_name`` is then used unless given).  ``min_days``: fail when a
    certificate expires within that many days (default 30);
    ``min_remaining``: also fail when less than this fraction of its
    validity period remains (0.33 suits 90-day certificates).  Other
    keyword arguments go to :func:`pytlscheck.check` (``trust``,
    ``server_name``, ``timeout``, ``client_cert``, ``client_key``).

    Warnings count: an endpoint whose certificate expires within
    ``min_days`` is not healthy.  Returns the Report when it passes.
    """
    __tracebackhide__ = True
    import pytlscheck

    if hasattr(target, "target") and hasattr(target, "server_name"):
        kwargs.setdefault("server_name", target.server_name)
        target = target.target
    report = pytlscheck.check(target, min_days=min_days, min_remaining=min_remaining,
                              **kwargs)
    if report.problems:
        raise AssertionError(report.explain().rstrip())
    return report


def assert_chain_healthy(chain: Any, hostname: Optional[str] = None,
                         min_days: Optional[int] = _defaults.MIN_DAYS,
                         min_remaining: Optional[float] = None, **kwargs: Any) -> Any:
    """The same for a chain file or data, offline
    (:func:`pytlscheck.verify_chain`): e.g. a certificate about to be
    deployed.  Returns the Report when it passes."""
    __tracebackhide__ = True
    import pytlscheck

    report = pytlscheck.verify_chain(chain, hostname=hostname, min_days=min_days,
                                     min_remaining=min_remaining, **kwargs)
    if report.problems:
        raise AssertionError(report.explain().rstrip())
    return report
