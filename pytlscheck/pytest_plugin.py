"""pytest plugin of pytlscheck (registered through the ``pytest11`` entry
point, so installing pytlscheck is enough).

Fixtures:
  ``tls_check``: a callable ``tls_check(target, **kwargs) -> Report`` whose
  defaults come from the command line: ``--tls-min-days N`` (default 30)
  and ``--tls-trust NAME|FILE|DIR`` (default: the system trust store).  It also
  has ``tls_check.assert_healthy(target, **kwargs)``.
  ``tls_lab``: the built-in lab of broken servers (:class:`pytlscheck.lab.Lab`),
  started once per session and stopped at its end.

TLS diagnosis: when a test fails with a TLS failure anywhere in its
exception's chain (``requests.get`` on a server with an expired
certificate), the failure report gets a "TLS diagnosis" section:
:func:`pytlscheck.diagnose` of that exception, bounded by
``--tls-diagnose-timeout`` (default 3 seconds), each endpoint checked once
per session.  ``--no-tls-diagnose`` turns it off.

The plugin imports nothing of pytlscheck until a fixture is used or a test
fails with a TLS failure, so it costs nothing in test sessions that do
neither.
"""
from __future__ import annotations

import ssl
from typing import Any, Dict, Hashable, Iterator, Optional

import pytest

# The diagnoses of one session: each endpoint is checked once.
_CACHE_KEY = pytest.StashKey[Dict[Hashable, Any]]()

__all__ = ["TLSCheck"]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pytlscheck", "TLS certificate checks (pytlscheck)")
    group.addoption("--tls-min-days", type=int, default=None, metavar="N",
                    help="tls_check fixture: warn when a certificate expires within N "
                         "days (default 30)")
    group.addoption("--tls-trust", default=None, metavar="NAME|FILE|DIR",
                    help="tls_check fixture: trust these roots instead of the system "
                         "trust store (a store name, 'system' or 'certifi', a PEM file "
                         "or a directory)")
    group.addoption("--no-tls-diagnose", action="store_true", default=False,
                    help="do not add a 'TLS diagnosis' section to tests that fail with "
                         "a TLS error")
    group.addoption("--tls-diagnose-timeout", type=float, default=None, metavar="SECONDS",
                    help="bound on the check behind a 'TLS diagnosis' section "
                         "(default 3)")


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


def _has_ssl_error(exc: BaseException) -> bool:
    """Cheap test, before pytlscheck is imported: an ssl.SSLError as the
    exception or in its cause/context chain (the full walk, arguments
    included, is pytlscheck's)."""
    seen = set()
    todo: list = [exc]
    while todo:
        e = todo.pop()
        if not isinstance(e, BaseException) or id(e) in seen:
            continue
        if isinstance(e, ssl.SSLError):
            return True
        seen.add(id(e))
        todo += [e.__cause__, e.__context__]
        todo += [a for a in e.args if isinstance(a, BaseException)]
    return False


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Iterator[None]:
    outcome: Any = yield
    report = outcome.get_result()
    excinfo = call.excinfo
    if (not report.failed or excinfo is None
            or item.config.getoption("no_tls_diagnose")
            or not _has_ssl_error(excinfo.value)):
        return
    from . import _defaults
    from ._diagnose import _note_text

    timeout = item.config.getoption("tls_diagnose_timeout")
    cache = item.config.stash.setdefault(_CACHE_KEY, {})
    try:
        text = _note_text(excinfo.value,
                          _defaults.PYTEST_DIAGNOSE_TIMEOUT if timeout is None else timeout,
                          None, cache)
    except Exception as e:   # never turn a test's failure into the plugin's
        text = f"pytlscheck could not diagnose it: {type(e).__name__}: {e}"
    if text:
        report.sections.append(("TLS diagnosis", text))
