"""The emulator's clock: wall time plus an offset that tests can advance.

Token expiry (3 hours by default) is tested by moving this clock forward rather than by
sleeping. Timestamps leave the emulator as ISO-8601 UTC strings: revisions and events with
milliseconds (``2023-11-07T05:31:56.123Z``, which the documented format allows), so that
latencies can be measured from them and creations within one second are told apart; the
``whole_seconds`` compatibility mode stamps them in whole seconds, the form the contract shows
(``2023-11-07T05:31:56Z``); conversations, procedures and tokens are stamped in seconds.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime


class Clock:
    """Epoch seconds, shifted by whatever ``advance`` added (thread-safe)."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return time.time() + self._offset

    def advance(self, seconds: float) -> float:
        """Move the clock forward; return the new time."""
        with self._lock:
            self._offset += seconds
        return self.now()


def iso(timestamp: float | None) -> str | None:
    """``2023-11-07T05:31:56Z`` for an epoch timestamp (None stays None)."""
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_ms(timestamp: float) -> str:
    """``2023-11-07T05:31:56.123Z`` for an epoch timestamp."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> float:
    """Epoch seconds of an ISO-8601 string; naive times count as UTC. ValueError if invalid."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
