"""Conventions every command keeps, through the real CLI: global options before or after the
command, ``--quiet`` for CI logs, a JSON report even when nothing changes, and "no" at a
confirmation ending with exit 0 and nothing applied."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import KEYS, Platform, ProjectCopy
from .json_contract import check_report
from .two_platforms import Environments, environments

__all__ = ["environments"]


def test_global_options_work_after_the_command(project: Callable[..., ProjectCopy]) -> None:
    copy = project()
    result = copy.cli("plan", "--project-file", str(copy.project_file), "--api-url",
                      copy.emulator.url, "--env", "staging", "--no-color", "--quiet",
                      "--debug", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert {r["key"] for r in json.loads(result.stdout)["resources"]} == set(KEYS)
    assert result.stderr == ""  # --quiet: no progress lines


def test_an_option_after_the_command_wins_over_the_same_one_before(
        project: Callable[..., ProjectCopy], tmp_path: Path) -> None:
    copy = project()
    missing = tmp_path / "nowhere" / "operator-iac.yaml"
    result = copy.cli("--project-file", str(missing), "validate", "--project-file",
                      str(copy.project_file))
    assert result.exit_code == 0, result.stderr
    assert "4 agents valid" in result.stdout


def test_the_global_env_after_a_command_without_its_own(environments: Environments) -> None:
    """``promote`` has no --env of its own: the global one, given after it, is the
    destination."""
    assert environments.apply_staging().exit_code == 0
    result = environments.run("promote", "--env", "production", "--yes")
    assert result.exit_code == 0, result.stderr
    assert sorted(environments.platform("production").owned()) == sorted(KEYS)


def test_every_command_help_says_the_global_options_work_after_it(cli: Callable) -> None:
    from operator_iac.cli.main import COMMANDS

    for name in COMMANDS:
        result = cli(name, "--help")
        assert result.exit_code == 0, name
        assert "work before or after the command" in result.stdout, name


def test_quiet_keeps_results_warnings_and_errors(project: Callable[..., ProjectCopy]) -> None:
    copy = project()
    applied = copy.run("apply", "--yes", "--no-smoke", "--quiet")
    assert applied.exit_code == 0, applied.stderr
    assert "Apply complete: 4 applied" in applied.stdout
    assert applied.stderr == ""
    failed = copy.run("plan", "--quiet", "--env", "nowhere")
    assert failed.exit_code == 3
    assert failed.stderr.startswith("error: ") and "nowhere" in failed.stderr


def test_quiet_from_the_environment(project: Callable[..., ProjectCopy],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    copy = project()
    monkeypatch.setenv("OPERATOR_IAC_QUIET", "1")
    result = copy.run("plan")
    assert result.exit_code == 0 and result.stderr == ""
    assert "4 to create" in result.stdout


@pytest.mark.parametrize("fmt", ["json", "markdown"])
def test_apply_with_nothing_to_change_still_reports(applied: ProjectCopy, platform: Platform,
                                                    fmt: str) -> None:
    before = platform.version_count()
    result = applied.run("apply", "--yes", "--no-smoke", "--format", fmt)
    assert result.exit_code == 0, result.stderr
    if fmt == "json":
        report = json.loads(result.stdout)
        assert report == {"format_version": 1, "command": "apply", "exit_code": 0,
                          "summary": {"applied": 0, "unchanged": 0, "not_applied": 0,
                                      "smoke_not_recorded": 0},
                          "headline": "Apply complete: nothing to do.", "results": [],
                          "warnings": [], "errors": []}
    else:
        assert result.stdout.startswith("### Apply complete: nothing to do.")
    assert platform.version_count() == before


def test_promote_with_nothing_to_change_reports_in_json(environments: Environments) -> None:
    assert environments.apply_staging().exit_code == 0
    assert environments.promote("--yes").exit_code == 0
    result = environments.promote("--yes", "--format", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["command"], report["headline"]) == ("promote", "Apply complete: nothing to do.")


def _on_a_terminal(args: list[str], answer: str, cwd: Path) -> tuple[int, str, str]:
    """Run the installed CLI with a terminal for stdin, answering the confirmation."""
    main, secondary = pty.openpty()
    try:
        process = subprocess.Popen([sys.executable, "-m", "operator_iac", *args], cwd=cwd,
                                   stdin=secondary, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, env=dict(os.environ))
        os.write(main, answer.encode())
        out, err = process.communicate(timeout=60)
    finally:
        os.close(main)
        os.close(secondary)
    return process.returncode, out, err


def test_no_at_the_confirmation_exits_0_and_applies_nothing(
        project: Callable[..., ProjectCopy], platform: Platform) -> None:
    copy = project()
    code, out, err = _on_a_terminal(
        ["--project-file", str(copy.project_file), "--api-url", copy.emulator.url,
         "apply", "--env", "staging", "--no-smoke"], "n\n", copy.root)
    assert code == 0, err
    assert "Apply these changes? [y/N]" in err
    assert "Nothing applied: the answer was no." in err
    assert "4 to create" in out
    assert platform.writes() == []


def test_no_at_the_confirmation_is_reported_in_json_too(
        project: Callable[..., ProjectCopy], platform: Platform) -> None:
    copy = project()
    code, out, err = _on_a_terminal(
        ["--project-file", str(copy.project_file), "--api-url", copy.emulator.url,
         "apply", "--env", "staging", "--no-smoke", "--format", "json"], "n\n", copy.root)
    assert code == 0, err
    report = check_report("apply", out, 0)
    assert report["summary"] == {}
    assert report["errors"] == [{"code": "declined",
                                 "message": "Nothing applied: the answer was no."}]
    assert platform.writes() == []


def test_the_emulator_says_which_environment_it_stands_for(
        project: Callable[..., ProjectCopy]) -> None:
    copy = project()
    picked = copy.cli("--project-file", str(copy.project_file), "--emulator", "plan")
    assert picked.exit_code == 0, picked.stderr
    assert ("for environment staging (the first in operator-iac.yaml; pick another with "
            "--env production)") in picked.stderr
    asked = copy.cli("--project-file", str(copy.project_file), "plan", "--emulator",
                     "--env", "production")
    assert asked.exit_code == 0, asked.stderr
    assert "emulator at http://127.0.0.1:" in asked.stderr
    assert "for environment production\n" in asked.stderr and "pick another" not in asked.stderr
