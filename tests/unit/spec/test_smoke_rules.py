"""Pass rules, quarantine and judges as declarations: what validates, what is refused, and
that every new property explains itself in the JSON Schema."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from operator_iac.services.validate import validate_paths
from operator_iac.spec.models import SmokeTest
from operator_iac.spec.smoke_rules import PassRule, judge_schema_problem

from .conftest import PROJECT

MakeProject = Callable[..., Path]
Builder = Callable[..., dict[str, Any]]
JUDGE_SCHEMA = {"type": "object", "properties": {"pass": {"type": "boolean"},
                                                 "score": {"type": "number"},
                                                 "reason": {"type": "string"}}}


def smoke(**fields: Any) -> SmokeTest:
    return SmokeTest.model_validate({"name": "t", **fields})


@pytest.mark.parametrize(("fields", "rule"), [
    ({}, PassRule("all")),
    ({"pass_rule": "majority"}, PassRule("majority")),
    ({"pass_rule": "rate:0.8"}, PassRule("rate", 0.8)),
    ({"pass_rule": "rate:1"}, PassRule("rate", 1.0)),
    ({"min_pass_rate": 0.67}, PassRule("rate", 0.67)),
    ({"min_pass_rate": 1}, PassRule("rate", 1.0)),
])
def test_pass_rules_and_their_synonym(fields: dict[str, Any], rule: PassRule) -> None:
    assert smoke(**fields).rule == rule


@pytest.mark.parametrize("fields", [{"pass_rule": "most"}, {"pass_rule": "rate:1.5"},
                                    {"pass_rule": "rate:"},
                                    {"pass_rule": "all", "min_pass_rate": 0.5}])
def test_bad_pass_rules_are_refused(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        smoke(**fields)


@pytest.mark.parametrize(("schema", "min_score", "problem"), [
    (JUDGE_SCHEMA, None, None),
    (JUDGE_SCHEMA, 0.7, None),
    ({"properties": {"passed": {"type": ["boolean", "null"]}, "reason": {"type": "string"}}},
     None, None),
    ({"properties": {"pass": {"type": "boolean"}, "reason": {"type": "string"}}}, 0.5,
     "has no number property 'score' in its output_schema, which min_score needs"),
    ({"properties": {"reason": {"type": "string"}}}, None,
     "has neither a boolean property 'pass' nor a number property 'score' in its "
     "output_schema"),
    ({"properties": {"pass": {"type": "boolean"}}}, None,
     "has no string property 'reason' in its output_schema"),
    (None, None, "has no output_schema with properties"),
])
def test_judge_output_schemas(schema: Any, min_score: float | None, problem: str | None) -> None:
    assert judge_schema_problem(schema, min_score) == problem


def test_validate_checks_the_judge(make_project: MakeProject, conversational: Builder,
                                   procedural: Builder) -> None:
    judged = conversational(smoke=[{"name": "polite", "judge": {
        "agent": "judge", "rubric": "Was the agent polite?", "min_score": 0.7}}])
    make_project({"booking.yaml": judged, "judge.yaml": procedural(
        config={"output": {"output_schema": JUDGE_SCHEMA}})})
    assert validate_paths([]).errors == []
    make_project({"judge.yaml": procedural()})  # its output has no verdict
    [found] = validate_paths([]).errors
    assert found.message == ("judge agent 'judge' has no number property 'score' in its "
                             "output_schema, which min_score needs")
    make_project({"booking.yaml": conversational(smoke=[{"name": "p", "judge": {
        "agent": "jugde", "rubric": "x"}}])})
    assert "judge agent 'jugde' is not a declared agent; did you mean 'judge'?" in [
        d.message for d in validate_paths([]).errors]


def test_quarantine_entries_name_declared_agents(make_project: MakeProject,
                                                 conversational: Builder) -> None:
    agent = conversational(smoke=[{"name": "books"}])
    make_project({"booking.yaml": agent}, project={**PROJECT, "quarantine": [
        {"agent": "bookng"}, {"agent": "booking", "test": "book"}]})
    report = validate_paths([])
    assert [d.message for d in report.errors] == [
        "quarantine names 'bookng', which is not a declared agent; did you mean 'booking'?"]
    assert "'booking' has no smoke test 'book'; did you mean 'books'?" in [
        d.message for d in report.diagnostics if d.severity == "warning"]


def test_project_quarantine_marks_the_tests(make_project: MakeProject,
                                            conversational: Builder) -> None:
    from operator_iac.spec.project import load_project
    from operator_iac.spec.resolve import resolve_agent

    agent = conversational(smoke=[{"name": "books"}, {"name": "greets"}])
    make_project({"booking.yaml": agent}, project={**PROJECT, "quarantine": [
        {"agent": "booking", "test": "books"}]})
    project = load_project()
    desired = resolve_agent(project.agents["booking"], project, "staging", {})
    assert [(t.name, t.quarantine) for t in desired.smoke] == [("books", True),
                                                              ("greets", False)]


def test_every_new_property_is_described() -> None:
    from operator_iac.spec.schema import agent_file_schema, project_file_schema

    defs = {**agent_file_schema()["$defs"], **project_file_schema()["$defs"]}
    # Definitions are named in the user's words; assertion kinds are the properties of the
    # one "assertion" definition.
    properties = {name: d.get("properties", {}) for name, d in defs.items()}
    properties["assertion"] = defs["assertion"]["else"]["properties"]
    wanted = {"smoke_test": ("pass_rule", "min_pass_rate", "quarantine", "judge"),
              "judge": ("agent", "rubric", "min_score"),
              "tool_call": ("within_turns",), "quarantine_entry": ("agent", "test"),
              "assertion": ("notice_sent", "context_updated", "agent_interrupted")}
    missing = [f"{model}.{name}" for model, names in wanted.items() for name in names
               if not properties[model][name].get("description")]
    assert missing == []
