"""Deletions reach production through ``promote --prune``: an agent whose file was deleted is
deleted in production once staging no longer has it, and the example workflows' daily drift
job stays green afterwards. Staging and production are two emulators."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from .cli_lines import parse_invocation
from .test_ci import GITHUB_WORKFLOW, GITLAB_PIPELINE, github_runs, gitlab_runs
from .two_platforms import Environments, environments  # noqa: F401  (the fixture)

GONE = "support-triage"


@pytest.fixture
def promoted(environments: Environments) -> Environments:  # noqa: F811
    """Every agent applied to staging and promoted to production."""
    assert environments.apply_staging().exit_code == 0
    result = environments.promote("--yes", "--no-smoke")
    assert result.exit_code == 0, result.stdout + result.stderr
    return environments


def workflow_jobs() -> dict[str, list[list[str]]]:
    workflow: dict[str, Any] = yaml.safe_load(GITHUB_WORKFLOW.read_text(encoding="utf-8"))
    return github_runs(workflow)


def test_the_daily_drift_job_stays_green_after_a_deletion_was_promoted(
        promoted: Environments) -> None:
    jobs = workflow_jobs()
    (apply_staging,) = [c for c in jobs["apply-staging"] if "apply" in c]
    (promotion,) = jobs["promote-production"]
    (drift,) = jobs["drift"]
    production = promoted.platform("production")
    gone_id = production.id_of(GONE)
    assert promoted.run(*drift).exit_code == 0

    (promoted.root / "agents" / f"{GONE}.yaml").unlink()
    assert promoted.run(*apply_staging).exit_code == 0  # as the merge job runs
    assert GONE not in promoted.platform("staging").owned()
    assert promoted.run(*drift).exit_code == 2  # production still holds it

    result = promoted.run(*promotion, "--no-smoke")  # as the manual promotion runs

    assert result.exit_code == 0, result.stdout + result.stderr
    assert f"{GONE}: ready to delete (staging no longer has it)" in result.stderr
    assert GONE not in production.owned()
    assert gone_id not in [s.id for s in production.client.conversational_agents.list()]
    status = promoted.run(*drift)
    assert status.exit_code == 0, status.stdout
    assert promoted.run(*promotion, "--no-smoke").exit_code == 0  # nothing left to do


def test_a_deletion_is_not_promoted_while_staging_still_has_the_agent(
        promoted: Environments) -> None:
    (promoted.root / "agents" / f"{GONE}.yaml").unlink()
    production = promoted.platform("production")
    writes = len(production.writes())

    refused = promoted.promote("--yes", "--no-smoke", "--prune", "--allow-delete")

    assert refused.exit_code == 5
    assert "staging still has" in refused.stderr and "apply --env staging --prune" in \
        refused.stderr
    assert len(production.writes()) == writes
    assert GONE in production.owned()


def test_a_protected_destination_needs_allow_delete(promoted: Environments) -> None:
    (promoted.root / "agents" / f"{GONE}.yaml").unlink()
    assert promoted.apply_staging("--prune").exit_code == 0

    plan = promoted.promote("--prune", "--out", str(promoted.root / "p.json"))
    result = promoted.promote("--yes", "--no-smoke", "--prune")

    assert "needs --allow-delete" in plan.stdout
    assert result.exit_code == 3 and "--allow-delete" in result.stderr
    assert GONE in promoted.platform("production").owned()
    assert promoted.promote("--yes", "--no-smoke", "--prune", "--allow-delete").exit_code == 0
    assert GONE not in promoted.platform("production").owned()


def test_the_example_pipelines_prune_on_apply_and_promotion() -> None:
    gitlab = gitlab_runs(yaml.safe_load(GITLAB_PIPELINE.read_text(encoding="utf-8")))
    jobs = workflow_jobs()
    for apply_call in (next(c for c in jobs["apply-staging"] if "apply" in c),
                       gitlab["apply-staging"][0]):
        assert parse_invocation(apply_call).params["prune"]
    for promote_call in (jobs["promote-production"][0], gitlab["promote-production"][0]):
        params = parse_invocation(promote_call).params
        assert params["prune"] and params["allow_delete"]
