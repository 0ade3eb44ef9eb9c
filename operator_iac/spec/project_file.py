"""The project file ``operator-iac.yaml``: the project's name, where agent files live, smoke
defaults, and the environments agents are applied to (DESIGN.md section 2.1).

An environment names the variable that holds its API key (``api_key_env``), never the key.
``vars`` fill ``${var:NAME}`` in agent files; ``overrides`` are partial agent files
deep-merged per agent key. ``secrets`` (top level, and per environment) declare the process
variables agents may read as ``${env:NAME}`` (``operator_iac.spec.secret_names``).
"""

from __future__ import annotations

import functools
import re
from typing import Any

from pydantic import Field, TypeAdapter, field_validator

from operator_iac.defaults import API_KEY_ENV, API_URL
from operator_iac.spec.assertions import SmokeSettings
from operator_iac.spec.base import NonEmptyStr, StrictModel
from operator_iac.spec.lint_settings import LintSettings
from operator_iac.spec.models import VARIABLE_PATTERN, AgentKey, VariableName, VarValue

EnvName = AgentKey  # environment names follow the rule of agent keys
_PROJECT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")  # the marker's rule for names


def _check_url(value: str | None, schemes: tuple[str, ...]) -> str | None:
    if value is not None and not value.startswith(tuple(f"{s}://" for s in schemes)):
        raise ValueError(f"must start with {' or '.join(s + '://' for s in schemes)}")
    return value


class Environment(StrictModel):
    """One place agents are applied to: an API endpoint, a key variable, values, overrides."""

    api_url: str | None = Field(default=None, examples=[API_URL])
    """The platform's API (default https://api.operator.xyz)."""
    ws_url: str | None = None
    """The chat sessions' WebSocket base, when the platform does not say (wss://...)."""
    api_key_env: VariableName = Field(default=API_KEY_ENV,
                                      examples=["OPERATOR_API_KEY_STAGING"])
    """The name of the variable that holds the API key; never the key itself."""
    vars: dict[VariableName, VarValue] = Field(default_factory=dict)
    """Values for `${var:NAME}` in agent files, by name."""
    secrets: list[VariableName] = Field(default_factory=list, examples=[["BOOKING_API_TOKEN"]])
    """More process variables agents here may read as `${env:NAME}` (beside the project's
    top-level `secrets`). API key variables and CI credentials are refused."""
    # agent key -> partial agent file (name, description, config, ...), deep-merged.
    overrides: dict[AgentKey, dict[str, Any]] = Field(default_factory=dict)
    """Per agent key, a partial agent file deep-merged into the declaration here."""
    dashboard_owned: dict[AgentKey, list[NonEmptyStr]] = Field(
        default_factory=dict, examples=[{"support-triage": ["config.runtime.prompt.text"]}])
    """Per agent key, more fields the dashboard owns here (as the agent's own
    dashboard_owned): apply keeps the platform's released value, never drift."""
    protect: bool = False
    """Deletions need --allow-delete."""
    promote_from: str | None = Field(default=None, examples=["staging"])
    """Changes arrive only by `operator-iac promote` from this environment."""
    max_concurrent_conversations: int | None = Field(default=None, ge=1, examples=[10])
    """The most test conversations one run (one CI job) opens here at once; fewer when the
    platform answers 429."""
    testmode_postprocessing: bool | None = None
    """Whether this platform runs the procedural agents of `postprocess_agents` after a test
    (testmode) conversation ends. Unset: a `procedure` assertion waits for the platform's
    run and operator-iac never starts one itself (a run may post to Slack or a webhook, and
    the platform may only be slow); false: operator-iac starts the runs at once with
    `POST /procedures`; true: it never starts them. `doctor --write-check` observes it."""
    lint: LintSettings | None = None
    """`operator-iac lint` policies here, overriding the project's `lint:` field by field
    (for example a stricter model list for production)."""

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


class SmokeDefaults(StrictModel):
    """Defaults for every agent of the project."""

    smoke: SmokeSettings = Field(default_factory=SmokeSettings)
    """When smoke tests run during apply, and whether a failure after release rolls back."""


class QuarantineEntry(StrictModel):
    """Smoke tests that run and are reported, but never fail a command or block a release."""

    agent: AgentKey
    """The key of the agent whose tests are quarantined."""
    test: NonEmptyStr | None = None
    """The name of one of its smoke tests; without it, every test of the agent."""

    def covers(self, key: str, test_name: str) -> bool:
        return self.agent == key and self.test in (None, test_name)


class ProjectFile(StrictModel):
    project: NonEmptyStr = Field(examples=["acme-support"])
    """The project's name, written into every managed agent's ownership marker."""

    @field_validator("project")
    @classmethod
    def _marker_name(cls, value: str) -> str:
        # The name goes into every marker, whose line must parse back unambiguously.
        if not _PROJECT_RE.match(value):
            raise ValueError(f"{value!r} cannot be written into the ownership "
                             "marker: use letters, digits, '.', '_' and '-' only, starting "
                             "with a letter or digit")
        return value
    agents_dir: NonEmptyStr = "agents"
    """The folder of the agent files, relative to this file."""
    defaults: SmokeDefaults = Field(default_factory=SmokeDefaults)
    """Defaults for every agent: `smoke: {on: [...], rollback: ...}`."""
    environments: dict[EnvName, Environment] = Field(default_factory=dict)
    """The places agents are applied to, by name (staging, production...)."""
    secrets: list[VariableName] = Field(default_factory=list, examples=[["BOOKING_API_TOKEN"]])
    """The process variables agents may read as `${env:NAME}`, in every environment: any
    other name is refused. API key variables and CI credentials are refused even here."""
    quarantine: list[QuarantineEntry] = Field(default_factory=list)
    """Smoke tests that run and are reported without gating (as `quarantine: true` on the
    test does), for example while a flaky test is being fixed."""
    lint: LintSettings = Field(default_factory=LintSettings)
    """Team policies `operator-iac lint` checks: rule severities, approved models, transfer
    numbers, prompt size budget, AI disclosure; environments may override them."""


@functools.cache
def project_adapter() -> TypeAdapter[ProjectFile]:
    return TypeAdapter(ProjectFile)
