"""Declaring a release gate: ``smoke_settings.gate`` in an agent file, ``defaults.smoke.gate``
in the project file, ``compare`` on one test, and an environment's conversation limit."""

from __future__ import annotations

from operator_iac.spec.gate import GateSettings
from operator_iac.spec.project import load_project
from operator_iac.spec.resolve import resolve_project

from .conftest import Builder, MakeProject, _project_data
from .test_project import declaration_errors

TEST = {"name": "books", "turns": [{"user": "Book me in"}]}


def test_the_agents_gate_overrides_the_projects_and_the_environment_bounds_conversations(
        make_project: MakeProject, conversational: Builder) -> None:
    project = _project_data(
        defaults={"smoke": {"gate": {"compare": "released", "max_drop": 0.2}}},
        environments={"staging": {"max_concurrent_conversations": 3}})
    make_project({"a.yaml": conversational(smoke=[TEST]),
                  "b.yaml": conversational(smoke=[TEST], smoke_settings={"gate": {
                      "confidence": 0.99, "max_conversations": 200, "inconclusive": "warn"}})},
                 project=project)
    desired = resolve_project(load_project(), "staging", {})
    assert desired["a"].smoke_gate == GateSettings(max_drop=0.2)
    assert desired["b"].smoke_gate == GateSettings(confidence=0.99, max_conversations=200,
                                                   inconclusive="warn")
    assert desired["a"].smoke_concurrency == 3
    assert resolve_project(load_project(), "production", {})["a"].smoke_concurrency is None


def test_a_compared_test_takes_neither_repeats_nor_a_pass_rule(
        make_project: MakeProject, conversational: Builder) -> None:
    errors = declaration_errors(make_project, {"a.yaml": conversational(smoke=[
        {**TEST, "compare": "released", "repeat": 5}])})
    assert len(errors) == 1
    assert "repeat, pass_rule and min_pass_rate do not apply to a test with compare" in errors[0]


def test_gate_values_are_checked(make_project: MakeProject, conversational: Builder) -> None:
    gate = {"compare": "production", "max_drop": 1.5, "inconclusive": "ignore"}
    errors = declaration_errors(make_project, {"a.yaml": conversational(
        smoke=[TEST], smoke_settings={"gate": gate})})
    assert len(errors) == 3
    assert any("compare" in e and "'released'" in e for e in errors)
    assert any("max_drop" in e and "less than 1" in e for e in errors)
    assert any("inconclusive" in e and "'block' or 'warn'" in e for e in errors)
