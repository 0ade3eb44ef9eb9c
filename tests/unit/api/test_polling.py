"""One schedule of pauses for every wait on the platform: short first, doubling, bounded."""

from __future__ import annotations

import time
from itertools import islice, pairwise

import pytest

from operator_iac import defaults
from operator_iac.api import polling
from operator_iac.api.polling import bounded_pauses, growing_pauses, pauses_until


def test_pauses_double_from_the_first_up_to_the_longest() -> None:
    pauses = list(islice(growing_pauses(), 12))

    assert pauses[0] == defaults.FIRST_POLL_S
    assert all(b == min(a * 2, defaults.LONGEST_POLL_S) for a, b in pairwise(pauses))
    assert pauses[-1] == defaults.LONGEST_POLL_S


def test_a_bounded_wait_ends_once_its_pauses_reach_the_timeout() -> None:
    pauses = list(bounded_pauses(10.0))

    assert pauses == list(islice(growing_pauses(), len(pauses)))
    assert sum(pauses[:-1]) < 10.0 <= sum(pauses)
    assert list(bounded_pauses(0.0)) == []


def test_a_wait_until_a_moment_cuts_its_last_pause_there_and_ends(
        monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr(polling.time, "time", lambda: clock[0])
    pauses = []
    for pause in pauses_until(1000.0 + defaults.FIRST_POLL_S * 2.5):
        pauses.append(pause)
        clock[0] += pause  # the caller pauses that long

    assert pauses == pytest.approx([defaults.FIRST_POLL_S, defaults.FIRST_POLL_S * 1.5])
    assert list(pauses_until(time.time() - 1)) == []
