"""Times as the platform writes them: ISO 8601 with ``Z`` (either case) or an offset; a time
without a zone is taken as UTC, like the documented form. One reading for every layer (the
plan, smoke records, event streams), so that a time is never read two ways and two times
read here can always be compared."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_time(text: str | None) -> datetime | None:
    """``text`` as an aware time, or None when absent or unreadable."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
