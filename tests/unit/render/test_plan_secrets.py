"""Secret references in every rendering of a plan: by name, where they are, never a value;
in Markdown also in the header, which the size budget never cuts."""

from __future__ import annotations

from typing import Any

from operator_iac.plan.model import Plan, SecretReference
from operator_iac.render.plan_markdown import render_plan_markdown
from operator_iac.render.plan_text import render_plan_text

Factory = Any
PROMPT = "config.runtime.prompt.text"


def secret_plan(make_plan: Factory, make_resource: Factory, **fields: Any) -> Plan:
    return make_plan(
        make_resource("booking", secret_references=(
            SecretReference(change="introduced", path=PROMPT, name="BOOKING_API_TOKEN"),
            SecretReference(change="removed", path="config.output.post_url"))),
        make_resource("triage", secret_references=(
            SecretReference(change="changed", path=PROMPT, name="TRIAGE_TOKEN"),
            SecretReference(change="removed", path=PROMPT, name="OLD_TOKEN"))),
        **fields)


def test_text_names_each_reference_under_its_agent(make_plan: Factory,
                                                   make_resource: Factory) -> None:
    text = render_plan_text(secret_plan(make_plan, make_resource))

    booking = text.split("~ booking")[1].split("~ triage")[0]
    assert f"    ! introduces ${{env:BOOKING_API_TOKEN}} in {PROMPT}\n" in booking
    assert ("    ! removes the secret at config.output.post_url (the platform does not "
            "record its variable's name)\n") in booking
    triage = text.split("~ triage")[1]
    assert (f"    ! changes {PROMPT}, which holds ${{env:TRIAGE_TOKEN}}; it held a secret "
            "before, and the platform does not record which") in triage
    assert f"    ! removes ${{env:OLD_TOKEN}} from {PROMPT}" in triage


def test_markdown_lists_them_in_the_header_the_table_and_the_sections(
        make_plan: Factory, make_resource: Factory) -> None:
    text = render_plan_markdown(secret_plan(make_plan, make_resource))

    header = text.split("| |")[0]
    assert "🔑 **Secret references** (names, never values):" in header
    assert (f"- `booking` introduces `${{env:BOOKING_API_TOKEN}}` in `{PROMPT}`"
            in header)
    assert f"- `triage` removes `${{env:OLD_TOKEN}}` from `{PROMPT}`" in header
    assert "🔑 secret introduced, 🔑 secret removed |" in text
    assert f"> 🔑 Introduces `${{env:BOOKING_API_TOKEN}}` in `{PROMPT}`." in text


def test_the_header_keeps_them_when_sections_are_cut(make_plan: Factory,
                                                     make_resource: Factory) -> None:
    plan = secret_plan(make_plan, make_resource)
    text = render_plan_markdown(plan, budget=len(render_plan_markdown(plan)) - 200)

    assert "**Truncated**" in text
    assert "- `triage` removes `${env:OLD_TOKEN}`" in text


def test_a_plan_without_secret_references_says_nothing_about_them(
        make_plan: Factory, make_resource: Factory) -> None:
    plan = make_plan(make_resource("booking"))
    assert "secret" not in render_plan_markdown(plan).lower()
    assert "${env:" not in render_plan_text(plan)
