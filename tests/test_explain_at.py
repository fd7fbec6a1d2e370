"""explain() judges validity at the time the chain was checked (verify_chain
at=...), not at the real now: a chain checked as of last month reads as it
was then."""
import datetime as dt

import pytlscheck
from pki import CA, days, pem_of


def test_explain_counts_days_from_at_not_from_now():
    root = CA.root(not_before=days(-365))
    inter = root.intermediate(not_before=days(-365))
    leaf = inter.leaf("api.example.test", not_before=days(-100), not_after=days(-3))
    chain = pem_of(leaf, inter)

    then = pytlscheck.verify_chain(chain, hostname="api.example.test", trust=root.pem,
                                   at=days(-30))
    assert then.ok, then.explain()
    text = then.explain()
    assert "days left" in text and "EXPIRED" not in text

    today = pytlscheck.verify_chain(chain, hostname="api.example.test", trust=root.pem)
    assert [p.kind for p in today.errors] == ["expired"]
    assert "EXPIRED 3 days ago" in today.explain()


def test_every_figure_counts_from_at():
    """days_remaining of the report, of each certificate in JSON, the text
    and the problem message all count from at=, not from now."""
    import json

    root = CA.root(not_before=days(-365), not_after=days(3650))
    inter = root.intermediate(not_before=days(-365), not_after=days(3000))
    leaf = inter.leaf("api.example.test", not_before=days(-10), not_after=days(80))
    chain = pem_of(leaf, inter)
    at = days(200)                                  # 120 days after notAfter
    r = pytlscheck.verify_chain(chain, hostname="api.example.test", trust=root.pem, at=at)
    assert [p.kind for p in r.errors] == ["expired"]
    assert r.days_remaining == -120, r.days_remaining
    doc = json.loads(r.to_json())
    assert doc["days_remaining"] == -120
    assert doc["chain"][0]["days_remaining"] == -120
    assert "EXPIRED 120 days ago" in r.explain()
    soon = pytlscheck.verify_chain(chain, hostname="api.example.test", trust=root.pem,
                                   at=days(60))    # 20 days left then
    assert soon.days_remaining == 20
    assert json.loads(soon.to_json())["chain"][0]["days_remaining"] == 20
    assert "20 days left" in soon.explain()
