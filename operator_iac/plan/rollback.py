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

The rollback plan shows the difference between the released content and the chosen revision
(secrets declared with ``${env:...}`` shown as ``(sensitive)``). Choosing and diffing are pure;
``operator_iac.services.rollback`` releases the revision and smoke-tests it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from operator_iac.errors import UsageError
from operator_iac.plan import normalise, refs
from operator_iac.plan.compare import holds_own_writing, own_marker, recorded_secrets
from operator_iac.plan.diff import diff_content, prompt_diff, prompt_text
from operator_iac.plan.history import LoadedAgent
from operator_iac.plan.marker import Marker, parse_marker, with_marker
from operator_iac.spec.desired import AgentKind
from operator_iac.state.snapshot import RemoteAgent, RemoteRevision, RemoteVersion

if TYPE_CHECKING:
    from operator_iac.plan.model import FieldChange
    from operator_iac.spec.desired import DesiredAgent


_TO = re.compile(r"^(?:(?P<agent>[a-z]{2}_[A-Za-z0-9]+)@)?v?(?P<number>\d+)$")


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
    newest: str | None = None
    """The agent's newest revision when the plan was made (None: not known): the released
    one when the agent had no draft, and then the rollback puts it aside."""
    forms_recorded: bool = False
    """Whether a marker of the agent's revisions records a form the platform stored a
    written value in (``plan.stored``): writing a revision back as read may then not store
    it as it is (a form need not be a fixed point)."""
    target_as_written: bool = False
    """Whether the target revision holds what its marker says operator-iac wrote (not edited
    in the dashboard since): a copy of it then reads as operator-iac's writing too."""

    @property
    def already_released(self) -> bool:
        return self.current == self.target


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


def plan_rollback(loaded: LoadedAgent, target: RemoteRevision, declared: DesiredAgent | None,
                  *, project: str) -> RollbackPlan:
    """Pure: the change from the released revision to ``target``. Values at the paths the
    declaration fills from ``${env:...}``, and at those either revision's marker records as
    secret, are compared sealed and shown as ``(sensitive)``."""
    agent = loaded.agent
    secret_paths = frozenset(declared.sensitive_paths if declared is not None else ()) | {
        path for revision in (agent.released, target) if revision is not None
        for path in recorded_secrets(revision)}
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
                        diff if current != target.version_id else None,
                        agent.newest.version_id if agent.newest else None,
                        any(_records_forms(v.description) for v in agent.versions)
                        or _records_forms(target.description),
                        own is not None and _reads_as_written(target.description, own)
                        and holds_own_writing(target, own, agent.kind, keys) is True)


def _reads_as_written(description: str | None, marker: Marker) -> bool:
    """Whether ``description`` reads exactly as this tool writes it, its marker included: a
    platform that escapes or rewrites text (``\\[`` for ``[``) shows it otherwise, and
    would rewrite it again were it written back as read, so a copy of the revision would
    hold another form of it (a person's draft, to a reader)."""
    return description is not None and with_marker(description, marker) == description


def _records_forms(description: str | None) -> bool:
    marker = parse_marker(description)
    return marker is not None and bool(marker.stored)


def _content(kind: str, revision: RemoteRevision | None, keys: Mapping[str, str],
             secret_paths: frozenset[str]) -> dict[str, Any] | None:
    if revision is None:
        return None
    config = normalise.seal_paths(normalise.prepare(revision.config), secret_paths)
    config, postprocess = refs.to_keys(config, revision.postprocess_agents, keys)
    return normalise.content(kind, revision.name, revision.description, config, postprocess)
