"""The application object the commands share: which platform each environment talks to."""

from __future__ import annotations

from pathlib import Path

import pytest

from operator_iac.cli.app import App
from operator_iac.settings import Settings

PROJECT_FILE = """\
project: demo
agents_dir: agents
environments:
  staging:
    api_url: https://staging.test
    api_key_env: KEY_STAGING
  production:
    api_url: https://production.test
    api_key_env: KEY_PRODUCTION
"""


@pytest.mark.parametrize("source", ["flag", "variable"])
def test_the_api_url_override_points_only_the_main_environment_elsewhere(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str) -> None:
    """``--api-url`` and ``OPERATOR_IAC_API_URL`` are one setting: promote's source keeps the
    api_url of the project file with either."""
    (tmp_path / "agents").mkdir()
    project_file = tmp_path / "operator-iac.yaml"
    project_file.write_text(PROJECT_FILE, encoding="utf-8")
    monkeypatch.setenv("KEY_STAGING", "op_staging")
    monkeypatch.setenv("KEY_PRODUCTION", "op_production")
    monkeypatch.delenv("OPERATOR_IAC_API_URL", raising=False)
    # The project file's hosts are allowed from outside it, as a CI job would.
    monkeypatch.setenv("OPERATOR_IAC_ALLOWED_HOSTS", "staging.test, production.test")
    if source == "variable":  # click hands the variable over as the flag's value too
        monkeypatch.setenv("OPERATOR_IAC_API_URL", "https://override.test")
    app = App(Settings(project_file=project_file, env="production",
                       api_url="https://override.test"))
    try:
        other, client = app.other_environment("staging")
        assert other.api_url == client.base_url == "https://staging.test"
        assert app.target().api_url == "https://override.test"
    finally:
        app.close()


def test_the_other_environment_of_a_promotion_is_held_to_the_trusted_hosts(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``--api-url`` moves the main environment only; the other one keeps the project file's
    host, which must be trusted on its own."""
    from operator_iac.errors import ConfigurationError

    (tmp_path / "agents").mkdir()
    project_file = tmp_path / "operator-iac.yaml"
    project_file.write_text(PROJECT_FILE, encoding="utf-8")
    monkeypatch.setenv("KEY_STAGING", "op_staging")
    app = App(Settings(project_file=project_file, env="production",
                       api_url="https://production.test"))
    try:
        with pytest.raises(ConfigurationError, match=r"names staging\.test"):
            app.other_environment("staging")
    finally:
        app.close()


def test_the_emulator_names_the_default_key_variable_without_a_readable_project(
        tmp_path: Path) -> None:
    from operator_iac.services.emulator import key_variables

    broken = tmp_path / "operator-iac.yaml"
    broken.write_text("project: [unclosed\n", encoding="utf-8")
    assert key_variables(broken) == [(None, "OPERATOR_API_KEY")]
    assert key_variables(tmp_path / "missing.yaml") == [(None, "OPERATOR_API_KEY")]
    broken.write_text(PROJECT_FILE, encoding="utf-8")
    assert key_variables(broken) == [("staging", "KEY_STAGING"),
                                     ("production", "KEY_PRODUCTION")]
