"""Deterministic instances of JSON Schemas: procedure outputs that conform."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from operator_iac.emulator.schema_instance import instance_for

SCHEMAS: dict[str, dict[str, Any]] = {
    "flat": {"type": "object", "properties": {
        "is_qualified": {"type": "boolean"}, "score": {"type": "integer", "minimum": 3},
        "ratio": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
        "reason": {"type": "string", "minLength": 20}}, "required": ["is_qualified"]},
    "enum_and_const": {"type": "object", "properties": {
        "sentiment": {"enum": ["positive", "negative"]}, "kind": {"const": "call"}},
        "required": ["sentiment", "kind"], "additionalProperties": False},
    "nested": {"type": "object", "properties": {
        "customer": {"type": "object", "properties": {
            "email": {"type": "string", "format": "email"},
            "when": {"type": "string", "format": "date-time"}}, "required": ["email"]},
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2}}},
    "refs": {"$defs": {"slot": {"type": "object", "properties": {
        "day": {"type": "string", "enum": ["mon", "tue"]}}, "required": ["day"]}},
        "type": "object", "properties": {"slots": {"type": "array",
                                                   "items": {"$ref": "#/$defs/slot"}}}},
    "combinators": {"allOf": [
        {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
        {"properties": {"b": {"anyOf": [{"type": "integer", "multipleOf": 5, "minimum": 7},
                                        {"type": "null"}]}}}]},
    "nullable_types": {"type": "object", "properties": {
        "maybe": {"type": ["null", "string"]}, "openapi": {"type": "string", "nullable": True},
        "negative": {"type": "number", "maximum": -2}}},
}


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_instance_conforms(name: str) -> None:
    schema = SCHEMAS[name]
    instance = instance_for(schema)
    jsonschema.validate(instance, schema)


def test_instance_is_deterministic_and_readable() -> None:
    schema = SCHEMAS["flat"]
    first = instance_for(schema)
    assert first == instance_for(schema)
    assert first["is_qualified"] is True
    assert first["score"] == 3
    assert first["reason"].startswith("reason")


def test_enums_take_their_first_value_and_strings_follow_the_property_name() -> None:
    assert instance_for(SCHEMAS["enum_and_const"]) == {"sentiment": "positive", "kind": "call"}
    schema = {"type": "object", "properties": {"call_reason": {"type": "string"}}}
    assert instance_for(schema) == {"call_reason": "call reason"}


def test_arrays_honour_min_items_and_refs_resolve() -> None:
    assert len(instance_for(SCHEMAS["nested"])["tags"]) == 2
    assert instance_for(SCHEMAS["refs"]) == {"slots": [{"day": "mon"}]}


def test_openapi_exclusive_minimum_is_exceeded() -> None:
    schema = {"type": "object", "properties": {
        "n": {"type": "integer", "minimum": 0, "exclusiveMinimum": True}}}
    instance = instance_for(schema)
    assert instance == {"n": 1}
    jsonschema.Draft4Validator(schema).validate(instance)


def test_recursive_schema_terminates() -> None:
    schema = {"$defs": {"node": {"type": "object", "properties": {
        "child": {"$ref": "#/$defs/node"}}}}, "$ref": "#/$defs/node"}
    assert isinstance(instance_for(schema), dict)
