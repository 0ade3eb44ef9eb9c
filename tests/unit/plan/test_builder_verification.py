"""``verify``: a release that holds the declaration but was never proven by its smoke tests,
as the snapshot's verdicts (read from the platform's smoke records) say."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from operator_iac.plan.builder import build_plan
from operator_iac.plan.model import PlanOptions
from operator_iac.plan.verification import verification_candidates
from operator_iac.render.plan_text import render_plan_text
from operator_iac.state.snapshot import ReleaseVerdict, Snapshot

from .conftest import API_URL, PROJECT

Factory = Any
SMOKE = ({"name": "greets"},)


def plan_with(agent: Any, remote: Any, verdicts: dict[str, ReleaseVerdict] | None) -> Any:
    snapshot = Snapshot(api_url=API_URL, agents=(remote,), verdicts=verdicts)
    return build_plan({agent.key: agent}, snapshot, project=PROJECT, environment="staging",
                      options=PlanOptions(), commit="abc1234",
                      created_at="2025-06-19T00:00:00Z")


@pytest.mark.parametrize("summary", ["pending", "2 of 2 smoke tests failed"])
def test_an_unproven_release_is_verified_with_its_recorded_rollback_target(
        make_desired: Factory, managed: Factory, summary: str) -> None:
    agent = make_desired(smoke=SMOKE)
    remote = managed(agent, "ca_1")
    released = remote.released.version_id
    plan = plan_with(agent, remote, {released: ReleaseVerdict(released, False, summary,
                                                              previous="ca_1@v7")})

    resource = plan.resources[0]
    assert resource.action == "verify"
    assert resource.smoke == ("released",)
    assert resource.rollback_to == "ca_1@v7"
    assert resource.changes == () and resource.prompt_diff is None
    assert plan.has_changes and plan.summary().verify == 1
    assert plan.waves() == ((resource,),)
    assert "1 to verify" in render_plan_text(plan)


def test_a_proven_release_or_one_without_evidence_is_up_to_date(
        make_desired: Factory, managed: Factory) -> None:
    agent = make_desired(smoke=SMOKE)
    remote = managed(agent, "ca_1")
    released = remote.released.version_id
    for verdicts in (None, {}, {released: ReleaseVerdict(released, True, "2 passed")}):
        assert plan_with(agent, remote, verdicts).resources[0].action == "no-op"


def test_an_agent_without_smoke_tests_is_never_verified(
        make_desired: Factory, managed: Factory) -> None:
    for agent in (make_desired(), make_desired(smoke=SMOKE, smoke_on=())):
        remote = managed(agent, "ca_1")
        released = remote.released.version_id
        verdicts = {released: ReleaseVerdict(released, False, "pending")}
        assert plan_with(agent, remote, verdicts).resources[0].action == "no-op"
        assert verification_candidates({agent.key: agent}, Snapshot(API_URL, (remote,)),
                                       PROJECT) == {}


def test_a_changed_declaration_is_an_update_that_rolls_back_to_the_release(
        make_desired: Factory, managed: Factory) -> None:
    agent = make_desired(smoke=SMOKE)
    remote = managed(agent, "ca_1")
    changed = replace(agent, description="Books and moves appointments.")
    resource = plan_with(changed, remote, {}).resources[0]
    assert resource.action == "update"
    assert resource.rollback_to == remote.released.version_id


def test_candidates_are_released_revisions_carrying_this_projects_marker(
        make_desired: Factory, managed: Factory, make_remote: Factory, rev: Any) -> None:
    agent = make_desired(smoke=SMOKE)
    remote = managed(agent, "ca_1")
    wanted = verification_candidates({agent.key: agent}, Snapshot(API_URL, (remote,)),
                                     PROJECT)
    # its description names the records; its creation is where records follow otherwise
    assert wanted == {"booking": (remote.released, remote.versions[0].created_at)}
    unmarked = make_remote("ca_2", agent.kind, rev("released", agent.name, "By hand."))
    assert verification_candidates({agent.key: agent}, Snapshot(API_URL, (unmarked,)),
                                   PROJECT) == {}
