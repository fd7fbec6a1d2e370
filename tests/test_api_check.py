"""check() and verify() through the binding: the live fields reach Python,
network problems come back as reports (never exceptions), verify() raises
exceptions that are also the built-ins, and the GIL is released while a
check runs.  Loopback only; every server started here is stopped here.
(The full set of live kinds is tested in tests/test_live*.py.)"""
import socket
import ssl
import threading

import pytest

import pytlscheck
from pki import pem_of

HOST = "api.example.com"


class TLSServer:
    """A Python ssl server on 127.0.0.1 serving one chain.  When
    `gather` > 0, each connection waits until that many are open at once
    before the handshake (a barrier): proof that clients overlap."""

    def __init__(self, tmp_path, leaf, chain_pem, gather=0, client_ca=None):
        cert = tmp_path / "server.pem"
        key = tmp_path / "server.key"
        cert.write_text(chain_pem)
        key.write_text(leaf.key_pem)
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(str(cert), str(key))
        if client_ca is not None:   # mutual TLS: a client certificate is required
            self.ctx.verify_mode = ssl.CERT_REQUIRED
            self.ctx.load_verify_locations(cadata=client_ca)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.barrier = threading.Barrier(gather, timeout=15) if gather else None
        self.barrier_broken = False
        self.stop = threading.Event()
        self.threads = []
        self.acceptor = threading.Thread(target=self._accept, daemon=True)
        self.acceptor.start()

    def _accept(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            t.start()
            self.threads.append(t)

    def _serve(self, conn):
        try:
            if self.barrier is not None:
                try:
                    self.barrier.wait()
                except threading.BrokenBarrierError:
                    self.barrier_broken = True
                    return
            conn.settimeout(10)
            with self.ctx.wrap_socket(conn, server_side=True) as tls:
                try:
                    tls.recv(1)
                except (OSError, ssl.SSLError):
                    pass
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.close()

    def close(self):
        self.stop.set()
        self.acceptor.join(5)
        self.sock.close()
        for t in self.threads:
            t.join(5)


@pytest.fixture
def server(tmp_path, inter):
    leaf = inter.leaf(HOST, "127.0.0.1")
    s = TLSServer(tmp_path, leaf, pem_of(leaf, inter))
    yield s
    s.close()


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_check_healthy_endpoint(server, root):
    r = pytlscheck.check("127.0.0.1", server.port, server_name=HOST, trust=root.pem, timeout=10)
    assert r.ok and r.problems == [], r.explain()
    assert r.is_live
    assert r.address == "127.0.0.1" and r.port == server.port
    assert r.server_name == HOST and r.hostname == HOST
    assert r.protocol in ("TLSv1.3", "TLSv1.2")
    assert r.cipher and r.target
    assert len(r.chain) == 2 and r.leaf.dns_names == (HOST,)
    assert r.verified_chain is not None and len(r.verified_chain) == 3
    assert r.timings["total"] is not None and r.timings["total"] >= 0
    text = r.explain()
    assert text.startswith("OK") and "127.0.0.1" in text
    d = r.to_dict()
    assert d["target"] and d["address"] == "127.0.0.1" and d["protocol"] == r.protocol
    assert pytlscheck.verify(f"127.0.0.1:{server.port}", server_name=HOST, trust=root.pem).ok


def test_check_wrong_name_is_a_report_and_verify_raises(server, root):
    r = pytlscheck.check(f"127.0.0.1:{server.port}", server_name="www.example.com", trust=root.pem)
    assert not r.ok and "hostname_mismatch" in r.kinds
    with pytest.raises(pytlscheck.HostnameMismatch) as e:
        pytlscheck.verify(f"127.0.0.1:{server.port}", server_name="www.example.com",
                          trust=root.pem)
    assert e.value.report.target and "www.example.com" in str(e.value)


def test_check_untrusted_is_a_report(server, other_root):
    r = pytlscheck.check("127.0.0.1", server.port, server_name=HOST, trust=other_root.pem)
    assert not r.ok
    assert "unknown_root" in r.kinds   # leaf + intermediate of a private root
    assert len(r.chain) == 2   # the served chain is kept even when it fails


def test_connection_refused_is_a_report_and_a_builtin(root):
    port = closed_port()
    r = pytlscheck.check("127.0.0.1", port, trust=root.pem, timeout=5)
    assert r.kinds == ["connection_refused"]
    assert r.chain == [] and r.protocol is None
    with pytest.raises(ConnectionRefusedError) as e:
        pytlscheck.verify("127.0.0.1", port, trust=root.pem, timeout=5)
    assert isinstance(e.value, pytlscheck.ConnectionRefused)
    assert isinstance(e.value, pytlscheck.ConnectionProblem)
    assert e.value.problem.kind == "connection_refused"
    assert str(port) in str(e.value)


def test_check_releases_the_gil(tmp_path, inter, root):
    """Four checks from four threads: the server handshakes only once all
    four connections are open at the same time.  If check() held the GIL,
    the server's Python threads could not even accept the second one."""
    leaf = inter.leaf(HOST)
    n = 4
    s = TLSServer(tmp_path, leaf, pem_of(leaf, inter), gather=n)
    results = []
    try:
        def one():
            results.append(pytlscheck.check("127.0.0.1", s.port, server_name=HOST,
                                            trust=root.pem, timeout=20))
        threads = [threading.Thread(target=one) for _ in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        s.close()
    assert not s.barrier_broken
    assert len(results) == n
    assert all(r.ok for r in results), [r.kinds for r in results]


def test_client_cache_reuses_one_context(root):
    from pytlscheck import api
    api._CLIENT_CACHE.clear()
    _, c1 = api._client(root.pem, None, None)
    _, c2 = api._client(root.pem, None, None)
    assert c1 is c2


def test_client_certificate_paths_and_pem(tmp_path, inter, root):
    """client_cert/client_key reach the core's Client: the mTLS server
    accepts the check with them, and refuses its twin without them."""
    leaf = inter.leaf(HOST)
    client = inter.leaf("client.example.com", eku=["clientAuth"])
    s = TLSServer(tmp_path, leaf, pem_of(leaf, inter), client_ca=root.pem)
    try:
        cert_path = tmp_path / "client.pem"
        key_path = tmp_path / "client.key"
        cert_path.write_text(pem_of(client, inter))
        key_path.write_text(client.key_pem)
        with_paths = pytlscheck.check("127.0.0.1", s.port, server_name=HOST, trust=root.pem,
                                      client_cert=str(cert_path), client_key=str(key_path))
        assert with_paths.ok, with_paths.explain()
        assert with_paths.client_certificate_requested
        with_pem = pytlscheck.check("127.0.0.1", s.port, server_name=HOST, trust=root.pem,
                                    client_cert=pem_of(client, inter), client_key=client.key_pem)
        assert with_pem.ok, with_pem.explain()
        without = pytlscheck.check("127.0.0.1", s.port, server_name=HOST, trust=root.pem)
        assert not without.ok
        assert without.client_certificate_requested
    finally:
        s.close()


def test_bad_client_key_is_a_value_error(root, inter):
    client = inter.leaf("client.example.com", eku=["clientAuth"])
    with pytest.raises(ValueError):
        pytlscheck.check("127.0.0.1", 9, trust=root.pem, client_cert=client.pem,
                         client_key="-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
