"""Factories for the unit tests of promotion, rollback, status and smoke records: the
planner's factories (declared agents, remote agents as operator-iac writes them, plans), and a
snapshot builder."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from operator_iac.state.snapshot import RemoteAgent, Snapshot

from ..plan.conftest import (  # noqa: F401  (fixtures, used by name)
    API_URL,
    PROJECT,
    make_desired,
    make_remote,
    managed,
    plan_for,
    rev,
    with_config,
    written,
)


@pytest.fixture
def snapshot_of() -> Callable[..., Snapshot]:
    def build(*agents: RemoteAgent) -> Snapshot:
        return Snapshot(api_url=API_URL, agents=agents)

    return build
