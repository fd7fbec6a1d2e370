"""Stapled OCSP responses (issue 15, "OCSP stapling, on every check"): real
`openssl s_server -status_file` servers on loopback staple responses minted
here, at test time, with cryptography's OCSPResponseBuilder (and one with
the `openssl ocsp` responder tool and an index.txt CA database), and
check() reads and verifies each one in the C core: `report.ocsp`, the
`revoked` error for a verified revocation, the `ocsp_staple_invalid`
warning for a staple that cannot be relied on."""
from __future__ import annotations

import datetime as dt
import json
import os
import pickle
import shutil
import subprocess
import sys

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

import pytlscheck
from pki import CA, days, pem_of
from servers import have_openssl_cli, openssl_server

pytestmark = pytest.mark.skipif(not have_openssl_cli(),
                                reason="needs the openssl command line tool")

UTC = dt.timezone.utc


@pytest.fixture(scope="module")
def pki():
    root = CA.root("OCSP Test Root CA")
    inter = root.intermediate("OCSP Test Issuing CA")
    leaf = inter.leaf("localhost", "127.0.0.1")
    other = inter.leaf("other.example")
    responder = inter.leaf("OCSP Test Responder", eku=["OCSPSigning"])
    not_responder = inter.leaf("Not A Responder", eku=["serverAuth"])
    stranger = CA.root("Some Other CA")
    return {"root": root, "inter": inter, "leaf": leaf, "other": other,
            "responder": responder, "not_responder": not_responder,
            "stranger": stranger}


def response(pki, *, cert=None, status="good", this_update=None, next_update="default",
             signer=None, responder_id=None, include=(), revoked_at=None, reason=None,
             hash_alg=None, by_name=False) -> bytes:
    """A DER OCSP response about `cert` (default: the leaf) under the
    issuing CA, signed by `signer` (default: the issuing CA itself)."""
    cert = cert or pki["leaf"]
    signer = signer or pki["inter"]
    st = {"good": ocsp.OCSPCertStatus.GOOD, "revoked": ocsp.OCSPCertStatus.REVOKED,
          "unknown": ocsp.OCSPCertStatus.UNKNOWN}[status]
    b = ocsp.OCSPResponseBuilder().add_response(
        cert=cert.cert, issuer=pki["inter"].cert, algorithm=hash_alg or hashes.SHA1(),
        cert_status=st, this_update=this_update or days(-1 / 24),
        next_update=days(3) if next_update == "default" else next_update,
        revocation_time=(revoked_at or days(-2)) if status == "revoked" else None,
        revocation_reason=(x509.ReasonFlags[reason] if reason else None)
        if status == "revoked" else None)
    b = b.responder_id(ocsp.OCSPResponderEncoding.NAME if by_name else ocsp.OCSPResponderEncoding.HASH,
                       (responder_id or signer).cert)
    if include:
        b = b.certificates([c.cert for c in include])
    return b.sign(signer.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def staple_check(pki, tmp_path, der, *, chain=None, tls="-tls1_3"):
    path = tmp_path / "resp.der"
    path.write_bytes(der)
    with openssl_server("-status_file", str(path), tls,
                        cert=chain or pem_of(pki["leaf"], pki["inter"]),
                        key=pki["leaf"].key_pem) as (host, port):
        r = pytlscheck.check(f"{host}:{port}", trust=pki["root"].pem, timeout=5)
    assert r.ocsp_stapled is True
    assert isinstance(r.ocsp, pytlscheck.OCSPResponse)
    return r


def near(when, expected, slack=2):
    assert when is not None and when.tzinfo is not None
    assert abs((when - expected).total_seconds()) <= slack, (when, expected)


@pytest.mark.parametrize("tls", ["-tls1_3", "-tls1_2"])
def test_good_staple_verifies(pki, tmp_path, tls):
    this, nxt = days(-1 / 24).replace(microsecond=0), days(3).replace(microsecond=0)
    r = staple_check(pki, tmp_path, response(pki, this_update=this, next_update=nxt), tls=tls)
    assert r.ok and r.problems == [], r.explain()
    o = r.ocsp
    assert (o.status, o.verified, o.error, o.revoked_at, o.reason) == ("good", True, None, None, None)
    near(o.this_update, this)
    near(o.next_update, nxt)
    assert r.verified_chain is not None


def test_delegated_responder_with_ocsp_signing_verifies(pki, tmp_path):
    der = response(pki, signer=pki["responder"], include=[pki["responder"]],
                   hash_alg=hashes.SHA256())
    r = staple_check(pki, tmp_path, der)
    assert r.ocsp.verified and r.ocsp.status == "good", r.ocsp
    assert r.problems == [], r.explain()


def test_revoked_staple_is_the_revoked_error(pki, tmp_path):
    when = dt.datetime(2026, 3, 4, 5, 6, tzinfo=UTC)
    r = staple_check(pki, tmp_path, response(pki, status="revoked", revoked_at=when,
                                              reason="key_compromise"))
    o = r.ocsp
    assert (o.status, o.verified, o.reason) == ("revoked", True, "keyCompromise")
    near(o.revoked_at, when)
    p = [p for p in r.errors if p.kind == "revoked"]
    assert len(p) == 1 and not r.ok, r.explain()
    p = p[0]
    assert p.depth == 0 and p.exception is pytlscheck.CertificateRevoked
    assert "has been revoked by its issuer on 2026-03-04 05:06 UTC (reason: keyCompromise)" in p.message
    assert "OCSP response the server staples" in p.message
    assert "-status" in p.inspect_command and "timeout 10 openssl s_client" in p.inspect_command
    assert r.verified_chain is None       # a revocation breaks the path
    with pytest.raises(pytlscheck.CertificateRevoked):
        r.raise_for_problems()


def invalid(r):
    ws = [p for p in r.problems if p.kind == "ocsp_staple_invalid"]
    assert len(ws) == 1, r.explain()
    w = ws[0]
    assert w.severity == "warning" and w.exception is pytlscheck.OCSPStapleInvalid
    assert r.ok, r.explain()                # a warning: the chain itself is fine
    assert "-status" in w.inspect_command and r.target in w.inspect_command
    return w


def test_unknown_staple_is_a_warning(pki, tmp_path):
    r = staple_check(pki, tmp_path, response(pki, status="unknown"))
    assert (r.ocsp.status, r.ocsp.verified, r.ocsp.error) == ("unknown", True, None)
    w = invalid(r)
    assert "does not know the certificate" in w.message


def test_staple_signed_by_the_wrong_key(pki, tmp_path):
    # Names the issuing CA as its signer, but another key signed it: a
    # certificate with the same name and its own key.
    impostor = CA.root("OCSP Test Issuing CA")
    der = response(pki, signer=impostor, by_name=True)
    r = staple_check(pki, tmp_path, der)
    assert r.ocsp.status == "good" and r.ocsp.verified is False
    assert "signature does not verify" in r.ocsp.error
    w = invalid(r)
    assert "signature does not verify with the key of" in w.message
    assert "OCSP Test Issuing CA" in w.message


def test_staple_signed_by_a_stranger_who_says_so(pki, tmp_path):
    der = response(pki, signer=pki["stranger"], include=[pki["stranger"]])
    r = staple_check(pki, tmp_path, der)
    assert r.ocsp.verified is False
    assert "Some Other CA" in r.ocsp.error and "neither the certificate's issuer" in r.ocsp.error
    invalid(r)


def test_staple_signed_by_a_sibling_without_ocsp_signing(pki, tmp_path):
    der = response(pki, signer=pki["not_responder"], include=[pki["not_responder"]])
    r = staple_check(pki, tmp_path, der)
    assert r.ocsp.verified is False and "OCSPSigning" in r.ocsp.error
    invalid(r)


def test_staple_for_another_certificate(pki, tmp_path):
    r = staple_check(pki, tmp_path, response(pki, cert=pki["other"]))
    o = r.ocsp
    assert o.status is None and o.verified is False and o.this_update is None
    serial = format(pki["other"].cert.serial_number, "x")
    serial = "0" * (len(serial) % 2) + serial       # whole bytes, as serial_number writes it
    assert f"another certificate (serial {serial})" in o.error
    w = invalid(r)
    assert f"(serial {r.leaf.serial_number})" in w.message


def test_expired_staple(pki, tmp_path):
    nxt = dt.datetime(2024, 5, 6, 7, 8, tzinfo=UTC)
    der = response(pki, this_update=dt.datetime(2024, 5, 1, tzinfo=UTC), next_update=nxt)
    r = staple_check(pki, tmp_path, der)
    o = r.ocsp
    assert o.status == "good" and o.verified is False
    near(o.next_update, nxt)
    w = invalid(r)
    assert "stale" in w.message and "2024-05-06 07:08 UTC" in w.message


def test_error_answer_stapled(pki, tmp_path):
    der = ocsp.OCSPResponseBuilder.build_unsuccessful(
        ocsp.OCSPResponseStatus.TRY_LATER).public_bytes(serialization.Encoding.DER)
    r = staple_check(pki, tmp_path, der)
    assert r.ocsp.status is None and r.ocsp.verified is False
    assert "trylater" in r.ocsp.error.lower()
    invalid(r)


def test_issuer_missing_is_said_and_not_a_second_problem(pki, tmp_path):
    r = staple_check(pki, tmp_path, response(pki), chain=pki["leaf"].pem)
    assert "incomplete_chain" in r.kinds
    assert "ocsp_staple_invalid" not in r.kinds, r.explain()
    o = r.ocsp
    assert o.status == "good" and o.verified is False
    assert "OCSP Test Issuing CA" in o.error and "cannot be checked" in o.error


def test_no_staple_is_none(pki):
    with openssl_server(cert=pem_of(pki["leaf"], pki["inter"]),
                        key=pki["leaf"].key_pem) as (host, port):
        r = pytlscheck.check(f"{host}:{port}", trust=pki["root"].pem, timeout=5)
    assert r.ok, r.explain()
    assert r.ocsp_stapled is False and r.ocsp is None
    assert r.to_dict()["ocsp"] is None


def test_verify_chain_has_no_staple(pki):
    r = pytlscheck.verify_chain(pem_of(pki["leaf"], pki["inter"]), trust=pki["root"].pem,
                                hostname="localhost")
    assert r.ok and r.ocsp is None and r.to_dict()["ocsp"] is None


def test_ocsp_in_every_surface(pki, tmp_path):
    r = staple_check(pki, tmp_path, response(pki, status="revoked", reason="superseded"))
    d = r.to_dict()["ocsp"]
    assert d["status"] == "revoked" and d["verified"] is True and d["reason"] == "superseded"
    assert d["revoked_at"].endswith("Z") and d["next_update"].endswith("Z")
    assert json.loads(r.to_json())["ocsp"] == d
    back = pickle.loads(pickle.dumps(r))
    assert back.ocsp == r.ocsp and back.ocsp is not r.ocsp
    with pytest.raises(AttributeError):
        r.ocsp.status = "good"     # frozen
    text = r.explain()
    assert "Stapled OCSP response: revoked (verified" in text
    html = r._repr_html_()
    assert "Stapled OCSP response" in html and "revoked" in html


def test_cli_shows_the_staple(pki, tmp_path):
    path = tmp_path / "resp.der"
    path.write_bytes(response(pki, status="unknown"))
    root = tmp_path / "root.pem"
    root.write_text(pki["root"].pem)
    env = dict(os.environ)
    with openssl_server("-status_file", str(path),
                        cert=pem_of(pki["leaf"], pki["inter"]),
                        key=pki["leaf"].key_pem) as (host, port):
        text = subprocess.run([sys.executable, "-m", "pytlscheck", f"{host}:{port}",
                               "--trust", str(root)], capture_output=True, text=True,
                              timeout=30, env=env)
        js = subprocess.run([sys.executable, "-m", "pytlscheck", f"{host}:{port}",
                             "--trust", str(root), "--json"], capture_output=True, text=True,
                            timeout=30, env=env)
    assert "Stapled OCSP response: unknown" in text.stdout, text.stdout + text.stderr
    assert "ocsp_staple_invalid" in text.stdout
    doc = json.loads(js.stdout)
    assert doc["results"][0]["ocsp"]["status"] == "unknown"
    assert doc["results"][0]["ocsp"]["verified"] is True


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")
def test_response_from_openssl_ocsp_with_an_index_db(pki, tmp_path):
    """The same judgement on a response the openssl ocsp tool minted from an
    index.txt CA database (the format `openssl ca` keeps)."""
    inter, leaf = pki["inter"], pki["leaf"]
    (tmp_path / "inter.pem").write_text(inter.pem)
    (tmp_path / "inter.key").write_text(inter.key_pem)
    (tmp_path / "leaf.pem").write_text(leaf.pem)
    expiry = leaf.cert.not_valid_after_utc.strftime("%y%m%d%H%M%SZ")
    revoked = days(-3).strftime("%y%m%d%H%M%SZ")
    serial = format(leaf.cert.serial_number, "X")
    subject = "/CN=localhost"
    (tmp_path / "index.txt").write_text(f"R\t{expiry}\t{revoked},keyCompromise\t{serial}\tunknown\t{subject}\n")
    run = subprocess.run(
        ["openssl", "ocsp", "-index", str(tmp_path / "index.txt"), "-rsigner", str(tmp_path / "inter.pem"),
         "-rkey", str(tmp_path / "inter.key"), "-CA", str(tmp_path / "inter.pem"),
         "-issuer", str(tmp_path / "inter.pem"), "-cert", str(tmp_path / "leaf.pem"),
         "-ndays", "2", "-noverify", "-respout", str(tmp_path / "minted.der")],
        capture_output=True, text=True, timeout=30)
    assert run.returncode == 0, run.stderr
    r = staple_check(pki, tmp_path, (tmp_path / "minted.der").read_bytes())
    assert (r.ocsp.status, r.ocsp.verified, r.ocsp.reason) == ("revoked", True, "keyCompromise")
    assert "revoked" in r.kinds and not r.ok


def test_check_many_and_async_carry_the_staple(pki, tmp_path):
    import asyncio
    path = tmp_path / "resp.der"
    path.write_bytes(response(pki, status="revoked"))
    with openssl_server("-status_file", str(path), cert=pem_of(pki["leaf"], pki["inter"]),
                        key=pki["leaf"].key_pem) as (host, port):
        many = pytlscheck.check_many([f"{host}:{port}"], trust=pki["root"].pem, timeout=5)
        one = asyncio.run(pytlscheck.check_async(f"{host}:{port}", trust=pki["root"].pem,
                                                 timeout=5))
    for r in (many[0], one):
        assert r.ocsp is not None and r.ocsp.status == "revoked" and r.ocsp.verified
        assert "revoked" in r.kinds
