"""The terminal rendering of a plan."""

from __future__ import annotations

from typing import Any

from operator_iac.plan.model import FieldChange
from operator_iac.render.plan_text import render_plan_text

Factory = Any


def test_counts_come_first(make_plan: Factory, make_resource: Factory) -> None:
    plan = make_plan(make_resource("a", "create"), make_resource("b"), make_resource("c"),
                     make_resource("d", "no-op", changes=()))

    first = render_plan_text(plan).splitlines()[0]

    assert first == ("Plan: 1 to create, 2 to update, 0 to release, 0 to adopt, "
                     "0 to delete, 1 unchanged.")


def test_each_change_has_a_marker(make_plan: Factory, make_resource: Factory) -> None:
    changes = (FieldChange(path="config.tool.tools[name=new]", kind="added",
                           after={"ns": "s", "name": "new"}),
               FieldChange(path="config.tool.tools[name=old]", kind="removed",
                           before={"ns": "s", "name": "old"}),
               FieldChange(path="config.runtime.model", kind="changed", before="a", after="b"))

    text = render_plan_text(make_plan(make_resource(changes=changes)))

    assert '    + config.tool.tools[name=new]: {"name": "new", "ns": "s"}' in text
    assert '    - config.tool.tools[name=old]: {"name": "old", "ns": "s"}' in text
    assert '    ~ config.runtime.model: "a" -> "b"' in text
    assert "~ booking (conversational_agent, ca_booking) will be updated" in text


def test_prompt_changes_show_as_a_line_diff(make_plan: Factory, make_resource: Factory,
                                            prompt_change: Factory) -> None:
    resource = make_resource(**prompt_change("one\ntwo\n", "one\n2\n"))

    text = render_plan_text(make_plan(resource))

    assert "config.runtime.prompt.text: prompt text: +1 -1 lines" in text
    assert "        -two" in text and "        +2" in text
    assert '"one\\ntwo\\n"' not in text  # the full values are not repeated


def test_warnings_risks_and_smoke_are_shown(make_plan: Factory, make_resource: Factory) -> None:
    resource = make_resource(drift=True, drift_reason="the released revision carries no marker",
                             foreign_draft=True, blocked="foreign_draft",
                             risks=("model_change",), smoke=("draft", "released"))

    text = render_plan_text(make_plan(resource))

    assert "! blocked: the agent has an unreleased draft that operator-iac did not write" in text
    assert "! changed outside operator-iac: the released revision carries no marker" in text
    assert "risks: model change" in text
    assert "smoke tests run on the draft before release and after release" in text


def test_an_overwritten_foreign_draft_is_announced(make_plan: Factory,
                                                   make_resource: Factory) -> None:
    text = render_plan_text(make_plan(make_resource(foreign_draft=True)))

    assert "it will be overwritten (--overwrite-draft)" in text


def test_colour_only_when_asked(make_plan: Factory, make_resource: Factory) -> None:
    plan = make_plan(make_resource())

    assert "\x1b[" not in render_plan_text(plan, color=False)
    coloured = render_plan_text(plan, color=True)
    assert "\x1b[33m~\x1b[0m" in coloured
    assert "\x1b[1mPlan: 0 to create" in coloured


def test_no_changes_says_so(make_plan: Factory, make_resource: Factory) -> None:
    text = render_plan_text(make_plan(make_resource("a", "no-op", changes=())))

    assert "No changes." in text
    assert "= unchanged: a" in text


def test_unpruned_and_included_dependencies_are_listed(
        make_plan: Factory, make_resource: Factory, unpruned: Factory) -> None:
    plan = make_plan(make_resource("summary", "create"),
                     included_dependencies=("summary",),
                     unpruned=(unpruned(key="old", kind="procedural_agent", agent_id="pa_9"),))

    text = render_plan_text(plan)

    assert "do not exist yet: summary" in text
    assert "(run with --prune to delete): old (pa_9)" in text


def test_marker_only_updates_are_explained(make_plan: Factory, make_resource: Factory) -> None:
    text = render_plan_text(make_plan(make_resource(changes=())))

    assert "only the ownership marker is written" in text


def test_long_values_are_shortened(make_plan: Factory, make_resource: Factory) -> None:
    change = FieldChange(path="description", kind="changed", before="x" * 500, after="y")

    text = render_plan_text(make_plan(make_resource(changes=(change,))))

    assert "(502 characters)" in text
    assert "x" * 200 not in text


def test_changes_from_one_template_are_counted_under_the_summary(
        make_plan: Factory, make_resource: Factory) -> None:
    template = "/home/ci/repo/agents/clinics/receptionists.yaml"
    resources = [make_resource(f"clinic-{n}", "update", source=template) for n in range(3)]
    resources += [make_resource("clinic-9", "create", source=template),
                  make_resource("clinic-8", "no-op", changes=(), source=template),
                  make_resource("alone", "update", source="/home/ci/repo/agents/alone.yaml")]
    lines = render_plan_text(make_plan(*resources)).splitlines()
    assert lines[1] == ("4 of these changes come from one template, clinics/receptionists.yaml "
                        "(1 to create, 3 to update).")
    assert "/home/ci" not in lines[1] and "alone" not in lines[1]
    assert lines[2].startswith("Project acme-support")
