"""``${env:NAME}`` reads only what the project file declares under ``secrets``, never the
tool's own API keys or CI credentials, and every plan names the references a change
introduces or removes, so that a reviewer sees what is about to be written into an agent.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from .conftest import ProjectCopy

Project = Callable[..., ProjectCopy]
PROMPT = "appointment-booking.md"
TOKEN = "bk_live_4f1d-never-shown"


def use_in_prompt(copy: ProjectCopy, name: str) -> None:
    """The booking prompt ends with a line that reads ``${env:name}``."""
    with (copy.agents_dir / "prompts" / PROMPT).open("a", encoding="utf-8") as handle:
        handle.write(f"\nBooking system token: ${{env:{name}}}\n")


def validate(copy: ProjectCopy) -> tuple[int, str]:
    result = copy.cli("--project-file", str(copy.project_file), "validate")
    return result.exit_code, result.stdout + result.stderr


@pytest.mark.parametrize("name", ["OPERATOR_API_KEY_STAGING", "OPERATOR_API_KEY",
                                  "GITHUB_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
                                  "AWS_SECRET_ACCESS_KEY", "OPERATOR_IAC_API_URL"])
def test_the_tools_keys_and_ci_credentials_are_refused_even_when_declared(
        project: Project, name: str) -> None:
    copy = project()
    copy.declare_secrets(name)
    use_in_prompt(copy, name)

    code, output = validate(copy)

    assert code == 3, output
    assert f"${{env:{name}}} can never be a secret of an agent" in output
    assert f"agents/prompts/{PROMPT}:" in output  # the use, with its line
    assert f"operator-iac.yaml:8:11: {name} cannot be declared a secret" in output
    assert copy.plan().exit_code == 3  # nothing is read, nothing is sent


def test_an_api_key_variable_named_in_any_environment_is_refused(project: Project) -> None:
    copy = project()
    copy.declare_secrets("CLINIC_KEY")
    copy.edit_project_file("api_key_env: OPERATOR_API_KEY\n", "api_key_env: CLINIC_KEY\n")
    use_in_prompt(copy, "CLINIC_KEY")
    code, output = validate(copy)
    assert code == 3 and "it holds an operator-iac API key (api_key_env)" in output


def test_a_value_equal_to_the_api_key_is_refused_whatever_its_name(
        project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = project()
    copy.declare_secrets("BOOKING_API_TOKEN")
    use_in_prompt(copy, "BOOKING_API_TOKEN")
    monkeypatch.setenv("BOOKING_API_TOKEN", copy.emulator.api_key)

    result = copy.plan()

    assert result.exit_code == 3
    assert "holds the same value as an API key variable" in result.stderr
    assert copy.emulator.api_key not in result.stdout + result.stderr


def test_an_undeclared_secret_says_what_to_declare_and_a_declared_one_is_planned_by_name(
        project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = project()
    use_in_prompt(copy, "BOOKING_API_TOKEN")
    monkeypatch.setenv("BOOKING_API_TOKEN", TOKEN)

    code, output = validate(copy)
    assert code == 3
    assert ("${env:BOOKING_API_TOKEN} is not a declared secret for environments staging, "
            "production") in output
    assert "add `secrets: [BOOKING_API_TOKEN]` to operator-iac.yaml" in output
    assert copy.plan().exit_code == 3

    copy.declare_secrets("BOOKING_API_TOKEN")
    assert validate(copy)[0] == 0
    text, as_json, markdown = (copy.plan(*args) for args in
                               ((), ("--format", "json"), ("--format", "markdown")))
    line = "introduces ${env:BOOKING_API_TOKEN} in config.runtime.prompt.text"
    assert f"    ! {line}" in text.stdout
    resource = next(r for r in json.loads(as_json.stdout)["resources"]
                    if r["key"] == "appointment-booking")
    assert resource["secret_references"] == [{
        "change": "introduced", "path": "config.runtime.prompt.text",
        "name": "BOOKING_API_TOKEN"}]
    assert ("- `appointment-booking` introduces `${env:BOOKING_API_TOKEN}` in "
            "`config.runtime.prompt.text`") in markdown.stdout
    assert "🔑 secret introduced" in markdown.stdout
    for output in (text.stdout, as_json.stdout, markdown.stdout):
        assert TOKEN not in output

    assert copy.apply().exit_code == 0
    assert "${env:" not in copy.plan().stdout  # unchanged: nothing to state
    copy.replace_in(f"prompts/{PROMPT}", "Booking system token: ${env:BOOKING_API_TOKEN}",
                    "No token here.")
    removed = copy.plan()
    # The marker recorded the variable's name, so the removal is stated by name.
    assert "! removes ${env:BOOKING_API_TOKEN} from config.runtime.prompt.text" \
        in removed.stdout
    assert TOKEN not in removed.stdout + removed.stderr


def test_a_secret_declared_for_one_environment_is_refused_in_the_others(
        project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = project()
    use_in_prompt(copy, "BOOKING_API_TOKEN")
    copy.edit_project_file(
        "    api_key_env: OPERATOR_API_KEY_STAGING\n",
        "    api_key_env: OPERATOR_API_KEY_STAGING\n    secrets: [BOOKING_API_TOKEN]\n")
    monkeypatch.setenv("BOOKING_API_TOKEN", TOKEN)

    code, output = validate(copy)

    assert code == 3
    assert "is not a declared secret for environment production:" in output
    copy.edit_project_file("    protect: true\n",
                           "    protect: true\n    secrets: [BOOKING_API_TOKEN]\n")
    assert validate(copy)[0] == 0
    assert copy.plan().exit_code == 0


def test_api_key_env_cannot_name_a_ci_credential(project: Project,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    copy = project()
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_never-sent-anywhere")
    copy.edit_project_file("api_key_env: OPERATOR_API_KEY_STAGING\n",
                           "api_key_env: GITHUB_TOKEN\n")

    code, output = validate(copy)
    planned = copy.plan()

    assert code == 3 and planned.exit_code == 3
    for said in (output, planned.stderr):
        assert "api_key_env names GITHUB_TOKEN, which is the GitHub Actions token" in said
    assert copy.emulator.requests == []
