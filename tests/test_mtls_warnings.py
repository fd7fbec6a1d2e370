"""Mutual TLS warnings (issue 13, item 18): a server that asks for a client
certificate and gets none, and a client certificate from none of the CAs
the server lists, are said, naming the accepted CAs.  Real openssl s_server
with optional client verification (-verify 1), which lists its -CAfile."""
import pytest

import pytlscheck
from pki import CA, pem_of
from servers import have_openssl_cli, openssl_server

pytestmark = pytest.mark.skipif(not have_openssl_cli(), reason="needs the openssl CLI")


@pytest.fixture(scope="module")
def pki():
    root = CA.root("mTLS Server Root")
    leaf = root.leaf("localhost", "127.0.0.1")
    client_ca = CA.root("mTLS Accepted Client CA")
    return {
        "root": root, "leaf": leaf,
        "client_ca": client_ca,
        "client": client_ca.leaf("good client", eku=["clientAuth"]),
        "stranger": CA.root("mTLS Unlisted CA").leaf("stranger", eku=["clientAuth"]),
    }


@pytest.fixture(params=[(), ("-tls1_2",)], ids=["tls1.3", "tls1.2"])
def server(request, pki):
    with openssl_server("-verify", "1", *request.param, cert=pki["leaf"].pem,
                        key=pki["leaf"].key_pem, client_ca=pki["client_ca"].pem) as addr:
        yield f"{addr[0]}:{addr[1]}"


def test_requested_and_none_given(server, pki):
    r = pytlscheck.check(server, trust=pki["root"].pem, timeout=5)
    assert r.ok and r.kinds == ["client_certificate_requested"], r.explain()
    p = r.problems[0]
    assert p.severity == "warning" and p.exception is pytlscheck.ClientCertificateRequested
    assert "asked for a client certificate" in p.message
    assert "it accepts certificates issued by: CN=mTLS Accepted Client CA" in p.message
    assert p.inspect_command.startswith("timeout 10 openssl s_client -connect ")
    assert "Acceptable client certificate CA names" in p.inspect_command


def test_client_certificate_from_an_unlisted_ca(server, pki):
    r = pytlscheck.check(server, trust=pki["root"].pem, timeout=5,
                         client_cert=pki["stranger"].pem, client_key=pki["stranger"].key_pem)
    assert r.ok and r.kinds == ["client_certificate_not_accepted"], r.explain()
    p = r.problems[0]
    assert p.message.startswith("The client certificate (CN=stranger)"), p.message
    assert "issued by CN=mTLS Unlisted CA" in p.message
    assert "none of the CAs the server says it accepts: CN=mTLS Accepted Client CA" in p.message
    assert p.exception is pytlscheck.ClientCertificateNotAccepted


def test_client_certificate_from_a_listed_ca_is_quiet(server, pki):
    r = pytlscheck.check(server, trust=pki["root"].pem, timeout=5,
                         client_cert=pki["client"].pem, client_key=pki["client"].key_pem)
    assert r.ok and r.problems == [], r.explain()
    assert r.client_certificate_requested


def test_required_and_none_given_stays_one_error(pki):
    with openssl_server("-Verify", "1", cert=pki["leaf"].pem, key=pki["leaf"].key_pem,
                        client_ca=pki["client_ca"].pem) as (h, port):
        r = pytlscheck.check(f"{h}:{port}", trust=pki["root"].pem, timeout=5)
    assert r.kinds == ["client_certificate_required"], r.explain()


def test_verify_does_not_raise_on_these_warnings(server, pki):
    r = pytlscheck.verify(server, trust=pki["root"].pem, timeout=5)
    assert r.kinds == ["client_certificate_requested"]
