"""The platform an emulator is asked to play: named modes, or a random one drawn from a seed
(``emulator --compat random --seed N``, ``--emulator-compat random:N``)."""

from __future__ import annotations

import pytest

from operator_iac.emulator.variations import draw
from operator_iac.errors import UsageError
from operator_iac.services.emulator import Platform, choose_platform, parse_compat


def test_named_modes_are_played_as_named() -> None:
    platform = choose_platform(["trim_text", "no_greeting"], list_lag=1.0)
    assert platform == Platform(("trim_text", "no_greeting"), list_lag=1.0)
    assert platform.describe() == "trim_text, no_greeting, list_lag 1s"
    assert Platform().describe() == "the usual behaviours"


def test_random_draws_from_the_seed_and_adds_what_is_named() -> None:
    drawn = draw(7)
    platform = choose_platform(["random", "plain_errors"], seed=7)
    assert platform.seed == 7
    assert set(platform.modes) == {*drawn.modes, "plain_errors"}
    assert platform.list_lag == drawn.delays.get("list_lag", 0.0)
    assert platform.read_lag == drawn.delays.get("read_lag", 0.0)
    assert platform.describe().startswith("random platform, seed 7: ")
    assert choose_platform(["random"]).seed is not None  # a fresh seed, said


def test_the_variable_names_modes_or_a_seed() -> None:
    assert parse_compat(None) == Platform()
    assert parse_compat("trim_text, no_greeting").modes == ("trim_text", "no_greeting")
    assert parse_compat("random:3") == choose_platform(["random"], seed=3)
    with pytest.raises(UsageError, match="unknown mode 'bogus'"):
        parse_compat("bogus")
    with pytest.raises(UsageError, match="is not a mode or random:SEED"):
        parse_compat("trim_text:2")
