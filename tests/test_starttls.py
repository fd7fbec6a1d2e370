"""STARTTLS against real servers from Debian packages on loopback (Exim for
SMTP, PostgreSQL; tests/daemons.py), each with a good certificate and its
broken twins (expired, a wrong host name, TLS turned off), and against a
tiny in-test server for what no real server does on purpose (a 10 MB
banner, an EHLO reply that never ends, HTTP on the SMTP port, silence).
"""
from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import time

import pytest

import pytlscheck
from daemons import (dovecot_server, exim_server, mariadb_server, postgres_server, prosody_server,
                     slapd_server, vsftpd_server)
from pki import CA, days, pem_of
from servers import foreign_client_env, raw_server, tls_server

MARGIN = 2.0


@pytest.fixture(scope="module")
def ca():
    root = CA.root("STARTTLS Test Root CA")
    inter = root.intermediate("STARTTLS Test Issuing CA")
    return {"root": root, "inter": inter}


def certs(ca, kind="good"):
    """(chain PEM, key PEM) for a server at 127.0.0.1 / localhost."""
    inter = ca["inter"]
    if kind == "good":
        leaf = inter.leaf("localhost", "127.0.0.1")
    elif kind == "expired":
        leaf = inter.leaf("localhost", "127.0.0.1", not_before=days(-100), not_after=days(-3))
    elif kind == "wrong_host":
        leaf = inter.leaf("mail.example.test")
    else:
        raise ValueError(kind)
    return pem_of(leaf, inter), leaf.key_pem


def check(target, ca, **kw):
    kw.setdefault("timeout", 5.0)
    kw.setdefault("trust", ca["root"].pem)
    t0 = time.monotonic()
    r = pytlscheck.check(target, **kw)
    assert time.monotonic() - t0 <= kw["timeout"] + MARGIN
    return r


def assert_starttls_commands(report, proto, host, port):
    for p in report.problems:
        assert p.inspect_command.startswith(
            f"timeout 10 openssl s_client -starttls {proto} -connect {host}:{port}"), p


SERVERS = {"smtp": exim_server, "postgres": postgres_server}


# ---- the real servers: good, expired, wrong host, STARTTLS off ------------------

@pytest.mark.parametrize("proto", ["smtp", "postgres"])
def test_good_certificate(ca, proto):
    chain, key = certs(ca)
    with SERVERS[proto](chain, key) as (host, port):
        r = check(f"{proto}://{host}:{port}", ca)
        assert r.ok, r.explain()
        assert r.problems == []
        assert r.starttls == proto
        assert r.protocol in ("TLSv1.2", "TLSv1.3")
        assert r.alpn is None
        assert len(r.chain) == 2 and r.chain[0].subject.endswith("CN=localhost")
        # The same by the starttls= argument, and by name (SNI) instead of address.
        r2 = check(f"localhost:{port}", ca, starttls=proto)
        assert r2.ok and r2.starttls == proto and r2.server_name == "localhost"
        # Without STARTTLS the same port is no TLS server at all.
        r3 = check(f"{host}:{port}", ca, starttls=False, timeout=2.0)
        assert not r3.ok and r3.starttls is None
        assert r3.kinds[0] in ("not_tls", "handshake_timeout", "connection_reset"), r3.explain()
    text = r.explain()
    assert "STARTTLS: the connection began in plain " in text
    assert {"smtp": "SMTP (EHLO, STARTTLS)", "postgres": "PostgreSQL (SSLRequest)"}[proto] in text
    d = r.to_dict()
    assert d["starttls"] == proto
    assert f"STARTTLS {proto}" in r._repr_html_()


@pytest.mark.parametrize("proto", ["smtp", "postgres"])
def test_expired_certificate(ca, proto):
    chain, key = certs(ca, "expired")
    with SERVERS[proto](chain, key) as (host, port):
        r = check(f"{proto}://{host}:{port}", ca)
    assert r.kinds == ["expired"], r.explain()
    assert "3 days ago" in r.problems[0].message
    assert_starttls_commands(r, proto, host, port)
    assert r.problems[0].inspect_command.endswith("| openssl x509 -noout -dates")


@pytest.mark.parametrize("proto", ["smtp", "postgres"])
def test_wrong_host_name(ca, proto):
    chain, key = certs(ca, "wrong_host")
    with SERVERS[proto](chain, key) as (host, port):
        r = check(f"{proto}://localhost:{port}", ca)
    assert r.kinds == ["hostname_mismatch"], r.explain()
    assert "mail.example.test" in r.problems[0].message
    assert "-starttls " + proto in r.problems[0].inspect_command
    assert "-servername localhost" in r.problems[0].inspect_command


def test_smtp_without_starttls_says_what_it_offers(ca):
    chain, key = certs(ca)
    with exim_server(chain, key, tls=False) as (host, port):
        r = check(f"smtp://{host}:{port}", ca)
    assert r.kinds == ["starttls_unavailable"], r.explain()
    p = r.problems[0]
    assert p.exception is pytlscheck.StartTLSUnavailable
    assert issubclass(p.exception, pytlscheck.HandshakeProblem)
    assert "does not list STARTTLS" in p.message
    assert "PIPELINING" in p.message and "SIZE" in p.message      # what Exim offers instead
    assert p.inspect_command == f"timeout 10 openssl s_client -starttls smtp -connect {host}:{port} </dev/null"
    assert r.chain == [] and r.protocol is None


def test_postgres_with_ssl_off(ca):
    chain, key = certs(ca)
    with postgres_server(chain, key, tls=False) as (host, port):
        r = check(f"postgresql://{host}:{port}", ca)
    assert r.kinds == ["starttls_unavailable"], r.explain()
    assert "'N'" in r.problems[0].message and "ssl = off" in r.problems[0].message
    with pytest.raises(pytlscheck.StartTLSUnavailable) as info:
        r.raise_for_problems()
    assert info.value.report is r


def test_openssl_agrees_with_the_by_hand_command(ca):
    """The by-hand command of a STARTTLS report is what openssl s_client
    needs: run it against the real server and see the certificate."""
    chain, key = certs(ca, "expired")
    with exim_server(chain, key) as (host, port):
        r = check(f"smtp://{host}:{port}", ca)
        cmd = r.problems[0].inspect_command
        out = subprocess.run(["bash", "-c", cmd.replace("timeout 10", "timeout 5")],
                             capture_output=True, text=True, timeout=20, env=foreign_client_env())
    assert "notAfter=" in out.stdout, out


# ---- the CLI ---------------------------------------------------------------

def run_cli(*argv, timeout=60):
    return subprocess.run([sys.executable, "-m", "pytlscheck", *map(str, argv)],
                          capture_output=True, text=True, timeout=timeout)


def test_cli_explains_smtp_and_postgres_as_for_https(ca, tmp_path):
    root = tmp_path / "root.pem"
    root.write_text(ca["root"].pem)

    def words(proc):
        doc = json.loads(proc.stdout)["results"][0]
        return doc, [(p["kind"], p["message"], p["fix"]) for p in doc["problems"]]

    for proto, server in SERVERS.items():
        for kind, expect in (("good", []), ("expired", ["expired"]),
                             ("wrong_host", ["hostname_mismatch"])):
            chain, key = certs(ca, kind)
            name = "localhost" if kind == "wrong_host" else "127.0.0.1"
            with server(chain, key) as (host, port), tls_server(chain, key) as (h2, p2):
                text = run_cli(f"{proto}://{name}:{port}", "--trust", root, "--timeout", 5)
                ref_text = run_cli(f"{name}:{p2}", "--trust", root, "--timeout", 5)
                js = run_cli(f"{proto}://{name}:{port}", "--trust", root, "--json")
                ref_js = run_cli(f"{name}:{p2}", "--trust", root, "--json")
            # Exactly as for HTTPS: the same exit status, kinds and words.
            assert text.returncode == ref_text.returncode == (0 if not expect else 2), text.stdout
            doc, problems = words(js)
            ref_doc, ref_problems = words(ref_js)
            assert [p[0] for p in problems] == expect, text.stdout
            assert problems == ref_problems
            assert doc["starttls"] == proto and ref_doc["starttls"] is None
            for k in expect:
                assert k in text.stdout
                assert f"openssl s_client -starttls {proto} -connect {name}:{port}" in text.stdout
            assert f"STARTTLS {proto}" in text.stdout


def test_cli_starttls_option_and_json(ca, tmp_path):
    chain, key = certs(ca)
    root = tmp_path / "root.pem"
    root.write_text(ca["root"].pem)
    with exim_server(chain, key, tls=False) as (host, port):
        t0 = time.monotonic()
        out = run_cli(f"{host}:{port}", "--starttls", "smtp", "--trust", root, "--json",
                      "--timeout", 5)
        assert time.monotonic() - t0 < 5 + 10
    assert out.returncode == 2, out.stderr
    doc = json.loads(out.stdout)
    rep = doc["results"][0]
    assert rep["starttls"] == "smtp"
    assert [p["kind"] for p in rep["problems"]] == ["starttls_unavailable"]
    with raw_server(_greet_then(_closes_at_once)) as (host, port):
        none = run_cli(f"{host}:{port}", "--starttls", "none", "--json", "--timeout", 3)
        smtp = run_cli(f"{host}:{port}", "--starttls", "smtp", "--json", "--timeout", 3)
    assert json.loads(none.stdout)["results"][0]["starttls"] is None
    assert json.loads(smtp.stdout)["results"][0]["problems"][0]["kind"] == "starttls_protocol_mismatch"
    bad = run_cli("127.0.0.1:1", "--starttls", "gopher")
    assert bad.returncode == 3 and "--starttls 'gopher'" in bad.stderr and "smtp" in bad.stderr


# ---- check_many over a mixed fleet --------------------------------------------

def test_check_many_mixed_https_smtp_postgres(ca):
    good, good_key = certs(ca)
    old, old_key = certs(ca, "expired")
    with contextlib.ExitStack() as stack:
        https = stack.enter_context(tls_server(good, good_key))
        https_old = stack.enter_context(tls_server(old, old_key))
        smtp = stack.enter_context(exim_server(good, good_key))
        smtp_off = stack.enter_context(exim_server(good, good_key, tls=False))
        pg = stack.enter_context(postgres_server(good, good_key))
        pg_old = stack.enter_context(postgres_server(old, old_key))
        targets = [f"{https[0]}:{https[1]}", f"smtp://{smtp[0]}:{smtp[1]}",
                   (f"{pg[0]}:{pg[1]}", {"starttls": "postgres"}),
                   f"https://{https_old[0]}:{https_old[1]}",
                   f"postgres://{pg_old[0]}:{pg_old[1]}", f"smtp://{smtp_off[0]}:{smtp_off[1]}"]
        t0 = time.monotonic()
        reports = pytlscheck.check_many(targets * 3, trust=ca["root"].pem, timeout=5)
        elapsed = time.monotonic() - t0
        streamed = dict(pytlscheck.iter_check_many(targets, trust=ca["root"].pem, timeout=5))
    assert elapsed < 5 + MARGIN
    want = [([], None), ([], "smtp"), ([], "postgres"), (["expired"], None),
            (["expired"], "postgres"), (["starttls_unavailable"], "smtp")] * 3
    assert [(r.kinds, r.starttls) for r in reports] == want, [r.explain() for r in reports]
    assert [(streamed[i].kinds, streamed[i].starttls) for i in range(len(targets))] == want[:6]


def test_async_variants(ca):
    import asyncio
    good, key = certs(ca)
    with exim_server(good, key) as (h1, p1), postgres_server(good, key) as (h2, p2):
        async def main():
            one = await pytlscheck.check_async(f"{h1}:{p1}", starttls="smtp",
                                               trust=ca["root"].pem, timeout=5)
            many = await pytlscheck.check_many_async(
                [f"smtp://{h1}:{p1}", f"postgres://{h2}:{p2}"], trust=ca["root"].pem, timeout=5)
            return one, many
        one, many = asyncio.run(main())
    assert one.ok and one.starttls == "smtp"
    assert [(r.ok, r.starttls) for r in many] == [(True, "smtp"), (True, "postgres")]


# ---- hostile and broken servers: bounded, classified, within the timeout ------------

def _greet_then(lines_after_greeting):
    def handler(conn: socket.socket) -> None:
        conn.settimeout(5)
        with contextlib.suppress(OSError):
            lines_after_greeting(conn)
    return handler


def _huge_banner(conn):
    chunk = b"A" * 65536
    for _ in range(160):                        # 10 MB, no line end
        conn.sendall(chunk)


def _huge_multiline_banner(conn):
    line = b"220-" + b"x" * 70 + b"\r\n"
    block = line * 1000
    for _ in range(140):                        # 10 MB of greeting lines that never end
        conn.sendall(block)


def _endless_ehlo(conn):
    conn.sendall(b"220 mx.test ESMTP\r\n")
    conn.recv(1024)
    line = b"250-FEATURE-" + b"y" * 50 + b"\r\n"
    for _ in range(200000):
        conn.sendall(line * 100)


def _http_now(conn):
    conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
    time.sleep(1)


def _silent(conn):
    time.sleep(6)


def _refuses(conn):
    conn.sendall(b"220 mx.test ESMTP\r\n")
    conn.recv(1024)
    conn.sendall(b"250-mx.test\r\n250 STARTTLS\r\n")
    conn.recv(1024)
    conn.sendall(b"454 4.7.0 TLS not available due to local problem\r\n")
    time.sleep(0.5)


def _escape_attempt(conn):
    conn.sendall(b"220 mx.test ESMTP\r\n")
    conn.recv(1024)
    conn.sendall(b"250-mx.test\r\n250 STARTTLS\r\n")
    conn.recv(1024)
    conn.sendall(b"454 \x1b[31mred\x1b[0m \xe2\x80\xae evil\r\n")
    time.sleep(0.5)


def _closes_at_once(conn):
    pass


@pytest.mark.parametrize("handler,kind,words", [
    (_huge_banner, "starttls_protocol_mismatch", "a line longer than 4096 bytes"),
    (_huge_multiline_banner, "starttls_protocol_mismatch", "did not end within 65536 bytes"),
    (_endless_ehlo, "starttls_protocol_mismatch", "reply to EHLO did not end within 65536 bytes"),
    (_http_now, "starttls_protocol_mismatch", "instead of an SMTP server's greeting it sent 'HTTP/1.1 400 Bad Request'"),
    (_refuses, "starttls_refused", "'454 4.7.0 TLS not available due to local problem'"),
    (_closes_at_once, "starttls_protocol_mismatch", "closed the connection without sending an SMTP greeting"),
])
def test_hostile_smtp_servers_are_classified_quickly(ca, handler, kind, words):
    with raw_server(_greet_then(handler)) as (host, port):
        t0 = time.monotonic()
        r = check(f"smtp://{host}:{port}", ca, timeout=5.0)
        elapsed = time.monotonic() - t0
    assert r.kinds == [kind], r.explain()
    assert words in r.problems[0].message, r.problems[0].message
    assert elapsed < 2.0            # classified from the bytes, long before the deadline
    assert len(r.problems[0].message) < 2000


def test_silence_is_a_mismatch_at_the_deadline(ca):
    with raw_server(_greet_then(_silent)) as (host, port):
        t0 = time.monotonic()
        r = check(f"smtp://{host}:{port}", ca, timeout=1.5)
        elapsed = time.monotonic() - t0
    assert r.kinds == ["starttls_protocol_mismatch"], r.explain()
    assert "no SMTP greeting came within 1.5 s" in r.problems[0].message
    assert 1.4 <= elapsed <= 1.5 + MARGIN


def test_server_text_is_escaped(ca):
    with raw_server(_greet_then(_escape_attempt)) as (host, port):
        r = check(f"smtp://{host}:{port}", ca)
    m = r.problems[0].message
    assert r.kinds == ["starttls_refused"]
    assert "\x1b" not in m and "\u202e" not in m
    assert "\\x1b[31mred" in m and "\\xe2\\x80\\xae" in m


def test_implicit_tls_port_checked_with_starttls_is_silent_mismatch(ca):
    chain, key = certs(ca)
    with tls_server(chain, key) as (host, port):
        r = check(f"{host}:{port}", ca, starttls="smtp", timeout=1.0)
        plain = check(f"smtps://{host}:{port}", ca)
    assert r.kinds == ["starttls_protocol_mismatch"], r.explain()
    assert "TLS from the first byte" in r.problems[0].message
    assert plain.ok and plain.starttls is None


# ---- choosing the protocol ----------------------------------------------------

@pytest.mark.parametrize("target,kw,want", [
    ("smtp://mail.example.com", {}, ("mail.example.com", 25, "smtp")),
    ("smtp://mail.example.com:587", {}, ("mail.example.com", 587, "smtp")),
    ("smtps://mail.example.com", {}, ("mail.example.com", 465, None)),
    ("imap://h", {}, ("h", 143, "imap")), ("imaps://h", {}, ("h", 993, None)),
    ("pop3://h", {}, ("h", 110, "pop3")), ("pop3s://h", {}, ("h", 995, None)),
    ("ftp://h", {}, ("h", 21, "ftp")), ("ldap://h", {}, ("h", 389, "ldap")),
    ("ldaps://h", {}, ("h", 636, None)), ("postgres://h/db", {}, ("h", 5432, "postgres")),
    ("postgresql://h", {}, ("h", 5432, "postgres")), ("mysql://h", {}, ("h", 3306, "mysql")),
    ("xmpp://h", {}, ("h", 5222, "xmpp")), ("h:25", {}, ("h", 25, "smtp")),
    ("h:587", {}, ("h", 587, "smtp")), ("h:5432", {}, ("h", 5432, "postgres")),
    ("h:3306", {}, ("h", 3306, "mysql")), ("h:389", {}, ("h", 389, "ldap")),
    ("h:5222", {}, ("h", 5222, "xmpp")), ("h:21", {}, ("h", 21, "ftp")),
    ("h:143", {}, ("h", 143, "imap")), ("h:110", {}, ("h", 110, "pop3")),
    ("h:443", {}, ("h", 443, None)), ("h", {}, ("h", 443, None)),
    ("h:25", {"starttls": False}, ("h", 25, None)), ("h:2525", {"starttls": "smtp"}, ("h", 2525, "smtp")),
    ("h:25", {"starttls": "none"}, ("h", 25, None)), ("h:8443", {"starttls": "IMAP"}, ("h", 8443, "imap")),
])
def test_target_chooses_starttls(target, kw, want):
    from pytlscheck._target import parse_target
    t = parse_target(target, None, kw.get("starttls"))
    assert (t.host, t.port, t.starttls) == want


@pytest.mark.parametrize("target,starttls,words", [
    ("smtps://h", "smtp", "means TLS from the first byte"),
    ("imap://h", "smtp", "means STARTTLS imap"),
    ("https://h", "postgres", "means TLS from the first byte"),
    ("h", "gopher", "is not a protocol this checker speaks"),
    ("gopher://h", None, "postgres://"),
])
def test_bad_starttls_choices_name_the_input(target, starttls, words):
    with pytest.raises(ValueError, match=words):
        pytlscheck.check(target, starttls=starttls)
    with pytest.raises(pytlscheck.InvalidTargets):
        pytlscheck.check_many([(target, {"starttls": starttls})])


# ---- the other protocols, each against its real server -----------------------------

def _server(proto):
    if proto in ("imap", "pop3"):
        def start(chain, key, tls=True, _p=proto):
            @contextlib.contextmanager
            def cm():
                with dovecot_server(chain, key, tls=tls) as (imap, pop3):
                    yield imap if _p == "imap" else pop3
            return cm()
        return start
    return {"ldap": slapd_server, "ftp": vsftpd_server, "mysql": mariadb_server,
            "xmpp": prosody_server, "smtp": exim_server, "postgres": postgres_server}[proto]


# What each server says when its TLS is off.
UNAVAILABLE_WORDS = {
    "imap": "reply to CAPABILITY does not list STARTTLS",
    "pop3": "does not list STLS among its capabilities",
    "ftp": "does not list AUTH TLS among its capabilities",
    "ldap": "result 2 (protocolError): 'unsupported extended operation'",
    "mysql": "does not announce SSL in its greeting's capability flags",
    "xmpp": "stream features does not list urn:ietf:params:xml:ns:xmpp-tls",
}


@pytest.mark.parametrize("proto", ["imap", "pop3", "ldap", "ftp", "mysql", "xmpp"])
def test_real_server_good_expired_and_tls_off(ca, proto):
    start = _server(proto)
    # XMPP addresses the stream to a domain: the name the certificate names.
    kw = {"server_name": "localhost"} if proto == "xmpp" else {}
    chain, key = certs(ca)
    with start(chain, key) as (host, port):
        r = check(f"{proto}://{host}:{port}", ca, **kw)
    assert r.ok, r.explain()
    assert r.starttls == proto and r.protocol in ("TLSv1.2", "TLSv1.3")
    # MariaDB asks for a client certificate (optional) by default: a warning.
    assert r.kinds in ([], ["client_certificate_requested"]), r.explain()

    chain, key = certs(ca, "expired")
    with start(chain, key) as (host, port):
        r = check(f"{proto}://{host}:{port}", ca, **kw)
    assert r.kinds[:1] == ["expired"], r.explain()
    assert_starttls_commands(r, proto, host, port)

    chain, key = certs(ca)
    with start(chain, key, tls=False) as (host, port):
        r = check(f"{proto}://{host}:{port}", ca, **kw)
    assert r.kinds == ["starttls_unavailable"], r.explain()
    assert UNAVAILABLE_WORDS[proto] in r.problems[0].message, r.problems[0].message
    assert r.problems[0].inspect_command.startswith(
        f"timeout 10 openssl s_client -starttls {proto} -connect {host}:{port}")


def test_check_many_over_every_protocol_at_once(ca):
    """One batch, one driver thread: HTTPS and all eight STARTTLS protocols
    against their real servers, each report right."""
    chain, key = certs(ca)
    with contextlib.ExitStack() as stack:
        https = stack.enter_context(tls_server(chain, key))
        imap, pop3 = stack.enter_context(dovecot_server(chain, key))
        addrs = {
            "smtp": stack.enter_context(exim_server(chain, key)),
            "postgres": stack.enter_context(postgres_server(chain, key)),
            "imap": imap, "pop3": pop3,
            "ldap": stack.enter_context(slapd_server(chain, key)),
            "ftp": stack.enter_context(vsftpd_server(chain, key)),
            "mysql": stack.enter_context(mariadb_server(chain, key)),
            "xmpp": stack.enter_context(prosody_server(chain, key)),
        }
        targets = [f"https://{https[0]}:{https[1]}"] + [
            (f"{h}:{p}", {"starttls": proto, "server_name": "localhost"})
            for proto, (h, p) in addrs.items()]
        reports = pytlscheck.check_many(targets, trust=ca["root"].pem, timeout=8)
    assert [r.starttls for r in reports] == [None] + list(addrs)
    for r in reports:
        assert r.ok and r.protocol in ("TLSv1.2", "TLSv1.3"), r.explain()
        assert r.chain[0].subject.endswith("CN=localhost")


def test_the_diagnostic_probe_speaks_the_preamble_too(ca):
    """A server that refuses every TLS version this client offers (an
    alert protocol_version after STARTTLS): the verdict waits for the
    diagnostic probe, whose own connection goes through EHLO and STARTTLS
    again before its ClientHello."""
    seen = []

    def handler(conn):
        conn.settimeout(5)
        conn.sendall(b"220 old.test ESMTP\r\n")
        seen.append(conn.recv(1024))
        conn.sendall(b"250-old.test\r\n250 STARTTLS\r\n")
        seen.append(conn.recv(1024))
        conn.sendall(b"220 go ahead\r\n")
        hello = conn.recv(16384)
        seen.append(hello[:1])
        conn.sendall(b"\x15\x03\x01\x00\x02\x02\x46")     # fatal alert protocol_version
        time.sleep(0.3)

    with raw_server(_greet_then(handler)) as (host, port):
        r = check(f"smtp://{host}:{port}", ca)
    assert r.kinds == ["protocol_mismatch"], r.explain()
    assert r.starttls == "smtp"
    # Two connections, each EHLO, STARTTLS, then a TLS record (0x16).
    assert seen.count(b"EHLO pytlscheck.invalid\r\n") == 2, seen
    assert seen.count(b"STARTTLS\r\n") == 2 and seen.count(b"\x16") == 2, seen
    assert r.problems[0].inspect_command.startswith("timeout 10 openssl s_client -starttls smtp ")


def test_xmpp_stream_to_an_unknown_domain_says_which(ca):
    chain, key = certs(ca)
    with prosody_server(chain, key, domain="chat.example.test") as (host, port):
        r = check(f"xmpp://{host}:{port}", ca, server_name="localhost")
    assert r.kinds == ["starttls_refused"], r.explain()
    m = r.problems[0].message
    assert "host-unknown" in m and "addressed to 'localhost'" in m and "server_name=" in m


def test_a_starttls_port_checked_as_tls_says_how_to_check_it(ca):
    chain, key = certs(ca)
    with exim_server(chain, key) as (host, port):
        r = check(f"{host}:{port}", ca, starttls=False)
    assert r.kinds == ["not_tls"], r.explain()
    assert "it is an SMTP server" in r.problems[0].message
    assert "check it with starttls='smtp', --starttls smtp" in r.problems[0].message
