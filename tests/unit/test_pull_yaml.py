"""Agent files edited by ``pull``, without a platform: lines the edit does not touch stay byte
for byte, comment lines that introduce the next key stay before it, and values taken from
the platform keep the style of the values they replace."""

from __future__ import annotations

from typing import Any

from operator_iac.importing.yaml_comments import attach_trailing, detach_trailing, last_key
from operator_iac.importing.yaml_round_trip import (
    dump,
    is_flow,
    keep_unchanged_lines,
    literal,
    round_trip,
)

FILE = """\
name: Front desk
config:
  personas: [{name: Robin}]
  runtime:
    model: 'openai/gpt-4o'   # quoted, with a comment
    variables:
      - name: caller
        default_value: there
  # Tools come next.
  tool:
    tools: [{ns: acme, name: book}]
"""


def edited(text: str, edit: Any) -> tuple[str, str]:
    """(baseline, edited): ``text`` dumped unchanged, and dumped after ``edit(document)``."""
    yaml = round_trip(text)
    baseline = dump(yaml, yaml.load(text))
    document = yaml.load(text)
    edit(document)
    return baseline, dump(yaml, document)


def test_lines_the_edit_does_not_touch_stay_as_written() -> None:
    def change_model(document: Any) -> None:
        document["config"]["runtime"]["model"] = "openai/gpt-4.1"

    baseline, after = edited(FILE, change_model)
    assert "[name: Robin]" in baseline  # the dumper's own spelling, which must not leak out

    kept = keep_unchanged_lines(FILE, baseline, after)

    model = next(line for line in after.splitlines(keepends=True) if "model:" in line)
    assert "openai/gpt-4.1" in model and "# quoted, with a comment" in model
    assert kept == FILE.replace("    model: 'openai/gpt-4o'   # quoted, with a comment\n", model)


def test_a_respelled_line_the_edit_touches_is_written_as_edited() -> None:
    def rename(document: Any) -> None:
        document["config"]["personas"][0]["name"] = "Sam"

    baseline, after = edited(FILE, rename)
    kept = keep_unchanged_lines(FILE, baseline, after)

    assert "Sam" in kept and "Robin" not in kept
    assert kept.replace("  personas: [name: Sam]\n", "") == \
        FILE.replace("  personas: [{name: Robin}]\n", "")


def test_lines_the_dumper_dropped_are_kept_and_edits_land_before_them() -> None:
    original = "a: 1\n# about b\nb: 2\n"
    baseline = "a: 1\nb: 2\n"  # as if the dumper had lost the comment
    after = "a: 1\nnew: 0\nb: 2\n"

    assert keep_unchanged_lines(original, baseline, after) == "a: 1\nnew: 0\n# about b\nb: 2\n"
    assert keep_unchanged_lines(original, baseline, baseline) == original


def test_comment_lines_after_a_list_follow_its_new_last_item() -> None:
    yaml = round_trip(FILE)
    document = yaml.load(FILE)
    variables = document["config"]["runtime"]["variables"]
    lines = detach_trailing(variables, last_key(variables))
    variables.append(literal({"name": "order", "default_value": "none"}))
    attach_trailing(variables, last_key(variables), lines)

    text = dump(yaml, document)

    assert lines == "  # Tools come next.\n"
    assert "      - name: order\n        default_value: none\n  # Tools come next.\n  tool:\n" \
        in text


def test_comment_lines_survive_the_removal_of_the_value_above_them() -> None:
    yaml = round_trip(FILE)
    document = yaml.load(FILE)
    runtime = document["config"]["runtime"]
    lines = detach_trailing(runtime, "variables")
    del runtime["variables"]
    attach_trailing(runtime, "model", lines)

    text = dump(yaml, document)

    assert "variables" not in text
    assert "    model: 'openai/gpt-4o'   # quoted, with a comment\n  # Tools come next.\n" \
           "  tool:\n" in text


def test_an_end_of_line_comment_stays_with_its_value() -> None:
    yaml = round_trip()
    document = yaml.load("a:\n  b: 1  # about b\n# about c\nc: 2\n")

    assert detach_trailing(document, "a") == "# about c\n"
    assert dump(yaml, document) == "a:\n  b: 1  # about b\nc: 2\n"
    assert detach_trailing(document, "c") == ""


def test_values_keep_the_style_of_the_value_they_replace() -> None:
    assert not is_flow(literal(["English", "German"], flow=False))
    assert is_flow(literal(["English", "German"], flow=True))
    assert is_flow(literal(["English", "German"]))  # new: plain values in flow style
    assert is_flow(literal({"ns": "acme", "name": "book"}, flow=True))
    assert not is_flow(literal({"ns": "acme", "name": "book"}))
    assert not is_flow(literal({"voice": {"id": "x"}}, flow=True))  # nested: a block
