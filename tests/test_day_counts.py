"""One rounding rule for every day count of a report (issue 13, item 5):
the message, the text card, days_remaining and JSON all count whole days,
rounded down, from the one moment the core judged validity at."""
import datetime as dt
import json
import re

import pytest

import pytlscheck
from pki import CA, pem_of
from pytlscheck.lab import Lab


@pytest.fixture(scope="module")
def lab():
    with Lab() as lab:
        yield lab


def _figures(report):
    """Every day figure the report shows, by where it shows it."""
    from pytlscheck._text import render_text
    texts = [" ".join(t.split()) for t in (report.explain(), render_text(report))]
    message = " ".join(p.message for p in report.problems)
    return {
        "message": [int(n) for n in re.findall(r"\bin (\d+) days?\b", message)],
        # the leaf's line comes first in both renderings
        "card": [int(re.search(r"(\d+) days? left", t).group(1)) for t in texts],
        "days_remaining": report.days_remaining,
        "json": json.loads(report.to_json())["chain"][0]["days_remaining"],
    }


def _at_boundary(offset_days):
    """A leaf whose notAfter (or notBefore) lies exactly offset_days from a
    whole second `base`, checked half a second after base: the half second
    is where two clocks or two rounding rules part."""
    base = dt.datetime(2031, 3, 1, 12, 0, 0, tzinfo=dt.timezone.utc)
    return base, base + dt.timedelta(days=offset_days), base + dt.timedelta(milliseconds=500)


def test_expiring_soon_counts_agree_at_a_day_boundary():
    base, edge, at = _at_boundary(5)
    root = CA.root(not_before=base - dt.timedelta(days=400), not_after=base + dt.timedelta(days=4000))
    leaf = root.leaf("days.test", not_before=base - dt.timedelta(days=60), not_after=edge)
    r = pytlscheck.verify_chain(pem_of(leaf), hostname="days.test", trust=root.pem, at=at)
    assert [p.kind for p in r.problems] == ["expires_soon"]
    f = _figures(r)
    assert "in 5 days" in r.problems[0].message, r.problems[0].message
    assert "5 days left" in r.explain(), r.explain()
    assert f["days_remaining"] == 5 and f["json"] == 5, f


def test_not_yet_valid_counts_agree_at_a_day_boundary():
    base, edge, at = _at_boundary(10)
    root = CA.root(not_before=base - dt.timedelta(days=400), not_after=base + dt.timedelta(days=4000))
    leaf = root.leaf("days.test", not_before=edge, not_after=edge + dt.timedelta(days=90))
    r = pytlscheck.verify_chain(pem_of(leaf), hostname="days.test", trust=root.pem, at=at)
    assert [p.kind for p in r.errors] == ["not_yet_valid"]
    assert "10 days from now" in r.problems[0].message, r.problems[0].message
    assert "starts in 10 days" in " ".join(r.explain().split()), r.explain()


def test_expired_counts_agree_at_a_day_boundary():
    base, edge, at = _at_boundary(-7)
    root = CA.root(not_before=base - dt.timedelta(days=400), not_after=base + dt.timedelta(days=4000))
    leaf = root.leaf("days.test", not_before=edge - dt.timedelta(days=90), not_after=edge)
    r = pytlscheck.verify_chain(pem_of(leaf), hostname="days.test", trust=root.pem, at=at)
    assert [p.kind for p in r.errors] == ["expired"]
    assert "7 days ago" in r.problems[0].message, r.problems[0].message
    assert "EXPIRED 7 days ago" in " ".join(r.explain().split()), r.explain()
    assert r.days_remaining == -7


def test_report_time_is_the_cores_validation_time():
    """checked_at is the moment the core measured from (whole seconds), so
    a reader computing days from it gets the core's figure."""
    _, _, at = _at_boundary(0)
    root = CA.root(not_before=at - dt.timedelta(days=400), not_after=at + dt.timedelta(days=4000))
    r = pytlscheck.verify_chain(pem_of(root.leaf("days.test")), hostname="days.test",
                                trust=root.pem, at=at)
    assert r.checked_at == at.replace(microsecond=0)


def test_live_day_counts_agree(lab):
    """Live: the lab's expiring_soon leaf. The card, the message and JSON
    give one figure."""
    r = lab.check("expiring_soon")
    assert [p.kind for p in r.problems] == ["expires_soon"]
    f = _figures(r)
    assert f["message"] and set(f["message"]) == set(f["card"]) == {f["days_remaining"]} \
        == {f["json"]}, f
