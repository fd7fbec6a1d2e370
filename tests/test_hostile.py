"""Hostile and broken peers, on real loopback servers (issue 7).

Every check here must come back with a classified Report within its
timeout plus MARGIN, whatever the peer does: drip one byte a second,
flood 100 MB, close or reset the connection at every point of the
handshake, serve certificates built to be too big or to carry NUL bytes
and terminal escapes, serve a certificate that does not parse, or answer
on only the last of many addresses.

Servers are tests/servers.py's acceptor (raw_server with a handler of
our own), a real Python-ssl TLS server (tls_server), and, for cutting a
handshake at a chosen point, a small TCP proxy in front of the real
server that parses the server's TLS records as they stream and cuts the
connection (FIN or RST) after, or in the middle of, a chosen record.
All traffic stays on loopback (127.0.0.0/8, which on Linux is entirely
the loopback interface).
"""
from __future__ import annotations

import contextlib
import json
import os
import random
import resource
import select
import shutil
import socket
import struct
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import pytlscheck
from pytlscheck import Certificate, _html
from pki import CA, mint, pem_of
from servers import have_openssl_cli, openssl_server, raw_server, tls_server

MARGIN = 2.0            # seconds a check may take beyond its timeout
FLOOD_TOTAL = 100 * 1024 * 1024
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def timed_check(target, *, timeout=3.0, **kw):
    """check(), asserting it returned a Report within timeout + MARGIN."""
    t0 = time.monotonic()
    report = pytlscheck.check(target, timeout=timeout, **kw)
    elapsed = time.monotonic() - t0
    assert elapsed <= timeout + MARGIN, f"check took {elapsed:.2f} s with timeout {timeout}"
    assert isinstance(report, pytlscheck.Report)
    return report


def only(report, kind):
    assert [p.kind for p in report.errors] == [kind], report.explain()
    return report.errors[0]


def no_raw_control(text, allowed="\n"):
    """The control characters of `text` other than `allowed` (should be none)."""
    return sorted({hex(ord(ch)) for ch in text if (ord(ch) < 0x20 or ord(ch) == 0x7f) and ch not in allowed})


@pytest.fixture(scope="module")
def ca():
    root = CA.root("Hostile Test Root CA")
    inter = root.intermediate("Hostile Test Issuing CA")
    return root, inter


@pytest.fixture(scope="module")
def good(ca):
    root, inter = ca
    leaf = inter.leaf("localhost", "127.0.0.1")
    return pem_of(leaf, inter), leaf.key_pem


# ---- TLS records by hand ---------------------------------------------------

def record(ctype, body, version=0x0303):
    return struct.pack("!BHH", ctype, version, len(body)) + body


def handshake_msg(mtype, body):
    return bytes([mtype]) + len(body).to_bytes(3, "big") + body


def server_hello_12(suite=0xC02B):
    """A TLS 1.2 ServerHello choosing ECDHE-ECDSA-AES128-GCM-SHA256 with the
    empty renegotiation_info extension OpenSSL 3 clients require."""
    exts = b"\xff\x01\x00\x01\x00"
    body = (b"\x03\x03" + os.urandom(32) + b"\x00" + struct.pack("!HB", suite, 0)
            + struct.pack("!H", len(exts)) + exts)
    return handshake_msg(2, body)


def certificate_msg(ders):
    lst = b"".join(len(d).to_bytes(3, "big") + d for d in ders)
    return handshake_msg(11, len(lst).to_bytes(3, "big") + lst)


def read_client_hello(conn):
    conn.settimeout(3)
    with contextlib.suppress(OSError):
        conn.recv(65536)


# ---- slow drip -------------------------------------------------------------

def drip_proxy(upstream, interval, log):
    """Forwards the client's bytes at once and the server's one byte every
    `interval` seconds."""
    def handler(conn):
        up = socket.create_connection(upstream, timeout=5)
        pending = bytearray()
        sent = 0
        try:
            conn.setblocking(False)
            up.setblocking(False)
            next_drip = time.monotonic() + interval
            while True:
                wait = max(0.0, next_drip - time.monotonic())
                r, _, _ = select.select([conn, up], [], [], min(wait, 0.1))
                if conn in r:
                    d = conn.recv(65536)
                    if not d:
                        return
                    up.sendall(d)
                if up in r:
                    d = up.recv(65536)
                    if d:
                        pending += d
                if pending and time.monotonic() >= next_drip:
                    conn.send(pending[:1])
                    del pending[:1]
                    sent += 1
                    next_drip += interval
        except OSError:
            return
        finally:
            log.append(sent)
            up.close()
    return handler


def test_slow_drip_of_a_real_handshake_is_a_timeout(ca, good):
    root, _ = ca
    log = []
    with tls_server(*good) as upstream, raw_server(drip_proxy(upstream, 1.0, log)) as (host, port):
        t0 = time.monotonic()
        r = timed_check(f"{host}:{port}", timeout=3.0, trust=root.pem)
        elapsed = time.monotonic() - t0
    p = only(r, "handshake_timeout")
    assert elapsed >= 2.9           # it waited for its deadline, no longer
    assert "in 3.0 s it sent only" in p.message and "bytes of its handshake" in p.message
    n = int(p.message.split("it sent only ")[1].split(" bytes")[0])
    assert 1 <= n <= 4              # one byte a second
    assert r.address == "127.0.0.1" and r.protocol is None


def test_slow_drip_of_a_banner_is_not_tls():
    def handler(conn):
        read_client_hello(conn)
        for ch in b"HTTP/1.1 200 OK\r\n":
            conn.sendall(bytes([ch]))
            time.sleep(1.0)

    with raw_server(handler) as (host, port):
        t0 = time.monotonic()
        r = timed_check(f"{host}:{port}", timeout=5.0)
        elapsed = time.monotonic() - t0
    p = only(r, "not_tls")
    # The first byte is not a TLS record type: judged after a short grace,
    # not after the 17 seconds the whole line would take.
    assert elapsed < 3.0
    assert "'H" in p.message
    assert r.peer_banner.startswith("H")


# ---- 100 MB flood ----------------------------------------------------------

def flood_server(prefix, chunk, stats):
    """After the ClientHello: `prefix`, then chunk(rng) repeatedly until
    FLOOD_TOTAL bytes are sent or the client goes away."""
    def handler(conn):
        read_client_hello(conn)
        rng = random.Random(7)
        sent = 0
        try:
            conn.sendall(prefix)
            sent += len(prefix)
            while sent < FLOOD_TOTAL:
                c = chunk(rng)
                conn.sendall(c)
                sent += len(c)
        except OSError:
            stats["closed_by_client"] = True
        finally:
            stats["sent"] = sent
    return handler


FLOODS = {
    # name: (prefix, chunk, expected kinds)
    "random-bytes": (b"", lambda r: r.randbytes(65536), {"not_tls"}),
    "random-handshake-records": (b"", lambda r: record(22, r.randbytes(16384)), {"handshake_failure"}),
    "serverhello-then-random-records": (record(22, server_hello_12()), lambda r: record(22, r.randbytes(16384)),
                                        {"handshake_failure"}),
    "serverhello-then-random-app-data": (record(22, server_hello_12()), lambda r: record(23, r.randbytes(16384)),
                                         {"handshake_failure"}),
    # A Certificate message announcing ~1 MB, then one byte per record: the
    # most work per byte for the client; bounded by its deadline.
    "one-megabyte-certificate-in-1-byte-records": (
        record(22, server_hello_12()) + record(22, b"\x0b\x0f\xff\xf0"),
        lambda r: record(22, b"\x00") * 512, {"handshake_failure", "handshake_timeout"}),
}


@pytest.mark.parametrize("name", sorted(FLOODS))
def test_a_100_mb_flood_gets_a_classified_report_in_time(name):
    prefix, chunk, kinds = FLOODS[name]
    stats = {}
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with raw_server(flood_server(prefix, chunk, stats)) as (host, port):
        r = timed_check(f"{host}:{port}", timeout=3.0)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert {p.kind for p in r.errors} <= kinds and len(r.errors) == 1, r.explain()
    # The client hung up long before the 100 MB: it never buffers the flood.
    assert stats.get("closed_by_client") and stats["sent"] < FLOOD_TOTAL
    if not os.environ.get("PYTLSCHECK_SANITIZED"):     # ASan's quarantine holds freed memory
        assert grown_mb < 64, f"peak RSS grew by {grown_mb:.0f} MB"


# ---- closing or resetting at every point of the handshake -----------------

class _RecordCutter:
    """Counts the server's TLS records as they stream by."""

    def __init__(self, after_records, mid_record):
        self.after = after_records      # cut once this many records passed whole
        self.mid = mid_record           # ... or half-way into this record (index)
        self.buf = bytearray()
        self.bounds = []                # (start, end, content type, first byte)

    def allowance(self, total_seen):
        """How many of the bytes seen so far may be passed on (None: all)."""
        i = len(self.bounds) and self.bounds[-1][1]
        while i + 5 <= len(self.buf):
            n = struct.unpack("!H", self.buf[i + 3:i + 5])[0]
            first = self.buf[i + 5] if i + 5 < len(self.buf) else None
            self.bounds.append((i, i + 5 + n, self.buf[i], first))
            i += 5 + n
        if self.after is not None and len(self.bounds) >= self.after:
            return self.bounds[self.after - 1][1] if self.after else 0
        if self.mid is not None and len(self.bounds) > self.mid:
            start, end, *_ = self.bounds[self.mid]
            return start + (end - start) // 2
        return None


def _fin(conn):
    """A clean close (FIN): closing with unread bytes in the receive queue
    would make the kernel send a RST instead, so read until the client
    closes (it does once it has judged the cut)."""
    conn.shutdown(socket.SHUT_WR)
    conn.settimeout(2)
    with contextlib.suppress(OSError):
        while conn.recv(65536):
            pass


def cutting_proxy(upstream, cutter, how, log):
    """Relays client <-> server, passing on the server's bytes until the
    cutter says stop; then closes (FIN) or resets (RST) the client side."""
    def handler(conn):
        up = socket.create_connection(upstream, timeout=5)
        passed = 0
        try:
            deadline = time.monotonic() + 8
            while time.monotonic() < deadline:
                r, _, _ = select.select([conn, up], [], [], 0.2)
                if conn in r:
                    d = conn.recv(65536)
                    if not d:
                        return
                    up.sendall(d)
                if up in r:
                    d = up.recv(65536)
                    if not d:
                        return
                    cutter.buf += d
                    limit = cutter.allowance(len(cutter.buf))
                    end = len(cutter.buf) if limit is None else limit
                    if end > passed:
                        conn.sendall(bytes(cutter.buf[passed:end]))
                        passed = end
                    if limit is not None:
                        time.sleep(0.1)     # let the client read what it got
                        if how == "rst":
                            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                        else:
                            _fin(conn)
                        return
        finally:
            log.append((passed, list(cutter.bounds)))
            up.close()
    return handler


# (TLS version, cut after N whole records | None, cut mid-record index | None,
#  what the client last saw completely)
CUTS = [
    ("TLSv1.2", 0, None, "right after the ClientHello"),
    ("TLSv1.2", None, 0, "last complete message: none"),          # mid-ServerHello
    ("TLSv1.2", 1, None, "last complete message: ServerHello"),
    ("TLSv1.2", None, 1, "last complete message: ServerHello"),   # mid-Certificate
    ("TLSv1.2", 2, None, "last complete message: Certificate"),
    ("TLSv1.2", 3, None, "last complete message: ServerKeyExchange"),
    ("TLSv1.2", 4, None, "last complete message: ServerHelloDone"),   # before CCS + Finished
    ("TLSv1.2", 5, None, "last complete message: ServerHelloDone"),   # after CCS, before Finished
    ("TLSv1.3", None, 0, "last complete message: none"),
    ("TLSv1.3", 1, None, "last complete message: ServerHello"),
    ("TLSv1.3", 2, None, "last complete message: ServerHello"),       # after the compat CCS
    ("TLSv1.3", None, 2, "last complete message: ServerHello"),       # mid first encrypted record
]


@pytest.mark.parametrize("how", ["fin", "rst"])
@pytest.mark.parametrize("version, after, mid, stage", CUTS)
def test_cut_at_every_point_of_the_handshake(ca, good, version, after, mid, stage, how):
    root, _ = ca
    log = []
    with tls_server(*good, min_version=version, max_version=version) as upstream, \
            raw_server(cutting_proxy(upstream, _RecordCutter(after, mid), how, log)) as (host, port):
        r = timed_check(f"{host}:{port}", trust=root.pem)
    passed, bounds = log[0]
    p = only(r, "connection_reset")
    assert stage in p.message, (bounds, p.message)
    if passed:
        assert f"after {passed} bytes" in p.message
    if how == "rst":
        assert "ECONNRESET" in p.message
    else:
        assert "the server closed the connection" in p.message
    assert r.address == "127.0.0.1"


def test_cut_twin_the_same_proxy_without_a_cut_passes(ca, good):
    root, _ = ca
    for version in ("TLSv1.2", "TLSv1.3"):
        log = []
        with tls_server(*good, min_version=version, max_version=version) as upstream, \
                raw_server(cutting_proxy(upstream, _RecordCutter(None, None), "fin", log)) as (host, port):
            r = timed_check(f"{host}:{port}", trust=root.pem)
        assert r.ok and not r.problems, r.explain()
        assert r.protocol == version


def test_tls12_cut_after_the_certificate_still_judges_the_chain(ca):
    """A chain received before the connection died is still verified."""
    root, inter = ca
    leaf = inter.leaf("localhost", "127.0.0.1")
    log = []
    with tls_server(pem_of(leaf, inter), leaf.key_pem, max_version="TLSv1.2") as upstream, \
            raw_server(cutting_proxy(upstream, _RecordCutter(2, None), "fin", log)) as (host, port):
        r = timed_check(f"{host}:{port}", trust=root.pem)
    assert r.kinds == ["connection_reset"]
    assert [c.fingerprint_sha256 for c in r.chain] == [
        pytlscheck.Certificate.from_pem(leaf.pem).fingerprint_sha256,
        pytlscheck.Certificate.from_pem(inter.pem).fingerprint_sha256]


# ---- certificates built to be big -----------------------------------------

@pytest.fixture(scope="module")
def many_sans(ca):
    root, inter = ca
    names = [f"host{i}.example.com" for i in range(10_000)]
    return inter.leaf(*names, "127.0.0.1", cn="host0.example.com")


def test_ten_thousand_dns_sans_offline_and_live(ca, many_sans):
    """A leaf with 10,000 names (some 220 KB) is larger than OpenSSL-based
    clients accept (issue 13 item 2): Python's own ssl refuses it, and the
    report says so, offline and live, while still reading every name."""
    import ssl

    root, inter = ca
    chain = pem_of(many_sans, inter)
    r = pytlscheck.verify_chain(chain, hostname="host9999.example.com", trust=root.pem)
    p = only(r, "chain_too_large")
    assert "for certificate 1 alone (CN=host0.example.com)" in p.message, p.message
    assert r.chain_bytes > 200_000
    assert len(r.leaf.dns_names) == 10_000
    miss = pytlscheck.verify_chain(chain, hostname="nothere.example.com", trust=root.pem)
    assert [q.kind for q in miss.errors] == ["chain_too_large", "hostname_mismatch"]
    p = problem_of(miss, "hostname_mismatch")
    # The message names a few and counts the rest (10,000 DNS + 1 IP SAN).
    assert "host4.example.com and 9996 more" in p.message and len(p.message) < 2000
    assert "host9999.example.com" in _html.render_html(miss)
    json.loads(miss.to_json())
    with tls_server(chain, many_sans.key_pem) as (host, port):
        live = timed_check(f"{host}:{port}", server_name="host9999.example.com", trust=root.pem)
        live_miss = timed_check(f"{host}:{port}", server_name="other.example.com", trust=root.pem)
        ctx = ssl.create_default_context(cadata=root.pem)
        with pytest.raises(ssl.SSLError, match="EXCESSIVE_MESSAGE_SIZE|excessive message size"):
            with socket.create_connection((host, port), timeout=5) as sock:
                ctx.wrap_socket(sock, server_hostname="host9999.example.com").close()
    assert live.kinds == ["chain_too_large"], live.explain()
    assert len(live.leaf.dns_names) == 10_000
    assert live_miss.kinds == ["chain_too_large", "hostname_mismatch"]


def problem_of(report, kind):
    found = [p for p in report.problems if p.kind == kind]
    assert found, report.explain()
    return found[0]


def _long_chain(root, length):
    """Leaf + (length - 1) intermediates under root, leaf first."""
    cas = [root]
    for i in range(length - 1):
        cas.append(cas[-1].intermediate(f"Hostile Level {i}"))
    leaf = cas[-1].leaf("localhost", "127.0.0.1")
    return [leaf] + cas[:0:-1]


def test_a_chain_of_50_certificates_offline_and_live():
    root = CA.root("Deep Root CA")
    chain = _long_chain(root, 50)
    assert len(chain) == 50
    r = pytlscheck.verify_chain(pem_of(*chain), hostname="localhost", trust=root.pem)
    assert len(r.chain) == 50
    assert r.verified_chain is not None and len(r.verified_chain) == 51
    assert r.ok, r.explain()
    # Its twin: the same chain with max_depth says what is too long.
    short = pytlscheck.verify_chain(pem_of(*chain), hostname="localhost", trust=root.pem, max_depth=5)
    assert not short.ok
    with tls_server(pem_of(*chain), chain[0].key_pem) as (host, port):
        live = timed_check(f"{host}:{port}", trust=root.pem)
    assert live.ok, live.explain()
    assert len(live.chain) == 50
    explained = live.explain()
    assert "Hostile Level 48" in explained
    assert _html.render_html(live)


def test_a_64_kb_subject_offline_and_live(ca):
    root, inter = ca
    leaf = mint("localhost", inter, org="A" * 65536, dns_names=["localhost"], ip_addresses=["127.0.0.1"],
                eku=["serverAuth"])
    assert len(leaf.der) > 65536
    r = pytlscheck.verify_chain(pem_of(leaf, inter), hostname="localhost", trust=root.pem)
    assert r.ok, r.explain()
    assert r.leaf.common_name == "localhost"
    assert "A" * 65536 in r.leaf.subject          # kept whole in the field...
    text = r.explain()
    assert "CN=localhost" in text                 # ... and named by its CN in the text
    assert "A" * 65536 in _html.render_html(r) or "CN=localhost" in _html.render_html(r)
    assert json.loads(r.to_json())["chain"][0]["subject"] == r.leaf.subject
    with tls_server(pem_of(leaf, inter), leaf.key_pem) as (host, port):
        live = timed_check(f"{host}:{port}", trust=root.pem)
    assert live.leaf is not None and live.leaf.common_name == "localhost"
    assert [p.kind for p in live.errors] == [p.kind for p in r.errors]


# ---- NUL bytes and control characters -------------------------------------

EVIL_CN = "evil\x00cn\x1b[31mRED\x1b[0m\x07\x08\r\n"
EVIL_ORG = "Org\r\nX-Injected: yes\x7f"


@pytest.fixture(scope="module")
def evil(ca):
    root, inter = ca
    leaf = mint(EVIL_CN, inter, org=EVIL_ORG,
                dns_names=["localhost", "example.com\x00.evil.test", "tab\there.example"],
                ip_addresses=["127.0.0.1"], eku=["serverAuth"])
    return leaf


def _assert_escaped(text, where):
    bad = no_raw_control(text)
    assert not bad, f"{where} shows raw control characters {bad}"
    assert "\x00" not in text and "\x1b" not in text, where
    low = text.lower()
    assert "\\x00" in low, f"{where} does not show the NUL byte escaped"
    assert "\\x1b" in low, f"{where} does not show the ESC byte escaped"


def test_nul_and_control_characters_are_escaped_in_fields(ca, evil):
    c = pytlscheck.Certificate.from_pem(evil.pem)
    for field in (c.subject, c.common_name, *c.dns_names):
        assert not no_raw_control(field, allowed=""), repr(field)
    assert "\\x00" in c.common_name.lower() and "\\x1b" in c.common_name.lower()
    assert any("\\x00" in n for n in c.dns_names)


def test_nul_and_control_characters_are_escaped_in_explain_and_html(ca, evil):
    root, inter = ca
    r = pytlscheck.verify_chain(pem_of(evil, inter), hostname="localhost", trust=root.pem)
    assert "malformed_certificate" in r.kinds
    _assert_escaped(r.explain(), "explain()")
    html = _html.render_html(r)
    _assert_escaped(html, "render_html()")
    assert "<script" not in html.lower().replace("&lt;script", "")
    for p in r.problems:
        assert not no_raw_control(p.message, allowed=""), p.message
    doc = json.loads(r.to_json())
    assert doc


def _cli(*argv, timeout=60, input=None):
    return subprocess.run([sys.executable, "-m", "pytlscheck", *map(str, argv)],
                          capture_output=True, timeout=timeout, cwd=REPO, input=input)


def test_nul_and_control_characters_are_escaped_in_the_cli(ca, evil, tmp_path):
    root, inter = ca
    chain = tmp_path / "evil.pem"
    chain.write_text(pem_of(evil, inter))
    trust = tmp_path / "root.pem"
    trust.write_text(root.pem)
    done = _cli("file", chain, "--host", "localhost", "--trust", trust)
    assert done.returncode == 2, done.stderr
    out = done.stdout.decode("utf-8")
    _assert_escaped(out, "pytlscheck file")
    with tls_server(pem_of(evil, inter), evil.key_pem) as (host, port):
        live = _cli(f"{host}:{port}", "--trust", trust, "--timeout", "5")
        as_json = _cli(f"{host}:{port}", "--trust", trust, "--timeout", "5", "--json")
    assert live.returncode == 2, live.stderr
    _assert_escaped(live.stdout.decode("utf-8"), "pytlscheck HOST:PORT")
    assert not no_raw_control(as_json.stdout.decode("utf-8"))
    json.loads(as_json.stdout)


@pytest.mark.skipif(not have_openssl_cli(), reason="needs the openssl command line tool")
def test_control_characters_in_client_ca_names_are_escaped(ca, good):
    """The CA names a server sends in its CertificateRequest are the peer's
    bytes too: they reach the report, explain() and the CLI escaped."""
    root, _ = ca
    evil_ca = CA.root("evil\x00ca\x1b[31m\x07\r\n")
    with openssl_server("-verify", "1", cert=good[0], key=good[1], client_ca=evil_ca.pem) as (host, port):
        r = timed_check(f"{host}:{port}", trust=root.pem)
        out = _cli(f"{host}:{port}", "--trust", "/dev/stdin", "--json", input=root.pem.encode())
    assert r.client_certificate_requested
    [name] = r.client_ca_names
    assert "evil" in name and not no_raw_control(name, allowed="")
    # Escaped exactly as a certificate's subject is (\xNN), so the name can
    # be matched against Certificate.subject.
    assert "\\x00" in name
    assert name == Certificate.from_pem(evil_ca.pem).subject
    text = r.explain()
    assert "evil" in text and not no_raw_control(text)
    doc = json.loads(out.stdout)
    assert any("evil" in n for n in doc["results"][0]["client_ca_names"])


# ---- certificates that do not parse ---------------------------------------

def test_served_certificate_with_a_nul_in_a_name_is_malformed(ca, evil):
    root, inter = ca
    with tls_server(pem_of(evil, inter), evil.key_pem) as (host, port):
        r = timed_check(f"{host}:{port}", trust=root.pem)
    assert "malformed_certificate" in r.kinds, r.explain()
    p = next(p for p in r.problems if p.kind == "malformed_certificate")
    assert p.exception is pytlscheck.MalformedCertificate
    assert "\\x00" in p.message


def _crafted_flight(ders):
    flight = record(22, server_hello_12() + certificate_msg(ders))

    def handler(conn):
        read_client_hello(conn)
        conn.sendall(flight)
        with contextlib.suppress(OSError):
            conn.recv(4096)     # the client's alert, then its close

    return handler


def _broken_ders(good_der):
    truncated = good_der[:-30]
    inner = bytearray(good_der)
    inner[4] ^= 0xFF                   # the tag of the TBSCertificate
    return {
        "truncated": truncated,
        "bad-inner-tag": bytes(inner),
        "tiny-sequence": b"\x30\x03\x02\x01\x05",
        "trailing-bytes": good_der + b"\x00\x00",
    }


def test_crafted_handshake_twin_a_well_formed_certificate_is_read(ca):
    """The crafted TLS 1.2 flight works: with a certificate that parses the
    client reads it (and then waits for the rest of the handshake)."""
    root, inter = ca
    leaf = inter.leaf("localhost", "127.0.0.1")
    with raw_server(_crafted_flight([leaf.der, inter.der])) as (host, port):
        r = timed_check(f"{host}:{port}", timeout=2.0, trust=root.pem)
    assert len(r.chain) == 2
    assert "malformed_certificate" not in r.kinds


@pytest.mark.parametrize("how", sorted(_broken_ders(b"\x30\x82\x01\x00" + bytes(256))))
def test_served_certificate_that_does_not_parse_is_malformed(ca, how):
    root, inter = ca
    leaf = inter.leaf("localhost", "127.0.0.1")
    bad = _broken_ders(leaf.der)[how]
    with raw_server(_crafted_flight([bad, inter.der])) as (host, port):
        r = timed_check(f"{host}:{port}", timeout=2.0, trust=root.pem)
    assert r.errors, r.explain()
    p = only(r, "malformed_certificate")
    assert p.exception is pytlscheck.MalformedCertificate


@pytest.mark.parametrize("how", sorted(_broken_ders(b"\x30\x82\x01\x00" + bytes(256))))
def test_served_certificate_that_does_not_parse_is_an_error_in_time(ca, how):
    """An unparsable certificate ends the check at once, with one error and
    no chain (nothing that parsed to show)."""
    root, inter = ca
    leaf = inter.leaf("localhost", "127.0.0.1")
    bad = _broken_ders(leaf.der)[how]
    with raw_server(_crafted_flight([bad, inter.der])) as (host, port):
        t0 = time.monotonic()
        r = timed_check(f"{host}:{port}", timeout=2.0, trust=root.pem)
        elapsed = time.monotonic() - t0
    assert len(r.errors) == 1 and not r.ok
    assert elapsed < 1.5      # judged at the Certificate, not at the deadline
    assert r.chain == []


# ---- many addresses, only the last answers --------------------------------

def _can_private_hosts():
    if not sys.platform.startswith("linux") or shutil.which("unshare") is None:
        return False
    try:
        done = subprocess.run(["unshare", "-m", "--propagation", "private", "true"],
                              capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


needs_private_hosts = pytest.mark.skipif(
    not _can_private_hosts(),
    reason="needs unshare -m (a private mount namespace) to give the child its own /etc/hosts")

CHILD = textwrap.dedent("""
    import json, socket, sys, time
    import pytlscheck
    name, port, trust, timeout = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
    if port == 0:
        print(json.dumps([a[4][0] for a in socket.getaddrinfo(name, 443, type=socket.SOCK_STREAM)]))
        sys.exit(0)
    t0 = time.monotonic()
    r = pytlscheck.check(f"{name}:{port}", trust=trust, timeout=timeout)
    print(json.dumps({"elapsed": time.monotonic() - t0, "kinds": r.kinds, "address": r.address,
                      "messages": [p.message for p in r.problems]}))
""")


def _in_private_hosts(hosts_file, *args, timeout=60):
    """Runs CHILD in a private mount namespace whose /etc/hosts is
    hosts_file (the shared /etc/hosts is never touched)."""
    script = hosts_file.parent / "child.py"
    script.write_text(CHILD)
    cmd = ["unshare", "-m", "--propagation", "private", "sh", "-c",
           'mount --bind "$0" /etc/hosts && exec "$@"', str(hosts_file),
           sys.executable, str(script), *map(str, args)]
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@contextlib.contextmanager
def _listeners(addresses, port, kind):
    """On each address at `port`: nothing ("refused"), or a listener whose
    one queue slot is taken so SYNs go unanswered ("silent")."""
    socks = []
    try:
        for a in addresses:
            if kind == "silent":
                ls = socket.socket()
                ls.bind((a, port))
                ls.listen(0)
                filler = socket.socket()
                filler.settimeout(2)
                filler.connect((a, port))
                socks += [ls, filler]
        yield
    finally:
        for s in socks:
            s.close()


@needs_private_hosts
@pytest.mark.parametrize("kind, n, timeout", [("refused", 12, 5.0), ("silent", 8, 6.0)])
def test_a_name_with_many_addresses_of_which_only_the_last_answers(ca, good, tmp_path, kind, n, timeout):
    root, _ = ca
    name = "many.hostile.test"
    candidates = [f"127.0.0.{i}" for i in range(2, 2 + n)]
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 localhost\n" + "".join(f"{a} {name}\n" for a in candidates))
    trust = tmp_path / "root.pem"
    trust.write_text(root.pem)
    order = _in_private_hosts(hosts, name, 0, trust, 1)
    assert sorted(order) == sorted(candidates)      # getaddrinfo may reorder (RFC 6724)
    last, others = order[-1], order[:-1]
    leaf = ca[1].leaf(name, last)
    with tls_server(pem_of(leaf, ca[1]), leaf.key_pem, host=last) as (_, port), \
            _listeners(others, port, kind):
        got = _in_private_hosts(hosts, name, port, trust, timeout)
    assert got["kinds"] == [], got["messages"]
    assert got["address"] == last
    assert got["elapsed"] <= timeout + MARGIN


def _many_hosts(tmp_path, name, n):
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 localhost\n" + "".join(f"127.0.0.{i} {name}\n" for i in range(2, 2 + n)))
    return hosts


@needs_private_hosts
def test_many_addresses_twin_none_answers_and_every_attempt_is_named(ca, tmp_path):
    """With 5 addresses all refusing, the refusal names each of them."""
    name = "few.hostile.test"
    hosts = _many_hosts(tmp_path, name, 5)
    trust = tmp_path / "root.pem"
    trust.write_text(ca[0].pem)
    with closed_port_on("127.0.0.2") as port:
        failed = _in_private_hosts(hosts, name, port, trust, 3.0)
    assert failed["kinds"] == ["connection_refused"]
    for i in range(2, 7):
        assert f"127.0.0.{i}: the connection was refused" in failed["messages"][0]


@needs_private_hosts
def test_many_addresses_every_attempt_is_named_or_counted(ca, tmp_path):
    name = "many.hostile.test"
    hosts = _many_hosts(tmp_path, name, 12)
    trust = tmp_path / "root.pem"
    trust.write_text(ca[0].pem)
    with closed_port_on("127.0.0.2") as port:
        failed = _in_private_hosts(hosts, name, port, trust, 3.0)
    assert failed["kinds"] == ["connection_refused"]
    message = failed["messages"][0]
    named = [i for i in range(2, 14) if f"127.0.0.{i}:" in message]
    assert len(named) == 12 or f"{12 - len(named)} more" in message, message


@contextlib.contextmanager
def closed_port_on(host):
    with socket.socket() as s:
        s.bind((host, 0))
        port = s.getsockname()[1]
    yield port


# ---- the fuzz corpus, replayed without libFuzzer ---------------------------

@pytest.mark.skipif(shutil.which("make") is None or shutil.which("cc") is None,
                    reason="needs make and a C compiler")
def test_fuzz_corpus_and_crashers_replay_cleanly():
    """Every seed of csrc/fuzz/corpus and every crasher kept in
    csrc/fuzz/regressions runs through the fuzz targets built without
    libFuzzer (csrc/fuzz/replay_main.c): the regression test of each bug
    the fuzzers found."""
    done = subprocess.run(["make", "-s", "-C", os.path.join(REPO, "csrc", "fuzz"), "replay-run"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    for target in ("cert", "hostname", "verify", "handshake", "fetch"):
        assert f"replay_{target}:" in done.stdout
    assert " 0 inputs" not in done.stdout
