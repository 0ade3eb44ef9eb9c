"""The project file ``operator-iac.yaml``: the project's name, where agent files live, smoke
defaults, and the environments agents are applied to (DESIGN.md section 2.1).

An environment names the variable that holds its API key (``api_key_env``), never the key.
``vars`` fill ``${var:NAME}`` in agent files; ``overrides`` are partial agent files
deep-merged per agent key.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from pydantic import Field, TypeAdapter, field_validator

from operator_iac.spec.assertions import SmokeSettings
from operator_iac.spec.base import NonEmptyStr, StrictModel
from operator_iac.spec.models import VARIABLE_PATTERN, AgentKey, VariableName, VarValue

DEFAULT_API_URL = "https://api.operator.xyz"
DEFAULT_API_KEY_ENV = "OPERATOR_API_KEY"
EnvName = AgentKey  # environment names follow the rule of agent keys


def _check_url(value: str | None, schemes: tuple[str, ...]) -> str | None:
    if value is not None and not value.startswith(tuple(f"{s}://" for s in schemes)):
        raise ValueError(f"must start with {' or '.join(s + '://' for s in schemes)}")
    return value


class Environment(StrictModel):
    """One place agents are applied to: an API endpoint, a key variable, values, overrides."""

    api_url: str | None = None
    ws_url: str | None = None
    api_key_env: VariableName = DEFAULT_API_KEY_ENV
    vars: dict[VariableName, VarValue] = Field(default_factory=dict)
    # agent key -> partial agent file (name, description, config, ...), deep-merged.
    overrides: dict[AgentKey, dict[str, Any]] = Field(default_factory=dict)
    protect: bool = False
    promote_from: str | None = None

    @field_validator("api_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        return _check_url(value, ("https", "http"))

    @field_validator("ws_url")
    @classmethod
    def _ws_url(cls, value: str | None) -> str | None:
        return _check_url(value, ("wss", "ws"))

    @field_validator("api_key_env", mode="before")
    @classmethod
    def _not_a_key(cls, value: Any) -> Any:
        # Someone pasted the key itself; say so without repeating it (the pattern's own
        # message would quote the value).
        if isinstance(value, str) and value.startswith(("op_", "sk-", "sk_")):
            raise ValueError("looks like an API key; api_key_env must name the environment "
                             "variable that holds the key, not the key itself")
        if isinstance(value, str) and not re.fullmatch(VARIABLE_PATTERN, value):
            raise ValueError("must name the environment variable that holds the API key "
                             "(letters, digits and '_', not starting with a digit)")
        return value

    @property
    def effective_api_url(self) -> str:
        return self.api_url or DEFAULT_API_URL


class SmokeDefaults(StrictModel):
    smoke: SmokeSettings = Field(default_factory=SmokeSettings)


class QuarantineEntry(StrictModel):
    """Smoke tests that run and are reported, but never fail a command or block a release."""

    agent: AgentKey
    """The key of the agent whose tests are quarantined."""
    test: NonEmptyStr | None = None
    """The name of one of its smoke tests; without it, every test of the agent."""

    def covers(self, key: str, test_name: str) -> bool:
        return self.agent == key and self.test in (None, test_name)


class ProjectFile(StrictModel):
    project: NonEmptyStr
    agents_dir: NonEmptyStr = "agents"
    defaults: SmokeDefaults = Field(default_factory=SmokeDefaults)
    environments: dict[EnvName, Environment] = Field(default_factory=dict)
    quarantine: list[QuarantineEntry] = Field(default_factory=list)
    """Smoke tests that run and are reported without gating (as `quarantine: true` on the
    test does), for example while a flaky test is being fixed."""


@functools.cache
def project_adapter() -> TypeAdapter[ProjectFile]:
    return TypeAdapter(ProjectFile)
