"""``pull`` as a service: take the platform's content of agents into their files, so that a
dashboard edit becomes a reviewable change of the YAML.

For each key: its released revision (``--draft``: its draft) is read, the agent file and its
prompt file are rewritten to say what it holds (``operator_iac.importing.pull``), and the
resulting diff is reported; ``--dry-run`` writes nothing. Pull is all or nothing: every key
is checked first (declared, on the platform, not a template instance), then the whole project
is loaded and resolved again as the edited files will read (``spec.loader.pending_texts``),
and only when that succeeds is any file written; so a mistake anywhere exits 3 with every
file as it was. The declarations as they will read are compared with each revision: the
report says which declared fields still differ (those pull could not write).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from operator_iac.defaults import PARALLELISM
from operator_iac.errors import InvalidInputError, UsageError
from operator_iac.importing.pull import PullInput, PullReport, pull_agent
from operator_iac.plan.normalise import value_at
from operator_iac.services import files as project_files
from operator_iac.services.feedback import QUIET, Feedback

if TYPE_CHECKING:
    from operator_iac.api.client import OperatorClient
    from operator_iac.services.target import Target
    from operator_iac.spec.desired import DesiredAgent
    from operator_iac.state.snapshot import RemoteAgent, RemoteRevision


@dataclass(frozen=True)
class PullRequest:
    """What ``operator-iac pull`` was asked: the keys, the draft instead of the released
    revision, and whether to write."""

    keys: tuple[str, ...]
    draft: bool = False
    dry_run: bool = False
    parallelism: int = PARALLELISM


def pull(target: Target, client: OperatorClient, request: PullRequest, *,
         environ: Mapping[str, str] | None = None, feedback: Feedback = QUIET) -> PullReport:
    """Pull ``request.keys`` from the platform into their files (see the module docstring)."""
    if not request.keys:
        raise UsageError("name the agents to pull by key")
    desired = target.desired(environ)
    unknown = [key for key in request.keys if key not in desired]
    if unknown:
        raise UsageError(f"not declared: {', '.join(unknown)}; pull takes the platform's "
                         "content into existing agent files (import writes new ones)")
    remotes = _remote_agents(target, client, desired, request, feedback)
    key_by_id = {agent.id: key for key, agent in remotes.items()}
    secrets = _secret_values(desired.values())
    inputs = [_input(target, desired, key, _revision(remotes.get(key), key, request.draft),
                     key_by_id, secrets) for key in request.keys]
    pulled = tuple(pull_agent(source) for source in inputs)
    edits = {e.path: e.after for a in pulled for e in a.edits}
    remaining = _remaining(target, environ, inputs, edits)
    if request.dry_run:
        return PullReport(pulled, False, {})
    project_files.write_text_files(edits.items())
    return PullReport(pulled, True, remaining)


def _remote_agents(target: Target, client: OperatorClient,
                   desired: Mapping[str, DesiredAgent], request: PullRequest,
                   feedback: Feedback) -> dict[str, RemoteAgent]:
    from operator_iac.plan.identity import resolve_ownership
    from operator_iac.services.remote import read_project_agents

    with feedback.activity() as say:
        say(f"Reading agents from {target.api_url} ...")
        snapshot = read_project_agents(client, target.owner, desired,
                                       parallelism=request.parallelism,
                                       cache=target.revision_cache, say=say)
    owned = resolve_ownership(desired, snapshot, target.owner).owned
    return dict(owned)


def _revision(remote: RemoteAgent | None, key: str, draft: bool) -> RemoteRevision:
    if remote is None:
        raise UsageError(f"agent {key!r} is not on the platform (no agent carries its "
                         "marker): there is nothing to pull; apply it first")
    revision = remote.draft if draft else remote.released
    if revision is None:
        which = "has no draft" if draft else "has no released revision (pass --draft)"
        raise UsageError(f"agent {key!r} ({remote.id}) {which}: there is nothing to pull")
    return revision


def _input(target: Target, desired: Mapping[str, DesiredAgent], key: str,
           revision: RemoteRevision, key_by_id: Mapping[str, str],
           secrets: frozenset[str]) -> PullInput:
    from operator_iac.spec.loader import read_text

    agent = target.project.agents[key]
    prompt_file = agent.prompt.file if agent.prompt is not None else None
    env = target.environment
    return PullInput(
        agent=agent, desired=desired[key], revision=revision,
        agent_text=read_text(agent.path), key_by_id=key_by_id,
        prompt_text=read_text(prompt_file) if prompt_file is not None else None,
        override=env.overrides.get(key) if env is not None else None,
        env_name=target.env_name,
        secrets=secrets | _recorded_values(revision))


def _secret_values(agents: Iterable[DesiredAgent]) -> frozenset[str]:
    """Every ``${env:...}`` value resolved in this run: never to be written into a file."""
    found: set[str] = set()
    for agent in agents:
        for path in agent.sensitive_paths:
            value = value_at(agent.config, path)
            if isinstance(value, str) and value:
                found.add(value)
    return frozenset(found)


def _recorded_values(revision: RemoteRevision) -> frozenset[str]:
    """The platform's values at the paths the revision's marker records as secrets (what it
    was written with): a secret still, even where the declaration no longer says so."""
    from operator_iac.plan.compare import recorded_secrets

    values = (value_at(revision.config, path) for path in recorded_secrets(revision))
    return frozenset(v for v in values if isinstance(v, str) and v)


def _remaining(target: Target, environ: Mapping[str, str] | None, inputs: Sequence[PullInput],
               edits: Mapping[Path, str]) -> dict[str, tuple[str, ...]]:
    """The declared fields that still differ from each pulled revision, with the project
    loaded and resolved as the edited files will read; an edit that would leave the project
    invalid is refused here, before anything is written."""
    from operator_iac.plan.compare import DesiredView
    from operator_iac.plan.diff import diff_content
    from operator_iac.spec.loader import pending_texts
    from operator_iac.spec.project import load_project

    try:
        with pending_texts(edits):
            fresh = replace(target, project=load_project(target.project.file)).desired(environ)
    except InvalidInputError as exc:
        raise UsageError(f"the pulled content would leave the declarations invalid, so no "
                         f"file was written: {exc}") from exc
    ids = _known_ids(inputs)
    remaining: dict[str, tuple[str, ...]] = {}
    for source in inputs:
        agent = fresh.get(source.desired.key)
        if agent is None:
            continue
        view = DesiredView.of(agent, ids)
        changes = diff_content(view.remote_content(source.revision), view.id_content)
        remaining[agent.key] = tuple(change.path for change in changes)
    return remaining


def _known_ids(inputs: Sequence[PullInput]) -> dict[str, str]:
    found: dict[str, str] = {}
    for source in inputs:
        found.update({key: agent_id for agent_id, key in source.key_by_id.items()})
    return found
