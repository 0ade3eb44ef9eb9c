"""Checks across agent files: references name declared agents of the right kind."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from operator_iac.errors import Diagnostic
from operator_iac.services.validate import validate_paths

MakeProject = Callable[..., Path]
Builder = Callable[..., dict[str, Any]]


def errors(make_project: MakeProject, agents: dict[str, Any]) -> list[Diagnostic]:
    make_project(agents)
    return validate_paths([]).errors


def test_postprocess_agent_that_is_not_declared(make_project: MakeProject,
                                                conversational: Builder,
                                                procedural: Builder) -> None:
    text = """\
        kind: conversational_agent
        name: A
        config:
          runtime: {model: m, prompt: {text: Hi}}
        postprocess_agents:
          - call-summary
          - call-sumary
        """
    [found] = errors(make_project, {"a.yaml": text, "call-summary.yaml": procedural()})
    assert (found.file, found.line, found.column) == ("agents/a.yaml", 7, 5)
    assert found.message == ("postprocess_agents entry 'call-sumary' is not a declared agent; "
                             "did you mean 'call-summary'?")


def test_postprocess_agent_of_the_wrong_kind(make_project: MakeProject,
                                             conversational: Builder) -> None:
    [found] = errors(make_project, {"a.yaml": conversational(postprocess_agents=["b"]),
                                    "b.yaml": conversational()})
    assert found.file == "agents/a.yaml"
    assert found.message == ("postprocess_agents entry 'b' is a conversational agent; "
                             "expected a procedural agent")


def test_postprocess_agent_referencing_itself(make_project: MakeProject,
                                              conversational: Builder) -> None:
    [found] = errors(make_project, {"a.yaml": conversational(postprocess_agents=["a"])})
    assert "is this agent itself" in found.message


def test_transfer_to_a_declared_agent(make_project: MakeProject, conversational: Builder,
                                      procedural: Builder) -> None:
    transfers = {"tool": {"transfers": [{"entity_id": "+15550100"},
                                        {"entity_id": "agent:b"}]}}
    assert errors(make_project, {"a.yaml": conversational(config=transfers),
                                 "b.yaml": conversational()}) == []


def test_transfer_to_a_procedural_agent_is_the_wrong_kind(make_project: MakeProject,
                                                          conversational: Builder,
                                                          procedural: Builder) -> None:
    transfers = {"tool": {"transfers": [{"entity_id": "agent:p"}]}}
    [found] = errors(make_project, {"a.yaml": conversational(config=transfers),
                                    "p.yaml": procedural()})
    assert found.message == ("transfer to 'p' is a procedural agent; expected a "
                             "conversational agent")


def test_transfer_to_itself(make_project: MakeProject, conversational: Builder) -> None:
    transfers = {"tool": {"transfers": [{"entity_id": "agent:a"}]}}
    [found] = errors(make_project, {"a.yaml": conversational(config=transfers)})
    assert found.message.startswith("transfer to 'a' is this agent itself")


def test_transfer_cycle_is_reported_once(make_project: MakeProject,
                                         conversational: Builder) -> None:
    def to(key: str) -> dict[str, Any]:
        return conversational(config={"tool": {"transfers": [{"entity_id": f"agent:{key}"}]}})

    [found] = errors(make_project, {"a.yaml": to("b"), "b.yaml": to("c"), "c.yaml": to("a")})
    assert found.file == "agents/a.yaml"
    assert "transfers form a cycle (a -> b -> c -> a)" in found.message


def test_prompt_tool_must_be_enabled_or_a_procedural_agent(make_project: MakeProject,
                                                           conversational: Builder,
                                                           procedural: Builder) -> None:
    prompt = "Use @check_availability, then @lead-score.\nFinally @book_visit."
    agent = conversational(config={"runtime": {"prompt": {"text": prompt}}})
    [found] = errors(make_project, {"a.yaml": agent, "lead-score.yaml": procedural()})
    assert found.message.startswith("prompt references @book_visit, which is neither an "
                                    "enabled tool (config.tool.tools: check_availability)")


def test_prompt_tool_naming_a_conversational_agent(make_project: MakeProject,
                                                   conversational: Builder) -> None:
    agent = conversational(config={"runtime": {"prompt": {"text": "Ask @b."}}})
    [found] = errors(make_project, {"a.yaml": agent, "b.yaml": conversational()})
    assert "@b, a conversational agent" in found.message


def test_smoke_procedure_must_be_a_postprocess_agent(make_project: MakeProject,
                                                     conversational: Builder,
                                                     procedural: Builder) -> None:
    agent = conversational(smoke=[{"name": "t", "expect": [
        {"procedure": {"agent": "p", "output": {"summary": {"contains": "x"}}}}]}])
    [found] = errors(make_project, {"a.yaml": agent, "p.yaml": procedural()})
    assert found.message == ("procedure agent 'p' is not in this agent's postprocess_agents, "
                             "so it never runs")


def test_duplicate_keys_across_yaml_and_yml(make_project: MakeProject,
                                            conversational: Builder) -> None:
    [found] = errors(make_project, {"a.yaml": conversational(), "a.yml": conversational()})
    assert found.file == "agents/a.yml"
    assert found.message.startswith("duplicate agent key 'a'")
