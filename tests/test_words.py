"""Smaller words (issue 13, item 17): one spelling of the key-exchange
group, an errno not called OpenSSL's words, errors that name the argument
they are about, no bare "[Errno 21]", and a DER error that speaks of DER."""
import socket
import subprocess
import sys

import pytest

import pytlscheck
from pki import CA, pem_of
from servers import tls_server


def cli(*args, input=None):
    return subprocess.run([sys.executable, "-m", "pytlscheck", *args], input=input,
                          capture_output=True, text=True, timeout=60)


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_group_is_spelled_as_in_the_docs():
    root = CA.root("Words Root")
    leaf = root.leaf("localhost", "127.0.0.1")
    with tls_server(pem_of(leaf), leaf.key_pem) as (host, port):
        r = pytlscheck.check(f"{host}:{port}", trust=root.pem, timeout=5)
        out = cli(f"{host}:{port}", "--trust", "/dev/stdin", input=root.pem)
    assert r.group == "X25519"
    assert " X25519 " in out.stdout and "x25519" not in out.stdout


def test_an_errno_is_not_called_openssls_words():
    port = closed_port()
    out = cli(f"127.0.0.1:{port}")
    assert out.returncode == 2
    assert "(OpenSSL: ECONNREFUSED)" not in out.stdout
    assert "(technical detail: ECONNREFUSED)" in out.stdout
    text = pytlscheck.check(f"127.0.0.1:{port}").explain()
    assert "Technical detail: ECONNREFUSED." in text


def test_openssls_own_words_keep_their_name(tmp_path):
    root = CA.root("Words Root")
    inter = root.intermediate("Words Issuing")
    path = tmp_path / "chain.pem"
    path.write_text(pem_of(inter.leaf("w.test")))
    out = cli("file", str(path), "--host", "w.test", "--trust", "/dev/stdin", input=root.pem)
    assert "(OpenSSL's words: unable to get local issuer certificate (verify code 20))" \
        in out.stdout, out.stdout


@pytest.mark.parametrize("command", [["127.0.0.1:1"], ["file", "CHAIN"]])
def test_unreadable_trust_names_the_option(tmp_path, command):
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    chain = tmp_path / "chain.pem"
    chain.write_text(CA.root("Words Root").leaf("w.test").pem)
    args = [str(chain) if a == "CHAIN" else a for a in command]
    out = cli(*args, "--trust", str(garbage))
    assert out.returncode == 3
    assert "error: --trust: " in out.stderr and str(garbage) in out.stderr, out.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    out = cli(*args, "--trust", str(empty))
    assert out.returncode == 3 and "error: --trust: " in out.stderr, out.stderr


def test_chain_file_errors_have_no_bare_errno(tmp_path):
    out = cli("file", str(tmp_path))
    assert out.returncode == 3
    assert "[Errno" not in out.stderr
    assert "Could not read the chain file" in out.stderr and "Is a directory" in out.stderr


def test_from_der_speaks_of_der():
    with pytest.raises(ValueError) as e:
        pytlscheck.Certificate.from_der(b"xx")
    assert "PEM" not in str(e.value)
    assert "is not a DER certificate" in str(e.value) and "0x30" in str(e.value)
    with pytest.raises(ValueError, match="empty"):
        pytlscheck.Certificate.from_der(b"")
