"""Benchmark server side: nginx, its certificate chain, and the simulated network.

Used by bench/run.py; also runnable by hand to get a server to poke at:

    python bench/server.py [--rtt-ms 80]     # runs until Ctrl-C

What it sets up (all of it torn down on exit):

* A certificate chain minted with the openssl CLI in a private temp dir:
  ECDSA P-256 root -> ECDSA P-256 intermediate -> ECDSA P-256 leaf for
  ``bench.test`` (plus IP SANs), valid 365 days. nginx serves leaf +
  intermediate; clients trust only the root.
* nginx from Debian (installed with apt-get if missing), one worker pinned to
  core 1, full handshakes only (``ssl_session_cache off``,
  ``ssl_session_tickets off``), TLS 1.2 and 1.3, 4096 worker connections.
* When this process may create network namespaces (root on Linux), two of its
  own: ``tcbench-srv-PID`` (nginx; loopback clients run here against
  127.0.0.1) and ``tcbench-cli-PID`` (clients that see the simulated RTT).
  Each holds one TUN device; ``bench/build/tundelay`` moves IP packets between
  the two devices and holds each one for RTT/2, so the client namespace reaches
  the server at 198.18.0.2 (RFC 2544's benchmarking range) with the given RTT
  on every packet, TCP handshake included. Without namespaces, nginx runs on
  127.0.0.1 in the current namespace and the RTT scenarios are unavailable.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
BUILD = BENCH / "build"
SNI = "bench.test"
PORT = 8443
CLIENT_ADDR = "198.18.0.1"  # client end of the simulated link
SERVER_ADDR = "198.18.0.2"  # server end of the simulated link
CLIENT_CORE = 0
SERVER_CORE = 1

C_FLAGS = [
    "-std=c11", "-O2", "-Wall", "-Wextra", "-Wshadow", "-Wmissing-prototypes",
    "-Wcast-qual", "-Wformat=2", "-DOPENSSL_API_COMPAT=30000", "-DOPENSSL_NO_DEPRECATED",
]


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def pinning_available() -> bool:
    return shutil.which("taskset") is not None and len(os.sched_getaffinity(0)) >= 2


def pin(core: int) -> list[str]:
    """Command prefix that runs a program on one core, when there are two."""
    return ["taskset", "-c", str(core)] if pinning_available() else []


def _set_pdeathsig() -> None:
    # A child that outlives a killed run.py would keep a port or a namespace
    # busy: have the kernel send it SIGTERM when this process dies.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, **kw)


# --------------------------------------------------------------------------
# Builds and installs


def build_c() -> dict[str, Path]:
    """Compiles bench/cref.c and bench/tundelay.c into bench/build (if stale)."""
    BUILD.mkdir(exist_ok=True)
    ssl_flags = subprocess.run(
        ["pkg-config", "--cflags", "--libs", "openssl"], check=True, capture_output=True, text=True
    ).stdout.split()
    out = {}
    for name in ("cref", "tundelay"):
        src, exe = BENCH / f"{name}.c", BUILD / name
        if not exe.exists() or exe.stat().st_mtime < src.stat().st_mtime:
            log(f"building {exe.relative_to(BENCH.parent)}")
            run(["gcc", *C_FLAGS, "-o", str(exe), str(src), *ssl_flags])
        out[name] = exe
    return out


def nginx_path() -> str | None:
    return shutil.which("nginx") or (
        "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None
    )


def ensure_nginx() -> str:
    """Returns the nginx binary, installing Debian's nginx if it is missing.

    Debian's package would start a system nginx on port 80 from its postinst;
    a policy-rc.d that refuses is put in place for the install when none exists
    (and removed afterwards), so only the benchmark's private nginx ever runs.
    """
    path = nginx_path()
    if path:
        return path
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise SystemExit("nginx is missing; install it (Debian: apt-get install nginx-light)")
    policy = Path("/usr/sbin/policy-rc.d")
    made_policy = False
    if not policy.exists():
        policy.write_text("#!/bin/sh\n# bench/server.py: no service starts during install\nexit 101\n")
        policy.chmod(0o755)
        made_policy = True
    try:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        log("installing nginx from Debian (apt-get)")
        run(["apt-get", "update", "-qq"], env=env)
        # nginx-light is the small build in older releases; bookworm folds it
        # into plain nginx, so try both.
        if subprocess.run(["apt-get", "install", "-y", "-qq", "nginx-light"], env=env).returncode:
            run(["apt-get", "install", "-y", "-qq", "nginx"], env=env)
    finally:
        if made_policy:
            policy.unlink()
    path = nginx_path()
    if not path:
        raise SystemExit("apt-get finished but no nginx binary was found")
    return path


# --------------------------------------------------------------------------
# Certificates


@dataclass
class Pki:
    root: Path        # trust anchor for the clients
    chain: Path       # leaf + intermediate, served by nginx
    key: Path         # leaf key


def mint_pki(d: Path) -> Pki:
    """ECDSA P-256 root -> intermediate -> leaf for bench.test, with openssl."""
    d.mkdir(parents=True, exist_ok=True)

    def ssl(*args: str) -> None:
        run(["openssl", *args], cwd=d, capture_output=True)

    for name in ("root", "int", "leaf"):
        ssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-out", f"{name}.key")
    (d / "ext.cnf").write_text(
        "[int]\n"
        "basicConstraints = critical, CA:TRUE, pathlen:0\n"
        "keyUsage = critical, keyCertSign, cRLSign\n"
        "subjectKeyIdentifier = hash\n"
        "authorityKeyIdentifier = keyid\n"
        "[leaf]\n"
        "basicConstraints = critical, CA:FALSE\n"
        "keyUsage = critical, digitalSignature\n"
        "extendedKeyUsage = serverAuth\n"
        f"subjectAltName = DNS:{SNI}, IP:127.0.0.1, IP:{SERVER_ADDR}\n"
        "subjectKeyIdentifier = hash\n"
        "authorityKeyIdentifier = keyid\n"
    )
    ssl("req", "-x509", "-new", "-key", "root.key", "-sha256", "-days", "365",
        "-subj", "/O=pytlscheck bench/CN=Bench Root CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        "-out", "root.pem")
    ssl("req", "-new", "-key", "int.key", "-subj", "/O=pytlscheck bench/CN=Bench Intermediate CA",
        "-out", "int.csr")
    ssl("x509", "-req", "-in", "int.csr", "-CA", "root.pem", "-CAkey", "root.key",
        "-CAcreateserial", "-sha256", "-days", "365", "-extfile", "ext.cnf", "-extensions", "int",
        "-out", "int.pem")
    ssl("req", "-new", "-key", "leaf.key", "-subj", f"/CN={SNI}", "-out", "leaf.csr")
    ssl("x509", "-req", "-in", "leaf.csr", "-CA", "int.pem", "-CAkey", "int.key",
        "-CAcreateserial", "-sha256", "-days", "365", "-extfile", "ext.cnf", "-extensions", "leaf",
        "-out", "leaf.pem")
    chain = d / "chain.pem"
    chain.write_bytes((d / "leaf.pem").read_bytes() + (d / "int.pem").read_bytes())
    # The chain must verify before anything is measured against it.
    run(["openssl", "verify", "-CAfile", "root.pem", "-untrusted", "int.pem",
         "-verify_hostname", SNI, "leaf.pem"], cwd=d, capture_output=True)
    return Pki(root=d / "root.pem", chain=chain, key=d / "leaf.key")


# --------------------------------------------------------------------------
# Network: own namespaces with a delayed TUN link, or plain loopback


def remove_stale_namespaces() -> None:
    """Deletes tcbench-*-PID namespaces left by a benchmark process that died
    (SIGKILL) before it could clean up; only names of this scheme whose PID is
    gone are touched."""
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        name = line.split()[0] if line.split() else ""
        parts = name.split("-")
        if len(parts) == 3 and parts[0] == "tcbench" and parts[2].isdigit():
            if not Path(f"/proc/{parts[2]}").exists():
                log(f"removing stale namespace {name}")
                subprocess.run(["ip", "netns", "del", name], capture_output=True)


def namespaces_available() -> bool:
    if os.geteuid() != 0 or not shutil.which("ip") or not os.path.exists("/dev/net/tun"):
        return False
    probe = f"tcbench-probe-{os.getpid()}"
    ok = subprocess.run(["ip", "netns", "add", probe], capture_output=True).returncode == 0
    if ok:
        subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return ok


@dataclass
class Network:
    """Where the server and the clients run, and how to reach the server."""

    rtt_ms: int
    srv_ns: str | None = None
    cli_ns: str | None = None
    relay: subprocess.Popen | None = None
    relay_log: Path | None = None
    made: list[str] = field(default_factory=list)
    relay_stats: str = ""  # tundelay's packet counters, read when it stops

    @property
    def has_rtt(self) -> bool:
        return self.relay is not None

    def server_prefix(self) -> list[str]:
        return ["ip", "netns", "exec", self.srv_ns] if self.srv_ns else []

    def client_prefix(self, delayed: bool) -> list[str]:
        """Command prefix placing a client: in the server's namespace for
        loopback runs, in the client namespace for runs over the delayed link."""
        if delayed:
            if not self.has_rtt:
                raise RuntimeError("no simulated-RTT link in this setup")
            return ["ip", "netns", "exec", self.cli_ns]
        return self.server_prefix()

    def server_addr(self, delayed: bool) -> str:
        return SERVER_ADDR if delayed else "127.0.0.1"

    def listen_addrs(self) -> list[str]:
        return ["127.0.0.1", SERVER_ADDR] if self.srv_ns else ["127.0.0.1"]

    def start(self, tundelay: Path, workdir: Path) -> None:
        if not namespaces_available():
            log("network namespaces unavailable: loopback in this namespace only, "
                "no simulated RTT")
            return
        remove_stale_namespaces()
        pid = os.getpid()
        self.srv_ns, self.cli_ns = f"tcbench-srv-{pid}", f"tcbench-cli-{pid}"
        for ns in (self.srv_ns, self.cli_ns):
            run(["ip", "netns", "add", ns])
            self.made.append(ns)
            run(["ip", "-n", ns, "link", "set", "lo", "up"])
            # Our own namespaces: many short connections from one client
            # address need the whole port range and TIME_WAIT reuse.
            run(["ip", "netns", "exec", ns, "sysctl", "-q",
                 "net.ipv4.ip_local_port_range=1024 65000", "net.ipv4.tcp_tw_reuse=1"])
        run(["ip", "-n", self.cli_ns, "tuntap", "add", "dev", "tcbc", "mode", "tun"])
        run(["ip", "-n", self.srv_ns, "tuntap", "add", "dev", "tcbs", "mode", "tun"])
        self.relay_log = workdir / "tundelay.log"
        one_way = self.rtt_ms // 2
        self.relay = subprocess.Popen(
            [*pin(SERVER_CORE), str(tundelay), self.cli_ns, "tcbc", self.srv_ns, "tcbs",
             str(one_way)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=open(self.relay_log, "wb"),
            preexec_fn=_set_pdeathsig,
        )
        line = self.relay.stdout.readline().decode().strip()
        if line != "ready":
            self.stop()
            raise SystemExit(f"tundelay did not start: {self.relay_log.read_text()}")
        for ns, dev, here, there in ((self.cli_ns, "tcbc", CLIENT_ADDR, SERVER_ADDR),
                                     (self.srv_ns, "tcbs", SERVER_ADDR, CLIENT_ADDR)):
            run(["ip", "-n", ns, "addr", "add", here, "peer", there, "dev", dev])
            run(["ip", "-n", ns, "link", "set", dev, "mtu", "1500", "txqueuelen", "10000", "up"])
        log(f"namespaces {self.srv_ns} (nginx) and {self.cli_ns} (delayed clients); "
            f"TUN link {CLIENT_ADDR} <-> {SERVER_ADDR}, {one_way} ms each way")

    def stop(self) -> None:
        if self.relay is not None:
            if self.relay.poll() is None:
                self.relay.stdin.close()  # tundelay exits at end of input
                try:
                    self.relay.wait(5)
                except subprocess.TimeoutExpired:
                    self.relay.terminate()
                    self.relay.wait(5)
            if self.relay_log is not None and self.relay_log.exists():
                self.relay_stats = self.relay_log.read_text().strip()
            self.relay = None
        for ns in reversed(self.made):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        self.made.clear()


# --------------------------------------------------------------------------
# nginx

NGINX_CONF = """\
# Private nginx for bench/: one worker, full TLS handshakes only.
daemon off;
master_process on;
worker_processes 1;
{affinity}
worker_rlimit_nofile 16384;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{
    worker_connections 8192;
    use epoll;
}}
http {{
    access_log off;
    client_body_temp_path {d}/tmp_body;
    proxy_temp_path {d}/tmp_proxy;
    fastcgi_temp_path {d}/tmp_fastcgi;
    uwsgi_temp_path {d}/tmp_uwsgi;
    scgi_temp_path {d}/tmp_scgi;
    server {{
{listen}
        server_name {sni};
        ssl_certificate {chain};
        ssl_certificate_key {key};
        ssl_protocols TLSv1.2 TLSv1.3;
        # Every check is a full handshake, as for a checker meeting each
        # endpoint once: no session cache, no tickets (TLS 1.2 or 1.3).
        ssl_session_cache off;
        ssl_session_tickets off;
        location / {{ return 200 "ok\\n"; }}
    }}
}}
"""


class Nginx:
    def __init__(self, binary: str, pki: Pki, net: Network, workdir: Path):
        self.binary, self.pki, self.net = binary, pki, net
        self.dir = workdir / "nginx"
        self.proc: subprocess.Popen | None = None

    def start(self, cref: Path) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        # worker_cpu_affinity takes a bit mask, rightmost bit = CPU 0.
        affinity = ""
        if pinning_available():
            affinity = "worker_cpu_affinity " + "1" + "0" * SERVER_CORE + ";"
        listen = "\n".join(f"        listen {a}:{PORT} ssl backlog=4096;"
                           for a in self.net.listen_addrs())
        conf = self.dir / "nginx.conf"
        conf.write_text(NGINX_CONF.format(d=self.dir, affinity=affinity, listen=listen, sni=SNI,
                                          chain=self.pki.chain, key=self.pki.key))
        self.proc = subprocess.Popen(
            [*self.net.server_prefix(), *pin(SERVER_CORE), self.binary, "-p", str(self.dir),
             "-c", str(conf), "-e", str(self.dir / "error.log")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=open(self.dir / "stderr.log", "wb"), preexec_fn=_set_pdeathsig,
        )
        # Ready when one verified check succeeds (which also proves the chain).
        for _ in range(50):
            if self.proc.poll() is not None:
                break
            probe = subprocess.run(
                [*self.net.client_prefix(False), str(cref), "--addr", "127.0.0.1", "--port",
                 str(PORT), "--sni", SNI, "--ca", str(self.pki.root), "--k", "1", "--n", "1",
                 "--timeout", "2"], capture_output=True)
            if probe.returncode == 0:
                log(f"nginx {self.version()} ready on {', '.join(self.net.listen_addrs())}:{PORT}"
                    f"{' (worker on core %d)' % SERVER_CORE if affinity else ''}")
                return
            time.sleep(0.1)
        self.stop()
        err = (self.dir / "error.log").read_text() if (self.dir / "error.log").exists() else ""
        raise SystemExit(f"nginx did not come up:\n{err}\n{(self.dir / 'stderr.log').read_text()}")

    def version(self) -> str:
        out = subprocess.run([self.binary, "-v"], capture_output=True, text=True)
        return out.stderr.strip().split("/")[-1]

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful: workers finish
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.terminate()
                try:
                    self.proc.wait(5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        self.proc = None


# --------------------------------------------------------------------------
# Everything together


class Bench:
    """Context manager: binaries built, PKI minted, network and nginx up."""

    def __init__(self, rtt_ms: int = 80):
        self.rtt_ms = rtt_ms
        self.tmp = Path(tempfile.mkdtemp(prefix="tcbench-"))
        self.net = Network(rtt_ms)
        self.nginx: Nginx | None = None

    def __enter__(self) -> "Bench":
        try:
            self.bins = build_c()
            nginx = ensure_nginx()
            self.pki = mint_pki(self.tmp / "pki")
            self.net.start(self.bins["tundelay"], self.tmp)
            self.nginx = Nginx(nginx, self.pki, self.net, self.tmp)
            self.nginx.start(self.bins["cref"])
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        if self.nginx is not None:
            self.nginx.stop()
        self.net.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __exit__(self, *exc) -> None:
        self.close()


def exit_on_sigterm() -> None:
    """SIGTERM (timeout, kill) unwinds like Ctrl-C, so cleanup code runs."""
    def handler(signum, frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, handler)


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rtt-ms", type=int, default=80, help="simulated round-trip time (even)")
    args = ap.parse_args()
    exit_on_sigterm()
    with Bench(args.rtt_ms) as b:
        print(f"trust anchor: {b.pki.root}\nserver name:  {SNI}\nport:         {PORT}")
        print(f"loopback:     {' '.join(b.net.client_prefix(False))} ... 127.0.0.1:{PORT}")
        if b.net.has_rtt:
            print(f"{args.rtt_ms} ms RTT:   {' '.join(b.net.client_prefix(True))} ... "
                  f"{SERVER_ADDR}:{PORT}")
        print("Ctrl-C stops everything.", flush=True)
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
