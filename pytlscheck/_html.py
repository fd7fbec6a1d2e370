"""HTML rendering for Jupyter (``_repr_html_``) of reports, certificates
and problems.

The output is self-contained: inline styles only, no ``<script>``, no
``<style>`` block that could leak into the page, no external images or
fonts.  Every value that comes from a certificate, a server or the user
goes through :func:`html.escape` (a subject can hold ``<script>``).

A report is drawn as the chain top to bottom, leaf first and root last,
each certificate in a box whose left edge shows its status (green: fine,
amber: a warning, red: an error about it), with its validity as a bar on
which today is marked; then the problems, each with its fix and the
``openssl`` command that shows it by hand.
"""
from __future__ import annotations

import html
from datetime import datetime, timezone
from typing import Any, Dict, List, Sequence, Tuple

from ._defaults import MIN_DAYS
from ._text import (_handshake_line, _summary, _title, checked_at, days_phrase, ocsp_sentence,
                    diagnosis_sentences, verdict)
from ._words import FIX, SEE, short_name

__all__ = ["render_html"]

COLOURS = {"ok": "#2e7d32", "warning": "#b26a00", "error": "#c62828",
           "unknown": "#757575"}
_BG = {"ok": "#edf7ed", "warning": "#fff4e5", "error": "#fdecea", "unknown": "#f5f5f5"}
_FONT = ("font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Helvetica,Arial,"
         "sans-serif;font-size:13px;line-height:1.4;color:#1f1f1f")
# Every block is a light panel of its own (background and text colour both
# set), so that it reads the same on a light or a dark notebook theme:
# nothing inherits the page's colours.
_PANEL_BG = "#ffffff"
_PANEL = f"{_FONT};background:{_PANEL_BG};padding:8px 10px;border-radius:6px;max-width:820px"
_MONO = "font-family:SFMono-Regular,Menlo,Consolas,monospace;font-size:12px"


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _severity(problem: Any) -> str:
    return "warning" if str(getattr(problem, "severity", "error")).lower().startswith("warn") else "error"


def _badge(text: str, status: str) -> str:
    return (f'<span style="display:inline-block;padding:1px 7px;border-radius:3px;'
            f'background:{COLOURS[status]};color:#fff;font-weight:600;font-size:11px;'
            f'letter-spacing:.03em">{_e(text)}</span>')


def _validity_bar(cert: Any, now: datetime, mark_label: str = "today") -> str:
    """A bar from notBefore to notAfter, with today marked.  The scale
    always includes today, so an expired or not-yet-valid certificate shows
    the marker outside the coloured span."""
    nb: float = cert.not_before.timestamp()
    na: float = cert.not_after.timestamp()
    t = now.timestamp()
    lo, hi = min(nb, t), max(na, t)
    span = max(hi - lo, 1.0)
    lo -= span * 0.04
    hi += span * 0.04
    span = hi - lo

    def pct(x: float) -> float:
        return round(100.0 * (x - lo) / span, 2)

    if t > na:
        status = "error"
    elif t < nb:
        status = "error"
    elif (na - t) < MIN_DAYS * 86400:
        status = "warning"
    else:
        status = "ok"
    left, right, mark = pct(nb), pct(na), pct(t)
    return (
        '<div style="position:relative;height:10px;margin:6px 0 2px 0;background:#e0e0e0;'
        f'border-radius:5px" title="validity period; the black line is {_e(mark_label)}">'
        f'<div style="position:absolute;left:{left}%;width:{max(right - left, 0.5)}%;top:0;'
        f'bottom:0;background:{COLOURS[status]};opacity:.75;border-radius:5px"></div>'
        f'<div data-today="1" style="position:absolute;left:{mark}%;top:-3px;bottom:-3px;'
        f'width:2px;background:#000" title="{_e(mark_label)}"></div></div>'
        f'<div style="display:flex;justify-content:space-between;{_MONO};color:#555">'
        f'<span>{_e(f"{cert.not_before:%Y-%m-%d}")}</span>'
        f'<span>{_e(_days_text(cert, now))}</span>'
        f'<span>{_e(f"{cert.not_after:%Y-%m-%d}")}</span></div>'
    )


def _days_text(cert: Any, now: datetime) -> str:

    return days_phrase(cert, now)[0]


def _cert_box(cert: Any, status: str, kinds: Sequence[str], role: str, now: datetime,
              mark_label: str = "today") -> str:

    label = cert.label if hasattr(cert, "label") else cert.subject
    issuer = "itself (self-signed)" if cert.self_signed else short_name(cert.issuer)
    key = f"{cert.key_type} {cert.key_bits}" if cert.key_bits else str(cert.key_type)
    if getattr(cert, "key_curve", None):
        key += f" ({cert.key_curve})"
    names = list(cert.dns_names) + [str(a) for a in cert.ip_addresses]
    rows = [
        ("subject", cert.subject or "(empty)"),
        ("issuer", issuer),
        ("key", key),
        ("signature", cert.signature_algorithm),
    ]
    if names:
        rows.append(("names", ", ".join(names)))
    if cert.is_ca:
        pl = getattr(cert, "path_length", None)
        rows.append(("CA", "yes" + (f", path length {pl}" if pl is not None else "")))
    table = "".join(
        f'<tr><td style="padding:0 10px 0 0;color:#666;vertical-align:top">{_e(k)}</td>'
        f'<td style="padding:0;{_MONO};word-break:break-all">{_e(v)}</td></tr>'
        for k, v in rows)
    tags = "".join(" " + _badge(k, status if status != "ok" else "error") for k in kinds)
    return (
        f'<div data-role="certificate" data-status="{_e(status)}" style="border:1px solid #ddd;'
        f'border-left:6px solid {COLOURS[status]};background:{_BG[status]};border-radius:4px;'
        'padding:8px 10px;margin:0">'
        f'<div><span style="color:#666;font-size:11px;text-transform:uppercase">{_e(role)}</span> '
        f'<strong>{_e(label)}</strong>{tags}</div>'
        f'<table style="border-collapse:collapse;margin-top:4px">{table}</table>'
        f'{_validity_bar(cert, now, mark_label)}</div>'
    )


def _arrow(text: str = "issued by") -> str:
    return (f'<div style="text-align:left;padding:1px 0 1px 22px;color:#888;font-size:12px">'
            f'&#8595; {_e(text)}</div>')


def _problem_box(problem: Any) -> str:
    sev = _severity(problem)
    cert = getattr(problem, "certificate", None)
    where = ""
    if cert is not None:
        where = f' <span style="color:#666">({_e(cert.label if hasattr(cert, "label") else cert.subject)})</span>'
    parts = [
        f'<div data-role="problem" data-kind="{_e(problem.kind)}" style="border-left:4px solid '
        f'{COLOURS[sev]};padding:4px 10px;margin:6px 0;background:{_BG[sev]}">',
        f'<div>{_badge(sev.upper(), sev)} <strong style="{_MONO}">{_e(problem.kind)}</strong>{where}</div>',
        f'<div style="margin-top:3px">{_e(problem.message)}</div>',
    ]
    if getattr(problem, "fix", None):
        parts.append(f'<div style="margin-top:3px"><strong>{_e(FIX)}</strong> {_e(problem.fix)}</div>')
    cmd = getattr(problem, "inspect_command", None)
    if cmd:
        parts.append(f'<div style="margin-top:3px"><strong>{_e(SEE)}</strong> '
                     f'<code style="{_MONO};background:#f0f0f0;padding:1px 4px">{_e(cmd)}</code></div>')
    parts.append("</div>")
    return "".join(parts)


def _cert_status(report: Any) -> Dict[str, Tuple[str, List[str]]]:
    """fingerprint -> (status, [kinds]) from the problems naming it."""
    out: Dict[str, List[Any]] = {}
    for p in report.problems:
        cert = getattr(p, "certificate", None)
        if cert is None:
            continue
        entry = out.setdefault(cert.fingerprint_sha256, ["ok", []])
        sev = _severity(p)
        if sev == "error" or entry[0] == "ok":
            entry[0] = sev
        if p.kind not in entry[1]:
            entry[1].append(p.kind)
    return {fp: (s, k) for fp, (s, k) in out.items()}


def _diagnosis_html(report: Any) -> str:
    """What the client said and how pytlscheck's verdict compares
    (diagnose()); "" for other reports."""
    sentences = diagnosis_sentences(report)
    if not sentences:
        return ""
    d = report.diagnosis
    status = "error" if d.agrees else "warning"
    rows = "".join(f'<div style="margin-top:3px">{_e(s)}</div>' for s in sentences[1:])
    return (f'<div data-role="diagnosis" data-agrees="{"true" if d.agrees else "false"}" '
            f'data-disagreement="{_e(d.disagreement or "")}" style="border-left:4px solid '
            f'{COLOURS[status]};background:{_BG[status]};padding:4px 10px;margin:4px 0 8px 0">'
            f'<div><strong>{_e(sentences[0])}</strong></div>{rows}</div>')


def _timeline_svg(steps: List[Tuple[str, float]], scale: float, what: str, total: float) -> str:
    """One handshake as a timeline (SVG, no script): each round trip a bar
    as long as its milliseconds, labelled with them."""
    width, height, x0 = 600, 46, 8
    colours = ["#90a4ae", "#64b5f6", "#1e88e5", "#1565c0"]
    out = [f'<svg data-role="timeline" xmlns="http://www.w3.org/2000/svg" width="{width}" '
           f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
           f'aria-label="{_e(what)}: {_e(f"{total:.1f}")} ms before the first request byte">']
    x = float(x0)
    for i, (label, ms) in enumerate(steps):
        w = ms * scale
        out.append(f'<rect x="{x:.1f}" y="4" width="{max(w - 2, 1):.1f}" height="18" '
                   f'fill="{colours[min(i, len(colours) - 1)]}"><title>{_e(label)}: '
                   f'{_e(f"{ms:.1f}")} ms</title></rect>')
        out.append(f'<text x="{x + 3:.1f}" y="36" font-size="10" fill="#333">'
                   f'{_e(label)} {_e(f"{ms:.1f}")} ms</text>')
        x += w
    out.append("</svg>")
    return "".join(out)


def _timelines(p: Any) -> str:
    """The full handshake (TCP, then each TLS round trip at the measured RTT)
    next to the resumed one (TCP, then its measured handshake), on one scale."""
    full = [("TCP connect", p.rtt_ms)]
    for i in range(p.handshake_round_trips):
        full.append(("HelloRetryRequest" if p.hello_retry_request and i == 0
                     else "TLS handshake", p.rtt_ms))
    resumed: List[Tuple[str, float]] = []
    if p.resumption == "accepted" and p.resumed_handshake_ms is not None:
        resumed = [("TCP connect", p.rtt_ms), ("resumed handshake", p.resumed_handshake_ms)]
    longest = max(sum(ms for _, ms in full), sum(ms for _, ms in resumed) if resumed else 0) or 1.0
    scale = (600 - 16) / longest
    parts = [f'<div style="color:#555;font-size:12px">full handshake: '
             f'{p.handshake_round_trips} round trip(s) of {p.rtt_ms:.1f} ms, cold start '
             f'{p.cold_start_ms:.1f} ms</div>',
             _timeline_svg(full, scale, "full handshake", sum(ms for _, ms in full))]
    if resumed:
        total = sum(ms for _, ms in resumed)
        parts.append(f'<div style="color:#555;font-size:12px">resumed handshake '
                     f'({_e(p.resumption_mechanism)}): {p.resumed_handshake_ms:.1f} ms measured'
                     f'</div>')
        parts.append(_timeline_svg(resumed, scale, "resumed handshake", total))
    return "".join(parts)


def _probe_html(report: Any) -> str:
    p = getattr(report, "probe", None)
    if p is None:
        return ""
    parts = ['<div data-role="probe" style="margin:6px 0">']
    if p.rtt_ms is not None and p.handshake_round_trips is not None:
        parts.append(_timelines(p))
    accepted = [k for k, v in p.protocols.items() if v]
    untested = (f" (not tested: {', '.join(p.untested_protocols)})"
                if p.untested_protocols else "")
    parts.append(f'<div style="{_MONO};color:#555">protocols: '
                 f'{_e((", ".join(accepted) or "none") + untested)}'
                 f'; groups: {_e(", ".join(p.groups) or "none")}'
                 f'; HTTP/2: {"yes" if p.http2 else "no"}</div>')
    parts.append("</div>")
    return "".join(parts)


def _report_html(report: Any) -> str:

    now, elsewhen = checked_at(report)
    mark_label = f"{now:%Y-%m-%d}, the date checked" if elsewhen else "today"
    word = verdict(report)
    status = {"OK": "ok", "WARN": "warning", "FAIL": "error"}[word]
    parts = [f'<div class="pytlscheck-report" style="{_PANEL}">',
             f'<div style="margin-bottom:6px">{_badge(word, status)} '
             f'<strong>{_e(_title(report))}</strong>: {_e(_summary(report))}</div>']
    hs = _handshake_line(report)
    if hs:
        parts.append(f'<div style="{_MONO};color:#555;margin-bottom:6px">{_e(hs)}</div>')
    staple = ocsp_sentence(report)
    if staple:
        colour = COLOURS["ok"] if report.ocsp.verified and report.ocsp.status == "good" else \
            COLOURS["error" if report.ocsp.status == "revoked" else "warning"]
        parts.append(f'<div data-role="ocsp" style="color:{colour};margin-bottom:6px">'
                     f'{_e(staple)}</div>')
    parts.append(_probe_html(report))
    parts.append(_diagnosis_html(report))
    trust = getattr(report, "trust", None)
    if trust:
        # The store checked against, in words (report.trust_store in data).
        parts.append(f'<div data-role="trust" style="color:#555;margin-bottom:6px">'
                     f'trusted roots: {_e(trust)}</div>')
    if elsewhen:
        parts.append(f'<div style="color:{COLOURS["warning"]};margin-bottom:6px">'
                     f'as of {_e(f"{now:%Y-%m-%d %H:%M}")} UTC, not now</div>')

    verified = list(getattr(report, "verified_chain", None) or [])
    served = list(getattr(report, "chain", None) or [])
    chain = verified or served
    statuses = _cert_status(report)
    if chain:
        what = ("verified path" if verified else
                "chain as served" if getattr(report, "target", None) else "chain as given")
        parts.append(f'<div data-role="chain" style="margin:4px 0">'
                     f'<div style="color:#666;font-size:12px;margin-bottom:3px">'
                     f'{_e(what)}, leaf to root</div>')
        for i, cert in enumerate(chain):
            st, kinds = statuses.get(cert.fingerprint_sha256, ("ok", []))
            role = "leaf" if i == 0 else ("root" if cert.self_signed else "intermediate")
            if i:
                parts.append(_arrow())
            parts.append(_cert_box(cert, st, kinds, role, now, mark_label))
        last = chain[-1]
        if not verified and not last.self_signed:
            parts.append(_arrow())
            parts.append(
                '<div data-role="missing" style="border:2px dashed #c62828;border-radius:4px;'
                f'padding:6px 10px;color:#c62828">{_e(short_name(last.issuer))}: '
                'not sent by the server and not a trust anchor</div>')
        parts.append("</div>")
    problems = list(report.problems)
    if problems:
        parts.append('<div data-role="problems" style="margin-top:8px">')
        parts.extend(_problem_box(p) for p in problems)
        parts.append("</div>")
    elif report.ok:
        parts.append(f'<div style="color:{COLOURS["ok"]};margin-top:6px">No problems found.</div>')
    parts.append("</div>")
    return "".join(parts)


def render_html(obj: Any) -> str:
    """Self-contained HTML for a Report, Certificate or Problem."""
    kind = type(obj).__name__
    if kind == "Report" or hasattr(obj, "problems"):
        return _report_html(obj)
    if kind == "Problem" or (hasattr(obj, "kind") and hasattr(obj, "message")):
        return f'<div class="pytlscheck-problem" style="{_PANEL}">{_problem_box(obj)}</div>'
    if kind == "Certificate" or hasattr(obj, "fingerprint_sha256"):
        now = datetime.now(timezone.utc)
        role = "CA certificate" if obj.is_ca else "certificate"
        status = "error" if (obj.not_after < now or obj.not_before > now) else "ok"
        return (f'<div class="pytlscheck-certificate" style="{_PANEL}">'
                f'{_cert_box(obj, status, [], role, now)}</div>')
    return f"<pre>{_e(repr(obj))}</pre>"
