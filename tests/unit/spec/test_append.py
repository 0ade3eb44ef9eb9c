"""Appending a smoke test to an agent file keeps every other byte of the file."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from operator_iac.errors import UsageError
from operator_iac.spec.append import append_item

ITEM = "# REVIEW: generated\n- name: new\n  turns:\n    - user: \"hi\"\n"
PATH = Path("agents/a.yaml")

HEAD = "kind: conversational_agent   # keep this comment\nname:   Shop\n"
BLOCK = HEAD + ("smoke:\n  - name: old\n    turns:\n      - user: hello\n\n"
                "# about the config\nconfig: {a: 1}\n")
LAST = HEAD + "smoke:\n- name: old\n\n  # trailing\n"
EMPTY = HEAD + "smoke: []\nconfig: {a: 1}\n"
NONE = HEAD + "config: {a: 1}"


def names(text: str) -> list[str]:
    return [t["name"] for t in yaml.safe_load(text)["smoke"]]


def only_inserted(before: str, after: str) -> bool:
    """``after`` is ``before`` with one contiguous piece of text inserted."""
    prefix = next((i for i, (a, b) in enumerate(zip(before, after, strict=False)) if a != b),
                  len(before))
    inserted = len(after) - len(before)
    return after[:prefix] + after[prefix + inserted:] == before


@pytest.mark.parametrize("text", [BLOCK, LAST, NONE])
def test_the_item_is_inserted_and_nothing_else_changes(text: str) -> None:
    result = append_item(text, "smoke", ITEM, PATH)
    assert only_inserted(text, result)
    assert names(result)[-1] == "new"
    assert yaml.safe_load(result)["name"] == "Shop"


def test_items_take_the_indentation_of_the_list() -> None:
    result = append_item(BLOCK, "smoke", ITEM, PATH)
    assert names(result) == ["old", "new"]
    assert "  - name: new\n    turns:\n" in result
    assert result.endswith("# about the config\nconfig: {a: 1}\n")
    assert "- name: new\n  turns:" in append_item(LAST, "smoke", ITEM, PATH)


def test_an_empty_list_becomes_a_block_list() -> None:
    result = append_item(EMPTY, "smoke", ITEM, PATH)
    assert names(result) == ["new"] and yaml.safe_load(result)["config"] == {"a": 1}
    assert result.startswith(HEAD)


def test_a_flow_list_with_items_is_refused() -> None:
    with pytest.raises(UsageError, match="not a block list"):
        append_item(HEAD + "smoke: [{name: a}]\n", "smoke", ITEM, PATH)
