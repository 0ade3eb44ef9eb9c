"""``apply`` as a service: plan (or read a saved plan), refuse what must not be written, ask,
then carry the plan out with the smoke gate.

The rules that protect a platform are checked here, before any write, for the CLI and the
Python API alike:

- an environment with ``promote_from`` receives changes only through ``promote``;
- a saved plan is applied exactly as it was made (no selection flags), for the project,
  environment and declarations it was made from (``services.plan.load_saved_plan``), and
  only while deriving it again gives the same plan: also when it changes nothing, since an
  empty plan promises that nothing changed (``prewrite_breaches``);
- ``preflight``: foreign drafts need ``--overwrite-draft`` (one that may be an archived
  revision is told from a draft first), adoptions ``--adopt``, deletions in a protected
  environment ``--allow-delete``, and no declaration may have moved since the plan.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from operator_iac import defaults
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
    from operator_iac.api.models import Agent
    from operator_iac.api.resources import AgentsResource
    from operator_iac.plan.model import Plan, RemoteState, ResourcePlan
    from operator_iac.services.read_ahead import ReadAhead
    from operator_iac.services.target import Target
    from operator_iac.smoke.gate import SmokeGate
    from operator_iac.spec.desired import AgentKind, DesiredAgent

_log = logging.getLogger(__name__)


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
                         "--exclude, --prune, --adopt, --allow-delete, --record-environment "
                         "and --discard-drafts to `plan`")


def apply_declarations(target: Target, client: OperatorClient, request: ApplyRequest, *,
                       feedback: Feedback = QUIET, show_plan: Callable[[Plan], None] | None = None,
                       confirm: Confirm | None = None,
                       reading: ReadAhead | None = None) -> ApplyRun:
    """The whole ``apply``: plan (or load ``request.plan_file``), show it, ask ``confirm``
    (None: already confirmed), smoke-gate and carry it out. ``reading``: the plan's reads
    begun before the declarations loaded (``services.read_ahead``)."""
    check_route(target)
    check_saved_plan_request(request)
    options = request.options
    planned = _planned(target, client, request, feedback, reading)
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
             feedback: Feedback, reading: ReadAhead | None = None) -> PlannedRun:
    smoke = request.options.smoke
    if request.plan_file is not None:
        if reading is not None:
            reading.abandon()
        return load_saved_plan(request.plan_file, target, smoke=smoke)
    return make_plan(target, client, options=request.plan_options,
                     parallelism=request.options.parallelism, smoke=smoke, feedback=feedback,
                     reading=reading)


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
              client: OperatorClient | None = None, say: Say | None = None) -> Plan:
    """Refuse before any write: blocked resources, and declarations that moved since the plan.
    Returns the plan to carry out: ``plan`` itself, or, with ``client``, ``plan`` with the
    foreign drafts found to be archived revisions no longer blocking
    (``_ensure_drafts_are_drafts``; ``say`` tells the user of each)."""
    from operator_iac.plan.writes import check_declarations

    plan, untold = _ensure_drafts_are_drafts(plan, options, client, say or _silent)
    for resource in plan.blocked_resources():
        if resource.blocked == "foreign_draft" and not options.overwrite_draft:
            raise ForeignDraftError(
                f"agent {resource.key!r} ({resource.agent_id}) has an unreleased draft that "
                "operator-iac did not write; review it in the dashboard, or pass "
                "--overwrite-draft to replace it" + untold.get(resource.key, ""))
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
    return plan


def _ensure_drafts_are_drafts(plan: Plan, options: ApplyOptions, client: OperatorClient | None,
                              say: Say) -> tuple[Plan, dict[str, str]]:
    """Tell each blocking foreign draft that may be an archived revision from a draft.

    A platform that reports only ``is_released`` shows an archived revision newer than the
    released one (as after a rollback, in the dashboard or by ``operator-iac rollback``) as
    not released, like a draft, and nothing it answers to a read tells the two apart. Left
    at that, every apply of that agent would refuse a draft that does not exist. So the run
    asks the platform with a write that changes nothing in either case: a part of the
    revision's own content, just read, written back to that revision (``_draft_or_archived``,
    ``_unchanging_write``).
    An archived revision is immutable and refuses it (409, or 400/422 on some platforms:
    content the platform returned itself is no body a draft rejects); a draft takes it and
    stays as it was. Found archived, the agent is written as if it had no draft (a new draft
    is started); found a draft, it blocks as before; not told, the refusal says that it may
    be archived (returned by key: what the refusal adds). Where a write cannot be addressed
    to a revision at all, the same write goes to the bare id, which writes the draft or
    starts one and names it: a draft it started is then the agent's state the run goes on
    from (the plan carried out records it).
    """
    untold: dict[str, str] = {}
    if client is None or options.overwrite_draft:
        return plan, untold
    archived: dict[str, RemoteState | None] = {}
    for resource in plan.blocked_resources():
        if resource.blocked != "foreign_draft":
            continue
        found = _draft_or_archived(client, resource)
        revision = resource.remote.draft_version_id if resource.remote else None
        if isinstance(found, Started):
            state = _showing_draft(client, resource, found.version_id)
            if state is not None:
                archived[resource.key] = state
                say(f"{resource.key}: {revision} is an archived revision, not a draft (a write "
                    f"of its own content at the agent started the draft {found.version_id}, "
                    "which this run writes)")
                continue
            found = "untold"
        if found == "archived":
            archived[resource.key] = resource.remote
            say(f"{resource.key}: {revision} is an archived revision, not a draft (it refused "
                "a write of its own content); a new draft is started")
        elif found == "untold":
            untold[resource.key] = (
                f" ({revision} may also be an archived revision, as "
                "after a rollback: this platform reports only whether a revision is "
                "released, so a revision newer than the released one looks like a draft; if "
                "it is archived, --overwrite-draft discards nothing and starts a new draft)")
    if not archived:
        return plan, untold
    return plan.model_copy(update={"resources": tuple(
        r.model_copy(update={"blocked": None, "foreign_draft": False,
                             "foreign_draft_review": None, "remote": archived[r.key]})
        if r.key in archived else r for r in plan.resources)}), untold


def _showing_draft(client: OperatorClient, resource: ResourcePlan,
                   started: str) -> RemoteState | None:
    """What the plan records of the agent once a read shows ``started`` as its draft (reads
    may trail the write that started it, up to ``VISIBILITY_TIMEOUT_S``): the state this run
    goes on from, so that the draft it started is not taken for a move since the plan. None
    if no read showed it."""
    from operator_iac.api.polling import bounded_pauses
    from operator_iac.plan.writes import remote_state
    from operator_iac.state.fetch import fetch_agent

    assert resource.remote is not None
    pauses = bounded_pauses(defaults.VISIBILITY_TIMEOUT_S)
    while True:
        current = fetch_agent(client, resource.kind, resource.remote.agent_id)
        if current.draft is not None and current.draft.version_id == started:
            return remote_state(current)
        pause = next(pauses, None)
        if pause is None:
            _log.warning("after %.0f s the agent %s still does not show the draft %s its "
                         "check started", defaults.VISIBILITY_TIMEOUT_S,
                         resource.remote.agent_id, started)
            return None
        _log.info("the agent %s does not show the draft %s its check started yet: reading it "
                  "again in %.2f s", resource.remote.agent_id, started, pause)
        client.pause(pause)


@dataclass(frozen=True)
class Started:
    """The answer of ``_draft_or_archived`` where its question started a draft: the revision
    asked about is archived, and ``version_id`` is the new draft."""

    version_id: str


def _draft_or_archived(client: OperatorClient, resource: ResourcePlan) -> str | Started:
    """``draft``, ``archived`` (or ``Started``, where the question had to start a draft to be
    answered) or ``untold`` for a blocking foreign draft; ``draft`` when the
    platform reports statuses (it said so) or the revision is not newer than the released
    one (a draft is always the newest revision)."""
    from operator_iac.api.models import version_number
    from operator_iac.api.resources import ADDRESSED_ONLY_REFUSALS, REVISION_REFUSALS
    from operator_iac.state.fetch import agents_resource

    remote = resource.remote
    if remote is None or not remote.draft_version_id or not remote.released_version_id:
        return "draft"
    draft, released = (version_number(remote.draft_version_id),
                       version_number(remote.released_version_id))
    if draft is None or released is None or draft < released:
        return "draft"
    agents = agents_resource(client, resource.kind)
    try:
        told = agents.get(remote.draft_version_id)
    except OperatorIacError:
        return "untold"
    if told.status_reported:
        return "draft"
    unchanging = _unchanging_write(told, resource.kind)
    try:
        written = agents.update(remote.draft_version_id, **unchanging)
    except ADDRESSED_ONLY_REFUSALS:
        return _draft_or_archived_at_the_bare_id(agents, remote.agent_id,
                                                 remote.draft_version_id, unchanging)
    except REVISION_REFUSALS as exc:
        # What the platform itself returned for this revision is content a draft takes: a
        # refusal (409, or the 400/422 some platforms give a write to an immutable
        # revision) says the revision is immutable.
        _log.info("%s refused a write of its own content (HTTP %s): an archived revision, "
                  "not a draft; %s starts a new draft", remote.draft_version_id, exc.status,
                  resource.key)
        return "archived"
    except OperatorIacError as exc:
        _log.info("%s: a write of its own content failed (%s): draft or archived untold",
                  remote.draft_version_id, exc)
        return "untold"
    if written.version_id not in (None, remote.draft_version_id):
        _log.info("%s: a write of its own content made %s instead: draft or archived untold",
                  remote.draft_version_id, written.version_id)
        return "untold"
    _log.info("%s took a write of its own content: a draft", remote.draft_version_id)
    return "draft"


def _draft_or_archived_at_the_bare_id(agents: AgentsResource, agent_id: str, maybe: str,
                                      unchanging: dict[str, Any]) -> str | Started:
    """The same question where writes addressed to a revision are refused for their address
    (a platform that takes writes at the bare id only): the same write at the bare id. A
    ``PUT`` there writes into the draft, or starts one, and names it (documented): ``maybe``
    named back is a draft, which took what it held already; another revision named is a
    draft the write started, so ``maybe`` is archived, and that new draft (a copy, started
    by this run) is where this run's write goes (``Started``)."""
    from operator_iac.errors import OperatorIacError

    try:
        written = agents.update(agent_id, **unchanging)
    except OperatorIacError as exc:
        _log.info("%s: a write of its own content at the bare id failed (%s): draft or "
                  "archived untold", maybe, exc)
        return "untold"
    if written.version_id is None:
        return "untold"
    if written.version_id == maybe:
        _log.info("%s took a write of its own content at the bare id: a draft", maybe)
        return "draft"
    _log.info("a write of %s's own content at the bare id started the draft %s: %s is an "
              "archived revision", maybe, written.version_id, maybe)
    return Started(written.version_id)


def _unchanging_write(revision: Agent, kind: AgentKind) -> dict[str, Any]:
    """The write of ``revision``'s own content that asks whether it is a draft: as little of
    it as a write may carry, and no text where the kind has a field without any. A platform
    may store text in a form that is not a fixed point (``&`` as ``&amp;``, which it stores
    as ``&amp;amp;`` when written again), so writing back a person's draft as read would
    change it; a conversational agent's post-processing ids are no text any platform
    rewrites. A procedural agent has no such field: its name, the shortest text it has."""
    if kind == "conversational_agent":
        return {"postprocess_agents": list(revision.postprocess_agents or ())}
    return {"name": revision.name}


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
    # The plan carried out: archived revisions taken for drafts no longer block it, and a
    # draft the check of one started is the agent's state from then on. The check against
    # the platform is of that plan (a saved plan: as saved, derived again).
    plan = preflight(planned.plan, planned.desired, options, client, progress)
    checked = planned if planned.saved_from is not None else replace(planned, plan=plan)
    breaches = prewrite_breaches(checked, client, parallelism=options.parallelism)
    if breaches:
        return refusal(planned.plan, breaches)
    from operator_iac.smoke.announce import ReleaseRecorder

    records = ReleaseRecorder(client, plan.project, warn=progress or _silent)
    return execute_plan(plan, planned.desired, client, options=options,
                        smoke_gate=smoke_gate, progress=progress, release_records=records,
                        journal=planned.target.writes_journal if planned.target else None)


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
    from operator_iac.apply.same_change import draft_to_write_over, holding_this_change
    from operator_iac.plan.marker import Owner
    from operator_iac.plan.writes import noted_forms, remote_moved, seen_by_plan
    from operator_iac.state.fetch import fetch_agent

    affected = [r for r in planned.plan.resources if r.action != "no-op" and r.remote]
    ids, forms = planned.plan.remote_ids(), noted_forms(planned.plan)
    owner = Owner(planned.plan.project, planned.plan.environment)
    journal = planned.target.writes_journal if planned.target is not None else None

    def moved(resource: ResourcePlan) -> str | None:
        assert resource.remote is not None
        agent_id = resource.remote.agent_id
        seen_here = journal.seen_of(resource.kind, agent_id) if journal is not None else None
        try:
            current = fetch_agent(client, resource.kind, agent_id,
                                  floor=seen_by_plan(resource.remote, seen_here))
        except NotFoundError:
            if resource.action == "delete":
                return None  # gone already, as this run would leave it (its step says so)
            current = None
        reason = remote_moved(resource.remote, current)
        agent = planned.desired.get(resource.key)
        if not reason or agent is None:  # a deletion writes no declared change
            return reason
        if holding_this_change(client, resource, agent, ids, forms, current):
            # Another apply of this very change got there first and finishes it; this run's
            # step for the agent says so (``converged``) and writes nothing.
            return None
        if draft_to_write_over(resource, agent, ids, forms, owner, current) is not None:
            return None  # a draft the plan would write over: the step writes over it
        return reason

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
