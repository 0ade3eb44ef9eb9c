"""Smoke-test declarations: a test is turns of user input, each with expectations, plus
expectations over the whole event stream (DESIGN.md section 5).

Each assertion kind is its own model with exactly one key (``{agent_says: {...}}``), so the
runner dispatches on the class. Flag assertions may be written bare (``- no_server_errors``).
Value matchers (tool arguments, procedure output) are a literal, compared exactly, or a
one-key mapping naming a matcher (``{regex: ...}``, ``{contains: ...}``, ...).
These are declarations only; evaluating them is ``operator_iac.smoke``'s job.
"""

from __future__ import annotations

import re
import typing
from typing import Annotated, Any, Literal, Union

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from operator_iac.spec.base import NonEmptyStr, StrictModel, suggest
from operator_iac.spec.gate import Compare, GateSettings
from operator_iac.spec.smoke_rules import PASS_RULE_PATTERN, JudgeSpec, PassRule

ConversationStatus = Literal[
    "queued", "in-progress", "completed", "voicemail", "failed", "busy", "no-answer"]
ProcedureStatus = Literal["pending", "running", "success", "failed", "skipped", "cancelled"]
SmokeStage = Literal["draft", "released"]


def _tags(union: Any) -> dict[str, type[StrictModel]]:
    """``{tag: model}`` of a tagged union ``Annotated[Annotated[Model, Tag(t)] | ..., ...]``,
    so that the union is the one list of its members."""
    members = typing.get_args(typing.get_args(union)[0])
    return {tag.tag: model for model, tag in map(typing.get_args, members)}


def _check_regex(value: str | None) -> str | None:
    if value is not None:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"invalid regular expression: {exc}") from None
    return value


# ---- value matchers ------------------------------------------------------------------------


class EqualsMatch(StrictModel):
    equals: Any


class RegexMatch(StrictModel):
    regex: str

    @field_validator("regex")
    @classmethod
    def _regex_compiles(cls, value: str) -> str | None:
        return _check_regex(value)


class ContainsMatch(StrictModel):
    contains: str


class NotContainsMatch(StrictModel):
    not_contains: str


class OneOfMatch(StrictModel):
    one_of: list[Any] = Field(min_length=1)


class SubsetMatch(StrictModel):
    """The value (JSON, or a JSON string) contains this mapping or list as a subset."""

    subset: Any


class AnyMatch(StrictModel):
    any: Literal[True]


def _as_matcher(value: Any) -> Any:
    """A one-key mapping naming a matcher stays as is; anything else is a literal to equal."""
    if isinstance(value, dict) and len(value) == 1:
        key = next(iter(value))
        if key in MATCHER_KEYS:
            return value
        close = suggest(key, MATCHER_KEYS)
        if close is not None:
            raise PydanticCustomError(
                "matcher_typo",
                "unknown matcher '{key}'; did you mean '{suggestion}'? "
                "(to compare with a literal mapping, use the 'equals' matcher)",
                {"key": key, "suggestion": close})
    return {"equals": value}


def _matcher_key(value: Any) -> str | None:
    return next(iter(value)) if isinstance(value, dict) and len(value) == 1 else None


Matcher = Annotated[
    Annotated[EqualsMatch, Tag("equals")]
    | Annotated[RegexMatch, Tag("regex")]
    | Annotated[ContainsMatch, Tag("contains")]
    | Annotated[NotContainsMatch, Tag("not_contains")]
    | Annotated[OneOfMatch, Tag("one_of")]
    | Annotated[SubsetMatch, Tag("subset")]
    | Annotated[AnyMatch, Tag("any")],
    Discriminator(_matcher_key),
    BeforeValidator(_as_matcher, json_schema_input_type=Any),
]
MATCHER_KEYS = tuple(_tags(Matcher))


class TextMatch(StrictModel):
    """Conditions on the agent's text; every one given must hold."""

    contains: str | None = None
    """The text contains this (case-sensitive)."""
    not_contains: str | None = None
    """No agent message contains this."""
    equals: str | None = None
    """The whole text is exactly this."""
    regex: str | None = None
    """The text matches this regular expression (Python syntax; `(?i)` ignores case)."""
    one_of: list[str] | None = None
    """The whole text is one of these."""

    @field_validator("regex")
    @classmethod
    def _regex_compiles(cls, value: str | None) -> str | None:
        return _check_regex(value)

    @model_validator(mode="after")
    def _at_least_one(self) -> TextMatch:
        if not self.model_fields_set:
            raise ValueError("give at least one of: contains, not_contains, equals, regex, one_of")
        return self


# ---- assertion payloads --------------------------------------------------------------------


class ToolCall(StrictModel):
    name: NonEmptyStr
    """The tool's name."""
    arguments: dict[str, Matcher] = Field(default_factory=dict)
    """Argument matchers by JSON path (`day`, `slot.time`, `items[0].name`): a literal, or
    `{equals|regex|contains|not_contains|one_of|subset|any: ...}`."""
    within_turns: int | None = Field(default=None, ge=1)
    """The call may come in this turn or up to N-1 turns later (over the whole conversation:
    by user turn N); without it, in this turn (or anywhere in the conversation)."""


class ToolName(StrictModel):
    name: NonEmptyStr
    """The tool's name."""


class ToolErrorRef(StrictModel):
    name: NonEmptyStr | None = None
    """Only this tool's errors count; without it, any tool's."""


class ProcedureExpect(StrictModel):
    agent: NonEmptyStr
    """Key of the procedural agent (one of the agent's `postprocess_agents`)."""
    status: ProcedureStatus = "success"
    """The status its run must end with."""
    output: dict[str, Matcher] = Field(default_factory=dict)
    """Matchers on its output by JSON path, like tool arguments."""


# ---- assertions: one model per kind, each a mapping with exactly one key --------------------


class AgentSays(StrictModel):
    agent_says: TextMatch
    """An agent message matches (every condition on one message; `not_contains` on all)."""


class ToolCalled(StrictModel):
    tool_called: ToolCall
    """The agent called this tool, with arguments that match."""


class ToolNotCalled(StrictModel):
    tool_not_called: ToolName
    """The agent never called this tool."""


class ToolSequence(StrictModel):
    tool_sequence: list[NonEmptyStr] = Field(min_length=1)
    """The agent called these tools in this order (other calls may come between)."""


class ToolReturnedError(StrictModel):
    tool_returned_error: ToolErrorRef
    """A tool call returned an error (`{}` or bare: any tool)."""


class NoToolErrors(StrictModel):
    no_tool_errors: Literal[True]
    """No tool call returned an error."""


class NoServerErrors(StrictModel):
    no_server_errors: Literal[True]
    """The platform reported no server error during the conversation."""


class MaxTurnLatency(StrictModel):
    max_turn_latency_ms: int = Field(gt=0)
    """Each reply completed within this many milliseconds of the user's message."""


class MaxTotalTime(StrictModel):
    max_total_ms: int = Field(gt=0)
    """The whole conversation took at most this many milliseconds."""


class EndedWithStatus(StrictModel):
    ended_with_status: ConversationStatus
    """The conversation ended with this status."""


class ProcedureRan(StrictModel):
    procedure: ProcedureExpect
    """A procedural agent ran after the conversation, with this status and output."""


class NoticeSent(StrictModel):
    notice_sent: TextMatch
    """An `agent.notice.sent` event whose text matches (a recording or AI disclosure)."""


class ContextUpdated(StrictModel):
    context_updated: dict[str, Matcher]
    """A `conversation.context.updated` event whose context matches these fields (JSON paths
    such as `$variables.customer_name`); `{}` accepts any update."""


class AgentInterrupted(StrictModel):
    agent_interrupted: bool
    """true: some agent message was interrupted; false: none was (judged on the
    `interrupted` flag of `agent.message.completed`)."""


def _expand_bare(value: Any) -> Any:
    if isinstance(value, str) and value in BARE_ASSERTIONS:
        return {value: BARE_ASSERTIONS[value]}
    return value


def _assertion_key(value: Any) -> str | None:
    key = _matcher_key(value)
    if key is None and isinstance(value, str):
        return value
    return key


_TaggedAssertion = Annotated[
    Annotated[AgentSays, Tag("agent_says")]
    | Annotated[ToolCalled, Tag("tool_called")]
    | Annotated[ToolNotCalled, Tag("tool_not_called")]
    | Annotated[ToolSequence, Tag("tool_sequence")]
    | Annotated[ToolReturnedError, Tag("tool_returned_error")]
    | Annotated[NoToolErrors, Tag("no_tool_errors")]
    | Annotated[NoServerErrors, Tag("no_server_errors")]
    | Annotated[MaxTurnLatency, Tag("max_turn_latency_ms")]
    | Annotated[MaxTotalTime, Tag("max_total_ms")]
    | Annotated[EndedWithStatus, Tag("ended_with_status")]
    | Annotated[ProcedureRan, Tag("procedure")]
    | Annotated[NoticeSent, Tag("notice_sent")]
    | Annotated[ContextUpdated, Tag("context_updated")]
    | Annotated[AgentInterrupted, Tag("agent_interrupted")],
    Discriminator(
        _assertion_key,
        custom_error_type="assertion_shape",
        custom_error_message="an assertion is a mapping with exactly one key naming its kind",
    ),
]
ASSERTION_TYPES = _tags(_TaggedAssertion)
# Assertions about the conversation as a whole; they have no meaning inside one turn.
WHOLE_CONVERSATION_ONLY = ("max_total_ms", "ended_with_status", "procedure")
# Written bare in a list (`- no_server_errors`), they mean {name: true} (or {name: {}}).
BARE_ASSERTIONS: dict[str, Any] = {
    "no_server_errors": True, "no_tool_errors": True, "tool_returned_error": {}}

Assertion = Annotated[
    _TaggedAssertion,
    BeforeValidator(
        _expand_bare,
        json_schema_input_type=Literal[tuple(BARE_ASSERTIONS)]
        | Union[tuple(ASSERTION_TYPES.values())],  # noqa: UP007 (built from a tuple)
    ),
]


def assertion_kind(assertion: StrictModel) -> str:
    """The key an assertion was written with (``agent_says``, ``procedure``, ...)."""
    return next(iter(type(assertion).model_fields))


# ---- tests -----------------------------------------------------------------------------------


class Customer(StrictModel):
    """The documented ``$customer`` context key."""

    name: str | None = None
    """The customer's name."""
    phone_no: str | None = None
    """The customer's phone number (E.164, such as +15550100)."""
    email: str | None = None
    """The customer's email address."""
    external_id: str | None = None
    """The customer's id in your own systems."""
    salesforce_lead_id: str | None = None
    """The customer's Salesforce lead id."""
    salesforce_contact_id: str | None = None
    """The customer's Salesforce contact id."""
    zendesk_user_id: str | None = None
    """The customer's Zendesk user id."""
    extra: dict[str, Any] | None = None
    """More about the customer, free-form."""


class SmokeContext(StrictModel):
    """Conversation context: the reserved ``$variables`` and ``$customer``, plus free keys."""

    model_config = ConfigDict(extra="allow")

    variables: dict[str, str] = Field(default_factory=dict, alias="$variables")
    """Values of the prompt's variables, by name."""
    customer: Customer | None = Field(default=None, alias="$customer")
    """Who the agent is talking to."""

    @model_validator(mode="before")
    @classmethod
    def _reserved_keys_only(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key in data:
                if isinstance(key, str) and key.startswith("$") and key not in (
                        "$variables", "$customer"):
                    hint = suggest(key, ("$variables", "$customer"))
                    raise PydanticCustomError(
                        "unknown_reserved_key",
                        "unknown reserved context key '{key}'{hint}; "
                        "keys starting with '$' are $variables and $customer",
                        {"key": key, "hint": f" (did you mean {hint!r}?)" if hint else ""})
        return data


class Turn(StrictModel):
    """One exchange: the user's message (none for the greeting) and what must follow it."""

    user: str | None = None
    """What the user says; leave it out in the first turn to check the greeting."""
    expect: list[Assertion] = Field(default_factory=list)
    """Assertions on what follows the message, up to the agent's reply."""


class SmokeTest(StrictModel):
    """A test conversation with the agent, judged on the platform's event stream."""

    name: NonEmptyStr = Field(examples=["books a cleaning"])
    """The test's name in reports."""
    context: SmokeContext = Field(default_factory=SmokeContext)
    """The conversation's context: `$variables`, `$customer` and free keys."""
    turns: list[Turn] = Field(default_factory=list)
    """The exchanges, in order; a first turn without `user` checks the greeting."""
    expect: list[Assertion] = Field(default_factory=list)
    """Assertions on the whole conversation."""
    repeat: int = Field(default=1, ge=1, le=100)
    """How many times the test runs (attempts), for agents that vary."""
    pass_rule: str | None = Field(default=None, pattern=PASS_RULE_PATTERN)
    """How many of the `repeat` attempts must pass: `all` (the default), `majority`, or
    `rate:0.8`. A test whose rule held although some attempt failed is `flaky`."""
    min_pass_rate: float | None = Field(default=None, ge=0.0, le=1.0)
    """The share of attempts that must pass; the same as `pass_rule: rate:X`."""
    quarantine: bool = False
    """Run and report this test, but never let it fail a command or block a release."""
    judge: JudgeSpec | None = None
    """A procedural agent of the project that judges each finished conversation; its verdict
    is one more assertion of every attempt."""
    turn_timeout_s: float = Field(default=30.0, gt=0)
    """Seconds each turn may take."""
    timeout_s: float = Field(default=120.0, gt=0)
    """Seconds the whole test may take, including waiting for procedures."""
    compare: Compare | None = None
    """`released`: run the test on the candidate and on the released revision, interleaved,
    and block a release that makes it pass less often (the agent's `smoke_settings.gate`
    sets how sure and how many conversations)."""

    @model_validator(mode="after")
    def _one_pass_rule(self) -> SmokeTest:
        if self.pass_rule is not None and self.min_pass_rate is not None:
            raise ValueError("give pass_rule or min_pass_rate, not both (min_pass_rate: X is "
                             "pass_rule: rate:X)")
        if self.compare is not None and (self.repeat != 1 or self.pass_rule is not None or
                                         self.min_pass_rate is not None):
            raise ValueError("repeat, pass_rule and min_pass_rate do not apply to a test with "
                             "compare: the comparison decides how many conversations run "
                             "and what passes (max_conversations under smoke_settings.gate)")
        return self

    @property
    def rule(self) -> PassRule:
        """The pass rule over the test's attempts."""
        return PassRule.parse(self.pass_rule, self.min_pass_rate)

    @property
    def user_turns(self) -> int:
        """How many user messages the test sends."""
        return sum(1 for turn in self.turns if turn.user is not None)


class SmokeSettings(StrictModel):
    """When smoke tests run during apply, and whether a failure after release rolls back."""

    on: list[SmokeStage] | None = Field(default=None, examples=[["draft", "released"]])
    """When the tests run: on the `draft` before release, on the `released` revision."""
    rollback: bool | None = None
    """Re-release the previous revision when tests fail after a release."""
    gate: GateSettings | None = None
    """Compare every smoke test with the released revision before releasing, and block a
    candidate that passes less often: `{compare: released, max_drop: 0.1, confidence: 0.95,
    max_conversations: 600, inconclusive: block}`."""
