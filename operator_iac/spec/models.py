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
    """The prompt type; `fixed` is the one the platform offers."""
    text: str | None = None
    """The prompt itself. Give `text` or `file`, not both."""
    file: NonEmptyStr | None = Field(default=None, examples=["prompts/support-triage.md"])
    """Path of a text file, relative to the agent file; inlined into text when applied."""

    @model_validator(mode="after")
    def _text_or_file(self) -> Prompt:
        if (self.text is None) == (self.file is None):
            raise ValueError("a prompt needs exactly one of 'text' or 'file'")
        return self


class Variable(StrictModel):
    """A value the prompt reads as `$name`, supplied per conversation."""

    name: VariableName = Field(examples=["customer_first_name"])
    """The variable's name, written `$name` in the prompt."""
    description: str | None = None
    """What the value is, for the people and tools that supply it."""
    default_value: str | None = None
    """Without a default, every conversation must supply the value in context.$variables."""


class Voice(StrictModel):
    """The voice a persona speaks with on calls."""

    provider: NonEmptyStr = Field(examples=["operator", "elevenlabs"])
    """Who provides the voice (a catalog value of the platform)."""
    id: NonEmptyStr = Field(examples=["Female 1"])
    """The voice's id at that provider."""


class Persona(StrictModel):
    """Who the agent presents itself as; the first persona greets."""

    name: NonEmptyStr = Field(examples=["Sam"])
    """The name the agent uses for itself."""
    voice: Voice | None = None
    """The persona's voice on calls (chat ignores it)."""


class VoiceSettings(StrictModel):
    """Sound on calls: background, hold sound and words to recognise more readily."""

    ambient_sound: str | None = None
    """Background sound played during calls (a catalog value), or none."""
    busy_sound: str | None = None
    """Sound played while the agent works on an answer (a catalog value), or none."""
    boosted_keywords: list[str] | None = None
    """Words the speech recognition should favour: product names, places, jargon."""


class ConversationalRuntime(StrictModel):
    """The model that runs the conversation, its prompt and the prompt's variables."""

    model: NonEmptyStr = Field(examples=["anthropic/claude-3-5-sonnet", "openai/gpt-4o"])
    """The language model, as `provider/model` (a catalog value of the platform)."""
    prompt: Prompt
    """The system prompt: inline `text`, or a `file` next to the agent file."""
    variables: list[Variable] | None = None
    """Values the prompt reads as `$name`, supplied per conversation."""


class Tool(StrictModel):
    """A tool the agent may call, by namespace and name."""

    ns: NonEmptyStr = Field(examples=["acme"])
    """The tool's namespace (an integration of the platform, or your own)."""
    name: NonEmptyStr = Field(examples=["lookup_order"])
    """The tool's name within its namespace; prompts refer to it as `@name`."""


class Transfer(StrictModel):
    """Somewhere the agent may hand the conversation over to."""

    entity_id: NonEmptyStr = Field(examples=["agent:billing-desk", "+15550100",
                                             "${var:support_queue}"])
    """A platform entity id (phone number, ca_...), or agent:<key> for a declared agent."""


class ConversationalTools(StrictModel):
    """The tools the agent may call and where it may transfer to."""

    tools: list[Tool] | None = None
    """Tools the agent may call during the conversation."""
    transfers: list[Transfer] | None = None
    """Where the agent may transfer the conversation: agents, phone numbers, queues."""


class Language(StrictModel):
    """Which languages the agent speaks."""

    default_language: NonEmptyStr | None = Field(default=None, examples=["en-US"])
    """The language a conversation starts in."""
    supported_languages: list[NonEmptyStr] | None = Field(default=None,
                                                          examples=[["en-US", "es-ES"]])
    """Languages the agent may switch to when the customer speaks them."""


class Channel(StrictModel):
    """Channel features beyond the conversation itself."""

    is_voicemail_enabled: bool | None = None
    """Whether the agent leaves a voicemail when a call is not answered."""
    is_sms_enabled: bool | None = None
    """Whether the agent may send text messages."""


class ConversationalConfig(StrictModel):
    """The configuration of a conversational agent, as the platform's `config`."""

    personas: list[Persona] | None = None
    """Who the agent presents itself as; the first persona greets."""
    voice: VoiceSettings | None = None
    """Sound on calls: ambient and busy sounds, boosted keywords."""
    runtime: ConversationalRuntime
    """The model, the prompt and the prompt's variables."""
    tool: ConversationalTools | None = None
    """The tools the agent may call and where it may transfer to."""
    language: Language | None = None
    """The default language and the others the agent speaks."""
    channel: Channel | None = None
    """Voicemail and text messages."""
    extra: dict[str, Any] | None = None
    """Passed through verbatim (deep-merged into config): platform fields not modelled here."""


class ProceduralRuntime(StrictModel):
    """The model that analyses each conversation, and its instructions."""

    model: NonEmptyStr = Field(examples=["openai/gpt-4o-mini"])
    """The language model, as `provider/model` (a catalog value of the platform)."""
    reasoning_effort: NonEmptyStr | None = Field(default=None, examples=["low", "medium",
                                                                         "high"])
    """How much the model reasons before it answers (a catalog value)."""
    prompt: Prompt
    """The instructions: inline `text`, or a `file` next to the agent file."""


class ProceduralTools(StrictModel):
    """The tools a procedural agent may call."""

    tools: list[Tool] | None = None
    """Tools the agent may call while it works."""


class Output(StrictModel):
    """What the procedural agent produces and where it is sent."""

    output_schema: dict[str, Any] | None = None
    """A JSON Schema (OpenAPI 3 compatible) of the structured output."""
    slack_channel: str | None = Field(default=None, examples=["#support-calls"])
    """A Slack channel that receives each result."""
    post_url: str | None = Field(default=None,
                                 examples=["https://hooks.example.com/calls?token=${env:HOOK}"])
    """A URL each result is POSTed to; put a token in it as `${env:NAME}`, never as text."""


class ProceduralConfig(StrictModel):
    """The configuration of a procedural agent, as the platform's `config`."""

    filter_statuses: list[NonEmptyStr] | None = Field(default=None,
                                                      examples=[["completed"]])
    """Run only after conversations that ended with one of these statuses."""
    filter_condition: str | None = None
    """Run only after conversations this condition (in words) holds for."""
    runtime: ProceduralRuntime
    """The model and its instructions."""
    tool: ProceduralTools | None = None
    """The tools the agent may call."""
    output: Output | None = None
    """The structured result: its schema, and where it is sent."""
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
    """`conversational_agent`: talks with people, by phone or chat."""
    name: NonEmptyStr = Field(examples=["Support triage"])
    """The agent's name in the dashboard."""
    description: str = ""
    """One line about the agent, shown in the dashboard."""
    config: ConversationalConfig
    """The agent's configuration, as the platform's `config`."""
    dashboard_owned: list[NonEmptyStr] = Field(
        default_factory=list, examples=[["config.runtime.prompt.text"],
                                        ["description", "config.tool.tools[name=book]"]])
    """Fields the dashboard owns, as the plan names them: apply keeps the platform's released
    value there, they are never drift, and the plan lists them as owned."""
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
    """`procedural_agent`: analyses conversations after they end."""
    name: NonEmptyStr = Field(examples=["Call summary"])
    """The agent's name in the dashboard."""
    description: str = ""
    """One line about the agent, shown in the dashboard."""
    config: ProceduralConfig
    """The agent's configuration, as the platform's `config`."""
    dashboard_owned: list[NonEmptyStr] = Field(
        default_factory=list, examples=[["config.runtime.prompt.text"],
                                        ["description", "config.tool.tools[name=book]"]])
    """Fields the dashboard owns, as the plan names them: apply keeps the platform's released
    value there, they are never drift, and the plan lists them as owned."""
    extends: NonEmptyStr | None = None
    """Path of a base file (abstract: true), relative to this file, merged under this one."""
    abstract: bool | None = None
    """true marks a base file: a partial declaration that agent files extend; no agent."""
    instances: list[Instance] | None = None
    """Makes this file a template: one agent per instance, keyed by the instance's key."""


AgentSpec = Annotated[ConversationalAgentSpec | ProceduralAgentSpec, Field(discriminator="kind")]
AGENT_KINDS = ("conversational_agent", "procedural_agent")
