"""Live checks against real servers on loopback: every connection and
handshake kind is produced by a real (mis)configured server, each failing
case next to a working twin where one exists, and every check returns
within its timeout plus a small margin.

Servers come from tests/servers.py; certificates are minted per session
with tests/pki.py.  Network traffic stays on 127.0.0.1 / ::1 (the DNS case
looks up a name under the reserved .invalid TLD and never connects).
"""
from __future__ import annotations

import ssl
import time

import pytest

import pytlscheck
from pki import CA, pem_of
from servers import (blackhole_port, closed_port, have_openssl_cli, ipv6_available,
                     openssl_server, raw_server, tls_server)

MARGIN = 2.0      # seconds a check may take beyond its timeout (loaded CI machines)

needs_openssl = pytest.mark.skipif(not have_openssl_cli(), reason="needs the openssl command line tool")


def timed_check(target, *, timeout=5.0, **kw):
    """check(), asserting it returned within timeout + MARGIN."""
    t0 = time.monotonic()
    report = pytlscheck.check(target, timeout=timeout, **kw)
    elapsed = time.monotonic() - t0
    assert elapsed <= timeout + MARGIN, f"check took {elapsed:.2f} s with timeout {timeout}"
    return report


def only(report, kind):
    """The report's single error, which must be of `kind`."""
    assert [p.kind for p in report.errors] == [kind], report.explain()
    assert not report.ok
    return report.errors[0]


@pytest.fixture(scope="module")
def pki():
    root = CA.root("Live Test Root CA")
    inter = root.intermediate("Live Test Issuing CA")
    leaf = inter.leaf("localhost", "127.0.0.1", "::1")
    client_ca = CA.root("Live Test Client CA")
    client = client_ca.leaf("test client", eku=["clientAuth"])
    other_client = CA.root("Some Other CA").leaf("stranger", eku=["clientAuth"])
    return {
        "root": root, "inter": inter, "leaf": leaf, "chain": pem_of(leaf, inter),
        "client_ca": client_ca, "client": client, "other_client": other_client,
    }


@pytest.fixture(scope="module")
def good_server(pki):
    with tls_server(pki["chain"], pki["leaf"].key_pem) as addr:
        yield addr


# ---- connection kinds ------------------------------------------------------

def test_dns_failure_for_a_reserved_invalid_name():
    r = timed_check("nonexistent.invalid:443")
    p = only(r, "dns_failure")
    assert "nonexistent.invalid" in p.message
    assert p.inspect_command == "getent ahosts nonexistent.invalid"
    assert r.address is None and r.timings["dns"] is not None and r.timings["dns"] >= 0
    with pytest.raises(pytlscheck.DNSLookupFailed):
        pytlscheck.verify("nonexistent.invalid:443", timeout=5)


def test_connection_refused_on_a_closed_port():
    with closed_port() as (host, port):
        r = timed_check(f"{host}:{port}")
    p = only(r, "connection_refused")
    assert "ECONNREFUSED" in p.message
    assert f"timeout 10 openssl s_client -connect {host}:{port}" in p.inspect_command
    assert r.address is None and r.timings["connect"] is None
    with closed_port() as (host, port), pytest.raises(ConnectionRefusedError):
        pytlscheck.verify(f"{host}:{port}", timeout=5)


def test_connection_refused_names_every_address_of_a_name():
    with closed_port() as (_, port):
        r = timed_check(f"localhost:{port}")
    p = only(r, "connection_refused")
    assert "127.0.0.1" in p.message
    assert r.server_name == "localhost"
    assert "-servername localhost" in p.inspect_command


def test_connection_timeout_when_syns_get_no_answer():
    # A listener with a full backlog drops SYNs: see servers.blackhole_port.
    with blackhole_port() as (host, port):
        t0 = time.monotonic()
        r = timed_check(f"{host}:{port}", timeout=1.0)
        elapsed = time.monotonic() - t0
    p = only(r, "connection_timeout")
    assert elapsed >= 0.9
    assert "no answer to the TCP connection attempt within 1.0 s" in p.message
    assert p.exception is pytlscheck.ConnectionTimedOut
    assert issubclass(p.exception, TimeoutError)


@pytest.mark.parametrize("mode, detail", [
    ("reset", "ECONNRESET"),
    ("close_after_hello", "closed the connection right after the ClientHello"),
])
def test_connection_reset_during_the_handshake(mode, detail):
    with raw_server(mode) as (host, port):
        r = timed_check(f"{host}:{port}")
    p = only(r, "connection_reset")
    assert detail in p.message
    assert r.address == "127.0.0.1"     # TCP worked: the address answered
    assert r.timings["connect"] is not None


def test_handshake_timeout_on_a_silent_server():
    with raw_server("silent") as (host, port):
        t0 = time.monotonic()
        r = timed_check(f"{host}:{port}", timeout=1.0)
        elapsed = time.monotonic() - t0
    p = only(r, "handshake_timeout")
    assert 0.9 <= elapsed <= 1.0 + MARGIN
    assert "sent nothing in the 1.0 s after the ClientHello" in p.message
    assert issubclass(p.exception, TimeoutError)


# ---- not TLS at all --------------------------------------------------------

@pytest.mark.parametrize("mode, detail, banner", [
    ("http", "it answered with plain HTTP: 'HTTP/1.1 400 Bad Request'", "HTTP/1.1 400"),
    ("ssh", "it is an SSH server (its banner: 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3')", "SSH-2.0-"),
    ("smtp", "it is an SMTP server (its banner: '220 mail.example.test ESMTP Postfix (Debian/GNU)')", "220 "),
    ("garbage", "its first bytes are not a TLS record: '\\x00\\x01\\x02", "\\x00\\x01"),
])
def test_not_tls_says_what_answered_instead(mode, detail, banner):
    with raw_server(mode) as (host, port):
        r = timed_check(f"{host}:{port}")
    p = only(r, "not_tls")
    assert detail in p.message
    assert r.peer_banner is not None and r.peer_banner.startswith(banner)
    assert p.exception is pytlscheck.NotTLS


def test_not_tls_twin_the_same_port_number_serving_tls_is_fine(pki, good_server):
    host, port = good_server
    r = timed_check(f"{host}:{port}", trust=pki["root"].pem)
    assert r.ok, r.explain()
    assert r.peer_banner is None


# ---- handshake kinds -------------------------------------------------------

@needs_openssl
@pytest.mark.parametrize("flag, version", [("-tls1", "TLS 1.0"), ("-tls1_1", "TLS 1.1")])
def test_protocol_mismatch_names_the_old_version(pki, flag, version):
    with openssl_server(flag, "-cipher", "DEFAULT@SECLEVEL=0",
                        cert=pki["chain"], key=pki["leaf"].key_pem) as (host, port):
        r = timed_check(f"{host}:{port}", trust=pki["root"].pem)
    p = only(r, "protocol_mismatch")
    assert f"the server only speaks {version}, which modern clients refuse (RFC 8996)" in p.message
    assert p.exception is pytlscheck.ProtocolVersionMismatch
    assert "-tls1_2" in p.inspect_command


def test_protocol_mismatch_twin_tls12_only_is_fine(pki):
    with tls_server(pki["chain"], pki["leaf"].key_pem, max_version="TLSv1.2") as (host, port):
        r = timed_check(f"{host}:{port}", trust=pki["root"].pem)
    assert r.ok, r.explain()
    assert r.protocol == "TLSv1.2"


@needs_openssl
def test_no_shared_cipher_names_the_suite_the_server_wants(pki):
    with openssl_server("-tls1_2", "-cipher", "ECDHE-ECDSA-NULL-SHA:@SECLEVEL=0",
                        cert=pki["chain"], key=pki["leaf"].key_pem) as (host, port):
        r = timed_check(f"{host}:{port}", trust=pki["root"].pem)
    p = only(r, "no_shared_cipher")
    assert "ECDHE-ECDSA-NULL-SHA" in p.message and "TLS 1.2" in p.message
    assert p.exception is pytlscheck.NoSharedCipher
    # In order, without contradicting itself: what the server picked, that
    # clients refuse it, and why (NULL: no encryption at all).
    assert "accepted no cipher suite" not in p.message
    said = [p.message.index(w) for w in ("server picked", "refuses that suite",
                                         "NULL means no encryption at all")]
    assert said == sorted(said), p.message


def test_no_shared_cipher_twin_a_modern_suite_is_fine(pki):
    with tls_server(pki["chain"], pki["leaf"].key_pem, max_version="TLSv1.2",
                    ciphers="ECDHE-ECDSA-AES128-GCM-SHA256") as (host, port):
        r = timed_check(f"{host}:{port}", trust=pki["root"].pem)
    assert r.ok, r.explain()
    assert r.cipher == "ECDHE-ECDSA-AES128-GCM-SHA256"


@pytest.mark.parametrize("max_version, alert", [
    (None, "'certificate required' (116)"),      # TLS 1.3: the alert follows the handshake
    ("TLSv1.2", "'handshake failure' (40)"),     # TLS 1.2: it replaces the server's Finished
])
def test_client_certificate_required_and_its_twin(pki, tmp_path, max_version, alert):
    with tls_server(pki["chain"], pki["leaf"].key_pem, require_client_cert=True,
                    client_ca=pki["client_ca"].pem, max_version=max_version) as (host, port):
        r = timed_check(f"{host}:{port}", trust=pki["root"].pem)
        p = only(r, "client_certificate_required")
        assert alert in p.message
        assert r.client_certificate_requested
        assert r.client_ca_names == []      # Python's ssl sends no CA names
        assert p.exception is pytlscheck.ClientCertificateRequired

        # the twin: the same server, given the client certificate (as files)
        cert = tmp_path / "client.pem"
        key = tmp_path / "client.key"
        cert.write_text(pki["client"].pem)
        key.write_text(pki["client"].key_pem)
        ok = timed_check(f"{host}:{port}", trust=pki["root"].pem,
                         client_cert=str(cert), client_key=str(key))
        assert ok.ok, ok.explain()
        assert ok.client_certificate_requested
        assert ok.protocol == ("TLSv1.2" if max_version else "TLSv1.3")


@needs_openssl
@pytest.mark.parametrize("extra", [(), ("-tls1_2",)])
def test_client_certificate_required_by_openssl_s_server(pki, extra):
    with openssl_server("-Verify", "1", *extra, client_ca=pki["client_ca"].pem,
                        cert=pki["chain"], key=pki["leaf"].key_pem) as (host, port):
        r = timed_check(f"{host}:{port}", trust=pki["root"].pem)
        only(r, "client_certificate_required")
        assert r.client_ca_names == ["CN=Live Test Client CA"]   # s_server -CAfile sends them
        ok = timed_check(f"{host}:{port}", trust=pki["root"].pem,
                         client_cert=pki["client"].pem, client_key=pki["client"].key_pem)
        assert ok.ok, ok.explain()


def test_optional_client_certificate_is_a_warning_not_an_error(pki):
    with tls_server(pki["chain"], pki["leaf"].key_pem, request_client_cert=True,
                    client_ca=pki["client_ca"].pem) as (host, port):
        r = timed_check(f"{host}:{port}", trust=pki["root"].pem)
    assert r.ok, r.explain()
    assert r.client_certificate_requested
    assert r.kinds == ["client_certificate_requested"]
    assert "it named no CA whose certificates it accepts" in r.problems[0].message


def test_handshake_failure_when_the_client_certificate_is_rejected(pki):
    with tls_server(pki["chain"], pki["leaf"].key_pem, require_client_cert=True,
                    client_ca=pki["client_ca"].pem) as (host, port):
        r = timed_check(f"{host}:{port}", trust=pki["root"].pem,
                        client_cert=pki["other_client"].pem,
                        client_key=pki["other_client"].key_pem)
    p = only(r, "handshake_failure")
    assert "rejected the client certificate" in p.message
    assert "'unknown CA' (48)" in p.message
    assert p.exception is pytlscheck.HandshakeFailed


def test_handshake_failure_names_the_alert(pki):
    def refuse_every_name(sock, name, ctx):
        return ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME

    with tls_server(pki["chain"], pki["leaf"].key_pem, sni_callback=refuse_every_name) as (host, port):
        r = timed_check(f"localhost:{port}", trust=pki["root"].pem)
    p = only(r, "handshake_failure")
    assert "the server sent the alert 'unrecognized name' (112) in answer to the ClientHello" in p.message
    assert "does not serve the server name (SNI)" in p.message
    assert "-servername localhost" in p.inspect_command


def test_handshake_failure_twin_a_server_that_knows_the_name(pki):
    def accept_localhost(sock, name, ctx):
        return None if name == "localhost" else ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME

    with tls_server(pki["chain"], pki["leaf"].key_pem, sni_callback=accept_localhost) as (host, port):
        r = timed_check(f"localhost:{port}", trust=pki["root"].pem)
    assert r.ok, r.explain()


# ---- what a healthy check reports -----------------------------------------

def test_report_fields_of_a_healthy_tls13_endpoint(pki, good_server):
    host, port = good_server
    r = timed_check(f"{host}:{port}", trust=pki["root"].pem)
    assert r.ok and r.problems == [], r.explain()
    assert r.target == f"{host}:{port}"
    assert r.address == "127.0.0.1" and r.port == port
    assert r.server_name is None            # no SNI for an IP literal
    assert r.protocol == "TLSv1.3"
    assert r.cipher.startswith("TLS_")
    assert r.group == "X25519"
    assert r.alpn == "h2"
    assert r.ocsp_stapled is False
    assert r.client_certificate_requested is False
    assert [c.common_name for c in r.chain] == ["localhost", "Live Test Issuing CA"]
    t = r.timings
    assert t["dns"] == 0                     # an IP literal needs no lookup
    assert t["connect"] >= 0 and t["handshake"] >= 0
    assert t["total"] >= t["handshake"] and t["total"] >= t["connect"]


def test_report_fields_by_name_with_sni_and_tls12(pki):
    with tls_server(pki["chain"], pki["leaf"].key_pem, max_version="TLSv1.2", alpn=None) as (host, port):
        r = timed_check(f"localhost:{port}", trust=pki["root"].pem)
    assert r.ok, r.explain()
    assert r.server_name == "localhost"
    assert r.protocol == "TLSv1.2"
    assert r.group == "X25519"               # ECDHE in TLS 1.2 has a group too
    assert r.alpn is None                     # the server offered no ALPN
    assert r.timings["dns"] >= 0


def test_server_name_verifies_another_name_than_the_address(pki, good_server):
    host, port = good_server
    r = timed_check(f"{host}:{port}", server_name="api.internal.test", trust=pki["root"].pem)
    p = only(r, "hostname_mismatch")
    assert r.server_name == "api.internal.test" and r.hostname == "api.internal.test"
    assert f"-connect {host}:{port} -servername api.internal.test" in p.inspect_command


@pytest.mark.skipif(not ipv6_available(), reason="no IPv6 loopback (::1) on this machine")
def test_ipv6_loopback(pki):
    with tls_server(pki["chain"], pki["leaf"].key_pem, host="::1") as (host, port):
        r = timed_check(f"[::1]:{port}", trust=pki["root"].pem)
    assert r.ok, r.explain()
    assert r.address == "::1"
    assert r.target == f"[::1]:{port}"
    with raw_server("http", host="::1") as (host, port):
        r = timed_check(f"[::1]:{port}")
    only(r, "not_tls")


def test_explain_of_a_misconfigured_server_says_what_to_change(pki):
    # The "done when" of the issue: plain HTTP on the TLS port.
    with raw_server("http") as (host, port):
        text = timed_check(f"{host}:{port}", trust=pki["root"].pem).explain()
    assert "plain HTTP" in text
    assert "listen 443 ssl" in text
    assert f"openssl s_client -connect {host}:{port}" in text
