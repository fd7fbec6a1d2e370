"""A wildcard over a public suffix (issue 16, item 7): *.co.uk is refused as
Chrome refuses it, from the ICANN section of the Public Suffix List compiled
into the core (csrc/core/x509/psl.c); the private section is not applied
(*.s3.amazonaws.com stays honoured). Minted certificates, verify_chain, and
a live check of an openssl s_server on loopback."""
from __future__ import annotations

import importlib.util
import re
import subprocess
from pathlib import Path

import pytest

import pytlscheck
from pki import CA, have_openssl_cli, pem_of
from servers import openssl_server

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(pytlscheck.__file__).parent / "data"


@pytest.fixture(scope="module")
def root():
    return CA.root("Public Suffix Test Root")


def test_a_wildcard_over_an_icann_public_suffix_is_a_hostname_mismatch(root):
    leaf = root.leaf("*.co.uk")
    r = pytlscheck.verify_chain(leaf.pem, hostname="shop.co.uk", trust=root.pem)
    assert r.kinds == ["hostname_mismatch"], r.explain()
    m = r.problems[0].message
    assert "the wildcard *.co.uk is not honoured because co.uk is a public suffix" in m
    assert "the ICANN section of the Public Suffix List, version 20" in m
    assert "browsers refuse a wildcard over one" in m
    # Good twins: one registrable label more, and a name without wildcard.
    good = root.leaf("*.example.co.uk", "example.co.uk")
    assert pytlscheck.verify_chain(good.pem, hostname="www.example.co.uk", trust=root.pem).ok
    assert pytlscheck.verify_chain(good.pem, hostname="example.co.uk", trust=root.pem).ok


@pytest.mark.parametrize("pattern, host, suffix", [
    ("*.CO.UK", "shop.co.uk", "co.uk"),            # case-insensitive
    ("*.foo.ck", "www.foo.ck", "foo.ck"),          # the list's wildcard rule *.ck
    ("*.x.kawasaki.jp", "a.x.kawasaki.jp", "x.kawasaki.jp"),
    ("*.xn--55qx5d.cn", "a.xn--55qx5d.cn", "xn--55qx5d.cn"),   # an IDN suffix, as its A-label
])
def test_the_list_s_rules_refuse(root, pattern, host, suffix):
    m = pytlscheck.match_hostname(root.leaf(pattern).pem, host)
    assert not m.ok and f"because {suffix} is a public suffix" in m.reason, m.reason


@pytest.mark.parametrize("pattern, host", [
    ("*.www.ck", "a.www.ck"),                      # the exception !www.ck
    ("*.city.kawasaki.jp", "a.city.kawasaki.jp"),  # the exception !city.kawasaki.jp
    ("*.kawasaki.jp", "x.kawasaki.jp"),            # *.kawasaki.jp does not make kawasaki.jp a suffix
    ("*.s3.amazonaws.com", "bucket.s3.amazonaws.com"),   # private section: not applied, as in Chrome
    ("*.appspot.com", "app.appspot.com"),
    ("*.a.internal", "x.a.internal"),              # an unknown TLD is one label of registry
])
def test_what_chrome_lets_through_stays_honoured(root, pattern, host):
    m = pytlscheck.match_hostname(root.leaf(pattern).pem, host)
    assert m.ok, m.reason


def test_openssl_alone_would_accept_it(root, tmp_path):
    """docs/hostname.md D11: the difference is ours (OpenSSL has no list)."""
    if not have_openssl_cli():
        pytest.skip("the openssl command line tool is not installed")
    f = tmp_path / "leaf.pem"
    f.write_text(root.leaf("*.co.uk").pem)
    out = subprocess.run(["openssl", "x509", "-noout", "-in", str(f), "-checkhost", "shop.co.uk"],
                         capture_output=True, text=True, timeout=30).stdout
    assert "does match certificate" in out, out


def test_live_a_server_with_a_public_suffix_wildcard(root):
    if not have_openssl_cli():
        pytest.skip("the openssl command line tool is not installed")
    bad = root.leaf("*.co.uk")
    with openssl_server("-www", cert=bad.pem, key=bad.key_pem) as (host, port):
        r = pytlscheck.check(f"{host}:{port}", server_name="shop.co.uk", trust=root.pem, timeout=5)
    assert [p.kind for p in r.problems] == ["hostname_mismatch"], r.explain()
    assert "co.uk is a public suffix" in r.problems[0].message
    good = root.leaf("*.example.co.uk")
    with openssl_server("-www", cert=good.pem, key=good.key_pem) as (host, port):
        r = pytlscheck.check(f"{host}:{port}", server_name="shop.example.co.uk", trust=root.pem, timeout=5)
    assert r.ok and r.problems == [], r.explain()


def test_the_list_is_shipped_with_its_licence_and_version():
    dat = (DATA / "public_suffix_list.dat").read_text("utf-8")
    assert "Mozilla Public" in dat[:300] and "===BEGIN ICANN DOMAINS===" in dat
    assert "Mozilla Public License" in (DATA / "public_suffix_list.LICENSE").read_text("utf-8")[:200]
    version = re.search(r"^// VERSION: (\S+)$", dat, re.M).group(1)
    m = pytlscheck.match_hostname(CA.root("V").leaf("*.co.uk").pem, "a.co.uk")
    assert f"version {version[:10]}" in m.reason, (version, m.reason)


@pytest.mark.skipif(not (ROOT / "tools" / "gen_psl.py").exists(), reason="source tree only")
def test_the_compiled_table_is_current():
    spec = importlib.util.spec_from_file_location("gen_psl", ROOT / "tools" / "gen_psl.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    assert gen.main(["--check"]) == 0, "run: python tools/gen_psl.py"
    version, _, table = gen.parse((DATA / "public_suffix_list.dat").read_text("utf-8"))
    assert table["co.uk"] == gen.RULE and table["ck"] == gen.WILD and table["www.ck"] == gen.EXC
    assert "s3.amazonaws.com" not in table, "the private section is not compiled in"
