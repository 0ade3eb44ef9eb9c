"""Templates: one file with ``instances:`` declares one agent per instance, its ``${var:...}``
taken from the instance before the environment."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from operator_iac.errors import ConfigurationError, DeclarationError
from operator_iac.services.validate import validate_paths
from operator_iac.spec.project import load_project
from operator_iac.spec.resolve import resolve_project

MakeProject = Callable[..., Path]
Builder = Callable[..., dict[str, Any]]
LineOf = Callable[..., int]

TEMPLATE = """\
kind: conversational_agent
name: ${var:clinic} desk
description: Desk of ${var:clinic}, queue ${var:queue}.
config:
  personas: [{name: Amanda}]
  runtime:
    model: openai/gpt-4o-mini
    prompt: {type: fixed, file: prompts/desk.md}
    variables:
      - {name: seats, default_value: "${var:seats} seats"}
  tool:
    tools: [{ns: acme, name: book_visit}]
    transfers: [{entity_id: "${var:queue}"}]
  extra: {max_seats: "${var:seats}"}
smoke:
  - name: greets at ${var:clinic}
    turns:
      - expect: [{agent_says: {contains: "${var:clinic}"}}]
instances:
  - key: desk-north
    vars: {clinic: North, seats: 3}
  - key: desk-south
    vars: {clinic: South, seats: 5, queue: "+15550999"}
"""
PROMPT = "You are at ${var:clinic}; keep $${var:clinic} literal. Use @book_visit.\n"


def test_each_instance_is_an_agent_with_its_own_values(make_project: MakeProject) -> None:
    make_project({"clinics/desks.yaml": TEMPLATE}, files={"agents/clinics/prompts/desk.md": PROMPT})
    project = load_project()
    assert sorted(project.agents) == ["desk-north", "desk-south"]
    desired = resolve_project(project, "staging", {})
    north, south = desired["desk-north"], desired["desk-south"]
    assert (north.name, south.name) == ("North desk", "South desk")
    assert north.description == "Desk of North, queue +15550100."  # the environment's queue
    assert south.description == "Desk of South, queue +15550999."  # the instance's first
    assert north.config["max_seats"] == 3 and south.config["max_seats"] == 5  # typed
    assert north.config["runtime"]["prompt"]["text"] == \
        "You are at North; keep ${var:clinic} literal. Use @book_visit.\n"
    assert north.config["runtime"]["variables"] == [{"name": "seats", "default_value": "3 seats"}]
    assert [t.name for t in north.smoke] == ["greets at North"]
    assert north.smoke[0].turns[0].expect[0].agent_says.contains == "North"
    assert north.source == south.source == project.root / "agents" / "clinics" / "desks.yaml"


def test_a_value_neither_the_instance_nor_the_environment_has_is_missing(
        make_project: MakeProject, project_data: Builder) -> None:
    text = TEMPLATE.replace("Desk of ${var:clinic}", "Desk of ${var:region}")
    make_project({"desks.yaml": text}, files={"agents/prompts/desk.md": PROMPT},
                 project=project_data(environments={"staging": {"vars": {"region": "EU"}}}))
    with pytest.raises(DeclarationError) as caught:
        load_project()
    [message] = {d.message for d in caught.value.diagnostics if d.severity == "error"}
    assert message == "${var:region} has no value in the vars of environment production"


def test_instance_keys_collide_with_each_other_and_with_files(
        make_project: MakeProject, conversational: Builder, line_of: LineOf) -> None:
    text = TEMPLATE + "  - {key: desk-north, vars: {clinic: Again, seats: 1}}\n"
    make_project({"desks.yaml": text, "other/desk-south.yaml": conversational()},
                 files={"agents/prompts/desk.md": PROMPT})
    with pytest.raises(DeclarationError) as caught:
        load_project()
    found = [str(d) for d in caught.value.diagnostics]
    last = line_of(text, "key: desk-north", 2)
    assert f"agents/desks.yaml:{last}:11: instance key 'desk-north' is used twice in this " \
           "template (first as instance 0)" in found
    assert any(f.startswith("agents/other/desk-south.yaml:1:1: duplicate agent key "
                            "'desk-south': agents/desks.yaml declares") for f in found), found


def test_bad_instances_point_at_the_instance(make_project: MakeProject, line_of: LineOf) -> None:
    text = TEMPLATE.replace("key: desk-south", "key: desk south")
    make_project({"desks.yaml": text}, files={"agents/prompts/desk.md": PROMPT})
    report = validate_paths([])
    assert [d.line for d in report.errors] == [line_of(text, "desk south")]
    assert "instances" in report.errors[0].message
    make_project({"desks.yaml": TEMPLATE.split("instances:")[0] + "instances: []\n"})
    report = validate_paths([])
    assert [d.message for d in report.errors] == [
        "instances lists no instance; a template declares at least one"]


def test_a_template_with_a_base_and_its_report(make_project: MakeProject) -> None:
    base = "abstract: true\n" + TEMPLATE.split("instances:")[0]
    template = "extends: ../bases/desk.yaml\ninstances:\n" + \
        "".join(f"  - {{key: desk-{n:03}, vars: {{clinic: C{n}, seats: {n}}}}}\n"
                for n in range(65))
    make_project({"clinics/desks.yaml": template, "bases/desk.yaml": base},
                 files={"agents/bases/prompts/desk.md": PROMPT})
    report = validate_paths([])
    assert report.ok, report.diagnostics
    assert report.valid_agents == 65 and report.files == 2
    with pytest.raises(ConfigurationError, match="cannot resolve"):
        resolve_project(load_project(), None, {})  # ${var:queue} needs an environment


def test_an_instance_that_reuses_a_file_key_is_reported_at_its_key(
        make_project: MakeProject, conversational: Builder, line_of: LineOf) -> None:
    make_project({"desk-north.yaml": conversational(), "zz/desks.yaml": TEMPLATE},
                 files={"agents/zz/prompts/desk.md": PROMPT})
    with pytest.raises(DeclarationError) as caught:
        load_project()
    line = line_of(TEMPLATE, "key: desk-north")
    assert [str(d) for d in caught.value.diagnostics] == [
        f"agents/zz/desks.yaml:{line}:10: duplicate agent key 'desk-north': "
        "agents/desk-north.yaml declares an agent with the same key (keys are file stems or "
        "instance keys, whatever the folder)"]
