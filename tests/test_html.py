"""Jupyter HTML: structure (chain leaf to root, status per certificate,
validity bar with today, problems with fixes), self-containment, and
escaping of hostile certificate text."""
from __future__ import annotations

import time
from html.parser import HTMLParser

import pytest

import pytlscheck
from pytlscheck import _core
from pytlscheck._html import render_html

DAY = 86400.0
VOID = {"br", "hr", "img", "meta", "link", "input", "col", "wbr"}


class Tree(HTMLParser):
    """Records elements with their attributes, checks nesting."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.elements, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1:]}>"
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def parse(markup):
    tree = Tree()
    tree.feed(markup)
    tree.close()
    assert tree.stack == [], f"unclosed: {tree.stack}"
    return tree


def with_role(tree, role):
    return [attrs for tag, attrs in tree.elements if attrs.get("data-role") == role]


def assert_self_contained(markup):
    """No scripts, no styles sheets, nothing fetched from elsewhere."""
    tree = parse(markup)
    for tag, attrs in tree.elements:
        assert tag not in ("script", "style", "link", "img", "iframe", "object", "embed"), tag
        for name, value in attrs.items():
            assert name not in ("src", "href", "srcset") and not name.startswith("on"), name
            if name == "style":
                assert "url(" not in value and "@import" not in value
    assert "<script" not in markup.lower()


@pytest.fixture(scope="module")
def pki():
    now = time.time()
    root, root_key = _core.mint(common_name="Test Root", is_ca=True,
                                not_before=now - 365 * DAY, not_after=now + 3650 * DAY)
    inter, inter_key = _core.mint(common_name="Test Intermediate", is_ca=True,
                                  not_before=now - 365 * DAY, not_after=now + 1000 * DAY,
                                  issuer_cert_pem=root, issuer_key_pem=root_key)
    return {"now": now, "root": root, "inter": inter, "inter_key": inter_key}


def leaf(pki, **kw):
    now = pki["now"]
    kw.setdefault("common_name", "svc.example.test")
    kw.setdefault("dns_names", ["svc.example.test"])
    kw.setdefault("not_before", now - DAY)
    kw.setdefault("not_after", now + 90 * DAY)
    cert, _ = _core.mint(issuer_cert_pem=pki["inter"], issuer_key_pem=pki["inter_key"], **kw)
    return cert


def test_script_in_subject_and_names_is_escaped(pki):
    evil = '<script>alert("x")</script>'
    cert = leaf(pki, common_name=evil, organization='"><img src=x onerror=alert(1)>',
                dns_names=["svc.example.test"])
    report = pytlscheck.verify_chain(cert + pki["inter"], hostname="svc.example.test",
                                     trust=pki["root"])
    for obj in (report, report.chain[0], *report.problems):
        markup = render_html(obj)
        assert_self_contained(markup)
        tree = parse(markup)
        text = "".join(tree.text)
        # the hostile text is shown, as text
        assert "alert(" in text and "script" in text
    # and the same through the IPython hooks of the objects themselves
    assert "<script" not in report._repr_html_().lower()
    assert "<script" not in report.chain[0]._repr_html_().lower()


def test_report_structure_leaf_to_root_with_status_and_today(pki):
    cert = leaf(pki, not_before=pki["now"] - 100 * DAY, not_after=pki["now"] - 5 * DAY)
    report = pytlscheck.verify_chain(cert + pki["inter"], hostname="svc.example.test",
                                     trust=pki["root"])
    assert "expired" in [p.kind for p in report.problems]
    markup = render_html(report)
    assert_self_contained(markup)
    tree = parse(markup)
    certs = with_role(tree, "certificate")
    # the whole path is drawn, leaf first, root last
    drawn = report.verified_chain or report.path or report.chain
    assert len(certs) == len(drawn) >= 2
    assert certs[0]["data-status"] == "error"      # the expired leaf is red
    assert certs[-1]["data-status"] == "ok"        # the root is fine
    text = "".join(tree.text)
    assert text.index("svc.example.test") < text.index("Test Intermediate") < text.rindex("Test Root")
    # one validity bar per certificate, each with today marked
    todays = [attrs for tag, attrs in tree.elements if attrs.get("data-today")]
    assert len(todays) == len(certs)
    assert "EXPIRED 5 days ago" in text
    # problems with their fixes and the command
    problems = with_role(tree, "problem")
    assert [p["data-kind"] for p in problems] == [p.kind for p in report.problems]
    assert "Fix:" in text and report.problems[0].fix in text
    assert report.problems[0].inspect_command in text


def test_healthy_report_is_all_green(pki):
    report = pytlscheck.verify_chain(leaf(pki) + pki["inter"], hostname="svc.example.test",
                                     trust=pki["root"])
    assert report.ok and not report.problems
    tree = parse(render_html(report))
    statuses = [c["data-status"] for c in with_role(tree, "certificate")]
    assert statuses and set(statuses) == {"ok"}
    assert with_role(tree, "problem") == []
    assert "No problems found." in "".join(tree.text)


def test_missing_issuer_is_drawn_as_a_gap(pki):
    report = pytlscheck.verify_chain(leaf(pki), hostname="svc.example.test", trust=pki["root"])
    assert "incomplete_chain" in [p.kind for p in report.problems]
    tree = parse(render_html(report))
    assert len(with_role(tree, "missing")) == 1
    assert "Test Intermediate" in "".join(tree.text)
    # its twin, with the intermediate, has no gap
    fixed = pytlscheck.verify_chain(leaf(pki) + pki["inter"], hostname="svc.example.test",
                                    trust=pki["root"])
    assert with_role(parse(render_html(fixed)), "missing") == []


def test_validity_bar_marks_today_inside_or_outside_the_span(pki):
    def today_left(cert_pem):
        markup = render_html(pytlscheck.Certificate.from_pem(cert_pem))
        tree = parse(markup)
        style = next(a["style"] for t, a in tree.elements if a.get("data-today"))
        return float(style.split("left:")[1].split("%")[0])

    now = pki["now"]
    assert today_left(leaf(pki, not_before=now - 10 * DAY, not_after=now + 10 * DAY)) == pytest.approx(50, abs=2)
    assert today_left(leaf(pki, not_before=now - 20 * DAY, not_after=now - 10 * DAY)) > 90
    assert today_left(leaf(pki, not_before=now + 10 * DAY, not_after=now + 20 * DAY)) < 10


def test_problem_and_certificate_alone(pki):
    report = pytlscheck.verify_chain(leaf(pki) + pki["inter"], hostname="other.example.test",
                                     trust=pki["root"])
    problem = report.problems[0]
    assert problem.kind == "hostname_mismatch"
    markup = problem._repr_html_()
    tree = parse(markup)
    assert with_role(tree, "problem")[0]["data-kind"] == "hostname_mismatch"
    assert problem.fix in "".join(tree.text)
    cert_markup = report.chain[1]._repr_html_()
    tree = parse(cert_markup)
    assert len(with_role(tree, "certificate")) == 1
    assert "Test Intermediate" in "".join(tree.text)


def test_pretty_text_for_ipython(pki):
    report = pytlscheck.verify_chain(leaf(pki) + pki["inter"], hostname="svc.example.test",
                                     trust=pki["root"])

    class Printer:
        def __init__(self):
            self.out = []

        def text(self, s):
            self.out.append(s)

    p = Printer()
    report._repr_pretty_(p, False)
    text = "".join(p.out)
    assert text.startswith("OK ")
    assert "CN=svc.example.test" in text and "\x1b[" not in text


def _style(attrs):
    return dict(item.split(":", 1) for item in attrs.get("style", "").split(";") if ":" in item)


def _luminance(hex_colour):
    rgb = [int(hex_colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def _contrast(a, b):
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.parametrize("what", ["report", "problem", "certificate"])
def test_readable_on_a_dark_theme_too(pki, what):
    """Each block sets its own background and text colour, so a dark
    notebook theme (light text, dark page) cannot make it near invisible;
    and the verdict line's text reads on that background (WCAG AA, 4.5:1)."""
    report = pytlscheck.verify_chain(leaf(pki) + pki["inter"], hostname="wrong.example.test",
                                     trust=pki["root"])
    obj = {"report": report, "problem": report.problems[0],
           "certificate": report.chain[0]}[what]
    tree = parse(render_html(obj))
    outer = _style(tree.elements[0][1])
    assert "background" in outer and "color" in outer, outer
    assert _contrast(outer["color"], outer["background"]) >= 4.5
