"""A command loads what its work needs: the plan of an unchanged project, through the real
entry point, loads neither httpx's own command-line client (rich, pygments) nor deepdiff
(nothing differs), nor the chat session and event stream (no conversation is run), nor the
Markdown renderer (the plan is shown as text and no step summary is asked for)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

from .conftest import ProjectCopy

Project = Callable[..., ProjectCopy]


def imported_by(command: list[str], cwd: Path) -> set[str]:
    """The modules a run of ``command`` imported, from the interpreter's own import log."""
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    env.pop("GITHUB_STEP_SUMMARY", None)  # no step summary is asked for
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines()
            if line.startswith("import time:") and "cumulative" not in line}


def test_the_plan_of_an_unchanged_project_loads_only_what_it_needs(project: Project) -> None:
    copy = project()
    assert copy.apply().exit_code == 0
    loaded = imported_by(copy.command("plan", "--detailed-exitcode"), copy.root)

    assert "operator_iac.plan.builder" in loaded  # the log is the plan's
    unneeded = {"rich", "pygments", "deepdiff", "websockets", "operator_iac.api.session",
                "operator_iac.api.event_stream", "operator_iac.render.plan_markdown"}
    assert not unneeded & loaded, sorted(unneeded & loaded)
