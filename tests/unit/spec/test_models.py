"""Agent file models: strict types, unknown keys with suggestions, and errors at their line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from operator_iac.errors import Diagnostic
from operator_iac.spec.agent_file import load_agent_file
from operator_iac.spec.assertions import (
    AgentSays,
    AnyMatch,
    EqualsMatch,
    NoServerErrors,
    RegexMatch,
    SubsetMatch,
    ToolCalled,
    ToolReturnedError,
    assertion_kind,
)
from operator_iac.spec.models import ConversationalAgentSpec, ProceduralAgentSpec

WriteFile = Callable[..., Path]
Builder = Callable[..., dict[str, Any]]
LineOf = Callable[..., int]

AGENT = """\
kind: conversational_agent
name: Booking
config:
  runtime:
    model: openai/gpt-4o
    prompt: {type: fixed, text: Hello}
"""


def errors_of(path: Path) -> list[Diagnostic]:
    agent, diagnostics = load_agent_file(path)
    # Unknown keys alone still give an agent (built without them), so that the other checks
    # run in the same pass; any other error gives none.
    only_unknown_keys = all("unknown key" in d.message for d in diagnostics)
    assert (agent is None) != only_unknown_keys, diagnostics
    assert any(d.severity == "error" for d in diagnostics)
    return diagnostics


def test_a_valid_conversational_agent_loads(agent_file: WriteFile, conversational: Builder) -> None:
    agent, diagnostics = load_agent_file(agent_file(conversational()))
    assert diagnostics == []
    assert agent is not None and agent.key == "agent"
    assert isinstance(agent.spec, ConversationalAgentSpec)
    assert agent.spec.config.personas is not None
    assert agent.spec.config.personas[0].name == "Amanda"


def test_a_valid_procedural_agent_loads(agent_file: WriteFile, procedural: Builder) -> None:
    agent, diagnostics = load_agent_file(agent_file(procedural()))
    assert diagnostics == []
    assert agent is not None and isinstance(agent.spec, ProceduralAgentSpec)
    assert agent.spec.config.runtime.reasoning_effort == "medium"


def test_typo_of_a_known_key_suggests_it(agent_file: WriteFile, line_of: LineOf) -> None:
    text = AGENT.replace("    model:", "    modle:")
    missing, unknown = errors_of(agent_file(text))
    assert (unknown.file, unknown.line, unknown.column) == (
        "agents/agent.yaml", line_of(text, "modle"), 5)
    assert unknown.message == ("unknown key 'modle' in config.runtime; did you mean 'model'? "
                               "(known keys: model, prompt, variables)")
    assert missing.message == "missing required key 'model' in config.runtime"


def test_unknown_key_without_a_close_match_lists_the_known_keys(agent_file: WriteFile) -> None:
    [found] = errors_of(agent_file(AGENT + "colour: blue\n"))
    assert found.line == 7
    assert found.message.startswith("unknown key 'colour' in the top level (known keys: kind,")


def test_config_extra_accepts_any_keys(agent_file: WriteFile, conversational: Builder) -> None:
    data = conversational(config={"extra": {"new_platform_field": {"deep": [1, 2]}}})
    agent, diagnostics = load_agent_file(agent_file(data))
    assert diagnostics == []
    assert agent is not None
    assert agent.spec.config.extra == {"new_platform_field": {"deep": [1, 2]}}


def test_a_list_where_a_mapping_is_expected(agent_file: WriteFile, line_of: LineOf) -> None:
    text = AGENT + "  tool:\n    - ns: acme\n      name: x\n"
    [found] = errors_of(agent_file(text))
    assert found.line == line_of(text, "- ns: acme")
    assert found.message == "config.tool: expected a mapping, got a list"


def test_wrong_scalar_type_says_what_was_expected(agent_file: WriteFile, line_of: LineOf) -> None:
    text = AGENT.replace("model: openai/gpt-4o", "model: 4")
    [found] = errors_of(agent_file(text))
    assert found.line == line_of(text, "model: 4")
    assert found.message == ("config.runtime.model: expected a string, got an integer "
                             "(quote it to make it a string)")


def test_missing_required_key_points_at_its_parent(agent_file: WriteFile, line_of: LineOf) -> None:
    text = AGENT.replace("    prompt: {type: fixed, text: Hello}\n", "")
    [found] = errors_of(agent_file(text))
    assert found.line == line_of(text, "runtime:")
    assert found.message == "missing required key 'prompt' in config.runtime"


def test_kind_typo_suggests_the_kind(agent_file: WriteFile) -> None:
    [found] = errors_of(agent_file(AGENT.replace("conversational_agent", "conversational")))
    assert found.line == 1
    assert "unknown kind 'conversational'" in found.message
    assert "did you mean 'conversational_agent'?" in found.message


def test_missing_kind(agent_file: WriteFile) -> None:
    [found] = errors_of(agent_file(AGENT.replace("kind: conversational_agent\n", "")))
    assert found.message.startswith("missing required key 'kind'")


def test_a_top_level_list_is_not_an_agent(agent_file: WriteFile) -> None:
    [found] = errors_of(agent_file("- a\n- b\n"))
    assert (found.line, found.column) == (1, 1)
    assert "got a list" in found.message


def test_prompt_needs_exactly_one_of_text_and_file(agent_file: WriteFile, line_of: LineOf) -> None:
    text = AGENT.replace("{type: fixed, text: Hello}", "{type: fixed, text: Hi, file: p.md}")
    [found] = errors_of(agent_file(text))
    assert found.line == line_of(text, "prompt:")
    assert "exactly one of 'text' or 'file'" in found.message


def test_prompt_type_must_be_fixed(agent_file: WriteFile) -> None:
    [found] = errors_of(agent_file(AGENT.replace("type: fixed", "type: fixd")))
    assert "'fixd' is not allowed" in found.message and "did you mean 'fixed'?" in found.message


def test_variable_names_must_be_identifiers(agent_file: WriteFile, conversational: Builder) -> None:
    data = conversational(config={"runtime": {"variables": [{"name": "first name"}]}})
    [found] = errors_of(agent_file(data))
    assert "'first name' is not a valid name" in found.message


def test_invalid_file_stem_is_reported(agent_file: WriteFile, conversational: Builder) -> None:
    agent, diagnostics = load_agent_file(agent_file(conversational(), name="my agent.yaml"))
    assert agent is not None
    assert [d.message for d in diagnostics] == [
        "file name 'my agent.yaml' does not make a valid agent key: use letters, digits, "
        "'-' and '_' (the key is the file stem)"]


# ---- smoke tests ------------------------------------------------------------------------

SMOKE = AGENT + """\
smoke:
  - name: greets
    context: {$variables: {customer_name: Dana}}
    turns:
      - expect: [{agent_says: {contains: Amanda}}]
      - user: check_availability please
        expect:
          - tool_called:
              name: check_availability
              arguments: {day: {regex: "(?i)tue"}, raw: tuesday, any_arg: {any: true},
                          payload: {subset: {a: 1}}}
          - tool_returned_error
    expect:
      - no_server_errors
      - ended_with_status: completed
"""


def test_smoke_tests_load_with_bare_assertions_and_matchers(agent_file: WriteFile) -> None:
    agent, diagnostics = load_agent_file(agent_file(SMOKE))
    assert diagnostics == []
    assert agent is not None and isinstance(agent.spec, ConversationalAgentSpec)
    test = agent.spec.smoke[0]
    assert test.context.variables == {"customer_name": "Dana"}
    assert isinstance(test.turns[0].expect[0], AgentSays)
    called = test.turns[1].expect[0]
    assert isinstance(called, ToolCalled)
    arguments = called.tool_called.arguments
    assert isinstance(arguments["day"], RegexMatch)
    assert arguments["raw"] == EqualsMatch(equals="tuesday")
    assert isinstance(arguments["any_arg"], AnyMatch)
    assert isinstance(arguments["payload"], SubsetMatch)
    assert isinstance(test.turns[1].expect[1], ToolReturnedError)
    assert isinstance(test.expect[0], NoServerErrors)
    assert [assertion_kind(a) for a in test.expect] == ["no_server_errors", "ended_with_status"]


def test_unknown_assertion_suggests_the_closest(agent_file: WriteFile, line_of: LineOf) -> None:
    text = SMOKE.replace("- no_server_errors", "- no_server_error")
    [found] = errors_of(agent_file(text))
    assert found.line == line_of(text, "- no_server_error")
    assert "unknown assertion 'no_server_error'; did you mean 'no_server_errors'?" in found.message


def test_assertion_with_two_keys_is_an_error(agent_file: WriteFile) -> None:
    text = SMOKE.replace("- ended_with_status: completed",
                         "- {ended_with_status: completed, no_server_errors: true}")
    [found] = errors_of(agent_file(text))
    assert "exactly one key" in found.message


def test_matcher_typo_is_caught_not_taken_as_a_literal(agent_file: WriteFile,
                                                      line_of: LineOf) -> None:
    text = SMOKE.replace('{regex: "(?i)tue"}', '{regx: "(?i)tue"}')
    [found] = errors_of(agent_file(text))
    assert found.line == line_of(text, "regx")
    assert "unknown matcher 'regx'; did you mean 'regex'?" in found.message


def test_invalid_regex_is_reported(agent_file: WriteFile) -> None:
    [found] = errors_of(agent_file(SMOKE.replace('"(?i)tue"', '"(unclosed"')))
    assert "invalid regular expression" in found.message


def test_status_typo_suggests_the_status(agent_file: WriteFile) -> None:
    [found] = errors_of(agent_file(SMOKE.replace("status: completed", "status: complete")))
    assert "did you mean 'completed'?" in found.message


def test_unknown_reserved_context_key(agent_file: WriteFile) -> None:
    [found] = errors_of(agent_file(SMOKE.replace("$variables", "$variable")))
    assert "unknown reserved context key '$variable'" in found.message
    assert "did you mean '$variables'?" in found.message
