"""``init`` as a service: a new project in a folder, from the files under ``init_files``.

What it writes, relative to the folder::

    operator-iac.yaml                     staging, and production that only receives promotions
    agents/front-desk.yaml                a conversational agent with a smoke test
    agents/prompts/front-desk.md          its prompt
    agents/conversation-summary.yaml      a procedural agent run after each conversation
    .github/workflows/operator-iac.yml    plan on pull requests, apply on main, promote (ci=github)
    .schemas/agent.schema.json            the JSON Schemas, for editors (schema); each YAML
    .schemas/project.schema.json          file then starts with a yaml-language-server modeline
    .gitignore                            virtual environments, saved plans, reports, .env

The result validates and passes ``operator-iac --emulator apply --yes`` as it is. Nothing is
written when any of these files exists already, unless ``force``; an existing ``.gitignore``
only gets the lines it lacks. With ``git``, ``git init`` runs in the folder afterwards
(unless it is inside a git work tree already).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from operator_iac import __version__
from operator_iac.errors import OperationError, UsageError
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
SCHEMA_FOLDER = ".schemas"
_MODELINE = "# yaml-language-server: $schema={}\n"
GITIGNORE = ".gitignore"
GITIGNORE_LINES = (
    "# operator-iac: written by `operator-iac init`",
    ".venv/",
    "__pycache__/",
    "# saved plans and reports belong to CI artifacts, not to the history",
    "plan.json",
    "plan.md",
    "*.junit.xml",
    "# API keys live in the environment, never in files",
    ".env",
)


@dataclass(frozen=True)
class InitRequest:
    """Where the project goes, its name (default: from the folder's name), which CI workflow
    to add, whether files in the way are overwritten, and the extras: a ``.gitignore``, the
    JSON Schemas with an editor modeline in each YAML file, and ``git init``."""

    folder: Path
    project: str | None = None
    ci: str = "github"
    force: bool = False
    gitignore: bool = True
    schema: bool = True
    git: bool = False


@dataclass(frozen=True)
class InitResult:
    """What ``init`` did: the files written (those that existed before among them), and
    whether a git repository was made."""

    folder: Path
    project: str
    written: tuple[Path, ...]
    overwritten: tuple[Path, ...] = ()
    git_initialised: bool = False


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
    if request.git and shutil.which("git") is None:
        raise UsageError("--git: git is not installed; install it, or pass --no-git")
    files = {request.folder / relative: text for relative, text in
             project_files(project, request.ci, schema=request.schema).items()}
    existing = tuple(path for path in files if path.exists())
    if not request.force:
        refuse_existing(files)
    if request.gitignore:
        ignore = request.folder / GITIGNORE
        current = ignore.read_text(encoding="utf-8") if ignore.is_file() else ""
        wanted = gitignore_text(current)
        if wanted != current:  # a .gitignore that lacks nothing is left alone, and not listed
            files[ignore] = wanted
    write_text_files(files.items())
    made = request.git and _git_init(request.folder)
    return InitResult(request.folder, project, tuple(files), existing, made)


def project_files(project: str, ci: str = "github", *, schema: bool = False) -> dict[str, str]:
    """Relative path -> text of every file of a new project named ``project``; with
    ``schema``, the JSON Schemas too, and a modeline naming them atop each YAML file."""
    sources = {**_AGENT_FILES, **_CI_FILES.get(ci, {})}
    action = f"{ACTION_REPOSITORY}@v{__version__}"
    files = {relative: _template(source).replace("__PROJECT__", project)
             .replace("__ACTION_REF__", action) for relative, source in sources.items()}
    if not schema:
        return files
    from operator_iac.spec.schema import agent_file_schema, project_file_schema

    for relative in [r for r in files if r.endswith(".yaml")]:
        kind = "project" if relative == "operator-iac.yaml" else "agent"
        up = "../" * relative.count("/")
        files[relative] = _MODELINE.format(f"{up}{SCHEMA_FOLDER}/{kind}.schema.json") + \
            files[relative]
    files[f"{SCHEMA_FOLDER}/agent.schema.json"] = json.dumps(agent_file_schema(), indent=2) + "\n"
    files[f"{SCHEMA_FOLDER}/project.schema.json"] = \
        json.dumps(project_file_schema(), indent=2) + "\n"
    return files


def gitignore_text(current: str) -> str:
    """``current`` (an existing ``.gitignore``, or nothing) with the lines it lacks added."""
    if not current.strip():
        return "\n".join(GITIGNORE_LINES) + "\n"
    present = {line.strip() for line in current.splitlines()}
    missing = [line for line in GITIGNORE_LINES
               if not line.startswith("#") and line not in present]
    if not missing:
        return current
    head = current if current.endswith("\n") else current + "\n"
    return head + "\n" + "\n".join([GITIGNORE_LINES[0], *missing]) + "\n"


def inside_git_work_tree(folder: Path) -> bool:
    """Whether ``folder`` (or the nearest existing parent) is inside a git work tree."""
    start = next((p for p in (folder, *folder.parents) if p.is_dir()), Path.cwd())
    if shutil.which("git") is None:
        return False
    done = subprocess.run(["git", "-C", str(start), "rev-parse", "--is-inside-work-tree"],
                          capture_output=True, text=True, check=False)
    return done.returncode == 0 and done.stdout.strip() == "true"


def _git_init(folder: Path) -> bool:
    """``git init`` in ``folder``, unless it is inside a work tree already."""
    if inside_git_work_tree(folder):
        return False
    done = subprocess.run(["git", "init", "-q", str(folder)], capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        raise OperationError(f"git init failed: {done.stderr.strip() or done.returncode}")
    return True


def project_name(folder: Path) -> str:
    """A project name from the folder's name: ``My Agents`` -> ``my-agents``."""
    name = folder.resolve().name.lower()
    slug = re.sub(r"[^a-z0-9._-]+", "-", name).strip("-._")
    return slug or DEFAULT_PROJECT


def _template(relative: str) -> str:
    return (resources.files("operator_iac.services") / "init_files" / relative).read_text(
        encoding="utf-8")
