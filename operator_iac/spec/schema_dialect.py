"""Output schemas in either dialect: JSON Schema, or OpenAPI 3.0 schema objects.

The platform documents ``output_schema`` as "JSON Schema (OpenAPI 3 compatible)", so a
procedural agent's schema may use OpenAPI 3.0's spellings, which a JSON Schema validator reads
differently: ``nullable: true`` (JSON Schema ignores it, so a correct null output would fail)
and the boolean ``exclusiveMinimum``/``exclusiveMaximum`` beside ``minimum``/``maximum``.
``as_json_schema`` rewrites those into their JSON Schema 2020-12 equivalents and leaves
everything else as it is; a schema that names its dialect with ``$schema`` is not touched.
Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Keywords whose value is one schema, a list of schemas, or a mapping of names to schemas.
_ONE = ("items", "additionalProperties", "not", "contains", "propertyNames",
        "unevaluatedProperties", "unevaluatedItems", "if", "then", "else")
_MANY = ("allOf", "anyOf", "oneOf", "prefixItems")
_NAMED = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_BOUNDS = (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum"))


def as_json_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """``schema`` in JSON Schema 2020-12 terms (OpenAPI 3.0 spellings rewritten)."""
    if "$schema" in schema:
        return dict(schema)
    converted = _convert(schema)
    assert isinstance(converted, dict)
    return converted


def _convert(node: Any) -> Any:
    if isinstance(node, list):
        return [_convert(item) for item in node]
    if not isinstance(node, Mapping):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _ONE or key in _MANY:
            out[key] = _convert(value)
        elif key in _NAMED and isinstance(value, Mapping):
            out[key] = {name: _convert(sub) for name, sub in value.items()}
        else:
            out[key] = value
    _fix_bounds(out)
    nullable = out.pop("nullable", False) is True
    return _allow_null(out) if nullable else out


def _fix_bounds(schema: dict[str, Any]) -> None:
    """OpenAPI 3.0's ``exclusiveMinimum: true`` + ``minimum: 5`` is 2020-12's
    ``exclusiveMinimum: 5`` (and the same for the maximum)."""
    for exclusive, inclusive in _BOUNDS:
        flag = schema.get(exclusive)
        if isinstance(flag, bool):
            bound = schema.pop(inclusive, None) if flag else None
            del schema[exclusive]
            if bound is not None:
                schema[exclusive] = bound


def _allow_null(schema: dict[str, Any]) -> dict[str, Any]:
    kinds = schema.get("type")
    if isinstance(kinds, str):
        schema["type"] = [kinds, "null"]
    elif isinstance(kinds, list) and "null" not in kinds:
        schema["type"] = [*kinds, "null"]
    elif kinds is None:
        return {"anyOf": [schema, {"type": "null"}]}
    if isinstance(schema.get("enum"), list) and None not in schema["enum"]:
        schema["enum"] = [*schema["enum"], None]
    return schema
