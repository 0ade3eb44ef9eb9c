"""Factory fixtures for renderer tests: Plan values built directly from the model."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from operator_iac.plan.model import (
    DesiredBody,
    FieldChange,
    Plan,
    PlanOptions,
    RemoteState,
    ResourcePlan,
    UnprunedAgent,
)

PROMPT = "config.runtime.prompt.text"


def _resource(key: str = "booking", action: str = "update", *,
              changes: tuple[FieldChange, ...] | None = None, **fields: Any) -> ResourcePlan:
    if changes is None:
        changes = (FieldChange(path="config.runtime.model", kind="changed",
                               before="openai/gpt-4o", after="openai/gpt-4.1"),)
    remote = None if action == "create" else RemoteState(agent_id=f"ca_{key}",
                                                         released_version_id=f"ca_{key}@v0")
    desired = DesiredBody(name=key.title(), description="D", config={})
    values: dict[str, Any] = {
        "key": key, "kind": "conversational_agent", "action": action, "name": key.title(),
        "remote": remote, "desired_hash": "0" * 16, "desired": desired, "changes": changes,
    }
    values.update(fields)
    return ResourcePlan(**values)


def _prompt_change(before: str, after: str) -> dict[str, Any]:
    """Fields of a resource whose prompt changes from ``before`` to ``after``."""
    import difflib

    diff = "\n".join(difflib.unified_diff(before.splitlines(), after.splitlines(),
                                          "booking (released)", "booking (desired)",
                                          lineterm=""))
    return {"changes": (FieldChange(path=PROMPT, kind="changed", before=before, after=after),),
            "prompt_diff": diff}


def _plan(*resources: ResourcePlan, **fields: Any) -> Plan:
    values: dict[str, Any] = {
        "project": "acme-support", "environment": "staging", "api_url": "http://127.0.0.1:9",
        "created_at": "2025-06-19T00:00:00Z", "commit": "abc1234",
        "declarations_hash": "1" * 16, "resources": resources, "options": PlanOptions(),
    }
    values.update(fields)
    return Plan(**values)


@pytest.fixture
def make_resource() -> Callable[..., ResourcePlan]:
    return _resource


@pytest.fixture
def make_plan() -> Callable[..., Plan]:
    return _plan


@pytest.fixture
def prompt_change() -> Callable[[str, str], dict[str, Any]]:
    return _prompt_change


@pytest.fixture
def unpruned() -> Callable[..., UnprunedAgent]:
    return UnprunedAgent
