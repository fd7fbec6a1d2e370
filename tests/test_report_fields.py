"""Reports straight from the core (_core.Result, csrc/binding/result.c):
every field of the one table reaches Report and to_dict(), values made on
first read equal the ones made the long way, and shortcuts (ok,
days_remaining) agree with the objects they skip."""
from __future__ import annotations

import pickle

import pytest

import pytlscheck
from pki import pem_of
from pytlscheck import _core, check_many
from servers import tls_server


@pytest.fixture(scope="module")
def pki(root, inter):
    leaf = inter.leaf("localhost", "127.0.0.1")
    return {"root": root, "chain": pem_of(leaf, inter), "key": leaf.key_pem}


@pytest.fixture(scope="module")
def server(pki):
    with tls_server(pki["chain"], pki["key"]) as addr:
        yield addr


def test_every_core_field_is_a_report_attribute_and_in_to_dict(pki, server):
    host, port = server
    r = pytlscheck.check(host, port, trust=pki["root"].pem)
    fields = set(_core.REPORT_FIELDS) - {"evaluated_at"}   # read once, as checked_at
    assert {"target", "protocol", "timings", "client_ca_names"} <= fields
    d = r.to_dict()
    assert fields <= set(d), fields - set(d)
    for name in fields:
        assert getattr(r, name) == d[name], name
        assert name in dir(r)
    with pytest.raises(AttributeError):
        r.no_such_field  # noqa: B018
    with pytest.raises(AttributeError):
        r.evaluated_at  # noqa: B018


def test_values_made_on_first_read_survive_pickling_unread(pki, server, other_root):
    host, port = server
    reports = check_many([f"{host}:{port}", (f"{host}:{port}", {"trust": other_root.pem})] * 2,
                         trust=pki["root"].pem)
    for unread, read in ((reports[0], reports[2]), (reports[1], reports[3])):
        back = pickle.loads(pickle.dumps(unread))    # nothing read before pickling
        for name in set(_core.REPORT_FIELDS) - {"evaluated_at", "timings"}:
            assert getattr(back, name) == getattr(read, name), name
        assert [p.to_dict() for p in back.problems] == [p.to_dict() for p in read.problems]
        assert back.chain == read.chain and back.verified_chain == read.verified_chain
    assert reports[0].ok and not reports[1].ok
    assert reports[1].kinds == reports[3].kinds and "unknown_root" in reports[1].kinds


def test_shortcuts_agree_with_the_objects_they_skip(pki, server, other_root):
    host, port = server
    for trust in (pki["root"].pem, other_root.pem):
        fast, slow = check_many([f"{host}:{port}"] * 2, trust=trust)
        slow.chain                                    # noqa: B018 - built first
        slow.problems                                 # noqa: B018
        assert fast.days_remaining == slow.days_remaining == \
            slow.leaf.days_remaining_at(slow.checked_at)
        assert fast.ok == slow.ok == (not any(p.is_error for p in slow.problems))


def test_the_core_result_reads_like_the_report_dict_it_replaced(pki, server):
    host, port = server
    _, client = pytlscheck.api._client(pki["root"].pem, None, None)
    res = _core.check(client, host, port)
    assert isinstance(res, _core.Result)
    assert res["ok"] is res.ok is True and res["port"] == res.port == port
    assert res["timings"] == res.timings and res["timings"]["total"] > 0
    with pytest.raises(KeyError):
        res["no_such_field"]
    with pytest.raises(TypeError):
        _core.Result()
    chain, path, verified = res.certs()
    assert len(chain) == 2 and path is not None and verified is not None
    assert res.cert_key(chain[0]) is None                   # a leaf: not shared
    assert res.cert_key(chain[1]) == res.cert_info(chain[1])["fingerprint_sha256"]
    with pytest.raises(IndexError):
        res.cert_info(99)
