"""Times as the platform writes them and as operator-iac writes them in its records: one
reading for every layer (the plan, smoke records, event streams), so that a time is never read
two ways and two times read here can always be compared. The reading itself is the API
boundary's (``api.tolerance.moment_of``): ISO 8601 with ``Z`` or an offset, a time without a
zone taken as UTC, or Unix time."""

from __future__ import annotations

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
