"""Validation errors as users should read them: pydantic's error list turned into
``Diagnostic`` values that point at the offending node, in words about YAML, not Python.

A pydantic location (``('conversational_agent', 'config', 'runtime', 'promt')``) mixes data
keys with union tags; walking it through the data keeps only the real keys, and the loaded
document maps that path to a line and column.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from operator_iac.errors import Diagnostic
from operator_iac.spec.assertions import ASSERTION_TYPES, BARE_ASSERTIONS
from operator_iac.spec.base import MODELS_BY_INPUT, did_you_mean, suggest
from operator_iac.spec.loader import DataPath, YamlDocument
from operator_iac.spec.models import AGENT_KINDS, KEY_PATTERN, VARIABLE_PATTERN

T = TypeVar("T")


def format_path(path: DataPath) -> str:
    """``config.tool.tools[1].name`` for ``('config', 'tool', 'tools', 1, 'name')``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


# The valid value, or None and the diagnostics that say why not.
Validated = tuple[T, list[Diagnostic]] | tuple[None, list[Diagnostic]]
# Where a diagnostic goes: (data path, message, point at the key rather than the value).
Placer = Callable[[DataPath, str, bool], Diagnostic]


def validate_document(adapter: TypeAdapter[T], doc: YamlDocument) -> Validated[T]:
    """Validate a whole loaded document; every error points into it."""
    return validate_data(adapter, doc.data,
                         lambda path, msg, at_key: doc.diagnostic(path, msg, at_key=at_key))


def validate_data(adapter: TypeAdapter[T], data: Any, place: Placer) -> Validated[T]:
    """Validate ``data``; ``place`` turns each error's data path into a diagnostic."""
    context: dict[str, Any] = {}
    try:
        return adapter.validate_python(data, context=context), []
    except ValidationError as exc:
        registry = context.get(MODELS_BY_INPUT, {})
        return None, [_diagnostic(err, data, place, registry) for err in exc.errors()]


def without_unknown_keys(adapter: TypeAdapter[T], data: Any) -> tuple[T, Any] | None:
    """The model of ``data`` with the keys the schema does not know left out, and that data,
    when unknown keys are its only problems; else None.

    Used after a failed validation so that the checks that need a model (references across
    files, prompt tools, smoke assertions) still run on what was declared: an unknown key was
    never part of the declaration, so leaving it out cannot make another check report
    something the file does not say. Other errors (a wrong type, a missing key) are not
    guessed around.
    """
    try:
        adapter.validate_python(data, context={})
        return None  # valid as it is: nothing to recover
    except ValidationError as exc:
        errors = exc.errors()
    if any(err["type"] != "extra_forbidden" for err in errors):
        return None
    pruned = copy.deepcopy(data)
    for err in errors:
        path = data_path(data, err["loc"])
        parent = follow(pruned, path[:-1]) if path else None
        if isinstance(parent, dict):
            parent.pop(path[-1], None)
    try:
        return adapter.validate_python(pruned, context={}), pruned
    except ValidationError:
        return None


def data_path(data: Any, loc: tuple[int | str, ...]) -> DataPath:
    """The part of a pydantic location that exists as keys and indices in ``data``."""
    path: list[str | int] = []
    current = data
    for part in loc:
        in_mapping = isinstance(current, dict) and isinstance(part, str) and part in current
        in_list = isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current)
        if not (in_mapping or in_list):
            continue  # a union tag or a missing key: not in the data
        current = current[part]
        path.append(part)
    return tuple(path)


def follow(data: Any, path: DataPath) -> Any:
    for part in path:
        data = data[part]
    return data


def _diagnostic(err: ErrorDetails, data: Any, place: Placer,
                registry: Mapping[int, Any]) -> Diagnostic:
    path = data_path(data, err["loc"])
    message, key = _message(err, path, data, registry)
    at = (*path, key) if key is not None else path
    return place(at, message, key is not None or err["type"] in ("missing", "extra_forbidden"))


_TYPE_NAMES: dict[type, str] = {
    dict: "a mapping", list: "a list", str: "a string", bool: "true/false",
    int: "an integer", float: "a number", type(None): "an empty value (null)",
}
_EXPECTED: dict[str, str] = {
    "model_type": "a mapping", "dict_type": "a mapping", "model_attributes_type": "a mapping",
    "list_type": "a list", "string_type": "a string", "int_type": "an integer",
    "float_type": "a number", "bool_type": "true or false", "int_from_float": "an integer",
}


_PATTERN_RULES: dict[str, str] = {
    KEY_PATTERN: "an agent key: letters, digits, '-' and '_'",
    VARIABLE_PATTERN: "letters, digits and '_', not starting with a digit",
}


def _got(value: Any) -> str:
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def _where(path: DataPath) -> str:
    return format_path(path) or "the top level"


def _message(err: ErrorDetails, path: DataPath, data: Any,
             registry: Mapping[int, Any]) -> tuple[str, str | None]:
    """The message, and the key to point at when the error concerns one key of a mapping."""
    kind = err["type"]
    ctx = err.get("ctx") or {}
    value = err.get("input")
    if kind == "extra_forbidden":
        return _unknown_key(path, data, registry), None
    if kind == "missing":
        missing = str(err["loc"][-1])
        return f"missing required key {missing!r} in {_where(path)}", None
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return _bad_kind(ctx, value), "kind" if kind == "union_tag_invalid" else None
    if kind == "assertion_shape":
        return _bad_assertion(value)
    if "key" in ctx:  # our own errors about one key (matcher typos, reserved context keys)
        return err["msg"], str(ctx["key"])
    return f"{_where(path)}: {_describe(kind, err['msg'], ctx, value)}", None


def _describe(kind: str, msg: str, ctx: Mapping[str, Any], value: Any) -> str:
    if kind in _EXPECTED:
        hint = " (quote it to make it a string)" if kind == "string_type" and isinstance(
            value, int | float | bool) else ""
        return f"expected {_EXPECTED[kind]}, got {_got(value)}{hint}"
    if kind == "literal_error":
        options = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        hint = did_you_mean(str(value), options) if isinstance(value, str) else ""
        return f"{value!r} is not allowed; expected {ctx.get('expected')}{hint}"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_pattern_mismatch":
        rule = _PATTERN_RULES.get(str(ctx.get("pattern")), f"pattern {ctx.get('pattern')}")
        return f"{value!r} is not a valid name ({rule})"
    if kind == "too_short":
        return f"needs at least {ctx.get('min_length')} item(s)"
    if kind == "value_error":
        return msg.removeprefix("Value error, ")
    return msg[0].lower() + msg[1:] if msg else kind


def _unknown_key(path: DataPath, data: Any, registry: Mapping[int, Any]) -> str:
    key = str(path[-1])
    parent = follow(data, path[:-1])
    model = registry.get(id(parent))
    where = f" in {_where(path[:-1])}"
    if model is None:
        return f"unknown key {key!r}{where}"
    known = model.known_keys()
    return f"unknown key {key!r}{where}{did_you_mean(key, known)} " \
           f"(known keys: {', '.join(known)})"


def _bad_kind(ctx: Mapping[str, Any], value: Any) -> str:
    tag = ctx.get("tag")
    expected = " or ".join(AGENT_KINDS)
    if tag is None:
        got = f", got {_got(value)}" if not isinstance(value, dict) else ""
        return f"missing required key 'kind' ({expected}){got}"
    hint = suggest(str(tag), AGENT_KINDS)
    guess = f" (did you mean {hint!r}?)" if hint else ""
    return f"unknown kind {tag!r}; expected {expected}{guess}"


def _bad_assertion(value: Any) -> tuple[str, str | None]:
    known = ", ".join(ASSERTION_TYPES)
    if isinstance(value, str):
        if value in ASSERTION_TYPES:
            return f"assertion {value!r} needs a value ({value}: ...)", None
        hint = did_you_mean(value, ASSERTION_TYPES)
        bare = ", ".join(BARE_ASSERTIONS)
        return f"unknown assertion {value!r}{hint} (written bare: {bare})", None
    if isinstance(value, dict) and len(value) == 1:
        key = str(next(iter(value)))
        hint = did_you_mean(key, ASSERTION_TYPES)
        return f"unknown assertion {key!r}{hint} (known: {known})", key
    if isinstance(value, dict):
        keys = ", ".join(map(str, value)) or "none"
        return f"an assertion is a mapping with exactly one key, found: {keys} " \
               "(write each assertion as its own list item)", None
    return f"expected an assertion (a one-key mapping such as agent_says: ...), " \
           f"got {_got(value)}", None
