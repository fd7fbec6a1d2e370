"""The rule for URLs taken from certificates (csrc/core/conn/fetch.c,
docs/security.md), through the core's function: a fetch goes only to an
address of the target's own class, never link-local and kin."""
from __future__ import annotations

import pytest

from pytlscheck import _core

PUBLIC = "93.184.216.34"   # a simulated public target: only its class matters here


@pytest.mark.parametrize("target, address, allowed, cls", [
    ("127.0.0.1", "127.0.0.1", True, "loopback"),
    ("127.0.0.1", "::ffff:127.0.0.1", True, "loopback"),
    ("::1", "127.0.0.5", True, "loopback"),
    ("10.1.2.3", "10.0.0.5", True, "private"),
    ("192.168.1.1", "fd00::7", True, "private"),
    (PUBLIC, "8.8.8.8", True, "public"),
    (PUBLIC, "169.254.169.254", False, "link-local"),
    (PUBLIC, "10.0.0.5", False, "private"),
    (PUBLIC, "::ffff:127.0.0.1", False, "loopback"),
    (PUBLIC, "fe80::1", False, "link-local"),
    (PUBLIC, "0.0.0.0", False, "unspecified"),
    (PUBLIC, "ff02::1", False, "multicast"),
    (PUBLIC, "198.51.100.7", False, "reserved"),
    ("127.0.0.1", "10.0.0.5", False, "private"),
    ("127.0.0.1", PUBLIC, False, "public"),
    ("169.254.0.1", "169.254.169.254", False, "link-local"),
])
def test_fetch_address_rule(target, address, allowed, cls):
    assert _core.fetch_addr_allowed(target, address) == (allowed, cls)


def test_fetch_address_rule_names_a_bad_input():
    with pytest.raises(ValueError, match="address is not an IP address: 'example.com'"):
        _core.fetch_addr_allowed("127.0.0.1", "example.com")
    with pytest.raises(ValueError, match="target is not an IP address"):
        _core.fetch_addr_allowed("[::1]", "::1")
