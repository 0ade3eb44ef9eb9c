"""The Markdown rendering for pull-request comments, and its size budget."""

from __future__ import annotations

from typing import Any

from operator_iac.plan.model import FieldChange
from operator_iac.render.plan_markdown import render_plan_markdown

Factory = Any


def big_prompt(lines: int, word: str) -> str:
    return "\n".join(f"{word} line {i}: be polite and precise." for i in range(lines))


def test_summary_table_and_sections(make_plan: Factory, make_resource: Factory) -> None:
    plan = make_plan(make_resource("a", "create"),
                     make_resource("b", drift=True, drift_reason="no marker",
                                   risks=("model_change",)),
                     make_resource("c", "no-op", changes=()))

    text = render_plan_markdown(plan)

    assert "**Plan: 1 to create, 1 to update, 0 to release, 0 to adopt, 0 to delete, " \
           "1 unchanged.**" in text
    assert "| 🆕 | `a` | A | new | conversational | create | 1 |  |" in text
    assert "| ✏️ | `b` | B | `ca_b` | conversational | update | 1 | ⚠️ changed outside " \
           "operator-iac, model change |" in text
    assert "#### ✏️ `b` · update" in text
    assert "> ⚠️ **Changed outside operator-iac**: no marker." in text
    assert "<details><summary>1 unchanged</summary>" in text
    assert "#### ✔️ `c`" not in text


def test_prompt_diffs_are_folded(make_plan: Factory, make_resource: Factory,
                                 prompt_change: Factory) -> None:
    text = render_plan_markdown(make_plan(make_resource(**prompt_change("a\nb\n", "a\nc\n"))))

    assert "<details><summary>Prompt diff (+1 -1 lines)</summary>" in text
    assert "```diff\n--- booking (released)\n+++ booking (desired)\n" in text
    assert "-b\n+c\n```" in text


def test_table_cells_are_escaped(make_plan: Factory, make_resource: Factory) -> None:
    change = FieldChange(path="description", kind="changed", before="a|b", after="<x>\ny")

    text = render_plan_markdown(make_plan(make_resource(changes=(change,))))

    assert '<code>"a&#124;b"</code>' in text
    assert "&lt;x&gt;" in text


def test_backticks_in_a_diff_lengthen_the_fence(make_plan: Factory, make_resource: Factory,
                                                prompt_change: Factory) -> None:
    text = render_plan_markdown(make_plan(make_resource(**prompt_change("a", "```code```"))))

    assert "````diff\n" in text


def test_a_huge_prompt_diff_is_truncated_with_a_note(
        make_plan: Factory, make_resource: Factory, prompt_change: Factory) -> None:
    huge = make_resource("huge", **prompt_change(big_prompt(3000, "old"),
                                                 big_prompt(3000, "new")))
    small = make_resource("small", **prompt_change("a\nb\n", "a\nc\n"))

    text = render_plan_markdown(make_plan(huge, small))

    assert len(text) <= 60_000
    assert "**Truncated**" in text and "`huge`" in text.split("**Truncated**")[1]
    assert "more lines not shown (truncated)" in text
    assert "-b\n+c\n```" in text  # the small diff is kept whole
    assert "-old line 0:" in text  # the start of the big diff is kept


def test_a_custom_budget_is_respected(make_plan: Factory, make_resource: Factory,
                                      prompt_change: Factory) -> None:
    resources = [make_resource(f"agent-{i}", **prompt_change(big_prompt(50, "old"),
                                                            big_prompt(50, "new")))
                 for i in range(10)]

    text = render_plan_markdown(make_plan(*resources), budget=8_000)

    assert len(text) <= 8_000
    assert "**Truncated**" in text


def test_too_many_agents_drop_sections_and_say_which(
        make_plan: Factory, make_resource: Factory) -> None:
    changes = tuple(FieldChange(path=f"config.extra_{i}", kind="changed", before="a" * 60,
                                after="b" * 60) for i in range(30))
    resources = [make_resource(f"agent-{i:03}", changes=changes) for i in range(60)]

    text = render_plan_markdown(make_plan(*resources))

    assert len(text) <= 60_000
    note = text.split("**Truncated**")[1].split("\n")[0]
    assert "sections omitted for" in note and "`agent-059`" in note
    assert "| ✏️ | `agent-059` |" in text  # the summary table still lists every agent
    assert "#### ✏️ `agent-000`" in text


def test_a_plan_that_fits_has_no_truncation_note(make_plan: Factory,
                                                 make_resource: Factory) -> None:
    assert "Truncated" not in render_plan_markdown(make_plan(make_resource()))


def test_no_changes(make_plan: Factory) -> None:
    assert "No changes." in render_plan_markdown(make_plan())


def test_risks_and_smoke_tests_are_separate_sentences(make_plan: Factory,
                                                      make_resource: Factory) -> None:
    plan = make_plan(make_resource("b", risks=("model_change", "tool_removed"),
                                   smoke=("draft", "released")))

    text = render_plan_markdown(plan)

    assert "**Risks:** model change, tool removed." in text
    assert "\nSmoke tests run on the draft before release and after release." in text


def test_warnings_are_quoted_and_flagged_once(make_plan: Factory,
                                              make_resource: Factory) -> None:
    blocked = make_resource("a", foreign_draft=True, blocked="foreign_draft")
    overwritten = make_resource("b", foreign_draft=True)

    text = render_plan_markdown(make_plan(blocked, overwritten))

    assert ("| ✏️ | `a` | A | `ca_a` | conversational | update | 1 | ⛔ blocked (foreign draft) |"
            in text)
    assert ("> ⛔ **Blocked**: the agent has an unreleased draft that operator-iac did not "
            "write; apply refuses to overwrite it without --overwrite-draft.") in text
    assert "| ✏️ | `b` | B | `ca_b` | conversational | update | 1 | ⚠️ foreign draft |" in text
    assert ("> ⚠️ The agent has an unreleased draft that operator-iac did not write; it will "
            "be overwritten (--overwrite-draft).") in text


def test_agents_are_named_by_key_platform_name_and_id(make_plan: Factory,
                                                      make_resource: Factory) -> None:
    """Before a rename the platform still shows the old name: that is what a reviewer finds
    in the dashboard."""
    rename = FieldChange(path="name", kind="changed", before="Front | desk", after="Reception")
    text = render_plan_markdown(make_plan(make_resource("desk", changes=(rename,)),
                                          make_resource("new-one", "create")))

    assert "| ✏️ | `desk` | Front &#124; desk | `ca_desk` | conversational | update |" in text
    assert "| 🆕 | `new-one` | New-One | new | conversational | create |" in text
    assert "Conversational agent **Front &#124; desk** `ca_desk` will be" in text


def test_a_long_one_line_description_is_shown_whole(make_plan: Factory,
                                                    make_resource: Factory) -> None:
    long = "First line of Acme's website chat: " + "answers orders and refunds, " * 8
    nested = {"items": ["x" * 30, "y" * 30, "z" * 30]}
    changes = (FieldChange(path="description", kind="changed", before="Short.", after=long),
               FieldChange(path="config.extra", kind="changed", before=None, after=nested))
    text = render_plan_markdown(make_plan(make_resource(changes=changes)))

    assert len(long) > 200 and f'<code>"{long}"</code>' in text
    assert "… (" in text.split("config.extra")[1]  # structured values stay short


def test_fitting_the_budget_renders_each_section_at_most_twice(
        make_plan: Factory, make_resource: Factory, monkeypatch: Any) -> None:
    """Linear: each section is rendered whole once and once without its prompt diff; what
    fits is found by adding up lengths, not by rendering the document per dropped agent."""
    from operator_iac.render import plan_markdown

    calls: list[str] = []
    section = plan_markdown._section

    def counted(resource: Any, allowance: int | None) -> str:
        calls.append(resource.key)
        return section(resource, allowance)

    monkeypatch.setattr(plan_markdown, "_section", counted)
    changes = tuple(FieldChange(path=f"config.extra_{i}", kind="changed", before="a" * 60,
                                after="b" * 60) for i in range(30))
    resources = [make_resource(f"agent-{i:04}", changes=changes) for i in range(300)]
    text = render_plan_markdown(make_plan(*resources))
    note = text.split("**Truncated**")[1].split("\n")[0]
    assert len(text) <= 60_000 and "`agent-0299` (2" in note and " in all)" in note
    assert len(calls) <= 2 * len(resources)
