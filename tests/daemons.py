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

from servers import foreign_client_env

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
    # Not our code to sanitize: no ASan runtime preloaded into a daemon
    # (.ci/hardening.sh preloads it for this process and its children).
    with open(log, "ab") as out:
        proc = subprocess.Popen(list(cmd), stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, env=env or foreign_client_env(),
                                start_new_session=True)
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
        # The daemon's children (Exim's per-connection processes) outlive
        # it briefly and write their logs as they go: wait for the whole
        # process group, bounded, before the directory is removed.
        deadline = time.monotonic() + 5.0
        while True:
            try:
                os.killpg(proc.pid, 0)
            except (ProcessLookupError, PermissionError):
                break
            if time.monotonic() > deadline:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                break
            time.sleep(0.05)


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
smtp_accept_max = 0
smtp_connect_backlog = 256
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
                         capture_output=True, text=True, timeout=120, env=foreign_client_env())
    if out.returncode != 0:
        shutil.rmtree(base, ignore_errors=True)
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
        subprocess.run(["cp", "-a", template, data], check=True, timeout=60, env=foreign_client_env())
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


# ---- IMAP and POP3: Dovecot -------------------------------------------------------

@contextlib.contextmanager
def dovecot_server(chain: str, key: str, *, tls: bool = True,
                   ready_timeout: float = READY_TIMEOUT) -> Iterator[Tuple[Address, Address]]:
    """Dovecot 2.3 serving IMAP and POP3 (ssl = yes, or no); yields
    ((host, imap_port), (host, pop3_port))."""
    exe = _need("/usr/sbin/dovecot", "dovecot-imapd dovecot-pop3d")
    if not os.path.exists("/usr/lib/dovecot/imap-login") or \
            not os.path.exists("/usr/lib/dovecot/pop3-login"):
        pytest.skip("dovecot's IMAP or POP3 service is not installed "
                    "(apt-get install dovecot-imapd dovecot-pop3d)")
    _need_root("dovecot")
    with _tempdir() as d:
        imap, pop3 = free_port(), free_port()
        _write(os.path.join(d, "cert.pem"), chain)
        _write(os.path.join(d, "key.pem"), key, 0o600)
        ssl_conf = (f"ssl = yes\nssl_cert = <{d}/cert.pem\nssl_key = <{d}/key.pem\n"
                    if tls else "ssl = no\n")
        conf = _write(os.path.join(d, "dovecot.conf"), f"""\
base_dir = {d}/run
state_dir = {d}/state
instance_name = pytlscheck-{imap}
log_path = {d}/dovecot.log
protocols = imap pop3
listen = {HOST}
{ssl_conf}default_internal_user = dovecot
default_login_user = dovenull
mail_location = maildir:{d}/mail/%u
passdb {{
  driver = static
  args = password=unused
}}
userdb {{
  driver = static
  args = uid=dovenull gid=dovenull home={d}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = {HOST}
    port = {imap}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    address = {HOST}
    port = {pop3}
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
service stats {{
  inet_listener http {{
    port = 0
  }}
}}
""")
        with _run([exe, "-F", "-c", conf], [imap, pop3], os.path.join(d, "dovecot.out"),
                  what="dovecot", ready_timeout=ready_timeout):
            yield (HOST, imap), (HOST, pop3)


# ---- LDAP: slapd ---------------------------------------------------------------

@contextlib.contextmanager
def slapd_server(chain: str, key: str, *, tls: bool = True,
                 ready_timeout: float = READY_TIMEOUT) -> Iterator[Address]:
    """OpenLDAP's slapd with a certificate for StartTLS (or none: it then
    answers the extended operation with protocolError)."""
    exe = _need("/usr/sbin/slapd", "slapd")
    _need_root("slapd")
    with _tempdir("openldap") as d:
        os.makedirs(os.path.join(d, "db"))
        shutil.chown(os.path.join(d, "db"), "openldap", "openldap")
        _write(os.path.join(d, "cert.pem"), chain, 0o644, "openldap")
        _write(os.path.join(d, "key.pem"), key, 0o600, "openldap")
        port = free_port()
        tls_conf = (f"TLSCertificateFile {d}/cert.pem\nTLSCertificateKeyFile {d}/key.pem\n"
                    if tls else "")
        conf = _write(os.path.join(d, "slapd.conf"), f"""\
include /etc/ldap/schema/core.schema
pidfile {d}/slapd.pid
modulepath /usr/lib/ldap
moduleload back_mdb
{tls_conf}database mdb
maxsize 10485760
suffix "dc=test"
directory {d}/db
""", 0o644, "openldap")
        # -d 0: stay in the foreground.
        with _run([exe, "-f", conf, "-h", f"ldap://{HOST}:{port}/", "-u", "openldap",
                   "-g", "openldap", "-d", "0"], [port], os.path.join(d, "slapd.out"),
                  what="slapd", ready_timeout=ready_timeout):
            yield HOST, port


# ---- FTP: vsftpd ---------------------------------------------------------------

@contextlib.contextmanager
def vsftpd_server(chain: str, key: str, *, tls: bool = True,
                  ready_timeout: float = READY_TIMEOUT) -> Iterator[Address]:
    """vsftpd with explicit TLS (AUTH TLS; ssl_enable=YES), anonymous and
    read-only, or without TLS (tls=False)."""
    exe = _need("/usr/sbin/vsftpd", "vsftpd")
    _need_root("vsftpd")
    with _tempdir() as d:
        os.makedirs(os.path.join(d, "empty"))
        os.chmod(os.path.join(d, "empty"), 0o555)
        _write(os.path.join(d, "cert.pem"), chain)
        _write(os.path.join(d, "key.pem"), key, 0o600)
        port = free_port()
        conf = _write(os.path.join(d, "vsftpd.conf"), f"""\
listen=YES
listen_ipv6=NO
listen_address={HOST}
listen_port={port}
background=NO
anonymous_enable=YES
anon_root={d}/empty
no_anon_password=YES
local_enable=NO
write_enable=NO
ssl_enable={'YES' if tls else 'NO'}
ssl_request_cert=NO
rsa_cert_file={d}/cert.pem
rsa_private_key_file={d}/key.pem
secure_chroot_dir={d}/empty
seccomp_sandbox=NO
vsftpd_log_file={d}/vsftpd.log
""", 0o600)
        with _run([exe, conf], [port], os.path.join(d, "vsftpd.out"), what="vsftpd",
                  ready_timeout=ready_timeout):
            yield HOST, port


# ---- MySQL: MariaDB ---------------------------------------------------------------

_MARIADB_TEMPLATE: List[str] = []


def _mariadb_template() -> str:
    if _MARIADB_TEMPLATE and os.path.isdir(_MARIADB_TEMPLATE[0]):
        return _MARIADB_TEMPLATE[0]
    install = _need("mariadb-install-db", "mariadb-server")
    base = tempfile.mkdtemp(prefix="pytlscheck-mariadbtemplate-")
    shutil.chown(base, "mysql")
    data = os.path.join(base, "data")
    out = subprocess.run([install, "--no-defaults", f"--datadir={data}", "--user=mysql",
                          "--auth-root-authentication-method=normal", "--skip-test-db"],
                         capture_output=True, text=True, timeout=120, env=foreign_client_env())
    if out.returncode != 0:
        shutil.rmtree(base, ignore_errors=True)
        raise RuntimeError("mariadb-install-db failed:\n" + out.stdout + out.stderr)
    import atexit
    atexit.register(shutil.rmtree, base, True)
    _MARIADB_TEMPLATE[:] = [data]
    return data


@contextlib.contextmanager
def mariadb_server(chain: str, key: str, *, tls: bool = True,
                   ready_timeout: float = READY_TIMEOUT) -> Iterator[Address]:
    """MariaDB with ssl-cert / ssl-key (or --skip-ssl), from a copy of a
    data directory made once by mariadb-install-db."""
    exe = _need("/usr/sbin/mariadbd", "mariadb-server")
    _need_root("mariadbd")
    template = _mariadb_template()
    with _tempdir("mysql") as d:
        data = os.path.join(d, "data")
        subprocess.run(["cp", "-a", template, data], check=True, timeout=60, env=foreign_client_env())
        _write(os.path.join(d, "cert.pem"), chain, 0o644, "mysql")
        _write(os.path.join(d, "key.pem"), key, 0o600, "mysql")
        port = free_port()
        ssl = [f"--ssl-cert={d}/cert.pem", f"--ssl-key={d}/key.pem"] if tls else ["--skip-ssl"]
        cmd = [exe, "--no-defaults", f"--datadir={data}", "--user=mysql", f"--port={port}",
               f"--bind-address={HOST}", f"--socket={d}/mysql.sock", f"--pid-file={d}/mysql.pid",
               "--skip-grant-tables", "--skip-name-resolve", *ssl]
        with _run(cmd, [port], os.path.join(d, "mariadb.log"), what="mariadbd",
                  ready_timeout=ready_timeout):
            yield HOST, port


# ---- XMPP: Prosody ---------------------------------------------------------------

@contextlib.contextmanager
def prosody_server(chain: str, key: str, *, tls: bool = True, domain: str = "localhost",
                   ready_timeout: float = READY_TIMEOUT) -> Iterator[Address]:
    """Prosody 0.12 serving client streams for `domain` with STARTTLS
    (required), or without mod_tls (tls=False: no STARTTLS offered; with
    mod_tls and no certificate Prosody offers STARTTLS and fails the
    handshake).
    Check it with server_name=domain: XMPP names the domain in its stream."""
    exe = _need("prosody", "prosody")
    _need_root("prosody")
    with _tempdir("prosody") as d:
        os.makedirs(os.path.join(d, "data"))
        shutil.chown(os.path.join(d, "data"), "prosody", "prosody")
        _write(os.path.join(d, "cert.pem"), chain, 0o644, "prosody")
        _write(os.path.join(d, "key.pem"), key, 0o600, "prosody")
        port = free_port()
        ssl = (f'    ssl = {{ certificate = "{d}/cert.pem"; key = "{d}/key.pem" }}\n'
               if tls else "")
        conf = _write(os.path.join(d, "prosody.cfg.lua"), f"""\
pidfile = "{d}/prosody.pid"
daemonize = false
data_path = "{d}/data"
certificates = "{d}/no-certs"
interfaces = {{ "{HOST}" }}
c2s_ports = {{ {port} }}
s2s_ports = {{ }}
legacy_ssl_ports = {{ }}
c2s_direct_tls_ports = {{ }}
http_ports = {{ }}
https_ports = {{ }}
modules_enabled = {{ {'"tls"; ' if tls else ''}"saslauth"; "disco"; "ping" }}
modules_disabled = {{ "s2s"; "offline"; "c2s_csi" }}
log = {{ info = "{d}/prosody.log" }}
c2s_require_encryption = {'true' if tls else 'false'}
allow_unencrypted_plain_auth = {'false' if tls else 'true'}
VirtualHost "{domain}"
{ssl}""", 0o644, "prosody")
        with _run(["runuser", "-u", "prosody", "--", exe, "--config", conf, "-F"], [port],
                  os.path.join(d, "prosody.out"), what="prosody", ready_timeout=ready_timeout):
            yield HOST, port
