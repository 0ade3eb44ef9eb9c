"""Which files under the agents directory are agent files.

Agent files are the ``*.yaml`` and ``*.yml`` files anywhere under the agents directory, at any
depth, so that a large project can group its agents in folders (``agents/support/triage.yaml``).
The key of an agent stays its file stem: moving a file between folders changes nothing on the
platform. Never agent files:

- hidden files and anything inside a hidden folder (``.drafts/``, ``.git/``);
- anything inside a folder named ``prompts`` or ``fragments``: prompt files and prompt
  fragments live there, and a fragment is never taken for an agent whatever its suffix;
- anything inside a folder that holds its own ``operator-iac.yaml`` (another project);
- files that are not ``.yaml``/``.yml`` (prompt ``.md`` and ``.txt`` files, notes).

Every entry named like an agent file counts, whatever it is: a broken symbolic link, a link
loop, a directory or a FIFO named ``*.yaml`` is an agent file that cannot be read (an error
when loaded), never a silently missing agent that ``--prune`` would delete.

Base files (``abstract: true``, see ``operator_iac.spec.compose``) may sit among agent files;
they are found here and then set aside by the loader because they declare no agent.
"""

from __future__ import annotations

import os
from pathlib import Path

from operator_iac.settings import PROJECT_FILE_NAME

AGENT_SUFFIXES = (".yaml", ".yml")
# Folders that hold prompt text, never agent files.
PROMPT_FOLDERS = frozenset({"prompts", "fragments"})


def is_agent_file_name(path: Path) -> bool:
    return path.suffix.lower() in AGENT_SUFFIXES and not path.name.startswith(".")


def agent_files_in(directory: Path) -> list[Path]:
    """The agent files under ``directory`` (recursively, see the module docstring), sorted."""
    found: list[Path] = []
    # os.walk does not follow symlinked folders, so a link cannot make the walk go round.
    for folder, subfolders, files in os.walk(directory):
        here = Path(folder)
        # A folder named like an agent file is an unreadable agent file, not a folder to search.
        found += [here / name for name in (*files, *subfolders) if is_agent_file_name(Path(name))]
        subfolders[:] = sorted(d for d in subfolders
                               if not is_agent_file_name(Path(d)) and _searched(here / d))
    return sorted(found)


def _searched(folder: Path) -> bool:
    name = folder.name
    if name.startswith(".") or name in PROMPT_FOLDERS:
        return False
    return not (folder / PROJECT_FILE_NAME).is_file()
