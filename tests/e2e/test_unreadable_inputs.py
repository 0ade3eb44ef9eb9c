"""Inputs that cannot be read are errors that name them, never something quietly skipped:
agent files that are broken links, loops, directories, FIFOs or unreadable; prompt files that
are too big, not UTF-8 or outside the project; saved plans that are devices, FIFOs or huge.

``validate`` must refuse whatever ``plan`` refuses, and ``apply --prune`` must never delete an
agent because its file could not be read.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from operator_iac.services.plan import MAX_PLAN_FILE_BYTES

from .conftest import Platform, ProjectCopy

Project = Callable[..., ProjectCopy]
CANARY = "canary-outside-the-project-7f3a"


def unreadable(path: Path) -> None:
    """A file whose read fails even for root: a link to this process's memory map, which
    answers every read at offset 0 with an I/O error."""
    path.symlink_to("/proc/self/mem")


BREAKAGES: dict[str, Callable[[Path], None]] = {
    "broken symbolic link": lambda p: p.symlink_to(p.parent / "gone.yaml"),
    "symbolic link loop": lambda p: p.symlink_to(p),
    "directory": lambda p: p.mkdir(),
    "FIFO": lambda p: os.mkfifo(p),
    "unreadable file": unreadable,
}
MESSAGES = {
    "broken symbolic link": "agent file is a broken symbolic link",
    "symbolic link loop": "agent file is a symbolic link loop",
    "directory": "agent file is a directory, not a regular file",
    "FIFO": "agent file is a FIFO (named pipe), not a regular file",
    "unreadable file": "cannot read agent file",
}


# ---- agent files ---------------------------------------------------------------------------


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_an_agent_file_that_cannot_be_read_is_an_error_for_validate_and_plan(
        project: Project, breakage: str) -> None:
    copy = project()
    BREAKAGES[breakage](copy.agents_dir / "broken.yaml")
    validate = copy.run("validate")
    assert validate.exit_code == 3
    assert f"agents/broken.yaml:1:1: {MESSAGES[breakage]}" in validate.stdout
    plan = copy.plan()
    assert plan.exit_code == 3
    assert "agents/broken.yaml" in plan.stderr and MESSAGES[breakage] in plan.stderr


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_prune_never_deletes_an_agent_whose_file_cannot_be_read(
        applied: ProjectCopy, platform: Platform, breakage: str) -> None:
    agent_id = platform.id_of("support-triage")
    applied.remove_agent("support-triage")
    BREAKAGES[breakage](applied.agent_file("support-triage"))
    writes = len(platform.writes())
    result = applied.apply("--prune")
    assert result.exit_code == 3
    assert "agents/support-triage.yaml" in result.stderr
    assert len(platform.writes()) == writes
    assert agent_id in platform.agent_ids()


# ---- prompt files --------------------------------------------------------------------------

BAD_PROMPTS: dict[str, bytes] = {
    "too big": b"x" * (1024 * 1024 + 1),
    "not UTF-8": b"Summarise the call.\n\xff\xfe\n",
}


@pytest.mark.parametrize("problem", sorted(BAD_PROMPTS))
def test_validate_refuses_a_prompt_file_that_plan_refuses(
        project: Project, problem: str) -> None:
    copy = project()
    (copy.agents_dir / "prompts" / "call-summary.md").write_bytes(BAD_PROMPTS[problem])
    for args in (("validate",), ("validate", "agents/call-summary.yaml"), ("plan",)):
        result = copy.run(*args)
        assert result.exit_code == 3, args
        shown = result.stdout + result.stderr
        assert "agents/call-summary.yaml" in shown and "prompts/call-summary.md" in shown
    assert "1 error in 1 file" in copy.run("validate", "agents/call-summary.yaml").stdout


def _outside(copy: ProjectCopy) -> Path:
    secret = copy.root.parent / "outside.md"
    secret.write_text(f"{CANARY}\n", encoding="utf-8")
    return secret


PROMPT_ESCAPES: dict[str, Callable[[ProjectCopy], str]] = {
    "dot-dot": lambda copy: f"../../{_outside(copy).name}",
    "absolute": lambda copy: str(_outside(copy)),
    "symbolic link": lambda copy: (
        (copy.agents_dir / "prompts" / "linked.md").symlink_to(_outside(copy)),
        "prompts/linked.md")[1],
}


@pytest.mark.parametrize("escape", sorted(PROMPT_ESCAPES))
def test_a_prompt_path_that_leaves_the_project_is_refused_and_never_read(
        project: Project, escape: str) -> None:
    copy = project()
    named = PROMPT_ESCAPES[escape](copy)
    copy.replace_in("call-summary.yaml", "prompts/call-summary.md", named)
    for args in (("validate",), ("plan",), ("plan", "--format", "json")):
        result = copy.run(*args)
        assert result.exit_code == 3, args
        assert CANARY not in result.stdout + result.stderr
        assert "agents/call-summary.yaml:12" in result.stdout + result.stderr


def test_a_prompt_file_beside_the_agents_directory_stays_allowed(project: Project) -> None:
    copy = project()
    (copy.root / "shared").mkdir()
    os.replace(copy.agents_dir / "prompts" / "call-summary.md",
               copy.root / "shared" / "call-summary.md")
    copy.replace_in("call-summary.yaml", "prompts/call-summary.md", "../shared/call-summary.md")
    assert copy.run("validate").exit_code == 0
    assert copy.plan().exit_code == 0


def test_validate_reads_the_prompt_file_an_override_names(project: Project) -> None:
    copy = project()
    (copy.agents_dir / "prompts" / "summary-prod.md").write_bytes(BAD_PROMPTS["not UTF-8"])
    copy.append_to_project_file(
        "      call-summary:\n"
        "        config: {runtime: {prompt: {type: fixed, file: prompts/summary-prod.md}}}\n")
    result = copy.run("validate")
    assert result.exit_code == 3
    assert "operator-iac.yaml" in result.stdout and "with override" in result.stdout
    assert "prompts/summary-prod.md" in result.stdout


# ---- saved plan files ----------------------------------------------------------------------


def _fifo(copy: ProjectCopy) -> str:
    path = copy.root / "plan.fifo"
    os.mkfifo(path)
    return str(path)


def _huge(copy: ProjectCopy) -> str:
    path = copy.root / "huge.json"
    with path.open("wb") as handle:
        handle.truncate(MAX_PLAN_FILE_BYTES + 1)  # sparse: no disk space used
    return str(path)


PLAN_FILES: dict[str, tuple[Callable[[ProjectCopy], str], str]] = {
    "/dev/zero": (lambda _copy: "/dev/zero", "plan file is a device, not a regular file"),
    "/dev/urandom": (lambda _copy: "/dev/urandom", "plan file is a device, not a regular file"),
    "FIFO": (_fifo, "plan file is a FIFO (named pipe), not a regular file"),
    "huge": (_huge, "plan file is larger than 64 MiB"),
}


@pytest.mark.parametrize("kind", sorted(PLAN_FILES))
def test_a_plan_file_that_is_no_plan_is_refused_at_once(
        project: Project, platform: Platform, kind: str) -> None:
    """Through the installed entry point: a hang or a memory error would show as a timeout
    or another exit code."""
    copy = project()
    make, message = PLAN_FILES[kind]
    path = make(copy)
    done = subprocess.run(
        copy.command("apply", path),
        capture_output=True, text=True, timeout=30, cwd=copy.root)
    assert done.returncode == 3, done.stderr
    assert f"error: {path}: {message}" in done.stderr
    assert platform.agent_ids() == []


def test_validate_refuses_a_project_name_that_plan_cannot_write_into_markers(
        project: Project) -> None:
    copy = project()
    text = copy.project_file.read_text(encoding="utf-8")
    copy.project_file.write_text(text.replace("project: acme-support", "project: acme support"),
                                 encoding="utf-8")
    for args in (("validate",), ("plan",)):
        result = copy.run(*args)
        assert result.exit_code == 3, args
        assert "'acme support' cannot be written into the ownership marker" in \
            result.stdout + result.stderr
