"""diagnose(): a TLS failure as a client raised it, checked and explained.

From the exception a client raised (its cause and context chain, the
exceptions it holds as arguments) this module recovers what the client
called (host, port, server name), which trust store it used, and what it
said; it then checks that endpoint with the C core and compares the two
verdicts.  What it reads, in order of trust:

- the public attributes of the client libraries' exceptions: requests'
  ``exc.request``, urllib3's ``MaxRetryError.pool`` (host, port,
  ``ca_certs``, ``ca_cert_dir``: what requests' ``verify=`` becomes),
  httpx's ``exc.request``, aiohttp's ``exc.host``/``exc.port``/``exc.ssl``;
- the standard library's own frames in the tracebacks: the
  ``ssl.SSLSocket``/``ssl.SSLObject`` whose handshake failed (the server
  name it sent and verified, the ``SSLContext`` and so the CA certificates
  it trusted), ``http.client``'s connection (host, port),
  ``urllib.request``'s ``Request`` (the URL), asyncio's
  ``create_connection`` (host, port).  Only frames of those standard
  modules are read, never the caller's own.

None of the client libraries is imported: their exception types are
recognised only when the library is already in ``sys.modules`` (if it is
not, nothing can have raised its exceptions).
"""
from __future__ import annotations

import copy
import dataclasses
import functools
import inspect
import os
import re
import ssl
import sys
import time
from typing import Any, Callable, Dict, Hashable, Iterator, List, Literal, Optional, Tuple
from urllib.parse import urlsplit

from . import _core, _defaults, _stores
from ._target import Target, parse_target
from ._text import render_text
from .api import check
from .errors import ConnectionProblem, TLSCheckError
from ._words import FIX, exception_line, short_name
from .report import Report

__all__ = ["diagnose", "explaining", "Diagnosis", "is_tls_failure"]

#: The first line of every note and section holding a diagnosis.
HEADER = "TLS diagnosis (pytlscheck):"

#: Ports of the URL schemes TLS clients call.
_SCHEME_PORTS = {"https": 443, "wss": 443}


@dataclasses.dataclass(frozen=True)
class Diagnosis:
    """What :func:`diagnose` learnt from the client's exception, and how
    pytlscheck's verdict compares with the client's (``Report.diagnosis``).

    ``client``: the library that raised it (``"requests"``, ``"httpx"``,
    ``"aiohttp"``, ``"urllib3"``, ``"websockets"``, ``"urllib.request"``,
    ``"http.client"``, ``"asyncio"``, ``"ssl"``); ``exception``: the
    exception's type, qualified; ``url``: what the client called, when known;
    ``ssl_reason``: OpenSSL's reason code as the client reported it
    (``"CERTIFICATE_VERIFY_FAILED"``); ``verify_code`` / ``verify_message``:
    OpenSSL's verify code and words (certificate failures only);
    ``client_said``: those words as one phrase; ``client_kind``: the kind
    pytlscheck's table gives the client's verify code; ``said``: the
    sentence saying what the client reported; ``agrees``: whether
    pytlscheck's check found the problem the client reported;
    ``disagreement``: None when it agrees, else ``"trusted_another_store"``,
    ``"healthy_now"``, ``"unreachable_now"`` or ``"different_problem"``;
    ``finding``: what pytlscheck found, compared with the client, and what
    to do; ``proxy``: the proxy the client was configured to go through,
    when known.
    """

    client: str
    exception: str
    url: Optional[str]
    ssl_reason: Optional[str]
    verify_code: Optional[int]
    verify_message: Optional[str]
    client_said: str
    client_kind: Optional[str]
    said: str
    agrees: bool
    disagreement: Optional[str]
    finding: str
    proxy: Optional[str] = None

    def to_dict(self) -> Dict[str, Any]:
        return dataclasses.asdict(self)


# ---- reading exceptions ----------------------------------------------------

def _attr(obj: Any, name: str) -> Any:
    """getattr that never raises: some exceptions' properties do (httpx's
    ``.request`` when it was never set)."""
    try:
        return getattr(obj, name, None)
    except Exception:
        return None


try:
    BaseExceptionGroup_: Any = BaseExceptionGroup  # type: ignore[name-defined]
except NameError:  # Python 3.10
    class BaseExceptionGroup_(BaseException):  # type: ignore[no-redef]
        pass


def _chain(exc: BaseException) -> List[BaseException]:
    """The exception and every exception it leads to (cause, context, the
    exceptions it holds as arguments or as ``reason``), outermost first,
    each once."""
    out: List[BaseException] = []
    seen = set()
    todo: List[Any] = [exc]
    while todo and len(out) < 64:
        e = todo.pop(0)
        if not isinstance(e, BaseException) or id(e) in seen:
            continue
        seen.add(id(e))
        out.append(e)
        todo += [e.__cause__, e.__context__]
        todo += [a for a in e.args if isinstance(a, BaseException)]
        for name in ("reason", "certificate_error", "os_error"):
            value = _attr(e, name)
            if isinstance(value, BaseException):
                todo.append(value)
        todo += list(_attr(e, "exceptions") or ()) if isinstance(e, BaseExceptionGroup_) else []
    return out


def _ssl_errors(chain: List[BaseException]) -> List[ssl.SSLError]:
    return [e for e in chain if isinstance(e, ssl.SSLError)]


def is_tls_failure(exc: BaseException) -> bool:
    """Whether a TLS error (an ``ssl.SSLError``) is anywhere in the chain."""
    return bool(_ssl_errors(_chain(exc)))


def _loaded(module: str, *names: str) -> Tuple[type, ...]:
    mod = sys.modules.get(module)
    types = (_attr(mod, n) for n in names) if mod is not None else ()
    return tuple(t for t in types if isinstance(t, type))


#: (client name, module, exception base classes): recognised only when the
#: module is already imported.  A requests exception wraps urllib3's, so
#: requests is looked for first.
_CLIENT_TYPES = (
    ("requests", "requests.exceptions", ("RequestException",)),
    ("httpx", "httpx", ("HTTPError",)),
    ("aiohttp", "aiohttp", ("ClientError",)),
    ("websockets", "websockets.exceptions", ("WebSocketException",)),
    ("urllib3", "urllib3.exceptions", ("HTTPError",)),
)

#: modules whose frames say which client raised a bare ssl.SSLError
#: (websockets raises the standard library's error as it is), by priority
_STDLIB_CLIENTS = (("websockets", "websockets"), ("urllib.request", "urllib.request"),
                   ("http.client", "http.client"), ("asyncio.", "asyncio"))


def _frames(exc: BaseException) -> Iterator[Tuple[str, str, Dict[str, Any]]]:
    """(module name, function name, locals) of each frame of exc's traceback."""
    tb = exc.__traceback__
    n = 0
    while tb is not None and n < 400:
        frame = tb.tb_frame
        yield (str(frame.f_globals.get("__name__", "")), frame.f_code.co_name, frame.f_locals)
        tb = tb.tb_next
        n += 1


@dataclasses.dataclass
class _Evidence:
    """What the exception says about the failed connection."""

    exc: BaseException
    chain: List[BaseException]
    client: str = "ssl"
    url: Optional[str] = None
    host: Optional[str] = None
    port: Optional[int] = None
    server_name: Optional[str] = None
    contexts: List[ssl.SSLContext] = dataclasses.field(default_factory=list)
    ca_file: Optional[str] = None
    ca_dir: Optional[str] = None
    proxy: Optional[str] = None

    def set_url(self, url: Any) -> None:
        if self.url is None and url:
            text = str(url)
            try:
                parts = urlsplit(text)
                port = parts.port
            except ValueError:
                return
            self.url = text
            if parts.hostname:
                self.set_host(parts.hostname, port or _SCHEME_PORTS.get(parts.scheme.lower()))

    def set_host(self, host: Any, port: Any) -> None:
        if self.host is None and isinstance(host, str) and host:
            self.host = host.strip("[]")
        if self.port is None and isinstance(port, int) and not isinstance(port, bool) and port > 0:
            self.port = port

    def add_context(self, ctx: Any) -> None:
        if isinstance(ctx, ssl.SSLContext) and all(ctx is not c for c in self.contexts):
            self.contexts.append(ctx)


def _read_urllib3(ev: _Evidence, obj: Any) -> None:
    """An urllib3 connection pool or connection: where it connects, the
    CA file or directory and SSLContext it was given, its proxy."""
    ev.set_host(_attr(obj, "host"), _attr(obj, "port"))
    ca_certs, ca_dir = _attr(obj, "ca_certs"), _attr(obj, "ca_cert_dir")
    if isinstance(ca_certs, (str, os.PathLike)) and ev.ca_file is None:
        ev.ca_file = os.fspath(ca_certs)
    if isinstance(ca_dir, (str, os.PathLike)) and ev.ca_dir is None:
        ev.ca_dir = os.fspath(ca_dir)
    ev.add_context(_attr(obj, "ssl_context"))
    conn_kw = _attr(obj, "conn_kw")
    if isinstance(conn_kw, dict):
        ev.add_context(conn_kw.get("ssl_context"))
        if isinstance(conn_kw.get("server_hostname"), str) and ev.server_name is None:
            ev.server_name = conn_kw["server_hostname"]
    proxy = _attr(obj, "proxy")
    if proxy is not None and ev.proxy is None:
        ev.proxy = str(_attr(proxy, "url") or proxy)


def _read_client_exceptions(ev: _Evidence) -> None:
    """The public attributes of the client libraries' exceptions."""
    for e in ev.chain:
        for name, module, bases in _CLIENT_TYPES:
            types = _loaded(module, *bases)
            if types and isinstance(e, types) and ev.client == "ssl":
                ev.client = name
        request = _attr(e, "request")          # requests' and httpx's request
        if request is not None and not isinstance(request, (str, bytes)):
            ev.set_url(_attr(request, "url"))
        # urllib3's MaxRetryError holds its pool as an instance attribute
        # (another exception's deprecated `pool` property would warn)
        pool = getattr(e, "__dict__", {}).get("pool")
        if pool is not None and _attr(pool, "host"):
            _read_urllib3(ev, pool)
        aio = _loaded("aiohttp", "ClientConnectorError")
        if aio and isinstance(e, aio):       # aiohttp: host, port, ssl=
            ev.set_host(_attr(e, "host"), _attr(e, "port"))
            ev.add_context(_attr(e, "ssl"))
        if isinstance(e, TLSCheckError):
            raise ValueError(
                f"{type(e).__name__} comes from pytlscheck itself: its diagnosis is already "
                "attached as exc.report (print(exc.report.explain())).")


def _read_frames(ev: _Evidence) -> None:
    """The standard library's frames: the failed handshake's socket or
    object, http.client's connection, urllib's Request, asyncio's
    create_connection."""
    http_client = sys.modules.get("http.client")
    urllib_request = sys.modules.get("urllib.request")
    conn_type = _attr(http_client, "HTTPConnection")
    request_type = _attr(urllib_request, "Request")
    urllib3_types = (_loaded("urllib3.connectionpool", "HTTPConnectionPool")
                     + _loaded("urllib3.connection", "HTTPConnection"))
    modules: List[str] = []
    for e in ev.chain:
        for module, func, f_locals in _frames(e):
            modules.append(module)
            if module.startswith("urllib3.") and urllib3_types:
                obj = f_locals.get("self")
                if isinstance(obj, urllib3_types):   # urllib3 without retries
                    _read_urllib3(ev, obj)
            if module == "ssl":
                for value in list(f_locals.values()):
                    if isinstance(value, (ssl.SSLSocket, ssl.SSLObject)):
                        name = _attr(value, "server_hostname")
                        if isinstance(name, str) and name and ev.server_name is None:
                            ev.server_name = name
                        ev.add_context(_attr(value, "context"))
                    else:
                        ev.add_context(value)
            elif module == "http.client" and isinstance(conn_type, type):
                conn = f_locals.get("self")
                if isinstance(conn, conn_type):
                    tunnel = _attr(conn, "_tunnel_host")
                    if tunnel:   # through a proxy: CONNECT to the real target
                        ev.set_host(tunnel, _attr(conn, "_tunnel_port"))
                        ev.proxy = ev.proxy or f"{_attr(conn, 'host')}:{_attr(conn, 'port')}"
                    else:
                        ev.set_host(_attr(conn, "host"), _attr(conn, "port"))
            elif module == "urllib.request" and isinstance(request_type, type):
                for value in list(f_locals.values()):
                    if isinstance(value, request_type):
                        ev.set_url(_attr(value, "full_url"))
                    elif isinstance(conn_type, type) and isinstance(value, conn_type):
                        ev.set_host(_attr(value, "host"), _attr(value, "port"))
            elif module == "asyncio.base_events" and func == "create_connection":
                ev.set_host(f_locals.get("host"), f_locals.get("port"))
                name = f_locals.get("server_hostname")
                if isinstance(name, str) and name and ev.server_name is None:
                    ev.server_name = name
                ev.add_context(f_locals.get("ssl"))
    if ev.client == "ssl":
        for prefix, name in _STDLIB_CLIENTS:
            if any(m.startswith(prefix) for m in modules):
                ev.client = name
                break


#: clients that go through the proxy the environment names (HTTPS_PROXY,
#: NO_PROXY) by default, when the exception itself does not show it
_ENV_PROXY_CLIENTS = {"httpx": "httpx honours it unless trust_env=False"}


def _read_proxy_environment(ev: _Evidence) -> None:
    """The proxy an httpx client went through, from the environment as it
    reads it (the standard library's parser: HTTPS_PROXY / https_proxy,
    NO_PROXY)."""
    rule = _ENV_PROXY_CLIENTS.get(ev.client)
    if rule is None or ev.proxy is not None or ev.host is None:
        return
    import urllib.request
    proxies = urllib.request.getproxies_environment()
    proxy = proxies.get("https") or proxies.get("all")
    bypass = getattr(urllib.request, "proxy_bypass_environment")   # not in typeshed
    if proxy and not bypass(ev.host, proxies):
        ev.proxy = f"{proxy} (from the environment's HTTPS_PROXY: {rule})"


def _evidence(exc: BaseException) -> Tuple[_Evidence, ssl.SSLError]:
    if not isinstance(exc, BaseException):
        raise TypeError(f"diagnose() takes an exception, not {type(exc).__name__}")
    chain = _chain(exc)
    ev = _Evidence(exc=exc, chain=chain)
    _read_client_exceptions(ev)
    errors = _ssl_errors(chain)
    if not errors:
        raise ValueError(
            f"{_qualname(exc)} ({exception_line(exc, 160)}) is not a TLS failure: no ssl.SSLError "
            "is in its cause or context chain, so there is no TLS problem to diagnose. "
            "To check an endpoint anyway, call pytlscheck.check('host:port') "
            "(server_name= the name to verify, trust= the roots to trust)."
            + _check_hint(ev, exc))
    _read_frames(ev)
    _read_proxy_environment(ev)
    # the innermost error says most: prefer one with a verify code
    coded = [e for e in errors if isinstance(_attr(e, "verify_code"), int)]
    return ev, (coded or errors)[-1]


def _check_hint(ev: _Evidence, exc: BaseException) -> str:
    """" For it: pytlscheck.check(...)" when the target is known."""
    try:
        if ev.host is None:
            _read_frames(ev)
        if ev.host is None:
            return ""
        return " For this one: " + _check_call(_target(ev), ev.server_name) + "."
    except Exception:
        return ""


def _check_call(target: Target, server_name: Optional[str]) -> str:
    sni = f", server_name={server_name!r}" if server_name and server_name != target.host else ""
    return f"pytlscheck.check({target.display!r}{sni})"


def _qualname(exc: BaseException) -> str:
    t = type(exc)
    return t.__qualname__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


def _target(ev: _Evidence) -> Target:
    if ev.host is None and ev.server_name is None:
        raise ValueError(
            f"{_qualname(ev.exc)} is a TLS failure, but it does not say which server "
            "the client connected to (no URL, host or connection in the exception or "
            "its traceback). Call pytlscheck.check('host:port', server_name='name') "
            "with the endpoint your client called.")
    host = ev.host if ev.host is not None else ev.server_name
    assert host is not None
    if ev.port is None:
        raise ValueError(
            f"{_qualname(ev.exc)} is a TLS failure with {host!r}, but it does not say "
            "which port the client connected to. Call "
            f"pytlscheck.check('{host}:PORT'"
            + (f", server_name={ev.server_name!r}" if ev.server_name else "")
            + ") with the port your client called.")
    shown = f"[{host}]" if ":" in host else host
    return parse_target(shown, ev.port)


# ---- what the client said ----------------------------------------------------

_SSL_PREFIX = re.compile(r"^\[[A-Z0-9_]+: [A-Z0-9_]+\]\s*")
_SSL_SUFFIX = re.compile(r"\s*\(_ssl\.c:\d+\)$")


def _client_words(err: ssl.SSLError) -> Tuple[Optional[str], Optional[int], Optional[str], str]:
    """(reason, verify code, verify message, the phrase)."""
    reason = _attr(err, "reason")
    reason = reason if isinstance(reason, str) and reason else None
    code = _attr(err, "verify_code")
    code = code if isinstance(code, int) and code > 0 else None
    message = _attr(err, "verify_message")
    message = message if isinstance(message, str) and message else None
    if message is not None:
        phrase = f"{reason or 'CERTIFICATE_VERIFY_FAILED'}: {message}"
    else:
        text = str(err.strerror if isinstance(err.strerror, str) else err)
        text = _SSL_SUFFIX.sub("", _SSL_PREFIX.sub("", " ".join(text.split())))
        phrase = f"{reason}: {text}" if reason and text else (reason or text or type(err).__name__)
    return reason, code, message, phrase


# ---- which trust store the client used -----------------------------------------

def _ders_of(path: str) -> Optional[frozenset]:
    try:
        return frozenset(c["der"] for c in _core.load_certificates(path))
    except (OSError, ValueError):
        return None


def _ca_env(client: str) -> Optional[Tuple[str, str]]:
    """(variable, value) of the CA setting the client honours from the
    environment, when set: requests reads REQUESTS_CA_BUNDLE then
    CURL_CA_BUNDLE, httpx SSL_CERT_FILE then SSL_CERT_DIR.  Each name is
    spelt out (tests/test_no_escape_hatch.py audits every variable read)."""
    if client == "requests":
        found = [("REQUESTS_CA_BUNDLE", os.environ.get("REQUESTS_CA_BUNDLE")),
                 ("CURL_CA_BUNDLE", os.environ.get("CURL_CA_BUNDLE"))]
    elif client == "httpx":
        found = [("SSL_CERT_FILE", os.environ.get("SSL_CERT_FILE")),
                 ("SSL_CERT_DIR", os.environ.get("SSL_CERT_DIR"))]
    else:
        found = []
    for name, value in found:
        if value:
            return name, value
    return None


def _default_store(client: str) -> Tuple[Any, str]:
    """(trust= input, why) for a client whose own settings are unknown:
    its documented default."""
    if client in ("requests", "httpx"):
        env = _ca_env(client)
        if env is not None:
            return env[1], f"{client} honours {env[0]}, which names {env[1]}"
        path = _stores.certifi_path()
        if path is not None:
            return "certifi", f"{client}'s default is certifi's CA bundle ({path})"
        return None, (f"{client}'s default is certifi's CA bundle, but certifi is not "
                      "installed here: the system trust store is assumed instead")
    return None, ("the standard library's default (ssl.create_default_context()) is the "
                  "system trust store" if client in ("ssl", "urllib.request", "http.client",
                                                    "asyncio")
                  else f"{client}'s default is the standard library's, the system trust store")


def _client_store(ev: _Evidence) -> Tuple[Any, str]:
    """(trust= input, why): the store the client used, as far as the
    exception says."""
    client = ev.client
    if ev.ca_file or ev.ca_dir:
        path = ev.ca_file or ev.ca_dir
        assert path is not None
        if client == "requests":
            certifi = _stores.certifi_path()
            env = _ca_env("requests")
            if env is not None and os.path.abspath(env[1]) == os.path.abspath(path):
                return path, f"requests honours {env[0]}, which names {path}"
            if certifi is not None and os.path.abspath(certifi) == os.path.abspath(path):
                return "certifi", f"requests' default: certifi's CA bundle ({path})"
            return path, f"requests was given verify={path!r}"
        arg = "ca_certs" if ev.ca_file else "ca_cert_dir"
        return path, f"{client}'s connection pool was given {arg}={path!r}"
    for ctx in ev.contexts:
        try:
            ders = ctx.get_ca_certs(binary_form=True)
        except Exception:
            continue
        if not ders:
            continue
        have = frozenset(ders)
        certifi = _stores.certifi_path()
        if certifi is not None and _ders_of(certifi) == have:
            return "certifi", ("the SSLContext of your client's failed handshake holds "
                             f"certifi's CA bundle ({certifi})")
        cafile = ssl.get_default_verify_paths().cafile
        if cafile and _ders_of(cafile) == have:
            return None, ("the SSLContext of your client's failed handshake holds the "
                          "system trust store's certificates")
        n = len(ders)
        names = ""
        if n <= 3:
            try:
                names = " (" + "; ".join(short_name(c["subject"])
                                         for c in _core.parse_certificates(list(ders))) + ")"
            except ValueError:
                names = ""
        return list(ders), (f"the SSLContext of your client's failed handshake holds {n} CA "
                            f"certificate{'s' if n != 1 else ''} of its own{names}, which "
                            "pytlscheck trusted")
    why = _default_store(client)
    if ev.contexts:
        return why[0], (why[1] + " (your client's SSLContext lists no CA certificate: a "
                        "CA directory's certificates are read only when looked up)")
    return why


def _is_store(trust: Any, name: str) -> bool:
    """Whether a trust= input is the named store (its name, or for certifi
    its bundle's path)."""
    if name == "system":
        return trust is None or trust == "system"
    if trust == name:
        return True
    path = _stores.certifi_path() if name == "certifi" else None
    return (path is not None and isinstance(trust, (str, os.PathLike))
            and os.path.abspath(os.fspath(trust)) == os.path.abspath(path))


def _other_stores(used: Any) -> List[Tuple[Any, str]]:
    """The stores to try when the client's own has no trusted path:
    the system store, then certifi's bundle, each unless it is the one the
    client used."""
    out: List[Tuple[Any, str]] = []
    for name in _stores.STORE_NAMES:
        if _is_store(used, name) or (name == "certifi" and _stores.certifi_path() is None):
            continue
        words = _stores.describe_input(name)
        assert words is not None
        out.append((name, words))
    return out


# ---- comparing the verdicts ---------------------------------------------------

def _no_trusted_path(report: Report) -> bool:
    """Whether one of report's errors is a "no trusted path" verdict
    (OpenSSL codes 2, 18, 19, 20, 21, 27: no anchor in the store)."""
    for p in report.errors:
        info = _core.kind_for_verify_code(p.openssl_code) if p.openssl_code else None
        if info is not None and info[1]:
            return True
    return False


def _agrees(report: Report, code: Optional[int]) -> bool:
    errors = report.errors
    if code is None:
        return bool(errors)
    info = _core.kind_for_verify_code(code)
    if info is None:
        return bool(errors)
    kind, no_trusted_path = info
    if any(p.kind == kind for p in errors):
        return True
    # 2, 18, 19, 20, 21, 27 say "no trusted path"; which one OpenSSL says
    # depends on how far its build got: any of them agrees.
    return no_trusted_path and _no_trusted_path(report)


def _anchor_words(report: Report) -> str:
    path = report.verified_chain or []
    return f", its chain leading to {path[-1].label}" if path else ""


def _finding(report: Report, ev: _Evidence, target: Target, code: Optional[int],
             client_kind: Optional[str], no_trusted_path: bool, given_trust: bool,
             client_trust: Tuple[Any, str],
             roots: Optional[str] = None) -> Tuple[bool, Optional[str], str]:
    """(agrees, disagreement, the finding in words); roots: the file to
    give the client, when pytlscheck's store is best named by one."""
    checked = f"pytlscheck checked {report.target or target.display}"
    if report.server_name and report.server_name != target.host:
        checked += f" as {report.server_name}"
    checked += f", trusting {report.trust}"
    errors = report.errors
    if _agrees(report, code):
        first = errors[0]
        more = " (every problem is listed below)" if len(errors) > 1 else ""
        return True, None, (f"{checked}, and agrees: {first.kind.replace('_', ' ')}{more}. "
                            f"{first.message}")
    if report.ok:
        if no_trusted_path and given_trust:
            store = _stores.describe_input(client_trust[0])
            theirs = (f" Your client's store was {store} ({client_trust[1]})." if store
                      else f" Your client's store: {client_trust[1]}.")
            return False, "trusted_another_store", (
                f"{checked}, and disagrees: the endpoint is healthy{_anchor_words(report)}. "
                "Your client trusted another store, one without that root." + theirs +
                " Usual causes: a private CA your client was not given, a stale CA bundle "
                "(an old certifi or a copied bundle file that lacks a newer root), or a "
                "TLS-inspecting proxy whose own root your client lacks. "
                f"{FIX} give your client the roots pytlscheck trusted ({roots or report.trust}): "
                "verify=/cafile= that file, or REQUESTS_CA_BUNDLE / SSL_CERT_FILE naming it, "
                "or update the bundle (pip install -U certifi).")
        return False, "healthy_now", (
            f"{checked}, and disagrees: the endpoint is healthy now{_anchor_words(report)}. "
            "What your client saw is not what pytlscheck sees: the problem was fixed since "
            "(a fixed outage: a renewed certificate, a restarted server), or your client "
            "reached another server than pytlscheck did (a proxy, another address "
            "behind the same name, one bad node behind a load balancer)"
            + (", or your client trusted another store than the one pytlscheck used"
               if no_trusted_path else "")
            + f". {FIX} retry your client; if it still fails, compare the "
            "certificate it receives with pytlscheck's: "
            f"openssl s_client -connect {target.display}"
            + (f" -servername {report.server_name}" if report.server_name else "")
            + " </dev/null.")
    first = errors[0]
    if issubclass(first.exception, ConnectionProblem):
        return False, "unreachable_now", (
            f"{checked}, and could not reach it now: {first.kind.replace('_', ' ')}. "
            f"{first.message} The TLS failure your client reported happened on a connection "
            "that did work then; the endpoint is not answering the same way now. "
            f"{FIX} {first.fix}")
    theirs = client_kind.replace("_", " ") if client_kind else "another failure"
    return False, "different_problem", (
        f"{checked}, and finds {first.kind.replace('_', ' ')} where your client reported "
        f"{theirs}. {first.message} The two checks differ: "
        + ("pytlscheck trusted the store you gave (trust=), your client another. "
           if given_trust else
           "the endpoint may have changed since, or answer clients differently. ")
        + f"{FIX} {first.fix}")


# ---- the public function ----------------------------------------------------------

Checker = Callable[..., Report]


def _trust_key(trust: Any) -> Hashable:
    if trust in _stores.STORE_NAMES:
        return ("name", trust)
    if isinstance(trust, list):
        return ("ders",) + tuple(trust)
    if isinstance(trust, (str, os.PathLike)):
        return ("path", os.path.abspath(os.fspath(trust)))
    if trust is None:
        return ("system",)
    return ("object", id(trust))


def _run(exc: BaseException, timeout: float, trust: Any,
         cache: Optional[Dict[Hashable, Report]] = None) -> Report:
    timeout = _defaults.timeout_seconds(timeout)
    ev, err = _evidence(exc)
    target = _target(ev)
    reason, code, message, phrase = _client_words(err)
    info = _core.kind_for_verify_code(code) if code else None
    client_kind, no_trusted_path = (info if info is not None else (None, False))

    client_trust = _client_store(ev)
    used, why = (trust, "it was given to diagnose() as trust=") if trust is not None else client_trust
    server_name = ev.server_name
    if server_name == target.host or (server_name is None and not target.is_ip):
        server_name = None         # check() sends and verifies the host itself
    # One deadline for the whole diagnosis: the checks against other
    # stores share what the first one left of `timeout`.
    deadline = time.monotonic() + timeout

    def checked(store: Any, budget: float = timeout) -> Report:
        key = (target.display, server_name, _trust_key(store))
        found = cache.get(key) if cache is not None else None
        if found is None:
            found = check(target.display, server_name=server_name, trust=store,
                          timeout=budget)
            if cache is not None:
                cache[key] = found
        return found

    report = checked(used)
    other_store, roots = False, None
    if trust is None and no_trusted_path and _no_trusted_path(report):
        # The client's own store has no path either: would another store
        # (the system's, certifi's) have one?  Then that is the diagnosis.
        for store, name in _other_stores(used):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            alt = checked(store, left)
            if not _no_trusted_path(alt) and not any(
                    issubclass(p.exception, ConnectionProblem) for p in alt.errors):
                report, other_store = alt, True
                roots = (_stores.certifi_path() if store == "certifi"
                         else ssl.get_default_verify_paths().cafile)
                why = (f"{name}, which has a path to this server's root, unlike the store "
                       f"your client used: {client_trust[1]}")
                break
    report = copy.copy(report)     # the diagnosis is this exception's own

    where = f" when it called {ev.url}" if ev.url else f" connecting to {target.display}"
    if ev.server_name and ev.server_name != target.host:
        where += f" (server name {ev.server_name})"
    said = (f"Your client ({ev.client}) reported {phrase}"
            + (f" (OpenSSL verify code {code})" if code else "") + where + ".")
    agrees, disagreement, finding = _finding(report, ev, target, code, client_kind,
                                             no_trusted_path, trust is not None or other_store,
                                             client_trust, roots)
    report.trust_reason = why
    report.diagnosis = Diagnosis(
        client=ev.client, exception=_qualname(exc), url=ev.url, ssl_reason=reason,
        verify_code=code, verify_message=message, client_said=phrase,
        client_kind=client_kind, said=said, agrees=agrees, disagreement=disagreement,
        finding=finding, proxy=ev.proxy)
    return report


def diagnose(exc: BaseException, *, timeout: float = _defaults.DIAGNOSE_TIMEOUT,
             trust: Any = None) -> Report:
    """Explains a TLS failure a client raised: checks the endpoint it called
    and says how pytlscheck's verdict compares with the client's.

    ``exc``: an exception from the standard library (``ssl.SSLError``,
    ``ssl.SSLCertVerificationError``, ``urllib.error.URLError``,
    ``http.client``), requests, urllib3, httpx, aiohttp or websockets; its
    cause and context chain is walked.  ``timeout`` bounds the check.
    ``trust``: the roots to check against (as for :func:`check`); by
    default the store the client used, where the exception tells, else the
    client's documented default (requests and httpx: certifi's bundle,
    honouring REQUESTS_CA_BUNDLE / SSL_CERT_FILE / SSL_CERT_DIR; the
    standard library: the system store).

    Returns the :class:`Report` of the check, with ``trust_reason`` (why
    that store) and ``diagnosis`` (a :class:`Diagnosis`: what the client
    said, whether pytlscheck agrees, and what that means).  Raises
    ValueError when the exception is not a TLS failure or does not say
    which endpoint it was, saying how to call :func:`check` instead.
    """
    return _run(exc, timeout, trust)


# ---- explaining(): the diagnosis as an exception note ---------------------------------

def _note_text(exc: BaseException, timeout: float, trust: Any,
               cache: Optional[Dict[Hashable, Report]] = None) -> Optional[str]:
    """The diagnosis of a TLS failure as text; a one-line reason when it
    cannot be made; None when exc is not a TLS failure."""
    if not is_tls_failure(exc):
        return None
    try:
        report = _run(exc, timeout, trust, cache)
    except ValueError as e:
        return f"{HEADER} none: {e}"
    return f"{HEADER}\n{render_text(report)}"


def attach(exc: BaseException, text: str, *, notes: Optional[bool] = None) -> None:
    """Adds text to exc: an exception note on Python 3.11+ (PEP 678), else
    (3.10) into its message where its message can hold it, and into
    ``__notes__``, which pytest and other tools show."""
    existing = _attr(exc, "__notes__") or []
    if any(isinstance(n, str) and n.startswith(HEADER) for n in existing):
        return              # diagnosed once already (nested explaining())
    if notes is None:
        notes = hasattr(exc, "add_note")
    if notes:
        exc.add_note(text)  # type: ignore[attr-defined]  # 3.11+; mypy checks as 3.10
        return
    before = str(exc)
    if isinstance(exc, OSError) and isinstance(exc.strerror, str):
        exc.strerror = f"{exc.strerror}\n\n{text}"
    elif exc.args and isinstance(exc.args[0], str):
        exc.args = (f"{exc.args[0]}\n\n{text}",) + tuple(exc.args[1:])
    elif len(exc.args) <= 1:
        exc.args = (f"{before}\n\n{text}",)
    try:
        exc.__notes__ = list(existing) + [text]  # type: ignore[attr-defined]
    except (AttributeError, TypeError):
        pass


class _Explaining:
    """What :func:`explaining` returns: a context manager, and a decorator."""

    def __init__(self, timeout: float, trust: Any) -> None:
        self.timeout = _defaults.timeout_seconds(timeout)
        self.trust = trust

    def __enter__(self) -> "_Explaining":
        return self

    def __exit__(self, etype: Any, exc: Optional[BaseException], tb: Any) -> Literal[False]:
        if isinstance(exc, Exception):
            self._explain(exc)
        return False            # never swallowed: the exception goes on as it was

    def _explain(self, exc: BaseException) -> None:
        try:
            text = _note_text(exc, self.timeout, self.trust)
        except Exception as e:  # the diagnosis must never hide the failure
            text = f"{HEADER} none: the diagnosis itself failed ({type(e).__name__}: {e})"
        if text is not None:
            attach(exc, text)

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        if not callable(func):
            raise TypeError(f"explaining() decorates a function, not {type(func).__name__}")
        if inspect.iscoroutinefunction(func):
            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                with self:
                    return await func(*args, **kwargs)
            return async_wrapper

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self:
                return func(*args, **kwargs)
        return wrapper


def explaining(func: Optional[Callable[..., Any]] = None, *,
               timeout: float = _defaults.DIAGNOSE_TIMEOUT, trust: Any = None) -> Any:
    """Adds pytlscheck's diagnosis to a TLS failure that escapes the block
    or the decorated function, then lets it go on unchanged (same object,
    type and traceback, so ``except`` clauses keep working)::

        with pytlscheck.explaining():
            requests.get("https://staging.example.com/")

        @pytlscheck.explaining            # or @pytlscheck.explaining(timeout=3)
        def fetch(): ...

    The diagnosis is an exception note (PEP 678) on Python 3.11+, shown
    under the traceback; on 3.10 it goes into the message.  Other
    exceptions pass untouched; a TLS failure whose endpoint cannot be
    checked gets a one-line note saying why.  ``timeout`` and ``trust`` as
    for :func:`diagnose`.  Async functions can be decorated too.
    """
    manager = _Explaining(timeout, trust)
    return manager if func is None else manager(func)
