"""The JSON Schemas as an editor and an independent validator (``jsonschema``) see them: every
property described, names in the user's words, unions an error can be reported inside, and
every agent and project file this repository ships accepted."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from operator_iac.spec.base import StrictModel
from operator_iac.spec.discovery import agent_files_in
from operator_iac.spec.loader import load_yaml
from operator_iac.spec.schema import agent_file_schema, project_file_schema, undescribed_properties

REPO = Path(__file__).resolve().parents[3]
PROJECT_FILES = sorted([REPO / "operator-iac.yaml", *REPO.glob("examples/*/operator-iac.yaml")])
MIN_DESCRIBED = 0.95
SCHEMAS = {"agent": agent_file_schema, "project": project_file_schema}
AGENT = {"kind": "conversational_agent", "name": "Desk",
         "config": {"runtime": {"model": "m", "prompt": {"text": "Hi."}}}}


def _shipped_agent_files() -> list[Path]:
    files: list[Path] = []
    for project_file in PROJECT_FILES:
        agents_dir = load_yaml(project_file).data.get("agents_dir", "agents")
        files.extend(agent_files_in(project_file.parent / agents_dir))
    return files


def _model_classes() -> set[str]:
    found: set[str] = set()
    pending = [StrictModel]
    while pending:
        for sub in pending.pop().__subclasses__():
            found.add(sub.__name__)
            pending.append(sub)
    return found


def _error(schema: dict[str, Any], document: Any) -> tuple[list[Any], str]:
    error = best_match(Draft202012Validator(schema).iter_errors(document))
    assert error is not None, "the document was accepted"
    return list(error.absolute_path), error.message


@pytest.mark.parametrize("which", sorted(SCHEMAS))
def test_nearly_every_property_has_a_description(which: str) -> None:
    total, missing = undescribed_properties(SCHEMAS[which]())
    assert total > 10
    described = (total - len(missing)) / total
    assert described >= MIN_DESCRIBED, (
        f"{len(missing)} of {total} properties of the {which} schema have no description; add "
        "an attribute docstring under each field:\n  " + "\n  ".join(missing))


@pytest.mark.parametrize("which", sorted(SCHEMAS))
def test_no_model_class_name_reaches_the_schema(which: str) -> None:
    schema = SCHEMAS[which]()
    text = json.dumps(schema)
    compound = sorted(n for n in _model_classes() if re.search(r"[a-z][A-Z]", n))
    assert "ConversationalAgentSpec" in compound and "AgentSays" in compound
    leaked = [name for name in compound if re.search(rf"\b{name}\b", text)]
    assert leaked == [], f"model class names in the {which} schema: {leaked}"
    titles = [d.get("title", "") for d in schema["$defs"].values()]
    assert all(title and not re.search(r"[a-z][A-Z]", title) for title in titles), titles


@pytest.mark.parametrize("which", sorted(SCHEMAS))
def test_unions_are_branches_an_error_can_be_reported_in(which: str) -> None:
    """No bare ``oneOf``: a validator would answer "not valid under any of the given
    schemas" without saying which property is wrong."""
    schema = SCHEMAS[which]()
    Draft202012Validator.check_schema(schema)
    assert '"oneOf"' not in json.dumps(schema)


def test_every_shipped_file_is_accepted() -> None:
    agents = Draft202012Validator(agent_file_schema())
    projects = Draft202012Validator(project_file_schema())
    agent_files = _shipped_agent_files()
    assert len(agent_files) >= 6 and len(PROJECT_FILES) >= 3
    for path in agent_files:
        assert [e.message for e in agents.iter_errors(load_yaml(path).data)] == [], path
    for path in PROJECT_FILES:
        assert [e.message for e in projects.iter_errors(load_yaml(path).data)] == [], path


@pytest.mark.parametrize(("change", "where", "named"), [
    ({"smokee": []}, [], "'smokee' was unexpected"),
    ({"config": {"runtime": {"model": "m", "prompt": {"text": "t"}}, "persona": []}},
     ["config"], "'persona' was unexpected"),
    ({"smoke": [{"name": "t", "expect": [{"agent_sayz": {"contains": "Hi"}}]}]},
     ["smoke", 0, "expect", 0], "'agent_sayz' was unexpected"),
    ({"smoke": [{"name": "t", "turns": [{"expect": [{"agent_says": {"containz": "x"}}]}]}]},
     ["smoke", 0, "turns", 0, "expect", 0, "agent_says"], "'containz' was unexpected"),
    ({"smoke": [{"name": "t", "expect": ["no_errors"]}]},
     ["smoke", 0, "expect", 0], "'no_errors' is not one of"),
    ({"kind": "robot"}, ["kind"], "'robot' is not one of"),
])
def test_a_wrong_agent_file_gets_an_error_naming_what_is_wrong(
        change: dict[str, Any], where: list[Any], named: str) -> None:
    path, message = _error(agent_file_schema(), {**AGENT, **change})
    assert path == where
    assert named in message


def test_a_wrong_project_file_gets_an_error_naming_the_property() -> None:
    path, message = _error(project_file_schema(),
                           {"project": "p", "environments": {"staging": {"api_key": "X"}}})
    assert path == ["environments", "staging"]
    assert "'api_key' was unexpected" in message


def test_kinds_assertions_and_titles_read_as_the_user_writes_them() -> None:
    schema = agent_file_schema()
    defs = schema["$defs"]
    assert schema["properties"]["kind"]["enum"] == ["conversational_agent", "procedural_agent"]
    assert defs["conversational_agent"]["title"] == "Conversational agent"
    kinds = defs["assertion"]["else"]["properties"]
    assert {"agent_says", "tool_called", "no_server_errors", "procedure"} <= set(kinds)
    assert all(kind.get("description") for kind in kinds.values())
    assert defs["assertion"]["then"]["enum"] == ["no_server_errors", "no_tool_errors",
                                                 "tool_returned_error"]


def test_defaults_and_examples_are_there_for_the_editor() -> None:
    defs = agent_file_schema()["$defs"]
    assert defs["smoke_test"]["properties"]["repeat"]["default"] == 1
    assert defs["smoke_test"]["properties"]["turn_timeout_s"]["default"] == 30.0
    assert "anthropic/claude-3-5-sonnet" in \
        defs["conversational_runtime"]["properties"]["model"]["examples"]
    assert defs["prompt"]["properties"]["text"]["type"] == ["string", "null"]
    assert "default" not in defs["prompt"]["properties"]["text"]  # a null default says nothing
    project = project_file_schema()
    assert project["properties"]["agents_dir"]["default"] == "agents"
    assert project["$defs"]["environment"]["properties"]["api_key_env"]["default"] == \
        "OPERATOR_API_KEY"


def test_base_files_and_files_that_extend_one_may_leave_out_required_keys() -> None:
    validator = Draft202012Validator(agent_file_schema())
    base = {"abstract": True, "kind": "conversational_agent",
            "config": {"personas": [{"name": "Amanda"}]}}
    template = {"extends": "../bases/desk.yaml", "name": "${var:clinic} desk",
                "instances": [{"key": "desk-1", "vars": {"clinic": "North"}}]}
    assert list(validator.iter_errors(base)) == []
    assert list(validator.iter_errors(template)) == []
    assert not validator.is_valid({**base, "confg": {}})  # a typo is still one
    assert not validator.is_valid({**template, "instances": [{"vars": {}}]})  # key required
    assert not validator.is_valid({"kind": "conversational_agent", "name": "Desk"})
