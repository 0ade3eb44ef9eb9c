"""Validation of request bodies: strict types (a string where a list belongs is a 422),
unknown fields kept (the platform's catalogs and config grow over time).

Validation only decides *whether* a body is acceptable; the emulator stores the body as it
was sent, so no defaults are injected into what a client later reads back.
"""

from __future__ import annotations

import functools
import json
from typing import Any, Literal, TypeVar

import jsonschema
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from operator_iac.emulator.problems import invalid

Scalar = str | int | float | bool | None


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)


class Voice(_Open):
    provider: str
    id: str


class Persona(_Open):
    name: str
    voice: Voice | None = None


class VoiceSettings(_Open):
    ambient_sound: str | None = None
    busy_sound: str | None = None
    boosted_keywords: list[str] | None = None


class Prompt(_Open):
    type: str
    text: str | None = None


class Variable(_Open):
    name: str
    description: str | None = None
    default_value: str | None = None


class Runtime(_Open):
    model: str | None = None
    prompt: Prompt | None = None
    variables: list[Variable] | None = None
    reasoning_effort: str | None = None


class ToolRef(_Open):
    ns: str
    name: str


class Transfer(_Open):
    # Older snapshots name the target ``id`` instead of ``entity_id``; both are accepted.
    entity_id: str | None = None
    id: str | None = None


class ToolSettings(_Open):
    tools: list[ToolRef] | None = None
    transfers: list[Transfer] | None = None


class Language(_Open):
    default_language: str | None = None
    supported_languages: list[str] | None = None


class ChannelSettings(_Open):
    is_voicemail_enabled: bool | None = None
    is_sms_enabled: bool | None = None


class ConversationalConfig(_Open):
    personas: list[Persona] | None = None
    voice: VoiceSettings | None = None
    runtime: Runtime | None = None
    tool: ToolSettings | None = None
    language: Language | None = None
    channel: ChannelSettings | None = None


class Output(_Open):
    output_schema: dict[str, Any] | None = None
    slack_channel: str | None = None
    post_url: str | None = None


class ProceduralConfig(_Open):
    filter_statuses: list[str] | None = None
    filter_condition: str | None = None
    runtime: Runtime | None = None
    tool: ToolSettings | None = None
    output: Output | None = None


class AgentFields(BaseModel):
    """Top-level agent fields; unknown top-level keys (``id``, ``version_status`` ...) are
    ignored so that a client may send back what it read."""

    model_config = ConfigDict(extra="ignore", strict=True)
    name: str | None = None
    description: str | None = None
    config: dict[str, Any] | None = None
    postprocess_agents: list[str] | None = None


class ChannelIn(_Open):
    type: Literal["phone", "chat_realtime", "chat_async"]
    callee_no: str | None = None
    caller_no: str | None = None
    priority: int | str | None = None


class CustomerIn(_Open):
    name: str | None = None
    phone_no: str | None = None
    email: str | None = None
    external_id: str | None = None
    salesforce_lead_id: str | None = None
    salesforce_contact_id: str | None = None
    zendesk_user_id: str | None = None
    extra: dict[str, Any] | None = None


class ContextIn(_Open):
    customer: CustomerIn | None = Field(default=None, alias="$customer")
    variables: dict[str, Scalar] | None = Field(default=None, alias="$variables")


class ConversationCreate(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)
    agent_id: str
    channel: ChannelIn
    livemode: bool = True
    context: dict[str, Any] | None = None
    override_config: dict[str, Any] | None = None


class ProcedureCreate(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)
    agent_id: str
    conversation_id: str
    livemode: bool = True


class ContextUpdate(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)
    context: dict[str, Any]


M = TypeVar("M", bound=BaseModel)

_CONFIG_MODELS: dict[str, type[BaseModel]] = {
    "ca": ConversationalConfig,
    "pa": ProceduralConfig,
}


def validate(model: type[M], data: Any, where: str = "body") -> M:
    """The validated model, or a 422 naming the first offending field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid(_describe(exc, where)) from exc


def validate_agent_body(prefix: str, body: dict[str, Any], creating: bool) -> AgentFields:
    """Check an agent create (all of name, description, config required) or update body."""
    fields = validate(AgentFields, body)
    for key in AgentFields.model_fields:
        if key in body and body[key] is None:
            raise invalid(f"body.{key}: must not be null")
    if creating:
        missing = [k for k in ("name", "description", "config") if k not in body]
        if missing:
            raise invalid(f"body.{missing[0]}: field required")
    if fields.postprocess_agents is not None and prefix != "ca":
        raise invalid("body.postprocess_agents: only conversational agents have this field")
    if fields.config is not None:
        validate_config(prefix, fields.config, "body.config")
    return fields


def validate_config(prefix: str, config: dict[str, Any], where: str) -> None:
    validate(_CONFIG_MODELS[prefix], config, where)
    output = config.get("output") or {}
    schema = output.get("output_schema") if isinstance(output, dict) else None
    if prefix == "pa" and schema is not None:
        _check_json_schema(schema, f"{where}.output.output_schema")


def validate_context(context: dict[str, Any], where: str) -> ContextIn:
    return validate(ContextIn, context, where)


def _check_json_schema(schema: dict[str, Any], where: str) -> None:
    """Accept what JSON Schema (the declared or latest draft) or OpenAPI 3.0's draft-4
    flavour (boolean ``exclusiveMinimum``) considers a schema."""
    problem = _schema_problem(json.dumps(schema, sort_keys=True))
    if problem is not None:
        raise invalid(f"{where}: not a valid JSON Schema ({problem})")


@functools.lru_cache(maxsize=256)
def _schema_problem(text: str) -> str | None:
    # By the schema's text: every write of an agent sends its output schema again, and
    # checking one against the metaschemas is most of the emulator's work on such a write.
    schema = json.loads(text)
    declared = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    first_error: jsonschema.SchemaError | None = None
    for validator in (declared, jsonschema.Draft4Validator):
        try:
            validator.check_schema(schema)
            return None
        except jsonschema.SchemaError as exc:
            first_error = first_error or exc
    assert first_error is not None
    return first_error.message


def _describe(exc: ValidationError, where: str) -> str:
    first = exc.errors()[0]
    path = ".".join(str(part) for part in (where, *first["loc"]))
    more = exc.error_count() - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return f"{path}: {first['msg']}{suffix}"


__all__ = [
    "AgentFields",
    "ContextUpdate",
    "ConversationCreate",
    "ProcedureCreate",
    "validate",
    "validate_agent_body",
    "validate_config",
    "validate_context",
]
