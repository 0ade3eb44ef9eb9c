"""How long a run waits for another apply of the same change to release the draft it wrote
over this run's write (``apply.other_apply.wait_for``): as long as that apply's smoke tests of
the stage may take by their own limits, as many at once as the run's parallelism, plus
``OTHER_APPLY_WAIT_S``; a release gate's compared tests count the conversations it may use."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from operator_iac import defaults
from operator_iac.apply.other_apply import wait_for
from operator_iac.spec.assertions import SmokeStage
from operator_iac.spec.gate import GateSettings


def steps(tests: list[Any], *, stages: tuple[str, ...] = ("draft", "released"),
          gate: GateSettings | None = None, parallelism: int = 8,
          smoke_gate: object | None = object()) -> Any:
    """The parts of ``Steps`` the wait is computed from."""
    agent = SimpleNamespace(smoke=tuple(tests), smoke_gate=gate)
    return SimpleNamespace(
        run_=SimpleNamespace(smoke_gate=smoke_gate,
                             options=SimpleNamespace(parallelism=parallelism)),
        resource=SimpleNamespace(smoke=stages), _desired=lambda: agent)


def smoke_test(name: str, timeout_s: float = 40.0, repeat: int = 1) -> SimpleNamespace:
    """A declared smoke test, as far as its limits go."""
    return SimpleNamespace(name=name, timeout_s=timeout_s, repeat=repeat, compare=None)


def wait(fake: Any, stage: SmokeStage = "draft") -> float:
    return wait_for(fake, stage)


BASE = defaults.OTHER_APPLY_WAIT_S


def test_without_tests_of_the_stage_the_wait_is_the_base() -> None:
    assert wait(steps([smoke_test("a")], smoke_gate=None)) == BASE  # --no-smoke
    assert wait(steps([smoke_test("a")], stages=("released",)), "draft") == BASE


@pytest.mark.parametrize(("tests", "parallelism", "waves"), [
    ([smoke_test("a"), smoke_test("b"), smoke_test("c")], 8, 1),
    ([smoke_test("a", repeat=5), smoke_test("b", repeat=5), smoke_test("c", repeat=5)], 8, 2),
    ([smoke_test("a", repeat=5), smoke_test("b", repeat=5), smoke_test("c", repeat=5)], 1, 15),
])
def test_the_tests_run_in_waves_each_as_long_as_the_longest_limit(
        tests: list[Any], parallelism: int, waves: int) -> None:
    longest = smoke_test("slow", timeout_s=90.0)
    assert wait(steps([*tests, longest], parallelism=parallelism)) == \
        BASE + 90.0 * -(-(sum(t.repeat for t in tests) + 1) // parallelism)
    assert wait(steps(tests, parallelism=parallelism)) == BASE + 40.0 * waves


def test_a_release_gate_counts_the_conversations_it_may_use() -> None:
    gated = wait(steps([smoke_test("a"), smoke_test("b")], gate=GateSettings(max_conversations=40)))
    assert gated == BASE + 40.0 * (80 // 8)
    assert gated > wait(steps([smoke_test("a"), smoke_test("b")]))
    # The default gate may use more conversations than any run waits for.
    assert wait(steps([smoke_test("a")], gate=GateSettings())) > defaults.OTHER_APPLY_WAIT_MAX_S
