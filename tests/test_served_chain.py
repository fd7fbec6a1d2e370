"""The chain as clients receive it (issue 13, item 2): its size against what
OpenSSL-based clients accept and against TCP's initial window, the server's
certificate first, and what it should not carry (copies, certificates off
the path, the root, a wrong order).  Real servers, real clients."""
from __future__ import annotations

import json
import shutil
import socket
import ssl
import subprocess
import sys

import pytest

import pytlscheck
from pki import CA, pem_of
from servers import foreign_client_env, have_openssl_cli, openssl_server, tls_server

HOST = "served.test"
needs_openssl = pytest.mark.skipif(not have_openssl_cli(), reason="needs the openssl CLI")


@pytest.fixture(scope="module")
def pki():
    root = CA.root("Served Root CA")
    upper = root.intermediate("Served Upper CA")
    lower = upper.intermediate("Served Lower CA")
    inter = root.intermediate("Served Issuing CA")
    leaf = inter.leaf(HOST, "127.0.0.1")
    deep_leaf = lower.leaf(HOST, "127.0.0.1")
    return {"root": root, "upper": upper, "lower": lower, "inter": inter, "leaf": leaf,
            "deep_leaf": deep_leaf, "stranger": CA.root("Unrelated CA").intermediate("Unrelated Issuing CA")}


def kinds(r):
    return [p.kind for p in r.problems]


def problem(r, kind):
    found = [p for p in r.problems if p.kind == kind]
    assert found, r.explain()
    return found[0]


def python_ssl_handshake(host, port, root_pem, name=HOST):
    ctx = ssl.create_default_context(cadata=root_pem)
    with socket.create_connection((host, port), timeout=5) as sock:
        ctx.wrap_socket(sock, server_hostname=name).close()


# ---- too large for clients -------------------------------------------------

def test_250_copies_of_the_intermediate_live(pki):
    """103 KB and more of copies: Python's ssl refuses the server; so does
    the check, naming the limit, the size and the copies."""
    chain = pem_of(pki["leaf"], *([pki["inter"]] * 250))
    with tls_server(chain, pki["leaf"].key_pem) as (host, port):
        with pytest.raises(ssl.SSLError, match="EXCESSIVE_MESSAGE_SIZE|excessive message size"):
            python_ssl_handshake(host, port, pki["root"].pem)
        r = pytlscheck.check(f"{host}:{port}", server_name=HOST, trust=pki["root"].pem, timeout=5)
        cli = subprocess.run([sys.executable, "-m", "pytlscheck", f"{host}:{port}",
                              "--server-name", HOST, "--trust", "/dev/stdin", "--json"],
                             input=pki["root"].pem, capture_output=True, text=True, timeout=60)
    assert not r.ok
    assert r.kinds == ["chain_too_large", "chain_duplicates"], r.explain()
    too = problem(r, "chain_too_large")
    assert "102,400 bytes" in too.message and "251 certificates" in too.message
    assert r.chain_bytes > 102_400
    assert too.inspect_command.startswith("timeout 10 openssl s_client -connect ")
    dup = problem(r, "chain_duplicates")
    assert "is sent 250 times (certificates 2 to 251)" in dup.message, dup.message
    assert "249 needless copies" in dup.message
    assert cli.returncode == 2, cli.stderr
    doc = json.loads(cli.stdout)["results"][0]
    assert doc["chain_bytes"] == r.chain_bytes
    assert [p["kind"] for p in doc["problems"]] == ["chain_too_large", "chain_duplicates"]


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_curl_refuses_what_the_check_calls_too_large(pki, tmp_path):
    chain = pem_of(pki["leaf"], *([pki["inter"]] * 250))
    ca = tmp_path / "root.pem"
    ca.write_text(pki["root"].pem)
    with tls_server(chain, pki["leaf"].key_pem) as (host, port):
        out = subprocess.run(["curl", "-sS", "--cacert", str(ca), "--resolve",
                              f"{HOST}:{port}:{host}", f"https://{HOST}:{port}/"],
                             capture_output=True, text=True, timeout=30, env=foreign_client_env())
        r = pytlscheck.check(f"{host}:{port}", server_name=HOST, trust=pki["root"].pem, timeout=5)
    assert out.returncode != 0 and "excessive message size" in out.stderr.lower(), out.stderr
    assert "chain_too_large" in r.kinds


def test_a_2000_certificate_file_offline(pki, tmp_path):
    path = tmp_path / "bloated.pem"
    path.write_text(pem_of(pki["leaf"], *([pki["inter"]] * 1999)))
    r = pytlscheck.verify_chain(str(path), hostname=HOST, trust=pki["root"].pem)
    assert r.kinds == ["chain_too_large", "chain_duplicates"], r.explain()
    assert "1998 needless copies" in problem(r, "chain_duplicates").message
    assert len(r.chain) == 2000


# ---- the server's certificate first ---------------------------------------

def test_reversed_chain_is_explained_as_the_wrong_order(pki):
    rev = pytlscheck.verify_chain(pem_of(pki["inter"], pki["leaf"]), hostname=HOST,
                                  trust=pki["root"].pem)
    assert not rev.ok
    assert rev.kinds[0] == "leaf_not_first", rev.explain()
    p = rev.problems[0]
    assert "certificate 1 (CN=Served Issuing CA) is a CA certificate" in p.message
    assert "comes as certificate 2" in p.message
    assert "cat cert.pem intermediate.pem > fullchain.pem" in p.fix
    assert p.exception is pytlscheck.LeafNotFirst
    # its twin: the same certificates, leaf first, are healthy
    twin = pytlscheck.verify_chain(pem_of(pki["leaf"], pki["inter"]), hostname=HOST,
                                   trust=pki["root"].pem)
    assert twin.ok and twin.problems == [], twin.explain()


@needs_openssl
def test_reversed_chain_live(pki):
    with openssl_server(cert=pem_of(pki["inter"], pki["leaf"]), key=pki["inter"].key_pem) as (h, port):
        r = pytlscheck.check(f"{h}:{port}", server_name=HOST, trust=pki["root"].pem, timeout=5)
    assert r.kinds[0] == "leaf_not_first", r.explain()
    assert "-showcerts" in r.problems[0].inspect_command


# ---- what the chain should not carry ----------------------------------------

def test_root_sent_along_is_a_warning(pki):
    r = pytlscheck.verify_chain(pem_of(pki["leaf"], pki["inter"], pki["root"]), hostname=HOST,
                                trust=pki["root"].pem)
    assert r.ok and r.kinds == ["chain_includes_root"], r.explain()
    p = r.problems[0]
    assert "CN=Served Root CA, as certificate 3" in p.message
    assert p.severity == "warning" and p.exception is pytlscheck.ChainIncludesRoot


def test_certificate_off_the_path_is_a_warning(pki):
    r = pytlscheck.verify_chain(pem_of(pki["leaf"], pki["inter"], pki["stranger"]),
                                hostname=HOST, trust=pki["root"].pem)
    assert r.ok and r.kinds == ["chain_unneeded_certificates"], r.explain()
    assert "certificate 3 (CN=Unrelated Issuing CA)" in r.problems[0].message


def test_intermediates_out_of_order_is_a_warning(pki):
    r = pytlscheck.verify_chain(pem_of(pki["deep_leaf"], pki["upper"], pki["lower"]),
                                hostname=HOST, trust=pki["root"].pem)
    assert r.ok and r.kinds == ["chain_wrong_order"], r.explain()
    m = r.problems[0].message
    assert "certificate 3 (CN=Served Lower CA) is sent after certificate 2 (CN=Served Upper CA)" in m
    assert "CN=served.test -> CN=Served Lower CA -> CN=Served Upper CA -> CN=Served Root CA" in m
    good = pytlscheck.verify_chain(pem_of(pki["deep_leaf"], pki["lower"], pki["upper"]),
                                   hostname=HOST, trust=pki["root"].pem)
    assert good.ok and good.problems == [], good.explain()


@needs_openssl
def test_duplicates_and_root_live(pki):
    chain = pem_of(pki["leaf"], pki["inter"], pki["inter"], pki["root"])
    with tls_server(chain, pki["leaf"].key_pem) as (host, port):
        python_ssl_handshake(host, port, pki["root"].pem)      # clients accept it
        r = pytlscheck.check(f"{host}:{port}", server_name=HOST, trust=pki["root"].pem, timeout=5)
    assert r.ok and r.kinds == ["chain_duplicates", "chain_includes_root"], r.explain()
    assert "sent 2 times (certificates 2 to 3)" in r.problems[0].message
    assert "uniq -c" in r.problems[0].inspect_command


# ---- TCP's initial window ---------------------------------------------------

def test_a_chain_over_14_kb_costs_a_round_trip(pki):
    names = [f"name{i}.{HOST}" for i in range(700)]
    big = pki["inter"].leaf(HOST, *names)
    r = pytlscheck.verify_chain(pem_of(big, pki["inter"]), hostname=HOST, trust=pki["root"].pem)
    assert r.ok and r.kinds == ["chain_extra_round_trip"], r.explain()
    assert 14_000 < r.chain_bytes < 102_400
    p = r.problems[0]
    assert f"{r.chain_bytes:,} bytes" in p.message and "round trip" in p.message
    assert "RFC 6928" in p.message


def test_a_small_chain_reports_its_size(pki):
    r = pytlscheck.verify_chain(pem_of(pki["leaf"], pki["inter"]), hostname=HOST,
                                trust=pki["root"].pem)
    der = len(pki["leaf"].der) + len(pki["inter"].der)
    # TLS 1.3 framing: context + list length + per entry 3 + 2 bytes
    assert r.chain_bytes == der + 1 + 3 + 2 * 5
    assert json.loads(r.to_json())["chain_bytes"] == r.chain_bytes
