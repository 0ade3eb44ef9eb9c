"""``import`` as a service: read the platform, choose the agents, write their files.

The steps, each refusing before anything is written::

    read every agent (one snapshot) ─ choose agents and keys ─ colliding keys? ──> exit 3
    make each file's text ─ a file exists already (and no --force)? ──────────────> exit 3
    write the files (not with --dry-run) ─ validate the project, report what it says

An agent asked for by id that the agents list does not show (yet) is read by its id
(``with_requested``). A file is made from the agent's released revision, or from its newest
revision when none was ever released, or from the revision named as ``ID@vN``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from operator_iac.errors import UsageError
from operator_iac.importing.convert import AgentDocument, to_document
from operator_iac.importing.credentials import CredentialHint, find_credentials
from operator_iac.importing.results import FileText, ImportedAgent, ImportOptions, ImportReport
from operator_iac.importing.selection import (
    Chosen,
    DeclaredAgent,
    Selection,
    select_agents,
    transfer_keys,
)
from operator_iac.importing.yaml_text import render_document
from operator_iac.services import files as project_files
from operator_iac.services.validate import validate_paths
from operator_iac.spec.discovery import agent_files_in
from operator_iac.state.fetch import fetch_snapshot, read_revision, with_unlisted
from operator_iac.state.snapshot import RemoteAgent, RemoteRevision, RemoteVersion, Snapshot

if TYPE_CHECKING:
    from operator_iac.api.client import OperatorClient
    from operator_iac.spec.desired import AgentKind
    from operator_iac.spec.project import Project

Progress = Callable[[str], None]


def import_agents(project: Project, client: OperatorClient, options: ImportOptions,
                  progress: Progress | None = None) -> ImportReport:
    """Import remote agents into ``project``'s agents directory (see the module docstring)."""
    say = progress or (lambda _line: None)
    if options.everything and options.ids:
        raise UsageError("pass agent ids or --all, not both")
    if not options.everything and not options.ids:
        raise UsageError("name the agents to import by id, or pass --all")
    say(f"Reading agents from {client.base_url} ...")
    snapshot = with_requested(client, fetch_snapshot(client, parallelism=options.parallelism),
                              options.ids)
    revisions = {**source_revisions(snapshot, client),
                 **pinned_revisions(snapshot, client, options.ids)}
    selection = select_agents(snapshot, revisions, project.name, declared_agents(project),
                              ids=options.ids, everything=options.everything)
    imported = agent_files(selection, project.agents_dir)
    if not options.force:
        refuse_existing(imported)
    report = ImportReport(snapshot.api_url, imported, selection.skipped)
    if options.dry_run or not imported:
        return report
    write_files(imported)
    validation = validate_paths([], project.file)
    return ImportReport(snapshot.api_url, imported, selection.skipped, True, validation)


# The kind of agent an id names, by its prefix (the contract's id prefixes).
_KIND_BY_PREFIX: dict[str, AgentKind] = {"ca_": "conversational_agent",
                                         "pa_": "procedural_agent"}


def with_requested(client: OperatorClient, snapshot: Snapshot,
                   ids: Iterable[str]) -> Snapshot:
    """``snapshot`` with each agent asked for by id that its listing did not show, and each
    procedural agent those run, read by id (``state.fetch.with_unlisted``), so that an
    agent made a moment ago in the dashboard can be imported at once. An id that names no
    agent stays missing (``select_agents`` says so)."""
    wanted = list(dict.fromkeys(i.partition("@")[0] for i in ids))
    while wanted:
        before = {agent.id for agent in snapshot.agents}
        snapshot, _ = with_unlisted(client, snapshot, [(_KIND_BY_PREFIX[i[:3]], i)
                                                       for i in wanted
                                                       if i[:3] in _KIND_BY_PREFIX])
        added = [agent for agent in snapshot.agents if agent.id not in before]
        wanted = [target for agent in added for revision in (agent.released, agent.draft)
                  if revision is not None for target in revision.postprocess_agents]
    return snapshot


def declared_agents(project: Project) -> dict[str, DeclaredAgent]:
    return {key: DeclaredAgent(agent.spec.kind, agent.spec.name)
            for key, agent in project.agents.items()}


def source_revisions(snapshot: Snapshot, client: OperatorClient) -> dict[str, RemoteRevision]:
    """Per agent, the revision a file is made from: released, else the newest one."""
    found: dict[str, RemoteRevision] = {}
    for agent in snapshot.agents:
        revision = agent.released or _newest(agent, client)
        if revision is not None:
            found[agent.id] = revision
    return found


def pinned_revisions(snapshot: Snapshot, client: OperatorClient,
                     ids: tuple[str, ...]) -> dict[str, RemoteRevision]:
    """The revisions named as ``ID@vN``, by agent id (an unknown agent is reported later)."""
    pinned: dict[str, RemoteRevision] = {}
    for requested in ids:
        agent_id, _, number = requested.partition("@")
        agent = snapshot.by_id(agent_id)
        if not number or agent is None:
            continue
        version = next((v for v in agent.versions if v.version_id == requested), None)
        if version is None:
            raise UsageError(f"agent {agent_id} has no revision {number}")
        pinned[agent_id] = _revision(agent, version, client)
    return pinned


def _newest(agent: RemoteAgent, client: OperatorClient) -> RemoteRevision | None:
    newest = agent.newest
    return _revision(agent, newest, client) if newest is not None else None


def _revision(agent: RemoteAgent, version: RemoteVersion,
              client: OperatorClient) -> RemoteRevision:
    """A revision's content: from the snapshot when it holds it, else read from the platform
    (the snapshot holds only the released and the draft revision)."""
    for held in (agent.released, agent.draft):
        if held is not None and held.version_id == version.version_id:
            return held
    return read_revision(client, agent.kind, version.version_id, version.status)


# ---- files -----------------------------------------------------------------------------------


def agent_files(selection: Selection, agents_dir: Path) -> tuple[ImportedAgent, ...]:
    """The files of every chosen agent (pure apart from looking for existing agent files)."""
    existing = {path.stem: path for path in agent_files_in(agents_dir)} \
        if agents_dir.is_dir() else {}
    edges: dict[str, set[str]] = {}
    imported = []
    for chosen in selection.chosen:
        keys = transfer_keys(chosen, selection, edges)
        document = to_document(chosen.agent.kind, chosen.revision, chosen.key, keys)
        path = existing.get(chosen.key, agents_dir / f"{chosen.key}.yaml")
        imported.append(_imported(chosen, document, path))
    return tuple(imported)


def _imported(chosen: Chosen, document: AgentDocument, path: Path) -> ImportedAgent:
    """``path`` is the file that declares this key already (in any folder, ``.yml`` or
    ``.yaml``), else ``<agents_dir>/<key>.yaml``."""
    credentials = find_credentials(document.data)
    files = [FileText(path, render_document(document.data,
                                            _header(chosen, document, credentials)))]
    if document.prompt_file is not None and document.prompt_text is not None:
        files.append(FileText(path.parent / document.prompt_file, document.prompt_text))
    return ImportedAgent(chosen.key, chosen.agent.id, chosen.agent.kind, chosen.revision.name,
                         chosen.revision.version_id, chosen.reason, tuple(files),
                         document.extra_paths, chosen.managed, credentials)


def _header(chosen: Chosen, document: AgentDocument,
            credentials: tuple[CredentialHint, ...]) -> str:
    lines = [f"Imported by `operator-iac import` from {chosen.revision.version_id}."]
    if document.extra_paths:
        lines.append("config.extra keeps, as the platform holds them, fields operator-iac "
                     "does not model:")
        lines.append("  " + ", ".join(document.extra_paths))
    if credentials:
        lines.append("These values look like credentials: replace each with ${env:NAME} "
                     "(NAME declared under secrets: in operator-iac.yaml) before committing:")
        lines.extend(f"  {hint}" for hint in credentials)
    return "\n".join(lines)


def refuse_existing(imported: tuple[ImportedAgent, ...]) -> None:
    """Nothing is overwritten without ``--force``; the message lists every file in the way."""
    project_files.refuse_existing(f.path for agent in imported for f in agent.files)


def write_files(imported: tuple[ImportedAgent, ...]) -> None:
    """Write every file; each through a temporary name, so no file is ever half written."""
    project_files.write_text_files((f.path, f.text) for agent in imported for f in agent.files)


def ensure_agents_dir(project_file: Path | None) -> None:
    """Create the agents directory of a new project, so that its first import can fill it
    (a project whose agents directory is missing does not load)."""
    from operator_iac.spec.project import find_project_file, read_project_file

    file = find_project_file(project_file)
    spec, _, _ = read_project_file(file)
    if spec is not None:
        (file.parent / spec.agents_dir).mkdir(parents=True, exist_ok=True)
