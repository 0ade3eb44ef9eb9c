"""The pre-commit hooks (``.pre-commit-hooks.yaml``): each hook's ``files`` pattern picks agent,
prompt, fragment and project files and nothing else, and its ``entry`` run as pre-commit runs
it (the matching files appended unless ``pass_filenames: false``) passes a good project and
fails a bad file, naming it, also when only a prompt file changed."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
HOOKS: list[dict[str, Any]] = yaml.safe_load(
    (REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
BY_ID = {hook["id"]: hook for hook in HOOKS}
CHANGED = ["operator-iac.yaml", "agents/support-triage.yaml", "agents/prompts/booking.md",
           "agents/fragments/tone.yaml", "README.md", ".github/workflows/ci.yml",
           "agents/support/billing.yml"]


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copy(REPO / "operator-iac.yaml", root / "operator-iac.yaml")
    shutil.copytree(REPO / "agents", root / "agents")
    return root


def _run_hook(hook: dict[str, Any], root: Path,
              files: list[str]) -> subprocess.CompletedProcess[str]:
    """The hook's entry with the installed operator-iac, as pre-commit calls it in ``root``."""
    pattern = re.compile(hook["files"])
    matching = [f for f in files if pattern.search(f)]
    entry = shlex.split(hook["entry"])
    assert entry[0] == "operator-iac"
    command = [str(Path(sys.executable).parent / "operator-iac"), *entry[1:]]
    if hook.get("pass_filenames", True):
        command += matching
    return subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=60,
                          check=False)


def test_the_hooks_are_python_hooks_running_validate_or_lint() -> None:
    assert set(BY_ID) == {"operator-iac-validate", "operator-iac-validate-project",
                          "operator-iac-lint"}
    for hook in HOOKS:
        assert hook["language"] == "python"  # pre-commit installs this repository
        command = "lint" if hook["id"] == "operator-iac-lint" else "validate"
        assert shlex.split(hook["entry"]) == ["operator-iac", command]
        assert hook["name"] and hook["description"]


@pytest.mark.parametrize(("hook_id", "picked"), [
    ("operator-iac-validate", ["operator-iac.yaml", "agents/support-triage.yaml",
                               "agents/prompts/booking.md", "agents/fragments/tone.yaml",
                               "agents/support/billing.yml"]),
    ("operator-iac-validate-project", ["operator-iac.yaml", "agents/support-triage.yaml",
                                       "agents/prompts/booking.md",
                                       "agents/fragments/tone.yaml",
                                       "agents/support/billing.yml"]),
    ("operator-iac-lint", ["operator-iac.yaml", "agents/support-triage.yaml",
                           "agents/prompts/booking.md", "agents/fragments/tone.yaml",
                           "agents/support/billing.yml"]),
])
def test_the_files_patterns_pick_project_and_agent_files(hook_id: str,
                                                         picked: list[str]) -> None:
    pattern = re.compile(BY_ID[hook_id]["files"])
    assert [f for f in CHANGED if pattern.search(f)] == picked


@pytest.mark.parametrize("hook_id", sorted(BY_ID))
def test_each_hook_passes_a_good_project_and_fails_a_bad_file(hook_id: str,
                                                              tmp_path: Path) -> None:
    root = _project(tmp_path)
    changed = ["operator-iac.yaml", "agents/support-triage.yaml", "README.md"]
    good = _run_hook(BY_ID[hook_id], root, changed)
    assert good.returncode == 0, good.stdout + good.stderr
    assert ("agents linted" if hook_id == "operator-iac-lint" else "agents valid") in good.stdout

    triage = root / "agents" / "support-triage.yaml"
    triage.write_text(triage.read_text(encoding="utf-8").replace("\nconfig:", "\nconfgi:", 1),
                      encoding="utf-8")
    bad = _run_hook(BY_ID[hook_id], root, changed)
    assert bad.returncode == 3
    assert re.search(r"agents/support-triage\.yaml:\d+:\d+: .*confgi", bad.stdout), bad.stdout


def test_the_lint_hook_fails_a_commit_adding_a_secret_to_a_prompt(tmp_path: Path) -> None:
    root = _project(tmp_path)
    prompt = root / "agents" / "prompts" / "appointment-booking.md"
    prompt.write_text(prompt.read_text(encoding="utf-8") + "\nThe key is AKIAIOSFODNN7EXAMPLE.\n",
                      encoding="utf-8")
    bad = _run_hook(BY_ID["operator-iac-lint"], root, ["agents/prompts/appointment-booking.md"])
    assert bad.returncode == 3
    assert re.search(r"agents/prompts/appointment-booking\.md:\d+:12: error OIC101", bad.stdout)


@pytest.mark.parametrize("hook_id", sorted(BY_ID))
def test_a_prompt_only_change_is_checked_through_its_agent(hook_id: str,
                                                           tmp_path: Path) -> None:
    root = _project(tmp_path)
    prompt = root / "agents" / "prompts" / "appointment-booking.md"
    changed = ["agents/prompts/appointment-booking.md"]
    good = _run_hook(BY_ID[hook_id], root, changed)
    assert good.returncode == 0, good.stdout + good.stderr
    # lint may warn about a good project (its policies are not validity); validate may not.
    unwanted = " error " if hook_id == "operator-iac-lint" else "warning"
    assert unwanted not in good.stdout + good.stderr

    prompt.write_text(prompt.read_text(encoding="utf-8") + "\nUse @refund_everything.\n",
                      encoding="utf-8")
    bad = _run_hook(BY_ID[hook_id], root, changed)
    assert bad.returncode == 3
    assert re.search(r"agents/prompts/appointment-booking\.md:\d+:\d+: prompt references "
                     r"@refund_everything", bad.stdout), bad.stdout


def test_a_file_no_agent_reads_is_a_warning_not_a_failure(tmp_path: Path) -> None:
    root = _project(tmp_path)
    (root / "agents" / "prompts" / "unused.md").write_text("Use @nothing.\n", encoding="utf-8")
    done = _run_hook(BY_ID["operator-iac-validate"], root, ["agents/prompts/unused.md"])
    assert done.returncode == 0, done.stdout + done.stderr
    assert "agents/prompts/unused.md: warning: no agent file of the project reads this file" \
        in done.stdout
