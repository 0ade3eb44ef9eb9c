"""The release gate as declared: a comparison of the candidate revision's smoke tests with
the released revision's, run in the same job, and the defaults every part of the gate uses.

``smoke_settings: {gate: {...}}`` in an agent file (or ``defaults: {smoke: {gate: ...}}`` in
the project file) compares every smoke test of the agent; ``compare: released`` on one test
compares that test alone. How a comparison is run and judged is ``operator_iac.smoke``'s job
(``smoke.stats`` for the statistics); this module holds declarations, defaults and the
time estimates the plan and a comparison show before it runs (imported by plan renderers,
so it stays free of the smoke engine).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import Field

from operator_iac.spec.base import StrictModel

# ---- the gate's defaults: the one place they live ---------------------------------------

DEFAULT_MAX_DROP = 0.1
DEFAULT_CONFIDENCE = 0.95
# Per compared test, candidate and baseline together: enough for the default max_drop at
# pass rates from about 0.7 up (docs/statistics.md); most runs stop far earlier.
DEFAULT_MAX_CONVERSATIONS = 600
# The probability of detecting a drop of ``max_drop`` that the design aims for (power).
DEFAULT_POWER = 0.8
# What a test conversation is expected to take, for the time estimates shown before a run
# and in the plan: the set-up, greeting and clean-up, plus each user turn. The plan's
# estimate assumes ``defaults.PARALLELISM`` conversations at once, unless the environment's
# max_concurrent_conversations is lower.
ESTIMATED_CONVERSATION_S = 4.0
ESTIMATED_TURN_S = 3.0

Compare = Literal["released"]
InconclusivePolicy = Literal["block", "warn"]
DEFAULT_INCONCLUSIVE: InconclusivePolicy = "block"


class GateSettings(StrictModel):
    """A release gate: the smoke tests run on the candidate and on the released revision,
    interleaved, and a statistical test says whether the candidate is worse."""

    compare: Compare = "released"
    """What the candidate is compared with: `released`, the revision released now."""
    max_drop: float = Field(default=DEFAULT_MAX_DROP, gt=0.0, lt=1.0)
    """The drop in pass rate the gate must catch (0.1: from 90 % to 80 %)."""
    confidence: float = Field(default=DEFAULT_CONFIDENCE, ge=0.5, lt=1.0)
    """How sure a `regressed` verdict must be: at most 1 - confidence of the candidates that
    are as good as the released revision are blocked."""
    max_conversations: int = Field(default=DEFAULT_MAX_CONVERSATIONS, ge=4, le=100_000)
    """The most conversations one compared test may use, both revisions together; the run
    stops earlier as soon as the verdict is settled."""
    inconclusive: InconclusivePolicy = DEFAULT_INCONCLUSIVE
    """What an inconclusive comparison does: `block` the release, or `warn` and release."""


def estimated_conversation_s(user_turns: int) -> float:
    """The time one test conversation with this many user turns is expected to take."""
    return ESTIMATED_CONVERSATION_S + ESTIMATED_TURN_S * user_turns


def format_span(seconds: float) -> str:
    """A time estimate in the unit a person plans with: ``40 s``, ``35 min``, ``2.5 h``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def compared_tests(gate: GateSettings | None, tests: Sequence[Any]) -> tuple[str, ...]:
    """The names of the smoke tests (``SmokeTest``) compared with the released revision: all
    of them under a declared gate, else those that say ``compare``."""
    return tuple(test.name for test in tests
                 if gate is not None or getattr(test, "compare", None))


def gate_settings(gate: GateSettings | None, tests: Sequence[Any]) -> GateSettings | None:
    """How the compared tests are judged: the declared gate, or the defaults when only some
    tests say ``compare`` (None: nothing is compared)."""
    return gate if gate is not None or not compared_tests(gate, tests) else GateSettings()
