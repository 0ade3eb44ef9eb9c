"""Factory fixtures for planner tests: declared agents, remote agents and snapshots.

``written`` builds a remote revision the way operator-iac itself writes one (references
resolved to ids, the ownership marker in the description), so tests start from a converged
state and change one thing at a time.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from operator_iac.plan.builder import build_plan
from operator_iac.plan.compare import DesiredView
from operator_iac.plan.marker import Marker, with_marker
from operator_iac.plan.model import Plan, PlanOptions
from operator_iac.plan.normalise import merge_for_write
from operator_iac.plan.refs import resolve_for_write
from operator_iac.spec.desired import DesiredAgent
from operator_iac.state.snapshot import RemoteAgent, RemoteRevision, RemoteVersion, Snapshot

PROJECT = "acme-support"
API_URL = "http://127.0.0.1:9"


def _conversational_config() -> dict[str, Any]:
    return {
        "personas": [{"name": "Amanda", "voice": {"provider": "operator", "id": "Female 1"}}],
        "voice": {"ambient_sound": None, "boosted_keywords": ["cleaning"]},
        "runtime": {
            "model": "openai/gpt-4o",
            "prompt": {"type": "fixed", "text": "You book cleanings.\nBe kind.\nUse @book.\n"},
            "variables": [{"name": "customer_name", "description": "Who calls",
                           "default_value": None}],
        },
        "tool": {"tools": [{"ns": "syscall", "name": "check_availability"},
                           {"ns": "syscall", "name": "book"}],
                 "transfers": [{"entity_id": "+15550100"}]},
        "language": {"default_language": "English", "supported_languages": ["English"]},
    }


def _procedural_config() -> dict[str, Any]:
    return {
        "filter_statuses": ["completed"],
        "filter_condition": None,
        "runtime": {"model": "openai/gpt-4o-mini", "reasoning_effort": "medium",
                    "prompt": {"type": "fixed", "text": "Summarise the call."}},
        "tool": {"tools": []},
        "output": {"output_schema": {"type": "object"}, "slack_channel": None,
                   "post_url": None},
    }


def _make_desired(key: str = "booking", kind: str = "conversational_agent", *,
                 name: str | None = None, description: str = "Books appointments.",
                 config: dict[str, Any] | None = None, postprocess: tuple[str, ...] = (),
                 sensitive: frozenset[str] = frozenset(), smoke: tuple[Any, ...] = (),
                 smoke_on: tuple[str, ...] = ("draft", "released")) -> DesiredAgent:
    if config is None:
        config = _conversational_config() if kind == "conversational_agent" \
            else _procedural_config()
    return DesiredAgent(key=key, kind=kind,  # type: ignore[arg-type]
                        source=Path(f"agents/{key}.yaml"), name=name or key.title(),
                        description=description, config=config,
                        postprocess_agents=postprocess, sensitive_paths=sensitive,
                        smoke=smoke, smoke_on=smoke_on)


@dataclass
class Rev:
    """One remote revision to put into a RemoteAgent."""

    status: str
    name: str
    description: str
    config: dict[str, Any] = field(default_factory=dict)
    postprocess: tuple[str, ...] = ()


def _written(agent: DesiredAgent, *, status: str = "released",
             ids: dict[str, str] | None = None, project: str = PROJECT,
             server_fields: dict[str, Any] | None = None,
             commit: str | None = "abc1234", record: bool = True) -> Rev:
    """A revision as operator-iac writes it for ``agent`` (optionally with server extras);
    ``record=False``: as versions before the marker's ``written`` record wrote it."""
    ids = ids or {}
    view = DesiredView.of(agent, ids)
    content_hash = view.content_hash
    config, postprocess, missing = resolve_for_write(agent.config, agent.postprocess_agents, ids)
    assert not missing, missing
    body = merge_for_write(server_fields or {}, config)
    marker = Marker(project, agent.key, content_hash, commit,
                    written=view.written.encode(content_hash) if record else None,
                    secrets=tuple(sorted(agent.sensitive_paths)) or None)
    return Rev(status, agent.name, with_marker(agent.description, marker), body, postprocess)


def _make_remote(agent_id: str, kind: str, *revs: Rev) -> RemoteAgent:
    versions, released, draft = [], None, None
    for number, rev in enumerate(revs):
        version_id = f"{agent_id}@v{number}"
        versions.append(RemoteVersion(version_id, number, rev.status,  # type: ignore[arg-type]
                                      rev.name, rev.description))
        revision = RemoteRevision(version_id, rev.status,  # type: ignore[arg-type]
                                  rev.name, rev.description, copy.deepcopy(rev.config),
                                  rev.postprocess)
        if rev.status == "released":
            released = revision
        elif rev.status == "draft":
            draft = revision
    return RemoteAgent(kind=kind, id=agent_id, versions=tuple(versions),  # type: ignore[arg-type]
                       released=released, draft=draft)


def _managed(agent: DesiredAgent, agent_id: str, **kwargs: Any) -> RemoteAgent:
    """A remote agent in the state a successful apply of ``agent`` leaves."""
    return _make_remote(agent_id, agent.kind, _written(agent, **kwargs))


def _with_config(agent: DesiredAgent, change: Callable[[dict[str, Any]], None]) -> DesiredAgent:
    config = copy.deepcopy(agent.config)
    change(config)
    return replace(agent, config=config)


def _fixture(function: Callable[..., Any], name: str) -> Any:
    @pytest.fixture(name=name)
    def provide() -> Callable[..., Any]:
        return function

    return provide


make_desired = _fixture(_make_desired, "make_desired")
make_remote = _fixture(_make_remote, "make_remote")
written = _fixture(_written, "written")
managed = _fixture(_managed, "managed")
with_config = _fixture(_with_config, "with_config")


@pytest.fixture
def rev() -> type[Rev]:
    return Rev


@pytest.fixture
def plan_for() -> Callable[..., Plan]:
    """Build a plan from declared agents and remote agents with test defaults."""

    def build(desired: list[DesiredAgent], remote: list[RemoteAgent] | tuple[()] = (), *,
              protect: bool = False, **options: Any) -> Plan:
        return build_plan({a.key: a for a in desired},
                          Snapshot(api_url=API_URL, agents=tuple(remote)),
                          project=PROJECT, environment="staging",
                          options=PlanOptions(**options), commit="abc1234", protect=protect,
                          created_at="2025-06-19T00:00:00Z")

    return build
