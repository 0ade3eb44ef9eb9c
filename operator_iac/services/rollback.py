"""``rollback`` as a service: release an earlier revision of one agent again, then smoke-test it.

Which revision, and what changes, is decided by ``operator_iac.plan.rollback`` (pure); this
module reads the platform, asks, releases, and runs the agent's smoke tests on the released
revision. If they fail, the rollback stays: nothing is released again automatically.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from operator_iac.api.models import agent_id_of, version_number
from operator_iac.apply.visibility import Write
from operator_iac.defaults import PARALLELISM
from operator_iac.errors import (
    OperationError,
    OperatorIacError,
    SmokeIncompleteError,
    SmokeTestFailedError,
    UsageError,
)
from operator_iac.plan.rollback import RollbackPlan, choose_revision, plan_rollback
from operator_iac.services.feedback import QUIET, Confirm, Feedback
from operator_iac.services.history import load_agent
from operator_iac.state.fetch import agents_resource, read_revision, read_written, revision_of
from operator_iac.state.snapshot import held_content

if TYPE_CHECKING:
    from operator_iac.api.client import OperatorClient
    from operator_iac.services.target import Target
    from operator_iac.smoke.gate import SmokeGate, SmokeVerdict
    from operator_iac.spec.desired import DesiredAgent
    from operator_iac.state.journal import WritesJournal
    from operator_iac.state.snapshot import RemoteRevision

PLACEHOLDER = "(not needed for a rollback)"


# ---- I/O -------------------------------------------------------------------------------------


def execute_rollback(client: OperatorClient, plan: RollbackPlan,
                     journal: WritesJournal | None = None) -> str:
    """Release the plan's target revision; returns the revision released. What this machine
    saw of the agent is replaced by what the rollback made (``journal``: ``state.floor``):
    the target released here now, and nothing above it seen settled, since where statuses
    are told only by ``is_released`` the revision put aside reads as the draft from now on."""
    from operator_iac.state.floor import Floor

    written = agents_resource(client, plan.kind).release(plan.target)
    target = version_number(plan.target)
    if journal is not None and target is not None:
        agent_id = agent_id_of(plan.target)
        kept = journal.seen_of(plan.kind, agent_id)  # one file: rollback --all runs per agent
        newest = max(target, version_number(plan.newest or "") or 0,
                     kept.newest if kept else -1)
        over = max(target, version_number(plan.current or "") or 0, kept.settled if kept else -1)
        journal.reset_seen(plan.kind, agent_id,
                           Floor(newest, target, target, over, time.time()))
    released = written.version_id or plan.target
    if "@" in released and released != plan.target:
        raise OperationError(f"releasing {plan.target} answered with {released}; check the "
                             f"agent with: operator-iac history {plan.key}")
    return plan.target


def start_draft_after_rollback(client: OperatorClient, plan: RollbackPlan,
                               feedback: Feedback) -> str | None:
    """On a platform that reports only ``is_released``, the draft a rollback leaves: the
    revision it put aside is newer than the one it released, and such a platform shows it
    as not released, like a draft. Nothing a later read gets tells it from a draft
    operator-iac wrote and never released (plan would warn of a change never released, and
    promote refuse it), so the rollback says it where every reader looks: it starts a draft
    holding the released revision's content as read, under its marker, which makes the
    newest revision a draft that holds what is released.

    Only where that content is written back as it is: a platform that stored what was
    written to this agent in a form of its own (a marker of its revisions records it) may
    change it again when it is written back (``&amp;`` becoming ``&amp;amp;``), and a draft
    holding another form of it would read as a person's and block apply. And only where the
    revision holds what its marker says operator-iac wrote: a copy of a revision edited in
    the dashboard since, under that marker, would read as a person's draft too. The draft is
    read back to be sure. Returns its id; None where nothing is needed (statuses
    reported, no newer revision, a draft already there, which is never written over), where
    it is not safe, or where the write failed (warned: the rollback itself stands)."""
    if plan.newest is None or plan.newest != plan.current or plan.newest == plan.target:
        return None
    if not plan.target_as_written or plan.forms_recorded:
        return None
    agents = agents_resource(client, plan.kind)
    put_aside = plan.newest
    try:
        target = agents.get(plan.target)
        if target.status_reported:
            return None
        # A revision newer than the one put aside is a draft someone started meanwhile (the
        # confirmation may have taken minutes): it is the newest, nothing needs saying, and
        # a write to the agent would go into it.
        newest = max((v.number or 0 for v in agents.list_versions(plan.agent_id)), default=0)
        if newest > (version_number(put_aside) or 0):
            return None
        written = agents.update(agent_id_of(plan.target), **target.update_body())
        started = written.version_id or agent_id_of(plan.target)
        # A read by id may trail the write that started the draft (``read_written``).
        held = read_written(client, plan.kind, started, "draft")
    except OperatorIacError as exc:
        feedback.warn(f"{plan.key}: {put_aside} may read as an unreleased draft on this "
                      "platform, which reports only whether a revision is released; starting "
                      f"a draft that holds {plan.target} failed ({exc})")
        return None
    if held_content(held) != held_content(revision_of(target, plan.target, "draft")):
        feedback.warn(f"{plan.key}: the draft {started} started to hold {plan.target} holds "
                      "another form of it (the platform rewrote what it was given): plan "
                      "shows it as a draft to review")
    else:
        feedback.info(f"{plan.key}: started draft {started} holding {plan.target}: this "
                      "platform reports only whether a revision is released, so "
                      f"{put_aside} would read as an unreleased draft")
    return started


def wait_until_shown(client: OperatorClient, writes: list[Write], feedback: Feedback) -> None:
    """Return once the platform's lists show ``writes`` (``apply.visibility``), so the next
    command sees the rollback; past the bound, say what is not shown yet."""
    from operator_iac.apply.visibility import await_visible

    for late in await_visible(client, writes):
        feedback.warn(f"the platform's lists do not show this yet: {late}; a command started "
                      "right now may not see it")


def smoke_after_rollback(gate: SmokeGate, plan: RollbackPlan, declared: DesiredAgent | None,
                         ids: Mapping[str, str],
                         revision: RemoteRevision | None = None) -> SmokeVerdict | None:
    """Run the declared smoke tests on the revision the rollback released (``revision``,
    when read already; None when the agent has none). They are the tests of the current
    declarations: an older revision may fail them for good reason, and nothing is released
    again automatically."""
    if declared is None or declared.kind != "conversational_agent" or not declared.smoke:
        return None
    from operator_iac.plan.model import ResourcePlan

    resource = ResourcePlan(key=plan.key, kind=declared.kind, action="release",
                            name=declared.name, smoke=("released",))
    return gate(resource, declared, plan.target, "released", dict(ids), revision=revision)


# ---- the whole command -----------------------------------------------------------------------


@dataclass(frozen=True)
class RollbackRequest:
    """What ``operator-iac rollback`` was asked: the agent, which revision (``to`` or
    ``steps`` back, default one), and whether to smoke-test it afterwards."""

    key: str
    to: str | None = None
    steps: int | None = None
    smoke: bool = True
    keep_conversations: bool = False
    parallelism: int = PARALLELISM


@dataclass(frozen=True)
class RollbackRun:
    """What the rollback did: ``released`` is None when the chosen revision already was."""

    plan: RollbackPlan
    released: str | None
    verdict: SmokeVerdict | None = None

    def exit_code(self) -> int:
        """0, or 4 when the smoke tests failed on the released revision (1 when the platform
        failed during them)."""
        if self.verdict is None or self.verdict.passed:
            return 0
        if self.verdict.platform_error:
            return 1
        if self.verdict.incomplete:
            return SmokeIncompleteError.exit_code
        return SmokeTestFailedError.exit_code


def rollback_agent(target: Target, client: OperatorClient, request: RollbackRequest, *,
                   feedback: Feedback = QUIET,
                   show_plan: Callable[[RollbackPlan], None] | None = None,
                   confirm: Confirm | None = None) -> RollbackRun:
    """Choose the revision, show the change, ask ``confirm`` (None: already confirmed),
    release it, then run the agent's smoke tests on it."""
    if request.to is not None and request.steps is not None:
        raise UsageError("--to and --steps exclude each other")
    project = target.project.name
    with feedback.activity() as say:
        say(f"Reading agents from {target.api_url} ...")
        loaded = load_agent(client, target.owner, request.key,
                            parallelism=request.parallelism)
    version = choose_revision(loaded.agent, request.key, to=request.to,
                              steps=request.steps or 1)
    desired = target.desired(SecretsNotNeeded(os.environ))
    revision = read_revision(client, loaded.agent.kind, version.version_id, version.status)
    plan = plan_rollback(loaded, revision, desired.get(request.key), project=project)
    if show_plan is not None:
        show_plan(plan)
    if plan.already_released:
        return RollbackRun(plan, None)
    if confirm is not None:
        confirm(f"Release {plan.target} again?")
    released = execute_rollback(client, plan, target.writes_journal)
    feedback.info(f"{request.key}: released {released} again")
    writes = [Write("released", plan.kind, agent_id_of(released), released)]
    started = start_draft_after_rollback(client, plan, feedback)
    if started is not None:
        writes.append(Write("drafted", plan.kind, agent_id_of(started), started))
    wait_until_shown(client, writes, feedback)
    verdict = None
    if request.smoke:
        from operator_iac.services.apply import gate_for

        gate = gate_for(target, client, desired, parallelism=request.parallelism,
                        keep_conversations=request.keep_conversations, feedback=feedback)
        verdict = smoke_after_rollback(gate, plan, desired.get(request.key), loaded.ids,
                                       revision)
    return RollbackRun(plan, released, verdict)


class SecretsNotNeeded(Mapping[str, str]):
    """The process environment, where an unset variable reads as a placeholder: a rollback
    needs the declarations for their smoke tests and for where secrets sit (to hide them in
    the diff), never for secret values, and must not fail for want of one."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def __getitem__(self, name: str) -> str:
        return self._environ.get(name, PLACEHOLDER)

    def __iter__(self) -> Iterator[str]:
        return iter(self._environ)

    def __len__(self) -> int:
        return len(self._environ)
