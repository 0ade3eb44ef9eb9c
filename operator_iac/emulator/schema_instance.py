"""A deterministic instance of a JSON Schema: the output a procedural agent "produces".

The instance conforms to the schema for the shapes agents use in practice: types (the first
non-null of a list), ``enum`` (first value), ``const``, every listed property (so required
ones are there), nested objects and arrays (``minItems`` items, at least one), string
``format``s and length bounds, numbers at their lower bound, booleans ``true``, local
``$ref``s, ``allOf`` / ``anyOf`` / ``oneOf``, and OpenAPI's ``nullable``. Strings are derived
from the property name so outputs read sensibly ("call reason").
"""

from __future__ import annotations

import math
from typing import Any

MAX_DEPTH = 12

_FORMATS: dict[str, str] = {
    "date-time": "2025-06-19T12:00:00Z",
    "date": "2025-06-19",
    "time": "12:00:00Z",
    "email": "someone@example.com",
    "uri": "https://example.com/",
    "url": "https://example.com/",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
    "hostname": "example.com",
    "duration": "PT1M",
}

_TYPE_ORDER = ("object", "array", "string", "integer", "number", "boolean", "null")


def instance_for(schema: Any, name: str = "value") -> Any:
    """An instance of ``schema``; ``name`` seeds generated strings."""
    return _Generator(schema).make(schema, name, 0)


class _Generator:
    def __init__(self, root: Any) -> None:
        self._root = root

    def make(self, schema: Any, name: str, depth: int) -> Any:
        if not isinstance(schema, dict) or depth > MAX_DEPTH:
            return None if schema is False else _text(name)
        schema = self._resolve(schema)
        if "const" in schema:
            return schema["const"]
        if schema.get("enum"):
            return schema["enum"][0]
        if "allOf" in schema:
            return self.make(_merge_all(self._resolve_all(schema)), name, depth + 1)
        for key in ("anyOf", "oneOf"):
            if schema.get(key):
                return self.make(self._resolve(schema[key][0]), name, depth + 1)
        return self._by_type(schema, _pick_type(schema), name, depth)

    def _by_type(self, schema: dict[str, Any], kind: str, name: str, depth: int) -> Any:
        if kind == "object":
            return self._object(schema, depth)
        if kind == "array":
            return self._array(schema, name, depth)
        if kind == "string":
            return _string(schema, name)
        if kind in ("integer", "number"):
            return _number(schema, integer=kind == "integer")
        if kind == "boolean":
            return True
        return None

    def _object(self, schema: dict[str, Any], depth: int) -> dict[str, Any]:
        properties = schema.get("properties") or {}
        result = {key: self.make(sub, key, depth + 1) for key, sub in properties.items()}
        for key in schema.get("required") or []:
            if key not in result:
                extra = schema.get("additionalProperties")
                result[key] = self.make(extra if isinstance(extra, dict) else {}, key, depth + 1)
        return result

    def _array(self, schema: dict[str, Any], name: str, depth: int) -> list[Any]:
        items = schema.get("items")
        prefix = schema.get("prefixItems")
        if isinstance(prefix, list):
            return [self.make(sub, name, depth + 1) for sub in prefix]
        count = max(1, int(schema.get("minItems", 1)))
        if "maxItems" in schema:
            count = min(count, int(schema["maxItems"]))
        return [self.make(items if isinstance(items, dict) else {}, name, depth + 1)
                for _ in range(count)]

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        seen = 0
        while "$ref" in schema and seen < MAX_DEPTH:
            schema = self._lookup(str(schema["$ref"]))
            seen += 1
        return schema

    def _resolve_all(self, schema: dict[str, Any]) -> list[dict[str, Any]]:
        rest = {k: v for k, v in schema.items() if k != "allOf"}
        return [rest, *(self._resolve(part) for part in schema["allOf"])]

    def _lookup(self, ref: str) -> dict[str, Any]:
        if not ref.startswith("#"):
            return {}
        node: Any = self._root
        for part in [p for p in ref[1:].split("/") if p]:
            part = part.replace("~1", "/").replace("~0", "~")
            node = node.get(part, {}) if isinstance(node, dict) else {}
        return node if isinstance(node, dict) else {}


def _merge_all(parts: list[dict[str, Any]]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for part in parts:
        for key, value in part.items():
            if key == "properties":
                merged["properties"] = {**merged.get("properties", {}), **value}
            elif key == "required":
                merged["required"] = [*merged.get("required", []), *value]
            else:
                merged.setdefault(key, value)
    return merged


def _pick_type(schema: dict[str, Any]) -> str:
    declared = schema.get("type")
    if isinstance(declared, list):
        usable = [t for t in declared if t != "null"] or declared
        return min(usable, key=lambda t: _TYPE_ORDER.index(t) if t in _TYPE_ORDER else 99)
    if isinstance(declared, str):
        return declared
    if "properties" in schema or "required" in schema:
        return "object"
    if "items" in schema:
        return "array"
    return "string"


def _text(name: str) -> str:
    return name.replace("_", " ").strip() or "value"


def _string(schema: dict[str, Any], name: str) -> str:
    text = _FORMATS.get(str(schema.get("format", "")), _text(name))
    minimum = int(schema.get("minLength", 0))
    if len(text) < minimum:
        text = (text + " ") * (minimum // (len(text) + 1) + 1)
        text = text[:minimum]
    if "maxLength" in schema:
        text = text[: int(schema["maxLength"])]
    return text


def _number(schema: dict[str, Any], integer: bool) -> int | float:
    """The lower bound (respecting JSON Schema and OpenAPI 3.0 exclusive forms), else 0."""
    bump = 1 if integer else 0.5
    exclusive = schema.get("exclusiveMinimum")
    value: float = 0
    if "minimum" in schema:
        value = schema["minimum"] + (bump if exclusive is True else 0)
    elif isinstance(exclusive, int | float) and not isinstance(exclusive, bool):
        value = exclusive + bump
    elif "maximum" in schema and schema["maximum"] < 0:
        value = schema["maximum"]
    step = schema.get("multipleOf")
    if step:
        value = math.ceil(value / step) * step
    return math.ceil(value) if integer else value
