"""Honest provenance: a revision written from a working tree whose agents directory or project
file has uncommitted changes says ``commit=<sha>+dirty``, so one commit never names two
contents in ``history``; the plan, ``status`` and ``history`` show it, and ``promote`` warns.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from operator_iac.plan.marker import parse_marker
from operator_iac.services.provenance import COMMIT_VARIABLES

from .conftest import Platform, ProjectCopy
from .two_platforms import Environments, environments

__all__ = ["environments"]
KEY = "support-triage"


def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", "-c", "user.email=ci@example.invalid", "-c",
                           "user.name=CI", "-c", "commit.gpgsign=false", *args],
                          cwd=root, capture_output=True, text=True, check=True, timeout=30)
    return done.stdout.strip()


def committed(root: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Put the project under git with everything committed; the short HEAD."""
    for variable in COMMIT_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "agents")
    return git(root, "rev-parse", "--short=12", "HEAD")


def context_line(plan: str) -> str:
    """The plan's second line: project, environment, platform and commit."""
    return plan.splitlines()[1]


def released_commit(platform: Platform) -> str | None:
    marker = parse_marker(platform.released(platform.id_of(KEY)).description)
    assert marker is not None
    return marker.commit


def test_uncommitted_changes_make_the_commit_dirty_everywhere_it_is_shown(
        project: object, platform: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    copy: ProjectCopy = project()  # type: ignore[operator]
    head = committed(copy.root, monkeypatch)
    assert copy.apply().exit_code == 0
    assert released_commit(platform) == head

    copy.replace_in("support-triage.yaml", "Be friendly and brief.", "Be friendly and short.")
    plan = copy.plan()
    assert context_line(plan.stdout).endswith(f"commit {head}+dirty (uncommitted changes)")
    assert f"`{head}+dirty (uncommitted changes)`" in copy.plan("--format", "markdown").stdout
    assert copy.apply().exit_code == 0
    assert released_commit(platform) == f"{head}+dirty"

    history = copy.run("history", KEY)
    assert history.exit_code == 0
    assert f"{head}+dirty" in history.stdout and head in history.stdout.replace(
        f"{head}+dirty", "")
    status = copy.run("status")
    assert f"{head}+dirty" in status.stdout

    git(copy.root, "commit", "-q", "-am", "shorter")
    clean = git(copy.root, "rev-parse", "--short=12", "HEAD")
    again = copy.plan("--detailed-exitcode")
    assert again.exit_code == 0
    assert context_line(again.stdout).endswith(f"commit {clean}")


def test_an_untracked_agent_file_or_a_changed_project_file_counts(
        project: object, platform: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    copy: ProjectCopy = project()  # type: ignore[operator]
    head = committed(copy.root, monkeypatch)
    (copy.root / "notes.txt").write_text("outside the declarations\n", encoding="utf-8")
    assert context_line(copy.plan().stdout).endswith(f"commit {head}")
    copy.append_to_project_file("\n# a comment\n")
    assert f"commit {head}+dirty" in context_line(copy.plan().stdout)
    git(copy.root, "checkout", "--", "operator-iac.yaml")
    (copy.agents_dir / "prompts" / "draft.md").write_text("not committed\n", encoding="utf-8")
    assert f"commit {head}+dirty" in context_line(copy.plan().stdout)


def test_promote_warns_about_a_release_made_from_uncommitted_changes(
        environments: Environments, monkeypatch: pytest.MonkeyPatch) -> None:
    head = committed(environments.root, monkeypatch)
    environments.change_prompt()
    assert environments.apply_staging().exit_code == 0
    git(environments.root, "commit", "-q", "-am", "prompt")
    result = environments.promote("--yes")
    assert result.exit_code == 0, result.stderr
    assert (f"warning: appointment-booking: staging released it from uncommitted changes "
            f"(commit {head}+dirty)") in result.stderr
