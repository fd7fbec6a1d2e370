"""Loopback test servers for live checks, as context managers.

Every server binds 127.0.0.1 (or ::1) on a port the kernel picks, runs in
threads (or, for ``openssl_server``, a child process), and is stopped and
closed when its ``with`` block ends, even when the test fails.  Each yields
``(host, port)``.  Loops are bounded (accept polls every 50 ms and checks a
stop flag; connections have socket timeouts), so a stuck client can never
hang the test session.

    from servers import tls_server, raw_server, openssl_server

    with tls_server(chain_pem, key_pem) as (host, port):           # Python ssl
        report = pytlscheck.check(f"{host}:{port}", trust=root_pem)
    with raw_server("http") as (host, port):                       # plain HTTP
        ...
    with openssl_server("-tls1", "-cipher", "DEFAULT@SECLEVEL=0",
                        cert=chain_pem, key=key_pem) as (host, port):  # TLS 1.0 only
        ...

Certificates and keys are given as PEM text or as paths to PEM files.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import ssl
import struct
import subprocess
import tempfile
import threading
import time
from typing import Callable, Iterator, List, Optional, Sequence, Tuple, Union

__all__ = [
    "tls_server", "raw_server", "openssl_server", "closed_port", "blackhole_port",
    "ipv6_available", "have_openssl_cli", "RAW_MODES", "foreign_client_env",
]

Address = Tuple[str, int]
PemInput = Union[str, bytes, os.PathLike]

ACCEPT_POLL = 0.05        # seconds between checks of the stop flag
CONN_TIMEOUT = 10.0       # no single connection lives longer than this
MAX_HANDLERS = 128        # connections served at once; more wait in the backlog


def ipv6_available() -> bool:
    """True when a socket can listen on ::1."""
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def have_openssl_cli() -> bool:
    return shutil.which("openssl") is not None


def foreign_client_env() -> dict:
    """The environment for a third-party client (curl, ...) that a test runs
    to compare verdicts: this process's, without the sanitizer runtime that
    .ci/hardening.sh preloads (curl under a preloaded ASan never returns, even
    from a refused connection; it is not our code to sanitize)."""
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    return env


def _listen(host: str, backlog: int = 64) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, 0))
        s.listen(backlog)
        s.settimeout(ACCEPT_POLL)
    except OSError:
        s.close()
        raise
    return s


class _Acceptor:
    """Accepts connections on `sock` and runs `handler(conn)` for each in a
    thread of its own (at most MAX_HANDLERS at once).  close() stops
    accepting, closes every connection still open, and joins every thread."""

    def __init__(self, sock: socket.socket, handler: Callable[[socket.socket], None]):
        self.sock = sock
        self.handler = handler
        self.stop = threading.Event()
        self.slots = threading.BoundedSemaphore(MAX_HANDLERS)
        self.lock = threading.Lock()
        self.conns: List[socket.socket] = []
        self.threads: List[threading.Thread] = []
        self.accepted = 0
        self.thread = threading.Thread(target=self._run, name="test-acceptor", daemon=True)
        self.thread.start()

    @property
    def address(self) -> Address:
        host, port = self.sock.getsockname()[:2]
        return host, port

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (socket.timeout, BlockingIOError):
                continue
            except OSError:
                break
            conn.settimeout(CONN_TIMEOUT)
            while not self.slots.acquire(timeout=ACCEPT_POLL):
                if self.stop.is_set():
                    conn.close()
                    return
            with self.lock:
                self.accepted += 1
                self.conns.append(conn)
                self.threads = [t for t in self.threads if t.is_alive()]
                t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
                self.threads.append(t)
            t.start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            self.handler(conn)
        except (OSError, ssl.SSLError, ValueError):
            pass          # the client went away, or the test is stopping
        finally:
            with self.lock:
                if conn in self.conns:
                    self.conns.remove(conn)
            try:
                conn.close()
            except OSError:
                pass
            self.slots.release()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        with self.lock:
            for c in self.conns:
                with contextlib.suppress(OSError):
                    c.shutdown(socket.SHUT_RDWR)
            threads = list(self.threads)
        for t in threads:
            t.join(5)
        self.sock.close()


def _pem_file(stack: contextlib.ExitStack, data: PemInput, name: str) -> str:
    """A path for `data`: itself when it is a path, else a temporary file."""
    if isinstance(data, os.PathLike) or (isinstance(data, str) and "-----BEGIN" not in data):
        return os.fspath(data)
    if isinstance(data, bytes):
        data = data.decode("ascii")
    d = stack.enter_context(tempfile.TemporaryDirectory(prefix="pytlscheck-srv-"))
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write(data)
    return path


def _pem_text(data: PemInput) -> str:
    if isinstance(data, bytes):
        return data.decode("ascii")
    if isinstance(data, str) and "-----BEGIN" in data:
        return data
    with open(os.fspath(data)) as f:
        return f.read()


_VERSIONS = {
    "TLSv1": ssl.TLSVersion.TLSv1, "TLSv1.1": ssl.TLSVersion.TLSv1_1,
    "TLSv1.2": ssl.TLSVersion.TLSv1_2, "TLSv1.3": ssl.TLSVersion.TLSv1_3,
}


# ---------------------------------------------------------------------------
# A Python ssl TLS server


@contextlib.contextmanager
def tls_server(chain_pem: PemInput, key_pem: PemInput, *, host: str = "127.0.0.1",
               min_version: Union[str, ssl.TLSVersion, None] = None,
               max_version: Union[str, ssl.TLSVersion, None] = None,
               ciphers: Optional[str] = None,
               require_client_cert: bool = False,
               request_client_cert: bool = False,
               client_ca: Optional[PemInput] = None,
               alpn: Optional[Sequence[str]] = ("h2", "http/1.1"),
               sni_callback: Optional[Callable] = None,
               hold: float = 0.0) -> Iterator[Address]:
    """A TLS server (Python's ssl module) serving `chain_pem` (leaf first,
    then intermediates) with `key_pem`.

    min_version / max_version: "TLSv1.2", "TLSv1.3", ... or ssl.TLSVersion.
    ciphers: an OpenSSL cipher string for TLS <= 1.2.  require_client_cert:
    refuse clients without a certificate issued by `client_ca` (PEM);
    request_client_cert: ask for one but accept clients without.  alpn:
    protocols to select from (None: no ALPN).  sni_callback: as
    ssl.SSLContext.sni_callback; returning an ssl.ALERT_DESCRIPTION_* number
    refuses the handshake with that alert.  hold: seconds each
    connection is kept open after the handshake (the server waits for the
    client to close first, up to CONN_TIMEOUT, in any case).
    """
    with contextlib.ExitStack() as stack:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(_pem_file(stack, chain_pem, "chain.pem"),
                            _pem_file(stack, key_pem, "key.pem"))
        if min_version is not None:
            ctx.minimum_version = _VERSIONS.get(min_version, min_version)  # type: ignore[arg-type]
        if max_version is not None:
            ctx.maximum_version = _VERSIONS.get(max_version, max_version)  # type: ignore[arg-type]
        if ciphers is not None:
            ctx.set_ciphers(ciphers)
        if require_client_cert or request_client_cert:
            ctx.verify_mode = ssl.CERT_REQUIRED if require_client_cert else ssl.CERT_OPTIONAL
            if client_ca is None:
                raise ValueError("client_ca is needed to ask for client certificates")
            ctx.load_verify_locations(cadata=_pem_text(client_ca))
        if alpn:
            ctx.set_alpn_protocols(list(alpn))
        if sni_callback is not None:
            ctx.sni_callback = sni_callback

        def handle(conn: socket.socket) -> None:
            with ctx.wrap_socket(conn, server_side=True) as tls:
                if hold:
                    time.sleep(hold)
                # The checker sends no data: wait for it to close.
                with contextlib.suppress(OSError, ssl.SSLError):
                    tls.recv(1)

        acc = _Acceptor(_listen(host), handle)
        stack.callback(acc.close)
        yield acc.address


# ---------------------------------------------------------------------------
# Raw socket servers: peers that are not TLS, or not well-behaved


def _read_some(conn: socket.socket, timeout: float = 2.0) -> bytes:
    conn.settimeout(timeout)
    try:
        return conn.recv(4096)
    except (socket.timeout, OSError):
        return b""


def _http(conn: socket.socket) -> None:
    _read_some(conn)
    conn.sendall(b"HTTP/1.1 400 Bad Request\r\nServer: nginx/1.22.1\r\n"
                 b"Content-Type: text/html\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")


def _ssh(conn: socket.socket) -> None:
    conn.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n")
    _read_some(conn)
    with contextlib.suppress(OSError):
        conn.sendall(b"Invalid SSH identification string.\r\n")


def _smtp(conn: socket.socket) -> None:
    conn.sendall(b"220 mail.example.test ESMTP Postfix (Debian/GNU)\r\n")
    _read_some(conn)
    with contextlib.suppress(OSError):
        conn.sendall(b"500 5.5.2 Error: bad syntax\r\n")


def _silent(conn: socket.socket) -> None:
    # Accept and say nothing until the client gives up (or the server stops).
    conn.settimeout(CONN_TIMEOUT)
    with contextlib.suppress(OSError):
        while conn.recv(4096):
            pass


def _reset(conn: socket.socket) -> None:
    _read_some(conn)
    # SO_LINGER with a zero timeout: close() sends a RST, not a FIN.
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def _close_after_hello(conn: socket.socket) -> None:
    _read_some(conn)          # the ClientHello, then a plain close


def _garbage(conn: socket.socket) -> None:
    _read_some(conn)
    conn.sendall(bytes(range(0, 64)))


RAW_MODES = {
    "http": _http,                         # answers with an HTTP/1.1 400 response
    "ssh": _ssh,                           # an SSH identification banner first
    "smtp": _smtp,                         # an SMTP 220 greeting first
    "silent": _silent,                     # accepts and never says anything
    "reset": _reset,                       # reads the ClientHello, then RST
    "close_after_hello": _close_after_hello,  # reads the ClientHello, then FIN
    "garbage": _garbage,                   # binary bytes that are no protocol
}


@contextlib.contextmanager
def raw_server(mode: Union[str, Callable[[socket.socket], None]], *,
               host: str = "127.0.0.1") -> Iterator[Address]:
    """A plain TCP server behaving as `mode` (a RAW_MODES name, or a
    function given each accepted connection)."""
    handler = RAW_MODES[mode] if isinstance(mode, str) else mode
    acc = _Acceptor(_listen(host), handler)
    try:
        yield acc.address
    finally:
        acc.close()


@contextlib.contextmanager
def closed_port(host: str = "127.0.0.1") -> Iterator[Address]:
    """A port with nothing listening on it (bound once, then closed)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        port = s.getsockname()[1]
    yield host, port


@contextlib.contextmanager
def blackhole_port(host: str = "127.0.0.1") -> Iterator[Address]:
    """A port where TCP connection attempts get no answer, on loopback and
    without a firewall: a listener with backlog 0 whose single queue slot
    is taken by a connection nobody accepts.  The kernel then drops every
    further SYN, so a connect() waits until its own deadline."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    lsock = socket.socket(family, socket.SOCK_STREAM)
    filler = socket.socket(family, socket.SOCK_STREAM)
    try:
        lsock.bind((host, 0))
        lsock.listen(0)
        addr = lsock.getsockname()[:2]
        filler.settimeout(2)
        filler.connect(addr)
        yield addr[0], addr[1]
    finally:
        filler.close()
        lsock.close()


# ---------------------------------------------------------------------------
# openssl s_server: the configurations Python's ssl module will not serve


@contextlib.contextmanager
def openssl_server(*args: str, cert: PemInput, key: PemInput, host: str = "127.0.0.1",
                   client_ca: Optional[PemInput] = None,
                   ready_timeout: float = 10.0) -> Iterator[Address]:
    """`openssl s_server -accept HOST:0 -cert CERT -key KEY ARGS...` as a
    child process, e.g. TLS 1.0 only ("-tls1", "-cipher",
    "DEFAULT@SECLEVEL=0"), a cipher no modern client offers ("-tls1_2",
    "-cipher", "ECDHE-ECDSA-NULL-SHA:@SECLEVEL=0"), or a required client
    certificate ("-Verify", "1" with client_ca, the CA PEM given to
    -CAfile, whose name s_server also sends in its CertificateRequest).
    The port is the one
    s_server reports on its "ACCEPT host:port" line, so there is no race
    for a free port.  The child is killed when the block ends."""
    exe = shutil.which("openssl")
    if exe is None:
        raise RuntimeError("the openssl command line tool is not installed")
    with contextlib.ExitStack() as stack:
        accept = f"[{host}]:0" if ":" in host else f"{host}:0"
        # s_server sends only the first certificate of -cert: the rest of
        # the chain goes to -cert_chain.
        end = "-----END CERTIFICATE-----"
        blocks = [b + end + "\n" for b in _pem_text(cert).split(end) if "-----BEGIN" in b]
        cmd = [exe, "s_server", "-accept", accept,
               "-cert", _pem_file(stack, blocks[0] if blocks else cert, "cert.pem"),
               "-key", _pem_file(stack, key, "key.pem"), *args]
        if len(blocks) > 1:
            cmd += ["-cert_chain", _pem_file(stack, "".join(blocks[1:]), "chain.pem")]
        if client_ca is not None:
            cmd += ["-CAfile", _pem_file(stack, client_ca, "client-ca.pem")]
        # stdin stays open (a pipe we never write): s_server must not see EOF.
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, bufsize=1)

        def stop() -> None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
            for f in (proc.stdin, proc.stdout):
                with contextlib.suppress(OSError):
                    f.close()  # type: ignore[union-attr]

        ready = threading.Event()
        found: List[int] = []
        output: List[str] = []

        def reader() -> None:
            # Keeps draining stdout so s_server never blocks on a full pipe.
            assert proc.stdout is not None
            with contextlib.suppress(ValueError, OSError):
                for line in proc.stdout:
                    if not ready.is_set():
                        output.append(line)
                        if line.startswith("ACCEPT"):
                            found.append(int(line.rsplit(":", 1)[1]))
                            ready.set()

        t = threading.Thread(target=reader, daemon=True)
        t.start()

        def stop_and_join() -> None:
            stop()
            t.join(5)

        stack.callback(stop_and_join)
        if not ready.wait(ready_timeout):
            raise RuntimeError("openssl s_server did not start: " + "".join(output[-20:]))
        yield host, found[0]
