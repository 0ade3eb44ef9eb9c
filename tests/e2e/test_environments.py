"""Choosing an environment (``--env``, ``OPERATOR_IAC_ENV``) and what it brings: its API key
variable, its vars and overrides, ``promote_from``. Every configuration mistake is an error
(exit 3) before any request reaches the platform.
"""

from __future__ import annotations

import json

import pytest

from .two_platforms import KEY_VARIABLES, Environments, environments

__all__ = ["environments"]

SECRET_LOOKING_KEY = "op_prod_do-not-print-me-7f3a"


def test_operator_iac_env_selects_the_environment(environments: Environments,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPERATOR_IAC_ENV", "production")
    result = environments.run("plan")
    assert result.exit_code == 0, result.stderr
    assert "environment production (protected)" in result.stdout
    assert environments.platform("production").emulator.requests
    assert environments.platform("staging").emulator.requests == []


def test_the_command_option_wins_over_operator_iac_env(environments: Environments,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPERATOR_IAC_ENV", "production")
    result = environments.run("plan", "--env", "staging")
    assert result.exit_code == 0, result.stderr
    assert "environment staging," in result.stdout


def test_no_environment_chosen_lists_the_choices(environments: Environments) -> None:
    result = environments.run("plan")
    assert result.exit_code == 3
    assert "choose an environment with --env or OPERATOR_IAC_ENV" in result.stderr
    assert "staging, production" in result.stderr


def test_unknown_environment_names_the_known_ones(environments: Environments) -> None:
    result = environments.run("plan", "--env", "prod")
    assert result.exit_code == 3
    assert "unknown environment 'prod'" in result.stderr
    assert "staging, production" in result.stderr
    for name in KEY_VARIABLES:
        assert environments.platform(name).emulator.requests == []


def test_unset_api_key_variable_is_named_never_a_value(environments: Environments,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPERATOR_API_KEY_STAGING")
    monkeypatch.setenv("OPERATOR_API_KEY", SECRET_LOOKING_KEY)
    result = environments.run("plan", "--env", "staging")
    assert result.exit_code == 3
    assert "OPERATOR_API_KEY_STAGING is not set" in result.stderr
    assert SECRET_LOOKING_KEY not in result.stderr + result.stdout
    assert environments.platform("staging").emulator.requests == []


def test_missing_var_in_the_chosen_environment_fails_before_any_request(
        environments: Environments) -> None:
    environments.replace_in("operator-iac.yaml",
                            "      help_center_url: https://help.staging.acme.example\n", "")
    result = environments.run("plan", "--env", "staging")
    assert result.exit_code == 3
    assert "${var:help_center_url}" in result.stderr
    assert "staging" in result.stderr
    for name in KEY_VARIABLES:
        assert environments.platform(name).emulator.requests == []


def test_overrides_are_deep_merged_and_shown_in_the_plan(environments: Environments) -> None:
    result = environments.run("plan", "--env", "production", "--format", "json")
    assert result.exit_code == 0, result.stderr
    plan = json.loads(result.stdout)
    booking = next(r for r in plan["resources"] if r["key"] == "appointment-booking")
    runtime = booking["desired"]["config"]["runtime"]
    assert runtime["model"] == "openai/gpt-4o"  # the override
    assert "Amanda" in runtime["prompt"]["text"]  # kept from the agent file
    assert booking["desired"]["config"]["tool"]["transfers"] == [{"entity_id": "+15550199"}]
    text = environments.run("plan", "--env", "production")
    assert 'config.runtime.model: "openai/gpt-4o"' in text.stdout
    staging = environments.run("plan", "--env", "staging")
    assert 'config.runtime.model: "openai/gpt-4o-mini"' in staging.stdout


def test_apply_into_a_promote_from_environment_points_to_promote(
        environments: Environments) -> None:
    result = environments.run("apply", "--env", "production", "--yes")
    assert result.exit_code == 3
    assert "only receives promotions" in result.stderr
    assert "operator-iac promote --from staging --to production" in result.stderr
    # Refused before any request: apply reads nothing ahead for such an environment.
    assert environments.platform("production").emulator.requests == []


def test_the_python_api_refuses_a_promote_from_environment_too(
        environments: Environments, monkeypatch: pytest.MonkeyPatch) -> None:
    import operator_iac

    monkeypatch.chdir(environments.root)
    project = operator_iac.load_project(environments.project_file)
    target = operator_iac.build_target(project, "production")
    with target.client() as client:
        planned = operator_iac.make_plan(target, client)
        assert planned.plan.has_changes  # production is empty: everything would be created
        with pytest.raises(operator_iac.OperatorIacError, match="only receives promotions"):
            operator_iac.apply_plan(planned, client)
    assert environments.platform("production").writes() == []
