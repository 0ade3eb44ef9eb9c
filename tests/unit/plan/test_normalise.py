"""Normalisation: projection, ordering, defaults, secrets, and merge_for_write."""

from __future__ import annotations

from typing import Any

from operator_iac.api.models import Agent
from operator_iac.plan.normalise import (
    SENSITIVE_TEXT,
    canonical,
    content,
    is_sealed,
    mask_sealed,
    merge_for_write,
    prepare,
    project,
    same_written,
    seal,
    seal_paths,
)
from operator_iac.state.snapshot import RemoteRevision


def compare(remote: dict[str, Any], desired: dict[str, Any]) -> tuple[Any, Any]:
    """Both sides as the planner compares them."""
    return canonical(project(prepare(remote), prepare(desired))), canonical(prepare(desired))


def test_server_fields_the_declaration_does_not_mention_are_not_compared() -> None:
    remote = {"runtime": {"model": "m", "temperature": 0.3}, "brand_new": {"x": 1}}
    desired = {"runtime": {"model": "m"}}

    before, after = compare(remote, desired)

    assert before == after == {"runtime": {"model": "m"}}


def test_server_fields_inside_keyed_list_items_are_not_compared() -> None:
    remote = {"tool": {"tools": [{"ns": "syscall", "name": "book", "server_id": "t_1"}]}}
    desired = {"tool": {"tools": [{"ns": "syscall", "name": "book"}]}}

    before, after = compare(remote, desired)

    assert before == after


def test_tools_transfers_variables_and_statuses_are_compared_without_order() -> None:
    remote = {"tool": {"tools": [{"ns": "b", "name": "y"}, {"ns": "a", "name": "x"}],
                       "transfers": [{"entity_id": "2"}, {"entity_id": "1"}]},
              "runtime": {"variables": [{"name": "b"}, {"name": "a"}]},
              "filter_statuses": ["failed", "completed"]}
    desired = {"tool": {"tools": [{"ns": "a", "name": "x"}, {"ns": "b", "name": "y"}],
                        "transfers": [{"entity_id": "1"}, {"entity_id": "2"}]},
               "runtime": {"variables": [{"name": "a"}, {"name": "b"}]},
               "filter_statuses": ["completed", "failed"]}

    before, after = compare(remote, desired)

    assert before == after


def test_persona_and_language_order_is_meaningful() -> None:
    remote = {"personas": [{"name": "B"}, {"name": "A"}],
              "language": {"supported_languages": ["German", "English"]}}
    desired = {"personas": [{"name": "A"}, {"name": "B"}],
               "language": {"supported_languages": ["English", "German"]}}

    before, after = compare(remote, desired)

    assert before["personas"] != after["personas"]
    assert before["language"] != after["language"]


def test_null_equals_absent_on_either_side() -> None:
    remote = {"voice": {"busy_sound": None},
              "runtime": {"variables": [{"name": "a", "default_value": None}]}}
    desired = {"voice": {"ambient_sound": None}, "runtime": {"variables": [{"name": "a"}]}}

    before, after = compare(remote, desired)

    assert before == after


def test_declared_null_against_a_remote_value_is_a_difference() -> None:
    before, after = compare({"voice": {"ambient_sound": "office"}},
                            {"voice": {"ambient_sound": None}})

    assert before == {"voice": {"ambient_sound": "office"}}
    assert after == {}


def test_transfers_written_with_id_match_entity_id() -> None:
    # The older spelling is read at the boundary; the plan compares what it read.
    remote = Agent.model_validate({"version_id": "ca_9@v0",
                                   "config": {"tool": {"transfers": [{"id": "ca_1"}]}}})
    before, after = compare(remote.config, {"tool": {"transfers": [{"entity_id": "ca_1"}]}})

    assert before == after == {"tool": {"transfers": [{"entity_id": "ca_1"}]}}


def test_a_newly_declared_section_the_server_lacks_changes_nothing() -> None:
    before, after = compare({"runtime": {"model": "m"}},
                            {"runtime": {"model": "m"}, "channel": {"is_sms_enabled": None}})

    assert before == after == {"runtime": {"model": "m"}}


def test_integral_floats_equal_integers() -> None:
    assert canonical({"n": 3.0, "m": 2.5}) == {"n": 3, "m": 2.5}


def test_content_strips_the_marker_and_defaults_postprocess_to_empty() -> None:
    body = content("conversational_agent", "N",
                   "Text.\n\n[operator-iac project=p key=k hash=0123456789abcdef commit=-]", {})

    assert body == {"name": "N", "description": "Text.", "config": {},
                    "postprocess_agents": []}
    assert "postprocess_agents" not in content("procedural_agent", "N", "", {})


def test_sealed_secrets_compare_by_value_but_never_show_it() -> None:
    desired = seal_paths({"runtime": {"prompt": {"text": "s3cret"}}}, ["runtime.prompt.text"])
    same = canonical(project({"runtime": {"prompt": {"text": "s3cret"}}}, desired))
    rotated = canonical(project({"runtime": {"prompt": {"text": "old"}}}, desired))

    assert same == desired
    assert rotated != desired
    assert "s3cret" not in repr(desired)
    assert mask_sealed(desired) == {"runtime": {"prompt": {"text": SENSITIVE_TEXT}}}


def test_sealing_reaches_list_items_and_ignores_missing_paths() -> None:
    sealed = seal_paths({"tool": {"transfers": [{"entity_id": "+1555"}]}},
                        ["tool.transfers.0.entity_id", "nowhere.at.all", "tool.transfers.7"])

    assert is_sealed(sealed["tool"]["transfers"][0]["entity_id"])
    assert seal("x") == seal("x") != seal("y")


def test_a_secret_natural_key_still_matches_its_remote_item() -> None:
    desired = seal_paths({"tool": {"transfers": [{"entity_id": "+1555"}]}},
                         ["tool.transfers.0.entity_id"])
    remote = {"tool": {"transfers": [{"entity_id": "+1555", "label": "server"}]}}

    assert canonical(project(remote, desired)) == desired


def test_merge_for_write_keeps_unknown_fields_and_item_fields() -> None:
    remote = {"runtime": {"model": "old", "temperature": 0.3}, "brand_new": {"x": 1},
              "tool": {"tools": [{"ns": "syscall", "name": "book", "server_id": "t_1"},
                                 {"ns": "syscall", "name": "gone", "server_id": "t_2"}],
                       "transfers": [{"id": "ca_1"}]}}
    desired = {"runtime": {"model": "new"},
               "tool": {"tools": [{"ns": "syscall", "name": "book"}],
                        "transfers": [{"entity_id": "ca_1"}, {"entity_id": "ca_2"}]}}

    merged = merge_for_write(remote, desired)

    assert merged == {
        "runtime": {"model": "new", "temperature": 0.3}, "brand_new": {"x": 1},
        "tool": {"tools": [{"ns": "syscall", "name": "book", "server_id": "t_1"}],
                 "transfers": [{"entity_id": "ca_1"}, {"entity_id": "ca_2"}]},
    }
    assert remote["runtime"]["model"] == "old"  # inputs are not mutated


def test_merge_for_write_sends_declared_nulls_and_handles_no_remote() -> None:
    assert merge_for_write({"voice": {"ambient_sound": "office"}},
                           {"voice": {"ambient_sound": None}}) == {"voice": {"ambient_sound": None}}
    assert merge_for_write(None, {"a": [1]}) == {"a": [1]}


def _read_back(config: dict[str, Any], description: str = "Desk") -> RemoteRevision:
    return RemoteRevision("ca_1@v0", "draft", "Desk", description, config)


def test_two_read_backs_of_one_write_compare_where_the_write_speaks() -> None:
    # A platform that gives each variable an id of its own, anew on every write.
    sent = {"runtime": {"model": "m", "variables": [{"name": "who"}]}}
    first = _read_back({"runtime": {"model": "m", "variables": [{"id": "v1", "name": "who"}]}})
    second = _read_back({"runtime": {"model": "m", "variables": [{"id": "v2", "name": "who"}]}})
    edited = _read_back({"runtime": {"model": "x", "variables": [{"id": "v1", "name": "who"}]}})
    added = _read_back({"runtime": {"model": "m", "variables": [
        {"id": "v1", "name": "who"}, {"id": "v3", "name": "when"}]}})

    assert same_written(first, second, sent)
    assert not same_written(first, edited, sent)  # a declared value changed
    assert not same_written(first, added, sent)  # an item nobody wrote
    assert not same_written(first, second, None)  # without the write, all of it counts
    assert not same_written(first, _read_back(first.config, "Other desk"), sent)
