"""Life in CI: the example CI definitions are well-formed and run only real commands with real
flags; under GitHub Actions diagnostics become annotations and reports reach the job summary;
progress is plain lines off a terminal; and the release-promotion script promotes between two
emulators through the Python API.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from .action_harness import invocation_of, is_action_step
from .cli_lines import invocations, parse_invocation
from .conftest import REPO, ProjectCopy

GITHUB_WORKFLOW = REPO / "examples" / "github-actions" / "operator-iac.yml"
GITLAB_PIPELINE = REPO / "examples" / "gitlab-ci" / ".gitlab-ci.yml"
PROMOTE_SCRIPT = REPO / "examples" / "release" / "promote.py"
def github_runs(workflow: dict[str, Any]) -> dict[str, list[list[str]]]:
    """job -> the operator-iac invocations of its steps: ``run`` scripts as written, and steps
    that use the operator-iac action as the action's own run step builds them."""
    with tempfile.TemporaryDirectory() as temp:
        return {name: [call for index, step in enumerate(job["steps"])
                       for call in _step_calls(step, Path(temp) / f"{name}-{index}")]
                for name, job in workflow["jobs"].items()}


def _step_calls(step: dict[str, Any], temp: Path) -> list[list[str]]:
    if "run" in step:
        return invocations(step["run"])
    if is_action_step(step):
        return [invocation_of(step, temp)]
    return []


def gitlab_runs(pipeline: dict[str, Any]) -> dict[str, list[list[str]]]:
    jobs = {name: job for name, job in pipeline.items()
            if isinstance(job, dict) and "script" in job}
    return {name: [call for line in job["script"] for call in invocations(line)]
            for name, job in jobs.items()}


def project_environments() -> dict[str, Any]:
    data = yaml.safe_load((REPO / "operator-iac.yaml").read_text(encoding="utf-8"))
    environments: dict[str, Any] = data["environments"]
    return environments


@pytest.fixture
def github() -> dict[str, Any]:
    workflow: dict[str, Any] = yaml.safe_load(GITHUB_WORKFLOW.read_text(encoding="utf-8"))
    return workflow


@pytest.fixture
def gitlab() -> dict[str, Any]:
    pipeline: dict[str, Any] = yaml.safe_load(GITLAB_PIPELINE.read_text(encoding="utf-8"))
    return pipeline


def test_the_invocation_checker_rejects_what_the_cli_rejects() -> None:
    assert invocations('x && operator-iac plan --env "a b" > plan.md | tee') == [
        ["plan", "--env", "a b"]]
    assert parse_invocation(["--no-color", "plan", "--format", "markdown"]).params["fmt"] \
        == "markdown"
    for bad in (["plan", "--no-such-flag"], ["plan", "--format", "yaml"], ["deploy"],
                ["promote", "--from"]):
        with pytest.raises(click.ClickException):
            parse_invocation(bad)


# ---- GitHub Actions --------------------------------------------------------------------------


def test_github_workflow_triggers_and_jobs(github: dict[str, Any]) -> None:
    triggers = github.get("on", github.get(True))  # PyYAML reads the key `on` as a boolean
    assert set(triggers) == {"pull_request", "push", "workflow_dispatch", "schedule"}
    assert triggers["push"]["branches"] == ["main"]
    jobs = github["jobs"]
    assert set(jobs) == {"plan", "apply-staging", "promote-production", "drift"}
    assert "pull_request" in jobs["plan"]["if"]
    assert jobs["plan"]["permissions"]["pull-requests"] == "write"
    # The action keeps one comment up to date (tests/e2e/test_action.py runs it).
    plan = next(s for s in jobs["plan"]["steps"] if s.get("id") == "plan")
    assert is_action_step(plan) and plan["with"]["comment"] is True
    upload = next(s for s in jobs["plan"]["steps"] if "upload-artifact" in s.get("uses", ""))
    assert upload["with"]["path"] == "${{ steps.plan.outputs.plan-file }}"
    assert "'push'" in jobs["apply-staging"]["if"]
    assert "workflow_dispatch" in jobs["promote-production"]["if"]
    assert jobs["promote-production"]["environment"] == "production"
    assert "schedule" in jobs["drift"]["if"]


def test_the_pull_request_jobs_hold_the_staging_key_and_nothing_more(
        github: dict[str, Any], gitlab: dict[str, Any]) -> None:
    """What the pull request's plan runs with: the staging key, no production key, and (on
    GitLab, where variables are per job) no token for the merge request note."""
    assert github["jobs"]["plan"]["env"] == {
        "OPERATOR_API_KEY_STAGING": "${{ secrets.OPERATOR_API_KEY_STAGING }}"}
    plan_script = gitlab["plan"]["script"][0]
    assert plan_script.startswith("env -u GITLAB_API_TOKEN operator-iac plan ")


def test_github_workflow_runs_real_commands(github: dict[str, Any]) -> None:
    runs = github_runs(github)
    commands = {name: [parse_invocation(call) for call in calls]
                for name, calls in runs.items()}
    named = {job: [c.info_name for c in contexts] for job, contexts in commands.items()}
    assert named == {"plan": ["validate", "plan"], "apply-staging": ["validate", "apply"],
                     "promote-production": ["promote"], "drift": ["status"]}
    plan = commands["plan"][1].params
    assert plan["fmt"] == "markdown" and plan["detailed_exitcode"] and plan["env"] == "staging"
    assert commands["apply-staging"][1].params["yes"]
    promote = commands["promote-production"][0].params
    assert (promote["source"], promote["destination"], promote["yes"]) == (
        "staging", "production", True)


def test_github_jobs_provide_the_api_keys_the_project_file_names(
        github: dict[str, Any]) -> None:
    environments = project_environments()
    for name, contexts in github_runs(github).items():
        job_env = github["jobs"][name].get("env", {})
        for call in contexts:
            params = parse_invocation(call).params
            used = [v for k, v in params.items() if k in ("env", "source", "destination") and v]
            for environment in used:
                assert environment in environments, (name, environment)
                variable = environments[environment].get("api_key_env", "OPERATOR_API_KEY")
                assert variable in job_env, (name, variable)
                assert job_env[variable] == f"${{{{ secrets.{variable} }}}}"


# ---- GitLab CI -------------------------------------------------------------------------------


def test_gitlab_pipeline_stages_rules_and_commands(gitlab: dict[str, Any]) -> None:
    runs = gitlab_runs(gitlab)
    assert set(runs) == {"validate", "plan", "apply-staging", "promote-production",
                         "drift-check"}
    for name in runs:
        assert gitlab[name]["stage"] in gitlab["stages"], name
    assert "merge_request_event" in gitlab["plan"]["rules"][0]["if"]
    assert "plan.json" in gitlab["plan"]["artifacts"]["paths"]
    promote_rule = gitlab["promote-production"]["rules"][0]
    assert promote_rule["when"] == "manual"
    assert gitlab["promote-production"]["environment"]["name"] == "production"
    assert "schedule" in gitlab["drift-check"]["rules"][0]["if"]
    named = {job: [parse_invocation(call).info_name for call in calls]
             for job, calls in runs.items()}
    assert named == {"validate": ["validate"], "plan": ["plan"], "apply-staging": ["apply"],
                     "promote-production": ["promote"], "drift-check": ["status"]}
    assert parse_invocation(runs["promote-production"][0]).params["yes"]
    # Installed from the repository at a pinned ref, not from a package index.
    assert any('"operator-iac @ git+${OPERATOR_IAC_REPOSITORY}@${OPERATOR_IAC_REF}"' in line
               for line in gitlab["default"]["before_script"])
    assert gitlab["variables"]["OPERATOR_IAC_REPOSITORY"].endswith("/operator-iac.git")


class _FakeGitLab:
    """Merge request notes on a loopback HTTP server, the way GitLab's API serves them."""

    def __init__(self, notes: list[dict[str, Any]]) -> None:
        import http.server
        import json
        import threading

        self.notes, self.calls = notes, []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                outer.calls.append(("GET", self.path, self.headers["PRIVATE-TOKEN"]))
                self._answer(outer.notes)

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.calls.append(("POST", self.path, self.headers["PRIVATE-TOKEN"]))
                outer.notes.append({"id": 100 + len(outer.notes), **body})
                self._answer(outer.notes[-1])

            def do_PUT(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.calls.append(("PUT", self.path, self.headers["PRIVATE-TOKEN"]))
                note_id = int(self.path.rsplit("/", 1)[1])
                note = next(n for n in outer.notes if n["id"] == note_id)
                note.update(body)
                self._answer(note)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/v4"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_gitlab_plan_note_is_posted_once_then_updated(gitlab: dict[str, Any],
                                                      tmp_path: Path) -> None:
    script = next(line for line in gitlab["plan"]["script"]
                  if "GITLAB_API_TOKEN" in line and "operator-iac plan" not in line)
    fake = _FakeGitLab([{"id": 5, "body": "LGTM"}])
    env = {**os.environ, "GITLAB_API_TOKEN": "glpat-test", "CI_API_V4_URL": fake.url,
           "CI_PROJECT_ID": "42", "CI_MERGE_REQUEST_IID": "7"}
    try:
        for report in ("### Plan: 1 to create\n", "### Plan: 0 to create\n"):
            (tmp_path / "plan.md").write_text(report, encoding="utf-8")
            done = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, text=True,
                                  capture_output=True, timeout=60, check=False)
            assert done.returncode == 0, done.stderr
    finally:
        fake.server.shutdown()
        fake.server.server_close()
    assert [n["body"] for n in fake.notes] == [
        "LGTM", "<!-- operator-iac: plan staging -->\n### Plan: 0 to create\n"]
    assert [c[0] for c in fake.calls] == ["GET", "POST", "GET", "PUT"]
    assert fake.calls[0][1] == "/api/v4/projects/42/merge_requests/7/notes?per_page=100&page=1"
    assert {c[2] for c in fake.calls} == {"glpat-test"}


# ---- annotations, job summaries, progress ----------------------------------------------------


@pytest.fixture
def broken_agent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project whose one agent file has an unknown key on line 3."""
    (tmp_path / "operator-iac.yaml").write_text("project: demo\n", encoding="utf-8")
    agents = tmp_path / "agents"
    agents.mkdir()
    (agents / "bot.yaml").write_text(
        "kind: conversational_agent\nname: Bot\nnmae: typo\nconfig:\n  runtime:\n"
        "    model: m\n    prompt: {text: Hi}\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return agents / "bot.yaml"


def test_validate_annotates_only_under_github_actions(
        cli: Callable[..., Any], broken_agent: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plain = cli("validate")
    assert plain.exit_code == 3 and "::error" not in plain.stdout + plain.stderr
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    annotated = cli("validate")
    assert annotated.exit_code == 3
    assert re.search(r"^::error file=agents/bot\.yaml,line=3,col=1::.*nmae", annotated.stdout,
                     re.MULTILINE), annotated.stdout
    as_json = cli("validate", "--format", "json")
    assert as_json.stdout.lstrip().startswith("{")  # stdout stays machine-readable
    assert "::error file=agents/bot.yaml,line=3" in as_json.stderr


@pytest.fixture
def step_summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "step-summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(path))
    return path


def test_plan_apply_and_status_reports_reach_the_job_summary(
        project: Callable[..., ProjectCopy], step_summary: Path) -> None:
    copy = project()
    assert copy.plan().exit_code == 0
    summary = step_summary.read_text(encoding="utf-8")
    assert "appointment-booking" in summary and "|" in summary  # the Markdown table
    assert copy.apply().exit_code == 0
    applied = step_summary.read_text(encoding="utf-8")[len(summary):]
    assert "appointment-booking" in applied
    assert copy.run("status").exit_code == 0
    assert len(step_summary.read_text(encoding="utf-8")) > len(summary) + len(applied)


def test_progress_is_plain_lines_off_a_terminal(
        project: Callable[..., ProjectCopy]) -> None:
    copy = project()
    result = copy.run("import", "--all", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines()[0] == f"Reading agents from {copy.emulator.url} ..."
    assert "\x1b" not in result.stderr and "\r" not in result.stderr


# ---- the release-promotion script ------------------------------------------------------------


@pytest.fixture
def two_platforms(emulator_factory: Callable[..., Any], tmp_path: Path,
                  monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any, Path]]:
    """Staging and production emulators, and a copy of the example project whose key
    variables hold their keys."""
    staging, production = emulator_factory(), emulator_factory()
    root = tmp_path / "project"
    root.mkdir()
    shutil.copy(REPO / "operator-iac.yaml", root / "operator-iac.yaml")
    shutil.copytree(REPO / "agents", root / "agents")
    environments = project_environments()
    monkeypatch.setenv(environments["staging"]["api_key_env"], staging.api_key)
    monkeypatch.setenv(environments["production"]["api_key_env"], production.api_key)
    monkeypatch.setenv("GIT_COMMIT", "0123456789abcdef")
    monkeypatch.chdir(root)
    yield staging, production, root


def run_script(root: Path, staging: Any, production: Any, *extra: str
               ) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(PROMOTE_SCRIPT), "--project-file",
               str(root / "operator-iac.yaml"), "--source-url", staging.url,
               "--destination-url", production.url, *extra]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False,
                          env=dict(os.environ), cwd=root)


def test_the_promotion_script_refuses_then_promotes_what_passed_in_staging(
        two_platforms: tuple[Any, Any, Path], cli: Callable[..., Any]) -> None:
    staging, production, root = two_platforms
    refused = run_script(root, staging, production)
    assert refused.returncode == 5, refused.stderr
    assert "not on staging: apply it to staging first" in refused.stderr

    applied = cli("--project-file", str(root / "operator-iac.yaml"), "--api-url", staging.url,
                  "--env", "staging", "apply", "--yes")
    assert applied.exit_code == 0, applied.stderr + applied.stdout
    checked = run_script(root, staging, production, "--check-only")
    assert checked.returncode == 0, checked.stderr
    assert "Check passed" in checked.stderr

    promoted = run_script(root, staging, production)
    assert promoted.returncode == 0, promoted.stderr
    assert "Apply complete: 4 applied" in promoted.stdout
    assert "smoke tests passed on released" in promoted.stderr
    again = run_script(root, staging, production)
    assert again.returncode == 0 and "Nothing to promote" in again.stderr
