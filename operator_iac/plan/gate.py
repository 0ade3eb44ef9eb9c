"""The release gate in a plan: which smoke tests apply compares with the released
revision, at which stage, and what it may cost at worst (conversations and time).

The comparison runs at the first stage the agent's smoke tests run at (the draft, before
its release, when ``smoke.on`` has it; otherwise right after the release, rolled back on a
regression), against the revision released when the plan was made (``rollback_to``). An
agent with nothing released yet has nothing to be compared with: its tests run on their own.
Pure.
"""

from __future__ import annotations

from collections.abc import Sequence

from operator_iac.defaults import PARALLELISM
from operator_iac.plan.model import GatePlan
from operator_iac.spec.assertions import SmokeStage
from operator_iac.spec.desired import DesiredAgent
from operator_iac.spec.gate import (
    compared_tests,
    estimated_conversation_s,
    gate_settings,
)


def plan_gate(agent: DesiredAgent, stages: Sequence[SmokeStage],
              baseline: str | None) -> GatePlan | None:
    """The agent's gate in this plan (None: nothing is compared)."""
    gate = gate_settings(agent.smoke_gate, agent.smoke)
    names = compared_tests(agent.smoke_gate, agent.smoke)
    if gate is None or not names or not stages or baseline is None:
        return None
    tests = [test for test in agent.smoke if test.name in names]
    per_test = 2 * (gate.max_conversations // 2)
    # Apply's default parallelism, within the environment's max_concurrent_conversations.
    concurrency = min(PARALLELISM, agent.smoke_concurrency or PARALLELISM)
    seconds = sum(per_test * estimated_conversation_s(test.user_turns) for test in tests)
    return GatePlan(stage=stages[0], baseline_version_id=baseline, tests=names,
                    max_drop=gate.max_drop, confidence=gate.confidence,
                    max_conversations=gate.max_conversations,
                    inconclusive=gate.inconclusive,
                    worst_case_conversations=per_test * len(tests),
                    estimated_seconds=round(seconds / concurrency, 1), concurrency=concurrency)
