"""The smoke gate apply calls before releasing a draft and after releasing it.

``smoke_gate(...)`` returns a function with apply's ``SmokeGate`` signature: it runs the
agent's smoke tests against exactly the revision under test (``ca_x@vN``) and answers with a
``SmokeVerdict`` whose ``report`` is the ``SmokeReport``, so renderers can show the failing
run's transcript. Procedural agents have no smoke tests of their own, and an agent without
tests has nothing to prove: both pass at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from operator_iac.apply import SmokeGate, SmokeVerdict
from operator_iac.plan.model import ResourcePlan, SmokeStage
from operator_iac.smoke.suite import (
    DEFAULT_PARALLELISM,
    Progress,
    SmokeTarget,
    output_schemas,
    run_smoke_tests,
)
from operator_iac.spec.desired import DesiredAgent

if TYPE_CHECKING:
    from operator_iac.api.client import OperatorClient

NO_TESTS = "no smoke tests"


def smoke_gate(client: OperatorClient, desired: Mapping[str, DesiredAgent], *,
               parallelism: int = DEFAULT_PARALLELISM, keep_conversations: bool = False,
               progress: Progress | None = None) -> SmokeGate:
    """A gate for ``workflow.apply(..., smoke_gate=...)`` that runs the declared smoke tests."""
    schemas = output_schemas(desired)

    def gate(resource: ResourcePlan, agent: DesiredAgent, version_id: str, stage: SmokeStage,
             ids: Mapping[str, str]) -> SmokeVerdict:
        if agent.kind != "conversational_agent" or not agent.smoke:
            return SmokeVerdict(stage, True, NO_TESTS)
        target = SmokeTarget(agent.key, version_id, tuple(agent.smoke))
        report = run_smoke_tests(client, [target], parallelism=parallelism,
                                 keep_conversations=keep_conversations,
                                 procedural_schemas=schemas, key_to_id=ids, progress=progress)
        return SmokeVerdict(stage, report.passed, report.headline(),
                            platform_error=report.platform_error, report=report)

    return gate
