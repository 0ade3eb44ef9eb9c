"""The JSON Schemas generated from the models accept the examples and reject typos."""

from __future__ import annotations

from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from operator_iac.spec.loader import load_yaml
from operator_iac.spec.schema import agent_file_schema, project_file_schema

REPO = Path(__file__).resolve().parents[3]
EXAMPLE_AGENTS = sorted([*REPO.glob("agents/*.yaml"), *REPO.glob("examples/*/agents/*.yaml")])
PROJECT_FILES = sorted([REPO / "operator-iac.yaml", *REPO.glob("examples/*/operator-iac.yaml")])


@pytest.fixture(scope="module")
def agent_validator() -> Draft202012Validator:
    schema = agent_file_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def test_there_are_examples_to_check() -> None:
    assert len(EXAMPLE_AGENTS) >= 5


@pytest.mark.parametrize("path", EXAMPLE_AGENTS, ids=lambda p: str(p.relative_to(REPO)))
def test_schema_accepts_every_example_agent(agent_validator: Draft202012Validator,
                                            path: Path) -> None:
    errors = [e.message for e in agent_validator.iter_errors(load_yaml(path).data)]
    assert errors == []


def test_schema_rejects_an_unknown_key(agent_validator: Draft202012Validator) -> None:
    agent = {"kind": "procedural_agent", "name": "x",
             "config": {"runtime": {"model": "m", "prompt": {"text": "t"}}, "outptu": {}}}
    assert not agent_validator.is_valid(agent)


def test_schema_accepts_bare_assertions_and_rejects_unknown_ones(
        agent_validator: Draft202012Validator) -> None:
    agent = {"kind": "conversational_agent", "name": "x",
             "config": {"runtime": {"model": "m", "prompt": {"text": "t"}}},
             "smoke": [{"name": "t", "expect": ["no_server_errors"]}]}
    assert agent_validator.is_valid(agent)
    agent["smoke"][0]["expect"] = ["no_errors"]
    assert not agent_validator.is_valid(agent)


@pytest.mark.parametrize("path", PROJECT_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_project_schema_accepts_the_project_files(path: Path) -> None:
    validator = Draft202012Validator(project_file_schema())
    assert [e.message for e in validator.iter_errors(load_yaml(path).data)] == []


def test_schema_declares_its_dialect_and_title() -> None:
    schema = agent_file_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "operator-iac agent file"
