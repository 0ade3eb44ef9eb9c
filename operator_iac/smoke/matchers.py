"""Matchers: does a value (tool arguments, procedure output, agent text) meet a declaration?

Every check returns ``None`` when it holds, or a short reason when it does not, so that the
assertion that uses it can say what was expected and what was seen. Values are JSON data;
tool arguments arrive JSON-encoded and are decoded first. Fields are addressed with a small
JSON-path syntax: ``day``, ``slot.time``, ``items[0].name`` (``$`` is the whole value); a key
that literally contains a dot is found too. Pure functions, no I/O.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from operator_iac.spec.assertions import (
    AnyMatch,
    ContainsMatch,
    EqualsMatch,
    NotContainsMatch,
    OneOfMatch,
    RegexMatch,
    SubsetMatch,
    TextMatch,
)

ValueMatcher = (EqualsMatch | RegexMatch | ContainsMatch | NotContainsMatch | OneOfMatch
                | SubsetMatch | AnyMatch)
MISSING = object()
_SEGMENT = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
MAX_SHOWN = 120


# ---- showing values --------------------------------------------------------------------------


def show(value: Any, limit: int = MAX_SHOWN) -> str:
    """A value as compact JSON (strings quoted), cut to ``limit`` characters."""
    if value is MISSING:
        return "(missing)"
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return clip(text, limit)


def clip(text: str, limit: int) -> str:
    """``text``, or its first ``limit - 3`` characters and ``...`` when it is longer."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe(matcher: ValueMatcher) -> str:
    """``matches regex "(?i)tue"``, ``equals true`` ... for failure messages."""
    if isinstance(matcher, EqualsMatch):
        return f"equals {show(matcher.equals)}"
    if isinstance(matcher, RegexMatch):
        return f"matches regex {show(matcher.regex)}"
    if isinstance(matcher, ContainsMatch):
        return f"contains {show(matcher.contains)}"
    if isinstance(matcher, NotContainsMatch):
        return f"does not contain {show(matcher.not_contains)}"
    if isinstance(matcher, OneOfMatch):
        return f"is one of {show(matcher.one_of)}"
    if isinstance(matcher, SubsetMatch):
        return f"includes {show(matcher.subset)}"
    return "is present"


# ---- JSON data -------------------------------------------------------------------------------


def decode_json(value: Any) -> Any:
    """A JSON-encoded string decoded; anything else (or a string that is not JSON) as is."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def lookup(data: Any, path: str) -> Any:
    """The value at ``path`` in ``data``, or ``MISSING``."""
    if path in ("", "$"):
        return data
    if isinstance(data, Mapping) and path in data:
        return data[path]
    current = data
    for name, index in _SEGMENT.findall(path.removeprefix("$.").removeprefix("$")):
        current = _step(current, name, index)
        if current is MISSING:
            return MISSING
    return current


def _step(current: Any, name: str, index: str) -> Any:
    if index:
        position = int(index)
        if isinstance(current, list) and position < len(current):
            return current[position]
        return MISSING
    if isinstance(current, Mapping) and name in current:
        return current[name]
    return MISSING


def same(left: Any, right: Any) -> bool:
    """JSON equality: ``true`` is not ``1``, ``1`` equals ``1.0``."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, Mapping) and isinstance(right, Mapping):
        return left.keys() == right.keys() and all(same(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(same(a, b) for a, b in zip(left, right,
                                                                          strict=True))
    return bool(left == right)


def includes(value: Any, wanted: Any) -> bool:
    """Whether ``value`` holds ``wanted`` as a subset: mappings key by key (recursively),
    lists element by element (each wanted element included in some element), else equal."""
    value = decode_json(value)
    if isinstance(wanted, Mapping):
        return isinstance(value, Mapping) and all(
            key in value and includes(value[key], item) for key, item in wanted.items())
    if isinstance(wanted, list):
        return isinstance(value, list) and all(
            any(includes(element, item) for element in value) for item in wanted)
    return same(value, wanted)


# ---- value matchers --------------------------------------------------------------------------


def check_value(matcher: ValueMatcher, value: Any) -> str | None:
    """None when ``value`` (``MISSING`` if absent) satisfies ``matcher``, else why not."""
    if isinstance(matcher, NotContainsMatch):
        return None if value is MISSING or not _contains(value, matcher.not_contains) \
            else f"it contains {show(matcher.not_contains)}"
    if value is MISSING:
        return "it is missing"
    holds = _holds(matcher, value)
    return None if holds else f"it is {show(value)}"


def _holds(matcher: ValueMatcher, value: Any) -> bool:
    if isinstance(matcher, AnyMatch):
        return True
    if isinstance(matcher, EqualsMatch):
        return same(value, matcher.equals)
    if isinstance(matcher, RegexMatch):
        text = _scalar_text(value)
        return text is not None and re.search(matcher.regex, text) is not None
    if isinstance(matcher, ContainsMatch):
        return _contains(value, matcher.contains)
    if isinstance(matcher, OneOfMatch):
        return any(same(value, option) for option in matcher.one_of)
    if isinstance(matcher, SubsetMatch):
        return includes(value, matcher.subset)
    return False  # not_contains is handled by check_value


def _scalar_text(value: Any) -> str | None:
    """Text a regex can search: strings as they are, numbers as written in JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    return None


def _contains(value: Any, part: str) -> bool:
    if isinstance(value, str):
        return part in value
    if isinstance(value, list):
        return any(same(item, part) for item in value)
    if isinstance(value, Mapping):
        return part in value
    return False


def check_fields(matchers: Mapping[str, ValueMatcher], data: Any) -> list[str]:
    """Every field matcher that fails on ``data``, as ``path: expected ..., but ...``."""
    failures = []
    for path, matcher in matchers.items():
        reason = check_value(matcher, lookup(data, path))
        if reason is not None:
            failures.append(f"{path} {describe(matcher)}, but {reason}")
    return failures


# ---- agent text ------------------------------------------------------------------------------


def text_conditions(match: TextMatch) -> list[str]:
    """The conditions of an ``agent_says``, in words."""
    words = []
    if match.contains is not None:
        words.append(f"contains {show(match.contains)}")
    if match.equals is not None:
        words.append(f"equals {show(match.equals)}")
    if match.regex is not None:
        words.append(f"matches regex {show(match.regex)}")
    if match.one_of is not None:
        words.append(f"is one of {show(match.one_of)}")
    if match.not_contains is not None:
        words.append(f"does not contain {show(match.not_contains)}")
    return words


def has_positive_condition(match: TextMatch) -> bool:
    return any(value is not None for value in (match.contains, match.equals, match.regex,
                                               match.one_of))


def text_satisfies(match: TextMatch, text: str) -> bool:
    """Whether one message meets every positive condition (contains, equals, regex, one_of)."""
    if match.contains is not None and match.contains not in text:
        return False
    if match.equals is not None and text.strip() != match.equals.strip():
        return False
    if match.regex is not None and re.search(match.regex, text) is None:
        return False
    return match.one_of is None or text.strip() in (o.strip() for o in match.one_of)


def text_violates(match: TextMatch, text: str) -> bool:
    """Whether one message breaks the ``not_contains`` condition."""
    return match.not_contains is not None and match.not_contains in text
