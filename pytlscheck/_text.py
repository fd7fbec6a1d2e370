"""Human text rendering of reports, certificates and problems.

Used by the CLI (``pytlscheck HOST``) and by IPython's ``_repr_pretty_``.
:func:`render_text` takes a ``Report``, a ``Certificate`` or a ``Problem``
and returns plain text; ``color=True`` adds ANSI colours (the CLI decides
whether the terminal wants them).

The layout, per report::

    FAIL  127.0.0.1:8443 (localhost): expired
          TLSv1.3  TLS_AES_256_GCM_SHA384  X25519  handshake 2.1 ms  [127.0.0.1]
      Chain as served (leaf first):
        [0] CN=localhost
            valid 2025-01-01 .. 2025-03-01: EXPIRED 10 days ago
            key EC 256 (prime256v1), signature ecdsa-with-SHA256, issuer CN=lab intermediate
      Problems:
        ERROR expired (certificate [0] CN=localhost)
            The server certificate ... expired on ...
            Fix: Renew the certificate ...
            See it yourself: timeout 10 openssl s_client -connect ...
"""
from __future__ import annotations

import shutil
import textwrap
from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Optional, Tuple

from ._defaults import MIN_DAYS
from .certificate import days_until, short_name

__all__ = ["render_text", "verdict", "Style", "days_phrase", "one_line", "reason_words"]


class Style:
    """ANSI styling; a no-op unless enabled."""

    CODES = {"bold": "1", "dim": "2", "red": "31", "green": "32",
             "yellow": "33", "cyan": "36"}

    def __init__(self, enabled: bool = False) -> None:
        self.enabled = enabled

    def __call__(self, text: str, *names: str) -> str:
        if not self.enabled or not names:
            return text
        codes = ";".join(self.CODES[n] for n in names)
        return f"\x1b[{codes}m{text}\x1b[0m"


#: verdict word -> colour
_VERDICT_COLOUR = {"OK": "green", "WARN": "yellow", "FAIL": "red"}


def verdict(report: Any) -> str:
    """"OK" (no problem at all), "WARN" (only warnings) or "FAIL"."""
    if not report.ok:
        return "FAIL"
    return "WARN" if list(report.problems) else "OK"


def _width() -> int:
    return max(60, min(shutil.get_terminal_size((100, 24)).columns, 110))


def _wrap(text: str, indent: str, width: int) -> List[str]:
    return textwrap.wrap(text, width=width, initial_indent=indent,
                         subsequent_indent=indent, break_long_words=False,
                         break_on_hyphens=False) or [indent.rstrip()]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def days_phrase(cert: Any, now: Optional[datetime] = None) -> tuple[str, str]:
    """("EXPIRED 10 days ago", "red") style phrase for a certificate's validity.
    Whole days rounded down, by the one rule (certificate.days_until) that
    the core's messages use too."""
    now = now or datetime.now(timezone.utc)
    if cert.not_after < now:
        days = -days_until(cert.not_after, now)
        return (f"EXPIRED {_plural(days, 'day')} ago" if days else "EXPIRED today"), "red"
    if cert.not_before > now:
        days = days_until(cert.not_before, now)
        return (f"NOT YET VALID, starts in {_plural(days, 'day')}" if days
                else "NOT YET VALID, starts today"), "red"
    days = days_until(cert.not_after, now)
    return f"{_plural(days, 'day')} left", ("yellow" if days < MIN_DAYS else "green")


def one_line(text: str, width: int) -> str:
    """The first sentence of text, cut to width."""
    text = " ".join(str(text).split())
    if len(text) <= width:
        return text
    return text[: max(0, width - 3)].rstrip() + "..."


def _fmt_ms(value: Any) -> Optional[str]:
    if value is None or value < 0:
        return None
    return f"{value:.1f} ms"


def _key_text(cert: Any) -> str:
    key = f"{cert.key_type} {cert.key_bits}" if cert.key_bits else str(cert.key_type)
    if getattr(cert, "key_curve", None):
        key += f" ({cert.key_curve})"
    return key


def _cert_lines(cert: Any, index: Optional[int], st: Style, width: int,
                status: Optional[str] = None, now: Optional[datetime] = None) -> List[str]:

    head = f"[{index}] " if index is not None else ""
    label = cert.label if hasattr(cert, "label") else cert.subject
    lines = [f"    {head}{st(label, 'bold')}"
             + (f"  {st(status, 'red')}" if status else "")]
    pad = "    " + " " * len(head)
    phrase, colour = days_phrase(cert, now)
    lines.append(f"{pad}valid {cert.not_before:%Y-%m-%d} .. {cert.not_after:%Y-%m-%d}: "
                 + st(phrase, colour))
    issuer = "self-signed" if cert.self_signed else f"issued by {short_name(cert.issuer)}"
    lines += _wrap(f"key {_key_text(cert)}, signature {cert.signature_algorithm}, {issuer}",
                   pad, width)
    names: List[str] = list(cert.dns_names) + [str(a) for a in cert.ip_addresses]
    if names:
        lines += _wrap("names: " + ", ".join(names), pad, width)
    if cert.is_ca:
        pl = getattr(cert, "path_length", None)
        lines.append(f"{pad}CA certificate" + (f", path length {pl}" if pl is not None else ""))
    return lines


def _problem_lines(problem: Any, st: Style, width: int, cert_label: Optional[str]) -> List[str]:
    sev = str(getattr(problem, "severity", "error")).lower()
    tag = st("WARNING", "yellow", "bold") if sev.startswith("warn") else st("ERROR", "red", "bold")
    where = ""
    if cert_label:
        where = f" (certificate {cert_label})"
    lines = [f"    {tag} {st(problem.kind, 'bold')}{where}"]
    lines += _wrap(str(problem.message), "        ", width)
    if getattr(problem, "fix", None):
        lines += _wrap("Fix: " + str(problem.fix), "        ", width)
    cmd = getattr(problem, "inspect_command", None)
    if cmd:
        # Never wrapped: it has to stay copy-pastable.
        lines.append("        See it yourself: " + st(str(cmd), "cyan"))
    words = reason_words(problem)
    if words:
        lines.append("        " + st(f"({words})", "dim"))
    return lines


def reason_words(problem: Any) -> Optional[str]:
    """The one wording of a problem's low-level reason: OpenSSL's own words
    only when they are (a verify code); otherwise an errno name, an alert's
    name or an SSL reason, said as a technical detail."""
    reason = getattr(problem, "openssl_reason", None)
    if not reason:
        return None
    code = getattr(problem, "openssl_code", 0)
    if code:
        return f"OpenSSL's words: {reason} (verify code {code})"
    return f"technical detail: {reason}"


def _problem_cert_label(report: Any, problem: Any) -> Optional[str]:
    depth = getattr(problem, "depth", -1)
    if depth is None or depth < 0:
        return None
    cert = getattr(problem, "certificate", None)
    label = cert.label if cert is not None and hasattr(cert, "label") else None
    return f"[{depth}] {label}" if label else f"[{depth}]"


def _title(report: Any) -> str:
    target = getattr(report, "target", None)
    name = getattr(report, "server_name", None) or getattr(report, "hostname", None)
    if target:
        host = str(target)
        return f"{host} ({name})" if name and not host.startswith(f"{name}:") else host
    leaf = getattr(report, "leaf", None)
    source = getattr(report, "source", None)
    base = source or "chain"
    details = [leaf.label] if leaf is not None else []
    if name:
        details.append(f"checked as {name}")
    return f"{base} ({', '.join(details)})" if details else base


def checked_at(report: Any) -> Tuple[datetime, bool]:
    """(the moment the report judged validity at, whether that is another
    day than now: verify_chain(..., at=...) / --at)."""
    real_now = datetime.now(timezone.utc)
    when = getattr(report, "checked_at", None)
    if not isinstance(when, datetime):
        return real_now, False
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when, abs((when - real_now).total_seconds()) > 3600


def _summary(report: Any) -> str:
    kinds: List[str] = []
    for p in report.problems:
        if p.kind not in kinds:
            kinds.append(p.kind)
    if kinds:
        return ", ".join(kinds)
    return "healthy"


def _wrap_units(units: List[str], indent: str, width: int, sep: str = "  ") -> List[str]:
    """Wraps between units only (a unit such as "answered by 127.0.0.1"
    is never split)."""
    lines: List[str] = []
    cur = ""
    for unit in units:
        candidate = f"{cur}{sep}{unit}" if cur else unit
        if cur and len(indent) + len(candidate) > width:
            lines.append(indent + cur)
            cur = unit
        else:
            cur = candidate
    if cur:
        lines.append(indent + cur)
    return lines


def _handshake_line(report: Any) -> Optional[str]:
    parts = _handshake_parts(report)
    return "  ".join(parts) if parts else None


def _handshake_parts(report: Any) -> List[str]:
    parts: List[str] = [str(getattr(report, n)) for n in ("protocol", "cipher", "group")
                        if getattr(report, n, None)]
    alpn = getattr(report, "alpn", None)
    if alpn:
        parts.append(f"ALPN {alpn}")
    timings = getattr(report, "timings", None) or {}
    hs = _fmt_ms(timings.get("handshake")) if isinstance(timings, dict) else None
    if hs:
        parts.append(f"handshake {hs}")
    total = _fmt_ms(timings.get("total")) if isinstance(timings, dict) else None
    if total:
        parts.append(f"total {total}")
    address = getattr(report, "address", None)
    if address:
        parts.append(f"answered by {address}")
    return parts


def render_report(report: Any, *, color: bool = False, width: Optional[int] = None) -> str:
    st = Style(color)
    width = width or _width()
    word = verdict(report)
    lines = [f"{st(f'{word:<4}', _VERDICT_COLOUR[word], 'bold')}  "
             f"{st(_title(report), 'bold')}: {_summary(report)}"]
    hs = _handshake_parts(report)
    if hs:
        lines += _wrap_units(hs, "      ", width)
    now, elsewhen = checked_at(report)
    if elsewhen:
        lines.append("      " + st(f"as of {now:%Y-%m-%d %H:%M} UTC, not now", "yellow"))
    chain = list(getattr(report, "chain", None) or [])
    if chain:
        served = "as served" if getattr(report, "target", None) else "as given"
        size = getattr(report, "chain_bytes", None)
        size_words = f", {size:,} bytes in the TLS Certificate message" if size else ""
        lines.append(f"  Chain {served} (leaf first{size_words}):")
        bad_fps = _problem_fingerprints(report)
        for i, cert in enumerate(chain):
            status = bad_fps.get(cert.fingerprint_sha256)
            lines += _cert_lines(cert, i, st, width, status, now)
    problems = list(report.problems)
    if problems:
        lines.append("  Problems:")
        for p in problems:
            lines += _problem_lines(p, st, width, _problem_cert_label(report, p))
    elif getattr(report, "ok", False):
        lines.append("  " + st("No problems found.", "green"))
    return "\n".join(lines)


def _problem_fingerprints(report: Any) -> Dict[str, str]:
    """fingerprint -> "expired, weak_key" for certificates a problem names."""
    out: Dict[str, List[str]] = {}
    for p in report.problems:
        cert = getattr(p, "certificate", None)
        if cert is None:
            continue
        kinds = out.setdefault(cert.fingerprint_sha256, [])
        if p.kind not in kinds:
            kinds.append(p.kind)
    return {fp: ", ".join(k) for fp, k in out.items()}


def render_certificate(cert: Any, *, color: bool = False, width: Optional[int] = None) -> str:
    st = Style(color)
    lines = _cert_lines(cert, None, st, width or _width())
    lines.append(f"    serial {cert.serial_number}")
    lines.append(f"    SHA-256 {cert.fingerprint_sha256}")
    return "\n".join(line[4:] for line in lines)


def render_problem(problem: Any, *, color: bool = False, width: Optional[int] = None) -> str:
    st = Style(color)
    cert = getattr(problem, "certificate", None)
    label = cert.label if cert is not None and hasattr(cert, "label") else None
    lines = _problem_lines(problem, st, width or _width(), label)
    return "\n".join(line[4:] for line in lines)


def render_text(obj: Any, *, color: bool = False, width: Optional[int] = None) -> str:
    """Plain (or coloured) text for a Report, Certificate or Problem;
    a list of reports is rendered one after the other."""
    if isinstance(obj, (list, tuple)):
        return "\n\n".join(render_text(o, color=color, width=width) for o in obj)
    kind = type(obj).__name__
    if kind == "Report" or hasattr(obj, "problems"):
        return render_report(obj, color=color, width=width)
    if kind == "Problem" or hasattr(obj, "kind") and hasattr(obj, "message"):
        return render_problem(obj, color=color, width=width)
    if kind == "Certificate" or hasattr(obj, "fingerprint_sha256"):
        return render_certificate(obj, color=color, width=width)
    return repr(obj)


def kinds_of(reports: Iterable[Any]) -> List[str]:
    seen: List[str] = []
    for r in reports:
        for p in r.problems:
            if p.kind not in seen:
                seen.append(p.kind)
    return seen
