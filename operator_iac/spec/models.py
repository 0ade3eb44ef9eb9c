"""Agent files as strict pydantic models: conversational and procedural agents, told apart
by ``kind``, mirroring the API's ``name``, ``description`` and ``config`` (operator-api.md
sections 3 and 4) plus this tool's conveniences (prompt files, ``extra``, smoke tests).

Config fields are optional unless the agent cannot work without them; what the user leaves
out stays unset, and the resolver sends only what was declared. Catalog values (models,
voices, sounds, tool namespaces, reasoning efforts) are free strings.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from operator_iac.spec.assertions import SmokeSettings, SmokeTest
from operator_iac.spec.base import NonEmptyStr, StrictModel

__all__ = [
    "AgentSpec",
    "ConversationalAgentSpec",
    "ProceduralAgentSpec",
    "SmokeSettings",
    "SmokeTest",
]

# Agent keys are file stems; they appear in `agent:<key>` references and as `@key` in prompts.
KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]*$"
AgentKey = Annotated[str, Field(pattern=KEY_PATTERN)]
VARIABLE_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
VariableName = Annotated[str, Field(pattern=VARIABLE_PATTERN)]
VarValue = str | int | float | bool


class Prompt(StrictModel):
    """``{type: fixed, text: ...}`` as the API has it, or ``{type: fixed, file: ...}``."""

    type: Literal["fixed"] = "fixed"
    text: str | None = None
    file: NonEmptyStr | None = None
    """Path of a text file, relative to the agent file; inlined into text when applied."""

    @model_validator(mode="after")
    def _text_or_file(self) -> Prompt:
        if (self.text is None) == (self.file is None):
            raise ValueError("a prompt needs exactly one of 'text' or 'file'")
        return self


class Variable(StrictModel):
    name: VariableName
    description: str | None = None
    default_value: str | None = None
    """Without a default, every conversation must supply the value in context.$variables."""


class Voice(StrictModel):
    provider: NonEmptyStr
    id: NonEmptyStr


class Persona(StrictModel):
    name: NonEmptyStr
    voice: Voice | None = None


class VoiceSettings(StrictModel):
    ambient_sound: str | None = None
    busy_sound: str | None = None
    boosted_keywords: list[str] | None = None


class ConversationalRuntime(StrictModel):
    model: NonEmptyStr
    prompt: Prompt
    variables: list[Variable] | None = None


class Tool(StrictModel):
    ns: NonEmptyStr
    name: NonEmptyStr


class Transfer(StrictModel):
    entity_id: NonEmptyStr
    """A platform entity id (phone number, ca_...), or agent:<key> for a declared agent."""


class ConversationalTools(StrictModel):
    tools: list[Tool] | None = None
    transfers: list[Transfer] | None = None


class Language(StrictModel):
    default_language: NonEmptyStr | None = None
    supported_languages: list[NonEmptyStr] | None = None


class Channel(StrictModel):
    is_voicemail_enabled: bool | None = None
    is_sms_enabled: bool | None = None


class ConversationalConfig(StrictModel):
    personas: list[Persona] | None = None
    voice: VoiceSettings | None = None
    runtime: ConversationalRuntime
    tool: ConversationalTools | None = None
    language: Language | None = None
    channel: Channel | None = None
    extra: dict[str, Any] | None = None
    """Passed through verbatim (deep-merged into config): platform fields not modelled here."""


class ProceduralRuntime(StrictModel):
    model: NonEmptyStr
    reasoning_effort: NonEmptyStr | None = None
    prompt: Prompt


class ProceduralTools(StrictModel):
    tools: list[Tool] | None = None


class Output(StrictModel):
    output_schema: dict[str, Any] | None = None
    """A JSON Schema (OpenAPI 3 compatible) of the structured output."""
    slack_channel: str | None = None
    post_url: str | None = None


class ProceduralConfig(StrictModel):
    filter_statuses: list[NonEmptyStr] | None = None
    filter_condition: str | None = None
    runtime: ProceduralRuntime
    tool: ProceduralTools | None = None
    output: Output | None = None
    extra: dict[str, Any] | None = None
    """Passed through verbatim (deep-merged into config): platform fields not modelled here."""


class Instance(StrictModel):
    """One agent made from a template file."""

    key: AgentKey
    """The instance's agent key (instead of the file stem): its identity on the platform."""
    vars: dict[VariableName, VarValue] = Field(default_factory=dict)
    """Values for ${var:NAME} in the template, used before the environment's vars."""


class ConversationalAgentSpec(StrictModel):
    """An agent that talks (voice or chat)."""

    kind: Literal["conversational_agent"]
    name: NonEmptyStr
    description: str = ""
    config: ConversationalConfig
    postprocess_agents: list[AgentKey] = Field(default_factory=list)
    """Keys of procedural agents to run after each conversation ends."""
    smoke: list[SmokeTest] = Field(default_factory=list)
    """Smoke tests run against drafts and releases; not sent to the platform."""
    smoke_settings: SmokeSettings | None = None
    """Overrides the project's defaults.smoke for this agent."""
    # The keys that compose a declaration from other files (operator_iac.spec.compose and
    # .instances); they are resolved while loading and never reach the platform.
    extends: NonEmptyStr | None = None
    """Path of a base file (abstract: true), relative to this file, merged under this one."""
    abstract: bool | None = None
    """true marks a base file: a partial declaration that agent files extend; no agent."""
    instances: list[Instance] | None = None
    """Makes this file a template: one agent per instance, keyed by the instance's key."""


class ProceduralAgentSpec(StrictModel):
    """An agent that analyses conversations after they end."""

    kind: Literal["procedural_agent"]
    name: NonEmptyStr
    description: str = ""
    config: ProceduralConfig
    extends: NonEmptyStr | None = None
    """Path of a base file (abstract: true), relative to this file, merged under this one."""
    abstract: bool | None = None
    """true marks a base file: a partial declaration that agent files extend; no agent."""
    instances: list[Instance] | None = None
    """Makes this file a template: one agent per instance, keyed by the instance's key."""


AgentSpec = Annotated[ConversationalAgentSpec | ProceduralAgentSpec, Field(discriminator="kind")]
AGENT_KINDS = ("conversational_agent", "procedural_agent")
