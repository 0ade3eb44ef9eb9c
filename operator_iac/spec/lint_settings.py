"""The ``lint:`` section of the project file: which team policies ``operator-iac lint``
enforces, and the values they are checked against (approved models, transfer numbers, a
prompt size budget, an AI disclosure requirement).

The section may appear at the top of the project file and in any environment; an
environment's section overrides the project's field by field (``rules`` merge rule by rule),
so production can be stricter than staging. A field left out means "as the level above", and
at the top "the default" below, so a project file without ``lint:`` lints with the defaults.

The defaults are defined here, once: the lint engine reads them from this module.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator

from operator_iac.spec.base import NonEmptyStr, StrictModel

RULE_ID_PATTERN = r"^OIC[0-9]{3}$"
RuleId = Annotated[str, Field(pattern=RULE_ID_PATTERN)]
RuleLevel = Literal["off", "warning", "error"]

DEFAULT_MAX_PROMPT_CHARS = 16_000
# Words and phrases that tell a listener they are talking to a machine. Regular expressions,
# matched without regard to case.
DEFAULT_DISCLOSURE_PHRASES: tuple[str, ...] = (
    r"\bAI\b", r"\bA\.I\.", r"artificial intelligence", r"\bvirtual (assistant|agent)\b",
    r"\bautomated (assistant|agent|system)\b", r"\b(ro)?bot\b", r"\bnot a (real )?(person|human)\b",
)


class LintSettings(StrictModel):
    """Team policies checked by `operator-iac lint`; in an environment, overrides the
    project's `lint:` field by field."""

    rules: dict[RuleId, RuleLevel] = Field(
        default_factory=dict, examples=[{"OIC103": "error", "OIC501": "off"}],
        json_schema_extra={"propertyNames": {"pattern": RULE_ID_PATTERN}})
    """Per rule id, `off`, `warning` or `error` instead of the rule's default severity (see
    docs/lint.md for every rule). An environment's entries are merged over the project's."""
    allowed_models: list[NonEmptyStr] | None = Field(
        default=None, examples=[["openai/gpt-4o", "anthropic/*"]])
    """The models agents may use, as `provider/model` or shell-style patterns
    (`anthropic/*`). Without it, every model is allowed."""
    allowed_transfer_numbers: list[NonEmptyStr] | None = Field(
        default=None, examples=[["+15550100", "+1555*"]])
    """The phone numbers agents may transfer calls to, in E.164 form (`+15550100`) or as
    shell-style patterns (`+1555*`), compared after `${var:...}` is filled in. Without it,
    every number is allowed."""
    max_prompt_chars: int | None = Field(default=None, ge=1, examples=[8000])
    """The prompt size budget: the most characters an effective prompt (fragments included)
    may have. Default 16000."""
    require_ai_disclosure: bool | None = None
    """true: every conversational agent's prompt must tell it to say, in its greeting, that
    it is an AI. Default false."""
    disclosure_phrases: list[NonEmptyStr] | None = Field(
        default=None, examples=[[r"\bAI\b", "virtual assistant"]])
    """Regular expressions (case-insensitive) of which one must appear in the greeting
    instructions when `require_ai_disclosure` is true. Default: AI, artificial intelligence,
    virtual assistant, automated assistant, bot, and the like."""

    @field_validator("disclosure_phrases")
    @classmethod
    def _compiles(cls, value: list[str] | None) -> list[str] | None:
        for phrase in value or []:
            try:
                re.compile(phrase)
            except re.error as exc:
                raise ValueError(f"{phrase!r} is not a valid regular expression: {exc}") \
                    from None
        return value
