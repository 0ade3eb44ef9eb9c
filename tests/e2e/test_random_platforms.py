"""The whole life of the example project on randomised platforms: a few seeds here, twenty in
``tests/bench/bench_random_platforms.py``. Together with the registry's own test that twenty
seeds draw every alternative, this stands for the per-variation matrices."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from operator_iac.emulator.variations import draw

from .conftest import ProjectCopy
from .random_life import SUITE_LAG_S, Life, live
from .two_platforms import Environments, environments

__all__ = ["environments"]

SEEDS = (10, 437, 834)  # together they draw every alternative and every delay (a unit test checks)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_whole_life_on_a_random_platform(environments: Environments, seed: int) -> None:
    life = Life(seed, environments.root, environments.cli,
                environments.platform("staging").emulator,
                environments.platform("production").emulator, max_lag_s=SUITE_LAG_S)
    problem = live(life)
    assert problem is None, f"{life.platform}\n{problem}"


def test_the_in_process_emulator_plays_the_platform_it_is_named(
        project: Callable[..., ProjectCopy], monkeypatch: pytest.MonkeyPatch) -> None:
    copy = project()
    drawn = draw(5)
    planned = copy.cli("--project-file", str(copy.project_file), "--emulator",
                       "--emulator-compat", "random:5", "plan", "--env", "staging")
    assert planned.exit_code == 0, planned.stderr
    assert f"(random platform, seed 5: {', '.join(drawn.modes)}" in planned.stderr
    assert "4 to create" in planned.stdout
    monkeypatch.setenv("OPERATOR_IAC_EMULATOR_COMPAT", "trim_text,bogus")
    refused = copy.cli("--project-file", str(copy.project_file), "--emulator", "plan")
    assert refused.exit_code == 3 and "unknown mode 'bogus'" in refused.stderr
