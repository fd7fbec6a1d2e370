"""The defaults and argument rules every entry point shares: the library
functions, the batch and async functions and the CLI name these instead of
repeating a number or a check (issue 12, item 4)."""
import math
from typing import Any

#: Seconds allowed for one check: DNS, connect and handshake.
TIMEOUT = 10.0
#: The most a timeout may be: one day.
MAX_TIMEOUT = 86400.0
#: A certificate expiring within this many days is reported.
MIN_DAYS = 30


def timeout_seconds(value: Any, name: str = "timeout") -> float:
    """The one rule for a timeout: a finite number of seconds, greater than
    0 and at most a day; anything else is a ValueError naming the argument."""
    if (isinstance(value, bool) or not isinstance(value, (int, float))
            or not math.isfinite(value) or not 0 < value <= MAX_TIMEOUT):
        raise ValueError(f"{name} must be a number of seconds greater than 0 and at most "
                         f"{MAX_TIMEOUT:g} (one day), not {value!r}")
    return float(value)

#: Seconds diagnose() and explaining() allow the check of a failed target.
DIAGNOSE_TIMEOUT = 5.0
#: The pytest plugin's bound on the check behind a "TLS diagnosis" section
#: (--tls-diagnose-timeout): a failing suite should not wait long for it.
PYTEST_DIAGNOSE_TIMEOUT = 3.0
