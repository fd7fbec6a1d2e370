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
