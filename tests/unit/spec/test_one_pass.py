"""``validate`` shows every declaration problem in one pass: schema errors and reference errors
together, and nothing about references to an agent whose own file is broken."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from operator_iac.services.validate import validate_paths

MakeProject = Callable[..., Path]
Builder = Callable[..., dict[str, Any]]


def _messages(make_project: MakeProject, agents: dict[str, Any],
              project: dict[str, Any] | None = None) -> list[str]:
    make_project(agents, **({"project": project} if project else {}))
    return [f"{d.file}: {d.message}" for d in validate_paths([]).errors]


def test_unknown_keys_and_reference_errors_are_reported_together(
        make_project: MakeProject, conversational: Builder, procedural: Builder) -> None:
    booking = conversational(colour="blue", postprocess_agents=["sumary"],
                             smoke=[{"name": "t", "turns": [{"user": "hi"}],
                                     "expect": [{"procedure": {"agent": "summary"}}]}])
    booking["config"]["runtime"]["prompt"]["text"] = "Use @check_availability and @refund."
    booking["config"]["runtime"]["temprature"] = 0.3
    found = _messages(make_project, {"booking.yaml": booking, "summary.yaml": procedural()})
    assert any("unknown key 'colour'" in m for m in found)
    assert any("unknown key 'temprature'" in m for m in found)
    assert "agents/booking.yaml: postprocess_agents entry 'sumary' is not a declared agent; " \
           "did you mean 'summary'?" in found
    assert any("prompt references @refund" in m for m in found)
    assert any("'summary' is not in this agent's postprocess_agents" in m for m in found)
    assert len(found) == 5, found


def test_a_broken_agent_is_not_reported_as_undeclared_where_it_is_named(
        make_project: MakeProject, conversational: Builder, procedural: Builder) -> None:
    booking = conversational(postprocess_agents=["summary"],
                             smoke=[{"name": "t", "turns": [{"user": "hi"}],
                                     "expect": [{"procedure": {"agent": "summary"}}]}])
    booking["config"]["runtime"]["prompt"]["text"] = "Use @check_availability and @summary."
    summary = procedural()
    summary["config"]["filter_statuses"] = 5  # a wrong type: no model can be built
    project = {"project": "p", "environments": {"staging": {}},
               "quarantine": [{"agent": "summary"}]}
    found = _messages(make_project, {"booking.yaml": booking, "summary.yaml": summary}, project)
    assert found == ["agents/summary.yaml: config.filter_statuses: expected a list, got an "
                     "integer"]


def test_a_file_with_unknown_keys_is_still_not_valid(make_project: MakeProject,
                                                     conversational: Builder) -> None:
    make_project({"booking.yaml": conversational(colour="blue")})
    report = validate_paths([])
    assert not report.ok and report.valid_agents == 0 and report.files == 1
