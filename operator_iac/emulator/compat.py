"""The pure halves of the compatibility modes that change content rather than flow.

Each function is what a platform that made the other plausible choice (operator-api.md
section 9) would do to a value: trim the text it stores, answer ``Retry-After`` with a date,
fill a nullable output field with null. The routes and services apply them when the mode is
on (``FaultState.has``); the modes themselves are listed in ``faults.COMPAT_MODES``.
"""

from __future__ import annotations

from email.utils import formatdate
from typing import Any


def trimmed(value: Any) -> Any:
    """``value`` with every string's trailing whitespace (and final newline) removed, as a
    platform that normalises stored text keeps it."""
    if isinstance(value, str):
        return value.rstrip()
    if isinstance(value, dict):
        return {k: trimmed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [trimmed(v) for v in value]
    return value


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
