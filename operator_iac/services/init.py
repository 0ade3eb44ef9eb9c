"""``init`` as a service: a new project in a folder, from the files under ``init_files``.

What it writes, relative to the folder::

    operator-iac.yaml                     staging, and production that only receives promotions
    agents/front-desk.yaml                a conversational agent with a smoke test
    agents/prompts/front-desk.md          its prompt
    agents/conversation-summary.yaml      a procedural agent run after each conversation
    .github/workflows/operator-iac.yml    plan on pull requests, apply on main, promote (ci=github)

The result validates and passes ``operator-iac --emulator apply --yes`` as it is. Nothing is
written when any of these files exists already, unless ``force``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from operator_iac import __version__
from operator_iac.errors import UsageError
from operator_iac.services.files import refuse_existing, write_text_files

# Where the operator-iac action lives (action.yml at the repository's root).
ACTION_REPOSITORY = "operator-xyz/operator-iac"
CI_CHOICES = ("github", "none")
DEFAULT_PROJECT = "my-agents"
_AGENT_FILES = {
    "operator-iac.yaml": "operator-iac.yaml",
    "agents/front-desk.yaml": "agents/front-desk.yaml",
    "agents/prompts/front-desk.md": "agents/prompts/front-desk.md",
    "agents/conversation-summary.yaml": "agents/conversation-summary.yaml",
}
_CI_FILES = {"github": {".github/workflows/operator-iac.yml": "ci/github.yml"}}


@dataclass(frozen=True)
class InitRequest:
    """Where the project goes, its name (default: from the folder's name), which CI workflow
    to add, and whether files in the way are overwritten."""

    folder: Path
    project: str | None = None
    ci: str = "github"
    force: bool = False


@dataclass(frozen=True)
class InitResult:
    folder: Path
    project: str
    written: tuple[Path, ...]
    overwritten: tuple[Path, ...] = ()


def init_project(request: InitRequest) -> InitResult:
    """Write the new project (see the module docstring)."""
    if request.ci not in CI_CHOICES:
        raise UsageError(f"--ci: choose one of {', '.join(CI_CHOICES)}")
    if request.folder.exists() and not request.folder.is_dir():
        raise UsageError(f"{request.folder}: not a folder")
    project = request.project or project_name(request.folder)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", project):
        raise UsageError(f"project name {project!r}: use letters, digits, '.', '_' and '-', "
                         "starting with a letter or digit")
    files = {request.folder / relative: text
             for relative, text in project_files(project, request.ci).items()}
    existing = tuple(path for path in files if path.exists())
    if not request.force:
        refuse_existing(files)
    write_text_files(files.items())
    return InitResult(request.folder, project, tuple(files), existing)


def project_files(project: str, ci: str = "github") -> dict[str, str]:
    """Relative path -> text of every file of a new project named ``project``."""
    sources = {**_AGENT_FILES, **_CI_FILES.get(ci, {})}
    action = f"{ACTION_REPOSITORY}@v{__version__}"
    return {relative: _template(source).replace("__PROJECT__", project)
            .replace("__ACTION_REF__", action)
            for relative, source in sources.items()}


def project_name(folder: Path) -> str:
    """A project name from the folder's name: ``My Agents`` -> ``my-agents``."""
    name = folder.resolve().name.lower()
    slug = re.sub(r"[^a-z0-9._-]+", "-", name).strip("-._")
    return slug or DEFAULT_PROJECT


def _template(relative: str) -> str:
    return (resources.files("operator_iac.services") / "init_files" / relative).read_text(
        encoding="utf-8")
