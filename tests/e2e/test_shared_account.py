"""Staging and production in one Operator account (one API key): each environment has agents
of its own, and no command of one environment adopts, updates, prunes or reports drift on the
other's. Markers written before environments were recorded keep working, and a promotion
that would rewrite the source's own agent is refused."""

from __future__ import annotations

from .dashboard import Dashboard
from .two_platforms import KEY_VARIABLES, Environments, shared_account

__all__ = ["shared_account"]

KEYS = ("appointment-booking", "call-summary", "lead-qualification", "support-triage")


def released_ids(envs: Environments, environment: str) -> dict[str, str]:
    platform = envs.platform("staging")
    return {key: platform.released(agent_id).version_id
            for key, agent_id in platform.owned(environment).items()}


def test_two_environments_in_one_account_never_touch_each_other(
        shared_account: Environments) -> None:
    envs = shared_account
    assert len({envs.platform(name).emulator.url for name in KEY_VARIABLES}) == 1
    envs.ok("apply", "--env", "staging", "--yes")
    staging_before = released_ids(envs, "staging")
    assert sorted(staging_before) == sorted(KEYS)

    promoted = envs.ok("promote", "--from", "staging", "--to", "production", "--yes")
    assert "Apply complete: 4 applied" in promoted
    platform = envs.platform("staging")
    production = platform.owned("production")
    assert sorted(production) == sorted(KEYS)
    assert not set(production.values()) & set(platform.owned("staging").values())
    assert released_ids(envs, "staging") == staging_before  # staging's agents untouched

    for env in ("staging", "production"):
        envs.ok("status", "--env", env)
        envs.ok("plan", "--env", env, "--detailed-exitcode")

    # A dashboard edit of production's agent is production's drift only.
    agent_id = production["appointment-booking"]
    Dashboard(platform.emulator).edit_and_release(
        agent_id, lambda body: body.update(name="Edited in production"))
    assert envs.run("status", "--env", "production").exit_code == 2
    envs.ok("status", "--env", "staging")

    # Pruning in staging deletes staging's agent, never production's.
    (envs.root / "agents" / "support-triage.yaml").unlink()
    envs.ok("apply", "--env", "staging", "--yes", "--prune")
    assert "support-triage" not in platform.owned("staging")
    assert platform.owned("production")["support-triage"] == production["support-triage"]


def test_markers_from_before_environments_are_read_and_a_shared_agent_is_never_promoted(
        shared_account: Environments) -> None:
    envs = shared_account
    envs.ok("apply", "--env", "staging", "--yes")
    platform = envs.platform("staging")
    for agent_id in platform.owned("staging").values():
        forget_environment(envs, agent_id)
    assert platform.owned("staging") == {}

    plan = envs.ok("plan", "--env", "staging", "--detailed-exitcode")
    assert "written before environments were recorded" in plan

    envs.change_prompt()
    refused = envs.run("promote", "--from", "staging", "--to", "production", "--yes")
    assert refused.exit_code == 5, refused.stdout + refused.stderr
    assert "both resolve" in refused.stdout + refused.stderr
    assert "--record-environment" in refused.stdout + refused.stderr

    envs.ok("apply", "--env", "staging", "--yes", "--record-environment")
    assert sorted(platform.owned("staging")) == sorted(KEYS)
    promoted = envs.ok("promote", "--from", "staging", "--to", "production", "--yes")
    assert "Apply complete: 4 applied" in promoted
    assert not set(platform.owned("production").values()) & \
        set(platform.owned("staging").values())


def forget_environment(envs: Environments, agent_id: str) -> None:
    """Rewrite the agent's released marker without ``env=``, as older versions wrote it."""
    import re

    dashboard = Dashboard(envs.platform("staging").emulator)
    dashboard.edit_and_release(agent_id, lambda body: body.update(
        description=re.sub(r" env=[A-Za-z0-9._-]+", "", body["description"])))


def test_a_lost_create_in_one_environment_never_finds_the_other_s_agent(
        shared_account: Environments) -> None:
    """A create whose answer is lost is looked for by its marker before it is sent again: in
    a shared account, production's agent for the key is never taken for staging's."""
    envs = shared_account
    envs.ok("apply", "--env", "staging", "--yes")
    envs.ok("promote", "--from", "staging", "--to", "production", "--yes")
    platform = envs.platform("staging")
    production = platform.owned("production")["support-triage"]
    released = platform.released(production).version_id
    platform.client.conversational_agents.delete(platform.owned("staging")["support-triage"])
    platform.emulator.lose_next_response("POST", r"^/conversational_agents$")

    applied = envs.ok("apply", "--env", "staging", "--yes")

    assert "created by the request whose answer was lost" in applied
    staging = platform.owned("staging")["support-triage"]
    assert staging != production
    assert platform.owned("production")["support-triage"] == production
    assert platform.released(production).version_id == released
    assert len(platform.claims("staging")["support-triage"]) == 1
