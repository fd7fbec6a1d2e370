"""A built-in lab of deliberately broken TLS servers on loopback.

``pytlscheck demo`` runs it; tests and users can run it too, to see what
pytlscheck (or their own client) says about each kind of breakage::

    import pytlscheck
    from pytlscheck.lab import Lab

    with Lab() as lab:
        ep = lab.endpoints["expired"]
        report = pytlscheck.check(ep.target, server_name=ep.server_name,
                                  trust=lab.root_pem_path)
        print(report.explain())

At start the lab mints a throwaway root CA, an intermediate and one leaf
per scenario with the C core (OpenSSL), writes them to a private temporary
directory, and serves each scenario from a standard-library :mod:`ssl`
server in a thread on ``127.0.0.1`` (an ephemeral port each).  Nothing
leaves the machine and nothing is needed beyond the package.  Leaving the
``with`` block stops every server, joins every thread and deletes the files.

The lab's certificates are issued for ``localhost``, ``127.0.0.1`` and
``::1`` (except where a scenario breaks exactly that), so check them with
``server_name="localhost"`` (what :attr:`Endpoint.server_name` says) or by
IP, and trust :attr:`Lab.root_pem_path`.

Every server, including ``tls1_0_only``, is the standard library's
:mod:`ssl` over the system OpenSSL: with OpenSSL 3.0 a server context pinned
to ``TLSVersion.TLSv1`` with ``@SECLEVEL=0`` ciphers serves TLS 1.0 (checked
by tests/test_lab.py with a TLS 1.0 client), so no ``openssl s_server``
subprocess is needed.  ``weak_key`` and ``sha1_signature`` use security
level 0 too, because the default level refuses to load their certificates.
"""
from __future__ import annotations

import dataclasses
import os
import selectors
import shutil
import socket
import ssl
import tempfile
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Iterator

from . import _core, _defaults

__all__ = ["Lab", "Endpoint", "SCENARIOS", "HOST"]

#: The only address the lab listens on.
HOST = "127.0.0.1"
#: The name the lab's certificates are issued for.
LAB_NAME = "localhost"
DAY = 86400.0

#: At most this many connections are served at once per lab; further
#: connections wait in the listen backlog.
MAX_CONNECTIONS = 32
#: A connection that has not finished its handshake (or sent its request)
#: by then is dropped, so a stuck client cannot hold a worker.
IO_TIMEOUT = 5.0


@dataclasses.dataclass(frozen=True)
class Endpoint:
    """One lab server.

    ``target`` is ``"127.0.0.1:PORT"``; ``server_name`` is the name to send
    as SNI and to verify (``"localhost"`` for most scenarios);
    ``expected_kind`` is the problem kind pytlscheck reports for it
    (``None`` for the healthy endpoint); ``chain_path`` holds the chain the
    server sends, as PEM (``None`` when it sends none).
    """

    name: str
    host: str
    port: int
    server_name: str
    expected_kind: str | None
    description: str
    chain_path: str | None = None

    @property
    def target(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"https://{self.server_name}:{self.port}/"


@dataclasses.dataclass(frozen=True)
class _Scenario:
    name: str
    expected_kind: str | None
    description: str
    server_name: str = LAB_NAME


#: Every scenario the lab serves, in the order the demo shows them.
SCENARIOS: tuple[_Scenario, ...] = (
    _Scenario("healthy", None,
              "A correct server: leaf + intermediate, issued by the lab root, valid for 90 days."),
    _Scenario("expired", "expired",
              "The leaf expired 10 days ago."),
    _Scenario("not_yet_valid", "not_yet_valid",
              "The leaf becomes valid only 10 days from now."),
    _Scenario("wrong_host", "hostname_mismatch",
              "The leaf is issued for www.example.test, not for localhost."),
    _Scenario("self_signed", "self_signed",
              "A self-signed certificate left in place (the 'snakeoil' default)."),
    _Scenario("untrusted_root", "untrusted_root",
              "The chain ends in a private root that is not the lab root."),
    _Scenario("missing_intermediate", "incomplete_chain",
              "The server sends its leaf without the intermediate (cert.pem instead of fullchain.pem)."),
    _Scenario("expiring_soon", "expires_soon",
              "The leaf is valid but expires in 5 days."),
    _Scenario("plain_http", "not_tls",
              "Plain HTTP on the port that should speak TLS."),
    _Scenario("tls1_0_only", "protocol_mismatch",
              "A server that only speaks TLS 1.0."),
    _Scenario("client_cert_required", "client_certificate_required",
              "Mutual TLS: the server refuses clients without a certificate from the lab CA."),
    _Scenario("weak_key", "weak_key",
              "The leaf has a 1024-bit RSA key."),
    _Scenario("sha1_signature", "weak_signature",
              "The leaf is signed with SHA-1."),
    _Scenario("wildcard_too_deep", "hostname_mismatch",
              "A wildcard *.lab.test asked for a.b.lab.test (a wildcard covers one label).",
              server_name="a.b.lab.test"),
    _Scenario("bloated_chain", "chain_too_large",
              "The chain file repeats the intermediate 250 times: over 100 KB, more than "
              "OpenSSL-based clients (Python, curl) accept."),
    _Scenario("optional_client_cert", "client_certificate_requested",
              "The server asks for a client certificate but goes on without one."),
)


class Lab:
    """The built-in lab as a context manager.

    ``Lab()`` serves every scenario in :data:`SCENARIOS`;
    ``Lab(only=["expired", "healthy"])`` serves a subset.  Use it with
    ``with`` (or call :meth:`start` and :meth:`close`).

    Attributes (valid between start and close):
      ``endpoints``: name -> :class:`Endpoint`;
      ``root_pem_path``: the lab root to trust (``trust=`` / ``--trust``);
      ``root_pem``: the same as text;
      ``client_cert_path`` / ``client_key_path``: a client certificate
      (with its intermediate) and key that ``client_cert_required`` accepts;
      ``directory``: the temporary directory holding every file.
    """

    def __init__(self, only: list[str] | tuple[str, ...] | None = None) -> None:
        known = {s.name for s in SCENARIOS}
        if only is not None:
            if isinstance(only, str):
                raise TypeError("only= takes a list of scenario names, not a string")
            unknown = [n for n in only if n not in known]
            if unknown:
                raise ValueError(
                    f"unknown lab scenario(s) {', '.join(map(repr, unknown))}; "
                    f"known: {', '.join(s.name for s in SCENARIOS)}")
        self._only = None if only is None else set(only)
        self.endpoints: dict[str, Endpoint] = {}
        self.directory: str | None = None
        self.root_pem: str = ""
        self.root_pem_path: str = ""
        self.client_cert_path: str = ""
        self.client_key_path: str = ""
        self._servers: _Servers | None = None
        self._started = False

    # -- life cycle -------------------------------------------------------

    def __enter__(self) -> "Lab":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> "Lab":
        """Mints the certificates and starts every server."""
        if self._started:
            raise RuntimeError("this Lab is already started")
        self._started = True
        try:
            self.directory = tempfile.mkdtemp(prefix="pytlscheck-lab-")
            self._servers = servers = _Servers()
            pki = _LabPKI(self.directory)
            self.root_pem = pki.root_cert
            self.root_pem_path = pki.root_path
            self.client_cert_path, self.client_key_path = pki.client_files()
            for sc in SCENARIOS:
                if self._only is not None and sc.name not in self._only:
                    continue
                handler, chain_path = _build_handler(sc, pki)
                port = servers.listen(handler)
                self.endpoints[sc.name] = Endpoint(
                    name=sc.name, host=HOST, port=port,
                    server_name=sc.server_name, expected_kind=sc.expected_kind,
                    description=sc.description, chain_path=chain_path)
            servers.start()
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        """Stops every server, joins its threads, deletes the files.

        Safe to call more than once."""
        servers, self._servers = self._servers, None
        if servers is not None:
            servers.close()
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None

    # -- conveniences -----------------------------------------------------

    def __getitem__(self, name: str) -> Endpoint:
        return self.endpoints[name]

    def __iter__(self) -> Iterator[Endpoint]:
        return iter(self.endpoints.values())

    def __len__(self) -> int:
        return len(self.endpoints)

    def check(self, name: str, **kwargs: Any) -> Any:
        """``pytlscheck.check`` on one endpoint, trusting the lab root and
        verifying the endpoint's ``server_name``; keyword arguments override
        (``client_cert=lab.client_cert_path``, ``min_days=1``...)."""
        from . import check  # late: the lab itself needs only the C core

        ep = self.endpoints[name]
        kwargs.setdefault("server_name", ep.server_name)
        kwargs.setdefault("trust", self.root_pem_path)
        kwargs.setdefault("timeout", _defaults.TIMEOUT)
        return check(ep.target, **kwargs)

    def __repr__(self) -> str:
        state = "running" if self._servers is not None else "stopped"
        return f"<pytlscheck.lab.Lab {state}, {len(self.endpoints)} endpoints>"


# ---------------------------------------------------------------------------
# Certificates


class _LabPKI:
    """The lab's throwaway certificates, minted by the C core."""

    def __init__(self, directory: str) -> None:
        self.dir = directory
        now = time.time()
        self.now = now
        # The CAs are valid from a year ago, so the expired and
        # not-yet-valid leaves verify at a date inside their own validity
        # (verify_chain(..., at=...)): the dates are their only problem.
        self.root_cert, self.root_key = _core.mint(
            common_name="pytlscheck lab root", organization="pytlscheck lab",
            is_ca=True, not_before=now - 365 * DAY, not_after=now + 3650 * DAY)
        self.int_cert, self.int_key = _core.mint(
            common_name="pytlscheck lab intermediate", organization="pytlscheck lab",
            is_ca=True, path_length=0, not_before=now - 365 * DAY,
            not_after=now + 1825 * DAY,
            issuer_cert_pem=self.root_cert, issuer_key_pem=self.root_key)
        self.root_path = self.write("lab-root.pem", self.root_cert)

    def write(self, name: str, text: str, private: bool = False) -> str:
        path = os.path.join(self.dir, name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL,
                     0o600 if private else 0o644)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(text)
        return path

    def leaf(self, *, days_before: float = 1, days_after: float = 90,
             names: tuple[str, ...] = (LAB_NAME,),
             ips: tuple[str, ...] = ("127.0.0.1", "::1"),
             issuer: str = "intermediate", **kw: Any) -> tuple[str, str]:
        if issuer == "intermediate":
            kw.update(issuer_cert_pem=self.int_cert, issuer_key_pem=self.int_key)
        kw.setdefault("common_name", names[0] if names else None)
        return _core.mint(
            dns_names=list(names), ip_addresses=list(ips),
            not_before=self.now - days_before * DAY,
            not_after=self.now + days_after * DAY, **kw)

    def server_files(self, name: str, cert: str, key: str,
                     chain: tuple[str, ...] = ()) -> tuple[str, str, str]:
        """Writes NAME-chain.pem (what the server sends) and NAME-key.pem."""
        chain_text = cert + "".join(chain)
        chain_path = self.write(f"{name}-chain.pem", chain_text)
        key_path = self.write(f"{name}-key.pem", key, private=True)
        return chain_path, key_path, chain_text

    def client_files(self) -> tuple[str, str]:
        cert, key = self.leaf(names=(), ips=(), common_name="pytlscheck lab client",
                              ekus=["clientAuth"])
        return (self.write("client-cert.pem", cert + self.int_cert),
                self.write("client-key.pem", key, private=True))


def _build_handler(sc: _Scenario, pki: _LabPKI) -> tuple["Handler", str | None]:
    """Mints what scenario `sc` needs; returns its connection handler and
    the path of the chain it serves."""
    name = sc.name
    inter = (pki.int_cert,)
    ctx: ssl.SSLContext

    if name == "plain_http":
        return _serve_plain_http, None

    if name == "healthy":
        cert, key = pki.leaf()
        files = pki.server_files(name, cert, key, inter)
    elif name == "expired":
        cert, key = pki.leaf(days_before=100, days_after=-10)
        files = pki.server_files(name, cert, key, inter)
    elif name == "not_yet_valid":
        cert, key = pki.leaf(days_before=-10, days_after=100)
        files = pki.server_files(name, cert, key, inter)
    elif name == "wrong_host":
        cert, key = pki.leaf(names=("www.example.test",), ips=())
        files = pki.server_files(name, cert, key, inter)
    elif name == "self_signed":
        cert, key = pki.leaf(issuer="self")
        files = pki.server_files(name, cert, key)
    elif name == "untrusted_root":
        other_root, other_key = _core.mint(
            common_name="Some Private Root CA", organization="Elsewhere Inc",
            is_ca=True, not_before=pki.now - DAY, not_after=pki.now + 3650 * DAY)
        cert, key = pki.leaf(issuer="other", issuer_cert_pem=other_root,
                             issuer_key_pem=other_key)
        files = pki.server_files(name, cert, key, (other_root,))
    elif name == "missing_intermediate":
        cert, key = pki.leaf()
        files = pki.server_files(name, cert, key)
    elif name == "expiring_soon":
        cert, key = pki.leaf(days_before=85, days_after=5)
        files = pki.server_files(name, cert, key, inter)
    elif name == "tls1_0_only":
        cert, key = pki.leaf(key_type="rsa", rsa_bits=2048)
        files = pki.server_files(name, cert, key, inter)
    elif name == "client_cert_required":
        cert, key = pki.leaf()
        files = pki.server_files(name, cert, key, inter)
    elif name == "weak_key":
        cert, key = pki.leaf(key_type="rsa", rsa_bits=1024)
        files = pki.server_files(name, cert, key, inter)
    elif name == "sha1_signature":
        cert, key = pki.leaf(digest="sha1")
        files = pki.server_files(name, cert, key, inter)
    elif name == "wildcard_too_deep":
        cert, key = pki.leaf(names=("*.lab.test",), ips=())
        files = pki.server_files(name, cert, key, inter)
    elif name == "bloated_chain":
        cert, key = pki.leaf()
        files = pki.server_files(name, cert, key, inter * 250)
    elif name == "optional_client_cert":
        cert, key = pki.leaf()
        files = pki.server_files(name, cert, key, inter)
    else:  # pragma: no cover - SCENARIOS and this function go together
        raise AssertionError(f"no recipe for lab scenario {name!r}")

    chain_path, key_path, _ = files
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    if name in ("weak_key", "sha1_signature", "tls1_0_only"):
        # OpenSSL's default security level refuses to even load a 1024-bit
        # key or a SHA-1 certificate, and TLS 1.0 needs SHA-1 handshake
        # signatures: level 0 lets the lab serve what it is meant to show.
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    if name == "tls1_0_only":
        with warnings.catch_warnings():
            # TLSVersion.TLSv1 is deprecated, which is the point here.
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.maximum_version = ssl.TLSVersion.TLSv1
    ctx.load_cert_chain(chain_path, key_path)
    if name in ("client_cert_required", "optional_client_cert"):
        ctx.verify_mode = (ssl.CERT_REQUIRED if name == "client_cert_required"
                           else ssl.CERT_OPTIONAL)
        ctx.load_verify_locations(cadata=pki.root_cert)
    return _tls_handler(ctx, name), chain_path


# ---------------------------------------------------------------------------
# Servers

_HTTP_BODY = "pytlscheck lab: endpoint {name}\n"


def _http_response(status: str, body: str) -> bytes:
    data = body.encode()
    return (f"HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\n"
            f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n").encode() + data


class _Conn:
    """One accepted connection; ``sock`` is whatever object currently owns
    the descriptor (the TCP socket, then the TLS socket wrapping it), so
    :meth:`abort` can unblock its handler at shutdown."""

    __slots__ = ("sock",)

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def abort(self) -> None:
        try:
            # The base-class method: SSLSocket.shutdown would also drop the
            # TLS object under the handler that is using it.
            socket.socket.shutdown(self.sock, socket.SHUT_RDWR)
        except OSError:
            pass


Handler = Callable[[_Conn], None]


def _tls_handler(ctx: ssl.SSLContext, name: str) -> Handler:
    response = _http_response("200 OK", _HTTP_BODY.format(name=name))

    def handle(conn: _Conn) -> None:
        conn.sock.settimeout(IO_TIMEOUT)
        tls = ctx.wrap_socket(conn.sock, server_side=True,
                              do_handshake_on_connect=False)
        conn.sock = tls
        try:
            tls.do_handshake()
            # pytlscheck sends no application data and hangs up; a browser
            # or curl gets a one-line page naming the endpoint.
            if tls.recv(4096):
                tls.sendall(response)
        except (OSError, ssl.SSLError):
            pass  # clients that refuse the certificate abort: expected

    return handle


def _serve_plain_http(conn: _Conn) -> None:
    # What a plain HTTP server (nginx without `ssl` on the listen line)
    # answers to a TLS ClientHello: a 400 and a close.
    conn.sock.settimeout(IO_TIMEOUT)
    try:
        if conn.sock.recv(4096):
            conn.sock.sendall(_http_response(
                "400 Bad Request",
                "This is a plain HTTP server; the client sent something else.\n"))
    except OSError:
        pass


class _Servers:
    """Every listening socket of a lab, one accept thread over all of them
    (a selector plus a wake-up socket pair), connections handed to a
    bounded thread pool."""

    def __init__(self) -> None:
        self._listeners: dict[socket.socket, Handler] = {}
        self._pool = ThreadPoolExecutor(max_workers=MAX_CONNECTIONS,
                                        thread_name_prefix="pytlscheck-lab-conn")
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self._live: set[_Conn] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake_r, self._wake_w = socket.socketpair()
        self._thread: threading.Thread | None = None

    def listen(self, handler: Handler) -> int:
        """Opens a listener on 127.0.0.1, an ephemeral port; returns it."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind((HOST, 0))
            sock.listen(128)
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        self._listeners[sock] = handler
        port: int = sock.getsockname()[1]
        return port

    def start(self) -> None:
        self._thread = threading.Thread(target=self._accept_loop, daemon=True,
                                        name="pytlscheck-lab-accept")
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        for sock in self._listeners:
            sock.close()
        self._listeners.clear()
        with self._lock:
            live = list(self._live)
        for conn in live:
            conn.abort()
        self._pool.shutdown(wait=True)
        self._wake_r.close()
        self._wake_w.close()

    def _accept_loop(self) -> None:
        with selectors.DefaultSelector() as sel:
            sel.register(self._wake_r, selectors.EVENT_READ)
            for sock in self._listeners:
                sel.register(sock, selectors.EVENT_READ)
            while not self._stop.is_set():
                for key, _ in sel.select():
                    if self._stop.is_set() or key.fileobj is self._wake_r:
                        return
                    self._accept(key.fileobj)  # type: ignore[arg-type]

    def _accept(self, listener: socket.socket) -> None:
        try:
            sock, _ = listener.accept()
        except OSError:  # BlockingIOError, or a client that gave up already
            return
        sock.setblocking(True)
        # Bounded: wait for a free worker, and keep noticing stop.
        while not self._slots.acquire(timeout=0.05):
            if self._stop.is_set():
                sock.close()
                return
        conn = _Conn(sock)
        with self._lock:
            self._live.add(conn)
        self._pool.submit(self._run, self._listeners[listener], conn)

    def _run(self, handler: Handler, conn: _Conn) -> None:
        try:
            if not self._stop.is_set():
                handler(conn)
        finally:
            with self._lock:
                self._live.discard(conn)
            try:
                conn.sock.close()
            finally:
                self._slots.release()
