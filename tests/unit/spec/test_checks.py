"""Checks within one agent file: prompt variables, smoke tests, substitutions, output_schema."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from operator_iac.errors import Diagnostic
from operator_iac.services.validate import validate_paths

MakeProject = Callable[..., Path]
Builder = Callable[..., dict[str, Any]]
LineOf = Callable[..., int]


def diagnostics(make_project: MakeProject, agents: dict[str, Any], **kwargs: Any
                ) -> list[Diagnostic]:
    make_project(agents, **kwargs)
    return list(validate_paths([]).diagnostics)


def test_undeclared_prompt_variable_points_into_the_prompt_file(
        make_project: MakeProject, conversational: Builder) -> None:
    agent = conversational(config={"runtime": {"prompt": {"text": None,
                                                          "file": "prompts/a.md"}}})
    del agent["config"]["runtime"]["prompt"]["text"]
    prompt = "You work for $clinic.\nGreet $custmer_name kindly.\n"
    [found] = diagnostics(make_project, {"a.yaml": agent},
                          files={"agents/prompts/a.md": prompt})
    assert (found.file, found.line, found.column) == ("agents/prompts/a.md", 2, 7)
    assert "prompt uses $custmer_name, which is neither a declared variable" in found.message


def test_prompt_in_a_literal_block_is_located_line_by_line(make_project: MakeProject,
                                                            line_of: LineOf) -> None:
    text = """\
        kind: conversational_agent
        name: A
        config:
          runtime:
            model: m
            prompt:
              text: |
                First line.
                Then $unknown here.
        """
    [found] = diagnostics(make_project, {"a.yaml": text})
    # The `$` sits after the block's 8-space indent and "Then ".
    assert (found.file, found.line, found.column) == ("agents/a.yaml", line_of(text, "Then"), 14)


def test_prompt_in_a_folded_block_is_located_at_its_start(make_project: MakeProject,
                                                          line_of: LineOf) -> None:
    # Folding joins the file's lines, so a position inside the text maps to no file line.
    text = """\
        kind: conversational_agent
        name: A
        config:
          runtime:
            model: m
            prompt:
              text: >
                First line,
                then $unknown here.
        """
    [found] = diagnostics(make_project, {"a.yaml": text})
    assert (found.file, found.line, found.column) == ("agents/a.yaml", line_of(text, "First"), 9)


def test_documented_context_keys_are_allowed_in_prompts(make_project: MakeProject,
                                                         conversational: Builder) -> None:
    agent = conversational(config={"runtime": {"prompt": {
        "text": "Hello $customer, from $clinic. Price: $5. Mail: help@acme.example"}}})
    assert diagnostics(make_project, {"a.yaml": agent}) == []


def test_missing_prompt_file_is_reported_at_the_file_key(make_project: MakeProject) -> None:
    text = """\
        kind: procedural_agent
        name: P
        config:
          runtime:
            model: m
            prompt: {type: fixed, file: prompts/missing.md}
        """
    [found] = diagnostics(make_project, {"p.yaml": text})
    assert (found.file, found.line) == ("agents/p.yaml", 6)
    assert found.message == ("prompt file 'prompts/missing.md' not found "
                             "(looked for agents/prompts/missing.md)")


def test_invalid_output_schema_points_inside_the_schema(make_project: MakeProject) -> None:
    text = """\
        kind: procedural_agent
        name: P
        config:
          runtime: {model: m, prompt: {text: Summarise.}}
          output:
            output_schema:
              type: object
              properties:
                score: {type: integer, minimum: high}
        """
    [found] = diagnostics(make_project, {"p.yaml": text})
    assert (found.file, found.line) == ("agents/p.yaml", 9)
    assert found.message.startswith("output_schema is not a valid JSON Schema: 'high' is not")


def test_output_schema_with_unknown_type_is_invalid(make_project: MakeProject,
                                                     procedural: Builder) -> None:
    agent = procedural(config={"output": {"output_schema": {"type": "objekt"}}})
    [found] = diagnostics(make_project, {"p.yaml": agent})
    assert "output_schema is not a valid JSON Schema" in found.message


def test_variable_without_default_and_no_smoke_supply_warns(make_project: MakeProject,
                                                             conversational: Builder) -> None:
    agent = conversational(config={"runtime": {"variables": [{"name": "customer_name"}]}},
                           smoke=[{"name": "t", "turns": [{"expect": ["no_server_errors"]}]}])
    [found] = diagnostics(make_project, {"a.yaml": agent})
    assert found.severity == "warning"
    assert found.message == ("variable 'customer_name' has no default_value and no smoke test "
                             "supplies it in context.$variables")


def test_smoke_test_supplying_the_variable_silences_the_warning(
        make_project: MakeProject, conversational: Builder) -> None:
    agent = conversational(config={"runtime": {"variables": [{"name": "customer_name"}]}},
                           smoke=[{"name": "t", "context": {"$variables": {"customer_name": "D"}}}])
    assert diagnostics(make_project, {"a.yaml": agent}) == []


def test_duplicate_variable_names(make_project: MakeProject, conversational: Builder) -> None:
    agent = conversational(config={"runtime": {"variables": [
        {"name": "x", "default_value": "1"}, {"name": "x", "default_value": "2"}]}})
    [found] = diagnostics(make_project, {"a.yaml": agent})
    assert found.message == "variable 'x' is declared twice"


def test_whole_conversation_assertion_inside_a_turn(make_project: MakeProject,
                                                     conversational: Builder) -> None:
    agent = conversational(smoke=[{"name": "t", "turns": [
        {"expect": [{"ended_with_status": "completed"}]}]}])
    [found] = diagnostics(make_project, {"a.yaml": agent})
    assert "ended_with_status is about the whole conversation" in found.message


def test_invalid_substitution_syntax(make_project: MakeProject, conversational: Builder) -> None:
    agent = conversational(config={"tool": {"transfers": [{"entity_id": "${vars:queue}"}]}})
    [found] = diagnostics(make_project, {"a.yaml": agent})
    assert found.message.startswith("invalid substitution ${vars:queue}")


def test_secrets_are_refused_outside_config(make_project: MakeProject,
                                            conversational: Builder) -> None:
    [found] = diagnostics(make_project, {"a.yaml": conversational(name="Bot ${env:TOKEN}")})
    assert "${env:TOKEN} is a secret and may be used only inside config" in found.message


def test_extra_may_not_redeclare_a_declared_field(make_project: MakeProject,
                                                  conversational: Builder) -> None:
    agent = conversational(config={"extra": {"runtime": {"model": "x", "temperature": 0.2}}})
    [found] = diagnostics(make_project, {"a.yaml": agent})
    assert found.message.startswith("config.extra sets runtime.model, which config already")


def test_unknown_filter_status_warns_with_a_suggestion(make_project: MakeProject,
                                                       procedural: Builder) -> None:
    [found] = diagnostics(make_project, {"p.yaml": procedural(
        config={"filter_statuses": ["complete"]})})
    assert found.severity == "warning"
    assert "did you mean 'completed'?" in found.message
