"""pytest plugin of pytlscheck (registered through the ``pytest11`` entry
point, so installing pytlscheck is enough).

Fixtures:
  ``tls_check``: a callable ``tls_check(target, **kwargs) -> Report`` whose
  defaults come from the command line: ``--tls-min-days N`` (default 30)
  and ``--tls-trust FILE|DIR`` (default: the system trust store).  It also
  has ``tls_check.assert_healthy(target, **kwargs)``.
  ``tls_lab``: the built-in lab of broken servers (:class:`pytlscheck.lab.Lab`),
  started once per session and stopped at its end.

The plugin imports nothing of pytlscheck until a fixture is used, so it
costs nothing in test sessions that do not use it.
"""
from __future__ import annotations

from typing import Any, Dict, Iterator, Optional

import pytest

__all__ = ["TLSCheck"]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pytlscheck", "TLS certificate checks (pytlscheck)")
    group.addoption("--tls-min-days", type=int, default=None, metavar="N",
                    help="tls_check fixture: warn when a certificate expires within N "
                         "days (default 30)")
    group.addoption("--tls-trust", default=None, metavar="FILE|DIR",
                    help="tls_check fixture: trust these roots instead of the system "
                         "trust store")


class TLSCheck:
    """The ``tls_check`` fixture's value: :func:`pytlscheck.check` with
    defaults from the command line."""

    def __init__(self, min_days: Optional[int] = None, trust: Optional[str] = None) -> None:
        self.min_days = 30 if min_days is None else min_days
        self.trust = trust

    def _kwargs(self, kwargs: Dict[str, Any]) -> Dict[str, Any]:
        kwargs.setdefault("min_days", self.min_days)
        if self.trust is not None:
            kwargs.setdefault("trust", self.trust)
        return kwargs

    def __call__(self, target: Any, **kwargs: Any) -> Any:
        """``pytlscheck.check(target, **kwargs)`` with the session's
        defaults; a :class:`~pytlscheck.lab.Endpoint` works as a target."""
        import pytlscheck

        if hasattr(target, "target") and hasattr(target, "server_name"):
            kwargs.setdefault("server_name", target.server_name)
            target = target.target
        return pytlscheck.check(target, **self._kwargs(kwargs))

    def assert_healthy(self, target: Any, **kwargs: Any) -> Any:
        """:func:`pytlscheck.testing.assert_tls_healthy` with the defaults."""
        __tracebackhide__ = True
        from .testing import assert_tls_healthy

        return assert_tls_healthy(target, **self._kwargs(kwargs))

    def __repr__(self) -> str:
        return f"<tls_check min_days={self.min_days} trust={self.trust!r}>"


@pytest.fixture
def tls_check(request: pytest.FixtureRequest) -> TLSCheck:
    """A callable returning a pytlscheck Report; defaults from
    --tls-min-days and --tls-trust."""
    return TLSCheck(min_days=request.config.getoption("tls_min_days"),
                    trust=request.config.getoption("tls_trust"))


@pytest.fixture(scope="session")
def tls_lab() -> Iterator[Any]:
    """The built-in lab of deliberately broken TLS servers on 127.0.0.1,
    for the whole session: ``tls_lab.endpoints["expired"].target``,
    ``tls_lab.root_pem_path`` (the root to trust)."""
    from .lab import Lab

    with Lab() as lab:
        yield lab
