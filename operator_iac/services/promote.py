"""``promote`` as a service: carry into one environment exactly what was released and
smoke-tested in another.

The destination is planned from the declarations as usual, with its own vars and overrides.
Before anything is written, every agent the plan changes is checked in the source
environment, in the source's own terms (``operator_iac.plan.promotion`` says what is checked
and why a promotion is refused); this module reads both platforms, asks, and applies the
destination plan with the usual gates.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from operator_iac.api.models import agent_id_of
from operator_iac.api.pool import WorkPool
from operator_iac.apply.report import ApplyOptions
from operator_iac.defaults import PARALLELISM
from operator_iac.errors import UsageError
from operator_iac.plan.compare import own_marker
from operator_iac.plan.marker import Owner
from operator_iac.plan.model import PlanOptions
from operator_iac.plan.promotion import (
    AgentCheck,
    PromotionCheck,
    agent_reasons,
    deletion_reasons,
    needs_smoke,
    same_agent_reasons,
    smoke_reasons,
)
from operator_iac.services.feedback import QUIET, Confirm, Feedback, Say

if TYPE_CHECKING:
    from operator_iac.api.client import OperatorClient
    from operator_iac.apply.report import ApplyReport
    from operator_iac.plan.model import Plan
    from operator_iac.services.plan import PlannedRun
    from operator_iac.services.target import Target
    from operator_iac.smoke.gate import SmokeGate
    from operator_iac.spec.desired import DesiredAgent
    from operator_iac.spec.project import Project
    from operator_iac.state.snapshot import Snapshot


@dataclass(frozen=True)
class Promotion:
    """A destination plan together with the source check that allows (or refuses) it."""

    planned: PlannedRun
    check: PromotionCheck


# ---- the route -------------------------------------------------------------------------------


def promotion_route(project: Project, source: str | None, destination: str) -> str:
    """The source environment for promoting into ``destination``: ``source`` (checked against
    the destination's ``promote_from``) or, when not given, that ``promote_from``."""
    env = project.environment(destination)
    if source is None:
        if env.promote_from is None:
            raise UsageError(f"environment {destination!r} has no promote_from; say where to "
                             "promote from with --from")
        source = env.promote_from
    project.environment(source)
    if source == destination:
        raise UsageError(f"cannot promote {destination!r} into itself")
    if env.promote_from is not None and env.promote_from != source:
        raise UsageError(f"environment {destination!r} receives promotions from "
                         f"{env.promote_from!r} only, not from {source!r}")
    return source


# ---- checking the source (I/O) ---------------------------------------------------------------


def check_promotion(plan: Plan, source: Target, source_client: OperatorClient, *,
                    environ: Mapping[str, str] | None = None,
                    parallelism: int = PARALLELISM) -> PromotionCheck:
    """Check every agent ``plan`` changes against the source environment."""
    from operator_iac.plan.builder import build_plan
    from operator_iac.plan.model import RELEASING_ACTIONS
    from operator_iac.services.plan import same_platform
    from operator_iac.services.remote import read_project_agents

    # The agents whose release the promotion changes are the ones checked in the source, and
    # so are those it deletes (never-released duplicates, ``key@id``, are only cleaned up).
    keys = [r.key for r in plan.resources if r.action in RELEASING_ACTIONS]
    deleted = [r.key for r in plan.resources if r.action == "delete" and "@" not in r.key]
    destination = plan.environment or "(no environment)"
    source_name = source.env_name or "(no environment)"
    if not keys and not deleted:
        return PromotionCheck(source_name, destination, ())
    desired = source.desired(environ)
    owner = Owner(plan.project, source.env_name)
    # Only every agent read can show that the source no longer owns a deleted key.
    snapshot = read_project_agents(source_client, owner, desired, keys=keys,
                                   everything=bool(deleted), parallelism=parallelism,
                                   cache=source.revision_cache,
                                   journal=source.writes_journal)
    source_plan = build_plan(desired, snapshot, project=plan.project,
                             environment=source.env_name, protect=source.protected)
    checks = [_check(source_plan, snapshot, key, source_name) for key in keys]
    if same_platform(plan.api_url, source_plan.api_url):
        checks = [_not_shared(check, plan, source_plan, destination) for check in checks]
    done = WorkPool(parallelism=parallelism).map(
        lambda c: _with_smoke(c, desired.get(c.key), source_client, plan.project, source_name,
                              snapshot),
        checks)
    return PromotionCheck(source_name, destination,
                          (*done, *_deletion_checks(source_plan, deleted, source_name)))


def _not_shared(check: AgentCheck, plan: Plan, source_plan: Plan,
                destination: str) -> AgentCheck:
    """The check, refused when both environments resolve its key to one agent."""
    mine, theirs = plan.resource(check.key), source_plan.resource(check.key)
    reasons = same_agent_reasons(check.key, mine.agent_id if mine else None,
                                 theirs.agent_id if theirs else None,
                                 source=source_plan.environment or "(no environment)",
                                 destination=destination)
    return replace(check, reasons=(*reasons, *check.reasons)) if reasons else check


def _deletion_checks(source_plan: Plan, keys: list[str], source: str) -> list[AgentCheck]:
    """A deletion is promoted once the source no longer has the agent: it is neither
    declared there (it is not, the declarations are the same) nor owned by the project."""
    left = {u.key: u.agent_id for u in source_plan.unpruned}
    return [AgentCheck(key, None, deletion_reasons(key, left.get(key), source=source),
                       deletion=True) for key in keys]


def _check(source_plan: Plan, snapshot: Snapshot, key: str, source: str) -> AgentCheck:
    resource = source_plan.resource(key)
    if resource is None:
        return AgentCheck(key, None, (f"{key!r} is not declared for {source}",))
    remote = snapshot.by_id(resource.agent_id) if resource.agent_id else None
    released = remote.released if remote is not None else None
    owner = Owner(source_plan.project, source_plan.environment)
    marker = own_marker(released, owner, key)
    reasons = agent_reasons(resource, remote, project=owner, source=source)
    return AgentCheck(key, released.version_id if released else None, reasons,
                      marker.content_hash if marker else None,
                      source_commit=marker.commit if marker else None)


def _with_smoke(check: AgentCheck, agent: DesiredAgent | None, client: OperatorClient,
                project: str, source: str, snapshot: Snapshot) -> AgentCheck:
    """The check with the source's smoke evidence for the released revision (whose marker,
    as the snapshot read it, names where that evidence is)."""
    if not check.ok or check.source_version_id is None or not needs_smoke(agent):
        return check
    from operator_iac.smoke.evidence import last_smoke_result

    version_id = check.source_version_id
    record = last_smoke_result(client, project=project, key=check.key, agent_id=version_id,
                               description=_description(snapshot, version_id))
    reasons = smoke_reasons(record, version_id, check.source_hash, key=check.key,
                            source=source)
    return replace(check, reasons=reasons, smoke=record)


def _description(snapshot: Snapshot, version_id: str) -> str | None:
    """The description of the released revision ``version_id`` as the snapshot read it."""
    remote = snapshot.by_id(agent_id_of(version_id))
    released = remote.released if remote is not None else None
    return released.description if released and released.version_id == version_id else None


# ---- the service -----------------------------------------------------------------------------


def plan_promotion(destination: Target, destination_client: OperatorClient, source: Target,
                   source_client: OperatorClient, *, options: PlanOptions | None = None,
                   parallelism: int = PARALLELISM, environ: Mapping[str, str] | None = None,
                   smoke: bool = True) -> Promotion:
    """Plan the destination from the declarations and check the source for it."""
    from operator_iac.services.plan import make_plan

    planned = make_plan(destination, destination_client, options=options,
                        parallelism=parallelism, environ=environ, smoke=smoke)
    return Promotion(planned, check_promotion(planned.plan, source, source_client,
                                              environ=environ, parallelism=parallelism))


def check_saved_promotion(planned: PlannedRun, source: Target, source_client: OperatorClient,
                          *, environ: Mapping[str, str] | None = None,
                          parallelism: int = PARALLELISM) -> Promotion:
    """A saved destination plan (``load_saved_plan``), checked against the source now."""
    return Promotion(planned, check_promotion(planned.plan, source, source_client,
                                              environ=environ, parallelism=parallelism))


def promote(promotion: Promotion, destination_client: OperatorClient, *,
            options: ApplyOptions | None = None, smoke_gate: SmokeGate | None = None,
            progress: Say | None = None) -> ApplyReport:
    """Apply a checked promotion; refuses (exit 5) when the check found any problem."""
    from operator_iac.services.apply import apply

    promotion.check.raise_if_refused()
    return apply(promotion.planned, destination_client, options=options,
                 smoke_gate=smoke_gate, progress=progress, via_promotion=True)


# ---- the whole command -----------------------------------------------------------------------

# An environment's target and client, by name: the CLI opens them (with ``--emulator``, each
# environment on an emulator of its own).
OpenEnvironment = Callable[[str], "tuple[Target, OperatorClient]"]


@dataclass(frozen=True)
class PromoteRequest:
    """What ``operator-iac promote`` was asked. ``check_only`` (``--out``) stops after the
    source check, leaving the plan to be saved."""

    destination: str
    source: str | None = None
    plan_file: Path | None = None
    check_only: bool = False
    plan_options: PlanOptions = field(default_factory=PlanOptions)
    options: ApplyOptions = field(default_factory=ApplyOptions)


@dataclass(frozen=True)
class PromoteRun:
    """The checked promotion, and the apply report (None when nothing changes or when only
    checking; for a saved promotion that changes nothing, the refusal when the destination
    moved since it was saved)."""

    promotion: Promotion
    report: ApplyReport | None = None

    @property
    def source(self) -> str:
        return self.promotion.check.source


def check_request(request: PromoteRequest) -> None:
    if request.check_only and request.plan_file is not None:
        raise UsageError("--out saves a new plan; it cannot be combined with PLAN_FILE")
    if request.plan_file is not None and request.plan_options.selects:
        raise UsageError("a saved plan is applied exactly as it was made: give --target, "
                         "--exclude, --adopt, --prune and --allow-delete to `promote --out`")


def promote_environment(project: Project, request: PromoteRequest, *,
                        open_destination: OpenEnvironment, open_source: OpenEnvironment,
                        feedback: Feedback = QUIET,
                        show_plan: Callable[[Plan], None] | None = None,
                        confirm: Confirm | None = None) -> PromoteRun:
    """The whole ``promote``: route, plan the destination, check the source, show, ask,
    apply with the smoke gate."""
    check_request(request)
    source = promotion_route(project, request.source, request.destination)
    promotion = _checked(request, source, open_destination, open_source, feedback)
    plan = promotion.planned.plan
    if show_plan is not None:
        show_plan(plan)
    if not plan.has_changes:
        return PromoteRun(promotion, _recheck_unchanged(promotion, open_destination, request))
    feedback.info(f"Checked in {source}:")
    feedback.info("\n".join(promotion.check.lines()))
    for warning in promotion.check.warnings(plan.commit):
        feedback.warn(warning)
    promotion.check.raise_if_refused()
    if request.check_only:
        return PromoteRun(promotion)
    if confirm is not None:
        confirm(f"Promote these changes from {source} to {request.destination}?")
    return PromoteRun(promotion, _apply(promotion, open_destination, request, feedback))


def _checked(request: PromoteRequest, source: str, open_destination: OpenEnvironment,
             open_source: OpenEnvironment, feedback: Feedback) -> Promotion:
    from operator_iac.services.plan import load_saved_plan

    target, client = open_destination(request.destination)
    source_target, source_client = open_source(source)
    parallelism, smoke = request.options.parallelism, request.options.smoke
    if request.plan_file is not None:
        planned = load_saved_plan(request.plan_file, target, smoke=smoke)
        return check_saved_promotion(planned, source_target, source_client,
                                     parallelism=parallelism)
    with feedback.activity() as say:
        say(f"Reading agents from {target.api_url} ({request.destination}) and "
            f"{source_target.api_url} ({source}) ...")
        return plan_promotion(target, client, source_target, source_client,
                              options=request.plan_options, parallelism=parallelism,
                              smoke=smoke)


def _recheck_unchanged(promotion: Promotion, open_destination: OpenEnvironment,
                       request: PromoteRequest) -> ApplyReport | None:
    """A saved promotion that changes nothing still promises that the destination did not
    move (``services.apply.recheck_unchanged``); a new one is simply done."""
    from operator_iac.services.apply import recheck_unchanged

    if promotion.planned.saved_from is None:
        return None
    client = open_destination(request.destination)[1]
    return recheck_unchanged(promotion.planned, client, request.options.parallelism)


def _apply(promotion: Promotion, open_destination: OpenEnvironment, request: PromoteRequest,
           feedback: Feedback) -> ApplyReport:
    from operator_iac.services.apply import gate_for

    target, client = open_destination(request.destination)
    options = request.options
    gate = None if not options.smoke else gate_for(
        target, client, promotion.planned.desired, parallelism=options.parallelism,
        feedback=feedback)
    return promote(promotion, client, options=options, smoke_gate=gate,
                   progress=feedback.info)
