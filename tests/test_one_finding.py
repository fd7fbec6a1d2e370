"""Each check is written once (issue 12): a finding OpenSSL and pytlscheck's
own rules both see is reported once, with one verdict."""
import warnings

import pytlscheck
from pki import CA, pem_of


def test_max_depth_is_one_problem():
    root = CA.root("One Root")
    cas = [root]
    for i in range(3):
        cas.append(cas[-1].intermediate(f"One Level {i}"))
    leaf = cas[-1].leaf("one.test")
    chain = pem_of(leaf, *cas[:0:-1])
    for depth in (0, 1, 2):
        r = pytlscheck.verify_chain(chain, hostname="one.test", trust=root.pem, max_depth=depth)
        assert r.kinds == ["path_length_exceeded"], r.explain()
        m = r.problems[0].message
        assert f"(max_depth={depth})" in m and "Also:" not in m and m.count("allow") == 1, m
    assert pytlscheck.verify_chain(chain, hostname="one.test", trust=root.pem, max_depth=3).ok


def test_dsa_2048_has_one_weak_key_verdict():
    from cryptography.hazmat.primitives.asymmetric import dsa
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        key = dsa.generate_private_key(2048)
    root = CA.root("One Root")
    for where in ("leaf", "intermediate"):
        if where == "leaf":
            chain = pem_of(root.leaf("one.test", key=key))
            depth = 0
        else:
            inter = root.intermediate("DSA Issuing", key=key)
            chain = pem_of(inter.leaf("one.test"), inter)
            depth = 1
        r = pytlscheck.verify_chain(chain, hostname="one.test", trust=root.pem)
        weak = [p for p in r.problems if p.kind == "weak_key"]
        assert len(weak) == 1 and weak[0].depth == depth, r.explain()
        assert "DSA" in weak[0].message and "Also:" not in weak[0].message
        assert not r.ok
