"""The built-in lab: every endpoint yields the kind it was built for, and
its good twin (the same server, with the one thing it breaks put right)
passes, which proves the diagnosis depended on that one thing."""
from __future__ import annotations

import os
import socket
import ssl
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

import pytlscheck
import pytlscheck.testing
from pytlscheck.lab import SCENARIOS, Lab


@pytest.fixture(scope="module")
def lab():
    with Lab() as lab:
        yield lab


def kinds(report):
    return [p.kind for p in report.problems]


def served(lab, name):
    """The certificates a lab endpoint serves."""
    return pytlscheck.Certificate.load(lab[name].chain_path)


# ---- each endpoint: its expected kind -----------------------------------------

@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_endpoint_yields_its_expected_kind(lab, scenario):
    report = lab.check(scenario.name)
    if scenario.expected_kind is None:
        assert report.ok and report.problems == [], report.explain()
    else:
        assert scenario.expected_kind in kinds(report), report.explain()
        expected_severity = pytlscheck.KINDS[scenario.expected_kind].severity
        first = next(p for p in report.problems if p.kind == scenario.expected_kind)
        assert first.severity == expected_severity
        assert report.ok == (expected_severity == "warning")


# ---- ... and its good twin ------------------------------------------------------

def test_healthy_twin_is_what_every_broken_endpoint_is_compared_with(lab):
    report = lab.check("healthy")
    assert report.ok and not report.problems
    assert report.protocol in ("TLSv1.2", "TLSv1.3")
    assert [c.common_name for c in report.chain] == ["localhost", "pytlscheck lab intermediate"]
    assert report.verified_chain[-1].common_name == "pytlscheck lab root"
    # the negative twin of the trust setting: without the lab root it fails
    assert not pytlscheck.check(lab["healthy"].target, server_name="localhost").ok


@pytest.mark.parametrize("name, days_ago", [("expired", 50), ("not_yet_valid", -50)])
def test_dates_twin_valid_at_another_time(lab, name, days_ago):
    at = datetime.now(timezone.utc) - timedelta(days=days_ago)
    chain = served(lab, name)
    now_report = pytlscheck.verify_chain(chain, hostname="localhost", trust=lab.root_pem_path)
    assert name in kinds(now_report)
    then = pytlscheck.verify_chain(chain, hostname="localhost", trust=lab.root_pem_path,
                                   at=at, min_days=0)
    assert then.ok and then.problems == [], then.explain()


def test_wrong_host_twin_is_the_name_it_was_issued_for(lab):
    assert "hostname_mismatch" in kinds(lab.check("wrong_host"))
    assert lab.check("wrong_host", server_name="www.example.test").ok


def test_wildcard_twin_one_label_deep(lab):
    assert "hostname_mismatch" in kinds(lab.check("wildcard_too_deep"))
    twin = lab.check("wildcard_too_deep", server_name="one.lab.test")
    assert twin.ok and not twin.problems, twin.explain()


def test_self_signed_twin_trusts_the_certificate_itself(lab):
    assert "self_signed" in kinds(lab.check("self_signed"))
    twin = lab.check("self_signed", trust=lab["self_signed"].chain_path)
    assert twin.ok, twin.explain()


def test_untrusted_root_twin_trusts_that_root(lab, tmp_path):
    leaf, other_root = served(lab, "untrusted_root")
    assert other_root.self_signed and other_root.common_name == "Some Private Root CA"
    anchor = tmp_path / "other-root.pem"
    anchor.write_text(other_root.pem)
    assert lab.check("untrusted_root", trust=str(anchor)).ok


def test_missing_intermediate_twin_adds_it(lab):
    (leaf,) = served(lab, "missing_intermediate")
    intermediate = served(lab, "healthy")[1]
    alone = pytlscheck.verify_chain([leaf], hostname="localhost", trust=lab.root_pem_path)
    assert "incomplete_chain" in kinds(alone)
    fixed = pytlscheck.verify_chain([leaf, intermediate], hostname="localhost",
                                    trust=lab.root_pem_path)
    assert fixed.ok and not fixed.problems, fixed.explain()


def test_expiring_soon_twin_lower_threshold(lab):
    assert lab.check("expiring_soon").ok
    assert "expires_soon" in kinds(lab.check("expiring_soon"))
    assert lab.check("expiring_soon", min_days=2).problems == []


def test_client_cert_twin_presents_the_lab_client_certificate(lab):
    assert "client_certificate_required" in kinds(lab.check("client_cert_required"))
    twin = lab.check("client_cert_required", client_cert=lab.client_cert_path,
                     client_key=lab.client_key_path)
    assert twin.ok and not twin.problems, twin.explain()


def test_plain_http_twin_really_is_http(lab):
    ep = lab["plain_http"]
    with socket.create_connection((ep.host, ep.port), timeout=5) as s:
        s.sendall(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
        assert s.recv(100).startswith(b"HTTP/1.1 400")


def _legacy_client(lab, protocol=None):
    ctx = ssl.create_default_context(cafile=lab.root_pem_path)
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    if protocol is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = protocol
    return ctx


def _handshake(ctx, ep, server_name="localhost"):
    with socket.create_connection((ep.host, ep.port), timeout=5) as s:
        with ctx.wrap_socket(s, server_hostname=server_name) as tls:
            return tls.version()


def test_tls1_0_twin_an_old_client_gets_through(lab):
    # The server is up and sound; a client that still allows TLS 1.0 is served.
    ep = lab["tls1_0_only"]
    assert _handshake(_legacy_client(lab, ssl.TLSVersion.TLSv1), ep) == "TLSv1"
    # and the modern default refuses, as pytlscheck reports
    with pytest.raises(ssl.SSLError):
        _handshake(ssl.create_default_context(cafile=lab.root_pem_path), ep)


@pytest.mark.parametrize("name", ["weak_key", "sha1_signature"])
def test_weak_twins_verify_under_a_permissive_client(lab, name):
    # At security level 0 the same chain verifies: only its strength is wrong.
    assert _handshake(_legacy_client(lab), lab[name])
    with pytest.raises(ssl.SSLCertVerificationError):
        _handshake(ssl.create_default_context(cafile=lab.root_pem_path), lab[name])


# ---- the lab itself ---------------------------------------------------------------

def test_endpoints_and_files(lab):
    assert list(lab.endpoints) == [s.name for s in SCENARIOS]
    ports = {ep.port for ep in lab}
    assert len(ports) == len(SCENARIOS)
    for ep in lab:
        assert ep.host == "127.0.0.1"
        assert ep.target == f"127.0.0.1:{ep.port}"
        assert ep.description
    assert open(lab.root_pem_path).read() == lab.root_pem
    root = pytlscheck.Certificate.load(lab.root_pem_path)[0]
    assert root.is_ca and root.self_signed
    client = pytlscheck.Certificate.load(lab.client_cert_path)
    assert "clientAuth" in client[0].extended_key_usage
    assert oct(os.stat(lab.client_key_path).st_mode & 0o777) == "0o600"
    assert lab["plain_http"].chain_path is None


def test_many_concurrent_connections(lab):
    ep = lab["healthy"]
    ctx = ssl.create_default_context(cafile=lab.root_pem_path)

    def fetch(_):
        with socket.create_connection((ep.host, ep.port), timeout=10) as s:
            with ctx.wrap_socket(s, server_hostname="localhost") as tls:
                tls.sendall(b"GET / HTTP/1.0\r\n\r\n")
                data = b""
                while chunk := tls.recv(4096):
                    data += chunk
                return data

    with ThreadPoolExecutor(max_workers=40) as pool:
        answers = list(pool.map(fetch, range(200)))
    assert all(a.endswith(b"pytlscheck lab: endpoint healthy\n") for a in answers)


def test_subset_and_close_stops_everything():
    before = {t.name for t in threading.enumerate()}
    lab = Lab(only=["healthy", "plain_http"])
    with lab:
        assert set(lab.endpoints) == {"healthy", "plain_http"}
        port = lab["healthy"].port
        directory = lab.directory
        assert lab.check("healthy").ok
        assert "running" in repr(lab)
    assert lab.directory is None and not os.path.exists(directory)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    leftover = {t.name for t in threading.enumerate()} - before
    assert not [n for n in leftover if n.startswith("pytlscheck-lab")], leftover
    lab.close()  # idempotent


def test_close_cuts_off_a_silent_client(monkeypatch):
    # A client that connects and never sends a ClientHello holds a worker
    # until the server's I/O timeout; closing the lab must not wait for it.
    # With that timeout made an hour long, close() returning at all proves it.
    import pytlscheck.lab as labmod

    monkeypatch.setattr(labmod, "IO_TIMEOUT", 3600.0)
    lab = Lab(only=["healthy"]).start()
    s = socket.create_connection(("127.0.0.1", lab["healthy"].port), timeout=5)
    try:
        # connected and silent; wait until a worker holds it
        for _ in range(500):
            if lab._servers._live:
                break
            threading.Event().wait(0.01)
        assert lab._servers._live
        closer = threading.Thread(target=lab.close)
        closer.start()
        closer.join(timeout=60)
        assert not closer.is_alive(), "Lab.close() is waiting for a silent client"
        try:
            data = s.recv(10)
        except ConnectionResetError:
            data = b""
        assert data == b""  # the server side was shut down
    finally:
        s.close()


def test_bad_subset_names():
    with pytest.raises(ValueError, match="no_such_scenario"):
        Lab(only=["no_such_scenario"])
    with pytest.raises(TypeError):
        Lab(only="healthy")


# ---- verify(): the expiry window raises, as assert_tls_healthy fails --------

def test_verify_raises_expires_soon_inside_min_days(lab):
    ep = lab["expiring_soon"]           # 5 days left
    with pytest.raises(pytlscheck.CertificateExpiresSoon) as info:
        pytlscheck.verify(ep.target, server_name=ep.server_name, trust=lab.root_pem_path,
                          min_days=30)
    assert info.value.problem.kind == "expires_soon"
    assert info.value.report.ok          # a warning: the report itself is ok
    with pytest.raises(AssertionError):
        pytlscheck.testing.assert_tls_healthy(ep, trust=lab.root_pem_path, min_days=30)


def test_verify_outside_the_window_or_without_one_returns(lab):
    ep = lab["expiring_soon"]
    for window in ({"min_days": 3}, {"min_days": None}):
        report = pytlscheck.verify(ep.target, server_name=ep.server_name,
                                   trust=lab.root_pem_path, **window)
        assert report.ok and "expires_soon" not in kinds(report)


def test_verify_raises_errors_before_the_window(lab):
    ep = lab["wrong_host"]
    with pytest.raises(pytlscheck.HostnameMismatch):
        pytlscheck.verify(ep.target, server_name=ep.server_name, trust=lab.root_pem_path,
                          min_days=100000)
