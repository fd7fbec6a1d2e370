"""pytlscheck.diagnose() and explaining() (issue 17): real clients
(requests, httpx, urllib3, aiohttp, websockets and the standard library)
calling the lab's broken servers on loopback, each told to trust the lab
root as a user would; the diagnosis names the lab's kind, agrees with the
client's own verify code and says what the client said."""
from __future__ import annotations

import asyncio
import http.client
import importlib.util
import json
import os
import socket
import ssl
import subprocess
import sys
import threading
import traceback
import urllib.error
import urllib.request
from importlib.resources import files

import pytest

import pytlscheck
from pytlscheck import _core
from pytlscheck._diagnose import HEADER, attach
from pytlscheck.lab import Lab

BROKEN = ["expired", "wrong_host", "missing_intermediate", "self_signed", "untrusted_root"]
CLIENTS = ["requests", "httpx", "urllib3", "aiohttp", "websockets", "urllib.request",
           "http.client"]
NEEDS = {"requests": "requests", "httpx": "httpx", "urllib3": "urllib3",
         "aiohttp": "aiohttp", "websockets": "websockets"}


@pytest.fixture(scope="module")
def lab():
    with Lab(only=["healthy", *BROKEN]) as lab:
        yield lab


def lab_context(lab):
    return ssl.create_default_context(cafile=lab.root_pem_path)


def call(client, url, *, cafile):
    """Calls url with the client, trusting cafile; returns what it raised."""
    ctx = ssl.create_default_context(cafile=cafile)
    host_port = url.split("//", 1)[1].rstrip("/")
    try:
        if client == "requests":
            import requests
            requests.get(url, verify=cafile, timeout=5)
        elif client == "httpx":
            import httpx
            httpx.get(url, verify=ctx, timeout=5)
        elif client == "urllib3":
            import urllib3
            urllib3.PoolManager(ca_certs=cafile, timeout=5).request("GET", url)
        elif client == "aiohttp":
            import aiohttp

            async def get():
                async with aiohttp.ClientSession() as session:
                    async with session.get(url, ssl=ctx):
                        pass
            asyncio.run(get())
        elif client == "websockets":
            import websockets

            async def connect():
                async with websockets.connect("wss://" + host_port + "/", ssl=ctx,
                                              open_timeout=5):
                    pass
            asyncio.run(connect())
        elif client == "urllib.request":
            urllib.request.urlopen(url, context=ctx, timeout=5)
        elif client == "http.client":
            host, port = host_port.rsplit(":", 1)
            conn = http.client.HTTPSConnection(host, int(port), context=ctx, timeout=5)
            try:
                conn.request("GET", "/")
            finally:
                conn.close()
    except Exception as e:  # noqa: BLE001 - what the client raised is the point
        return e
    raise AssertionError(f"{client} accepted {url}")


def client_error(exc):
    """The client's own ssl.SSLCertVerificationError in the chain."""
    seen, todo = set(), [exc]
    while todo:
        e = todo.pop(0)
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, ssl.SSLCertVerificationError) and hasattr(e, "verify_code"):
            return e     # (aiohttp's own error is one too, without a code)
        todo += [e.__cause__, e.__context__] + [a for a in e.args if isinstance(a, BaseException)]
    raise AssertionError(f"no verify error in {exc!r}")


def need(client):
    module = NEEDS.get(client)
    if module and importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed: pip install 'pytlscheck[test]'")


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("name", BROKEN)
def test_each_client_on_each_broken_server(lab, client, name):
    need(client)
    ep = lab[name]
    exc = call(client, ep.url, cafile=lab.root_pem_path)
    own = client_error(exc)
    report = pytlscheck.diagnose(exc)
    d = report.diagnosis
    # the lab's kind, first
    assert report.kinds[0] == ep.expected_kind, report.explain()
    assert not report.ok
    # the client's own words and code, and pytlscheck's agreement with them
    assert d.client == client
    assert d.verify_code == own.verify_code
    assert d.verify_message == own.verify_message
    assert d.client_said == f"CERTIFICATE_VERIFY_FAILED: {own.verify_message}"
    assert d.agrees and d.disagreement is None
    assert d.client_kind == _core.kind_for_verify_code(own.verify_code)[0]
    assert report.port == ep.port and report.server_name == "localhost"
    # the store it used: the lab root the client was given, and why
    assert report.trust_reason
    assert ("lab-root.pem" in report.trust
            or "1 CA certificate of its own (CN=pytlscheck lab root)" in report.trust_reason)
    # the explanation starts from what the client said, then the finding, the fix
    text = report.explain()
    first = text.splitlines()[0]
    assert first.startswith(f"Your client ({client}) reported CERTIFICATE_VERIFY_FAILED")
    assert " ".join(text.split()).index(own.verify_message) < " ".join(text.split()).index("FAIL:")
    flat = " ".join(text.split())
    assert "and agrees:" in flat
    assert " ".join(report.errors[0].fix.split()) in flat


def test_requests_default_store_is_named_from_its_own_setting(lab, monkeypatch):
    need("requests")
    import requests
    certifi = pytest.importorskip("certifi")
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    try:
        requests.get(lab["healthy"].url, timeout=5)   # certifi's bundle: no lab root
    except requests.exceptions.SSLError as e:
        exc = e
    report = pytlscheck.diagnose(exc)
    assert report.trust_reason == f"requests' default: certifi's CA bundle ({certifi.where()})"
    assert report.trust == f"Mozilla's list of roots from certifi {certifi.__version__} ({certifi.where()})"
    assert report.trust_store == [f"certifi {certifi.__version__} ({certifi.where()})"]
    assert report.diagnosis.agrees     # the lab root is not in certifi's bundle either
    assert "certifi" in report.explain()


def test_requests_ca_bundle_is_honoured(lab, monkeypatch):
    need("requests")
    import requests
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", lab.root_pem_path)
    try:
        requests.get(lab["expired"].url, timeout=5)
    except requests.exceptions.SSLError as e:
        exc = e
    report = pytlscheck.diagnose(exc)
    assert report.trust_reason == (f"requests honours REQUESTS_CA_BUNDLE, which names "
                                   f"{lab.root_pem_path}")
    assert report.kinds[0] == "expired" and report.diagnosis.agrees


def test_httpx_default_store_is_recognised_as_certifi(lab, monkeypatch):
    need("httpx")
    import httpx
    certifi = pytest.importorskip("certifi")
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    try:
        httpx.get(lab["healthy"].url, timeout=5)
    except httpx.ConnectError as e:
        exc = e
    report = pytlscheck.diagnose(exc)
    assert report.trust_reason == ("the SSLContext of your client's failed handshake holds "
                                   f"certifi's CA bundle ({certifi.where()})")


def test_stdlib_default_store_is_the_system_store(lab):
    try:
        urllib.request.urlopen(lab["healthy"].url, timeout=5)
    except urllib.error.URLError as e:
        exc = e
    report = pytlscheck.diagnose(exc)
    assert report.trust.startswith("the system trust store")
    assert "system trust store" in report.trust_reason
    assert report.diagnosis.agrees and not report.ok


@pytest.mark.parametrize("client", ["requests", "httpx", "aiohttp", "urllib.request"])
def test_client_told_to_trust_the_wrong_root(lab, client):
    """A healthy server, a client trusting another root (the untrusted_root
    scenario's): checked against the right root, pytlscheck says the
    client trusted another store; against the client's own, it agrees."""
    need(client)
    healthy = lab["healthy"]
    wrong = lab["untrusted_root"].chain_path
    exc = call(client, healthy.url, cafile=wrong)
    report = pytlscheck.diagnose(exc, trust=lab.root_pem_path)
    d = report.diagnosis
    assert report.ok and report.problems == []
    assert not d.agrees and d.disagreement == "trusted_another_store"
    assert "Your client trusted another store" in d.finding
    assert "given to diagnose() as trust=" in report.trust_reason
    text = report.explain()
    assert text.startswith(f"Your client ({client}) reported CERTIFICATE_VERIFY_FAILED")
    assert "Your client trusted another store" in " ".join(text.split())
    html = report._repr_html_()
    assert 'data-role="diagnosis"' in html and 'data-disagreement="trusted_another_store"' in html
    # the client's own store reproduces its failure
    own = pytlscheck.diagnose(exc)
    assert not own.ok and own.diagnosis.agrees
    assert own.kinds[0] in ("unknown_root", "incomplete_chain", "untrusted_root")


class SwitchingServer:
    """A TLS server on loopback (the standard library's) serving the lab
    certificate named first; switch() makes it serve another one, stop()
    takes it away (connections refused from then on)."""

    def __init__(self, lab, name):
        self.lab = lab
        self.contexts = [self.context(name)]
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"https://localhost:{self.port}/"
        self.halt = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def context(self, name):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.lab[name].chain_path,
                            os.path.join(self.lab.directory, f"{name}-key.pem"))
        return ctx

    def switch(self, name):
        self.contexts.append(self.context(name))

    def serve(self):
        self.listener.settimeout(0.2)
        while not self.halt.is_set():
            try:
                sock, _ = self.listener.accept()
            except OSError:
                continue
            try:
                with self.contexts[-1].wrap_socket(sock, server_side=True) as tls:
                    tls.settimeout(2)
                    tls.recv(1024)
            except (OSError, ssl.SSLError):
                pass

    def stop(self):
        self.halt.set()
        self.thread.join(5)
        self.listener.close()


def requests_error(url, **kwargs):
    import requests
    try:
        requests.get(url, timeout=5, **kwargs)
    except requests.exceptions.SSLError as e:
        return e
    raise AssertionError(f"requests accepted {url}")


def test_a_fixed_outage_is_healthy_now(lab):
    """A server that served the expired certificate to the client and the
    renewed one by the time pytlscheck looks."""
    need("requests")
    server = SwitchingServer(lab, "expired")
    try:
        exc = requests_error(server.url, verify=lab.root_pem_path)
        server.switch("healthy")              # renewed
        report = pytlscheck.diagnose(exc)
    finally:
        server.stop()
    d = report.diagnosis
    assert d.verify_code == 10 and d.client_kind == "expired"
    assert report.ok and not d.agrees and d.disagreement == "healthy_now"
    assert "healthy now" in d.finding and "fixed outage" in d.finding


def test_a_server_gone_since_is_unreachable_now(lab):
    """The client saw an expired certificate; by the time pytlscheck looks
    nothing listens any more."""
    need("requests")
    server = SwitchingServer(lab, "expired")
    try:
        exc = requests_error(server.url, verify=lab.root_pem_path)
    finally:
        server.stop()
    report = pytlscheck.diagnose(exc)
    d = report.diagnosis
    assert d.client_kind == "expired" and not d.agrees
    assert d.disagreement == "unreachable_now"
    assert report.kinds == ["connection_refused"]
    assert "could not reach it now" in d.finding and "did work then" in d.finding
    assert report.problems[0].fix in d.finding


def test_another_problem_now_is_different_problem(lab):
    """The client saw an expired certificate; the server now serves one for
    another name: pytlscheck says what it finds and that it differs."""
    need("requests")
    server = SwitchingServer(lab, "expired")
    try:
        exc = requests_error(server.url, verify=lab.root_pem_path)
        server.switch("wrong_host")
        report = pytlscheck.diagnose(exc)
    finally:
        server.stop()
    d = report.diagnosis
    assert d.client_kind == "expired" and not d.agrees
    assert d.disagreement == "different_problem"
    assert report.kinds[0] == "hostname_mismatch"
    assert "finds hostname mismatch where your client reported expired" in d.finding
    assert "may have changed since" in d.finding


@pytest.fixture
def lab_root_is_system_store(lab, monkeypatch, tmp_path):
    """The system store (OpenSSL's default paths, as pytlscheck reads them)
    holds exactly the lab root; the clients' own CA settings are unset."""
    empty = tmp_path / "no-ca-dir"
    empty.mkdir()
    monkeypatch.setenv("SSL_CERT_FILE", lab.root_pem_path)
    monkeypatch.setenv("SSL_CERT_DIR", str(empty))
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    return lab.root_pem_path


@pytest.mark.parametrize("client", ["requests", "httpx", "urllib.request"])
def test_wrong_root_given_to_the_client_while_the_system_store_has_it(
        lab, lab_root_is_system_store, client):
    """No trust= for diagnose(): the client's own store has no path, the
    system store has one, so the diagnosis is that the client trusted
    another store, and the fix names the system store's file."""
    need(client)
    exc = call(client, lab["healthy"].url, cafile=lab["untrusted_root"].chain_path)
    report = pytlscheck.diagnose(exc)
    d = report.diagnosis
    assert report.ok and not d.agrees and d.disagreement == "trusted_another_store"
    assert report.trust.startswith("the system trust store")
    assert report.trust_reason.startswith("the system trust store, which has a path")
    assert "unlike the store your client used" in report.trust_reason
    assert "Your client trusted another store" in d.finding
    assert f"give your client the roots pytlscheck trusted ({lab_root_is_system_store})" \
        in d.finding


def test_requests_default_certifi_lacks_the_root_the_system_store_has(
        lab, lab_root_is_system_store):
    """The everyday case: a private CA installed in the system store, and
    requests, which trusts certifi's bundle instead."""
    need("requests")
    pytest.importorskip("certifi")
    import certifi
    exc = requests_error(lab["healthy"].url)
    report = pytlscheck.diagnose(exc)
    d = report.diagnosis
    assert report.ok and d.disagreement == "trusted_another_store"
    assert "certifi's CA bundle" in report.trust_reason
    assert certifi.where() in d.finding
    assert "REQUESTS_CA_BUNDLE" in d.finding
    # with the right store given, the same words; with certifi's, it agrees
    assert pytlscheck.diagnose(exc, trust=certifi.where()).diagnosis.agrees


class ConnectProxy:
    """A real HTTP CONNECT proxy on loopback: relays bytes both ways, and
    records what it was asked to connect to."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.asked = []
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self.tunnel, args=(client,), daemon=True).start()

    def tunnel(self, client):
        with client:
            client.settimeout(5)
            head = b""
            while b"\r\n\r\n" not in head and len(head) < 8192:
                chunk = client.recv(4096)
                if not chunk:
                    return
                head += chunk
            line = head.split(b"\r\n", 1)[0].decode("ascii", "replace")
            self.asked.append(line)
            host, port = line.split()[1].rsplit(":", 1)
            with socket.create_connection((host.strip("[]"), int(port)), timeout=5) as up:
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                up.settimeout(5)

                def pump(a, b):
                    try:
                        while True:
                            data = a.recv(65536)
                            if not data:
                                break
                            b.sendall(data)
                    except OSError:
                        pass
                    try:
                        b.shutdown(socket.SHUT_WR)
                    except OSError:
                        pass
                other = threading.Thread(target=pump, args=(up, client), daemon=True)
                other.start()
                pump(client, up)
                other.join(5)

    def close(self):
        self.listener.close()


@pytest.mark.parametrize("client", ["requests", "httpx"])
def test_the_proxy_the_client_went_through_is_named(lab, monkeypatch, client):
    """requests given proxies=, httpx through HTTPS_PROXY: the diagnosis
    names the proxy, and says pytlscheck connected directly."""
    need(client)
    proxy = ConnectProxy()
    url = lab["expired"].url
    try:
        if client == "requests":
            exc = requests_error(url, verify=lab.root_pem_path,
                                 proxies={"https": proxy.url})
        else:
            import httpx
            for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "https_proxy"):
                monkeypatch.delenv(name, raising=False)
            monkeypatch.setenv("HTTPS_PROXY", proxy.url)
            try:
                httpx.get(url, verify=lab_context(lab), timeout=5)
            except httpx.HTTPError as e:
                exc = e
            else:
                raise AssertionError("httpx accepted the expired certificate")
    finally:
        proxy.close()
    assert proxy.asked and proxy.asked[0].startswith("CONNECT ")
    report = pytlscheck.diagnose(exc)
    d = report.diagnosis
    assert d.proxy is not None and d.proxy.startswith(proxy.url)
    if client == "httpx":
        assert "HTTPS_PROXY" in d.proxy
    assert d.agrees and report.kinds[0] == "expired"
    text = " ".join(report.explain().split())
    assert f"Your client was set to go through the proxy {proxy.url}" in text
    assert "pytlscheck connected directly" in text


def test_not_a_tls_failure_is_a_clear_value_error():
    with pytest.raises(ValueError) as info:
        pytlscheck.diagnose(ZeroDivisionError("division by zero"))
    message = str(info.value)
    assert "ZeroDivisionError" in message and "is not a TLS failure" in message
    assert "pytlscheck.check(" in message


def test_a_refused_connection_is_not_a_tls_failure_and_names_the_check_to_run():
    need("requests")
    import requests
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]          # closed again: nothing listens
    try:
        requests.get(f"https://127.0.0.1:{port}/", timeout=5)
    except requests.exceptions.ConnectionError as e:
        exc = e
    with pytest.raises(ValueError, match="is not a TLS failure") as info:
        pytlscheck.diagnose(exc)
    assert f"pytlscheck.check('127.0.0.1:{port}')" in str(info.value)


def test_a_tls_failure_without_a_port_says_so(lab):
    ep = lab["expired"]
    ctx = lab_context(lab)
    with socket.create_connection((ep.host, ep.port), timeout=5) as raw:
        with pytest.raises(ssl.SSLCertVerificationError) as info:
            ctx.wrap_socket(raw, server_hostname="localhost")
    with pytest.raises(ValueError, match="which port") as err:
        pytlscheck.diagnose(info.value)
    assert "pytlscheck.check('localhost:PORT'" in str(err.value)


def test_pytlscheck_own_exception_points_to_its_report(lab):
    try:
        pytlscheck.verify(lab["expired"].target, server_name="localhost",
                          trust=lab.root_pem_path)
    except pytlscheck.CertificateExpired as e:
        with pytest.raises(ValueError, match="exc.report"):
            pytlscheck.diagnose(e)


def test_diagnose_imports_no_client_library(lab):
    code = f"""
import ssl, sys, urllib.request
import pytlscheck
ctx = ssl.create_default_context(cafile={lab.root_pem_path!r})
try:
    urllib.request.urlopen({lab["expired"].url!r}, context=ctx, timeout=5)
except Exception as e:
    r = pytlscheck.diagnose(e)
    assert r.kinds[0] == "expired", r.kinds
print(sorted(m for m in ("requests", "httpx", "urllib3", "aiohttp", "websockets", "httpcore")
             if m in sys.modules))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_json_has_the_diagnosis_and_matches_the_schema(lab):
    need("requests")
    from test_json_schema import check as validate

    exc = call("requests", lab["expired"].url, cafile=lab.root_pem_path)
    report = pytlscheck.diagnose(exc)
    data = json.loads(report.to_json())
    schema = json.loads(files("pytlscheck").joinpath("json_schema.json").read_text("utf-8"))
    assert validate(data, schema["$defs"]["Report"], schema) == []
    assert data["trust_reason"].startswith("requests was given verify=")
    assert data["diagnosis"]["client"] == "requests"
    assert data["diagnosis"]["exception"] == "requests.exceptions.SSLError"
    assert data["diagnosis"]["verify_code"] == 10 and data["diagnosis"]["agrees"] is True
    plain = json.loads(pytlscheck.check(lab["expired"].target).to_json())
    assert plain["diagnosis"] is None and plain["trust_reason"] is None
    assert validate(plain, schema["$defs"]["Report"], schema) == []


def test_timeout_is_validated(lab):
    exc = call("urllib.request", lab["expired"].url, cafile=lab.root_pem_path)
    with pytest.raises(ValueError, match="timeout"):
        pytlscheck.diagnose(exc, timeout=0)


# ---- explaining() -------------------------------------------------------------

def _frames(exc):
    return [(f.filename, f.lineno) for f in traceback.extract_tb(exc.__traceback__)]


def test_explaining_adds_a_note_and_keeps_the_exception(lab):
    need("requests")
    import requests
    url = lab["expired"].url
    caught = None
    try:
        with pytlscheck.explaining(timeout=3):
            requests.get(url, verify=lab.root_pem_path, timeout=5)
    except requests.exceptions.SSLError as e:     # the client's own except clause
        caught = e
    assert type(caught) is requests.exceptions.SSLError
    notes = caught.__notes__
    assert len(notes) == 1 and notes[0].startswith(HEADER)
    assert "CERTIFICATE_VERIFY_FAILED: certificate has expired" in notes[0]
    assert "agrees: expired" in " ".join(notes[0].split())
    # the traceback still reaches where requests raised it
    assert any("requests" in f and "adapters.py" in f for f, _ in _frames(caught))
    shown = "".join(traceback.format_exception(caught))
    assert HEADER in shown


def test_explaining_as_decorator_sync_and_async(lab):
    need("aiohttp")
    import aiohttp
    ctx = lab_context(lab)

    @pytlscheck.explaining
    def fetch():
        urllib.request.urlopen(lab["self_signed"].url, context=ctx, timeout=5)

    with pytest.raises(urllib.error.URLError) as info:
        fetch()
    assert fetch.__name__ == "fetch"
    assert "self signed" in " ".join(info.value.__notes__[0].split()).replace("_", " ")

    @pytlscheck.explaining(timeout=3)
    async def afetch():
        async with aiohttp.ClientSession() as session:
            async with session.get(lab["wrong_host"].url, ssl=ctx):
                pass

    with pytest.raises(aiohttp.ClientConnectorCertificateError) as info:
        asyncio.run(afetch())
    assert "agrees: hostname mismatch" in " ".join(info.value.__notes__[0].split())


def test_explaining_leaves_other_exceptions_alone():
    with pytest.raises(ZeroDivisionError) as info:
        with pytlscheck.explaining():
            1 / 0
    assert not hasattr(info.value, "__notes__")


def test_explaining_a_tls_failure_it_cannot_check_says_why(lab):
    ep = lab["expired"]
    with pytest.raises(ssl.SSLCertVerificationError) as info:
        with pytlscheck.explaining():
            with socket.create_connection((ep.host, ep.port), timeout=5) as raw:
                lab_context(lab).wrap_socket(raw, server_hostname="localhost")
    (note,) = info.value.__notes__
    assert note.startswith(f"{HEADER} none:") and "which port" in note


def test_nested_explaining_diagnoses_once(lab):
    with pytest.raises(urllib.error.URLError) as info:
        with pytlscheck.explaining():
            with pytlscheck.explaining():
                urllib.request.urlopen(lab["expired"].url, context=lab_context(lab), timeout=5)
    assert len(info.value.__notes__) == 1


def test_python_310_form_puts_the_text_in_the_message(lab):
    """On 3.10 (no add_note) the diagnosis goes into the message: the same
    code path, forced here."""
    need("requests")
    exc = call("requests", lab["expired"].url, cafile=lab.root_pem_path)
    before = str(exc)
    attach(exc, f"{HEADER}\nthe text", notes=False)
    assert str(exc).startswith(before) and str(exc).endswith("the text")
    ssl_exc = client_error(call("http.client", lab["expired"].url, cafile=lab.root_pem_path))
    attach(ssl_exc, f"{HEADER}\nmore", notes=False)
    assert str(ssl_exc).endswith("more") and ssl_exc.verify_code == 10


def test_a_diagnosed_report_pickles_and_renders(lab):
    import pickle

    exc = call("urllib.request", lab["expired"].url, cafile=lab.root_pem_path)
    report = pytlscheck.diagnose(exc)
    again = pickle.loads(pickle.dumps(report))
    assert again.diagnosis == report.diagnosis and again.trust_reason == report.trust_reason
    assert again.to_dict() == report.to_dict()
    from pytlscheck._text import render_text
    text = render_text(report)
    assert text.splitlines()[0].startswith("FAIL")
    assert "Your client (urllib.request) reported CERTIFICATE_VERIFY_FAILED" in text
    assert "Trust store assumed:" in text
    html = report._repr_html_()
    assert html.index('data-role="diagnosis"') < html.index('data-role="chain"')
    assert "<script" not in html.lower()
