"""The content halves of the emulator's compatibility modes."""

from __future__ import annotations

from email.utils import parsedate_to_datetime

import pytest
from pydantic import ValidationError

from operator_iac.emulator import compat
from operator_iac.emulator.faults import COMPAT_MODES, SECTION_9_MODES, FaultSettings


def test_the_modes_are_the_registrys_and_nothing_else_is_accepted() -> None:
    assert set(SECTION_9_MODES) <= set(COMPAT_MODES)
    assert len(SECTION_9_MODES) == 15
    assert FaultSettings(compat=["trim_text"]).compat == ["trim_text"]
    with pytest.raises(ValidationError, match="unknown compatibility mode 'bogus'"):
        FaultSettings(compat=["bogus"])


def test_trimmed_text_loses_trailing_whitespace_everywhere() -> None:
    value = {"text": "Hello.\n\n", "list": ["a ", "b"], "n": 3, "nested": {"x": "y\t"}}
    assert compat.trimmed(value) == {"text": "Hello.", "list": ["a", "b"], "n": 3,
                                     "nested": {"x": "y"}}


def test_retry_after_as_a_date_is_never_earlier_than_the_seconds() -> None:
    now = 1_750_000_000.4
    header = compat.retry_after_date(2, now)
    assert parsedate_to_datetime(header).timestamp() >= now + 2


def test_nullable_properties_become_null() -> None:
    schema = {"type": "object", "properties": {
        "a": {"type": "string", "nullable": True}, "b": {"type": ["integer", "null"]},
        "c": {"type": "string"},
        "d": {"type": "object", "properties": {"e": {"type": "string", "nullable": True}}}}}
    instance = {"a": "x", "b": 1, "c": "y", "d": {"e": "z"}}
    assert compat.nulls_where_nullable(instance, schema) == {
        "a": None, "b": None, "c": "y", "d": {"e": None}}


def test_stored_forms_reach_every_string_and_list_of_strings() -> None:
    decomposed = "Cafe\u0301"
    config = {"runtime": {"model": "openai/gpt-4o", "prompt": {"text": f"{decomposed}\n"}},
              "voice": {"boosted_keywords": ["b", "a"]},
              "output": {"output_schema": {"type": ["string", "null"]}},
              "tool": {"tools": [{"ns": "x", "name": "b"}, {"ns": "x", "name": "a"}]}}
    stored = compat.stored_config(config, {"dated_models", "sorted_lists", "nfc_text",
                                           "trim_text"})
    assert stored["runtime"]["model"] == "openai/gpt-4o-2024-08-06"
    assert stored["runtime"]["prompt"]["text"] == "Caf\u00e9"
    assert stored["voice"]["boosted_keywords"] == ["a", "b"]
    assert stored["output"]["output_schema"]["type"] == ["null", "string"]
    assert [t["name"] for t in stored["tool"]["tools"]] == ["b", "a"]  # objects keep order
    assert compat.stored_config(config, set()) == config


def test_a_dated_model_keeps_its_date_and_unknown_aliases_get_one() -> None:
    assert compat.dated_model("openai/gpt-4o-2024-05-13") == "openai/gpt-4o-2024-05-13"
    assert compat.dated_model("acme/house") == f"acme/house-{compat.DEFAULT_SNAPSHOT}"
    assert compat.dated_models({"runtime": {}}) == {"runtime": {}}


def test_empty_strings_shown_as_null_then_nulls_left_out() -> None:
    body = {"description": "", "config": {"a": None, "b": [None, ""], "c": {"d": ""}}}
    assert compat.shown(body, {"null_empty"}) == {
        "description": None, "config": {"a": None, "b": [None, None], "c": {"d": None}}}
    assert compat.shown(body, {"null_empty", "omit_nulls"}) == {
        "config": {"b": [None, None], "c": {}}}
    assert compat.shown(body, {"omit_nulls"}) == {
        "description": "", "config": {"b": [None, ""], "c": {"d": ""}}}


def test_zero_values_left_out_at_any_depth_list_items_kept() -> None:
    body = {"livemode": False, "n": 0, "ok": True, "id": "conv_1", "cursor": None,
            "data": [], "channel": {"sms": False, "voicemail": False},
            "list": [False, {"x": ""}], "ratio": 0.5}
    assert compat.shown(body, {"omit_empty"}) == {
        "ok": True, "id": "conv_1", "list": [False, {}], "ratio": 0.5}
