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
from ._words import FIX, SEE, days_until, short_name
from .errors import ConnectionProblem, HandshakeProblem

__all__ = ["render_text", "verdict", "Style", "days_phrase", "one_line", "reason_words",
           "diagnosis_sentences"]


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
        lines += _wrap(f"{FIX} {problem.fix}", "        ", width)
    cmd = getattr(problem, "inspect_command", None)
    if cmd:
        # Never wrapped: it has to stay copy-pastable.
        lines.append(f"        {SEE} " + st(str(cmd), "cyan"))
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


#: How each STARTTLS protocol's preamble is said in words.
STARTTLS_WORDS = {
    "smtp": "SMTP (EHLO, STARTTLS)", "imap": "IMAP (CAPABILITY, STARTTLS)",
    "pop3": "POP3 (CAPA, STLS)", "ftp": "FTP (FEAT, AUTH TLS)",
    "ldap": "LDAP (the StartTLS extended operation)", "postgres": "PostgreSQL (SSLRequest)",
    "mysql": "MySQL (the SSL request packet)", "xmpp": "XMPP (<starttls/>)",
}


def starttls_words(proto: str) -> str:
    return STARTTLS_WORDS.get(proto, proto)


def _handshake_parts(report: Any) -> List[str]:
    parts: List[str] = []
    if getattr(report, "starttls", None):
        parts.append(f"STARTTLS {report.starttls}")
    parts += [str(getattr(report, n)) for n in ("protocol", "cipher", "group")
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


_OCSP_MEANS = {
    "good": "the CA's responder says the certificate is not revoked",
    "revoked": "the CA's responder says the certificate is revoked",
    "unknown": "the responder says it does not know the certificate",
}


def ocsp_sentence(report: Any) -> Optional[str]:
    """The stapled OCSP response in one sentence, the same in every view
    (explain(), the CLI, HTML); None when nothing was stapled."""
    o = getattr(report, "ocsp", None)
    if o is None:
        return None
    head = f"Stapled OCSP response: {o.status or 'unusable'}"
    head += " (verified)" if o.verified else f" (not verified: {o.error})"
    parts = []
    if o.status in _OCSP_MEANS:
        means = _OCSP_MEANS[o.status]
        if o.revoked_at is not None:
            means += f" (since {o.revoked_at:%Y-%m-%d %H:%M} UTC" + (
                f", reason: {o.reason})" if o.reason else ")")
        parts.append(means)
    if o.this_update is not None:
        parts.append(f"produced for {o.this_update:%Y-%m-%d %H:%M} UTC")
    if o.next_update is not None:
        parts.append(f"next update {o.next_update:%Y-%m-%d %H:%M} UTC")
    return head + (": " + "; ".join(parts) if parts else "") + "."


def render_report(report: Any, *, color: bool = False, width: Optional[int] = None) -> str:
    st = Style(color)
    width = width or _width()
    word = verdict(report)
    lines = [f"{st(f'{word:<4}', _VERDICT_COLOUR[word], 'bold')}  "
             f"{st(_title(report), 'bold')}: {_summary(report)}"]
    hs = _handshake_parts(report)
    if hs:
        lines += _wrap_units(hs, "      ", width)
    staple = ocsp_sentence(report)
    if staple:
        lines += _wrap(staple, "      ", width)
    for sentence in diagnosis_sentences(report):
        lines += _wrap(sentence, "  ", width)
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
    for line in probe_sections(report):
        lines.append("  " + line if line else line)
    problems = list(report.problems)
    if problems:
        lines.append("  Problems:")
        for p in problems:
            lines += _problem_lines(p, st, width, _problem_cert_label(report, p))
    elif getattr(report, "ok", False):
        lines.append("  " + st("No problems found.", "green"))
    return "\n".join(lines)


def diagnosis_sentences(report: Any) -> List[str]:
    """The diagnosis of a client's failure (diagnose()), in the order every
    view shows it: what the client said, what pytlscheck found compared
    with it, and the trust store assumed and why; [] for other reports."""
    d = getattr(report, "diagnosis", None)
    if d is None:
        return []
    out = [d.said]
    if d.proxy:
        out.append(f"Your client was set to go through the proxy {d.proxy}; pytlscheck "
                   "connected directly, so what a TLS-inspecting proxy shows clients (its own "
                   "certificate) is not in this check.")
    out.append(d.finding)
    why = getattr(report, "trust_reason", None)
    if why:
        out.append(f"Trust store assumed: {report.trust}, because {why}.")
    return out


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


# ---- the long form: Report.explain() -------------------------------------------
#
# For a person new to TLS: a verdict sentence, background, what was
# checked, then each problem with what is wrong, its usual cause, the fix
# and the command that shows it by hand.

#: the width explain() wraps at (a fixed width: its text goes to logs too)
EXPLAIN_WIDTH = 78


def _subject_line(self: Any) -> str:
    if self.is_live:
        return f"the TLS endpoint {self.target}"
    if self.source:
        return f"the certificate chain in {self.source}"
    return "the certificate chain"

def verdict_sentence(self: Any) -> str:
    """One line: passes or fails, with counts."""
    what = _subject_line(self)
    n_err, n_warn = len(self.errors), len(self.warnings)
    if n_err:
        first = self.errors[0]
        more = f" and {n_err - 1} more" if n_err > 1 else ""
        warn = f", plus {n_warn} warning{'s' if n_warn != 1 else ''}" if n_warn else ""
        if issubclass(first.exception, ConnectionProblem):
            outcome = "No TLS connection could be made."
        elif issubclass(first.exception, HandshakeProblem):
            outcome = "The TLS handshake failed."
        else:
            outcome = "Clients will refuse it."
        return (f"FAIL: {what} has a problem: {first.kind.replace('_', ' ')}"
                f"{more}{warn}. {outcome}")
    if n_warn:
        return (f"OK, WITH {n_warn} WARNING{'S' if n_warn != 1 else ''}: {what} passes "
                "today, but needs attention.")
    return f"OK: {what} passes every check."

#: The connection rate the explanation prices handshakes at (the lesson's).
ECONOMICS_CONNECTIONS_PER_DAY = 1_000_000


def _ms(value: Optional[float]) -> str:
    """Milliseconds with three significant digits (0.045, 1.23, 80.1)."""
    return "?" if value is None else f"{value:.3g}" if value < 100 else f"{value:.0f}"


def probe_sections(report: Any) -> List[str]:
    """The probe's two sections, "Handshake economics" and "Protocol
    support", the same in explain() and the CLI's text; [] without a probe."""
    p = getattr(report, "probe", None)
    if p is None:
        return []
    out = ["Handshake economics:"]
    if p.rtt_ms is None or p.handshake_round_trips is None:
        out += _wrap_long("Not measured: no handshake with the server completed, so there "
                          "is no round-trip time or round-trip count to price.", "  ")
    else:
        rt = p.handshake_round_trips
        why = ("TLS 1.3 after a HelloRetryRequest" if p.hello_retry_request
               else "TLS 1.3" if rt == 1 else str(report.protocol or "TLS 1.2"))
        out += _wrap_long(
            f"Round-trip time: about {_ms(p.rtt_ms)} ms (the fastest TCP connect of the "
            f"probe's {p.connections} connections).", "  ")
        out += _wrap_long(
            f"A new connection's handshake takes {_plural(rt, 'round trip')} ({why}) before "
            f"the first request byte can be sent; with TCP's own round trip a cold start "
            f"costs about {_ms(p.cold_start_ms)} ms.", "  ")
        if p.hello_retry_request:
            group = p.hrr_group or "another group"
            out += _wrap_long(
                f"The server answered with a HelloRetryRequest: it wanted the key exchange "
                f"group {group}, so the client's first key share was wasted and every new "
                f"connection pays one extra round trip. Making {group} the client's first "
                f"choice, or letting the server accept X25519, saves it.", "  ")
        daily = p.handshake_cost(ECONOMICS_CONNECTIONS_PER_DAY)
        out += _wrap_long(
            f"At {ECONOMICS_CONNECTIONS_PER_DAY:,} new connections a day that is "
            f"{daily:,.0f} s of client waiting per day ({rt} x {_ms(p.rtt_ms)} ms each); "
            f"resumed connections and requests on a kept-alive connection pay about nothing.",
            "  ")
        mech = {"ticket": "a session ticket", "session_id": "a session id"}.get(
            p.resumption_mechanism or "", "a session")
        if p.resumption == "accepted":
            life = (f"; the ticket's lifetime hint is {p.ticket_lifetime_s} s"
                    if p.ticket_lifetime_s is not None else "")
            resumed = p.handshake_cost(ECONOMICS_CONNECTIONS_PER_DAY, 0.8)
            out += _wrap_long(
                f"Session resumption: accepted ({mech}): a returning client's resumed "
                f"handshake took {_plural(p.resumed_round_trips or 1, 'round trip')} "
                f"({_ms(p.resumed_handshake_ms)} ms measured){life}. With 80% of connections "
                f"resumed the daily wait above drops to {resumed:,.0f} s.", "  ")
        elif p.resumption == "refused":
            out += _wrap_long(
                f"Session resumption: refused. The server issued {mech} but did a full "
                f"handshake when it was offered back, so every returning client pays the "
                f"full handshake again (a session cache that is off or too small, or "
                f"tickets the server cannot decrypt, such as a key per process).", "  ")
        elif p.resumption == "unsupported":
            out += _wrap_long(
                "Session resumption: unsupported. The server issued neither a session "
                "ticket nor a session id, so every connection pays the full handshake "
                "(nginx: ssl_session_cache shared:SSL:10m; ssl_session_tickets on).", "  ")
        caveat = ("early data can be replayed by an attacker, so only idempotent "
                  "requests (GET, HEAD) may go in it, never a payment or any other "
                  "non-idempotent request")
        if p.early_data == "accepted":
            out += _wrap_long(
                f"0-RTT: accepted (up to {p.max_early_data:,} bytes): a returning client "
                f"can send its first request with its first packet, about 0 round trips of "
                f"handshake wait; {caveat}.", "  ")
        elif p.early_data == "rejected":
            out += _wrap_long(
                f"0-RTT: rejected. The ticket allows {p.max_early_data:,} bytes of early "
                f"data, but the early bytes the probe sent were refused (they must be sent "
                f"again after the handshake); {caveat}.", "  ")
        elif p.early_data == "unsupported":
            out += _wrap_long("0-RTT: unsupported (the server's tickets allow no early "
                              "data).", "  ")
        if p.http2:
            out += _wrap_long("HTTP/2: the server selects h2 by ALPN, so one connection can "
                              "carry many requests and later requests pay no handshake.", "  ")
        else:
            out += _wrap_long("HTTP/2: the server does not select h2 by ALPN; clients need "
                              "keep-alive (or more connections) to avoid new handshakes.", "  ")
    out.append("")
    out.append("Protocol support:")
    names = {"TLSv1": "TLS 1.0", "TLSv1.1": "TLS 1.1", "TLSv1.2": "TLS 1.2", "TLSv1.3": "TLS 1.3"}
    for proto, ok in p.protocols.items():
        suites = p.cipher_suites.get(proto) or []
        if ok:
            line = f"{names[proto]}: accepted" + (f"; suites: {', '.join(suites)}" if suites else "")
        elif proto in p.untested_protocols:
            line = f"{names[proto]}: not tested"
        else:
            line = f"{names[proto]}: refused"
        out += _wrap_long(line + ".", "  ")
    if p.groups:
        out += _wrap_long(f"Key-exchange groups accepted: {', '.join(p.groups)}.", "  ")
    if not p.complete:
        out += _wrap_long("The survey was cut short (its budget of 32 connections or the "
                          "timeout): the lists above are what it found, not everything "
                          "the server accepts.", "  ")
    return out


def explain(self: Any) -> str:
    """A plain-English explanation a person new to TLS can act on:
    the verdict, what was checked, then each problem with what is wrong,
    why it matters, how to fix it and how to see it by hand."""
    out: List[str] = []
    diagnosis = diagnosis_sentences(self)
    for sentence in diagnosis:
        out += _wrap_long(sentence, "")
    if diagnosis:
        out.append("")
    out.append(verdict_sentence(self))
    primer = _primer(self)
    if primer:
        out += _wrap_long(primer, "")
    out.append("")
    out += _explain_checked(self)
    probe = probe_sections(self)
    if probe:
        out.append("")
        out += probe
    if self.problems:
        out.append("")
        out.append("What is wrong (most fundamental first: fix the first one first):"
                   if self.errors else "Warnings:")
        for n, p in enumerate(self.problems, 1):
            out.append("")
            out += _explain_problem(self, n, p)
    else:
        out.append("")
        out.append("Nothing to fix: the chain leads to a trusted root, every certificate "
                   "is within its validity dates"
                   + (f", the leaf names {self.hostname}" if self.hostname else "")
                   + ", and the keys and signatures are strong enough.")
    return "\n".join(out).rstrip() + "\n"

def _primer(self: Any) -> str:
    """One paragraph of background for a reader new to TLS."""
    if not self.errors:
        return ""
    first = self.errors[0].exception
    if issubclass(first, ConnectionProblem):
        return ("No TCP connection to the server could be made, so TLS never started and "
                "no certificate could be checked; the first problem below says why.")
    if issubclass(first, HandshakeProblem):
        return ("A TCP connection was made, but the TLS handshake (where client and "
                "server agree on a protocol version and cipher and the server shows "
                "its certificate) did not complete; the first problem below says why.")
    return ("Background: a TLS client (a browser, curl, Python) accepts a server only "
            "when its certificate names the host being called, is within its "
            "validity dates, uses strong keys and signatures, and leads through the "
            "intermediate certificates the server sends to a root certificate the "
            "client already trusts. The problems below break that.")

def _explain_checked(self: Any) -> List[str]:
    out = ["What was checked:"]
    if self.is_live:
        conn = f"Target: {self.target}"
        if self.address:
            conn += f"; the address that answered: {self.address}"
            if self.port is not None:
                conn += f" port {self.port}"
        if self.server_name:
            conn += f"; the name sent as SNI: {self.server_name}"
        out += _wrap_long(conn + ".", "  ")
        if getattr(self, "starttls", None):
            out += _wrap_long(f"STARTTLS: the connection began in plain "
                              f"{starttls_words(self.starttls)}, then switched to TLS.", "  ")
        if self.protocol:
            tls = f"TLS: {self.protocol}"
            if self.cipher:
                tls += f", cipher {self.cipher}"
            if self.group:
                tls += f", key exchange {self.group}"
            if self.alpn:
                tls += f", ALPN {self.alpn}"
            out += _wrap_long(tls + ".", "  ")
        t = self.timings
        if any(v is not None for v in t.values()):
            parts = [f"{k} {v:.1f} ms" for k, v in t.items() if v is not None]
            out += _wrap_long("Timings: " + ", ".join(parts) + ".", "  ")
        staple = ocsp_sentence(self)
        if staple:
            out += _wrap_long(staple, "  ")
        elif self.protocol:
            out += _wrap_long("No OCSP response was stapled: clients that check revocation "
                              "must ask the CA's responder themselves.", "  ")
        if self.client_certificate_requested:
            names = "; ".join(self.client_ca_names) or "any CA"
            out += _wrap_long(f"The server asked for a client certificate (accepted CAs: {names}).", "  ")
        if self.peer_banner:
            # The core already escaped it (\r, \xNN): print it as it is.
            out += _wrap_long(f'The peer answered with: "{self.peer_banner}"', "  ")
    if self.hostname:
        out += _wrap_long(f"Host name to match: {self.hostname}.", "  ")
    if self.trust:
        out += _wrap_long(f"Trusted roots: {self.trust}.", "  ")
    if self.chain:
        label = "served by the server" if self.is_live else "as given"
        out.append(f"  Certificates {label} (leaf first):")
        for i, c in enumerate(self.chain):
            out += _describe_cert(i, c, self.checked_at)
    elif self.is_live:
        out.append("  No certificate was received.")
    if self.path is not None and self.chain:
        if self.verified_chain:
            path = " -> ".join(c.label for c in self.verified_chain)
            out += _wrap_long(f"Path to a trusted root: {path}.", "  ")
        else:
            path = " -> ".join(c.label for c in self.path)
            out += _wrap_long(f"Path built (it does not reach a trusted root): {path}.", "  ")
    return out

def _explain_problem(self: Any, n: int, p: Any) -> List[str]:
    where = ""
    if p.certificate is not None:
        role = "the leaf" if p.depth == 0 else f"certificate {p.depth} of the path"
        where = f" ({role}: {p.certificate.label})"
    out = [f"{n}. [{p.severity}] {p.kind}{where}"]
    out += _wrap_long("What is wrong: " + p.message, "   ")
    cause = p.cause
    if cause:
        out += _wrap_long("Usual cause: " + cause, "   ")
    out += _wrap_long(f"{FIX} {p.fix}", "   ")
    if p.inspect_command:
        out.append(f"   {SEE}")
        out.append("     " + p.inspect_command)
    words = reason_words(p)
    if words:
        out += _wrap_long(words[0].upper() + words[1:] + ".", "   ")
    return out


def _wrap_long(text: str, indent: str) -> List[str]:
    return textwrap.wrap(text, EXPLAIN_WIDTH, initial_indent=indent,
                         subsequent_indent=indent + "  ", break_on_hyphens=False,
                         break_long_words=False) or [indent]


def _describe_cert(i: int, c: Any, now: datetime) -> List[str]:
    """Lines describing certificate i of a chain, its validity judged at
    `now` (the report's checked_at: verify_chain(at=...) or the real now)."""

    role = "leaf" if i == 0 else ("root" if c.self_signed else "intermediate")
    out = [f"    [{i}] {c.label} ({role})"]
    ind = "        "
    if c.self_signed:
        out += _wrap_long("issued by itself (self-signed)", ind)
    else:
        out += _wrap_long(f"issued by {short_name(c.issuer)}", ind)
    state, _colour = days_phrase(c, now)
    out += _wrap_long(f"valid {c.not_before:%Y-%m-%d %H:%M} to {c.not_after:%Y-%m-%d %H:%M} UTC "
                 f"({state})", ind)
    key = f"{c.key_type} {c.key_bits} bits"
    if c.key_curve:
        key += f" ({c.key_curve})"
    out += _wrap_long(f"key {key}, signed with {c.signature_algorithm}", ind)
    names = list(c.dns_names) + [str(a) for a in c.ip_addresses]
    if i == 0:
        out += _wrap_long("names: " + (", ".join(names) if names else
                                  "none (no Subject Alternative Name)"), ind)
    if c.is_ca:
        out += _wrap_long("may sign other certificates (CA)", ind)
    return out


def pretty(obj: Any, cycle: bool) -> str:
    """IPython's pretty text for a Report, Certificate or Problem."""
    return repr(obj) if cycle else str(render_text(obj))
