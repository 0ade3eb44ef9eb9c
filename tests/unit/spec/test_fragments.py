"""Prompt fragments: ``{{> path}}`` includes a file into a prompt, relative to the including
file and inside the project; checks run on the effective text and point into the fragment."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from operator_iac.spec.project import load_project
from operator_iac.spec.prompt_text import PromptText, splice
from operator_iac.spec.templates import find_prompt_references, find_substitutions

MakeProject = Callable[..., Path]
Errors = Callable[..., list[str]]
Builder = Callable[..., dict[str, Any]]


def _with_prompt_file(agent: dict[str, Any], name: str = "prompts/desk.md") -> dict[str, Any]:
    agent["config"]["runtime"]["prompt"] = {"type": "fixed", "file": name}
    return agent


def test_fragments_are_included_relative_to_the_including_file(
        make_project: MakeProject, conversational: Builder) -> None:
    make_project({"desk.yaml": _with_prompt_file(conversational())}, files={
        "agents/prompts/desk.md": "Hello.\n{{> fragments/policy.md}}\nBye {{>fragments/x.md}}!\n",
        "agents/prompts/fragments/policy.md": "Policy:\n{{> ../../shared/rules.md}}\n",
        "agents/prompts/fragments/x.md": "now",
        "agents/shared/rules.md": "Use @check_availability.\n",
    })
    prompt = load_project().agents["desk"].prompt
    assert prompt is not None
    assert prompt.text == "Hello.\nPolicy:\nUse @check_availability.\nBye now!\n"
    assert set(prompt.files) == {"agents/prompts/desk.md", "agents/prompts/fragments/policy.md",
                                 "agents/prompts/fragments/x.md", "agents/shared/rules.md"}


def test_references_in_a_fragment_are_checked_at_their_place_in_the_fragment(
        project_errors: Errors, conversational: Builder) -> None:
    found = project_errors({"desk.yaml": _with_prompt_file(conversational())}, {
        "agents/prompts/desk.md": "Hi.\n  {{> parts/a.md}} and $clinic\n",
        "agents/prompts/parts/a.md": "first line\nask $callr and @nope\n",
    })
    assert found[0].startswith("agents/prompts/parts/a.md:2:5: prompt uses $callr")
    assert found[1].startswith("agents/prompts/parts/a.md:2:16: prompt references @nope")
    assert len(found) == 2  # $clinic after the fragment is declared, and found in place


def test_inline_prompt_text_includes_relative_to_the_agent_file(
        make_project: MakeProject, conversational: Builder) -> None:
    agent = conversational()
    agent["config"]["runtime"]["prompt"]["text"] = \
        "{{> prompts/common.md}} Use @check_availability."
    make_project({"team/desk.yaml": agent}, files={"agents/team/prompts/common.md": "Be kind.\n"})
    prompt = load_project().agents["desk"].prompt
    assert prompt is not None and prompt.text == "Be kind. Use @check_availability."


@pytest.mark.parametrize(("fragment", "message"), [
    ("loop.md", "prompt fragments include each other in a cycle (agents/prompts/loop.md -> "
                "agents/prompts/again.md -> agents/prompts/loop.md)"),
    ("missing.md", "prompt fragment 'missing.md' not found"),
    ("../../../outside.md", "is outside the project directory"),
    ("/etc/hostname", "must be a path relative to the file that names it"),
    ("", "{{> }} names no fragment"),
])
def test_bad_includes_are_errors_at_the_directive(project_errors: Errors,
                                                  conversational: Builder, fragment: str,
                                                  message: str) -> None:
    found = project_errors({"desk.yaml": _with_prompt_file(conversational())}, {
        "agents/prompts/desk.md": "Use @check_availability.\nx {{> " + fragment + "}}\n",
        "agents/prompts/loop.md": "{{> again.md}}",
        "agents/prompts/again.md": "{{> loop.md}}",
    })
    assert len(found) == 1, found
    where = "agents/prompts/again.md:1:1: " if fragment == "loop.md" else \
        "agents/prompts/desk.md:2:3: "
    assert found[0].startswith(where), found
    assert message in found[0]


def test_the_include_directive_is_not_a_reference() -> None:
    text = "{{> parts/a.md}} $name @tool ${var:x}"
    assert [r.name for r in find_prompt_references(text)] == ["name", "tool"]
    assert [s.name for s in find_substitutions(text)] == ["x"]


def test_splice_carries_positions_across_replacements() -> None:
    outer = PromptText("ab\ncd XY ef\ngh", "outer.md", 1, 1, True)
    piece = PromptText("one\ntwo", "piece.md", 1, 1, True)
    spliced = splice(outer, [(6, 8, piece)])
    assert spliced.text == "ab\ncd one\ntwo ef\ngh"
    assert spliced.locate(spliced.text.index("two")) == ("piece.md", 2, 1)
    assert spliced.locate(spliced.text.index("ef")) == ("outer.md", 2, 7)
    assert spliced.locate(spliced.text.index("gh")) == ("outer.md", 3, 1)
    assert spliced.locate(0) == ("outer.md", 1, 1)
