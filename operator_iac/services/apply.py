"""``apply`` as a service: plan (or read a saved plan), refuse what must not be written, ask,
then carry the plan out with the smoke gate.

The rules that protect a platform are checked here, before any write, for the CLI and the
Python API alike:

- an environment with ``promote_from`` receives changes only through ``promote``;
- a saved plan is applied exactly as it was made (no selection flags), for the project,
  environment and declarations it was made from (``services.plan.load_saved_plan``), and
  only while deriving it again gives the same plan: also when it changes nothing, since an
  empty plan promises that nothing changed (``prewrite_breaches``);
- ``preflight``: foreign drafts need ``--overwrite-draft``, adoptions ``--adopt``, deletions
  in a protected environment ``--allow-delete``, and no declaration may have moved since the
  plan.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from operator_iac.apply.report import ApplyOptions, ApplyReport
from operator_iac.defaults import PARALLELISM
from operator_iac.errors import (
    ConflictError,
    ForeignDraftError,
    NotFoundError,
    OperatorIacError,
    StalePlanError,
    UsageError,
)
from operator_iac.plan.model import PlanOptions
from operator_iac.services.feedback import QUIET, Confirm, Feedback, Say
from operator_iac.services.plan import (
    PlannedRun,
    load_saved_plan,
    make_plan,
    saved_plan_breaches,
)

if TYPE_CHECKING:
    from operator_iac.api.client import OperatorClient
    from operator_iac.plan.model import Plan, ResourcePlan
    from operator_iac.services.target import Target
    from operator_iac.smoke.gate import SmokeGate
    from operator_iac.spec.desired import DesiredAgent


@dataclass(frozen=True)
class ApplyRequest:
    """What ``operator-iac apply`` was asked: a saved plan or the selection to plan with, and
    how to carry it out."""

    plan_file: Path | None = None
    plan_options: PlanOptions = field(default_factory=PlanOptions)
    options: ApplyOptions = field(default_factory=ApplyOptions)
    keep_conversations: bool = False


@dataclass(frozen=True)
class ApplyRun:
    """The plan that was applied and what happened (``report`` is None when there was
    nothing to change and, for a saved plan, nothing had moved since it was made)."""

    planned: PlannedRun
    report: ApplyReport | None


def check_route(target: Target | None, *, via_promotion: bool = False) -> None:
    """An environment with ``promote_from`` only receives promotions."""
    if target is None or via_promotion:
        return
    environment = target.environment
    if environment is not None and environment.promote_from:
        raise UsageError(
            f"environment {target.env_name!r} only receives promotions: run "
            f"operator-iac promote --from {environment.promote_from} --to {target.env_name}")


def check_saved_plan_request(request: ApplyRequest) -> None:
    """A saved plan is applied exactly as it was made: selection belongs to ``plan``."""
    if request.plan_file is not None and request.plan_options.selects:
        raise UsageError("a saved plan is applied exactly as it was made: give --target, "
                         "--exclude, --prune, --adopt and --allow-delete to `plan`")


def apply_declarations(target: Target, client: OperatorClient, request: ApplyRequest, *,
                       feedback: Feedback = QUIET, show_plan: Callable[[Plan], None] | None = None,
                       confirm: Confirm | None = None) -> ApplyRun:
    """The whole ``apply``: plan (or load ``request.plan_file``), show it, ask ``confirm``
    (None: already confirmed), smoke-gate and carry it out."""
    check_route(target)
    check_saved_plan_request(request)
    options = request.options
    planned = _planned(target, client, request, feedback)
    if planned.plan.options.overwrite_draft and not options.overwrite_draft:
        options = replace(options, overwrite_draft=True)
    if show_plan is not None:
        show_plan(planned.plan)
    if not planned.plan.has_changes:
        return ApplyRun(planned, recheck_unchanged(planned, client, options.parallelism))
    if confirm is not None:
        confirm("Apply these changes?")
    gate = None
    if options.smoke:
        gate = gate_for(target, client, planned.desired, parallelism=options.parallelism,
                        keep_conversations=request.keep_conversations, feedback=feedback)
    report = apply(planned, client, options=options, smoke_gate=gate, progress=feedback.info)
    return ApplyRun(planned, report)


def recheck_unchanged(planned: PlannedRun, client: OperatorClient,
                      parallelism: int = PARALLELISM) -> ApplyReport | None:
    """A saved plan with no changes still promises that nothing moved: the refusal when
    that no longer holds, else None (nothing to do)."""
    if planned.saved_from is None:
        return None
    breaches = prewrite_breaches(planned, client, parallelism=parallelism)
    return refusal(planned.plan, breaches) if breaches else None


def _planned(target: Target, client: OperatorClient, request: ApplyRequest,
             feedback: Feedback) -> PlannedRun:
    smoke = request.options.smoke
    if request.plan_file is not None:
        return load_saved_plan(request.plan_file, target, smoke=smoke)
    return make_plan(target, client, options=request.plan_options,
                     parallelism=request.options.parallelism, smoke=smoke, feedback=feedback)


def gate_for(target: Target, client: OperatorClient, desired: Mapping[str, DesiredAgent], *,
             parallelism: int = PARALLELISM, keep_conversations: bool = False,
             feedback: Feedback = QUIET) -> SmokeGate:
    """The smoke gate for this target: tests run on the revision under test, and the
    verdicts that decide about a release are recorded on the platform for ``promote``."""
    from operator_iac.services.smoke import conversation_parallelism
    from operator_iac.smoke.gate import smoke_gate

    return smoke_gate(target.project.name, client, desired,
                      parallelism=conversation_parallelism(desired, parallelism),
                      keep_conversations=keep_conversations, progress=feedback.info,
                      warn=feedback.warn, board=feedback.board)


def preflight(plan: Plan, desired: Mapping[str, DesiredAgent], options: ApplyOptions,
              client: OperatorClient | None = None) -> None:
    """Refuse before any write: blocked resources, and declarations that moved since the plan.
    ``client``: to say more about a draft the plan could not tell from an archived revision
    (``_maybe_archived``)."""
    from operator_iac.plan.writes import check_declarations

    for resource in plan.blocked_resources():
        if resource.blocked == "foreign_draft" and not options.overwrite_draft:
            raise ForeignDraftError(
                f"agent {resource.key!r} ({resource.agent_id}) has an unreleased draft that "
                "operator-iac did not write; review it in the dashboard, or pass "
                "--overwrite-draft to replace it" + _maybe_archived(client, resource))
        if resource.blocked == "needs_adopt":
            raise UsageError(
                f"agent {resource.key!r}: an agent named {resource.name!r} already exists "
                f"({resource.agent_id}) and is not managed by this project; plan and apply "
                "with --adopt to take it over")
        if resource.blocked == "needs_allow_delete":
            raise UsageError(
                f"agent {resource.key!r} would be deleted in a protected environment; pass "
                "--allow-delete to confirm")
    for resource in plan.ordered_resources():
        if resource.writes:
            agent = desired.get(resource.key)
            if agent is None:
                raise ConflictError(f"agent {resource.key!r} is in the plan but no longer "
                                    "declared; make a new plan")
            check_declarations(resource, agent)


def _maybe_archived(client: OperatorClient | None, resource: ResourcePlan) -> str:
    """What to add to a refused foreign draft when it may be no draft at all. A platform that
    reports only ``is_released`` shows an archived revision newer than the released one (as
    after a rollback) as not released, like a draft, and nothing it answers tells the two
    apart. Writing to find out could overwrite a person's draft being edited that moment, so
    the run refuses all the same, and says so."""
    from operator_iac.api.models import version_number
    from operator_iac.state.fetch import agents_resource

    remote = resource.remote
    if client is None or remote is None or not remote.draft_version_id or \
            not remote.released_version_id:
        return ""
    draft, released = (version_number(remote.draft_version_id),
                       version_number(remote.released_version_id))
    if draft is None or released is None or draft < released:
        return ""
    try:
        told = agents_resource(client, resource.kind).get(remote.draft_version_id)
    except OperatorIacError:
        return ""
    if told.version_status is not None:
        return ""
    return (f" ({remote.draft_version_id} may also be an archived revision, as after a "
            "rollback: this platform reports only whether a revision is released, so a "
            "revision newer than the released one looks like a draft; if it is archived, "
            "--overwrite-draft discards nothing and starts a new draft)")


def apply(planned: PlannedRun, client: OperatorClient, *, options: ApplyOptions | None = None,
          smoke_gate: SmokeGate | None = None, progress: Say | None = None,
          via_promotion: bool = False) -> ApplyReport:
    """Check the route and the plan (``preflight``), check that the platform still holds what
    the plan was made from (``prewrite_breaches``), then carry it out
    (``operator_iac.apply.executor``). ``via_promotion`` is for ``promote`` only, which has
    checked the source environment."""
    from operator_iac.apply.executor import execute_plan

    check_route(planned.target, via_promotion=via_promotion)
    options = options or ApplyOptions()
    preflight(planned.plan, planned.desired, options, client)
    breaches = prewrite_breaches(planned, client, parallelism=options.parallelism)
    if breaches:
        return refusal(planned.plan, breaches)
    from operator_iac.smoke.announce import ReleaseRecorder

    records = ReleaseRecorder(client, planned.plan.project, warn=progress or _silent)
    return execute_plan(planned.plan, planned.desired, client, options=options,
                        smoke_gate=smoke_gate, progress=progress, release_records=records)


def _silent(_line: str) -> None:
    return None


def prewrite_breaches(planned: PlannedRun, client: OperatorClient, *,
                      parallelism: int = PARALLELISM) -> dict[str, str]:
    """Before the first write, why the plan no longer holds, by key (empty: it holds).

    A saved plan is derived again from the declarations and the platform and must come out
    the same (``services.plan.saved_plan_breaches``), agents it leaves alone included. A plan
    made in this run is re-checked on every agent it changes: each must still show the
    revisions the plan read. The re-check right before each write stays (the executor's).
    """
    if planned.saved_from is not None:
        return saved_plan_breaches(planned, client, parallelism=parallelism)
    from operator_iac.api.pool import WorkPool
    from operator_iac.plan.writes import remote_moved
    from operator_iac.state.fetch import fetch_agent

    affected = [r for r in planned.plan.resources if r.action != "no-op" and r.remote]

    def moved(resource: ResourcePlan) -> str | None:
        assert resource.remote is not None
        try:
            current = fetch_agent(client, resource.kind, resource.remote.agent_id)
        except NotFoundError:
            current = None
        return remote_moved(resource.remote, current)

    with WorkPool(client, parallelism=parallelism) as pool:
        reasons = pool.map(moved, affected)
    return {r.key: reason for r, reason in zip(affected, reasons, strict=True) if reason}


def refusal(plan: Plan, breaches: Mapping[str, str]) -> ApplyReport:
    """The report of an apply refused before its first write (exit 5).

    A breach about an agent the plan does not list (one the platform or the declarations
    now add), or about the whole plan when no agent in it has work, is shown on every agent
    of the plan, so that a refusal never reads as success.
    """
    from operator_iac.plan.contract import PLAN_LEVEL

    keys = {r.key for r in plan.resources}
    reasons = {key: reason for key, reason in breaches.items() if key in keys}
    general = "; ".join([*([breaches[PLAN_LEVEL]] if breaches.get(PLAN_LEVEL) else []),
                         *(f"agent {key!r}: {reason}" for key, reason in breaches.items()
                           if key and key not in keys)])
    if general and plan.has_changes:
        reasons[PLAN_LEVEL] = general
    elif general:
        reasons = {r.key: reasons.get(r.key, general) for r in plan.resources}
    report = ApplyReport.refused(plan, reasons)
    if report.exit_code() != ConflictError.exit_code:  # a plan without any agent
        raise StalePlanError(f"{general or '; '.join(breaches.values())}; nothing was "
                             "written, make a new plan")
    return report
