"""From agent files to desired state for one environment: the environment's override merged
in, the prompt file inlined, ``config.extra`` joined into config, and ``${var:...}`` /
``${env:...}`` substituted. The result is in the API's shape and holds only what the user
declared; nothing defaults on our side.

Values from ``${env:...}`` are secrets: their places are recorded in ``sensitive_paths`` and
no message ever includes a value, only the name of what is missing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from operator_iac.errors import ConfigurationError, DeclarationError
from operator_iac.spec.agent_file import AgentFile, AgentModel, agent_adapter
from operator_iac.spec.desired import DesiredAgent
from operator_iac.spec.diagnostics import validate_data
from operator_iac.spec.loader import DataPath
from operator_iac.spec.merge import deep_merge
from operator_iac.spec.models import ConversationalAgentSpec, SmokeTest
from operator_iac.spec.project import Project, smoke_policy
from operator_iac.spec.project_file import Environment, ProjectFile
from operator_iac.spec.prompt_text import PromptText
from operator_iac.spec.prompts import read_prompt
from operator_iac.spec.secret_names import (
    declared_secrets,
    key_variables,
    refusal,
    refused_message,
    undeclared_message,
)
from operator_iac.spec.secrets import SECRETS
from operator_iac.spec.templates import Substitution, substitute


def resolve_project(project: Project, env_name: str | None,
                    environ: Mapping[str, str]) -> dict[str, DesiredAgent]:
    """Every agent of the project as ``env_name`` should hold it; all missing values are
    reported together in one ``ConfigurationError``."""
    env = project.environment(env_name) if env_name is not None else None
    resolved: dict[str, DesiredAgent] = {}
    missing: list[str] = []
    for key in sorted(project.agents):
        agent, problems = _resolve(project.agents[key], project, env_name, env, environ)
        missing += problems
        if agent is not None:
            resolved[key] = agent
    if missing:
        raise ConfigurationError(_missing_message(env_name, missing))
    return resolved


def resolve_agent(agent: AgentFile, project: Project, env_name: str | None,
                  environ: Mapping[str, str]) -> DesiredAgent:
    """One agent as ``env_name`` should hold it (no environment: no vars, no overrides)."""
    env = project.environment(env_name) if env_name is not None else None
    desired, missing = _resolve(agent, project, env_name, env, environ)
    if desired is None or missing:
        raise ConfigurationError(_missing_message(env_name, missing))
    return desired


def _resolve(agent: AgentFile, project: Project, env_name: str | None, env: Environment | None,
             environ: Mapping[str, str]) -> tuple[DesiredAgent | None, list[str]]:
    override = env.overrides.get(agent.key) if env is not None else None
    spec, prompt = effective_declaration(agent, override)
    values = _Values(agent.key, env_name, env, environ,
                     _SecretRule.of(project.spec, env_name, environ), agent.vars)
    name = substitute(spec.name, values.lookup, ("name",))
    description = substitute(spec.description, values.lookup, ("description",))
    config = substitute(api_config(spec, prompt), values.lookup, ("config",))
    if values.missing:
        return None, values.missing
    policy = smoke_policy(project.spec, spec)
    talks = spec if isinstance(spec, ConversationalAgentSpec) else None
    return DesiredAgent(
        key=agent.key, kind=spec.kind, source=agent.path, name=str(name),
        description=str(description), config=config,
        postprocess_agents=tuple(talks.postprocess_agents) if talks else (),
        sensitive_paths=frozenset(values.sensitive),
        secret_references=frozenset(values.references),
        dashboard_owned=owned_paths(spec, env, agent.key),
        smoke=quarantined(project.spec, agent.key, talks.smoke) if talks else (),
        smoke_on=policy.on, smoke_rollback=policy.rollback,
        smoke_gate=policy.gate,
        smoke_concurrency=env.max_concurrent_conversations if env is not None else None,
        testmode_postprocessing=env.testmode_postprocessing if env is not None else None,
    ), []


def owned_paths(spec: AgentModel, env: Environment | None, key: str) -> tuple[str, ...]:
    """The fields the dashboard owns for this agent here: its own and the environment's."""
    extra = env.dashboard_owned.get(key, []) if env is not None else []
    return tuple(sorted({*spec.dashboard_owned, *extra}))


def quarantined(project: ProjectFile, key: str,
                tests: Sequence[SmokeTest]) -> tuple[SmokeTest, ...]:
    """The agent's smoke tests, with ``quarantine`` set on those the project file lists."""
    return tuple(test.model_copy(update={"quarantine": True})
                 if any(e.covers(key, test.name) for e in project.quarantine) else test
                 for test in tests)


def api_config(spec: AgentModel, prompt: PromptText | None) -> dict[str, Any]:
    """The config the API expects: declared fields only, prompt text inlined, extra merged."""
    config = spec.config.model_dump(exclude_unset=True, by_alias=True, exclude={"extra"})
    runtime = config.setdefault("runtime", {})
    runtime["prompt"] = {"type": "fixed",
                         "text": prompt.text if prompt else spec.config.runtime.prompt.text}
    if spec.config.extra:
        merged: dict[str, Any] = deep_merge(config, spec.config.extra)
        return merged
    return config


def effective_declaration(agent: AgentFile, override: dict[str, Any] | None
                          ) -> tuple[AgentModel, PromptText | None]:
    """The agent with an environment's override merged in (validated again), and its prompt
    (read again when the override names another one). Raises ``DeclarationError``."""
    if not override:
        return agent.spec, agent.prompt
    merged = deep_merge(agent.document.data, override)
    spec, problems = validate_data(
        agent_adapter(), merged,
        lambda path, msg, at_key: agent.document.diagnostic(path, f"with override: {msg}",
                                                            at_key=at_key))
    if spec is None:
        raise DeclarationError(problems)
    if spec.config.runtime.prompt == agent.spec.config.runtime.prompt:
        return spec, agent.prompt
    prompt, problems = read_prompt(spec.config.runtime.prompt, agent.document, agent.root,
                                   agent.vars)
    if problems:
        raise DeclarationError(problems)
    return spec, prompt


@dataclass(frozen=True)
class _SecretRule:
    """Which variables ``${env:...}`` may read here (``spec.secret_names``), and the values
    of the API key variables, which no declaration may copy into an agent whatever its name."""

    project: ProjectFile
    allowed: frozenset[str]
    key_values: frozenset[str]

    @classmethod
    def of(cls, project: ProjectFile, env_name: str | None,
           environ: Mapping[str, str]) -> _SecretRule:
        keys = frozenset(environ[n] for n in key_variables(project) if environ.get(n))
        return cls(project, declared_secrets(project, env_name), keys)

    def problem(self, name: str, env_name: str | None) -> str | None:
        reason = refusal(name, self.project)
        if reason is not None:
            return refused_message(name, reason)
        return None if name in self.allowed else undeclared_message(name, [env_name])


@dataclass
class _Values:
    """Looks up substitutions for one agent, remembering secrets and what is missing."""

    key: str
    env_name: str | None
    env: Environment | None
    environ: Mapping[str, str]
    secret_rule: _SecretRule
    # A template instance's vars: they come before the environment's.
    instance_vars: Mapping[str, Any] = field(default_factory=dict)
    sensitive: set[str] = field(default_factory=set)
    references: set[tuple[str, str]] = field(default_factory=set)
    missing: list[str] = field(default_factory=list)

    def lookup(self, sub: Substitution, path: DataPath) -> Any:
        if sub.kind == "env":
            return self._secret(sub, path)
        if sub.kind == "var":
            return self._var(sub)
        self.missing.append(f"{sub.text} is not a valid substitution (agent {self.key!r})")
        return ""

    def _secret(self, sub: Substitution, path: DataPath) -> str:
        if path[0] != "config":
            self.missing.append(f"{sub.text} is used outside config (agent {self.key!r}); "
                                "secrets may appear only in config")
            return ""
        problem = self.secret_rule.problem(sub.name, self.env_name)
        if problem is not None:  # checked before the variable is even read
            self.missing.append(f"{problem} (agent {self.key!r})")
            return ""
        value = self.environ.get(sub.name)
        if value is None:
            self.missing.append(f"environment variable {sub.name} is not set "
                                f"(needed by {sub.text} in agent {self.key!r})")
            return ""
        if value in self.secret_rule.key_values:
            self.missing.append(f"{sub.text} holds the same value as an API key variable "
                                f"(agent {self.key!r}); an API key is never written into an "
                                "agent")
            return ""
        place = ".".join(str(p) for p in path[1:])
        self.sensitive.add(place)
        self.references.add((place, sub.name))
        SECRETS.add(value)  # masked by value in everything this run writes out
        return value

    def _var(self, sub: Substitution) -> Any:
        if sub.name in self.instance_vars:
            return self.instance_vars[sub.name]
        if self.env is None:
            self.missing.append(f"{sub.text} needs an environment (agent {self.key!r}); "
                                "pass --env")
            return ""
        if sub.name not in self.env.vars:
            self.missing.append(f"{sub.text} has no value in the vars of environment "
                                f"{self.env_name!r} (agent {self.key!r})")
            return ""
        return self.env.vars[sub.name]


def _missing_message(env_name: str | None, missing: list[str]) -> str:
    where = f" for environment {env_name!r}" if env_name else ""
    return f"cannot resolve the declarations{where}: " + "; ".join(dict.fromkeys(missing))
