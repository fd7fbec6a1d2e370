"""Named trust stores (issue 18): trust="system", trust="certifi", lists
mixing names, files and certificates, report.trust_store, and the words
when a root missing from one named list is in the other (an outdated
system bundle; a private CA added to this machine).

Mozilla roots' keys are nobody's to have, so the outdated-bundle tests use
real public CA certificates (Let's Encrypt's intermediates R11 and E7 and
the cross-signed ISRG Root X2, as published at
https://letsencrypt.org/certificates/: public data) with certifi's copy of
ISRG Root X1, verified at a date inside their validity; the "system"
store is a copy of certifi's bundle with the ISRG roots taken out,
pointed at with SSL_CERT_FILE (and an empty SSL_CERT_DIR), as OpenSSL
reads them.
"""
from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
import textwrap
from datetime import date

import pytest

import pytlscheck
from pki import pem_of
from pytlscheck import _core, api
from pytlscheck.lab import Lab

certifi = pytest.importorskip("certifi")

AT = date(2025, 6, 1)    # inside R11's, E7's and the X2 cross-sign's validity

# Let's Encrypt R11, issued by ISRG Root X1 (2024-03-13 .. 2027-03-12).
R11 = """-----BEGIN CERTIFICATE-----
MIIFBjCCAu6gAwIBAgIRAIp9PhPWLzDvI4a9KQdrNPgwDQYJKoZIhvcNAQELBQAw
TzELMAkGA1UEBhMCVVMxKTAnBgNVBAoTIEludGVybmV0IFNlY3VyaXR5IFJlc2Vh
cmNoIEdyb3VwMRUwEwYDVQQDEwxJU1JHIFJvb3QgWDEwHhcNMjQwMzEzMDAwMDAw
WhcNMjcwMzEyMjM1OTU5WjAzMQswCQYDVQQGEwJVUzEWMBQGA1UEChMNTGV0J3Mg
RW5jcnlwdDEMMAoGA1UEAxMDUjExMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIB
CgKCAQEAuoe8XBsAOcvKCs3UZxD5ATylTqVhyybKUvsVAbe5KPUoHu0nsyQYOWcJ
DAjs4DqwO3cOvfPlOVRBDE6uQdaZdN5R2+97/1i9qLcT9t4x1fJyyXJqC4N0lZxG
AGQUmfOx2SLZzaiSqhwmej/+71gFewiVgdtxD4774zEJuwm+UE1fj5F2PVqdnoPy
6cRms+EGZkNIGIBloDcYmpuEMpexsr3E+BUAnSeI++JjF5ZsmydnS8TbKF5pwnnw
SVzgJFDhxLyhBax7QG0AtMJBP6dYuC/FXJuluwme8f7rsIU5/agK70XEeOtlKsLP
Xzze41xNG/cLJyuqC0J3U095ah2H2QIDAQABo4H4MIH1MA4GA1UdDwEB/wQEAwIB
hjAdBgNVHSUEFjAUBggrBgEFBQcDAgYIKwYBBQUHAwEwEgYDVR0TAQH/BAgwBgEB
/wIBADAdBgNVHQ4EFgQUxc9GpOr0w8B6bJXELbBeki8m47kwHwYDVR0jBBgwFoAU
ebRZ5nu25eQBc4AIiMgaWPbpm24wMgYIKwYBBQUHAQEEJjAkMCIGCCsGAQUFBzAC
hhZodHRwOi8veDEuaS5sZW5jci5vcmcvMBMGA1UdIAQMMAowCAYGZ4EMAQIBMCcG
A1UdHwQgMB4wHKAaoBiGFmh0dHA6Ly94MS5jLmxlbmNyLm9yZy8wDQYJKoZIhvcN
AQELBQADggIBAE7iiV0KAxyQOND1H/lxXPjDj7I3iHpvsCUf7b632IYGjukJhM1y
v4Hz/MrPU0jtvfZpQtSlET41yBOykh0FX+ou1Nj4ScOt9ZmWnO8m2OG0JAtIIE38
01S0qcYhyOE2G/93ZCkXufBL713qzXnQv5C/viOykNpKqUgxdKlEC+Hi9i2DcaR1
e9KUwQUZRhy5j/PEdEglKg3l9dtD4tuTm7kZtB8v32oOjzHTYw+7KdzdZiw/sBtn
UfhBPORNuay4pJxmY/WrhSMdzFO2q3Gu3MUBcdo27goYKjL9CTF8j/Zz55yctUoV
aneCWs/ajUX+HypkBTA+c8LGDLnWO2NKq0YD/pnARkAnYGPfUDoHR9gVSp/qRx+Z
WghiDLZsMwhN1zjtSC0uBWiugF3vTNzYIEFfaPG7Ws3jDrAMMYebQ95JQ+HIBD/R
PBuHRTBpqKlyDnkSHDHYPiNX3adPoPAcgdF3H2/W0rmoswMWgTlLn1Wu0mrks7/q
pdWfS6PJ1jty80r2VKsM/Dj3YIDfbjXKdaFU5C+8bhfJGqU3taKauuz0wHVGT3eo
6FlWkWYtbt4pgdamlwVeZEW+LM7qZEJEsMNPrfC03APKmZsJgpWCDWOKZvkZcvjV
uYkQ4omYCTX5ohy+knMjdOmdH9c7SpqEWBDC86fiNex+O0XOMEZSa8DA
-----END CERTIFICATE-----
"""

# Let's Encrypt E7, issued by ISRG Root X2 (2024-03-13 .. 2027-03-12).
E7 = """-----BEGIN CERTIFICATE-----
MIICtzCCAjygAwIBAgIRAMWKhaLGI0XgqMRSU4efWTowCgYIKoZIzj0EAwMwTzEL
MAkGA1UEBhMCVVMxKTAnBgNVBAoTIEludGVybmV0IFNlY3VyaXR5IFJlc2VhcmNo
IEdyb3VwMRUwEwYDVQQDEwxJU1JHIFJvb3QgWDIwHhcNMjQwMzEzMDAwMDAwWhcN
MjcwMzEyMjM1OTU5WjAyMQswCQYDVQQGEwJVUzEWMBQGA1UEChMNTGV0J3MgRW5j
cnlwdDELMAkGA1UEAxMCRTcwdjAQBgcqhkjOPQIBBgUrgQQAIgNiAARB6ASTCFh/
vjcwDMCgQer+VtqEkz7JANurZxLP+U9TCeioL6sp5Z8VRvRbYk4P1INBmbefQHJF
HCxcSjKmwtvGBWpl/9ra8HW0QDsUaJW2qOJqceJ0ZVFT3hbUHifBM/2jgfgwgfUw
DgYDVR0PAQH/BAQDAgGGMB0GA1UdJQQWMBQGCCsGAQUFBwMCBggrBgEFBQcDATAS
BgNVHRMBAf8ECDAGAQH/AgEAMB0GA1UdDgQWBBSuSJ7chx1EoG/aouVgdAR4wpwA
gDAfBgNVHSMEGDAWgBR8Qpau3ktIO/qS+J6Mz22LqXI3lTAyBggrBgEFBQcBAQQm
MCQwIgYIKwYBBQUHMAKGFmh0dHA6Ly94Mi5pLmxlbmNyLm9yZy8wEwYDVR0gBAww
CjAIBgZngQwBAgEwJwYDVR0fBCAwHjAcoBqgGIYWaHR0cDovL3gyLmMubGVuY3Iu
b3JnLzAKBggqhkjOPQQDAwNpADBmAjEA/e5N+wjAk945cpaFxGaeMC13fyvdbNzX
lRg9HNdElxi5mXdI4az2CykNU07iFwqEAjEAihPCDkw4b1BvfLg8VNLLuaMpn1Rb
Z1682chR6zNRCseyie4SjyTCdkvsAa+omQSf
-----END CERTIFICATE-----
"""

# ISRG Root X2 cross-signed by ISRG Root X1 (2020-09-04 .. 2025-09-15).
X2_BY_X1 = """-----BEGIN CERTIFICATE-----
MIIEYDCCAkigAwIBAgIQB55JKIY3b9QISMI/xjHkYzANBgkqhkiG9w0BAQsFADBP
MQswCQYDVQQGEwJVUzEpMCcGA1UEChMgSW50ZXJuZXQgU2VjdXJpdHkgUmVzZWFy
Y2ggR3JvdXAxFTATBgNVBAMTDElTUkcgUm9vdCBYMTAeFw0yMDA5MDQwMDAwMDBa
Fw0yNTA5MTUxNjAwMDBaME8xCzAJBgNVBAYTAlVTMSkwJwYDVQQKEyBJbnRlcm5l
dCBTZWN1cml0eSBSZXNlYXJjaCBHcm91cDEVMBMGA1UEAxMMSVNSRyBSb290IFgy
MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEzZvVn4CDCuwJSvMWSj5cz3es3mcFDR0H
ttwW+1qLFNvicWDEukWVEYmO6gbf9yoWHKS5xcUy4APgHoIYOIvXRdgKam7mAHf7
AlF9ItgKbppbd9/w+kHsOdx1ymgHDB/qo4HlMIHiMA4GA1UdDwEB/wQEAwIBBjAP
BgNVHRMBAf8EBTADAQH/MB0GA1UdDgQWBBR8Qpau3ktIO/qS+J6Mz22LqXI3lTAf
BgNVHSMEGDAWgBR5tFnme7bl5AFzgAiIyBpY9umbbjAyBggrBgEFBQcBAQQmMCQw
IgYIKwYBBQUHMAKGFmh0dHA6Ly94MS5pLmxlbmNyLm9yZy8wJwYDVR0fBCAwHjAc
oBqgGIYWaHR0cDovL3gxLmMubGVuY3Iub3JnLzAiBgNVHSAEGzAZMAgGBmeBDAEC
ATANBgsrBgEEAYLfEwEBATANBgkqhkiG9w0BAQsFAAOCAgEAG38lK5B6CHYAdxjh
wy6KNkxBfr8XS+Mw11sMfpyWmG97sGjAJETM4vL80erb0p8B+RdNDJ1V/aWtbdIv
P0tywC6uc8clFlfCPhWt4DHRCoSEbGJ4QjEiRhrtekC/lxaBRHfKbHtdIVwH8hGR
Ib/hL8Lvbv0FIOS093nzLbs3KvDGsaysUfUfs1oeZs5YBxg4f3GpPIO617yCnpp2
D56wKf3L84kHSBv+q5MuFCENX6+Ot1SrXQ7UW0xx0JLqPaM2m3wf4DtVudhTU8yD
ZrtK3IEGABiL9LPXSLETQbnEtp7PLHeOQiALgH6fxatI27xvBI1sRikCDXCKHfES
c7ZGJEKeKhcY46zHmMJyzG0tdm3dLCsmlqXPIQgb5dovy++fc5Ou+DZfR4+XKM6r
4pgmmIv97igyIintTJUJxCD6B+GGLET2gUfA5GIy7R3YPEiIlsNekbave1mk7uOG
nMeIWMooKmZVm4WAuR3YQCvJHBM8qevemcIWQPb1pK4qJWxSuscETLQyu/w4XKAM
YXtX7HdOUM+vBqIPN4zhDtLTLxq9nHE+zOH40aijvQT2GcD5hq/1DhqqlWvvykdx
S2McTZbbVSMKnQ+BdaDmQPVkRgNuzvpqfQbspDQGdNpT2Lm4xiN9qfgqLaSCpi4t
EcrmzTFYeYXmchynn9NM0GbQp7s=
-----END CERTIFICATE-----
"""

OUTDATED = ("trusted by current browsers (Mozilla's list) but missing from this machine's "
            "bundle, which is probably outdated: update ca-certificates")
PRIVATE = "trusted by this machine's store but not by Mozilla's current list"


def _pem(der: bytes) -> str:
    body = "\n".join(textwrap.wrap(base64.b64encode(der).decode("ascii"), 64))
    return f"-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n"


def _words(text: str) -> str:
    return " ".join(text.split())


def _certifi_certs():
    return _core.load_certificates(certifi.where())


def _isrg(cn: str) -> str:
    found = [c for c in _certifi_certs() if f"CN={cn}," in c["subject"] + ","]
    assert len(found) == 1, f"{cn} is not once in certifi's bundle"
    return _pem(found[0]["der"])


def _messages(report) -> str:
    return _words(" ".join(p.message for p in report.problems))


def _use_system_bundle(monkeypatch, tmp_path, pem_text: str) -> str:
    """Points OpenSSL's default paths (the "system" store) at a bundle."""
    path = tmp_path / "system-bundle.pem"
    path.write_text(pem_text)
    empty = tmp_path / "empty-cert-dir"
    empty.mkdir(exist_ok=True)
    monkeypatch.setenv("SSL_CERT_FILE", str(path))
    monkeypatch.setenv("SSL_CERT_DIR", str(empty))
    return str(path)


@pytest.fixture
def outdated(monkeypatch, tmp_path):
    """A system bundle that is certifi's without the ISRG roots."""
    kept = [c for c in _certifi_certs() if "O=Internet Security Research Group" not in c["subject"]]
    assert len(kept) == len(_certifi_certs()) - 2
    return _use_system_bundle(monkeypatch, tmp_path, "".join(_pem(c["der"]) for c in kept))


# ---- trust="certifi" -------------------------------------------------------

def test_certifi_anchors_a_real_public_chain_and_is_named():
    x1 = _isrg("ISRG Root X1")
    report = pytlscheck.verify_chain([R11, x1], trust="certifi", at=AT)
    label = f"certifi {certifi.__version__} ({certifi.where()})"
    assert report.trust_store == [label]
    assert report.to_dict()["trust_store"] == [label]
    assert report.trust == f"Mozilla's list of roots from {label}"
    assert f"Trusted roots: Mozilla's list of roots from certifi {certifi.__version__}" in \
        _words(report.explain())
    assert "trusted roots: Mozilla&#x27;s list of roots" in report._repr_html_() or \
        "trusted roots: Mozilla's list of roots" in report._repr_html_()
    # R11 is a CA certificate, not a server's: that is the one error left.
    assert "untrusted_root" not in report.kinds and "unknown_root" not in report.kinds
    assert report.verified_chain is not None
    assert report.verified_chain[-1].subject == report.path[-1].subject
    assert "ISRG Root X1" in report.verified_chain[-1].subject


def test_certifi_copy_with_a_minted_root(tmp_path, inter, root):
    """A copy of certifi's bundle plus a private root trusts the private
    chain; certifi alone does not, and says nothing about Mozilla (the root
    is in neither named list)."""
    leaf = inter.leaf("api.example.test")
    copy = tmp_path / "cacert-plus-private.pem"
    copy.write_text(open(certifi.where()).read() + root.pem)
    report = pytlscheck.verify_chain(pem_of(leaf, inter), hostname="api.example.test",
                                     trust=str(copy))
    assert report.ok, report.explain()
    assert report.trust_store == [f"file ({copy})"]

    alone = pytlscheck.verify_chain(pem_of(leaf, inter), hostname="api.example.test",
                                    trust="certifi")
    assert alone.kinds[0] == "unknown_root"
    assert "Mozilla" not in _messages(alone).replace("Mozilla's list of roots from", "")

    mixed = pytlscheck.verify_chain(pem_of(leaf, inter), hostname="api.example.test",
                                    trust=["certifi", root.pem])
    assert mixed.ok, mixed.explain()
    assert mixed.trust_store == [f"certifi {certifi.__version__} ({certifi.where()})",
                                 "certificates (1)"]
    assert " and the 1 trust anchor given" in mixed.trust


def test_list_mixing_names_files_and_certificates(tmp_path, inter, root, other_root):
    leaf = inter.leaf("api.example.test")
    root_file = root.write(tmp_path, "private-root")
    report = pytlscheck.verify_chain(pem_of(leaf, inter), hostname="api.example.test",
                                     trust=["system", other_root.der, root_file])
    assert report.ok, report.explain()
    assert [s.split()[0] for s in report.trust_store] == ["system", "certificates", "file"]
    assert report.trust_store[2] == f"file ({root_file})"
    # Without the private root's file, the same list does not trust it.
    without = pytlscheck.verify_chain(pem_of(leaf, inter), trust=["system", other_root.der])
    assert without.kinds[0] == "unknown_root"


# ---- the outdated system bundle ------------------------------------------------

def test_outdated_system_bundle_is_said_for_untrusted_root(outdated):
    x1 = _isrg("ISRG Root X1")
    for trust in (None, "system"):
        report = pytlscheck.verify_chain([R11, x1], trust=trust, at=AT)
        assert report.kinds[0] == "untrusted_root"
        assert report.trust_store[0].startswith(f"system ({outdated}, ")
        msg = _words(report.problems[0].message)
        assert "This root is " + OUTDATED in msg, msg
        assert "ISRG Root X1" in msg


def test_outdated_system_bundle_is_said_for_unknown_root(outdated):
    """The chain a server sends (E7 and the cross-signed X2, not the root):
    the issuer missing from the bundle is a root in Mozilla's list."""
    report = pytlscheck.verify_chain([E7, X2_BY_X1], trust="system", at=AT)
    assert report.kinds[0] == "unknown_root"
    assert "here the issuer is a root " + OUTDATED in _words(report.problems[0].message)


def test_no_outdated_words_when_the_bundle_has_the_root(monkeypatch, tmp_path):
    _use_system_bundle(monkeypatch, tmp_path, open(certifi.where()).read())
    x1 = _isrg("ISRG Root X1")
    report = pytlscheck.verify_chain([R11, x1], trust="system", at=AT)
    assert "untrusted_root" not in report.kinds and report.verified_chain is not None
    assert "Mozilla" not in _messages(report)


def test_no_outdated_words_for_a_root_in_neither_list(outdated, inter, root):
    leaf = inter.leaf("api.example.test")
    report = pytlscheck.verify_chain(pem_of(leaf, inter, root), trust="system")
    assert report.kinds[0] == "untrusted_root"
    assert "Mozilla" not in _messages(report) and "This root is" not in _messages(report)


def test_no_outdated_words_without_certifi(outdated, monkeypatch):
    """Without certifi there is nothing to compare with: the verdict alone."""
    monkeypatch.setitem(sys.modules, "certifi", None)   # import certifi now fails
    x1 = _isrg("ISRG Root X1")
    report = pytlscheck.verify_chain([R11, x1], trust="system", at=AT)
    assert report.kinds[0] == "untrusted_root"
    assert "Mozilla" not in _messages(report)


def test_outdated_system_bundle_in_the_cli(outdated, tmp_path):
    """`pytlscheck file` in a process whose OpenSSL reads the copied
    bundle, as a machine with an old ca-certificates package does."""
    chain = tmp_path / "r11-and-x1.pem"
    chain.write_text(R11 + _isrg("ISRG Root X1"))
    env = dict(os.environ, NO_COLOR="1")
    argv = [sys.executable, "-m", "pytlscheck", "file", str(chain), "--at", AT.isoformat()]
    for extra in ([], ["--trust", "system"]):
        proc = subprocess.run(argv + extra, capture_output=True, text=True, env=env, timeout=60)
        assert proc.returncode == 2, proc.stderr
        assert OUTDATED in _words(proc.stdout), proc.stdout
    proc = subprocess.run(argv + ["--json"], capture_output=True, text=True, env=env, timeout=60)
    doc = json.loads(proc.stdout)
    result = doc["results"][0] if "results" in doc else doc
    assert result["trust_store"][0].startswith(f"system ({outdated}, ")
    assert OUTDATED in _words(result["problems"][0]["message"])


# ---- the reverse: a private CA added to this machine -------------------------

def test_root_only_in_the_system_store_is_said_with_certifi(monkeypatch, tmp_path, inter, root):
    _use_system_bundle(monkeypatch, tmp_path, root.pem)
    leaf = inter.leaf("api.example.test")
    report = pytlscheck.verify_chain(pem_of(leaf, inter, root), trust="certifi")
    assert report.kinds[0] == "untrusted_root"
    assert "This root is " + PRIVATE in _words(report.problems[0].message)
    served = pytlscheck.verify_chain(pem_of(leaf, inter), trust="certifi")
    assert served.kinds[0] == "unknown_root"
    assert "here the issuer is a root " + PRIVATE in _words(served.problems[0].message)
    # The system store itself trusts it: nothing to say there.
    assert pytlscheck.verify_chain(pem_of(leaf, inter), hostname="api.example.test",
                                   trust="system").ok


# ---- bad input -------------------------------------------------------------------

def test_certifi_missing_says_how_to_install(monkeypatch, inter):
    monkeypatch.setitem(sys.modules, "certifi", None)
    with pytest.raises(ValueError) as e:
        pytlscheck.verify_chain(inter.pem, trust="certifi")
    assert "certifi" in str(e.value) and "pip install" in str(e.value)
    with pytest.raises(ValueError, match="pip install"):
        pytlscheck.verify_chain(inter.pem, trust=["certifi", inter.pem])


def test_unknown_store_name_names_the_input_and_the_names(tmp_path, monkeypatch, inter):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError) as e:
        pytlscheck.verify_chain(inter.pem, trust="certfi")
    assert "'certfi'" in str(e.value) and "'system'" in str(e.value) and "'certifi'" in str(e.value)
    with pytest.raises(FileNotFoundError, match="'nope.pem'"):
        pytlscheck.verify_chain(inter.pem, trust=["system", "nope.pem"])
    with pytest.raises(TypeError, match="trust item 2"):
        pytlscheck.verify_chain(inter.pem, trust=["system", 42])
    (tmp_path / "x.pem").write_text(inter.pem)
    proc = subprocess.run([sys.executable, "-m", "pytlscheck", "file", "x.pem", "--trust", "certfi"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 3
    assert "--trust 'certfi'" in proc.stderr and "'certifi'" in proc.stderr


def test_a_file_named_like_a_store_is_reached_with_a_path(tmp_path, monkeypatch, inter, root):
    """"certifi" is the name; ./certifi is the file."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "certifi").write_text(root.pem)
    leaf = inter.leaf("api.example.test")
    report = pytlscheck.verify_chain(pem_of(leaf, inter), hostname="api.example.test",
                                     trust="./certifi")
    assert report.ok and report.trust_store == ["file (./certifi)"]
    named = pytlscheck.verify_chain(pem_of(leaf, inter), trust="certifi")
    assert named.trust_store[0].startswith("certifi ")


# ---- live checks, many, async ------------------------------------------------------

@pytest.fixture(scope="module")
def lab():
    with Lab() as lab:
        yield lab


def test_live_checks_name_the_store(lab):
    ep = lab["healthy"]
    trust = ["certifi", lab.root_pem_path]
    want = [f"certifi {certifi.__version__} ({certifi.where()})", f"file ({lab.root_pem_path})"]
    report = pytlscheck.check(ep.target, server_name=ep.server_name, trust=trust)
    assert report.ok, report.explain()
    assert report.trust_store == want
    alone = pytlscheck.check(ep.target, server_name=ep.server_name, trust="certifi")
    assert not alone.ok and alone.trust_store == want[:1]
    many = pytlscheck.check_many([ep.target, (ep.target, {"trust": "certifi"})],
                                 server_name=ep.server_name, trust=trust)
    assert [r.trust_store for r in many] == [want, want[:1]]
    assert many[0].ok and not many[1].ok
    async_report = asyncio.run(pytlscheck.check_async(ep.target, server_name=ep.server_name,
                                                      trust=trust))
    assert async_report.ok and async_report.trust_store == want
    assert pytlscheck.verify(ep.target, server_name=ep.server_name, trust=trust).ok


def test_cache_keeps_one_store_per_name():
    a, _ = api._trust_store("certifi")
    b, _ = api._trust_store(["certifi"])
    assert a is b


def test_live_check_says_the_root_is_only_in_this_machines_store(lab, monkeypatch, tmp_path):
    """requests' situation: its certifi bundle lacks the private root that
    was added to this machine's store; the live report says which."""
    _use_system_bundle(monkeypatch, tmp_path, open(lab.root_pem_path).read())
    ep = lab["healthy"]
    report = pytlscheck.check(ep.target, server_name=ep.server_name, trust="certifi")
    assert report.kinds[0] == "unknown_root"
    assert "here the issuer is a root " + PRIVATE in _words(report.problems[0].message)
    assert pytlscheck.check(ep.target, server_name=ep.server_name, trust="system").ok
    many = pytlscheck.check_many([ep.target], server_name=ep.server_name, trust="certifi")
    assert PRIVATE in _words(many[0].problems[0].message)
