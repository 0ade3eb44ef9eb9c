"""Times as the platform writes them and as operator-iac writes them in its records: one
reading for every layer (the plan, smoke records, event streams), so that a time is never read
two ways and two times read here can always be compared. The reading itself is the API
boundary's (``api.tolerance.moment_of``): ISO 8601 with ``Z`` or an offset, a time without a
zone taken as UTC, or Unix time."""

from __future__ import annotations

import re
from datetime import datetime

from operator_iac.api.tolerance import moment_of


def parse_time(text: str | None) -> datetime | None:
    """``text`` as an aware time, or None when absent or unreadable."""
    return moment_of(text)


def same_time(first: str, second: str) -> bool:
    """Whether two times are the same instant, whatever their forms (an entry written in
    another form, by an earlier version, still agrees); text that reads as no time must
    match exactly."""
    a, b = parse_time(first), parse_time(second)
    return a == b if a is not None and b is not None else first == second


_FRACTION = re.compile(r"T\d{2}:\d{2}:\d{2}\.(\d+)")


def precision(text: str | None) -> float | None:
    """How finely ``text`` (a ``Timestamp``: RFC 3339 text, to the precision the platform
    wrote) places its instant, in seconds: 1.0 for whole seconds, 0.001 for milliseconds;
    None when it reads as no time."""
    if text is None or parse_time(text) is None:
        return None
    fraction = _FRACTION.search(text)
    return 10.0 ** -len(fraction.group(1)) if fraction else 1.0
