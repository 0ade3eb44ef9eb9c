"""The one smoke gate: what apply (and rollback) call on a revision before and after it is
released.

``smoke_gate(...)`` returns a ``SmokeGate``: it runs the agent's smoke tests against exactly
the revision under test (``ca_x@vN``) and answers with a ``SmokeVerdict`` whose ``report`` is
the ``SmokeReport``, so renderers can show the failing run's transcript. Procedural agents have
no smoke tests of their own, and an agent without tests has nothing to prove: both pass at
once. An agent whose plan has a release gate (``plan.model.GatePlan``) runs its compared
tests beside the released revision at the gate's stage, where a regression fails the gate
like a failed test (the draft is then kept, unreleased, or the release is rolled back).
Each verdict that decides about a released revision is recorded on the platform
(``operator_iac.smoke.record``), where ``promote`` checks it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

from operator_iac.defaults import PARALLELISM
from operator_iac.errors import OperatorIacError, SmokeRecordError
from operator_iac.plan.marker import parse_marker
from operator_iac.smoke.postprocessing import Habits
from operator_iac.smoke.progress import ConversationBoard
from operator_iac.smoke.suite import (
    Baseline,
    Progress,
    SmokeTarget,
    output_schemas,
    run_smoke_tests,
)
from operator_iac.spec.gate import GateSettings

if TYPE_CHECKING:
    from operator_iac.api.client import OperatorClient
    from operator_iac.plan.model import GatePlan, ResourcePlan
    from operator_iac.smoke.results import SmokeReport
    from operator_iac.spec.assertions import SmokeStage
    from operator_iac.spec.desired import DesiredAgent
    from operator_iac.state.snapshot import RemoteRevision

NO_TESTS = "no smoke tests"
CONFLICT_STATUS = 409


@dataclass(frozen=True)
class SmokeVerdict:
    """What the smoke gate says about one revision at one stage; ``report`` (a
    ``SmokeReport``) is for renderers."""

    stage: SmokeStage
    passed: bool
    summary: str
    platform_error: bool = False
    # A test could not conclude (a timeout, an unjudgeable assertion): not passed, and not
    # failed either; apply never releases on it.
    incomplete: bool = False
    report: Any = field(default=None, compare=False)
    # Why the verdict could not be kept on the platform (promote will need it), if so.
    record_error: str | None = None

    @property
    def word(self) -> str:
        """``passed``, ``failed``, ``incomplete`` or ``errored`` (the platform failed)."""
        if self.passed:
            return "passed"
        if self.platform_error:
            return "errored"
        return "incomplete" if self.incomplete else "failed"


class SmokeGate(Protocol):
    """(resource, declared agent, version id under test, stage, key -> remote id of every
    agent known so far) -> verdict. ``revision`` is the revision under test as the caller
    holds it (its description names the release's records, its config the prompt variables a
    record must supply), so that recording the verdict does not read it again."""

    def __call__(self, resource: ResourcePlan, agent: DesiredAgent, version_id: str,
                 stage: SmokeStage, ids: Mapping[str, str], /, *,
                 revision: RemoteRevision | None = None) -> SmokeVerdict: ...


def smoke_gate(project: str, client: OperatorClient, desired: Mapping[str, DesiredAgent], *,
               parallelism: int = PARALLELISM, keep_conversations: bool = False,
               progress: Progress | None = None, warn: Progress | None = None,
               record: bool = True, board: ConversationBoard | None = None) -> SmokeGate:
    """The gate apply calls on drafts and released revisions. With ``record`` (the default)
    every verdict that decides about a released revision is kept on the platform; a record
    that cannot be written is a warning (``warn``), not a failure of the apply. All the
    conversations it opens, for however many agents at once, share one limit of
    ``parallelism``, which halves when the platform answers 429."""
    gate = testing_gate(client, desired, parallelism=parallelism,
                        keep_conversations=keep_conversations, progress=progress, warn=warn,
                        board=board)
    if not record:
        return gate
    return recording_gate(gate, client, project=project, warn=warn or _silent)


def testing_gate(client: OperatorClient, desired: Mapping[str, DesiredAgent], *,
                 parallelism: int = PARALLELISM, keep_conversations: bool = False,
                 progress: Progress | None = None, warn: Progress | None = None,
                 board: ConversationBoard | None = None) -> SmokeGate:
    """The part of the gate that runs the declared smoke tests on the revision under test;
    flaky and quarantined tests that did not pass are ``warn``ed about; ``board`` shows the
    running conversations."""
    from operator_iac.api.pool import AdaptiveLimit

    schemas = output_schemas(desired)
    say = progress or _silent
    caution = warn or _silent
    # What the environment declares of the platform, and what the draft stage learns of it,
    # the release reuses.
    habits = Habits.declared(desired)
    # One limit for every agent's conversations, however many suites run at once; each
    # suite's pool hears the client's 429s for it while the suite runs, and no longer.
    limit = AdaptiveLimit(parallelism)

    def gate(resource: ResourcePlan, agent: DesiredAgent, version_id: str, stage: SmokeStage,
             ids: Mapping[str, str], *, revision: RemoteRevision | None = None) -> SmokeVerdict:
        if agent.kind != "conversational_agent" or not agent.smoke:
            return SmokeVerdict(stage, True, NO_TESTS)
        target = gate_target(resource.gate, agent, version_id, stage)
        if not target.tests:
            return SmokeVerdict(stage, True, f"compared on the {_stage_of(resource)}")
        report = run_smoke_tests(client, [target], parallelism=parallelism,
                                 keep_conversations=keep_conversations,
                                 procedural_schemas=schemas, key_to_id=ids, progress=say,
                                 habits=habits, limit=limit, board=board)
        for line in report.warnings():
            caution(line)
        summary = report.headline()
        if stage == "draft" and drafts_refused(report):
            summary = draft_refusal(agent.key, version_id, summary)
        return SmokeVerdict(stage, report.passed, summary,
                            platform_error=report.platform_error,
                            incomplete=report.incomplete, report=report)

    return gate


def gate_target(plan: GatePlan | None, agent: DesiredAgent, version_id: str,
                stage: SmokeStage) -> SmokeTarget:
    """What the gate tests at ``stage``: at the stage of the plan's release gate the compared
    tests run beside the baseline; at the other stage only the tests that are not compared
    (their verdict is the comparison's)."""
    tests = tuple(agent.smoke)
    if plan is None or plan.baseline_version_id == version_id:
        return SmokeTarget(agent.key, version_id, tests)
    if stage != plan.stage:
        return SmokeTarget(agent.key, version_id,
                           tuple(t for t in tests if t.name not in plan.tests))
    settings = GateSettings(max_drop=plan.max_drop, confidence=plan.confidence,
                            max_conversations=plan.max_conversations,
                            inconclusive=plan.inconclusive)
    return SmokeTarget(agent.key, version_id, tests,
                       Baseline(plan.baseline_version_id, settings, frozenset(plan.tests)))


def _stage_of(resource: ResourcePlan) -> str:
    stage = resource.gate.stage if resource.gate is not None else "draft"
    return "draft" if stage == "draft" else "released revision"


def drafts_refused(report: SmokeReport) -> bool:
    """Whether the platform refused every test conversation with 409: one that converses only
    with released revisions, never with a draft."""
    runs = [run for test in report.tests for run in test.runs]
    return bool(runs) and all(run.refused_status == CONFLICT_STATUS for run in runs)


def draft_refusal(key: str, version_id: str, headline: str) -> str:
    """Why the draft stage failed, and the setting that decides about it. Falling back to
    testing after the release by itself would put an untested revision in front of callers
    (for as long as its tests take, with rollback after): that is the user's call to make,
    so apply fails and names the setting rather than do it unasked."""
    return (f"the platform does not converse with unreleased drafts ({version_id}: "
            f"{headline}); the draft was left unreleased. To test {key} after its release "
            "instead (rolled back when the tests fail), set `smoke: {on: [released]}` under "
            "`defaults` in operator-iac.yaml, or `smoke_settings: {on: [released]}` in the "
            "agent's file")


def recording_gate(gate: SmokeGate, client: OperatorClient, *, project: str,
                   warn: Progress) -> SmokeGate:
    """``gate``, recording each verdict that decides about a released revision."""

    def gated(resource: ResourcePlan, agent: DesiredAgent, version_id: str, stage: SmokeStage,
              ids: Mapping[str, str], *, revision: RemoteRevision | None = None) -> SmokeVerdict:
        verdict = gate(resource, agent, version_id, stage, ids)
        if _decides_release(resource, agent, stage):
            held = revision if revision is not None and revision.version_id == version_id \
                else None
            problem = _record_verdict(client, project, resource, version_id, verdict, warn,
                                      held)
            if problem is not None:
                return replace(verdict, record_error=problem)
        return verdict

    return gated


def _silent(_line: str) -> None:
    return None


def _decides_release(resource: ResourcePlan, agent: DesiredAgent, stage: str) -> bool:
    """The ``released`` stage decides, or the ``draft`` stage of an agent tested on its draft
    only (the same revision is released next)."""
    if resource.kind != "conversational_agent" or not agent.smoke:
        return False
    return stage == "released" or "released" not in resource.smoke


def _record_verdict(client: OperatorClient, project: str, resource: ResourcePlan,
                    version_id: str, verdict: SmokeVerdict, warn: Progress,
                    revision: RemoteRevision | None) -> str | None:
    """Record the verdict (about ``revision``, when the caller holds it); what went wrong
    (also said through ``warn``), or None."""
    from operator_iac.smoke.evidence import record_smoke_result

    marker = parse_marker(resource.desired.description) if resource.desired else None
    try:
        record_smoke_result(client, project=project, key=resource.key, version_id=version_id,
                            content_hash=marker.content_hash if marker else None,
                            passed=verdict.passed, summary=verdict.summary,
                            commit=marker.commit if marker else None, stage=verdict.stage,
                            previous=resource.rollback_to,
                            description=revision.description if revision else None,
                            config=revision.config if revision else None)
    except SmokeRecordError as exc:
        problem = (f"the smoke result of {version_id} could not be recorded on the platform "
                   f"({exc}); promote from this environment refuses {resource.key} until its "
                   "next release")
        warn(f"{resource.key}: {problem}")
        return problem
    except OperatorIacError as exc:
        problem = (f"the smoke result of {version_id} could not be recorded on the platform "
                   f"({exc}); promote from this environment will refuse {resource.key} until "
                   f"a passing run is recorded: operator-iac smoke {resource.key}")
        warn(f"{resource.key}: {problem}")
        return problem
    return None
