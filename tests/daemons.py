"""Real STARTTLS servers from Debian packages, on loopback, for the tests.

Each function is a context manager that writes a configuration into a
temporary directory, starts the daemon in the foreground on a free
127.0.0.1 port, waits (bounded by ``ready_timeout``) until it answers, and
yields ``(host, port)`` (Dovecot yields both its IMAP and POP3 ports); the
daemon is stopped and its directory removed when the block ends, even when
the test fails.  ``tls=False`` starts it with TLS turned off (so it does
not offer STARTTLS).  Certificates are PEM text minted by the test
(tests/pki.py): ``chain`` (leaf first) and ``key``.

When the daemon's package is not installed, the function calls
``pytest.skip`` naming the package (CI installs them all: .ci/run).

    with exim_server(chain_pem, key_pem) as (host, port):
        report = pytlscheck.check(f"smtp://{host}:{port}", trust=root_pem)
"""
from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from typing import Callable, Iterator, List, Optional, Sequence, Tuple

import pytest

Address = Tuple[str, int]
HOST = "127.0.0.1"
READY_TIMEOUT = 30.0

PG_BIN = "/usr/lib/postgresql"


def _need(path_or_cmd: str, package: str) -> str:
    exe = path_or_cmd if os.path.isabs(path_or_cmd) else shutil.which(path_or_cmd)
    if not exe or not os.path.exists(exe):
        pytest.skip(f"{path_or_cmd} is not installed (apt-get install {package})")
    return exe


def _need_root(what: str) -> None:
    if os.geteuid() != 0:
        pytest.skip(f"starting {what} from a temporary configuration needs root "
                    "(it switches to its own system user)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _answers(port: int) -> bool:
    """True when something accepts on the port and sends a first byte or
    stays open (so a daemon that is up but greets slowly counts)."""
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


def _tail(path: str, n: int = 30) -> str:
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return "(no log)"


@contextlib.contextmanager
def _run(cmd: Sequence[str], ports: Sequence[int], log: str, *, what: str,
         ready_timeout: float = READY_TIMEOUT, env: Optional[dict] = None,
         stop: Optional[Callable[[], None]] = None,
         stop_signal: int = signal.SIGTERM) -> Iterator[subprocess.Popen]:
    """Runs cmd (a foreground daemon, in its own process group) until every
    port answers; stops it (stop(), then stop_signal to its group, then
    SIGKILL) when the block ends."""
    with open(log, "ab") as out:
        proc = subprocess.Popen(list(cmd), stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + ready_timeout
        while not all(_answers(p) for p in ports):
            if proc.poll() is not None and stop is None:
                raise RuntimeError(f"{what} exited with {proc.returncode} before it listened:\n"
                                   + _tail(log))
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not listen on {ports} within {ready_timeout} s:\n"
                                   + _tail(log))
            time.sleep(0.05)
        yield proc
    finally:
        if stop is not None:
            with contextlib.suppress(Exception):
                stop()
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, stop_signal)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)


def _write(path: str, text: str, mode: int = 0o644, owner: Optional[str] = None) -> str:
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    if owner is not None:
        pw = pwd.getpwnam(owner)
        os.chown(path, pw.pw_uid, pw.pw_gid)
    return path


@contextlib.contextmanager
def _tempdir(owner: Optional[str] = None) -> Iterator[str]:
    d = tempfile.mkdtemp(prefix="pytlscheck-daemon-")
    os.chmod(d, 0o755)
    if owner is not None:
        pw = pwd.getpwnam(owner)
        os.chown(d, pw.pw_uid, pw.pw_gid)
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def _pg_bin() -> str:
    versions = sorted((v for v in os.listdir(PG_BIN) if v.isdigit()), key=int) \
        if os.path.isdir(PG_BIN) else []
    if not versions:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    return os.path.join(PG_BIN, versions[-1], "bin")


# ---- SMTP: Exim --------------------------------------------------------------

@contextlib.contextmanager
def exim_server(chain: str, key: str, *, tls: bool = True,
                ready_timeout: float = READY_TIMEOUT) -> Iterator[Address]:
    """Exim 4 (Debian's exim4-daemon-light) as an SMTP server offering
    STARTTLS (tls_advertise_hosts = *), or not (tls=False)."""
    exe = _need("exim4", "exim4-daemon-light")
    _need_root("exim4")
    with _tempdir() as d:
        port = free_port()
        for sub in ("spool", "log"):
            os.makedirs(os.path.join(d, sub))
            shutil.chown(os.path.join(d, sub), "Debian-exim", "Debian-exim")
        _write(os.path.join(d, "cert.pem"), chain)
        _write(os.path.join(d, "key.pem"), key, 0o640, "Debian-exim")
        conf = _write(os.path.join(d, "exim.conf"), f"""\
primary_hostname = mail.test
daemon_smtp_ports = {port}
local_interfaces = {HOST}
tls_advertise_hosts = {'*' if tls else ''}
tls_certificate = {d}/cert.pem
tls_privatekey = {d}/key.pem
spool_directory = {d}/spool
log_file_path = {d}/log/%slog
pid_file_path = {d}/exim.pid
exim_user = Debian-exim
exim_group = Debian-exim
host_lookup =
rfc1413_hosts =
keep_environment =
""")
        # -bdf: the daemon in the foreground; -oX: the port.
        with _run([exe, "-C", conf, "-bdf", "-oX", str(port), "-oP", f"{d}/exim.pid"],
                  [port], os.path.join(d, "exim.out"), what="exim4",
                  ready_timeout=ready_timeout):
            yield HOST, port


# ---- PostgreSQL ------------------------------------------------------------------

_PG_TEMPLATE: List[str] = []


def _pg_template(bindir: str) -> str:
    """An initdb'd cluster, made once per test session and copied per
    server (initdb takes seconds)."""
    if _PG_TEMPLATE and os.path.isdir(_PG_TEMPLATE[0]):
        return _PG_TEMPLATE[0]
    base = tempfile.mkdtemp(prefix="pytlscheck-pgtemplate-")
    shutil.chown(base, "postgres")
    data = os.path.join(base, "data")
    out = subprocess.run(["runuser", "-u", "postgres", "--", os.path.join(bindir, "initdb"),
                          "-D", data, "-A", "trust", "-U", "postgres", "--no-sync"],
                         capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise RuntimeError("initdb failed:\n" + out.stdout + out.stderr)
    import atexit
    atexit.register(shutil.rmtree, base, True)
    _PG_TEMPLATE[:] = [data]
    return data


@contextlib.contextmanager
def postgres_server(chain: str, key: str, *, tls: bool = True,
                    ready_timeout: float = READY_TIMEOUT) -> Iterator[Address]:
    """PostgreSQL with ssl = on (or off), run as the postgres user from a
    copy of a cluster made once by initdb."""
    bindir = _pg_bin()
    _need_root("PostgreSQL")
    template = _pg_template(bindir)
    with _tempdir("postgres") as d:
        data = os.path.join(d, "data")
        subprocess.run(["cp", "-a", template, data], check=True, timeout=60)
        _write(os.path.join(data, "server.crt"), chain, 0o644, "postgres")
        _write(os.path.join(data, "server.key"), key, 0o600, "postgres")
        port = free_port()
        opts = (f"-c port={port} -c listen_addresses={HOST} -c unix_socket_directories={d} "
                f"-c ssl={'on' if tls else 'off'} -c ssl_cert_file=server.crt "
                "-c ssl_key_file=server.key -c fsync=off")
        cmd = ["runuser", "-u", "postgres", "--", os.path.join(bindir, "postgres"), "-D", data,
               *opts.split()]
        # SIGINT: PostgreSQL's fast shutdown.
        with _run(cmd, [port], os.path.join(d, "postgres.log"), what="postgres",
                  ready_timeout=ready_timeout, stop_signal=signal.SIGINT):
            yield HOST, port
