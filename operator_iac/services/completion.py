"""What shell completion offers from the project: environment names and agent keys.

Completion runs on every press of Tab, so it reads the project file and the agent files
leniently: an agent file with problems is left out, a project that does not load offers
nothing, and nothing here ever raises (a traceback would land in the user's prompt).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from operator_iac.settings import Settings

if TYPE_CHECKING:
    from operator_iac.spec.project_file import ProjectFile


def environment_names(project_file: Path | None = None) -> list[str]:
    """The environments of the project file (named, or the nearest one)."""
    spec = _project_spec(project_file)
    return list(spec[0].environments) if spec is not None else []


def agent_keys(project_file: Path | None = None) -> list[str]:
    """The keys of the project's agents that load (file stems and instance keys), sorted."""
    spec = _project_spec(project_file)
    if spec is None:
        return []
    from operator_iac.spec.discovery import agent_files_in
    from operator_iac.spec.project import load_agents

    project, file = spec
    try:
        loaded = load_agents(agent_files_in(file.parent / project.agents_dir), file.parent)
    except Exception:  # completion must never fail; the commands report the problem
        return []
    return sorted(loaded.agents)


def _project_spec(project_file: Path | None) -> tuple[ProjectFile, Path] | None:
    from operator_iac.spec.project import read_project_file

    try:
        file = Settings(project_file=project_file).find_project_file()
        if file is None or not file.is_file():
            return None
        spec = read_project_file(file)[0]
    except Exception:  # see the module docstring
        return None
    return (spec, file) if spec is not None else None
