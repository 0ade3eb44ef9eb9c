"""The base of every declaration model: strict, closed to unknown keys, and able to say which
keys it knows so that a typo can be answered with "did you mean ...".

Validation records, in the validation context, which model class received which input
mapping (by object identity). ``operator_iac.spec.diagnostics`` uses that to find the known
keys of the mapping that held an unknown key, without walking type annotations.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

from operator_iac.spec.field_docs import describe_fields

# Validation-context key under which models register themselves: {id(input mapping): model}.
MODELS_BY_INPUT = "models_by_input"
NonEmptyStr = Annotated[str, Field(min_length=1)]


class StrictModel(BaseModel):
    """No coercion (a number is not a string), no unknown keys, frozen values."""

    # Attribute docstrings become descriptions in the JSON Schema (editor hover text), read
    # when a schema is built rather than as each class is defined (``spec.field_docs``).
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True,
                              json_schema_extra=describe_fields)

    # Keys accepted besides the fields (for models that allow free-form extras).
    extra_known_keys: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="before")
    @classmethod
    def _register_input(cls, data: Any, info: ValidationInfo) -> Any:
        context = info.context
        if isinstance(context, dict) and isinstance(data, dict):
            context.setdefault(MODELS_BY_INPUT, {})[id(data)] = cls
        return data

    @classmethod
    def known_keys(cls) -> list[str]:
        names = [f.alias or name for name, f in cls.model_fields.items()]
        return [*names, *cls.extra_known_keys]


def suggest(word: str, choices: Iterable[str]) -> str | None:
    """The closest of ``choices`` to ``word``, if one is close enough to be a likely typo."""
    options = list(choices)
    lowered = {c.lower(): c for c in options}
    if word.lower() in lowered:
        return lowered[word.lower()]
    found = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if found:
        return found[0]
    # An abbreviation ("prod" for "production") is as likely a slip as a typo.
    prefixed = [c for c in options if len(word) >= 3 and c.lower().startswith(word.lower())]
    return prefixed[0] if len(prefixed) == 1 else None


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``; did you mean 'x'?`` or an empty string."""
    best = suggest(word, choices)
    return f"; did you mean {best!r}?" if best else ""
