"""Random sequences of real-life operations on a randomised platform, the README's promises
checked after every step (``random_walk``): a walk here, many in
``tests/bench/bench_random_walks.py``."""

from __future__ import annotations

import pytest

from . import random_walk
from .random_life import SUITE_LAG_S, Life
from .random_walk import walk
from .two_platforms import Environments, environments

__all__ = ["environments"]

# A platform whose agent list carries no description and whose versions lists catch up late,
# walked through a deletion in the dashboard and two applies at once that both create again:
# the seed draws that among the kinds of step the walk had when it was found (every kind but
# the saved plan, the rival changes, the agents added, removed and tuned, the pulls, the
# smoke runs, the changed vars, the killed promotions and the races with a kill, which
# ``tests/bench/bench_random_walks.py`` walks).
SEED, STEPS = 5, 12
KINDS = tuple(kind for kind in random_walk.STEPS
              if kind not in (random_walk.saved_plan, random_walk.rivals, random_walk.new_agent,
                              random_walk.retire_agent, random_walk.tune, random_walk.pull,
                              random_walk.smoke, random_walk.change_var,
                              random_walk.kill_promotion, random_walk.race_killed))


def walked(environments: Environments, seed: int, steps: int,
           kinds: tuple[random_walk.Step, ...]) -> None:
    """Walk ``steps`` steps of ``kinds`` drawn from ``seed`` on the two test platforms."""
    life = Life(seed, environments.root, environments.cli,
                environments.platform("staging").emulator,
                environments.platform("production").emulator, max_lag_s=SUITE_LAG_S)
    problem = walk(life, steps, kinds)
    assert problem is None, f"{life.platform}\n{problem}"


@pytest.mark.timeout(240)
def test_a_random_walk_keeps_every_promise(environments: Environments) -> None:
    walked(environments, SEED, STEPS, KINDS)


# Agents added, removed and tuned beyond their prompts, on a platform whose lists catch up
# late: the seed draws an agent added, applied and promoted, then removed (pruned by the next
# apply, and from production by the next promotion), and a change to another agent's
# languages; one agent per key on both platforms after every apply and promotion.
GROWN_SEED, GROWN_STEPS = 49, 12
GROWING = (random_walk.new_agent, random_walk.retire_agent, random_walk.tune, random_walk.apply,
           random_walk.promote, random_walk.review)


@pytest.mark.timeout(240)
def test_agents_added_removed_and_tuned_keep_every_promise(environments: Environments) -> None:
    walked(environments, GROWN_SEED, GROWN_STEPS, GROWING)
    production = environments.platform("production").owned()
    assert "walk-desk-1" in production and "walk-desk-2" not in production, production
