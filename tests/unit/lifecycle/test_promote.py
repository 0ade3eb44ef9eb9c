"""The pure checks of a promotion: what the source's state and smoke record say, and routes
between environments."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from operator_iac.errors import ConfigurationError, PromotionRefusedError, UsageError
from operator_iac.plan.promotion import (
    AgentCheck,
    PromotionCheck,
    agent_reasons,
    needs_smoke,
    smoke_reasons,
)
from operator_iac.services.promote import promotion_route
from operator_iac.smoke.record import SmokeRecord
from operator_iac.spec.project import load_project

from .conftest import PROJECT

Factory = Callable[..., Any]


def reasons(plan_for: Factory, agent: Any, remote: Any | None) -> tuple[str, ...]:
    resource = plan_for([agent], [remote] if remote is not None else []).resources[0]
    return agent_reasons(resource, remote, project=PROJECT, source="staging")


def test_released_as_declared_is_ready(make_desired: Factory, managed: Factory,
                                       plan_for: Factory) -> None:
    agent = make_desired()
    assert reasons(plan_for, agent, managed(agent, "ca_1")) == ()


def test_missing_or_unreleased_agents_are_not_ready(make_desired: Factory,
                                                    make_remote: Factory, written: Factory,
                                                    plan_for: Factory) -> None:
    agent = make_desired()
    assert reasons(plan_for, agent, None) == ("not on staging: apply it to staging first",)
    drafted = make_remote("ca_1", agent.kind, written(agent, status="draft"))
    assert reasons(plan_for, agent, drafted) == ("nothing is released in staging (ca_1)",)


def test_other_content_names_both_hashes(make_desired: Factory, managed: Factory,
                                         with_config: Factory, plan_for: Factory) -> None:
    agent = make_desired()
    older = with_config(agent, lambda c: c["runtime"].update(model="x/old"))
    (reason,) = reasons(plan_for, agent, managed(older, "ca_1"))
    assert reason.startswith("staging released other content (ca_1@v0, hash ")
    wanted = plan_for([agent]).resources[0].desired_hash
    assert f"(hash {wanted}): apply them to staging first" in reason


def test_edits_outside_the_tool_are_not_ready(make_desired: Factory, make_remote: Factory,
                                              written: Factory, rev: Factory,
                                              plan_for: Factory) -> None:
    agent = make_desired()
    mine = written(agent)
    edited = rev("released", "Renamed", mine.description, mine.config)
    (reason,) = reasons(plan_for, agent, make_remote("ca_1", agent.kind, edited))
    assert "was changed outside operator-iac after it was released" in reason
    bare = rev("released", agent.name, agent.description, dict(agent.config))
    old = rev("archived", mine.name, mine.description, mine.config)
    (reason,) = reasons(plan_for, agent, make_remote("ca_1", agent.kind, old, bare))
    assert "carries no operator-iac marker" in reason


def test_an_unreleased_draft_of_ours_is_not_ready(make_desired: Factory, make_remote: Factory,
                                                  written: Factory, with_config: Factory,
                                                  rev: Factory, plan_for: Factory) -> None:
    agent = make_desired()
    newer = with_config(agent, lambda c: c["runtime"].update(model="x/new"))
    remote = make_remote("ca_1", agent.kind, written(agent), written(newer, status="draft"))
    (reason,) = reasons(plan_for, agent, remote)
    assert reason.startswith("staging has an unreleased draft ca_1@v1 written by operator-iac")
    assert reason.endswith("(operator-iac apply --env staging --discard-drafts)")
    foreign = make_remote("ca_1", agent.kind, written(agent), rev("draft", "x", "by hand", {}))
    assert reasons(plan_for, agent, foreign) == ()
    # Ours, then edited in the dashboard: still refused, but the flag would not discard a
    # person's edit, so the way out is the dashboard.
    ours = written(newer, status="draft")
    edited = rev("draft", ours.name, ours.description,
                 {**ours.config, "runtime": {**ours.config["runtime"], "model": "x/edited"}})
    (reason,) = reasons(plan_for, agent, make_remote("ca_1", agent.kind, written(agent), edited))
    assert reason.endswith("it was edited outside operator-iac since: review it in staging's "
                           "dashboard")


def record(passed: bool = True, content_hash: str | None = "aaaaaaaaaaaa") -> SmokeRecord:
    return SmokeRecord(PROJECT, "booking", "ca_1@v0", passed, "1 failed: greeting", "2025-01-01",
                       content_hash=content_hash)


@pytest.mark.parametrize(("smoke", "expected"), [
    (None, "no smoke run of ca_1@v0 is recorded in staging: run operator-iac smoke --env "
           "staging booking"),
    (record(passed=False), "the last smoke run of ca_1@v0 in staging failed (2025-01-01): "
                           "1 failed: greeting"),
    (record(content_hash="bbbbbbbbbbbb"), "tested other content (hash bbbbbbbbbbbb)"),
])
def test_smoke_records_that_refuse(smoke: SmokeRecord | None, expected: str) -> None:
    (reason,) = smoke_reasons(smoke, "ca_1@v0", "aaaaaaaaaaaa", key="booking", source="staging")
    assert expected in reason


def test_a_passing_record_of_the_content_allows() -> None:
    assert smoke_reasons(record(), "ca_1@v0", "aaaaaaaaaaaaffff", key="booking",
                         source="staging") == ()
    assert smoke_reasons(record(content_hash=None), "ca_1@v0", "aaaaaaaaaaaa", key="booking",
                         source="staging") == ()


def test_only_agents_with_smoke_tests_need_a_record(make_desired: Factory) -> None:
    assert needs_smoke(make_desired(smoke=("a test",)))
    assert not needs_smoke(make_desired())
    assert not needs_smoke(make_desired(smoke=("a test",), smoke_on=()))
    assert not needs_smoke(make_desired("summary", "procedural_agent", smoke=("a test",)))


def test_a_refusal_lists_every_agent() -> None:
    check = PromotionCheck("staging", "production", (
        AgentCheck("a", "ca_1@v0", ("reason one",)),
        AgentCheck("b", "ca_2@v3"),
        AgentCheck("c", None, ("reason two", "reason three")),
    ))
    with pytest.raises(PromotionRefusedError) as caught:
        check.raise_if_refused()
    assert caught.value.exit_code == 5
    message = str(caught.value)
    assert "2 agents not released and smoke-tested in staging" in message
    assert "  a: reason one\n  c: reason two; reason three" in message
    assert check.lines()[1] == "  b: ready (staging: ca_2@v3)"
    PromotionCheck("staging", "production", (AgentCheck("b", "ca_2@v3"),)).raise_if_refused()


@pytest.fixture
def project(tmp_path: Path) -> Any:
    (tmp_path / "agents").mkdir()
    (tmp_path / "operator-iac.yaml").write_text(
        "project: p\nenvironments:\n  dev: {}\n  staging: {}\n"
        "  production: {promote_from: staging}\n", encoding="utf-8")
    return load_project(tmp_path / "operator-iac.yaml")


def test_routes(project: Any) -> None:
    assert promotion_route(project, None, "production") == "staging"
    assert promotion_route(project, "staging", "production") == "staging"
    assert promotion_route(project, "dev", "staging") == "dev"
    with pytest.raises(UsageError, match="from 'staging' only, not from 'dev'"):
        promotion_route(project, "dev", "production")
    with pytest.raises(UsageError, match="has no promote_from"):
        promotion_route(project, None, "staging")
    with pytest.raises(UsageError, match="into itself"):
        promotion_route(project, "dev", "dev")
    with pytest.raises(ConfigurationError, match="unknown environment 'qa'"):
        promotion_route(project, "qa", "staging")
