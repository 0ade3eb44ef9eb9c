"""Agent files in subfolders of the agents directory: found at any depth, keyed by file stem,
and never confused with prompt files, fragments or another project."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from operator_iac.errors import DeclarationError
from operator_iac.services.validate import validate_paths
from operator_iac.spec.project import load_project

MakeProject = Callable[..., Path]
Builder = Callable[..., dict[str, Any]]


def test_agents_in_subfolders_are_loaded_under_their_file_stem(
        make_project: MakeProject, conversational: Builder, procedural: Builder) -> None:
    root = make_project({"support/triage.yaml": conversational(postprocess_agents=["summary"]),
                         "support/eu/billing.yml": conversational(name="Billing"),
                         "analysis/summary.yaml": procedural()})
    project = load_project()
    assert sorted(project.agents) == ["billing", "summary", "triage"]
    assert project.agents["billing"].path == root / "agents" / "support" / "eu" / "billing.yml"


def test_the_same_key_in_two_folders_is_an_error_naming_both_files(
        make_project: MakeProject, conversational: Builder) -> None:
    make_project({"support/triage.yaml": conversational(),
                  "sales/triage.yml": conversational(name="Other")})
    with pytest.raises(DeclarationError) as caught:
        load_project()
    assert caught.value.exit_code == 3
    [message] = [str(d) for d in caught.value.diagnostics]
    assert message.startswith("agents/support/triage.yaml:1:1: duplicate agent key 'triage': ")
    assert "agents/sales/triage.yml" in message


def test_a_folder_holding_another_project_is_not_searched(
        make_project: MakeProject, conversational: Builder) -> None:
    make_project({"a.yaml": conversational(),
                  "vendored/operator-iac.yaml": "project: other\n",
                  "vendored/agents/b.yaml": "bad: ["})
    assert sorted(load_project().agents) == ["a"]


def test_prompt_files_in_subfolders_resolve_relative_to_their_agent(
        make_project: MakeProject, conversational: Builder) -> None:
    agent = conversational()
    agent["config"]["runtime"]["prompt"] = {"type": "fixed", "file": "prompts/triage.md"}
    make_project({"support/triage.yaml": agent,
                  "support/prompts/triage.md": "You are Amanda. Use @check_availability.\n"})
    prompt = load_project().agents["triage"].prompt
    assert prompt is not None and prompt.text.startswith("You are Amanda.")


def test_validate_a_subfolder_or_one_nested_file_checks_it_against_the_project(
        make_project: MakeProject, conversational: Builder, procedural: Builder) -> None:
    make_project({"support/triage.yaml": conversational(postprocess_agents=["summary"]),
                  "analysis/summary.yaml": procedural()})
    for path in (Path("agents/support"), Path("agents/support/triage.yaml")):
        report = validate_paths([path])
        assert report.ok, report.diagnostics
        assert report.files == 1


def test_validate_reports_errors_inside_subfolders(make_project: MakeProject,
                                                   conversational: Builder) -> None:
    make_project({"support/triage.yaml": conversational(postprocess_agents=["missing"])})
    report = validate_paths([])
    assert not report.ok
    assert [d.file for d in report.diagnostics] == ["agents/support/triage.yaml"]
