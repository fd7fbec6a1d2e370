#!/usr/bin/env python3
"""Regenerates the fuzz seeds and the fixed anchor they chain to.

    python csrc/fuzz/make_seeds.py        (from the repository root)
    python csrc/fuzz/make_seeds.py ocsp   (only the ocsp seeds: a CA of their own)

Writes csrc/fuzz/anchor.h (the anchor certificate, its empty CRL and a
client certificate with its throwaway key, as C strings) and
csrc/fuzz/corpus/<target>/ (a few small seeds per target).  The seeds of
`verify` and `handshake` are issued by that anchor, so run this only to
replace all of them together.  Handshake seeds are real server flights
recorded from loopback servers (tests/servers.py) by a proxy in front of
them while pytlscheck.check() talks to them.

Needs the test dependencies (cryptography) and the built extension.
"""
from __future__ import annotations

import datetime as dt
import os
import select
import socket
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, ROOT)

import pytlscheck  # noqa: E402
from pki import CA, mint  # noqa: E402
from servers import raw_server, tls_server  # noqa: E402

UTC = dt.timezone.utc
NB = dt.datetime(2020, 1, 1, tzinfo=UTC)
NA = dt.datetime(2040, 1, 1, tzinfo=UTC)
CORPUS = os.path.join(HERE, "corpus")


def c_string(name: str, text: str) -> str:
    lines = "".join(f'    "{line}\\n"\n' for line in text.strip("\n").split("\n"))
    return f"static const char {name}[] =\n{lines};\n"


def write(target: str, name: str, data: bytes) -> None:
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def clear(target: str) -> None:
    d = os.path.join(CORPUS, target)
    if os.path.isdir(d):
        for n in os.listdir(d):
            os.remove(os.path.join(d, n))


def record_flight(upstream) -> bytes:
    """What the server at `upstream` sends to pytlscheck.check()."""
    got = bytearray()

    def handler(conn):
        up = socket.create_connection(upstream, timeout=5)
        try:
            while True:
                r, _, _ = select.select([conn, up], [], [], 2)
                if not r:
                    return
                for s in r:
                    d = s.recv(65536)
                    if not d:
                        return
                    if s is up:
                        got.extend(d)
                        conn.sendall(d)
                    else:
                        up.sendall(d)
        finally:
            up.close()

    with raw_server(handler) as (h, p):
        pytlscheck.check(f"{h}:{p}", timeout=3)
    return bytes(got)


def rec(ctype: int, body: bytes) -> bytes:
    return struct.pack("!BHH", ctype, 0x0303, len(body)) + body


def hs(mtype: int, body: bytes) -> bytes:
    return bytes([mtype]) + len(body).to_bytes(3, "big") + body


def server_hello() -> bytes:
    exts = b"\xff\x01\x00\x01\x00"      # renegotiation_info (RFC 5746), empty
    body = (b"\x03\x03" + bytes(range(32)) + b"\x00" + struct.pack("!HB", 0xC02B, 0)
            + struct.pack("!H", len(exts)) + exts)
    return hs(2, body)


def certificate_msg(ders) -> bytes:
    lst = b"".join(len(d).to_bytes(3, "big") + d for d in ders)
    return hs(11, len(lst).to_bytes(3, "big") + lst)


def ocsp_seeds() -> None:
    """ocsp: a stapled response, then "\n--chain--\n" and the chain it is
    about (PEM), from a small CA of their own (fuzz_ocsp.c judges them at
    2030-01-01, inside 2020..2040)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509 import ocsp

    ca = CA.root("pytlscheck Fuzz OCSP CA", not_before=NB, not_after=NA)
    leaf = ca.leaf("example.com", not_before=NB, not_after=NA)
    other = ca.leaf("other.example", not_before=NB, not_after=NA)
    responder = ca.leaf("Fuzz OCSP Responder", eku=["OCSPSigning"], not_before=NB, not_after=NA)
    chain = b"\n--chain--\n" + (leaf.pem + ca.pem).encode()
    tu, nu = dt.datetime(2029, 12, 1, tzinfo=UTC), dt.datetime(2030, 2, 1, tzinfo=UTC)

    def resp(status=ocsp.OCSPCertStatus.GOOD, about=leaf, signer=ca, include=(), next_update=nu,
             reason=None):
        revoked = status == ocsp.OCSPCertStatus.REVOKED
        b = ocsp.OCSPResponseBuilder().add_response(
            cert=about.cert, issuer=ca.cert, algorithm=hashes.SHA1(), cert_status=status,
            this_update=tu, next_update=next_update,
            revocation_time=dt.datetime(2029, 6, 1, tzinfo=UTC) if revoked else None,
            revocation_reason=reason if revoked else None)
        b = b.responder_id(ocsp.OCSPResponderEncoding.HASH, signer.cert)
        if include:
            b = b.certificates([c.cert for c in include])
        return b.sign(signer.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)

    clear("ocsp")
    write("ocsp", "good", resp() + chain)
    write("ocsp", "good-no-chain", resp())
    write("ocsp", "revoked-keycompromise",
          resp(ocsp.OCSPCertStatus.REVOKED, reason=x509.ReasonFlags.key_compromise) + chain)
    write("ocsp", "unknown", resp(ocsp.OCSPCertStatus.UNKNOWN) + chain)
    write("ocsp", "delegated-responder", resp(signer=responder, include=[responder]) + chain)
    write("ocsp", "another-certificate", resp(about=other) + chain)
    write("ocsp", "stale", resp(next_update=dt.datetime(2029, 12, 2, tzinfo=UTC)) + chain)
    write("ocsp", "try-later", ocsp.OCSPResponseBuilder.build_unsuccessful(
        ocsp.OCSPResponseStatus.TRY_LATER).public_bytes(serialization.Encoding.DER) + chain)


def main() -> None:
    if sys.argv[1:] == ["ocsp"]:
        ocsp_seeds()
        print("ocsp seeds written under", os.path.join(CORPUS, "ocsp"))
        return
    anchor = CA.root("pytlscheck Fuzz Root CA", not_before=NB, not_after=NA)
    inter = anchor.intermediate("pytlscheck Fuzz Issuing CA", not_before=NB, not_after=NA)
    leaf_nb = dt.datetime(2029, 6, 1, tzinfo=UTC)
    leaf_na = dt.datetime(2030, 6, 1, tzinfo=UTC)
    good = inter.leaf("example.com", "www.example.com", "127.0.0.1", not_before=leaf_nb, not_after=leaf_na)
    wild = inter.leaf("*.example.com", not_before=leaf_nb, not_after=leaf_na, key_type="rsa")
    expired = inter.leaf("example.com", not_before=NB, not_after=dt.datetime(2021, 1, 1, tzinfo=UTC))
    nul = inter.leaf("example.com\x00.evil.com", cn="ctl\x1b[31m\x07", not_before=leaf_nb,
                     not_after=leaf_na)
    client = anchor.leaf("fuzz client", eku=["clientAuth"], not_before=NB, not_after=NA)
    selfsigned = mint("example.com", None, dns_names=["example.com"], not_before=leaf_nb,
                      not_after=leaf_na)
    chain5 = [anchor]
    for i in range(3):
        chain5.append(chain5[-1].intermediate(f"Fuzz Level {i}", not_before=NB, not_after=NA))
    deep = chain5[-1].leaf("example.com", not_before=leaf_nb, not_after=leaf_na)
    crl = anchor.crl(last_update=NB, next_update=NA)

    with open(os.path.join(HERE, "anchor.h"), "w") as f:
        f.write("/* Generated by make_seeds.py: the fuzz anchor, its (empty) CRL and a\n"
                " * client certificate with its throwaway test key.  Not a secret. */\n"
                "#ifndef TC_FUZZ_ANCHOR_H\n#define TC_FUZZ_ANCHOR_H\n")
        f.write(c_string("FUZZ_ANCHOR_PEM", anchor.pem))
        f.write(c_string("FUZZ_ANCHOR_CRL_PEM", crl))
        f.write(c_string("FUZZ_CLIENT_PEM", client.pem))
        f.write(c_string("FUZZ_CLIENT_KEY_PEM", client.key_pem))
        f.write("#endif\n")

    for t in ("cert", "verify", "hostname", "handshake"):
        clear(t)

    # cert: DER and PEM, a bundle, broken ones.
    write("cert", "leaf.der", good.der)
    write("cert", "rsa-wildcard.pem", wild.pem.encode())
    write("cert", "nul-and-control.der", nul.der)
    write("cert", "bundle.pem", (good.pem + inter.pem).encode())
    write("cert", "truncated.der", good.der[:-40])
    write("cert", "crl.pem", crl.encode())

    # verify: options byte + chain (DER back to back, or PEM).
    write("verify", "good-der", b"\x01" + good.der + inter.der)
    write("verify", "good-pem-client-crl", b"\x0d" + (good.pem + inter.pem).encode())
    write("verify", "wildcard-www", b"\x02" + wild.der + inter.der)
    write("verify", "expired-ekus", b"\x21" + expired.der + inter.der)
    write("verify", "nul-san", b"\x01" + nul.der + inter.der)
    write("verify", "missing-intermediate", b"\x01" + good.der)
    write("verify", "self-signed-trusted", b"\x81" + selfsigned.der)
    write("verify", "deep-maxdepth", b"\x51" + deep.der + b"".join(c.der for c in reversed(chain5[1:])))
    write("verify", "ip-window", b"\x43" + good.der + inter.der)

    # hostname: PATTERN \n HOST.
    for i, (p, h) in enumerate([
            ("*.example.com", "api.example.com"), ("*.example.com", "a.b.example.com"),
            ("f*.example.com", "foo.example.com"), ("example.com\x00.evil.com", "example.com"),
            ("xn--bcher-kva.example", "XN--BCHER-KVA.EXAMPLE."), ("*.co.uk", "[::1]"),
            ("my_host.local", "my_host.local"), ("*", "127.0.0.1"),
            # the Public Suffix List: a rule, a wildcard rule, an exception
            ("*.co.uk", "shop.co.uk"), ("*.foo.CK", "www.foo.ck"), ("*.www.ck", "a.www.ck")]):
        write("hostname", f"seed-{i}", p.encode() + b"\n" + h.encode())

    # handshake: options byte + what a server sends.
    served = inter.leaf("localhost", "127.0.0.1", not_before=NB, not_after=NA)
    chain_pem = served.pem + inter.pem
    with tls_server(chain_pem, served.key_pem, min_version="TLSv1.2", max_version="TLSv1.2") as up:
        f12 = record_flight(up)
    with tls_server(chain_pem, served.key_pem, min_version="TLSv1.3") as up:
        f13 = record_flight(up)
    with tls_server(chain_pem, served.key_pem, max_version="TLSv1.2", request_client_cert=True,
                    client_ca=anchor.pem) as up:
        f12cr = record_flight(up)
    write("handshake", "tls12-flight", b"\x00" + f12)
    write("handshake", "tls12-flight-bytewise-reset", b"\x24" + f12[:1500])
    write("handshake", "tls12-certificate-request", b"\x02" + f12cr)
    write("handshake", "tls13-flight", b"\x00" + f13)
    write("handshake", "tls13-probe-refine", b"\x55" + f13)
    write("handshake", "crafted-bad-certificate", b"\x00" + rec(22, server_hello() + certificate_msg([good.der[:-30]])))
    write("handshake", "crafted-good-certificate", b"\x18" + rec(22, server_hello() + certificate_msg([good.der, inter.der])))
    write("handshake", "http-banner", b"\x00HTTP/1.1 400 Bad Request\r\nServer: x\r\n\r\n")
    write("handshake", "alert-handshake-failure", b"\x00" + rec(21, b"\x02\x28"))
    write("handshake", "close-notify", b"\x00" + rec(21, b"\x01\x00"))
    ocsp_seeds()
    starttls_seeds()
    fetch_seeds()
    print("seeds written under", CORPUS)


def starttls_seeds() -> None:
    """What servers send before TLS, per protocol (the options byte's bits
    0-2: smtp imap pop3 ftp ldap postgres mysql xmpp; 3-5: chunking).  No
    certificates: `python csrc/fuzz/make_seeds.py starttls` writes only these."""
    clear("starttls")
    smtp_ok = (b"220 mx.test ESMTP\r\n250-mx.test Hello\r\n250-PIPELINING\r\n250 STARTTLS\r\n"
               b"220 2.0.0 Ready\r\n\x16\x03\x03")
    write("starttls", "smtp-ok", b"\x00" + smtp_ok)
    write("starttls", "smtp-ok-bytewise", b"\x08" + smtp_ok)
    write("starttls", "smtp-no-starttls", b"\x10220-hi\r\n220 mx\r\n250-mx\r\n250 SIZE 1000\r\n")
    write("starttls", "smtp-refused", b"\x00220 mx\r\n250 STARTTLS\r\n454 4.7.0 TLS not available\r\n")
    write("starttls", "smtp-http", b"\x00HTTP/1.1 400 Bad Request\r\n\r\n")
    write("starttls", "imap-ok", b"\x01* OK [CAPABILITY IMAP4rev1] ready\r\n"
          b"* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\na1 OK done\r\na2 OK Begin TLS\r\n")
    write("starttls", "imap-bye", b"\x01* BYE too many connections\r\n")
    write("starttls", "pop3-ok", b"\x02+OK ready\r\n+OK capa\r\nUSER\r\nSTLS\r\n.\r\n+OK Begin TLS\r\n")
    write("starttls", "pop3-no-capa", b"\x1a+OK ready\r\n-ERR unknown\r\n-ERR no TLS\r\n")
    write("starttls", "ftp-ok", b"\x03220-Welcome\r\n banner text\r\n220 ready\r\n211-Features:\r\n"
          b" AUTH TLS\r\n PBSZ\r\n211 End\r\n234 Proceed\r\n")
    write("starttls", "ftp-530", b"\x03220 ready\r\n211-Features:\r\n EPSV\r\n211 End\r\n530 login first\r\n")
    write("starttls", "ldap-ok", b"\x04\x30\x0c\x02\x01\x01\x78\x07\x0a\x01\x00\x04\x00\x04\x00")
    write("starttls", "ldap-unavailable", b"\x04\x30\x23\x02\x01\x01\x78\x1e\x0a\x01\x34\x04\x00"
          b"\x04\x17TLS not configured here")
    write("starttls", "ldap-notice", b"\x0c\x30\x0c\x02\x01\x00\x78\x07\x0a\x01\x02\x04\x00\x04\x00")
    write("starttls", "postgres-S", b"\x05S\x16\x03\x03")
    write("starttls", "postgres-N", b"\x05N")
    write("starttls", "postgres-E", b"\x05E\x00\x00\x00\x1aSFATAL\x00Mbad protocol\x00\x00")
    greet = (b"\x0a" + b"10.11.6-MariaDB\x00" + b"\x01\x00\x00\x00" + b"abcdefgh" + b"\x00"
             + b"\xfe\xff" + b"\x2d\x02\x00\xff\x81\x15" + b"\x00" * 10 + b"ijklmnopqrst\x00")
    write("starttls", "mysql-ok", b"\x06" + struct.pack("<I", len(greet))[:3] + b"\x00" + greet)
    nossl = greet[:len(b"\x0a10.11.6-MariaDB\x00") + 13] + b"\xfe\xf7" + greet[len(b"\x0a10.11.6-MariaDB\x00") + 15:]
    write("starttls", "mysql-no-ssl", b"\x06" + struct.pack("<I", len(nossl))[:3] + b"\x00" + nossl)
    err = b"\xff\x6a\x04Host '1.2.3.4' is not allowed to connect"
    write("starttls", "mysql-error", b"\x0e" + struct.pack("<I", len(err))[:3] + b"\x00" + err)
    write("starttls", "xmpp-ok", b"\x07<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
          b"xmlns:stream='http://etherx.jabber.org/streams' id='x' from='example.com' version='1.0'>"
          b"<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>"
          b"<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms>"
          b"</stream:features><proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
    write("starttls", "xmpp-error", b"\x07<?xml version='1.0'?><stream:stream><stream:error>"
          b"<host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>")


def fetch_seeds() -> None:
    """HTTP answers to an AIA fetch (the options byte's bits 0-2: chunking;
    bit 3: the Location parsed as absolute).  No certificates:
    `python csrc/fuzz/make_seeds.py fetch` writes only these."""
    clear("fetch")
    der = b"\x30\x82\x01\x00" + b"\x00" * 16
    write("fetch", "length", b"\x00HTTP/1.1 200 OK\r\nContent-Type: application/pkix-cert\r\n"
          b"Content-Length: 20\r\n\r\n" + der)
    write("fetch", "length-bytewise", b"\x01HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n" + der)
    write("fetch", "chunked", b"\x03HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
          b"4\r\n0\x82\x01\x00\r\na;ext=1\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\n")
    write("fetch", "close-delimited", b"\x02HTTP/1.0 200 OK\r\n\r\n-----BEGIN CERTIFICATE-----\n")
    write("fetch", "redirect-relative", b"\x00HTTP/1.1 302 Found\r\nLocation: /int.der\r\n"
          b"Content-Length: 0\r\n\r\n")
    write("fetch", "redirect-absolute", b"\x08HTTP/1.1 301 Moved\r\nLocation: http://[::1]:81/x?y#z\r\n\r\n")
    write("fetch", "redirect-credentials", b"\x08HTTP/1.1 307 T\r\nLocation: http://u:p@h/\r\n\r\n")
    write("fetch", "not-found", b"\x04HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found")
    write("fetch", "too-large", b"\x00HTTP/1.1 200 OK\r\nContent-Length: 99999\r\n\r\n")
    write("fetch", "ssh", b"\x00SSH-2.0-OpenSSH_9.2\r\n")


if __name__ == "__main__":
    if sys.argv[1:] == ["starttls"]:
        starttls_seeds()
    elif sys.argv[1:] == ["fetch"]:
        fetch_seeds()
    else:
        main()
