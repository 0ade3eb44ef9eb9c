"""The registry of platform variations: well formed, played by the emulator, and drawn at
random into plausible platforms that cover every alternative."""

from __future__ import annotations

import re
from pathlib import Path

from operator_iac.emulator import variations
from operator_iac.emulator.faults import COMPAT_MODES, FaultSettings
from operator_iac.emulator.variations import GROUPS, VARIATIONS, draw

EMULATOR = Path(variations.__file__).parent
SEEDS = range(20)


def test_every_variation_is_declared_once_and_completely() -> None:
    keys = [v.key for v in VARIATIONS]
    assert len(keys) == len(set(keys))
    modes = [a.mode for v in VARIATIONS for a in v.alternatives]
    assert len(modes) == len(set(modes))
    for v in VARIATIONS:
        assert v.group in GROUPS and v.alternatives, v.key
        assert v.point and v.usual and v.adapts, v.key
        assert (v.observed == "never") == (v.how_observed == ""), v.key
    assert set(COMPAT_MODES) | set(variations.DELAYS) == set(modes)


def test_every_mode_is_played_by_the_emulator_and_every_delay_is_a_setting() -> None:
    """A mode declared in the registry but never consulted by the emulator is a variation
    nobody tests; each must be read somewhere in the emulator's code."""
    sources = "\n".join(path.read_text(encoding="utf-8") for path in EMULATOR.glob("*.py")
                        if path.name not in ("variations.py", "faults.py"))
    unplayed = [mode for mode in COMPAT_MODES if f'"{mode}"' not in sources]
    assert unplayed == []
    assert set(variations.DELAYS) <= set(FaultSettings.model_fields)


def test_the_emulator_consults_no_mode_the_registry_does_not_declare() -> None:
    consulted = set()
    for path in EMULATOR.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        consulted |= set(re.findall(r'has\("(\w+)"\)', text))
        consulted |= set(re.findall(r'"(\w+)" (?:not )?in (?:modes|shown)\b', text))
    assert consulted and consulted <= set(COMPAT_MODES)


def test_a_seed_always_draws_the_same_platform_within_the_bound() -> None:
    assert draw(7) == draw(7)
    assert {draw(seed).modes for seed in SEEDS} != {draw(0).modes}
    for seed in SEEDS:
        drawn = draw(seed, max_lag_s=0.5)
        points = [variations.MODE_VARIATION[mode] for mode in drawn.modes]
        assert len(points) == len(set(points))  # one alternative per point at most
        assert all(0 < delay <= 0.5 for delay in drawn.delays.values())
        FaultSettings(compat=list(drawn.modes), **drawn.delays)


def test_twenty_seeds_draw_every_alternative_and_every_delay() -> None:
    drawn = [draw(seed) for seed in SEEDS]
    modes = {mode for platform in drawn for mode in platform.modes}
    delays = {name for platform in drawn for name in platform.delays}
    assert modes == set(COMPAT_MODES)
    assert delays == set(variations.DELAYS)


def test_the_suites_random_lives_draw_every_alternative_and_every_delay() -> None:
    # The e2e suite lives on a few seeds only (``tests/e2e/test_random_platforms.py``): a new
    # variation changes what they draw, and they must be chosen again to cover it.
    from tests.e2e.test_random_platforms import SEEDS as LIVES

    drawn = [draw(seed) for seed in LIVES]
    assert {mode for platform in drawn for mode in platform.modes} == set(COMPAT_MODES)
    assert {name for platform in drawn for name in platform.delays} == set(variations.DELAYS)
