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


@pytest.fixture
def project_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project of two environments, each with its key set, and no URL override."""
    (tmp_path / "agents").mkdir()
    path = tmp_path / "operator-iac.yaml"
    path.write_text(PROJECT_FILE, encoding="utf-8")
    monkeypatch.setenv("KEY_STAGING", "op_staging")
    monkeypatch.setenv("KEY_PRODUCTION", "op_production")
    monkeypatch.delenv("OPERATOR_IAC_API_URL", raising=False)
    return path


@pytest.mark.parametrize("source", ["flag", "variable"])
def test_the_api_url_override_points_every_environment_of_the_run_elsewhere(
        project_file: Path, monkeypatch: pytest.MonkeyPatch, source: str) -> None:
    """``--api-url`` and ``OPERATOR_IAC_API_URL`` are one setting: promote's source goes to
    the same platform as the destination, each environment with its own key."""
    # The project file's hosts are allowed from outside it, as a CI job would.
    monkeypatch.setenv("OPERATOR_IAC_ALLOWED_HOSTS", "staging.test, production.test")
    if source == "variable":  # click hands the variable over as the flag's value too
        monkeypatch.setenv("OPERATOR_IAC_API_URL", "https://override.test")
    app = App(Settings(project_file=project_file, env="production",
                       api_url="https://override.test"))
    try:
        other, client = app.other_environment("staging")
        assert other.api_url == client.base_url == "https://override.test"
        assert other.api_key.get_secret_value() == "op_staging"
        assert app.target().api_url == "https://override.test"
        assert app.target().api_key.get_secret_value() == "op_production"
    finally:
        app.close()


def test_without_an_override_each_environment_keeps_its_trusted_api_url(
        project_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without ``--api-url`` each environment talks to its project file's host, and the
    other environment of a promotion is held to the trusted hosts on its own."""
    from operator_iac.errors import ConfigurationError

    monkeypatch.setenv("OPERATOR_IAC_ALLOWED_HOSTS", "production.test")
    app = App(Settings(project_file=project_file, env="production"))
    try:
        assert app.target().api_url == "https://production.test"
        with pytest.raises(ConfigurationError, match=r"names staging\.test"):
            app.other_environment("staging")
        monkeypatch.setenv("OPERATOR_IAC_ALLOWED_HOSTS", "production.test staging.test")
        assert app.other_environment("staging")[0].api_url == "https://staging.test"
    finally:
        app.close()


def test_the_emulator_keeps_an_account_per_api_key_variable(tmp_path: Path) -> None:
    from operator_iac.services.emulator import Account, emulator_accounts

    broken = tmp_path / "operator-iac.yaml"
    broken.write_text("project: [unclosed\n", encoding="utf-8")
    default = [Account("op_test_emulator", "OPERATOR_API_KEY")]
    assert emulator_accounts((), broken) == default
    assert emulator_accounts((), tmp_path / "missing.yaml") == default
    broken.write_text(PROJECT_FILE + "  qa:\n    api_key_env: KEY_STAGING\n",
                      encoding="utf-8")
    assert emulator_accounts((), broken) == [
        Account("op_test_staging", "KEY_STAGING", ("staging", "qa")),
        Account("op_test_production", "KEY_PRODUCTION", ("production",))]
    # One key given: every environment reads it (one account), as before.
    assert {a.key for a in emulator_accounts(("op_test_one",), broken)} == {"op_test_one"}
    assert emulator_accounts(("op_a", "op_b", "op_a"), broken) == [Account("op_a"),
                                                                   Account("op_b")]
