"""``rollback --all --to-commit SHA`` as a service: every agent of the project back to a commit,
and ``history --all``, the commits that can be named.

Which revision each agent gets is decided by ``operator_iac.plan.commit_rollback`` (pure);
this module reads the platform (every agent, and the content of each candidate), shows the
whole plan, asks, releases (procedural agents first), deletes the agents created after the
commit when asked (``--delete-created``; a protected environment also needs
``--allow-delete``), and runs the smoke tests of every conversational agent it released.
One agent's failure does not stop the others; the exit code reports it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from operator_iac.api.pool import WorkPool
from operator_iac.defaults import PARALLELISM
from operator_iac.errors import OperationError, OperatorIacError, UsageError
from operator_iac.plan.commit_rollback import (
    AgentRollback,
    CommitInfo,
    CommitRollback,
    CommitRollbackRun,
    candidates,
    chosen_target,
    commit_history,
    resolve_commit,
)
from operator_iac.services.feedback import QUIET, Confirm, Feedback

if TYPE_CHECKING:
    from operator_iac.api.client import OperatorClient
    from operator_iac.services.target import Target
    from operator_iac.smoke.gate import SmokeVerdict
    from operator_iac.spec.desired import DesiredAgent
    from operator_iac.state.journal import WritesJournal
    from operator_iac.state.snapshot import RemoteAgent, RemoteRevision


@dataclass(frozen=True)
class CommitRollbackRequest:
    """What ``operator-iac rollback --all --to-commit`` was asked."""

    commit: str
    delete_created: bool = False
    allow_delete: bool = False
    smoke: bool = True
    keep_conversations: bool = False
    parallelism: int = PARALLELISM


# ---- reading -------------------------------------------------------------------------------


def owned_agents(target: Target, client: OperatorClient, desired: Mapping[str, DesiredAgent],
                 *, parallelism: int = PARALLELISM,
                 feedback: Feedback = QUIET) -> dict[str, RemoteAgent]:
    """Every agent this project owns, by key (every agent of the platform is read: agents
    no longer declared are the project's too)."""
    from operator_iac.plan.identity import claims_by_key, duplicates
    from operator_iac.services.remote import read_project_agents

    with feedback.activity() as say:
        say(f"Reading agents from {target.api_url} ...")
        snapshot = read_project_agents(client, target.owner, desired, everything=True,
                                       parallelism=parallelism, cache=target.revision_cache)
    return {key: duplicates(agents)[0]
            for key, agents in claims_by_key(snapshot.agents, target.owner).items()}


def read_commits(target: Target, client: OperatorClient, *, parallelism: int = PARALLELISM,
                 feedback: Feedback = QUIET) -> tuple[CommitInfo, ...]:
    """``history --all``: every commit revisions of this project were written from."""
    desired = _desired(target)
    owned = owned_agents(target, client, desired, parallelism=parallelism, feedback=feedback)
    return commit_history(owned, target.project.name)


def plan_commit_rollback(target: Target, client: OperatorClient, request: CommitRollbackRequest,
                         *, feedback: Feedback = QUIET) -> CommitRollback:
    """Per agent, the revision that stands for the commit (reading each candidate)."""
    desired = _desired(target)
    owned = owned_agents(target, client, desired, parallelism=request.parallelism,
                         feedback=feedback)
    commit = resolve_commit(request.commit, commit_history(owned, target.project.name))
    ids = {key: agent.id for key, agent in owned.items()}
    agents = WorkPool(parallelism=request.parallelism).map(
        lambda key: _agent(client, target.project.name, key, owned[key], commit, ids,
                           desired.get(key)), sorted(owned))
    return CommitRollback(commit, tuple(agents))


def _agent(client: OperatorClient, project: str, key: str, agent: RemoteAgent,
           commit: CommitInfo, ids: Mapping[str, str],
           declared: DesiredAgent | None) -> AgentRollback:
    from operator_iac.plan.compare import holds_own_writing
    from operator_iac.plan.history import LoadedAgent
    from operator_iac.plan.marker import parse_own_marker
    from operator_iac.plan.rollback import plan_rollback
    from operator_iac.state.fetch import read_revision

    found = candidates(key, agent, project, commit)
    if found.created_after:
        return AgentRollback(key, agent.kind, agent.id, created_after=True,
                             note=f"created after commit {commit.commit}")
    key_by_id = {agent_id: name for name, agent_id in ids.items()}

    def holds(revision: RemoteRevision) -> bool | None:
        marker = parse_own_marker(revision.description, project, key)
        return None if marker is None else holds_own_writing(revision, marker, agent.kind,
                                                             key_by_id)

    revision = chosen_target(found, lambda v: read_revision(client, agent.kind, v.version_id,
                                                            v.status), holds)
    if revision is None:
        why = "its revisions from that commit were changed outside operator-iac" \
            if found.from_commit else "it has no revision operator-iac wrote by then"
        return AgentRollback(key, agent.kind, agent.id, note=f"left alone: {why}")
    plan = plan_rollback(LoadedAgent(key, agent, dict(ids)), revision, declared, project=project)
    note = None if found.from_commit else \
        f"not changed by commit {commit.commit}: its revision of that time"
    return AgentRollback(key, agent.kind, agent.id, plan, note)


# ---- the whole command -----------------------------------------------------------------------


def rollback_to_commit(target: Target, client: OperatorClient, request: CommitRollbackRequest,
                       *, feedback: Feedback = QUIET,
                       show_plan: Callable[[CommitRollback], None] | None = None,
                       confirm: Confirm | None = None) -> CommitRollbackRun:
    """Plan, show, ask, release, delete what was created after (when asked), smoke-test."""
    plan = plan_commit_rollback(target, client, request, feedback=feedback)
    if show_plan is not None:
        show_plan(plan)
    deleting = plan.created_after if request.delete_created else ()
    if deleting and target.protected and not request.allow_delete:
        raise UsageError(f"environment {target.env_name!r} is protected: deleting "
                         f"{', '.join(a.key for a in deleting)} needs --allow-delete too")
    if not plan.to_release and not deleting:
        return CommitRollbackRun(plan)
    if confirm is not None:
        confirm(f"Roll {len(plan.to_release)} agents back to commit {plan.commit.commit}?")
    released, failed, drafted = _release_all(client, plan, feedback, target.writes_journal)
    deleted = _delete_all(client, deleting, failed, feedback)
    _wait_until_shown(client, plan, released, deleted, feedback, drafted)
    verdicts = _smoke(target, client, request, plan, released, feedback) if request.smoke \
        else {}
    return CommitRollbackRun(plan, released, deleted, failed, verdicts)


def _release_all(client: OperatorClient, plan: CommitRollback, feedback: Feedback,
                 journal: WritesJournal | None
                 ) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """Released revisions and failures by key, and the drafts started after a release
    (``services.rollback.start_draft_after_rollback``)."""
    from operator_iac.services.rollback import execute_rollback, start_draft_after_rollback

    released: dict[str, str] = {}
    failed: dict[str, str] = {}
    drafted: dict[str, str] = {}
    for agent in plan.to_release:
        assert agent.plan is not None
        try:
            released[agent.key] = execute_rollback(client, agent.plan, journal)
        except OperatorIacError as exc:
            failed[agent.key] = f"release of {agent.plan.target} failed: {exc}"
            feedback.warn(f"{agent.key}: {failed[agent.key]}")
            continue
        feedback.info(f"{agent.key}: released {released[agent.key]} again")
        started = start_draft_after_rollback(client, agent.plan, feedback)
        if started is not None:
            drafted[agent.key] = started
    return released, failed, drafted


def _wait_until_shown(client: OperatorClient, plan: CommitRollback, released: Mapping[str, str],
                      deleted: tuple[str, ...], feedback: Feedback,
                      drafted: Mapping[str, str]) -> None:
    from operator_iac.apply.visibility import Write
    from operator_iac.services.rollback import wait_until_shown

    agents = {a.key: a for a in plan.agents}
    writes = [Write("released", agents[key].kind, agents[key].agent_id, version)
              for key, version in released.items()]
    writes += [Write("drafted", agents[key].kind, agents[key].agent_id, version)
               for key, version in drafted.items()]
    writes += [Write("deleted", agents[key].kind, agents[key].agent_id) for key in deleted]
    wait_until_shown(client, writes, feedback)


def _delete_all(client: OperatorClient, agents: tuple[AgentRollback, ...],
                failed: dict[str, str], feedback: Feedback) -> tuple[str, ...]:
    from operator_iac.state.fetch import agents_resource

    deleted = []
    for agent in agents:
        try:
            agents_resource(client, agent.kind).delete(agent.agent_id)
        except OperationError as exc:
            failed[agent.key] = f"deleting {agent.agent_id} failed: {exc}"
            feedback.warn(f"{agent.key}: {failed[agent.key]}")
            continue
        deleted.append(agent.key)
        feedback.info(f"{agent.key}: deleted {agent.agent_id} (created after the commit)")
    return tuple(deleted)


def _smoke(target: Target, client: OperatorClient, request: CommitRollbackRequest,
           plan: CommitRollback, released: Mapping[str, str],
           feedback: Feedback) -> dict[str, SmokeVerdict]:
    """The declared smoke tests of every agent released again (as ``rollback KEY`` runs)."""
    from operator_iac.services.apply import gate_for
    from operator_iac.services.rollback import smoke_after_rollback

    desired = _desired(target)
    gate = gate_for(target, client, desired, parallelism=request.parallelism,
                    keep_conversations=request.keep_conversations, feedback=feedback)
    ids = {a.key: a.agent_id for a in plan.agents}
    verdicts: dict[str, SmokeVerdict] = {}
    for agent in plan.to_release:
        if agent.key not in released or agent.plan is None:
            continue
        verdict = smoke_after_rollback(gate, agent.plan, desired.get(agent.key), ids)
        if verdict is not None:
            verdicts[agent.key] = verdict
    return verdicts


def _desired(target: Target) -> dict[str, DesiredAgent]:
    from operator_iac.services.rollback import SecretsNotNeeded

    return target.desired(SecretsNotNeeded(os.environ))
