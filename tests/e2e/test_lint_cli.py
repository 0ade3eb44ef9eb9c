"""``operator-iac lint`` through the real CLI: a pull request adding a phone number to a prompt
and a model production does not allow gets two findings at their file and line, a failing
exit code and GitHub annotations, with no network connection at all (the environments point
at a closed loopback port and at a host that cannot resolve, and every socket is refused)."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from operator_iac.lint.catalog import RULES

REPO = Path(__file__).resolve().parents[2]
Cli = Callable[..., Any]

AGENT = """\
kind: conversational_agent
name: Front desk
description: Answers the phone for the clinic.
config:
  personas: [{name: Amanda}]
  runtime:
    model: openai/gpt-4o-mini
    prompt: {file: prompts/front-desk.md}
smoke:
  - name: greets
    turns:
      - expect: [{agent_says: {contains: Amanda}}]
"""
PROMPT = """\
You are Amanda, the receptionist of a dental clinic.
Greet the caller and say that you are the clinic's virtual assistant.
If the caller wants a person, tell them to call +1 415 555 0100.
"""


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "agents" / "prompts").mkdir(parents=True)
    (tmp_path / "operator-iac.yaml").write_text(
        "project: clinic\n"
        "environments:\n"
        "  staging:\n"
        f"    api_url: http://127.0.0.1:{_closed_port()}\n"
        "  production:\n"
        "    api_url: https://api.operator.invalid\n"
        "    lint:\n"
        "      allowed_models: [openai/gpt-4o]\n", encoding="utf-8")
    (tmp_path / "agents" / "front-desk.yaml").write_text(AGENT, encoding="utf-8")
    (tmp_path / "agents" / "prompts" / "front-desk.md").write_text(PROMPT, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    for name in ("OPERATOR_API_KEY", "OPERATOR_IAC_ENV", "OPERATOR_IAC_API_URL"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every attempt to resolve a name or open a connection is recorded and refused."""
    attempts: list[str] = []

    def refuse(what: str) -> Callable[..., Any]:
        def refused(*args: Any, **kwargs: Any) -> Any:
            attempts.append(f"{what}{args[1:] if what == 'connect' else args}")
            raise OSError(f"lint must not use the network ({what})")
        return refused

    monkeypatch.setattr(socket.socket, "connect", refuse("connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", refuse("connect"))
    monkeypatch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
    monkeypatch.setattr(socket, "create_connection", refuse("create_connection"))
    return attempts


def test_a_phone_number_and_a_production_model_fail_the_check_offline(
        cli: Cli, project: Path, no_network: list[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    result = cli("lint")
    assert result.exit_code == 3, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    findings = [line for line in lines if not line.startswith("::")]
    assert findings == [
        "agents/front-desk.yaml:7:12: error OIC301 model 'openai/gpt-4o-mini' is not approved "
        "(lint.allowed_models: openai/gpt-4o) [production]",
        "agents/prompts/front-desk.md:3:49: warning OIC103 hard-coded phone number "
        "'+1 415 555 0100'; give it through ${var:NAME} or ${env:NAME}, or suppress it with "
        "a reason if it is a public number",
        "1 error, 1 warning in 2 files; 1 agent linted in staging, production"]
    annotations = [line for line in lines if line.startswith("::")]
    assert [re.sub(r"::.*", "", a[2:]) for a in annotations] == [
        "error file=agents/front-desk.yaml,line=7,col=12",
        "warning file=agents/prompts/front-desk.md,line=3,col=49"]
    assert no_network == []


def test_json_and_sarif_list_the_same_findings_and_suppressions(
        cli: Cli, project: Path, no_network: list[str]) -> None:
    prompt = project / "agents" / "prompts" / "front-desk.md"
    prompt.write_text(PROMPT.replace("0100.", "0100.  # operator-iac: ignore[OIC103] the "
                                               "clinic's public line"), encoding="utf-8")
    report = json.loads(cli("lint", "--format", "json").stdout)
    assert [(f["rule"], f["suppressed"]) for f in report["findings"]] == [
        ("OIC301", None), ("OIC103", {"reason": "the clinic's public line"})]
    assert report["ok"] is False
    staging = cli("lint", "--env", "staging", "--format", "sarif")
    assert staging.exit_code == 0
    results = json.loads(staging.stdout)["runs"][0]["results"]
    assert results == []  # suppressed findings stay out of code scanning
    assert "::" not in staging.stdout + staging.stderr
    assert no_network == []


def test_fail_on_warning_and_global_options(cli: Cli, project: Path) -> None:
    agent = project / "agents" / "front-desk.yaml"
    agent.write_text(AGENT.replace("gpt-4o-mini", "gpt-4o"), encoding="utf-8")
    assert cli("lint").exit_code == 0
    assert cli("lint", "--fail-on", "warning").exit_code == 3
    assert cli("--env", "production", "lint", "--fail-on", "warning").exit_code == 3
    unknown = cli("lint", "--env", "prod")
    assert unknown.exit_code == 3 and "did you mean 'production'?" in unknown.stderr


def test_the_installed_command_writes_sarif(project: Path) -> None:
    script = Path(sys.executable).parent / "operator-iac"
    environ = {k: v for k, v in os.environ.items()
               if not k.startswith(("OPERATOR_", "GITHUB_"))}
    done = subprocess.run([str(script), "lint", "--format", "sarif"], cwd=project, text=True,
                          capture_output=True, timeout=60, check=False, env=environ)
    assert done.returncode == 3, done.stderr
    log = json.loads(done.stdout)
    assert [r["ruleId"] for r in log["runs"][0]["results"]] == ["OIC301", "OIC103"]
    assert len(log["runs"][0]["tool"]["driver"]["rules"]) == len(RULES)


def test_the_repository_agents_and_examples_lint_without_errors(cli: Cli,
                                                                 monkeypatch: pytest.MonkeyPatch
                                                                 ) -> None:
    monkeypatch.chdir(REPO)
    examples = sorted(str(p.parent) for p in REPO.glob("examples/*/operator-iac.yaml"))
    for target in ([], *([e] for e in examples)):
        result = cli("lint", *target)
        assert result.exit_code == 0, result.stdout + result.stderr
