"""One JSON contract: every report command's ``--format json`` output, success and failure,
validates against its published schema (``docs/schemas/<command>.json``), is the only thing on
stdout, and carries the process's exit code; errors carry stable codes and file positions."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from operator_iac.cli.json_report import offers_json
from operator_iac.cli.main import COMMANDS, _command_named

from .conftest import Cli, ProjectCopy
from .json_contract import SCHEMAS, check_report, schema_commands
from .two_platforms import Environments, environments  # noqa: F401  (fixture)

STAGING = ("--env", "staging")


def test_every_command_with_json_output_has_a_published_schema() -> None:
    """A new command that offers --format json fails here until its schema is published."""
    offering = sorted(name for name, command in ((n, _command_named(n)) for n in COMMANDS)
                      if command is not None and offers_json(command))
    assert offering == schema_commands()
    for name in offering:
        schema = json.loads((SCHEMAS / f"{name}.json").read_text(encoding="utf-8"))
        assert schema["properties"]["command"] == {"const": name}


def test_every_report_validates_against_its_schema(environments: Environments,  # noqa: F811
                                                   tmp_path: Path) -> None:
    def report(command: str, *args: str, code: int = 0) -> dict:
        result = environments.run(command, *args, "--format", "json")
        assert result.exit_code == code, result.stderr
        return check_report(command, result.stdout, code)

    valid = report("validate")
    assert valid["summary"]["valid_agents"] == 4 and valid["errors"] == []
    linted = report("lint", "--env", "staging")
    assert linted["summary"]["agents"] == 4 and linted["ok"] is True
    planned = report("plan", *STAGING, "--detailed-exitcode", code=2)
    assert planned["summary"]["create"] == 4 and len(planned["resources"]) == 4
    # The plan's JSON, saved from stdout, is a plan file: apply takes it as it is.
    saved = tmp_path / "plan.json"
    saved.write_text(environments.run("plan", *STAGING, "--format", "json").stdout)
    applied = report("apply", str(saved), *STAGING, "--no-smoke")
    assert applied["summary"] == {"applied": 4, "unchanged": 0, "not_applied": 0,
                                  "smoke_not_recorded": 0}
    assert report("status", *STAGING)["summary"]["in_sync"] == 4
    smoked = report("smoke", *STAGING, "--keep-conversations")  # recorded: promote needs it
    assert smoked["summary"]["passed"] == len(smoked["tests"]) > 2 and smoked["passed"]
    conversation = smoked["tests"][0]["runs"][0]["conversation_id"]
    assert smoked["tests"][0]["runs"][0]["conversation_deleted"] is False
    said = report("transcript", *STAGING, conversation)
    assert said["summary"]["user_messages"] >= 1 and said["conversation_id"] == conversation
    history = report("history", *STAGING, "call-summary")
    assert history["summary"]["revisions"] == 1
    assert report("history", *STAGING, "--all")["summary"]["commits"] == 1

    environments.replace_in("agents/prompts/call-summary.md", "voicemail",
                            "voicemail message")
    assert report("apply", *STAGING, "--yes", "--no-smoke")["summary"]["applied"] == 1
    rolled = report("rollback", *STAGING, "call-summary", "--yes", "--no-smoke")
    assert rolled["summary"]["released"] == 1 and rolled["to"].endswith("@v0")
    everything = report("rollback", *STAGING, "--all", "--to-commit",
                        history["revisions"][0]["commit"], "--yes", "--no-smoke")
    assert {a["key"] for a in everything["agents"]} >= {"call-summary"}
    pulled = report("pull", *STAGING, "call-summary", "--dry-run")
    assert pulled["summary"]["written"] is False
    imported = report("import", *STAGING, "--all", "--dry-run")
    assert imported["summary"]["imported"] == 0
    promoted = report("promote", "--from", "staging", "--to", "production", "--yes",
                      "--no-smoke")
    assert promoted["summary"]["applied"] == 4
    doctor = report("doctor", *STAGING)
    assert doctor["summary"]["failed"] == 0 and doctor["ok"] is True


# Arguments that get each command past click, to the point where it reads the project file.
ARGUMENTS = {"apply": ["--yes"], "history": ["call-summary"], "promote": ["--to", "production"],
             "pull": ["call-summary"], "rollback": ["call-summary", "--yes"],
             "transcript": ["conv_x"]}


@pytest.mark.parametrize("command", schema_commands())
def test_a_failed_command_prints_its_envelope(cli: Cli, tmp_path: Path, command: str) -> None:
    missing = tmp_path / "nowhere" / "operator-iac.yaml"
    result = cli("--project-file", str(missing), command, *ARGUMENTS.get(command, []),
                 "--format", "json")
    assert result.exit_code == 3, result.stderr
    report = check_report(command, result.stdout, 3)
    assert report["summary"] == {}
    assert [e["code"] for e in report["errors"]] == ["invalid_project_file"]
    assert str(missing.name) in report["errors"][0]["message"]
    assert "error: " in result.stderr  # people and CI logs still read it there


def test_a_refused_command_line_is_reported_in_json(cli: Cli) -> None:
    result = cli("status", "--format", "json", "--no-such-option")
    report = check_report("status", result.stdout, 3)
    assert report["errors"][0]["code"] == "usage"
    assert "--no-such-option" in report["errors"][0]["message"]
    text = cli("status", "--no-such-option")
    assert text.exit_code == 3 and text.stdout == ""  # no JSON unless asked for
    yaml_only = cli("transcript", "conv_x", "--to-test", "--format", "json")
    assert "--to-test prints a smoke test as YAML" in check_report(
        "transcript", yaml_only.stdout, 3)["errors"][0]["message"]


def test_findings_carry_their_file_positions(environments: Environments) -> None:  # noqa: F811
    environments.replace_in("agents/support-triage.yaml", "Be friendly and brief.",
                            "Be friendly and brief. Escalations: ops@acme-corp.com.")
    strict = environments.run("lint", "--fail-on", "warning", "--format", "json")
    linted = check_report("lint", strict.stdout, 3)
    assert [e["code"] for e in linted["errors"]] == ["lint_finding"] * len(linted["findings"])
    assert {(e["file"], e["line"]) for e in linted["errors"]} == {
        (f["file"], f["line"]) for f in linted["findings"]}
    environments.replace_in("agents/call-summary.yaml", "kind: procedural_agent",
                            "kind: procedural_agent\nnmae: typo")
    result = environments.run("validate", "--format", "json")
    report = check_report("validate", result.stdout, 3)
    error = next(e for e in report["errors"] if "nmae" in e["message"])
    assert error["code"] == "invalid_declaration" and report["valid"] is False
    assert error["file"].endswith("call-summary.yaml") and error["line"] == 2
    assert error["column"] == 1 and len(report["diagnostics"]) == len(report["errors"])
    # Commands that load the declarations report the same findings, with their positions.
    planned = environments.run("plan", *STAGING, "--format", "json")
    assert check_report("plan", planned.stdout, 3)["errors"] == report["errors"]


def test_a_failing_smoke_test_is_an_error_of_its_report(
        environments: Environments) -> None:  # noqa: F811
    assert environments.apply_staging("--no-smoke").exit_code == 0
    environments.break_smoke_tests()
    result = environments.run("smoke", *STAGING, "appointment-booking", "--format", "json")
    report = check_report("smoke", result.stdout, 4)
    assert [e["code"] for e in report["errors"]] == ["smoke_test_failed"]
    assert "appointment-booking" in report["errors"][0]["message"]
    failing = next(t for t in report["tests"] if t["verdict"] == "failed")
    assert failing["runs"][0]["conversation_deleted"] is True
    assert report["summary"]["failed"] == 1


def test_the_saved_output_of_a_failed_plan_is_refused_with_its_error(
        project: Callable[..., ProjectCopy], tmp_path: Path) -> None:
    copy = project()
    failed = copy.cli("--project-file", str(copy.project_file), "--api-url", copy.emulator.url,
                      "plan", "--env", "nowhere", "--format", "json")
    first = check_report("plan", failed.stdout, 3)["errors"][0]["message"]
    saved = tmp_path / "plan.json"
    saved.write_text(failed.stdout, encoding="utf-8")
    refused = copy.run("apply", str(saved))
    assert refused.exit_code == 3, refused.stderr
    assert f"the output of a plan that failed, not a plan ({first})" in refused.stderr
    assert copy.emulator.requests == []


# The installed command as a terminal starts it, with Ctrl-C's signal at its default: a
# process started in the background by a shell without job control (as CI scripts may run
# the suite) inherits SIGINT ignored, and so would the command. Reset it, then become the
# command (exec keeps the default).
WITH_CTRL_C = [sys.executable, "-c",
               "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
               "os.execv(sys.executable, [sys.executable, '-m', 'operator_iac', "
               "*sys.argv[1:]])"]


def test_an_interrupted_run_prints_its_envelope(project: Callable[..., ProjectCopy]) -> None:
    """Ctrl-C while the platform is slow to answer: the installed command stops at once, with
    exit code 130 and an envelope that says so."""
    copy = project()
    copy.emulator.set_faults(latency_ms=5_000)
    process = subprocess.Popen(
        [*WITH_CTRL_C, "--project-file", str(copy.project_file),
         "--api-url", copy.emulator.url, *STAGING, "plan", "--format", "json"],
        cwd=copy.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=dict(os.environ))
    assert process.stderr is not None
    assert process.stderr.readline().startswith("Reading agents")  # waiting for the platform
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    report = check_report("plan", out, 130)
    assert report["summary"] == {}
    assert [e["code"] for e in report["errors"]] == ["interrupted"]
    assert "Traceback" not in err
