"""The pauses between two reads while a run waits for the platform to show something: its own
write in the lists, a release answered 409 "already released", a versions list catching up
with the agents list. The first pause is short, each next one doubles, none is longer than a
bound (``defaults.FIRST_POLL_S``, ``defaults.LONGEST_POLL_S``): one schedule for every such
wait, so none polls a slow platform harder than the others."""

from __future__ import annotations

import time
from collections.abc import Iterator

from operator_iac import defaults


def growing_pauses() -> Iterator[float]:
    """The pauses of one wait, in seconds, without end (the caller's deadline ends it)."""
    pause = defaults.FIRST_POLL_S
    while True:
        yield pause
        pause = min(pause * 2, defaults.LONGEST_POLL_S)


def bounded_pauses(timeout_s: float) -> Iterator[float]:
    """The pauses of one wait that ends once they add up to ``timeout_s`` (the last one may
    pass it): the caller reads, and pauses again while there is one left."""
    waited = 0.0
    for pause in growing_pauses():
        if waited >= timeout_s:
            return
        yield pause
        waited += pause


def pauses_until(deadline: float) -> Iterator[float]:
    """The pauses of one wait that ends at ``deadline``, in seconds since the epoch (a
    moment another process noted, as ``time.time`` gives it); the last one ends there."""
    for pause in growing_pauses():
        left = deadline - time.time()
        if left <= 0:
            return
        yield min(pause, left)
