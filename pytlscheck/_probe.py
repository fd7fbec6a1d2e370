"""Probe: what ``check(..., probe=True)`` learned about an endpoint beyond its
health (``Report.probe``).  Measured by the C core's connections (the state
machine of csrc/core/conn/live.c, the plan of survey.c); nothing here is
estimated except ``cold_start_ms``, which is the lesson's formula over two
measured values."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ._economics import daily_wait_seconds

__all__ = ["Probe", "PROBE_PROTOCOLS"]

#: The keys of ``Probe.protocols`` and ``Probe.cipher_suites``, oldest first.
PROBE_PROTOCOLS: Tuple[str, ...] = ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")


@dataclass(frozen=True)
class Probe:
    """What the probe measured (``Report.probe``; None without ``probe=True``).

    ``rtt_ms``: the estimated round-trip time, the fastest TCP connect of the
    probe's connections.  ``handshake_round_trips``: round trips the health
    check's full handshake took before application data could flow (1 for
    TLS 1.3, 2 for TLS 1.3 after a HelloRetryRequest, 2 for TLS 1.2).
    ``hello_retry_request``: the server answered the first ClientHello with a
    HelloRetryRequest (``hrr_group``: the group it asked for; the client's
    first key share was wasted).  ``cold_start_ms``: ``rtt_ms * (1 +
    handshake_round_trips)``, TCP plus TLS before the first request byte.
    ``protocols``: exactly the keys ``"TLSv1"``, ``"TLSv1.1"``, ``"TLSv1.2"``,
    ``"TLSv1.3"`` -> accepted.  ``cipher_suites``: protocol -> accepted
    suites (OpenSSL names, as ``Report.cipher``) in the order the server
    chose them.  ``groups``: accepted key-exchange groups (``"X25519"``,
    ``"P-256"``, ...).  ``http2``: the server selected ``h2`` when offered by
    ALPN.  ``connections``: connections opened in all (the health check's
    included; at most 32).  ``complete``: every planned connection ran (False
    when the budget or the deadline cut the survey short: the lists are then
    what was found).  ``resumption``: ``"accepted"``, ``"refused"`` (the server
    issued a ticket or session id but did a full handshake when offered it)
    or ``"unsupported"`` (it issued neither); None when the survey did not get
    that far.  ``resumption_mechanism``: ``"ticket"``, ``"session_id"`` or None.
    ``resumed_handshake_ms``: the measured handshake time of the resumed
    connection; ``resumed_round_trips``: 1 (2 when the server repeats its
    HelloRetryRequest), None when not resumed.  ``ticket_lifetime_s``: the
    ticket's lifetime hint, or None.  ``early_data`` (0-RTT, TLS 1.3):
    ``"accepted"`` or ``"rejected"`` (real early bytes were sent with a fresh
    ticket), ``"unsupported"`` (no max_early_data in the ticket); None when not
    asked (no TLS 1.3, no ticket).  ``max_early_data``: the bytes the ticket
    allows, or None.  When early data is accepted ``resumed_round_trips`` is 0.
    """

    rtt_ms: Optional[float]
    handshake_round_trips: Optional[int]
    hello_retry_request: bool
    hrr_group: Optional[str]
    cold_start_ms: Optional[float]
    protocols: Dict[str, bool] = field(hash=False)
    cipher_suites: Dict[str, List[str]] = field(hash=False)
    groups: List[str] = field(hash=False)
    http2: bool
    connections: int
    complete: bool
    #: the versions no survey connection could try (the server stopped
    #: answering, or the budget or deadline ran out): False in
    #: ``protocols`` for them means "not known", not "refused"
    untested_protocols: List[str] = field(default_factory=list, hash=False)
    resumption: Optional[str] = None
    resumption_mechanism: Optional[str] = None
    resumed_handshake_ms: Optional[float] = None
    resumed_round_trips: Optional[int] = None
    ticket_lifetime_s: Optional[int] = None
    early_data: Optional[str] = None
    max_early_data: Optional[int] = None

    @classmethod
    def _from_core(cls, data: Optional[Mapping[str, Any]]) -> Optional["Probe"]:
        if data is None:
            return None
        rtt = data.get("rtt_ms")
        trips = data.get("handshake_round_trips")
        cold = None if rtt is None or trips is None else rtt * (1 + trips)
        protocols = data.get("protocols") or {}
        suites = data.get("cipher_suites") or {}
        return cls(rtt_ms=rtt, handshake_round_trips=trips,
                   hello_retry_request=bool(data.get("hello_retry_request")),
                   hrr_group=data.get("hrr_group"), cold_start_ms=cold,
                   protocols={p: bool(protocols.get(p)) for p in PROBE_PROTOCOLS},
                   cipher_suites={p: list(suites.get(p) or ()) for p in PROBE_PROTOCOLS},
                   groups=list(data.get("groups") or ()), http2=bool(data.get("http2")),
                   connections=int(data.get("connections") or 0),
                   complete=bool(data.get("complete")),
                   untested_protocols=[v for v in PROBE_PROTOCOLS
                                       if v in (data.get("untested_protocols") or ())],
                   resumption=data.get("resumption"),
                   resumption_mechanism=data.get("resumption_mechanism"),
                   resumed_handshake_ms=data.get("resumed_handshake_ms"),
                   resumed_round_trips=data.get("resumed_round_trips"),
                   ticket_lifetime_s=data.get("ticket_lifetime_s"),
                   early_data=data.get("early_data"),
                   max_early_data=data.get("max_early_data"))

    def handshake_cost(self, connections_per_day: float, resumption_rate: float = 0.0) -> float:
        """Seconds of client handshake wait per day at ``connections_per_day``
        new connections, with the measured RTT and round trips (the lesson's
        formula, :func:`pytlscheck.handshake_cost`).  ValueError when the
        probe could not measure them."""
        if self.rtt_ms is None or self.handshake_round_trips is None:
            raise ValueError("the probe measured no round-trip time or round trips "
                             "(the handshake did not complete)")
        return daily_wait_seconds(connections_per_day, self.rtt_ms,
                                  self.handshake_round_trips, resumption_rate)

    def to_dict(self) -> Dict[str, Any]:
        return {
            "rtt_ms": self.rtt_ms,
            "handshake_round_trips": self.handshake_round_trips,
            "hello_retry_request": self.hello_retry_request,
            "hrr_group": self.hrr_group,
            "cold_start_ms": self.cold_start_ms,
            "protocols": dict(self.protocols),
            "cipher_suites": {k: list(v) for k, v in self.cipher_suites.items()},
            "groups": list(self.groups),
            "http2": self.http2,
            "connections": self.connections,
            "complete": self.complete,
            "untested_protocols": list(self.untested_protocols),
            "resumption": self.resumption,
            "resumption_mechanism": self.resumption_mechanism,
            "resumed_handshake_ms": self.resumed_handshake_ms,
            "resumed_round_trips": self.resumed_round_trips,
            "ticket_lifetime_s": self.ticket_lifetime_s,
            "early_data": self.early_data,
            "max_early_data": self.max_early_data,
        }
