"""Base agents: ``extends`` merges a base file (``abstract: true``) under an agent file, lists
by the identities the planner diffs by, with every position pointing into its own file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from operator_iac.plan.normalise import LIST_RULES
from operator_iac.services.validate import validate_paths
from operator_iac.spec.compose import MERGE_IDENTITIES
from operator_iac.spec.project import load_project
from operator_iac.spec.resolve import resolve_project

MakeProject = Callable[..., Path]
Errors = Callable[..., list[str]]
Builder = Callable[..., dict[str, Any]]
LineOf = Callable[..., int]

BASE = """\
abstract: true
kind: conversational_agent
description: Front desk.
config:
  personas: [{name: Amanda}, {name: Sam}]
  language: {supported_languages: [English, Spanish]}
  runtime:
    model: openai/gpt-4o-mini
    prompt: {type: fixed, file: prompts/desk.md}
    variables:
      - {name: caller, default_value: there}
      - {name: clinic, default_value: Brightsmile}
  tool:
    tools: [{ns: acme, name: book_visit}, {ns: acme, name: check_availability}]
smoke:
  - name: greets
    turns:
      - expect: [{agent_says: {contains: Amanda}}]
"""
CHILD = """\
extends: ../bases/desk.yaml
name: North desk
config:
  personas: [{name: Sam, voice: {provider: operator, id: Male 1}}, {name: Lee}]
  language: {supported_languages: [French]}
  runtime:
    variables:
      - {name: clinic, default_value: North}
  tool:
    tools: [{ns: acme2, name: book_visit}, {ns: acme, name: cancel_visit}]
smoke:
  - name: greets
    turns:
      - expect: [{agent_says: {contains: Sam}}]
  - name: second
    turns:
      - expect: [no_server_errors]
"""
FILES = {"agents/bases/desk.yaml": BASE,
         "agents/bases/prompts/desk.md": "Hello $caller from $clinic. Use @book_visit.\n"}


def test_the_agent_file_is_merged_over_its_base_by_identity(make_project: MakeProject) -> None:
    make_project({"north/desk-north.yaml": CHILD}, files=FILES)
    project = load_project()
    assert sorted(project.agents) == ["desk-north"]  # the base file declares no agent
    config = resolve_project(project, "staging", {})["desk-north"].config
    assert config["personas"] == [
        {"name": "Amanda"}, {"name": "Sam", "voice": {"provider": "operator", "id": "Male 1"}},
        {"name": "Lee"}]
    assert config["tool"]["tools"] == [{"ns": "acme2", "name": "book_visit"},
                                       {"ns": "acme", "name": "check_availability"},
                                       {"ns": "acme", "name": "cancel_visit"}]
    assert config["runtime"]["variables"] == [{"name": "caller", "default_value": "there"},
                                              {"name": "clinic", "default_value": "North"}]
    assert config["language"] == {"supported_languages": ["French"]}  # other lists replace
    assert config["runtime"]["prompt"]["text"].startswith("Hello $caller")  # base-relative
    smoke = project.agents["desk-north"].spec
    assert [t.name for t in smoke.smoke] == ["greets", "second"]  # type: ignore[union-attr]


def test_merge_identities_are_the_planners(make_project: MakeProject) -> None:
    keyed = {("config", *path): rule.key for path, rule in LIST_RULES.items() if rule.key}
    assert {p: k for p, k in MERGE_IDENTITIES.items() if p[0] == "config"} == keyed


def test_bases_chain_and_a_cycle_is_an_error_at_its_extends(
        make_project: MakeProject, project_errors: Errors) -> None:
    middle = "abstract: true\nextends: desk.yaml\ndescription: Middle.\n"
    make_project({"north/a.yaml": CHILD.replace("desk.yaml", "middle.yaml")},
                 files={**FILES, "agents/bases/middle.yaml": middle})
    agent = load_project().agents["a"]
    assert agent.spec.description == "Middle."
    assert agent.spec.config.runtime.model == "openai/gpt-4o-mini"
    looped = BASE.replace("abstract: true\n", "abstract: true\nextends: middle.yaml\n")
    found = project_errors({}, {"agents/bases/desk.yaml": looped})
    assert found == ["agents/bases/desk.yaml:2:10: extends forms a cycle (agents/north/a.yaml -> "
                     "agents/bases/middle.yaml -> agents/bases/desk.yaml -> "
                     "agents/bases/middle.yaml)"]


def test_a_base_must_be_abstract_inside_the_project_and_readable(
        project_errors: Errors) -> None:
    child = "extends: {}\nname: X\n"
    cases = {
        "../concrete.yaml": "is not a base file: mark it 'abstract: true'",
        "missing.yaml": "base file 'missing.yaml': base file not found",
        "../../outside.yaml": "is outside the project directory",
        "/etc/passwd": "must be a path relative to this file",
    }
    for target, message in cases.items():
        found = project_errors({"x.yaml": child.format(target)},
                        {"concrete.yaml": BASE.replace("abstract: true\n", "")})
        assert len(found) == 1 and found[0].startswith("agents/x.yaml:1:10: "), found
        assert message in found[0]


def test_a_problem_the_base_brings_points_into_the_base(
        make_project: MakeProject, project_errors: Errors, line_of: LineOf) -> None:
    base = BASE.replace("    model: openai", "    modle: openai")
    found = project_errors({"north/a.yaml": CHILD},
                    {**FILES, "agents/bases/desk.yaml": base})
    assert any(f.startswith(f"agents/bases/desk.yaml:{line_of(base, 'modle')}:5: unknown key "
                            "'modle'") for f in found), found


def test_validate_of_an_agent_file_shows_its_base_and_counts_no_agent_for_a_base(
        make_project: MakeProject) -> None:
    base = BASE.replace("{name: Sam}", "{name: 7}")
    make_project({"north/a.yaml": CHILD}, files={**FILES, "agents/bases/desk.yaml": base})
    report = validate_paths([Path("agents/north/a.yaml")])
    assert [d.file for d in report.errors] == ["agents/bases/desk.yaml"]
    make_project({}, files=FILES)
    report = validate_paths([Path("agents/bases/desk.yaml")])
    assert report.ok and report.valid_agents == 0 and report.files == 1
