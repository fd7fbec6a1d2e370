"""handshake_cost(): the lesson's daily handshake cost ("By the numbers")."""
from __future__ import annotations

import math

import pytest

import pytlscheck
from pytlscheck._economics import (FULL_HANDSHAKE_ROUND_TRIPS, daily_wait_seconds,
                                   full_handshake_round_trips)


@pytest.mark.parametrize("args,expected", [
    ((1_000_000, 80, "TLSv1.2"), 160000),
    ((1_000_000, 80, "TLSv1.3"), 80000),
    ((1_000_000, 80, "TLSv1.3", 0.8), 16000),
])
def test_the_lessons_table_exactly(args, expected):
    got = pytlscheck.handshake_cost(*args)
    assert isinstance(got, float) and got == expected


def test_defaults_and_keywords():
    assert pytlscheck.handshake_cost(10, 50) == pytlscheck.handshake_cost(
        connections_per_day=10, rtt_ms=50, protocol="TLSv1.3", resumption_rate=0.0) == 0.5
    assert pytlscheck.handshake_cost(1_000_000, 80, "TLSv1.2", resumption_rate=1) == 0
    assert pytlscheck.handshake_cost(0, 80) == 0
    assert pytlscheck.handshake_cost(3, 0.1, "TLSv1.2", 1 / 3) == pytest.approx(0.0004)
    assert pytlscheck.handshake_cost(1_000_000, 80, "TLSv1") == 160000


def test_round_trips_are_one_table():
    assert FULL_HANDSHAKE_ROUND_TRIPS == {"TLSv1": 2, "TLSv1.1": 2, "TLSv1.2": 2, "TLSv1.3": 1}
    assert full_handshake_round_trips("TLSv1.3") == 1
    # the same protocol names the report uses
    assert set(FULL_HANDSHAKE_ROUND_TRIPS) >= {"TLSv1.2", "TLSv1.3"}


@pytest.mark.parametrize("kwargs,words", [
    ({"connections_per_day": -1}, "connections_per_day must not be negative"),
    ({"rtt_ms": -0.5}, "rtt_ms must not be negative"),
    ({"rtt_ms": math.inf}, "rtt_ms must be a finite number"),
    ({"connections_per_day": math.nan}, "connections_per_day must be a finite number"),
    ({"resumption_rate": 1.5}, "resumption_rate must be between 0 and 1"),
    ({"resumption_rate": -0.1}, "resumption_rate must not be negative"),
    ({"protocol": "SSLv3"}, "protocol must be one of 'TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3', not 'SSLv3'"),
    ({"protocol": "tls1.3"}, "not 'tls1.3'"),
])
def test_bad_arguments_are_named(kwargs, words):
    args = {"connections_per_day": 1000, "rtt_ms": 80, **kwargs}
    with pytest.raises(ValueError) as e:
        pytlscheck.handshake_cost(**args)
    assert words in str(e.value)


@pytest.mark.parametrize("bad", ["1000", None, True, [1]])
def test_non_numbers_are_a_type_error(bad):
    with pytest.raises(TypeError, match="connections_per_day must be a number"):
        pytlscheck.handshake_cost(bad, 80)


def test_unhashable_protocol_is_a_value_error():
    with pytest.raises(ValueError, match="protocol must be one of"):
        pytlscheck.handshake_cost(1, 1, ["TLSv1.3"])  # type: ignore[arg-type]


def test_the_formula_for_measured_round_trips():
    # what Probe.handshake_cost will use: TLS 1.3 after a HelloRetryRequest takes 2
    assert daily_wait_seconds(1_000_000, 80, 2) == 160000
    assert daily_wait_seconds(1_000_000, 80, 1, 0.8) == 16000
    for bad in (-1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="round_trips must be a whole number"):
            daily_wait_seconds(1, 1, bad)  # type: ignore[arg-type]
