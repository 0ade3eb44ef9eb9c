"""Which variables ``${env:NAME}`` may never read (``spec.secret_names``): the rule on its own."""

from __future__ import annotations

import pytest

from operator_iac.spec.project_file import ProjectFile
from operator_iac.spec.secret_names import credential_kind, declared_secrets, refusal

PROJECT = ProjectFile.model_validate({
    "project": "acme", "secrets": ["BOOKING_TOKEN", "github_token", "Clinic_Key"],
    "environments": {"staging": {"api_key_env": "CLINIC_KEY"}}})


@pytest.mark.parametrize("name", ["GITHUB_TOKEN", "github_token", "Aws_Secret_Access_Key",
                                  "operator_api_key_staging", "operator_iac_api_url",
                                  "actions_id_token_request_token"])
def test_a_refused_name_is_refused_whatever_its_case(name: str) -> None:
    """On Windows the environment ignores case: ``github_token`` reads GITHUB_TOKEN."""
    assert refusal(name, PROJECT) is not None


def test_an_api_key_variable_is_refused_whatever_its_case() -> None:
    assert refusal("clinic_key", PROJECT) == "it holds an operator-iac API key (api_key_env)"
    assert credential_kind("github_token") == "the GitHub Actions token"
    assert declared_secrets(PROJECT, "staging") == frozenset({"BOOKING_TOKEN"})
    assert refusal("BOOKING_TOKEN", PROJECT) is None


@pytest.mark.parametrize("variable", ["GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY"])
def test_a_ci_credential_is_never_read_as_the_api_key_whoever_asks(variable: str) -> None:
    # The last guard before anything is sent: whatever loaded (or did not load) the project
    # file's checks, the key is never taken from a CI or cloud credential.
    from operator_iac.errors import ConfigurationError
    from operator_iac.services.target import key_for

    assert credential_kind(variable) is not None
    with pytest.raises(ConfigurationError, match=f"api_key_env names {variable}"):
        key_for(variable, "staging", None, {variable: "never-sent"})
    key, source = key_for("OPERATOR_API_KEY_STAGING", "staging", None,
                          {"OPERATOR_API_KEY_STAGING": "op_test"})
    assert key.get_secret_value() == "op_test" and source is not None
    assert "OPERATOR_API_KEY_STAGING" in source
