"""Checks of ``${env:NAME}`` against the project file's ``secrets`` declarations
(``operator_iac.spec.secret_names`` says what is allowed), and of ``api_key_env``, which may
not name a CI credential either.

A refused name in a ``secrets`` list is reported where it is declared. A use is reported
where it is written (the agent file, its prompt file, or the environment's override in the
project file): once per place, listing every environment that does not declare the name, or
saying that the name can never be a secret.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from operator_iac.errors import Diagnostic
from operator_iac.spec.agent_file import AgentFile
from operator_iac.spec.checks import substitutions_of
from operator_iac.spec.environments import override_path
from operator_iac.spec.loader import YamlDocument
from operator_iac.spec.merge import deep_merge, origin_in
from operator_iac.spec.project_file import ProjectFile
from operator_iac.spec.secret_names import (
    declared_secrets,
    key_variable_refusal,
    refusal,
    refused_message,
    undeclared_message,
)

Agents = Mapping[str, AgentFile]
# (file, line, column, name): one place where ``${env:name}`` is written.
_Place = tuple[str, int, int, str]


def check_secrets(agents: Agents, project: ProjectFile, doc: YamlDocument) -> list[Diagnostic]:
    """Every refused declaration and every use of a name that is refused or not declared."""
    found = list(_refused_declarations(project, doc))
    undeclared: dict[_Place, list[str | None]] = {}
    refused: dict[_Place, str] = {}
    names: list[str | None] = [*project.environments] or [None]
    for env_name in names:
        allowed = declared_secrets(project, env_name)
        for place in _env_uses(agents, project, env_name, doc):
            reason = refusal(place[3], project)
            if reason is not None:
                refused[place] = reason
            elif place[3] not in allowed:
                undeclared.setdefault(place, []).append(env_name)
    found += [Diagnostic(f, line, col, refused_message(name, reason))
              for (f, line, col, name), reason in refused.items()]
    found += [Diagnostic(f, line, col, undeclared_message(name, envs))
              for (f, line, col, name), envs in undeclared.items()]
    return found


def _refused_declarations(project: ProjectFile, doc: YamlDocument) -> Iterator[Diagnostic]:
    for name, env in project.environments.items():
        refused = key_variable_refusal(env.api_key_env)
        if refused is not None:
            yield doc.diagnostic(("environments", name, "api_key_env"), refused)
    lists = [(("secrets",), project.secrets)] + [
        (("environments", name, "secrets"), env.secrets)
        for name, env in project.environments.items()]
    for where, names in lists:
        for index, name in enumerate(names):
            reason = refusal(name, project)
            if reason is not None:
                yield doc.diagnostic((*where, index), f"{name} cannot be declared a secret: "
                                     f"{reason}; agents may never read it")


def _env_uses(agents: Agents, project: ProjectFile, env_name: str | None,
              doc: YamlDocument) -> Iterator[_Place]:
    """Where each ``${env:...}`` inside config sits in the agents as ``env_name`` sees them."""
    env = project.environments.get(env_name) if env_name is not None else None
    for agent in sorted(agents.values(), key=lambda a: a.key):
        override = env.overrides.get(agent.key, {}) if env is not None else {}
        data = deep_merge(agent.document.data, override) if override else None
        for path, sub in substitutions_of(agent, data):
            if sub.kind != "env" or path[0] != "config":
                continue  # outside config it is an error of its own (checks.py)
            if override and origin_in(override, path) and env_name is not None:
                at = doc.diagnostic((*override_path(env_name, agent.key), *path), "")
            else:
                at = agent.diagnostic_at(path, sub.start, "")
            yield at.file, at.line, at.column, sub.name
