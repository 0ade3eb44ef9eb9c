"""Where each running smoke conversation is: its turn, what it waits for, and since when.

A smoke conversation spends seconds in each turn; a person watching needs to see it move. The
runner's threads move their conversation on a ``ConversationBoard`` (``Tracker.moved``) and a
display reads snapshots of it (``ConversationBoard.running``): a live table on a terminal, a
plain line every few seconds in CI (``operator_iac.cli.progress``). The board only keeps
state; it never prints, and it tells its ``watcher`` when the first conversation starts and
when the last one ends, so a display runs only while there is something to show.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from itertools import count


@dataclass(frozen=True)
class RunningConversation:
    """One running conversation as a display shows it."""

    number: int
    """Tells runs apart (labels repeat: a test runs on the draft, then on the release)."""
    label: str
    """The agent, the test, and the attempt when there are several."""
    elapsed_s: float
    """Seconds since the run started."""
    turn: int
    """The turn in progress: 0 for the greeting, then one per user message."""
    turns: int
    """How many user messages the test sends."""
    doing: str
    """What the run waits for now ("the reply", "procedures to finish" ...)."""


@dataclass
class _Row:
    label: str
    started: float
    turns: int
    turn: int = 0
    doing: str = "creating the conversation"


# Called with True when the first conversation starts, False when the last one ends.
Watcher = Callable[[bool], None]


class ConversationBoard:
    """The running conversations of a command, safe to move from many threads at once."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic,
                 watcher: Watcher | None = None) -> None:
        self._clock = clock
        self._watcher = watcher
        self._lock = threading.Lock()
        self._rows: dict[int, _Row] = {}
        self._ids = count()

    def start(self, label: str, turns: int) -> Tracker:
        """A conversation starts: its tracker moves it, and ends it."""
        with self._lock:
            key = next(self._ids)
            self._rows[key] = _Row(label, self._clock(), turns)
            first = len(self._rows) == 1
        if first and self._watcher is not None:
            self._watcher(True)
        return Tracker(self, key)

    def running(self) -> tuple[RunningConversation, ...]:
        """The conversations running now, oldest first."""
        now = self._clock()
        with self._lock:
            rows = [(key, self._rows[key]) for key in sorted(self._rows)]
        return tuple(RunningConversation(key, r.label, max(0.0, now - r.started), r.turn,
                                         r.turns, r.doing) for key, r in rows)

    def _move(self, key: int, doing: str, turn: int | None) -> None:
        with self._lock:
            row = self._rows.get(key)
            if row is not None:
                row.doing = doing
                row.turn = row.turn if turn is None else turn

    def _end(self, key: int) -> None:
        with self._lock:
            gone = self._rows.pop(key, None) is not None
            last = gone and not self._rows
        if last and self._watcher is not None:
            self._watcher(False)


class Tracker:
    """One conversation's handle on its board."""

    def __init__(self, board: ConversationBoard, key: int) -> None:
        self._board, self._key = board, key

    def moved(self, doing: str, turn: int | None = None) -> None:
        """The run now waits for ``doing`` (in ``turn``, when it changed)."""
        self._board._move(self._key, doing, turn)

    def done(self) -> None:
        self._board._end(self._key)


class NoTracker(Tracker):
    """The tracker of a run nobody watches."""

    def __init__(self) -> None:
        pass

    def moved(self, doing: str, turn: int | None = None) -> None:
        pass

    def done(self) -> None:
        pass


UNWATCHED = NoTracker()
