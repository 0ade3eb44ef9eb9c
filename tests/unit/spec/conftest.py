"""Factories for declaration tests: valid agents as data, and projects written to tmp_path."""

from __future__ import annotations

import copy
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from operator_iac.spec.merge import deep_merge

CONVERSATIONAL: dict[str, Any] = {
    "kind": "conversational_agent",
    "name": "Booking",
    "description": "Books visits.",
    "config": {
        "personas": [{"name": "Amanda", "voice": {"provider": "operator", "id": "Female 1"}}],
        "runtime": {
            "model": "openai/gpt-4o-mini",
            "prompt": {"type": "fixed", "text": "You are Amanda. Use @check_availability."},
            "variables": [{"name": "clinic", "default_value": "Brightsmile"}],
        },
        "tool": {"tools": [{"ns": "acme", "name": "check_availability"}]},
    },
}
PROCEDURAL: dict[str, Any] = {
    "kind": "procedural_agent",
    "name": "Summary",
    "description": "Summarises calls.",
    "config": {
        "filter_statuses": ["completed"],
        "runtime": {"model": "openai/gpt-4o-mini", "reasoning_effort": "medium",
                    "prompt": {"type": "fixed", "text": "Summarise the call."}},
        "output": {"output_schema": {"type": "object",
                                     "properties": {"summary": {"type": "string"}}}},
    },
}
PROJECT: dict[str, Any] = {
    "project": "test-project",
    "environments": {
        "staging": {"api_key_env": "OPERATOR_API_KEY_STAGING", "vars": {"queue": "+15550100"}},
        "production": {"api_key_env": "OPERATOR_API_KEY", "vars": {"queue": "+15550199"},
                       "protect": True, "promote_from": "staging"},
    },
}

Content = dict[str, Any] | str | bytes


def _conversational(**changes: Any) -> dict[str, Any]:
    """A valid conversational agent, with ``changes`` deep-merged in."""
    result: dict[str, Any] = deep_merge(copy.deepcopy(CONVERSATIONAL), changes)
    return result


def _procedural(**changes: Any) -> dict[str, Any]:
    result: dict[str, Any] = deep_merge(copy.deepcopy(PROCEDURAL), changes)
    return result


def _project_data(**changes: Any) -> dict[str, Any]:
    result: dict[str, Any] = deep_merge(copy.deepcopy(PROJECT), changes)
    return result


def _line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the ``occurrence``-th line of ``text`` containing ``needle``."""
    hits = [n for n, line in enumerate(text.splitlines(), 1) if needle in line]
    return hits[occurrence - 1]


def write(path: Path, content: Content) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(textwrap.dedent(content), encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump(content, sort_keys=False), encoding="utf-8")
    return path


MakeProject = Callable[..., Path]


@pytest.fixture
def make_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MakeProject:
    """Write a project (project file, agents, other files) into tmp_path and cd into it.

    ``agents`` maps file names in agents/ to content; ``files`` maps any other relative path.
    Pass ``project=None`` for no project file.
    """
    monkeypatch.chdir(tmp_path)

    def make(agents: dict[str, Content] | None = None, *,
             project: Content | None = PROJECT, files: dict[str, Content] | None = None) -> Path:
        if project is not None:
            write(tmp_path / "operator-iac.yaml", project)
        (tmp_path / "agents").mkdir(exist_ok=True)
        for name, content in (agents or {}).items():
            write(tmp_path / "agents" / name, content)
        for name, content in (files or {}).items():
            write(tmp_path / name, content)
        return tmp_path

    return make


@pytest.fixture
def project_errors(make_project: MakeProject) -> Callable[..., list[str]]:
    """``project_errors(agents, files)``: write a project as ``make_project`` does, load it,
    and return its errors as ``file:line:column: message`` (loading must fail)."""
    from operator_iac.errors import DeclarationError
    from operator_iac.spec.project import load_project

    def load(agents: dict[str, Content], files: dict[str, Content]) -> list[str]:
        make_project(agents, files=files)
        with pytest.raises(DeclarationError) as caught:
            load_project()
        return [str(d) for d in caught.value.diagnostics if d.severity == "error"]

    return load


@pytest.fixture
def agent_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[Content], Path]:
    """Write one agent file (agents/agent.yaml) and return its path; cwd is tmp_path."""
    monkeypatch.chdir(tmp_path)

    def make(content: Content, name: str = "agent.yaml") -> Path:
        return write(tmp_path / "agents" / name, content)

    return make


Builder = Callable[..., dict[str, Any]]


@pytest.fixture
def conversational() -> Builder:
    """Builds a valid conversational agent; keyword arguments are deep-merged changes."""
    return _conversational


@pytest.fixture
def procedural() -> Builder:
    return _procedural


@pytest.fixture
def project_data() -> Builder:
    """Builds a valid project file (staging and production); changes are deep-merged."""
    return _project_data


@pytest.fixture
def line_of() -> Callable[..., int]:
    """``line_of(text, needle, occurrence=1)``: the 1-based line holding ``needle``."""
    return _line_of
