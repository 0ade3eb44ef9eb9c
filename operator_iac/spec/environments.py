"""Checks of agent files against the project's environments: every ``${var:NAME}`` has a
value in each environment that applies the agent, every override names a declared agent and
still yields a valid agent once merged, and promotions name real environments.

Overrides change what an environment receives, so ``${var:...}`` is checked on the agent as
that environment sees it (file plus override). A problem the override introduced points
into the project file; one inherited from the agent file points there.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from typing import Any

from operator_iac.errors import Diagnostic
from operator_iac.spec.agent_file import AgentFile, agent_adapter
from operator_iac.spec.base import did_you_mean
from operator_iac.spec.checks import substitutions_of
from operator_iac.spec.diagnostics import validate_data
from operator_iac.spec.loader import DataPath, YamlDocument
from operator_iac.spec.merge import deep_merge, origin_in
from operator_iac.spec.owned import path_problem
from operator_iac.spec.project_file import ProjectFile
from operator_iac.spec.prompts import PROMPT_PATH, read_prompt

Agents = Mapping[str, AgentFile]


def check_environments(agents: Agents, project: ProjectFile, doc: YamlDocument,
                       unchecked: Collection[str] = ()) -> list[Diagnostic]:
    """Environments against the agents; ``unchecked`` names declared agents that could not be
    built (their own errors are reported at their files), so nothing about them is said."""
    found = list(_promotions(project, doc))
    for env_name in project.environments:
        found += _overrides(env_name, agents, project, doc, unchecked)
        found += _owned(env_name, agents, project, doc, unchecked)
    found += _missing_vars(agents, project, doc)
    return found + list(_quarantine(agents, project, doc, unchecked))


def _quarantine(agents: Agents, project: ProjectFile, doc: YamlDocument,
                unchecked: Collection[str]) -> Iterator[Diagnostic]:
    """Quarantine entries name declared agents and (as a warning) existing tests."""
    for index, entry in enumerate(project.quarantine):
        agent = agents.get(entry.agent)
        if entry.agent in unchecked:
            continue
        if agent is None:
            yield doc.diagnostic(("quarantine", index, "agent"), f"quarantine names "
                                 f"{entry.agent!r}, which is not a declared agent"
                                 f"{did_you_mean(entry.agent, agents)}")
            continue
        names = [t.name for t in getattr(agent.spec, "smoke", [])]
        if entry.test is not None and entry.test not in names:
            yield doc.diagnostic(("quarantine", index, "test"), f"{entry.agent!r} has no smoke "
                                 f"test {entry.test!r}{did_you_mean(entry.test, names)}",
                                 severity="warning")


def override_path(env_name: str, key: str) -> DataPath:
    return ("environments", env_name, "overrides", key)


def _promotions(project: ProjectFile, doc: YamlDocument) -> Iterator[Diagnostic]:
    for name, env in project.environments.items():
        source = env.promote_from
        where = ("environments", name, "promote_from")
        if source == name:
            yield doc.diagnostic(where, "an environment cannot promote from itself")
        elif source is not None and source not in project.environments:
            others = [n for n in project.environments if n != name]
            yield doc.diagnostic(where, f"promote_from names unknown environment {source!r}"
                                        f"{did_you_mean(source, others)} (known: "
                                        f"{', '.join(others) or 'none'})")


def _overrides(env_name: str, agents: Agents, project: ProjectFile, doc: YamlDocument,
               unchecked: Collection[str]) -> Iterator[Diagnostic]:
    for key, override in project.environments[env_name].overrides.items():
        where = override_path(env_name, key)
        agent = agents.get(key)
        if key in unchecked:
            continue
        if agent is None:
            yield doc.diagnostic(where, f"override for {key!r}, which is not a declared agent"
                                        f"{did_you_mean(key, agents)}", at_key=True)
        elif "kind" in override:
            yield doc.diagnostic((*where, "kind"), "an override cannot change an agent's kind",
                                 at_key=True)
        else:
            yield from _merged_problems(agent, override, where, doc)


def _owned(env_name: str, agents: Agents, project: ProjectFile, doc: YamlDocument,
           unchecked: Collection[str]) -> Iterator[Diagnostic]:
    """An environment's ``dashboard_owned`` names declared agents and fields they have."""
    for key, paths in project.environments[env_name].dashboard_owned.items():
        where = ("environments", env_name, "dashboard_owned", key)
        agent = agents.get(key)
        if key in unchecked:
            continue
        if agent is None:
            yield doc.diagnostic(where, f"dashboard_owned names {key!r}, which is not a "
                                        f"declared agent{did_you_mean(key, agents)}",
                                 at_key=True)
            continue
        extra = list((agent.spec.config.extra or {}).keys())
        for index, path in enumerate(paths):
            problem = path_problem(path, agent.spec.kind, extra)
            if problem:
                yield doc.diagnostic((*where, index), problem)


def _merged_problems(agent: AgentFile, override: dict[str, Any], where: DataPath,
                     doc: YamlDocument) -> list[Diagnostic]:
    merged = deep_merge(agent.document.data, override)
    own: list[Diagnostic] = []

    def place(path: DataPath, message: str, at_key: bool) -> Diagnostic:
        if origin_in(override, path):
            diagnostic = doc.diagnostic((*where, *path), message, at_key=at_key)
            own.append(diagnostic)
            return diagnostic
        return agent.document.diagnostic(path, message, at_key=at_key)

    spec, _ = validate_data(agent_adapter(), merged, place)
    # Problems of the agent file itself are reported for that file already.
    return own + _override_prompt_problems(agent, spec, where, doc)


def _override_prompt_problems(agent: AgentFile, spec: Any, where: DataPath,
                              doc: YamlDocument) -> list[Diagnostic]:
    """An override that names another prompt file: that file is read as plan would read it,
    and its problems point at the override."""
    if spec is None or spec.config.runtime.prompt == agent.spec.config.runtime.prompt:
        return []
    _, problems = read_prompt(spec.config.runtime.prompt, agent.document, agent.root,
                              agent.vars)
    at = (*where, *PROMPT_PATH, "file")
    return [doc.diagnostic(at, f"with override: {d.message}") for d in problems]


def _missing_vars(agents: Agents, project: ProjectFile,
                  doc: YamlDocument) -> list[Diagnostic]:
    """One diagnostic per ``${var:NAME}`` occurrence, listing every environment lacking it."""
    missing: dict[tuple[str, int, int, str], list[str]] = {}
    for env_name, env in project.environments.items():
        for agent in sorted(agents.values(), key=lambda a: a.key):
            override = env.overrides.get(agent.key, {})
            prefix = override_path(env_name, agent.key)
            for at, name in _var_uses(agent, override, prefix, doc):
                envs = missing.setdefault((at.file, at.line, at.column, name), [])
                if name not in env.vars and env_name not in envs:
                    envs.append(env_name)
    # A template's instances share the template's lines: each line is reported once.
    return [Diagnostic(file, line, column, _missing_var_message(name, envs))
            for (file, line, column, name), envs in missing.items() if envs]


def _var_uses(agent: AgentFile, override: dict[str, Any], prefix: DataPath,
              doc: YamlDocument) -> Iterator[tuple[Diagnostic, str]]:
    """Where each ``${var:...}`` sits in the agent as one environment sees it."""
    data = deep_merge(agent.document.data, override) if override else None
    for path, sub in substitutions_of(agent, data):
        if sub.kind == "var" and sub.name not in agent.vars:
            from_override = bool(override) and origin_in(override, path)
            at = doc.diagnostic((*prefix, *path), "") if from_override else \
                agent.diagnostic_at(path, sub.start, "")
            yield at, sub.name


def _missing_var_message(name: str, envs: list[str]) -> str:
    plural = "environments" if len(envs) > 1 else "environment"
    return f"${{var:{name}}} has no value in the vars of {plural} {', '.join(envs)}"
