"""The platform's clock, as the client last heard it: what time it is now where the platform
stamps ``created_at`` and ``updated_at``, for a client whose own clock may be anywhere.

Every HTTP answer carries a ``Date`` (RFC 9110: a server with a clock sends it, in whole
seconds). The latest one heard, moved on by the time passed since on this machine's
monotonic clock, is a reading of the platform's clock that is never ahead of it (a ``Date``
is truncated to its second and stamped before the answer leaves) and at most about a second
behind; of several answers, the one that reads latest is kept. A writer that says in what it
writes when it wrote it (``plan.marker.Marker.written_at``) uses this reading, so that a
later reader compares it with the platform's own ``updated_at`` without either machine's
clock coming into it. Without any ``Date`` heard, there is no reading (None), and nothing
is said.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from operator_iac.api.retry import http_date


class PlatformClock:
    """The platform's time now, from the ``Date`` of the answers heard (thread-safe)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._last_text: str | None = None
        # (the platform's time, this machine's monotonic time when it was that)
        self._reading: tuple[datetime, float] | None = None

    def heard(self, date: str | None) -> None:
        """Note an answer's ``Date`` header (None or unreadable: nothing is noted)."""
        if date is None or date == self._last_text:
            return  # the same second again: the reading kept already reads at least as late
        when = http_date(date)
        if when is None:
            return
        at = self._clock()
        with self._lock:
            self._last_text = date
            kept = self._now(at)
            if kept is None or when > kept:
                self._reading = (when, at)

    def now(self) -> datetime | None:
        """The platform's time now, never ahead of it; None when no answer said it."""
        with self._lock:
            return self._now(self._clock())

    def _now(self, at: float) -> datetime | None:
        if self._reading is None:
            return None
        when, heard_at = self._reading
        return when + timedelta(seconds=max(0.0, at - heard_at))
