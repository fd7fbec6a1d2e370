"""Parsing what the caller names: check targets and host names.

A target is ``host``, ``host:port``, ``[v6addr]:port``, ``[v6addr]``, a bare
IP address (v4 or v6), or a URL: ``https://`` (port 443 unless the URL says
otherwise), or one of the STARTTLS services' schemes (``smtp://``,
``imap://``, ``postgres://``, ...: SCHEMES).  Host names may be
internationalised: they are converted to their ASCII (IDNA) form here, then
validated by the C core, which knows the DNS rules (LDH labels, lengths) and
IP literal syntax.

STARTTLS (the plaintext dialogue before TLS, csrc/core/conn/starttls.c) is
chosen here, once, for every caller: by the ``starttls=`` argument, else by
the URL's scheme, else by the port (WELL_KNOWN_PORTS); docs/starttls.md.
"""
from __future__ import annotations

import ipaddress
import operator
from typing import NamedTuple, Optional, Tuple
from urllib.parse import urlsplit

from . import _core

__all__ = ["Target", "parse_target", "normalize_hostname", "to_ascii", "STARTTLS_PROTOCOLS",
           "SCHEMES", "WELL_KNOWN_PORTS"]

DEFAULT_PORT = 443

#: The protocols ``starttls=`` names (openssl s_client's -starttls names).
STARTTLS_PROTOCOLS = ("smtp", "imap", "pop3", "ftp", "ldap", "postgres", "mysql", "xmpp")

#: URL scheme -> (its default port, the STARTTLS protocol or None for TLS
#: from the first byte).
SCHEMES = {
    "https": (443, None),
    "smtp": (25, "smtp"), "smtps": (465, None),
    "imap": (143, "imap"), "imaps": (993, None),
    "pop3": (110, "pop3"), "pop3s": (995, None),
    "ftp": (21, "ftp"), "ftps": (990, None),
    "ldap": (389, "ldap"), "ldaps": (636, None),
    "postgres": (5432, "postgres"), "postgresql": (5432, "postgres"),
    "mysql": (3306, "mysql"),
    "xmpp": (5222, "xmpp"),
}

#: Ports whose service upgrades to TLS with STARTTLS: a ``host:port``
#: target on one of them uses it unless ``starttls=`` says otherwise.
WELL_KNOWN_PORTS = {25: "smtp", 587: "smtp", 143: "imap", 110: "pop3", 21: "ftp",
                    389: "ldap", 5432: "postgres", 3306: "mysql", 5222: "xmpp"}


class Target(NamedTuple):
    host: str       # ASCII DNS name or IP literal (no brackets), normalised
    port: int
    is_ip: bool
    starttls: Optional[str] = None   # the STARTTLS protocol, None: TLS from the first byte

    @property
    def display(self) -> str:
        """``host:port``, with brackets around an IPv6 address."""
        host = f"[{self.host}]" if self.is_ip and ":" in self.host else self.host
        return f"{host}:{self.port}"


def to_ascii(name: str, what: str = "hostname") -> str:
    """The ASCII (IDNA) form of a host name; ASCII names pass unchanged.

    Uses the ``idna`` package (IDNA 2008 with UTS 46 mapping) when it is
    installed, else Python's built-in IDNA 2003 codec.
    """
    if not isinstance(name, str):
        raise TypeError(f"{what} must be str, not {type(name).__name__}")
    if name.isascii():
        return name
    body, dot = (name[:-1], ".") if name.endswith(".") else (name, "")
    try:
        try:
            import idna  # type: ignore[import-not-found]
        except ImportError:
            ascii_name = body.encode("idna").decode("ascii")
        else:
            ascii_name = idna.encode(body, uts46=True).decode("ascii")
    except (UnicodeError, ValueError) as e:  # idna.IDNAError is a UnicodeError
        raise ValueError(
            f"The {what} {name!r} is not a valid internationalised domain name "
            f"and cannot be converted to its ASCII form: {e}.") from None
    return ascii_name + dot


def normalize_hostname(name: str, what: str = "hostname") -> Tuple[str, bool]:
    """(normalised ASCII name or IP literal, is_ip).

    Raises ValueError with a sentence naming the input when the name is
    neither a DNS name nor an IP address.
    """
    ascii_name = to_ascii(name, what)
    if not ascii_name.strip():
        raise ValueError(f"The {what} is empty: give a DNS name or an IP address.")
    return _core.normalize_hostname(ascii_name)


def _port(value: object, what: str) -> int:
    if isinstance(value, bool):
        raise TypeError(f"{what} must be an int, not bool")
    try:
        port = operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        if isinstance(value, str) and value.strip().isdigit():
            port = int(value.strip())
        else:
            raise ValueError(f"The {what} {value!r} is not a port number.") from None
    if not 1 <= port <= 65535:
        raise ValueError(f"The {what} {port} is out of range: a TCP port is 1 to 65535.")
    return port


def _quote(text: str, limit: int = 100) -> str:
    """``text`` as quoted in an error message: a 10 KB target is cut, with
    its length said, rather than echoed whole."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}... ({len(text)} characters)"


def _starttls_arg(value: object) -> Optional[object]:
    """The caller's ``starttls=``: None (choose by scheme or port), False
    (TLS from the first byte) or a protocol name."""
    if value is None or value is False:
        return value
    if isinstance(value, str):
        name = value.strip().lower()
        if name == "none":
            return False
        if name in STARTTLS_PROTOCOLS:
            return name
        raise ValueError(f"starttls={value!r} is not a protocol this checker speaks; give one of "
                         f"{', '.join(map(repr, STARTTLS_PROTOCOLS))}, False (TLS from the first "
                         "byte), or None (chosen by the URL scheme or the port).")
    raise TypeError(f"starttls must be a protocol name such as 'smtp', False or None, "
                    f"not {type(value).__name__}")


def parse_target(target: str, port: Optional[int] = None,
                 starttls: object = None) -> Target:
    """Splits a check target into host and port (see the module docstring)
    and chooses its STARTTLS protocol.

    ``port`` is the caller's separate port argument: it applies when the
    target names none, and must agree with it when it does.  ``starttls``:
    the caller's choice (a protocol name, False for TLS from the first
    byte, None to choose by the URL's scheme, else by the port); a URL
    whose scheme says otherwise is an error.
    """
    wanted = _starttls_arg(starttls)
    scheme_proto: object = None     # None: no scheme said
    scheme = ""
    if not isinstance(target, str):
        raise TypeError(f"target must be str, not {type(target).__name__}")
    text = target.strip()
    if not text:
        raise ValueError("The target is empty: give a host name, host:port, an IP "
                         "address or an https:// URL.")
    given_port: Optional[int] = None
    if "://" in text:
        try:
            url = urlsplit(text)
        except ValueError as e:
            raise ValueError(f"The target {_quote(target)} is not a valid URL: {e}.") from None
        scheme = url.scheme.lower()
        if scheme not in SCHEMES:
            hint = (" plain http:// does not use TLS at all;" if scheme == "http" else "")
            raise ValueError(
                f"The target {_quote(target)} is a {scheme}:// URL;{hint} check() tests TLS "
                "endpoints: give an https:// URL, a mail, directory or database server's URL "
                "(smtp://, imap://, pop3://, ftp://, ldap://, postgres://, mysql://, xmpp:// "
                "and their TLS forms such as smtps://), host:port or a host name.")
        scheme_proto = SCHEMES[scheme][1] or False
        if url.username is not None or url.password is not None:
            raise ValueError(f"The target {_quote(target)} holds credentials; give the URL "
                             "without user:password@.")
        host = url.hostname or ""
        try:
            given_port = url.port
        except ValueError:
            raise ValueError(f"The URL {_quote(target)} has an invalid port.") from None
        if given_port is None:
            given_port = port if port is not None else SCHEMES[scheme][0]
            port = None
        if not host:
            raise ValueError(f"The URL {_quote(target)} names no host.")
    elif text.startswith("["):
        close = text.find("]")
        if close < 0:
            raise ValueError(f"The target {_quote(target)} opens '[' for an IPv6 address but "
                             "never closes it; write [addr]:port.")
        host = text[1:close]
        rest = text[close + 1:]
        if rest:
            if not rest.startswith(":") or len(rest) == 1:
                raise ValueError(f"The target {_quote(target)} has text after the IPv6 address; "
                                 "write [addr]:port.")
            given_port = _port(rest[1:], f"port in {_quote(target)}")
        try:
            ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            raise ValueError(f"The target {_quote(target)} has brackets around {_quote(host)}, which "
                             "is not an IPv6 address.") from None
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
        if not host:
            raise ValueError(f"The target {_quote(target)} has a port but no host.")
        given_port = _port(port_text, f"port in {_quote(target)}")
    elif text.count(":") >= 2:
        # A bare IPv6 address: it cannot carry a port without brackets.
        try:
            ipaddress.IPv6Address(text.split("%", 1)[0])
        except ValueError:
            raise ValueError(
                f"The target {_quote(target)} is neither host:port nor an IPv6 address; "
                "for an IPv6 address with a port write [addr]:port.") from None
        host = text
    else:
        host = text

    if port is not None:
        port = _port(port, "port")
        if given_port is not None and given_port != port:
            raise ValueError(f"The target {_quote(target)} names port {given_port} but port={port} "
                             "was also given; give the port once.")
    final_port = given_port if given_port is not None else (port if port is not None else DEFAULT_PORT)
    name, is_ip = normalize_hostname(host, "host")
    if wanted is not None and scheme_proto is not None and wanted != scheme_proto:
        said = "TLS from the first byte" if wanted is False else f"STARTTLS {wanted}"
        means = ("TLS from the first byte" if scheme_proto is False
                 else f"STARTTLS {scheme_proto}")
        raise ValueError(f"The target {_quote(target)} is a {scheme}:// URL, which means {means}, "
                         f"but {said} was asked for (starttls={starttls!r}); say it once.")
    chosen = wanted if wanted is not None else scheme_proto
    if chosen is None:
        chosen = WELL_KNOWN_PORTS.get(final_port)
    return Target(name, final_port, is_ip, chosen if isinstance(chosen, str) else None)
