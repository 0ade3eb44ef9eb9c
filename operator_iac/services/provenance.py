"""Provenance: the commit a run's declarations come from, as markers, plans, history and
status name it.

CI systems name the commit being built; a plain checkout asks git. When the agents directory
or the project file has changes that are not committed (modified, added or untracked files),
the commit is ``<sha>+dirty``: the content written is not what that commit holds, and one
commit must never name two contents in ``history``. Outside git nothing can be said about
changes, and the commit is the CI's or none.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from operator_iac.plan.marker import DIRTY

COMMIT_VARIABLES = ("GITHUB_SHA", "CI_COMMIT_SHA", "BUILD_VCS_NUMBER", "GIT_COMMIT")
COMMIT_LENGTH = 12
GIT_TIMEOUT_S = 10


def current_commit(root: Path, environ: Mapping[str, str] | None = None, *,
                   paths: Sequence[Path] = ()) -> str | None:
    """The commit the declarations come from, short, with ``+dirty`` when any of ``paths``
    (the agents directory, the project file) has uncommitted changes; None outside git
    and CI."""
    environ = os.environ if environ is None else environ
    named = next((environ[name] for name in COMMIT_VARIABLES if environ.get(name)), None)
    sha = named or _git(root, "rev-parse", "HEAD")
    if not sha:
        return None
    commit = sha.strip()[:COMMIT_LENGTH]
    return commit + DIRTY if paths and uncommitted(root, paths) else commit


def uncommitted(root: Path, paths: Sequence[Path]) -> bool:
    """Whether git sees changes under ``paths`` that are not committed (untracked files
    included, ignored ones not); False outside a git working tree."""
    status = _git(root, "status", "--porcelain", "--untracked-files=all", "--",
                  *(str(p) for p in paths))
    return bool(status and status.strip())


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True,
                              timeout=GIT_TIMEOUT_S, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None
