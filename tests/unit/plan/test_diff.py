"""Field-level diffs with human paths, and the prompt line diff."""

from __future__ import annotations

import time
from typing import Any

from operator_iac.plan.diff import diff_content, format_path, prompt_diff
from operator_iac.plan.model import FieldChange
from operator_iac.plan.normalise import SENSITIVE_TEXT, seal


def body(**config: Any) -> dict[str, Any]:
    return {"name": "N", "description": "D", "config": config}


def by_path(changes: tuple[FieldChange, ...]) -> dict[str, FieldChange]:
    return {c.path: c for c in changes}


def test_equal_content_has_no_changes() -> None:
    assert diff_content(body(runtime={"model": "m"}), body(runtime={"model": "m"})) == ()


def test_a_scalar_change_has_a_dotted_path() -> None:
    changes = diff_content(body(runtime={"model": "a"}), body(runtime={"model": "b"}))

    assert changes == (FieldChange(path="config.runtime.model", kind="changed",
                                   before="a", after="b"),)


def test_list_items_are_named_by_their_natural_key() -> None:
    before = body(tool={"tools": [{"ns": "s", "name": "book"}, {"ns": "s", "name": "old"}]},
                  runtime={"variables": [{"name": "v", "description": "x"}]})
    after = body(tool={"tools": [{"ns": "s", "name": "book"}, {"ns": "s", "name": "new"}]},
                 runtime={"variables": [{"name": "v", "description": "y"}]})

    changes = by_path(diff_content(before, after))

    assert changes["config.tool.tools[name=old]"].kind == "removed"
    assert changes["config.tool.tools[name=old]"].before == {"ns": "s", "name": "old"}
    assert changes["config.tool.tools[name=new]"].kind == "added"
    assert changes["config.runtime.variables[name=v].description"].after == "y"
    assert len(changes) == 3


def test_transfers_and_personas_use_their_keys() -> None:
    before = body(tool={"transfers": [{"entity_id": "ca_1"}]},
                  personas=[{"name": "Amanda", "voice": {"id": "F1"}}])
    after = body(tool={"transfers": [{"entity_id": "ca_2"}]},
                 personas=[{"name": "Amanda", "voice": {"id": "F2"}}])

    paths = set(by_path(diff_content(before, after)))

    assert paths == {"config.tool.transfers[entity_id=ca_1]",
                     "config.tool.transfers[entity_id=ca_2]",
                     "config.personas[name=Amanda].voice.id"}


def test_lists_without_a_key_change_as_a_whole() -> None:
    changes = diff_content(body(language={"supported_languages": ["English", "German"]}),
                           body(language={"supported_languages": ["English", "French", "x"]}))

    assert changes == (FieldChange(path="config.language.supported_languages", kind="changed",
                                   before=["English", "German"],
                                   after=["English", "French", "x"]),)


def test_duplicate_keys_fall_back_to_whole_list_comparison() -> None:
    changes = diff_content(body(tool={"tools": [{"ns": "a", "name": "t"}]}),
                           body(tool={"tools": [{"ns": "a", "name": "t"},
                                                {"ns": "b", "name": "t"}]}))

    assert [c.path for c in changes] == ["config.tool.tools"]


def test_a_new_agent_lists_one_change_per_field() -> None:
    changes = by_path(diff_content(None, body(runtime={"model": "m", "prompt": {"text": "hi"}},
                                              tool={"tools": [{"ns": "s", "name": "book"}]})))

    assert set(changes) == {"name", "description", "config.runtime.model",
                            "config.runtime.prompt.text", "config.tool.tools[name=book]"}
    assert all(c.kind == "added" and c.before is None for c in changes.values())


def test_changes_are_ordered_name_description_config_postprocess() -> None:
    before = {**body(runtime={"model": "a"}), "postprocess_agents": []}
    after = {"name": "M", "description": "E", "config": {"runtime": {"model": "b"}},
             "postprocess_agents": ["pa_1"]}

    paths = [c.path for c in diff_content(before, after)]

    assert paths == ["name", "description", "config.runtime.model", "postprocess_agents"]


def test_the_prompt_is_one_scalar_change_and_inputs_are_not_mutated() -> None:
    before = body(runtime={"prompt": {"type": "fixed", "text": "a\nb\n"}})
    after = body(runtime={"prompt": {"type": "fixed", "text": "a\nc\n"}})

    changes = diff_content(before, after)

    assert changes == (FieldChange(path="config.runtime.prompt.text", kind="changed",
                                   before="a\nb\n", after="a\nc\n"),)
    assert before["config"]["runtime"]["prompt"]["text"] == "a\nb\n"


def test_secrets_show_as_sensitive_in_changes() -> None:
    changes = diff_content(body(runtime={"prompt": {"text": seal("old secret")}}),
                           body(runtime={"prompt": {"text": seal("new secret")}}))

    assert changes[0].before == changes[0].after == SENSITIVE_TEXT
    assert prompt_diff(seal("old"), seal("new")) is None


def test_prompt_diff_is_a_unified_line_diff() -> None:
    diff = prompt_diff("one\ntwo\nthree\n", "one\n2\nthree\n", before_label="a", after_label="b")

    assert diff is not None
    assert diff.splitlines() == ["--- a", "+++ b", "@@ -1,3 +1,3 @@", " one", "-two", "+2",
                                 " three"]
    assert prompt_diff("same", "same") is None


def test_a_50_kb_prompt_diffs_quickly() -> None:
    lines = [f"Line {i}: the agent should be polite and {i % 7} helpful." for i in range(1000)]
    before = "\n".join(lines)
    after = "\n".join(line.replace("polite", "kind") if i % 50 == 0 else line
                      for i, line in enumerate(lines))
    assert len(before) > 50_000

    started = time.perf_counter()
    changes = diff_content(body(runtime={"prompt": {"text": before}}),
                           body(runtime={"prompt": {"text": after}}))
    diff = prompt_diff(before, after)
    elapsed = time.perf_counter() - started

    assert len(changes) == 1 and diff is not None and diff.count("\n+Line") == 20
    assert elapsed < 0.5  # the benchmark holds the real target (50 ms); this catches blowups


def test_format_path_joins_keys_items_and_positions() -> None:
    assert format_path(["config", "tool", "tools", "[name=book]", "ns"]) == \
        "config.tool.tools[name=book].ns"
    assert format_path(["config", "items", 2]) == "config.items[2]"


def test_an_added_output_schema_is_one_change_but_edits_inside_it_are_precise() -> None:
    schema = {"type": "object", "properties": {"summary": {"type": "string"}}}
    edited = {"type": "object", "properties": {"summary": {"type": ["string", "null"]}}}

    added = diff_content(body(), body(output={"output_schema": schema}))
    changed = diff_content(body(output={"output_schema": schema}),
                           body(output={"output_schema": edited}))

    assert [(c.path, c.after) for c in added] == [("config.output.output_schema", schema)]
    assert [c.path for c in changed] == ["config.output.output_schema.properties.summary.type"]


def test_a_create_and_a_deletion_read_as_deepdiff_would_say_them() -> None:
    """Every field added (removed) is said without deepdiff; the same changes it finds when
    the two sides share one field that does not change."""
    content = {"name": "Booking", "description": "Books.", "postprocess_agents": ["pa_1"],
               "config": {"personas": [{"name": "Amanda", "voice": {"id": "Female 1"}}],
                          "runtime": {"model": "openai/gpt-4o",
                                      "prompt": {"type": "fixed", "text": "Hello."},
                                      "variables": [{"name": "who", "default_value": None}]},
                          "tool": {"tools": [{"ns": "acme", "name": "book"}], "transfers": []},
                          "voice": {}, "output": {"output_schema": {"type": "object"}}}}
    shared = {"same": 1}
    created = diff_content(None, content)
    assert created == diff_content(shared, {**content, **shared})
    assert [c.kind for c in created] == ["added"] * len(created) and len(created) == 11
    assert diff_content(content, None) == diff_content({**content, **shared}, shared)
