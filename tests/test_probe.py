"""The probe (issue 15): check(..., probe=True) against real `openssl s_server`
configurations on loopback, one per question the probe answers.

Every server here is s_server, which serves one connection at a time: the
probe's connections run one after the other, each closed before the next
(a probe that queued one behind another would hang until the deadline)."""
from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time

import pytest

import pytlscheck
from pki import CA
from servers import have_openssl_cli, openssl_server

pytestmark = pytest.mark.skipif(not have_openssl_cli(),
                                reason="needs the openssl command line tool")

PROTOCOLS = ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")


@pytest.fixture(scope="module")
def pki():
    root = CA.root("Probe Test Root CA")
    inter = root.intermediate("Probe Test Issuing CA")
    leaf = inter.leaf("localhost", "127.0.0.1")
    rsa_leaf = inter.leaf("localhost", "127.0.0.1", key_type="rsa", bits=2048)
    return {"root": root, "inter": inter, "leaf": leaf, "rsa": rsa_leaf}


def serve(pki, *args, leaf="leaf"):
    issued = pki[leaf]
    return openssl_server(*args, cert=issued.pem + pki["inter"].pem, key=issued.key_pem)


def probe_of(pki, addr, **kw):
    host, port = addr
    return pytlscheck.check(f"{host}:{port}", trust=pki["root"].pem, probe=True, **kw)


def test_no_probe_by_default(pki):
    with serve(pki) as addr:
        r = pytlscheck.check(f"{addr[0]}:{addr[1]}", trust=pki["root"].pem)
    assert r.ok and r.probe is None
    assert r.to_dict()["probe"] is None


def test_tls13_server(pki):
    with serve(pki, "-tls1_3") as addr:
        t0 = time.monotonic()
        r = probe_of(pki, addr)
        elapsed = time.monotonic() - t0
    p = r.probe
    assert isinstance(p, pytlscheck.Probe)
    assert r.ok, r.explain()
    assert p.protocols == {"TLSv1": False, "TLSv1.1": False, "TLSv1.2": False, "TLSv1.3": True}
    assert p.handshake_round_trips == 1 and not p.hello_retry_request
    assert p.rtt_ms is not None and 0 < p.rtt_ms < 50
    assert p.cold_start_ms == pytest.approx(p.rtt_ms * 2)
    # s_server's default TLS 1.3 suites, and none of TLS 1.2's.
    assert set(p.cipher_suites["TLSv1.3"]) == {"TLS_AES_256_GCM_SHA384",
                                               "TLS_CHACHA20_POLY1305_SHA256",
                                               "TLS_AES_128_GCM_SHA256"}
    assert p.cipher_suites["TLSv1.2"] == []
    assert "X25519" in p.groups and "P-256" in p.groups and "P-384" in p.groups
    assert p.complete and 2 <= p.connections <= 32
    assert not {"legacy_protocol", "weak_cipher", "no_forward_secrecy", "weak_dh"} & set(r.kinds)
    assert elapsed < 1.0, elapsed          # the loopback bound
    with pytest.raises(Exception):
        p.rtt_ms = 1.0                     # frozen


def test_tls12_only_server(pki):
    with serve(pki, "-tls1_2") as addr:
        r = probe_of(pki, addr)
    p = r.probe
    assert r.protocol == "TLSv1.2"
    assert p.protocols["TLSv1.2"] and not p.protocols["TLSv1.3"]
    assert p.handshake_round_trips == 2
    assert p.cold_start_ms == pytest.approx(p.rtt_ms * 3)
    assert r.cipher in p.cipher_suites["TLSv1.2"]
    assert all("ECDHE-ECDSA" in s for s in p.cipher_suites["TLSv1.2"]), p.cipher_suites
    assert "X25519" in p.groups
    # An EC key: no static-RSA suite can be negotiated.
    assert "no_forward_secrecy" not in r.kinds


def test_hello_retry_request(pki):
    with serve(pki, "-groups", "P-384") as addr:
        r = probe_of(pki, addr)
    p = r.probe
    assert r.ok, r.explain()
    assert p.hello_retry_request and p.hrr_group == "P-384"
    assert p.handshake_round_trips == 2
    assert p.groups == ["P-384"]
    assert "HelloRetryRequest" in r.explain() and "P-384" in r.explain()


def test_legacy_protocols_accepted(pki):
    with serve(pki, "-cipher", "DEFAULT:@SECLEVEL=0", "-legacy_renegotiation") as addr:
        r = probe_of(pki, addr)
    p = r.probe
    assert p.protocols["TLSv1"] and p.protocols["TLSv1.1"], p
    assert p.cipher_suites["TLSv1"] and p.cipher_suites["TLSv1.1"]
    w = [x for x in r.problems if x.kind == "legacy_protocol"]
    assert len(w) == 1 and w[0].severity == "warning"
    assert "TLS 1.0 and TLS 1.1" in w[0].message
    assert w[0].exception is pytlscheck.LegacyProtocolAccepted
    assert r.ok                              # warnings only


def test_null_and_static_rsa_suites(pki):
    suites = "NULL-SHA256:AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0"
    with serve(pki, "-tls1_2", "-cipher", suites, leaf="rsa") as addr:
        r = probe_of(pki, addr)
    p = r.probe
    found = set(p.cipher_suites["TLSv1.2"])
    assert found == {"NULL-SHA256", "AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256"}, found
    weak = [x for x in r.problems if x.kind == "weak_cipher"]
    assert weak and "NULL-SHA256" in weak[0].message
    assert "no encryption at all" in weak[0].message
    nofs = [x for x in r.problems if x.kind == "no_forward_secrecy"]
    assert nofs and "AES128-GCM-SHA256" in nofs[0].message
    assert "weak_dh" not in r.kinds


def test_small_dh_group(pki):
    with serve(pki, "-tls1_2", "-cipher", "DHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0",
               "-dhparam", _dhparam(1024), leaf="rsa") as addr:
        r = probe_of(pki, addr)
    w = [x for x in r.problems if x.kind == "weak_dh"]
    assert w and "1024-bit" in w[0].message, r.explain()
    assert "no_forward_secrecy" not in r.kinds


_DH = {}


def _dhparam(bits):
    if bits not in _DH:
        import tempfile
        d = tempfile.mkdtemp()
        path = f"{d}/dh{bits}.pem"
        subprocess.run(["openssl", "genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt",
                        f"dh_paramgen_prime_len:{bits}", "-pkeyopt", "dh_paramgen_generator:2",
                        "-out", path], check=True, capture_output=True, timeout=120)
        _DH[bits] = path
    return _DH[bits]


def test_http2_follows_alpn(pki):
    with serve(pki, "-alpn", "h2,http/1.1") as addr:
        assert probe_of(pki, addr).probe.http2
    with serve(pki, "-alpn", "http/1.1") as addr:
        assert not probe_of(pki, addr).probe.http2


def test_handshake_cost_uses_measured_values(pki):
    with serve(pki, "-tls1_2") as addr:
        p = probe_of(pki, addr).probe
    assert p.handshake_cost(1_000_000) == pytest.approx(1_000_000 * 2 * p.rtt_ms / 1000)
    assert p.handshake_cost(1_000_000, 0.8) == pytest.approx(200_000 * 2 * p.rtt_ms / 1000)
    with pytest.raises(ValueError):
        p.handshake_cost(-1)


def test_unreachable_server_has_no_survey(pki):
    from servers import closed_port
    with closed_port() as (host, port):
        r = pytlscheck.check(f"{host}:{port}", probe=True, timeout=2)
    assert "connection_refused" in r.kinds
    assert r.probe is not None and r.probe.rtt_ms is None and r.probe.connections == 1


def test_check_many_and_async(pki):
    with serve(pki, "-tls1_3") as a, serve(pki, "-tls1_2") as b:
        targets = [f"{h}:{p}" for h, p in (a, b)]
        many = pytlscheck.check_many(targets, trust=pki["root"].pem, probe=True)
        assert [r.probe.protocols["TLSv1.3"] for r in many] == [True, False]
        assert [r.probe.handshake_round_trips for r in many] == [1, 2]
        items = dict(pytlscheck.iter_check_many(targets, trust=pki["root"].pem, probe=True))
        assert items[1].probe.protocols["TLSv1.2"]
        r = asyncio.run(pytlscheck.check_async(targets[0], trust=pki["root"].pem, probe=True))
        assert r.probe.protocols["TLSv1.3"]
        rs = asyncio.run(pytlscheck.check_many_async(targets, trust=pki["root"].pem, probe=True))
        assert rs[1].probe.cipher_suites["TLSv1.2"]
        assert pytlscheck.verify(targets[0], trust=pki["root"].pem, probe=True).probe is not None
        # Without probe=True, no survey on the same batch.
        assert all(r.probe is None for r in pytlscheck.check_many(targets, trust=pki["root"].pem))


def test_report_round_trips_through_json(pki):
    with serve(pki) as addr:
        r = probe_of(pki, addr)
    d = json.loads(r.to_json())
    assert set(d["probe"]["protocols"]) == set(PROTOCOLS)
    back = pytlscheck.Report(d)
    assert back.probe == r.probe


def test_cli_probe(pki, tmp_path):
    root = tmp_path / "root.pem"
    root.write_text(pki["root"].pem)
    with serve(pki, "-tls1_3") as (host, port):
        text = subprocess.run([sys.executable, "-m", "pytlscheck", f"{host}:{port}", "--trust",
                               str(root), "--probe"], capture_output=True, text=True, timeout=60)
        js = subprocess.run([sys.executable, "-m", "pytlscheck", f"{host}:{port}", "--trust",
                             str(root), "--probe", "--json"], capture_output=True, text=True,
                            timeout=60)
    assert text.returncode == 0, text.stdout + text.stderr
    assert "Handshake economics" in text.stdout and "Protocol support" in text.stdout
    data = json.loads(js.stdout)["results"][0]
    assert data["probe"]["protocols"]["TLSv1.3"] is True
    assert data["probe"]["handshake_round_trips"] == 1


def test_notebook_timeline(pki):
    with serve(pki, "-tls1_2") as addr:
        r = probe_of(pki, addr)
    html = r._repr_html_()
    assert html.count('<svg data-role="timeline"') == 2 and "<script" not in html
    # Full: TCP plus two TLS round trips; resumed: TCP plus its handshake.
    assert html.count("<rect") == 5
    assert f"{r.probe.rtt_ms:.1f} ms" in html
    assert f"{r.probe.resumed_handshake_ms:.1f} ms measured" in html


def test_resumption_tls13_ticket(pki):
    with serve(pki, "-tls1_3") as addr:
        p = probe_of(pki, addr).probe
    assert p.resumption == "accepted", p
    assert p.resumption_mechanism == "ticket"
    assert p.ticket_lifetime_s and p.ticket_lifetime_s > 0
    assert p.resumed_round_trips == 1
    assert p.resumed_handshake_ms is not None and p.resumed_handshake_ms > 0


def test_resumption_tls12_session_id(pki):
    # No tickets: only the server's session cache, which keeps the session
    # only after a clean close (close_notify).
    with serve(pki, "-tls1_2", "-no_ticket") as addr:
        p = probe_of(pki, addr).probe
    assert p.resumption == "accepted", p
    assert p.resumption_mechanism == "session_id"
    assert p.ticket_lifetime_s is None
    assert p.resumed_round_trips == 1


def test_resumption_unsupported(pki):
    with serve(pki, "-tls1_2", "-no_ticket", "-no_cache") as addr:
        p = probe_of(pki, addr).probe
    assert p.resumption == "unsupported", p
    assert p.resumption_mechanism is None and p.resumed_round_trips is None


def test_resumption_refused(pki):
    # TLS 1.3 with -no_ticket means stateful tickets, kept in the server's
    # session cache; with no cache the server issues tickets it cannot
    # resume: a ticket, then a full handshake when it is offered.
    with serve(pki, "-tls1_3", "-no_ticket", "-no_cache") as addr:
        p = probe_of(pki, addr).probe
    assert p.resumption == "refused", p
    assert p.resumption_mechanism == "ticket"
    assert p.resumed_round_trips is None and p.resumed_handshake_ms is None


def test_resumption_no_ticket_sent(pki):
    # TLS 1.3, no ticket at all: the probe waits (bounded) for one after
    # the handshake, then says unsupported.
    with serve(pki, "-tls1_3", "-num_tickets", "0") as addr:
        p = probe_of(pki, addr).probe
    assert p.resumption == "unsupported", p


def test_early_data_accepted(pki):
    with serve(pki, "-tls1_3", "-early_data") as addr:
        r = probe_of(pki, addr)
    p = r.probe
    assert p.early_data == "accepted", p
    assert p.max_early_data and p.max_early_data > 0
    assert p.resumption == "accepted" and p.resumed_round_trips == 0
    assert "replayed" in r.explain()


def test_early_data_rejected_after_hello_retry(pki):
    # The client's key share is X25519; the server wants P-384: the resumed
    # ClientHello meets a HelloRetryRequest, which rejects early data.
    with serve(pki, "-tls1_3", "-early_data", "-groups", "P-384") as addr:
        p = probe_of(pki, addr).probe
    assert p.early_data == "rejected", p
    assert p.max_early_data and p.max_early_data > 0


def test_early_data_unsupported(pki):
    with serve(pki, "-tls1_3") as addr:
        p = probe_of(pki, addr).probe
    assert p.early_data == "unsupported" and p.max_early_data == 0, p


def test_a_server_that_stops_answering_leaves_versions_untested(pki):
    """`s_server -naccept 1` serves the check's own connection and exits:
    the survey's connections are refused.  The version the check itself
    negotiated is accepted; the others are not known, and are never said
    to be refused."""
    with serve(pki, "-naccept", "1") as addr:
        r = probe_of(pki, addr)
    p = r.probe
    assert r.protocol == "TLSv1.3" and p.protocols["TLSv1.3"] is True
    assert not p.complete
    assert set(p.untested_protocols) == {"TLSv1", "TLSv1.1", "TLSv1.2"}
    assert r.to_dict()["probe"]["untested_protocols"] == ["TLSv1", "TLSv1.1", "TLSv1.2"]
    text = " ".join(r.explain().split())
    assert "TLS 1.3: accepted" in text
    for name in ("TLS 1.0", "TLS 1.1", "TLS 1.2"):
        assert f"{name}: not tested" in text and f"{name}: refused" not in text


def test_a_complete_survey_tests_every_version(pki):
    with serve(pki) as addr:
        p = probe_of(pki, addr).probe
    assert p.complete and p.untested_protocols == []
