"""The content halves of the emulator's compatibility modes."""

from __future__ import annotations

from email.utils import parsedate_to_datetime
from typing import get_args

from operator_iac.emulator import compat
from operator_iac.emulator.faults import COMPAT_MODES, SECTION_9_MODES, CompatMode


def test_every_mode_is_listed_once_and_typed() -> None:
    assert sorted(get_args(CompatMode)) == sorted(COMPAT_MODES)
    assert set(SECTION_9_MODES) <= set(COMPAT_MODES)


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
