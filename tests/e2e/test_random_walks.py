"""Random sequences of real-life operations on a randomised platform, the README's promises
checked after every step (``random_walk``): a walk here, many in
``tests/bench/bench_random_walks.py``."""

from __future__ import annotations

import pytest

from . import random_walk
from .random_life import Life
from .random_walk import walk
from .two_platforms import Environments, environments

__all__ = ["environments"]

# A platform whose agent list carries no description and whose versions lists catch up late,
# walked through a deletion in the dashboard and two applies at once that both create again:
# the seed draws that among the kinds of step the walk had when it was found (every kind but
# the saved plan and the rival changes, which ``tests/bench/bench_random_walks.py`` walks).
SEED, STEPS = 5, 12
KINDS = tuple(kind for kind in random_walk.STEPS
              if kind not in (random_walk.saved_plan, random_walk.rivals))


@pytest.mark.timeout(240)
def test_a_random_walk_keeps_every_promise(environments: Environments) -> None:
    life = Life(SEED, environments.root, environments.cli,
                environments.platform("staging").emulator,
                environments.platform("production").emulator)
    problem = walk(life, STEPS, KINDS)
    assert problem is None, f"{life.platform}\n{problem}"
