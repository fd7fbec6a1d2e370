"""Bad input: a ValueError / OSError / TypeError with a sentence naming the
input, never a crash; and verify_chain does not leak."""
import gc
import os
import random

import pytest

import pytlscheck
from pki import pem_of
from pytlscheck import Certificate, match_hostname, verify_chain

HOST = "api.example.com"


@pytest.fixture(scope="module")
def good(inter):
    return inter.leaf(HOST)


@pytest.fixture(scope="module")
def trust(root):
    return [Certificate.from_pem(root.pem)]


GARBAGE_PEM = "-----BEGIN CERTIFICATE-----\nthis is not base64 at all!!\n-----END CERTIFICATE-----\n"


@pytest.mark.parametrize("data", [
    GARBAGE_PEM,
    GARBAGE_PEM.encode(),
    "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n",
    b"\x30\x82\x01\x00" + bytes(range(256)),
    b"hello world, not a certificate",
])
def test_garbage_chain_is_value_error(data, trust):
    with pytest.raises(ValueError) as e:
        verify_chain(data, trust=trust)
    assert "chain" in str(e.value)


def test_truncated_pem(good, trust):
    cut = good.pem[: len(good.pem) // 2]
    with pytest.raises(ValueError) as e:
        verify_chain(cut, trust=trust)
    assert "chain" in str(e.value)
    with pytest.raises(ValueError):
        Certificate.from_pem(cut)


def test_truncated_der(good):
    with pytest.raises(ValueError) as e:
        Certificate.from_der(good.der[:-10])
    assert "DER" in str(e.value)


def test_der_with_trailing_bytes(good, trust):
    with pytest.raises(ValueError):
        Certificate.from_der(good.der + b"\x00\x01")


@pytest.mark.parametrize("seed", range(20))
def test_der_noise_never_crashes(seed, good, trust):
    rnd = random.Random(seed)
    der = bytearray(good.der)
    for _ in range(rnd.randint(1, 8)):
        der[rnd.randrange(len(der))] = rnd.randrange(256)
    try:
        r = verify_chain(bytes(der), trust=trust)
    except ValueError as e:
        assert str(e)
    else:
        assert isinstance(r, pytlscheck.Report)


def test_random_bytes_never_crash(trust):
    rnd = random.Random(7)
    for n in (0, 1, 2, 16, 300, 3000):
        blob = bytes(rnd.randrange(256) for _ in range(n))
        with pytest.raises(ValueError):
            verify_chain(blob, trust=trust)
        with pytest.raises(ValueError):
            Certificate.from_der(blob)


def test_missing_path_names_it(tmp_path, trust):
    missing = str(tmp_path / "no-such-chain.pem")
    with pytest.raises(OSError) as e:
        verify_chain(missing, trust=trust)
    assert isinstance(e.value, FileNotFoundError)
    assert "no-such-chain.pem" in str(e.value)


def test_missing_trust_path_names_it(tmp_path, good):
    missing = str(tmp_path / "no-such-root.pem")
    with pytest.raises(OSError) as e:
        verify_chain(good.pem, trust=missing)
    assert "no-such-root.pem" in str(e.value)


def test_trust_file_without_certificates(tmp_path, good):
    p = tmp_path / "empty-root.pem"
    p.write_text("nothing here\n")
    with pytest.raises(ValueError) as e:
        verify_chain(good.pem, trust=str(p))
    assert "empty-root.pem" in str(e.value)


def test_empty_chain_file(tmp_path, trust):
    p = tmp_path / "empty.pem"
    p.write_text("")
    with pytest.raises(ValueError) as e:
        verify_chain(str(p), trust=trust)
    assert "empty.pem" in str(e.value)


@pytest.mark.parametrize("chain", [[], (), b"", b"   \n"])
def test_empty_chain(chain, trust):
    with pytest.raises(ValueError) as e:
        verify_chain(chain, trust=trust)
    assert "empty" in str(e.value)


def test_empty_trust_list(good):
    with pytest.raises(ValueError, match="empty"):
        verify_chain(good.pem, trust=[])


@pytest.mark.parametrize("name", [
    "exa mple.com", "bad_host!.example", "a..b.example", "-leading.example",
    "x" * 64 + ".example", ("a" * 60 + ".") * 5 + "com", "", "   ",
])
def test_bad_hostname(name, good, inter, trust):
    with pytest.raises(ValueError) as e:
        verify_chain(pem_of(good, inter), hostname=name, trust=trust)
    msg = str(e.value)
    assert msg and (name.strip()[:20] in msg or "empty" in msg)
    with pytest.raises(ValueError):
        match_hostname(Certificate.from_pem(good.pem), name)


def test_hostname_that_idna_refuses():
    pytest.importorskip("idna")
    with pytest.raises(ValueError) as e:
        verify_chain(b"unused", hostname="bad\u2603name.example")
    assert "bad\u2603name.example" in str(e.value)


@pytest.mark.parametrize("kwargs,exc", [
    ({"purpose": "email"}, ValueError),
    ({"at": "yesterday"}, TypeError),
    ({"at": 12345}, TypeError),
    ({"min_days": -1}, ValueError),
    ({"min_days": "30"}, TypeError),
    ({"min_remaining": 1.5}, ValueError),
    ({"max_depth": -2}, ValueError),
    ({"trust": 42}, TypeError),
    ({"ekus": [""]}, ValueError),
    ({"crls": [42]}, TypeError),
])
def test_bad_arguments(kwargs, exc, good, inter, trust):
    kwargs.setdefault("trust", trust)
    with pytest.raises(exc):
        verify_chain(pem_of(good, inter), **kwargs)


def test_bad_chain_types(trust):
    with pytest.raises(TypeError):
        verify_chain(42, trust=trust)
    with pytest.raises(TypeError):
        verify_chain([42], trust=trust)


def test_garbage_crl(good, inter, trust):
    with pytest.raises(ValueError) as e:
        verify_chain(pem_of(good, inter), trust=trust, crls=[b"not a crl"])
    assert "CRL" in str(e.value)


def test_non_ascii_pem_text(trust):
    with pytest.raises(ValueError, match="non-ASCII"):
        verify_chain("-----BEGIN CERTIFICATE-----\nMIIé\n-----END CERTIFICATE-----\n", trust=trust)


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc (Linux)")
def test_ten_thousand_calls_do_not_grow_memory(inter, root):
    """10,000 verify_chain calls (a failing and a passing chain, reports
    with problems, exceptions raised and caught) keep RSS flat."""
    leaf = inter.leaf(HOST)
    good_chain = pem_of(leaf, inter).encode()
    bad_chain = leaf.pem.encode()
    trust = root.pem.encode()

    def once(i):
        r = verify_chain(good_chain if i % 2 else bad_chain, hostname=HOST, trust=trust)
        if not r.ok:
            try:
                r.raise_for_problems()
            except pytlscheck.IncompleteChain:
                pass
        try:
            verify_chain(b"garbage", trust=trust)
        except ValueError:
            pass

    for i in range(1000):   # warm-up: caches, allocator pools
        once(i)
    gc.collect()
    before = _rss_bytes()
    for i in range(10_000):
        once(i)
    gc.collect()
    grown = _rss_bytes() - before
    assert grown < 5 * 1024 * 1024, f"RSS grew by {grown / 1e6:.1f} MB over 10,000 calls"
