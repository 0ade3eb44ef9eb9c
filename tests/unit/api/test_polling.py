"""One schedule of pauses for every wait on the platform: short first, doubling, bounded."""

from __future__ import annotations

from itertools import islice, pairwise

from operator_iac import defaults
from operator_iac.api.polling import bounded_pauses, growing_pauses


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
