"""Value matchers, JSON paths, subsets and text conditions."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter

from operator_iac.smoke.matchers import (
    MISSING,
    check_fields,
    check_value,
    includes,
    lookup,
    same,
    text_satisfies,
    text_violates,
)
from operator_iac.spec.assertions import Matcher, TextMatch

MATCHER: TypeAdapter[Any] = TypeAdapter(Matcher)
ARGS = {"day": "Tuesday", "slot": {"time": "10:00", "tags": ["am", "short"]},
        "items": [{"name": "cleaning"}], "count": 2, "urgent": False, "a.b": "dotted"}


def matcher(spec: Any) -> Any:
    return MATCHER.validate_python(spec)


@pytest.mark.parametrize(("path", "expected"), [
    ("day", "Tuesday"), ("slot.time", "10:00"), ("items[0].name", "cleaning"),
    ("$.slot.tags[1]", "short"), ("a.b", "dotted"), ("$", ARGS),
    ("slot.missing", MISSING), ("items[3]", MISSING), ("day.len", MISSING),
])
def test_lookup_follows_json_paths(path: str, expected: Any) -> None:
    assert lookup(ARGS, path) is expected or lookup(ARGS, path) == expected


@pytest.mark.parametrize(("spec", "value", "holds"), [
    ("Tuesday", "Tuesday", True),                      # a literal means equals
    ({"equals": 2}, 2.0, True),
    ({"equals": 1}, True, False),                      # JSON: true is not 1
    ({"regex": "(?i)^tue"}, "Tuesday", True),
    ({"regex": "^2$"}, 2, True),                       # numbers searched as written
    ({"regex": "x"}, {"x": 1}, False),
    ({"contains": "am"}, ["am", "pm"], True),
    ({"contains": "ues"}, "Tuesday", True),
    ({"not_contains": "pm"}, ["am"], True),
    ({"one_of": ["Monday", "Tuesday"]}, "Tuesday", True),
    ({"one_of": ["Monday"]}, "Tuesday", False),
    ({"subset": {"time": "10:00"}}, {"time": "10:00", "room": 2}, True),
    ({"subset": {"time": "11:00"}}, {"time": "10:00"}, False),
    ({"subset": {"tags": ["am"]}}, '{"tags": ["pm", "am"]}', True),  # JSON strings decoded
    ({"any": True}, None, True),
])
def test_value_matchers(spec: Any, value: Any, holds: bool) -> None:
    assert (check_value(matcher(spec), value) is None) is holds


def test_a_missing_value_fails_every_matcher_but_not_contains() -> None:
    assert check_value(matcher({"any": True}), MISSING) == "it is missing"
    assert check_value(matcher({"not_contains": "x"}), MISSING) is None


def test_field_failures_say_what_was_expected_and_seen() -> None:
    failures = check_fields({"day": matcher({"regex": "(?i)wed"}),
                             "slot.time": matcher("10:00"),
                             "room": matcher({"any": True})}, ARGS)
    assert failures == ['day matches regex "(?i)wed", but it is "Tuesday"',
                        "room is present, but it is missing"]


def test_same_and_includes_are_json_aware() -> None:
    assert same({"a": [1, 2.0]}, {"a": [1.0, 2]})
    assert not same([True], [1])
    assert includes([{"a": 1, "b": 2}, {"c": 3}], [{"a": 1}])
    assert not includes("not json", {"a": 1})


def test_text_conditions_all_hold_on_one_message() -> None:
    match = TextMatch(contains="Amanda", regex="(?i)help")
    assert text_satisfies(match, "Hi, Amanda here. How can I help?")
    assert not text_satisfies(match, "Hi, Amanda here.")
    assert text_satisfies(TextMatch(equals=" Bye "), "Bye")
    assert text_satisfies(TextMatch(one_of=["Yes", "No"]), "No")
    assert text_violates(TextMatch(not_contains="sorry"), "I am sorry")
