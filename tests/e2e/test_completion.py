"""Shell completion through click's completion API, as bash, zsh and fish ask for it:
environment names and agent keys come from the project (named with --project-file before or
after the command, or found from the working folder), choices complete by themselves, and a
broken project completes nothing instead of failing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.shell_completion import ShellComplete

from operator_iac.cli.main import cli

from .conftest import KEYS, REPO

COMPLETE_VARIABLE = "_OPERATOR_IAC_COMPLETE"


def complete(line: str) -> list[str]:
    """What Tab offers after ``operator-iac LINE`` (the last word is the incomplete one)."""
    words = line.split(" ")
    completer = ShellComplete(cli, {}, "operator-iac", COMPLETE_VARIABLE)
    return [item.value for item in completer.get_completions(words[:-1], words[-1])]


@pytest.fixture
def in_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    shutil.copy(REPO / "operator-iac.yaml", root / "operator-iac.yaml")
    shutil.copytree(REPO / "agents", root / "agents")
    monkeypatch.chdir(root)
    return root


@pytest.mark.usefixtures("in_project")
def test_environment_names_complete_wherever_an_environment_is_asked_for() -> None:
    assert complete("plan --env ") == ["staging", "production"]
    assert complete("--env s") == ["staging"]  # the global option
    assert complete("promote --from staging --to p") == ["production"]
    assert complete("smoke --env ") == ["staging", "production"]
    assert complete("apply --env pro") == ["production"]


@pytest.mark.usefixtures("in_project")
def test_agent_keys_complete_for_arguments_and_selections() -> None:
    assert complete("history ") == sorted(KEYS)
    assert complete("rollback app") == ["appointment-booking"]
    assert complete("smoke ") == sorted(KEYS)
    assert complete("plan --target ") == sorted(KEYS)
    assert complete("apply --exclude call") == ["call-summary"]
    assert complete("promote --target lead") == ["lead-qualification"]


def test_the_project_file_named_on_the_line_is_the_one_read(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    monkeypatch.chdir(tmp_path)  # no project here
    assert complete("history ") == []
    project = REPO / "examples" / "minimal" / "operator-iac.yaml"
    assert complete(f"--project-file {project} history ") == ["hello"]
    assert complete(f"history --project-file {project} ") == ["hello"]
    monkeypatch.setenv("OPERATOR_IAC_PROJECT_FILE", str(project))
    assert complete("plan --env ") == ["staging"]


@pytest.mark.usefixtures("in_project")
def test_choices_complete_by_themselves() -> None:
    assert complete("plan --format ") == ["text", "json", "markdown"]
    assert complete("smoke --version ") == ["released", "draft"]
    assert complete("init --ci ") == ["github", "none"]
    assert complete("schema ") == ["agent", "project"]
    assert "transcript" in complete("tr") and complete("ini") == ["init"]


def test_a_broken_project_completes_nothing_and_does_not_fail(
        in_project: Path) -> None:
    (in_project / "agents" / "call-summary.yaml").write_text("kind: [broken\n")
    assert "call-summary" not in complete("history ")
    assert "appointment-booking" in complete("history ")  # the others still load
    (in_project / "operator-iac.yaml").write_text("project: [broken\n")
    assert complete("plan --env ") == [] and complete("history ") == []


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_the_installed_command_prints_a_completion_script(shell: str) -> None:
    done = subprocess.run([str(Path(sys.executable).parent / "operator-iac")],
                          env={**os.environ, COMPLETE_VARIABLE: f"{shell}_source"},
                          capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    assert COMPLETE_VARIABLE in done.stdout and f"{shell}_complete" in done.stdout
