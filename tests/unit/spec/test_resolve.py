"""Resolution: agent files to API-shaped desired state for one environment."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from operator_iac.errors import ConfigurationError
from operator_iac.spec.project import load_project
from operator_iac.spec.resolve import resolve_agent, resolve_project

MakeProject = Callable[..., Path]
Builder = Callable[..., dict[str, Any]]
SECRET = "s3cr3t-value-never-printed"


def test_prompt_file_is_inlined_and_declared_fields_only(make_project: MakeProject,
                                                         conversational: Builder) -> None:
    agent = conversational(config={"runtime": {"prompt": {"text": None, "file": "p/a.md"}}})
    del agent["config"]["runtime"]["prompt"]["text"]
    make_project({"a.yaml": agent}, files={"agents/p/a.md": "Be kind to $clinic.\n"})
    desired = resolve_project(load_project(), "staging", {})["a"]
    assert desired.config["runtime"] == {
        "model": "openai/gpt-4o-mini",
        "prompt": {"type": "fixed", "text": "Be kind to $clinic.\n"},
        "variables": [{"name": "clinic", "default_value": "Brightsmile"}],
    }
    # Nothing the file left out appears (no voice, language, channel, descriptions).
    assert sorted(desired.config) == ["personas", "runtime", "tool"]
    assert desired.kind == "conversational_agent"
    assert desired.source.name == "a.yaml"


def test_vars_are_substituted_per_environment(make_project: MakeProject,
                                              conversational: Builder) -> None:
    agent = conversational(config={"tool": {"transfers": [{"entity_id": "${var:queue}"}]}})
    make_project({"a.yaml": agent})
    project = load_project()
    staging = resolve_agent(project.agents["a"], project, "staging", {})
    production = resolve_agent(project.agents["a"], project, "production", {})
    assert staging.config["tool"]["transfers"] == [{"entity_id": "+15550100"}]
    assert production.config["tool"]["transfers"] == [{"entity_id": "+15550199"}]
    assert staging.sensitive_paths == frozenset()


def test_env_values_are_substituted_and_recorded_as_sensitive(make_project: MakeProject,
                                                              procedural: Builder,
                                                              project_data: Builder) -> None:
    agent = procedural(config={"output": {"post_url": "https://hooks.example/${env:HOOK}"},
                               "runtime": {"prompt": {"text": "Key ${env:HOOK} inside."}}})
    make_project({"p.yaml": agent}, project=project_data(secrets=["HOOK"]))
    desired = resolve_project(load_project(), "staging", {"HOOK": SECRET})["p"]
    assert desired.config["output"]["post_url"] == f"https://hooks.example/{SECRET}"
    assert desired.sensitive_paths == frozenset({"output.post_url", "runtime.prompt.text"})
    assert desired.secret_references == frozenset({("output.post_url", "HOOK"),
                                                   ("runtime.prompt.text", "HOOK")})
    assert SECRET not in repr(desired.sensitive_paths) + repr(desired.secret_references)


def test_missing_env_variable_names_it_and_no_value(make_project: MakeProject,
                                                   procedural: Builder,
                                                   project_data: Builder) -> None:
    agent = procedural(config={"output": {"post_url": "${env:HOOK}/${env:OTHER}"}})
    make_project({"p.yaml": agent}, project=project_data(secrets=["HOOK", "OTHER"]))
    with pytest.raises(ConfigurationError) as caught:
        resolve_project(load_project(), "staging", {"OTHER": SECRET})
    message = str(caught.value)
    assert "environment variable HOOK is not set" in message
    assert "'p'" in message
    assert SECRET not in message and "OTHER" not in message


def test_missing_var_is_a_configuration_error_naming_it(make_project: MakeProject,
                                                        conversational: Builder) -> None:
    agent = conversational(description="Line ${var:queue}")
    make_project({"a.yaml": agent})
    project = load_project()
    with pytest.raises(ConfigurationError, match=r"\$\{var:queue\} needs an environment"):
        resolve_agent(project.agents["a"], project, None, {})


def test_overrides_deep_merge_mappings_and_replace_lists(make_project: MakeProject,
                                                         conversational: Builder,
                                                         project_data: Builder) -> None:
    override = {"config": {"runtime": {"model": "openai/gpt-4o"},
                           "tool": {"tools": [{"ns": "acme", "name": "book"}]}}}
    make_project({"a.yaml": conversational()},
                 project=project_data(environments={"production": {"overrides": {"a": override}}}))
    resolved = resolve_project(load_project(), "production", {})["a"]
    runtime = resolved.config["runtime"]
    assert runtime["model"] == "openai/gpt-4o"
    assert runtime["prompt"]["text"].startswith("You are Amanda")  # kept from the file
    assert resolved.config["tool"]["tools"] == [{"ns": "acme", "name": "book"}]
    staging = resolve_project(load_project(), "staging", {})["a"]
    assert staging.config["runtime"]["model"] == "openai/gpt-4o-mini"


def test_extra_is_merged_into_config_verbatim(make_project: MakeProject,
                                              conversational: Builder) -> None:
    extra = {"new_field": {"a": [1, None]}, "runtime": {"temperature": 0.2}}
    make_project({"a.yaml": conversational(config={"extra": extra})})
    config = resolve_project(load_project(), "staging", {})["a"].config
    assert config["new_field"] == {"a": [1, None]}
    assert config["runtime"]["temperature"] == 0.2
    assert config["runtime"]["model"] == "openai/gpt-4o-mini"
    assert "extra" not in config


def test_references_and_smoke_are_carried(make_project: MakeProject, conversational: Builder,
                                          procedural: Builder) -> None:
    agent = conversational(postprocess_agents=["p"],
                           config={"tool": {"transfers": [{"entity_id": "agent:b"}]}},
                           smoke=[{"name": "t"}], smoke_settings={"rollback": False})
    make_project({"a.yaml": agent, "b.yaml": conversational(), "p.yaml": procedural()})
    desired = resolve_project(load_project(), "staging", {})
    assert desired["a"].postprocess_agents == ("p",)
    assert desired["a"].config["tool"]["transfers"] == [{"entity_id": "agent:b"}]
    assert [t.name for t in desired["a"].smoke] == ["t"]
    assert (desired["a"].smoke_on, desired["a"].smoke_rollback) == (("draft", "released"), False)
    assert desired["p"].postprocess_agents == () and desired["p"].smoke == ()


def test_whole_string_var_keeps_its_type(make_project: MakeProject, conversational: Builder,
                                         project_data: Builder) -> None:
    make_project({"a.yaml": conversational(config={"extra": {"max_turns": "${var:turns}"}})},
                 project=project_data(environments={"staging": {"vars": {"turns": 12}},
                                                    "production": {"vars": {"turns": 20}}}))
    assert resolve_project(load_project(), "staging", {})["a"].config["max_turns"] == 12


def test_escaped_substitution_is_written_literally(make_project: MakeProject,
                                                   conversational: Builder) -> None:
    text = "Call ${var:queue}; $${var:queue} is written as is."
    make_project({"a.yaml": conversational(config={"runtime": {"prompt": {"text": text}}})})
    desired = resolve_project(load_project(), "staging", {})["a"]
    assert desired.config["runtime"]["prompt"]["text"] == (
        "Call +15550100; ${var:queue} is written as is.")
