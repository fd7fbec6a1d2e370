"""Rules the model and both views share, each written once: how whole days
are counted, the short form of a name, and the labels of a problem's fix
and command.  No rendering here."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import List, Optional

__all__ = ["days_until", "short_name", "FIX", "SEE"]

#: The labels every surface (text, explain(), HTML, exception messages)
#: puts before a problem's fix and its by-hand command.
FIX = "Fix:"
SEE = "See it yourself:"


def short_name(dn: Optional[str]) -> str:
    """``CN=...`` of an RFC 4514 name when it has a CN, else the whole name."""
    if not dn:
        return "(empty name)"
    parts: List[str] = []
    cur = []
    escaped = False
    for ch in dn:
        if escaped:
            cur.append(ch)
            escaped = False
        elif ch == "\\":
            cur.append(ch)
            escaped = True
        elif ch in ",+":
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    for part in parts:
        if part.strip().upper().startswith("CN="):
            return part.strip()
    return dn


def days_until(when: datetime, now: Optional[datetime] = None) -> int:
    """Whole days from now until `when`, truncated toward zero: the one
    rounding rule of every day count, the same as the core's messages
    ("in 4 days", "3 days ago", "9 days from now"). Negative once past."""
    now = now or datetime.now(timezone.utc)
    seconds = (when - now).total_seconds()
    days = int(abs(seconds) // 86400)
    return days if seconds >= 0 else -days


#: What only OpenSSL's strict mode refuses, which Python 3.13 and later
#: turn on by default: X509_V_ERR_PATHLEN_INVALID_FOR_NON_CA (80) and
#: X509_V_ERR_PATHLEN_WITHOUT_KU_KEY_CERT_SIGN (81), a pathLenConstraint
#: where it means nothing; X509_V_ERR_CA_BCONS_NOT_CRITICAL (89), a CA's
#: basicConstraints not marked critical.
_STRICT_ONLY = frozenset({80, 81, 89})


def this_python_note(openssl_code: int, version: tuple) -> str:
    """The sentence a problem's message gains when the interpreter running
    the check is itself a client that refuses what the problem describes
    (Python 3.13+'s default context sets ssl.VERIFY_X509_STRICT); else ""."""
    if openssl_code in _STRICT_ONLY and tuple(version[:2]) >= (3, 13):
        return (f" This Python ({version[0]}.{version[1]}) is one of them: "
                "ssl.create_default_context() here refuses this chain.")
    return ""


def exception_line(exc: BaseException, limit: Optional[int] = None) -> str:
    """An exception as one line for a person: an OSError's own words
    without Python's "[Errno 21]" prefix (the words already say it),
    whitespace folded, cut at `limit` characters when given."""
    text = str(exc)
    if isinstance(exc, OSError) and exc.strerror and not exc.filename:
        text = exc.strerror
    text = " ".join(text.split()) or type(exc).__name__
    return text if limit is None or len(text) <= limit else text[: limit - 3] + "..."
