"""What handshakes cost: the round trips of each protocol's full handshake,
and the lesson's daily cost formula (seconds of client wait per day)."""
from __future__ import annotations

import math
from decimal import Decimal
from numbers import Real
from typing import Dict

__all__ = ["handshake_cost", "daily_wait_seconds", "FULL_HANDSHAKE_ROUND_TRIPS",
           "full_handshake_round_trips"]

#: Round trips a full (not resumed) handshake takes before application data
#: can flow, by protocol name as ``Report.protocol`` gives it: TLS 1.3 needs
#: one (RFC 8446), TLS 1.2 and the versions before it two (RFC 5246).  The one
#: place this rule is written.
FULL_HANDSHAKE_ROUND_TRIPS: Dict[str, int] = {
    "TLSv1": 2,
    "TLSv1.1": 2,
    "TLSv1.2": 2,
    "TLSv1.3": 1,
}


def full_handshake_round_trips(protocol: str) -> int:
    """Round trips of a full handshake with ``protocol`` ("TLSv1.3", ...)."""
    try:
        return FULL_HANDSHAKE_ROUND_TRIPS[protocol]
    except (KeyError, TypeError):
        valid = ", ".join(repr(p) for p in FULL_HANDSHAKE_ROUND_TRIPS)
        raise ValueError(f"protocol must be one of {valid}, not {protocol!r}") from None


def _number(value: object, name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a number, not {type(value).__name__}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, not {value!r}")
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {value!r}")
    # The decimal the caller wrote (0.8, not 0.8000000000000000444): the
    # lesson's table comes out exact.
    return Decimal(value) if isinstance(value, int) else Decimal(repr(float(value)))


def handshake_cost(connections_per_day: float, rtt_ms: float, protocol: str = "TLSv1.3",
                   resumption_rate: float = 0.0) -> float:
    """Seconds of client handshake wait per day: each new (cold) connection
    waits the full handshake's round trips times the round-trip time, and a
    resumed one about nothing (``resumption_rate`` is the share of
    connections that resume, 0 to 1).

        >>> handshake_cost(1_000_000, 80, "TLSv1.2")
        160000.0
        >>> handshake_cost(1_000_000, 80, "TLSv1.3", resumption_rate=0.8)
        16000.0

    ValueError names the argument when it is negative, not finite, a rate
    outside 0..1, or a protocol other than "TLSv1", "TLSv1.1", "TLSv1.2" and
    "TLSv1.3".
    """
    trips = full_handshake_round_trips(protocol)
    return daily_wait_seconds(connections_per_day, rtt_ms, trips, resumption_rate)


def daily_wait_seconds(connections_per_day: float, rtt_ms: float, round_trips: int,
                       resumption_rate: float = 0.0) -> float:
    """The formula itself, for a number of round trips already known (a
    probe's measured ones, 2 for TLS 1.3 after a HelloRetryRequest): cold
    connections x round trips x RTT, in seconds; arguments checked as in
    :func:`handshake_cost`."""
    conns = _number(connections_per_day, "connections_per_day")
    rtt = _number(rtt_ms, "rtt_ms")
    rate = _number(resumption_rate, "resumption_rate")
    if rate > 1:
        raise ValueError(f"resumption_rate must be between 0 and 1, got {resumption_rate!r}")
    if isinstance(round_trips, bool) or not isinstance(round_trips, int) or round_trips < 0:
        raise ValueError(f"round_trips must be a whole number of at least 0, got {round_trips!r}")
    cold = conns * (1 - rate)
    return float(cold * round_trips * rtt / 1000)
