"""Whether the files of a project could name a substitution that has no value, found without
loading the project: every file under the project's folder and its agents folder is
searched for ``${var:...}`` and ``${env:...}`` (``spec.templates``), and each name found must
have a value.

Loading the declarations is what says exactly which substitutions are used and which are
missing, but it needs every model of the declarations built first. A command that wants to
begin reading the platform while they load (``services.read_ahead``) asks this first, so that
a missing value is still reported before any request is sent. The search is conservative:
it reads every file the declarations could read (agent files, prompt files, fragments and
base files all lie inside the project's folder) and counts a name in a comment or in a file
no agent uses as used. A ``${var:...}`` counts as having a value only in the environment's
``vars`` (a template instance's own vars are not seen here), a ``${env:...}`` only when the
variable is set; any other ``${...}`` is not a value of this tool (a CI workflow's
``${{ secrets.X }}``) and is left to the loader. What it cannot search (too many files or
bytes, a folder that cannot be listed) is a reason too: then nothing is read ahead. A file
larger than the loader takes is skipped: no declaration can read it.

Folders that hold no declarations by any convention are skipped: version control
(``.git``), virtual environments (a ``pyvenv.cfg``), caches that mark themselves
(``CACHEDIR.TAG``), ``node_modules`` and ``__pycache__``.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

from operator_iac.spec.loader import MAX_FILE_BYTES
from operator_iac.spec.templates import find_substitutions

# Beyond these the search would cost more than it can save (a folder of agents holds far
# fewer; a whole repository beside them may not): it is given up, and nothing is read
# ahead, rather than made partial.
MAX_FILES = 500
MAX_TOTAL_BYTES = 4 * 1024 * 1024
_SKIPPED_NAMES = frozenset({".git", "node_modules", "__pycache__"})
_SKIPPED_MARKS = ("pyvenv.cfg", "CACHEDIR.TAG")


def unresolvable(folders: Sequence[Path], env_vars: Collection[str] | None,
                 environ: Mapping[str, str]) -> str | None:
    """Why a file under ``folders`` (the project's folder, and its agents folder, which may
    lie elsewhere or be a link) may name a substitution without a value (``env_vars``: the
    names of the chosen environment's ``vars``, None without an environment), or None when
    every name found has one."""
    seen: set[str] = set()
    total = 0
    for root in folders:
        for folder, dirs, files in os.walk(root, onerror=_raise):
            dirs[:] = [d for d in dirs if not _skipped(Path(folder, d))]
            for name in files:
                path = Path(folder, name)
                try:
                    real, size = os.path.realpath(path), path.stat().st_size
                except OSError:
                    continue  # a broken link or a loop: the loader reports it if declared
                if real in seen:
                    continue
                seen.add(real)
                total += size
                if len(seen) > MAX_FILES or total > MAX_TOTAL_BYTES:
                    return f"more than {MAX_FILES} files or {MAX_TOTAL_BYTES} bytes to search"
                if size > MAX_FILE_BYTES or not path.is_file():
                    continue  # never loaded: the loader refuses it
                try:
                    text = path.read_bytes().decode("utf-8", errors="replace")
                except OSError as exc:
                    return f"{path} cannot be read ({exc.strerror})"
                reason = _first_without_value(text, env_vars, environ)
                if reason is not None:
                    return f"{path}: {reason}"
    return None


def _first_without_value(text: str, env_vars: Collection[str] | None,
                         environ: Mapping[str, str]) -> str | None:
    if "${" not in text:
        return None
    for sub in find_substitutions(text):
        if sub.kind == "var" and (env_vars is None or sub.name not in env_vars):
            return f"{sub.text} may have no value"
        if sub.kind == "env" and sub.name not in environ:
            return f"{sub.text} may have no value"
    # Any other ``${...}`` (a CI workflow's ``${{ secrets.X }}``, a script's ``${HOME}``)
    # names no value of ours: in a declaration it is an error of its own, not a missing one.
    return None


def _skipped(folder: Path) -> bool:
    return folder.name in _SKIPPED_NAMES or any(
        (folder / mark).is_file() for mark in _SKIPPED_MARKS)


def _raise(error: OSError) -> None:
    raise error
