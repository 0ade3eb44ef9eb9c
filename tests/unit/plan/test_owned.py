"""Fields the dashboard owns: left out of comparisons on both sides, written back as the
platform holds them, and never drift."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from operator_iac.plan.owned import keep_owned, strip_owned
from operator_iac.spec.owned import parse_path, path_problem
from operator_iac.state.snapshot import RemoteRevision

Factory = Any

TOOLS = [{"ns": "a", "name": "book"}, {"ns": "a", "name": "cancel"}]


def test_strip_removes_fields_and_selected_list_items() -> None:
    content = {"name": "N", "description": "D", "config": {
        "runtime": {"model": "m", "prompt": {"type": "fixed", "text": "T"}},
        "tool": {"tools": TOOLS}}}

    stripped = strip_owned(content, ["description", "config.runtime.prompt.text",
                                     "config.tool.tools[name=book]"])

    assert stripped == {"name": "N", "config": {"runtime": {"model": "m",
                                                            "prompt": {"type": "fixed"}},
                                                "tool": {"tools": [TOOLS[1]]}}}
    assert content["description"] == "D"  # a copy


def test_keep_writes_back_the_base_value_and_keeps_the_marker() -> None:
    body = {"name": "Declared", "description": "Declared.\n\n[operator-iac project=p key=k "
            "hash=0123456789abcdef commit=-]",
            "config": {"runtime": {"model": "new", "prompt": {"type": "fixed", "text": "git"}},
                       "tool": {"tools": [{"ns": "b", "name": "book"}]}}}
    base = RemoteRevision("ca_1@v0", "released", "Dashboard name", "Edited in the dashboard.",
                          {"runtime": {"model": "old", "prompt": {"type": "fixed",
                                                                  "text": "dashboard"}},
                           "tool": {"tools": TOOLS}})

    kept = keep_owned(body, base, ["description", "config.runtime.prompt.text",
                                   "config.tool.tools[name=cancel]", "config.voice.busy_sound"])

    assert kept["description"] == ("Edited in the dashboard.\n\n[operator-iac project=p "
                                   "key=k hash=0123456789abcdef commit=-]")
    assert kept["config"]["runtime"] == {"model": "new",
                                         "prompt": {"type": "fixed", "text": "dashboard"}}
    assert kept["config"]["tool"]["tools"] == [{"ns": "b", "name": "book"}, TOOLS[1]]
    assert "voice" not in kept["config"]
    assert kept["name"] == "Declared"
    assert keep_owned(body, None, ["description"]) == body  # a create writes the declaration


def test_paths_are_read_like_the_plans() -> None:
    segments = parse_path("config.tool.transfers[entity_id=+1.555]")
    assert segments is not None
    assert [(s.name, s.select) for s in segments] == [
        ("config", None), ("tool", None), ("transfers", ("entity_id", "+1.555"))]
    assert parse_path("config..x") is None
    assert path_problem("config.runtime.prompt.file", "conversational_agent") is not None
    assert path_problem("config.output.output_schema.properties.x", "procedural_agent") is None
    assert path_problem("config.output.post_url", "conversational_agent") is not None
    assert path_problem("config.brand_new", "conversational_agent", ["brand_new"]) is None


def test_an_owned_field_edited_on_the_platform_is_neither_a_change_nor_drift(
        plan_for: Factory, make_desired: Factory, make_remote: Factory, written: Factory) -> None:
    agent = replace(make_desired(), dashboard_owned=("config.runtime.prompt.text",))
    edited = written(agent)
    edited.config = {**edited.config, "runtime": {**edited.config["runtime"],
                                                  "prompt": {"type": "fixed", "text": "Hi!"}}}

    plan = plan_for([agent], [make_remote("ca_1", agent.kind, edited)])

    resource = plan.resources[0]
    assert (resource.action, resource.changes, resource.drift) == ("no-op", (), False)
    assert resource.dashboard_owned == ("config.runtime.prompt.text",)


def test_owning_a_field_does_not_hide_the_others(
        plan_for: Factory, make_desired: Factory, make_remote: Factory, written: Factory) -> None:
    agent = replace(make_desired(), dashboard_owned=("config.tool.tools[name=book]",))
    edited = written(agent)
    edited.config = {**edited.config, "runtime": {**edited.config["runtime"], "model": "x"},
                     "tool": {**edited.config["tool"],
                              "tools": [{"ns": "dash", "name": "book"}]}}
    edited.description = written(agent).description

    resource = plan_for([agent], [make_remote("ca_1", agent.kind, edited)]).resources[0]

    # The dashboard's own "book" tool is on neither side; check_availability is missing.
    assert [(c.path, c.before, c.after) for c in resource.changes] == [
        ("config.runtime.model", "x", "openai/gpt-4o"),
        ("config.tool.tools", [], [{"ns": "syscall", "name": "check_availability"}])]
    assert resource.drift is True  # the model was written by operator-iac
