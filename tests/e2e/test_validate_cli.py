"""``operator-iac validate`` and ``operator-iac schema`` through the real CLI."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from operator_iac.spec.loader import load_yaml

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p.parent for p in REPO.glob("examples/*/operator-iac.yaml"))

GOOD_AGENT = """\
kind: conversational_agent
name: Front desk
config:
  personas: [{name: Amanda}]
  runtime:
    model: openai/gpt-4o-mini
    prompt: {type: fixed, text: "You are Amanda."}
  tool:
    transfers: [{entity_id: "${var:queue}"}]
"""
BAD_AGENT = """\
kind: conversational_agent
name: Broken
config:
  runtime:
    model: openai/gpt-4o-mini
    promt: {type: fixed, text: Hi}
postprocess_agents: [summary]
"""
PROJECT = "project: demo\nenvironments:\n  staging:\n    vars: {queue: '+15550100'}\n"

Cli = Callable[..., Any]
Write = Callable[[dict[str, str | bytes]], Path]


@pytest.fixture
def write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Write:
    """Write files (relative path -> text) into tmp_path and make it the working directory."""
    monkeypatch.chdir(tmp_path)

    def make(files: dict[str, str | bytes]) -> Path:
        for name, content in files.items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(textwrap.dedent(content), encoding="utf-8")
        return tmp_path

    return make


def test_repo_agents_are_valid(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    result = cli("validate")
    assert result.exit_code == 0, result.stdout
    assert re.fullmatch(r"\d+ agents valid", result.stdout.strip())


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_every_example_project_is_valid(cli: Cli, example: Path) -> None:
    result = cli("validate", str(example))
    assert result.exit_code == 0, result.stdout
    assert result.stdout.strip().endswith("valid")


def test_errors_are_listed_with_file_line_and_a_summary(cli: Cli, write: Write) -> None:
    write({"operator-iac.yaml": PROJECT, "agents/good.yaml": GOOD_AGENT,
           "agents/broken.yaml": BAD_AGENT, "agents/tabs.yaml": "name: x\n\tconfig: {}\n"})
    result = cli("validate")
    assert result.exit_code == 3
    lines = result.stdout.strip().splitlines()
    assert lines == [
        "agents/broken.yaml:4:3: missing required key 'prompt' in config.runtime",
        "agents/broken.yaml:6:5: unknown key 'promt' in config.runtime; did you mean 'prompt'? "
        "(known keys: model, prompt, variables)",
        "agents/tabs.yaml:2:1: tab character in indentation; YAML indents with spaces only",
        "3 errors in 2 files",
    ]
    assert "Traceback" not in result.stderr


def test_json_format(cli: Cli, write: Write) -> None:
    write({"operator-iac.yaml": PROJECT, "agents/good.yaml": GOOD_AGENT,
           "agents/ref.yaml": GOOD_AGENT + "postprocess_agents: [summary]\n"})
    result = cli("validate", "--format", "json")
    assert result.exit_code == 3
    report = json.loads(result.stdout)
    assert report["valid"] is False
    assert report["summary"] == {"files": 2, "valid_agents": 1, "errors": 1, "warnings": 0}
    assert report["diagnostics"] == [{
        "file": "agents/ref.yaml", "line": 10, "column": 22, "severity": "error",
        "message": "postprocess_agents entry 'summary' is not a declared agent"}]


def test_warnings_alone_exit_zero(cli: Cli, write: Write) -> None:
    agent = GOOD_AGENT.replace("  tool:", "    variables: [{name: who}]\n  tool:")
    write({"operator-iac.yaml": PROJECT, "agents/a.yaml": agent})
    result = cli("validate")
    assert result.exit_code == 0
    assert "agents/a.yaml:8:24: warning: variable 'who' has no default_value" in result.stdout
    assert result.stdout.strip().endswith("1 agent valid, 1 warning")


def test_paths_without_a_project_file_skip_environment_checks(cli: Cli, write: Write) -> None:
    write({"agents/a.yaml": GOOD_AGENT})
    result = cli("validate", "agents")
    assert result.exit_code == 0, result.stdout
    assert result.stdout.strip() == "1 agent valid"


def test_a_loose_file_resolves_references_against_its_project(cli: Cli, write: Write) -> None:
    summary = "kind: procedural_agent\nname: S\nconfig:\n  runtime: {model: m, prompt: {text: x}}\n"
    write({"operator-iac.yaml": PROJECT, "agents/summary.yaml": summary,
           "agents/ref.yaml": GOOD_AGENT + "postprocess_agents: [summary]\n",
           "agents/other.yaml": "broken: [\n"})
    result = cli("validate", "agents/ref.yaml")
    assert result.exit_code == 0, result.stdout  # other.yaml's problem is not reported here
    assert result.stdout.strip() == "1 agent valid"


def test_environment_vars_are_checked_with_a_project(cli: Cli, write: Write) -> None:
    write({"operator-iac.yaml": PROJECT.replace("queue", "desk"), "agents/a.yaml": GOOD_AGENT})
    result = cli("validate")
    assert result.exit_code == 3
    assert "agents/a.yaml:9:29: ${var:queue} has no value in the vars of environment staging" \
        in result.stdout


def test_non_yaml_files_in_a_directory_are_ignored_but_named_ones_are_errors(
        cli: Cli, write: Write) -> None:
    write({"agents/a.yaml": GOOD_AGENT, "agents/notes.md": "# notes", "agents/x.json": "{"})
    assert cli("validate", "agents").stdout.strip() == "1 agent valid"
    result = cli("validate", "agents/x.json")
    assert result.exit_code == 3
    assert "agents/x.json:1:1: not an agent file: agent files end in .yaml or .yml" \
        in result.stdout


@pytest.mark.parametrize(("content", "line", "message"), [
    (b"", 1, "file is empty"),
    (b"name: caf\xe9\n", 1, "not valid UTF-8"),
    (b"a: 1\na: 2\n", 2, "duplicate key 'a'"),
    (b"kind: [\n", 2, "invalid YAML"),
])
def test_bad_files_exit_3_with_file_and_line(cli: Cli, write: Write, content: bytes, line: int,
                                             message: str) -> None:
    write({"agents/bad.yaml": content})
    result = cli("validate", "agents/bad.yaml")
    assert result.exit_code == 3
    assert result.stdout.startswith(f"agents/bad.yaml:{line}:")
    assert message in result.stdout


def test_a_10_mb_agent_file_is_handled(cli: Cli, write: Write) -> None:
    write({"agents/huge.yaml": "description: " + "x" * (10 * 1024 * 1024) + "\n"})
    result = cli("validate", "agents")
    assert result.exit_code == 3
    assert result.stdout.startswith("agents/huge.yaml:1:1: agent file is larger than")


def test_no_project_and_no_paths_is_a_clear_error(cli: Cli, write: Write) -> None:
    write({"notes.txt": "nothing here"})
    result = cli("validate")
    assert result.exit_code == 3
    assert result.stderr.startswith("error: no operator-iac.yaml found in")


def test_invalid_project_file_is_reported_with_its_line(cli: Cli, write: Write) -> None:
    write({"operator-iac.yaml": "project: demo\nagents_dri: agents\n"})
    result = cli("validate")
    assert result.exit_code == 3
    assert result.stdout.startswith("operator-iac.yaml:2:1: unknown key 'agents_dri'")


def test_missing_agents_dir_is_reported_at_the_project_file(cli: Cli, write: Write) -> None:
    write({"operator-iac.yaml": "project: demo\nagents_dir: bots\n"})
    result = cli("validate")
    assert result.exit_code == 3
    assert result.stdout.startswith("operator-iac.yaml:2:13: agents directory 'bots' does not "
                                    "exist (relative to ")


def test_project_file_option_is_used(cli: Cli, write: Write) -> None:
    write({"conf/project.yaml": "project: demo\nagents_dir: ../bots\n", "bots/a.yaml": GOOD_AGENT})
    result = cli("--project-file", "conf/project.yaml", "validate")
    assert result.exit_code == 0, result.stdout
    assert result.stdout.strip() == "1 agent valid"


def test_a_named_project_file_that_is_missing_is_an_error_with_paths_too(
        cli: Cli, write: Write) -> None:
    write({"agents/a.yaml": GOOD_AGENT})
    result = cli("--project-file", "nope.yaml", "validate", "agents/a.yaml")
    assert result.exit_code == 3
    assert result.stderr.startswith("error: nope.yaml: project file not found")


def test_github_actions_annotations(cli: Cli, write: Write,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    write({"agents/bad.yaml": "a: 1\na: 2\n"})
    result = cli("validate", "agents")
    assert ("::error file=agents/bad.yaml,line=2,col=1::duplicate key 'a' (first defined at "
            "line 1, column 1)") in result.stdout.splitlines()


def test_schema_command_output_validates_the_examples(cli: Cli) -> None:
    result = cli("schema")
    assert result.exit_code == 0
    validator = Draft202012Validator(json.loads(result.stdout))
    files = [*REPO.glob("agents/*.yaml"), *REPO.glob("examples/*/agents/*.yaml")]
    assert len(files) >= 5
    for path in files:
        assert list(validator.iter_errors(load_yaml(path).data)) == [], path


def test_schema_of_the_project_file(cli: Cli) -> None:
    schema = json.loads(cli("schema", "project").stdout)
    validator = Draft202012Validator(schema)
    assert validator.is_valid(load_yaml(REPO / "operator-iac.yaml").data)
    assert not validator.is_valid({"project": "x", "environments": {"s": {"api_url": 1}}})


@pytest.mark.parametrize("command", ["validate", "schema"])
def test_help_has_examples(cli: Cli, command: str) -> None:
    result = cli(command, "--help")
    assert result.exit_code == 0
    assert "Examples:\n" in result.stdout
    assert f"  operator-iac {command}" in result.stdout


def test_installed_entry_point_runs_validate() -> None:
    ok = subprocess.run([sys.executable, "-m", "operator_iac", "validate", str(REPO / "agents")],
                        capture_output=True, text=True, timeout=60, cwd=REPO)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert re.fullmatch(r"\d+ agents valid", ok.stdout.strip())


def test_entry_point_exits_3_without_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("kind: [\n", encoding="utf-8")
    bad = subprocess.run([sys.executable, "-m", "operator_iac", "validate", "bad.yaml"],
                         capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert bad.returncode == 3
    assert bad.stdout.startswith("bad.yaml:2:1: invalid YAML")
    assert "Traceback" not in bad.stderr
