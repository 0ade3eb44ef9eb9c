"""``operator-iac init`` through the real CLI: the new project validates (and its files satisfy
the JSON Schemas), applies with its smoke tests against an emulator, ships a CI workflow whose
steps are real commands, and nothing that exists is overwritten without --force."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from operator_iac import __version__
from operator_iac.spec.loader import load_yaml
from operator_iac.spec.schema import agent_file_schema, project_file_schema

from .action_harness import invocation_of, is_action_step
from .cli_lines import parse_invocation

FILES = ["operator-iac.yaml", "agents/front-desk.yaml", "agents/prompts/front-desk.md",
         "agents/conversation-summary.yaml", ".github/workflows/operator-iac.yml"]
EXTRAS = [".gitignore", ".schemas/agent.schema.json", ".schemas/project.schema.json"]


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_a_new_project_validates_and_applies_on_the_emulator(
        cli: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    made = cli("init", "My Agents")
    assert made.exit_code == 0, made.stderr
    root = tmp_path / "My Agents"
    assert _files(root) == sorted(FILES + EXTRAS)
    assert not (root / ".git").exists()  # no terminal, no --git: nothing asked, nothing run
    assert "Created the project my-agents in My Agents:" in made.stdout
    assert "cd My Agents" in made.stdout and "operator-iac --emulator apply --yes" in made.stdout
    assert yaml.safe_load((root / "operator-iac.yaml").read_text())["project"] == "my-agents"

    monkeypatch.chdir(root)
    assert cli("validate").exit_code == 0
    # The installed entry point, as a new user runs it.
    applied = subprocess.run([sys.executable, "-m", "operator_iac", "--emulator", "apply",
                              "--yes"], cwd=root, capture_output=True, text=True, timeout=120,
                             check=False)
    assert applied.returncode == 0, applied.stderr
    assert "Apply complete: 2 applied, 0 not applied." in applied.stdout
    assert "front-desk: smoke tests passed on released (1 passed)" in applied.stderr


def test_the_new_files_satisfy_the_json_schemas(cli: Callable[..., Any],
                                                tmp_path: Path) -> None:
    assert cli("init", str(tmp_path), "--ci", "none", "--no-schema").exit_code == 0
    agents = Draft202012Validator(agent_file_schema())
    for name in ("front-desk", "conversation-summary"):
        document = load_yaml(tmp_path / "agents" / f"{name}.yaml").data
        assert list(agents.iter_errors(document)) == [], name
    project = load_yaml(tmp_path / "operator-iac.yaml").data
    assert list(Draft202012Validator(project_file_schema()).iter_errors(project)) == []
    assert not (tmp_path / ".github").exists()


def test_nothing_is_overwritten_without_force(cli: Callable[..., Any], tmp_path: Path) -> None:
    assert cli("init", str(tmp_path)).exit_code == 0
    mine = tmp_path / "agents" / "front-desk.yaml"
    mine.write_text("kind: conversational_agent  # mine\n", encoding="utf-8")
    (tmp_path / "operator-iac.yaml").unlink()

    refused = cli("init", str(tmp_path))
    assert refused.exit_code == 3
    assert "front-desk.yaml" in refused.stderr and "pass --force" in refused.stderr
    assert mine.read_text(encoding="utf-8") == "kind: conversational_agent  # mine\n"
    assert not (tmp_path / "operator-iac.yaml").exists()  # nothing at all was written

    forced = cli("init", str(tmp_path), "--force")
    assert forced.exit_code == 0, forced.stderr
    assert "agents/front-desk.yaml  (overwritten)" in forced.stdout
    assert "operator-iac.yaml  (overwritten)" not in forced.stdout
    assert "name: Front desk" in mine.read_text(encoding="utf-8")


@pytest.mark.parametrize(("args", "message"), [
    (["--project", "two words"], "project name 'two words'"),
    (["--ci", "jenkins"], "jenkins"),
])
def test_bad_requests_exit_3(cli: Callable[..., Any], tmp_path: Path, args: list[str],
                             message: str) -> None:
    result = cli("init", str(tmp_path), *args)
    assert result.exit_code == 3
    assert message in result.stderr
    assert _files(tmp_path) == []


def test_the_workflow_runs_real_commands_with_the_keys_the_project_names(
        cli: Callable[..., Any], tmp_path: Path) -> None:
    root = tmp_path / "project"
    assert cli("init", str(root), "--project", "acme").exit_code == 0
    workflow = yaml.safe_load((root / ".github/workflows/operator-iac.yml").read_text())
    environments = yaml.safe_load((root / "operator-iac.yaml").read_text())["environments"]
    commands = {}
    for name, job in workflow["jobs"].items():
        steps = [s for s in job["steps"] if is_action_step(s)]
        assert all(s["uses"] == f"operator-xyz/operator-iac@v{__version__}" for s in steps)
        contexts = [parse_invocation(invocation_of(s, tmp_path / name / str(i)))
                    for i, s in enumerate(steps)]
        commands[name] = [c.info_name for c in contexts]
        for context in contexts:
            for key in ("env", "source", "destination"):
                environment = context.params.get(key)
                if environment:
                    variable = environments[environment]["api_key_env"]
                    assert job["env"][variable] == f"${{{{ secrets.{variable} }}}}"
    assert commands == {"review": ["validate", "plan"], "staging": ["apply"],
                        "production": ["promote"]}


def test_each_yaml_file_names_its_schema_for_editors(cli: Callable[..., Any],
                                                     tmp_path: Path) -> None:
    assert cli("init", str(tmp_path), "--ci", "none").exit_code == 0
    printed = {kind: json.loads(cli("schema", *([] if kind == "agent" else [kind])).stdout)
               for kind in ("agent", "project")}
    for relative, kind in (("operator-iac.yaml", "project"), ("agents/front-desk.yaml", "agent"),
                           ("agents/conversation-summary.yaml", "agent")):
        path = tmp_path / relative
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema="), relative
        schema_file = (path.parent / first.split("$schema=", 1)[1]).resolve()
        assert schema_file == (tmp_path / ".schemas" / f"{kind}.schema.json").resolve()
        assert json.loads(schema_file.read_text(encoding="utf-8")) == printed[kind]
        document = load_yaml(path).data
        assert list(Draft202012Validator(printed[kind]).iter_errors(document)) == [], relative
    assert cli("validate", str(tmp_path)).exit_code == 0


def test_an_existing_gitignore_gets_only_the_lines_it_lacks(cli: Callable[..., Any],
                                                            tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("node_modules/\n.venv/", encoding="utf-8")
    assert cli("init", str(tmp_path), "--ci", "none").exit_code == 0
    lines = (tmp_path / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert lines[:2] == ["node_modules/", ".venv/"]
    assert lines.count(".venv/") == 1 and ".env" in lines and "plan.json" in lines
    again = cli("init", str(tmp_path), "--ci", "none", "--force")
    assert again.exit_code == 0
    assert (tmp_path / ".gitignore").read_text(encoding="utf-8").splitlines() == lines
    assert ".gitignore" not in again.stdout  # it lacked nothing: not written, not listed


def test_no_extras_when_asked(cli: Callable[..., Any], tmp_path: Path) -> None:
    made = cli("init", str(tmp_path), "--no-gitignore", "--no-schema", "--no-git")
    assert made.exit_code == 0, made.stderr
    assert _files(tmp_path) == sorted(FILES)
    assert not (tmp_path / "operator-iac.yaml").read_text(encoding="utf-8").startswith(
        "# yaml-language-server")


@pytest.mark.skipif(shutil.which("git") is None,
                    reason="git is not installed, and this test runs `operator-iac init --git`, "
                           "which runs git init; install git to run it")
def test_git_init_on_request_and_never_inside_a_repository(cli: Callable[..., Any],
                                                           tmp_path: Path) -> None:
    made = cli("init", str(tmp_path / "repo"), "--git")
    assert made.exit_code == 0, made.stderr
    assert (tmp_path / "repo" / ".git").is_dir()
    assert "Initialised a git repository there (git init)." in made.stdout
    inner = cli("init", str(tmp_path / "repo" / "inner"), "--git")
    assert inner.exit_code == 0, inner.stderr
    assert not (tmp_path / "repo" / "inner" / ".git").exists()  # one repository already
    assert "git init" not in inner.stdout


def test_git_init_without_git_is_refused_before_anything_is_written(
        cli: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "no-programs"))
    made = cli("init", str(tmp_path / "repo"), "--git")
    assert made.exit_code == 3, made.stdout + made.stderr
    assert "git is not installed" in made.stderr and "--no-git" in made.stderr
    assert not (tmp_path / "repo").exists()
