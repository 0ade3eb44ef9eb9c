"""History and rollback of one agent: its revisions as the platform lists them, what each says
about itself (its marker: commit and content hash), and re-releasing an earlier one.

The agent is found by ownership (the marker of this project and key in any revision), never by
name. Which revision a rollback goes back to:

- ``--to vN`` names it (``vN``, ``N`` or ``ca_x@vN``); the unreleased draft cannot be named
  (releasing it is what ``apply`` does, after testing it);
- ``--steps N`` (default 1) goes N revisions back from the released one, counting only
  *archived* revisions older than it. The contract archives the previously released revision
  on every release, and the only revision never released is the draft (this tool writes every
  change into the one draft and releases it, or leaves it as the draft), so an archived
  revision is one that was released before. A revision whose marker is missing was made
  outside operator-iac; it can still be rolled back to, and ``status`` will then say so.

Rolling back shows the difference between the released content and the chosen revision
(secrets declared with ``${env:...}`` shown as ``(sensitive)``), releases the chosen revision,
and leaves the smoke tests to the caller. Pure choices and diffs here; the I/O is in
``load_agent`` and ``execute_rollback``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from operator_iac.errors import OperationError, UsageError
from operator_iac.plan import normalise, refs
from operator_iac.plan.compare import own_marker
from operator_iac.plan.diff import diff_content, prompt_diff, prompt_text
from operator_iac.plan.identity import claims_by_key
from operator_iac.plan.marker import Marker, parse_marker
from operator_iac.spec.desired import AgentKind
from operator_iac.state.fetch import agents_resource
from operator_iac.state.snapshot import RemoteAgent, RemoteRevision, RemoteVersion, Snapshot

if TYPE_CHECKING:
    from operator_iac.api.client import OperatorClient
    from operator_iac.apply import SmokeGate, SmokeVerdict
    from operator_iac.plan.model import FieldChange
    from operator_iac.spec.desired import DesiredAgent

NO_MARKER = "no marker: edited outside operator-iac"
_TO = re.compile(r"^(?:(?P<agent>[a-z]{2}_[A-Za-z0-9]+)@)?v?(?P<number>\d+)$")


@dataclass(frozen=True)
class RevisionInfo:
    """One revision as ``history`` shows it."""

    version_id: str
    number: int
    status: str
    created_at: str | None
    updated_at: str | None
    marker: Marker | None  # this project's marker for the key, if the revision carries it
    foreign_marker: Marker | None = None  # a marker naming another project or key

    @property
    def note(self) -> str:
        if self.marker is not None:
            return ""
        if self.foreign_marker is not None:
            m = self.foreign_marker
            return f"marker of project {m.project}, key {m.key}"
        return NO_MARKER


@dataclass(frozen=True)
class AgentHistory:
    key: str
    kind: AgentKind
    agent_id: str
    revisions: tuple[RevisionInfo, ...]  # newest first


@dataclass(frozen=True)
class LoadedAgent:
    """The agent owned by a key, with the key -> id map of every agent this project owns."""

    key: str
    agent: RemoteAgent
    ids: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RollbackPlan:
    """What a rollback will do, for the confirmation and the report."""

    key: str
    kind: AgentKind
    agent_id: str
    current: str | None  # the released revision now
    target: str  # the revision to release
    target_marker: Marker | None
    changes: tuple[FieldChange, ...] = ()
    prompt_diff: str | None = None

    @property
    def already_released(self) -> bool:
        return self.current == self.target


# ---- finding the agent -----------------------------------------------------------------------


def find_agent(snapshot: Snapshot, project: str, key: str) -> LoadedAgent:
    """The remote agent this project's marker names ``key`` on, or a ``UsageError``."""
    owned = claims_by_key(snapshot.agents, project)
    candidates = owned.get(key, [])
    if not candidates:
        known = ", ".join(sorted(owned)) or "none"
        raise UsageError(f"no agent on {snapshot.api_url} carries the marker of project "
                         f"{project!r} and key {key!r} (keys found there: {known})")
    if len(candidates) > 1:
        listed = ", ".join(sorted(a.id for a in candidates))
        raise UsageError(f"several agents carry the marker of key {key!r}: {listed}; delete "
                         "the duplicates on the platform first")
    ids = {k: agents[0].id for k, agents in owned.items() if len(agents) == 1}
    return LoadedAgent(key, candidates[0], ids)


def load_agent(client: OperatorClient, project: str, key: str, *,
               parallelism: int = 8) -> LoadedAgent:
    from operator_iac.state.fetch import fetch_snapshot

    return find_agent(fetch_snapshot(client, parallelism=parallelism), project, key)


# ---- history ---------------------------------------------------------------------------------


def agent_history(loaded: LoadedAgent, project: str) -> AgentHistory:
    """Every revision, newest first, with what its marker says."""
    revisions = []
    for version in sorted(loaded.agent.versions, key=lambda v: -v.number):
        marker = parse_marker(version.description)
        own = marker if marker is not None and marker.owned_by(project, loaded.key) else None
        revisions.append(RevisionInfo(version.version_id, version.number, version.status,
                                      version.created_at, version.updated_at, own,
                                      marker if own is None else None))
    agent = loaded.agent
    return AgentHistory(loaded.key, agent.kind, agent.id, tuple(revisions))


# ---- choosing the revision -------------------------------------------------------------------


def choose_revision(agent: RemoteAgent, key: str, *, to: str | None = None,
                    steps: int = 1) -> RemoteVersion:
    """The revision to release: ``to``, or the ``steps``-th archived one before the released."""
    if to is not None:
        return _named_revision(agent, key, to)
    released = _released(agent)
    if released is None:
        raise UsageError(f"{key} ({agent.id}) has no released revision to roll back from; "
                         "name a revision with --to")
    earlier = sorted((v for v in agent.versions
                      if v.status == "archived" and v.number < released.number),
                     key=lambda v: -v.number)
    if not earlier:
        raise UsageError(f"{key} ({agent.id}) has no revision released before "
                         f"{released.version_id}: there is nothing to roll back to")
    if steps > len(earlier):
        raise UsageError(f"{key} ({agent.id}) has only {len(earlier)} earlier released "
                         f"revision{'s' if len(earlier) > 1 else ''}; --steps {steps} goes "
                         "too far")
    return earlier[steps - 1]


def _named_revision(agent: RemoteAgent, key: str, to: str) -> RemoteVersion:
    match = _TO.match(to.strip())
    if match is None or (match["agent"] and match["agent"] != agent.id):
        raise UsageError(f"--to {to!r}: name a revision of {key} as vN (like v2) or "
                         f"{agent.id}@vN")
    number = int(match["number"])
    found = next((v for v in agent.versions if v.number == number), None)
    if found is None:
        known = ", ".join(f"v{v.number}" for v in sorted(agent.versions,
                                                           key=lambda v: v.number))
        raise UsageError(f"{key} ({agent.id}) has no revision v{number} (it has {known})")
    if found.status == "draft":
        raise UsageError(f"v{number} of {key} is the unreleased draft; a draft is released by "
                         "apply (after its smoke tests), not by rollback")
    return found


def _released(agent: RemoteAgent) -> RemoteVersion | None:
    released = [v for v in agent.versions if v.status == "released"]
    return max(released, key=lambda v: v.number) if released else None


# ---- the rollback plan -----------------------------------------------------------------------


def plan_rollback(loaded: LoadedAgent, target: RemoteRevision, declared: DesiredAgent | None,
                  *, project: str) -> RollbackPlan:
    """Pure: the change from the released revision to ``target``. Values at the paths the
    declaration fills from ``${env:...}`` are compared sealed and shown as ``(sensitive)``."""
    agent = loaded.agent
    secret_paths = declared.sensitive_paths if declared is not None else frozenset()
    keys = {agent_id: key for key, agent_id in loaded.ids.items()}
    before = _content(agent.kind, agent.released, keys, secret_paths)
    after = _content(agent.kind, target, keys, secret_paths)
    current = agent.released.version_id if agent.released else None
    own = own_marker(target, project, loaded.key)
    diff = prompt_diff(prompt_text(before), prompt_text(after),
                       before_label=f"{loaded.key} {current or '(nothing released)'}",
                       after_label=f"{loaded.key} {target.version_id}")
    return RollbackPlan(loaded.key, agent.kind, agent.id, current, target.version_id, own,
                        diff_content(before, after) if current != target.version_id else (),
                        diff if current != target.version_id else None)


def _content(kind: str, revision: RemoteRevision | None, keys: Mapping[str, str],
             secret_paths: frozenset[str]) -> dict[str, Any] | None:
    if revision is None:
        return None
    config = normalise.seal_paths(normalise.prepare(revision.config), secret_paths)
    config, postprocess = refs.to_keys(config, revision.postprocess_agents, keys)
    return normalise.content(kind, revision.name, revision.description, config, postprocess)


# ---- I/O -------------------------------------------------------------------------------------


def execute_rollback(client: OperatorClient, plan: RollbackPlan) -> str:
    """Release the plan's target revision; returns the revision released."""
    written = agents_resource(client, plan.kind).release(plan.target)
    released = written.version_id or plan.target
    if "@" in released and released != plan.target:
        raise OperationError(f"releasing {plan.target} answered with {released}; check the "
                             f"agent with: operator-iac history {plan.key}")
    return plan.target


def smoke_after_rollback(gate: SmokeGate, plan: RollbackPlan, declared: DesiredAgent | None,
                         ids: Mapping[str, str]) -> SmokeVerdict | None:
    """Run the declared smoke tests on the revision the rollback released (None when the
    agent has none). They are the tests of the current declarations: an older revision may
    fail them for good reason, and nothing is released again automatically."""
    if declared is None or declared.kind != "conversational_agent" or not declared.smoke:
        return None
    from operator_iac.plan.model import ResourcePlan

    resource = ResourcePlan(key=plan.key, kind=declared.kind, action="release",
                            name=declared.name, smoke=("released",))
    return gate(resource, declared, plan.target, "released", dict(ids))
