"""The pure halves of the compatibility modes that change content rather than flow.

Each function is what a platform that made the other plausible choice (operator-api.md
section 9, and the points the contract is silent on) would do to a value: store text trimmed,
NFC-normalised, lists sorted and model aliases as dated snapshots; show empty strings as null
or leave nulls out; answer ``Retry-After`` with a date; fill a nullable output field with
null. The routes and services apply them when the mode is on (``FaultState.has``); the modes
themselves are listed in ``variations.COMPAT_MODES``.
"""

from __future__ import annotations

import html
import re
import secrets
import unicodedata
from collections.abc import Callable, Collection
from email.utils import formatdate
from typing import Any

from operator_iac.emulator.clock import parse_iso

# The snapshot a platform that pins aliases would store for a few well-known models; any
# other alias gets DEFAULT_SNAPSHOT. Only the form matters: ``<alias>-YYYY-MM-DD``.
MODEL_SNAPSHOTS: dict[str, str] = {
    "openai/gpt-4o": "2024-08-06",
    "openai/gpt-4o-mini": "2024-07-18",
    "openai/gpt-4.1": "2025-04-14",
    "openai/gpt-4.1-mini": "2025-04-14",
}
DEFAULT_SNAPSHOT = "2025-01-01"
_DATED = re.compile(r"-\d{4}-\d{2}-\d{2}$")


def trimmed(value: Any) -> Any:
    """``value`` with every string's trailing whitespace (and final newline) removed, as a
    platform that normalises stored text keeps it."""
    return _each_string(value, str.rstrip)


def _each_string(value: Any, change: Callable[[str], str]) -> Any:
    """``value`` with ``change`` applied to every string in it (keys stay as they are)."""
    if isinstance(value, str):
        return change(value)
    if isinstance(value, dict):
        return {k: _each_string(v, change) for k, v in value.items()}
    if isinstance(value, list):
        return [_each_string(v, change) for v in value]
    return value


def nfc(value: Any) -> Any:
    """``value`` with every string in Unicode normal form C, as a platform that normalises
    what it stores keeps it (``e`` followed by a combining acute accent becomes one ``é``)."""
    return _each_string(value, lambda text: unicodedata.normalize("NFC", text))


def sorted_lists(value: Any) -> Any:
    """``value`` with every list of strings (two or more) sorted, at any depth."""
    if isinstance(value, dict):
        return {k: sorted_lists(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [sorted_lists(v) for v in value]
        if len(items) > 1 and all(isinstance(v, str) for v in items):
            return sorted(items)
        return items
    return value


def dated_model(model: str) -> str:
    """The dated snapshot an alias stands for (``openai/gpt-4o`` ->
    ``openai/gpt-4o-2024-08-06``); a model that already names a date stays."""
    if _DATED.search(model):
        return model
    return f"{model}-{MODEL_SNAPSHOTS.get(model, DEFAULT_SNAPSHOT)}"


def dated_models(config: Any) -> Any:
    """``config`` with ``runtime.model`` stored as its dated snapshot."""
    if not isinstance(config, dict) or not isinstance(config.get("runtime"), dict):
        return config
    runtime = config["runtime"]
    model = runtime.get("model")
    if not isinstance(model, str) or not model:
        return config
    return {**config, "runtime": {**runtime, "model": dated_model(model)}}


def stored_config(config: Any, modes: Collection[str]) -> Any:
    """A config as a platform with the given modes stores it."""
    if "sorted_lists" in modes:
        config = sorted_lists(config)
    if "dated_models" in modes:
        config = dated_models(config)
    if "item_ids" in modes:
        config = with_item_ids(config)
    return stored_text(config, modes)


# The lists of objects a platform may give ids of its own (``item_ids``): (section, list).
_ITEM_LISTS = ((None, "personas"), ("runtime", "variables"), ("tool", "tools"))


def with_item_ids(config: Any) -> Any:
    """``config`` with an ``id`` of the platform's own in every persona, variable and tool
    that carries none, made anew by each write (a platform whose items are rows of their
    own, named by ids it makes); an item that carries one keeps it."""
    if not isinstance(config, dict):
        return config
    config = dict(config)
    for section, name in _ITEM_LISTS:
        holder = config if section is None else config.get(section)
        if not isinstance(holder, dict) or not isinstance(holder.get(name), list):
            continue
        holder = dict(holder)
        holder[name] = [{"id": f"it_{secrets.token_hex(6)}", **item}
                        if isinstance(item, dict) and "id" not in item else item
                        for item in holder[name]]
        if section is None:
            config = holder
        else:
            config[section] = holder
    return config


def escaped(value: Any) -> Any:
    """``value`` with ``&``, ``<``, ``>``, ``"`` and ``'`` in every string stored as HTML
    entities, as a platform that encodes what it stores against markup injection keeps it
    (the common escapers' default)."""
    return _each_string(value, html.escape)


# The characters of a description a platform with ``short_descriptions`` keeps (the rest is
# cut off silently, as a database column of that size would).
DESCRIPTION_LIMIT = 255

_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_\[\]])")


def stored_description(value: Any, modes: Collection[str]) -> Any:
    """A description as stored: the text modes applied, then, where descriptions are kept as
    Markdown (``escaped_markdown``), its punctuation escaped with a backslash, and where they
    are limited (``short_descriptions``), cut at ``DESCRIPTION_LIMIT`` characters."""
    value = stored_text(value, modes)
    if "escaped_markdown" in modes and isinstance(value, str):
        value = _MARKDOWN_PUNCTUATION.sub(r"\\\1", value)
    if "short_descriptions" in modes and isinstance(value, str):
        value = value[:DESCRIPTION_LIMIT]
    return value


def stored_text(value: Any, modes: Collection[str]) -> Any:
    """Any stored value (a name, a description, a config) with the text modes applied."""
    if "escaped_html" in modes:
        value = escaped(value)
    if "trim_text" in modes:
        value = trimmed(value)
    if "nfc_text" in modes:
        value = nfc(value)
    return value


def nulls_for_empty(value: Any) -> Any:
    """``value`` with every empty string shown as null (a platform that keeps no empties)."""
    if value == "":
        return None
    if isinstance(value, dict):
        return {k: nulls_for_empty(v) for k, v in value.items()}
    if isinstance(value, list):
        return [nulls_for_empty(v) for v in value]
    return value


def without_nulls(value: Any) -> Any:
    """``value`` with every null field of an object left out, at any depth (list items
    stay, null or not: leaving one out would shift the others)."""
    return _leaving_out(value, lambda v: v is None)


def without_empties(value: Any) -> Any:
    """``value`` with every field of an object that holds a zero value left out, at any
    depth: null, false, 0, empty text, and lists and objects that are empty (once their own
    empty fields are gone), as a serialiser that omits zero values writes it."""
    return _leaving_out(value, _zero)


def _zero(value: Any) -> bool:
    return value is None or value is False or value in ("", [], {}) or (
        type(value) in (int, float) and value == 0)


def _leaving_out(value: Any, gone: Callable[[Any], bool]) -> Any:
    """``value`` with the fields of its objects for which ``gone`` holds left out, at any
    depth, each judged once its own fields are; list items stay, whatever they hold (leaving
    one out would shift the others)."""
    if isinstance(value, dict):
        kept = {k: _leaving_out(v, gone) for k, v in value.items()}
        return {k: v for k, v in kept.items() if not gone(v)}
    if isinstance(value, list):
        return [_leaving_out(v, gone) for v in value]
    return value


def epoch_times(value: Any) -> Any:
    """``value`` (a response body) with its times (text fields named ``*_at`` of the object,
    of the items of a list, and of a conversation's channel) as Unix seconds, a number: whole
    when the time is, else to the millisecond. Values inside an agent's ``config`` or a
    conversation's ``override_config`` and ``context`` are the user's, and stay as written."""
    if isinstance(value, list):
        return [epoch_times(v) for v in value]
    if not isinstance(value, dict):
        return value
    return {k: _epoch(v) if k.endswith("_at") and isinstance(v, str)
            else epoch_times(v) if k in _TIMED_PARTS else v for k, v in value.items()}


# The parts of a response that hold objects with times of their own.
_TIMED_PARTS = frozenset({"data", "page", "channel"})


def _epoch(text: str) -> Any:
    try:
        seconds = parse_iso(text)
    except ValueError:
        return text
    return int(seconds) if seconds == int(seconds) else round(seconds, 3)


def shown(body: Any, modes: Collection[str]) -> Any:
    """A response body as a platform with the given modes shows it: empty strings as null
    (``null_empty``), then nulls left out (``omit_nulls``), or every zero value
    (``omit_empty``), times as numbers (``epoch_times``)."""
    if "null_empty" in modes:
        body = nulls_for_empty(body)
    if "omit_nulls" in modes:
        body = without_nulls(body)
    if "omit_empty" in modes:
        body = without_empties(body)
    if "epoch_times" in modes:
        body = epoch_times(body)
    return body


def retry_after_date(seconds: int, now: float) -> str:
    """``Retry-After`` as an HTTP date ``seconds`` from ``now`` (RFC 9110 allows both forms).

    Rounded up to the next whole second, so a client that reads it waits at least as long.
    """
    return formatdate(int(now) + seconds + 1, usegmt=True)


def nulls_where_nullable(instance: Any, schema: Any) -> Any:
    """``instance`` with every property the schema allows to be null set to null: OpenAPI 3's
    ``nullable: true`` or a JSON Schema type list holding ``"null"``. The output a model that
    found nothing to say would give."""
    if not isinstance(schema, dict) or not isinstance(instance, dict):
        return instance
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return instance
    result = dict(instance)
    for name, sub in properties.items():
        if name not in result:
            continue
        result[name] = None if _nullable(sub) else nulls_where_nullable(result[name], sub)
    return result


def _nullable(schema: Any) -> bool:
    if not isinstance(schema, dict):
        return False
    kinds = schema.get("type")
    return schema.get("nullable") is True or (isinstance(kinds, list) and "null" in kinds)
