"""Whether the files a project's declarations read could name a substitution that has no
value, found without loading the project: each file is searched for ``${var:...}`` and
``${env:...}`` (``spec.templates``), and each name found must have a value.

Loading the declarations is what says exactly which substitutions are used and which are
missing, but it needs every model of the declarations built first. A command that wants to
begin reading the platform while they load (``services.read_ahead``) asks this first, so that
a missing value is still reported before any request is sent.

Which files: the declarations read the project file, the agent files of the agents folder,
and the files those name by a relative path (a base file's ``extends``, a prompt file, an
environment's prompt override) or include (``{{> path}}`` in a prompt), and the files those
name in turn. The search follows every such name without knowing the fields: every string of
a YAML file read, and every ``{{> path}}`` of any text read, that reads as a relative path
(one line, not a URL; written with substitutions, once their values are put in) is looked
for beside every file read so far, and each file found is searched too. A project at the
root of a repository is thus searched through its declarations, not through its README, its
changelog or its code. The search is conservative: a name in a comment of a file reached
(other than the project and agent files, whose YAML comments do not count) or in a file no
agent ends up using counts as used. A ``${var:...}`` counts as having a value only in the
environment's ``vars`` (a template instance's own vars are not seen here), a ``${env:...}``
only when the variable is set; any other ``${...}`` is not a value of this tool (a CI
workflow's ``${{ secrets.X }}``) and is left to the loader. What it cannot search (too many
files or bytes, a folder that cannot be listed) is a reason too: then nothing is read ahead.
A file larger than the loader takes is skipped: no declaration can read it.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from operator_iac.spec.discovery import agent_files_in
from operator_iac.spec.loader import MAX_FILE_BYTES
from operator_iac.spec.templates import INCLUDE, find_substitutions

# Beyond these the search would cost more than it can save (a folder of agents holds far
# fewer; a whole repository beside them may not): it is given up, and nothing is read
# ahead, rather than made partial.
MAX_FILES = 500
MAX_TOTAL_BYTES = 4 * 1024 * 1024


def unresolvable(project_file: Path, agents_dir: Path, env_vars: Mapping[str, object] | None,
                 environ: Mapping[str, str]) -> str | None:
    """Why a file the declarations read (``project_file``, the agent files in
    ``agents_dir``, which may lie elsewhere or be a link, and the files they name) may name a
    substitution without a value (``env_vars``: the chosen environment's ``vars``, None
    without an environment), or None when every name found has one. In the
    project file and the agent files, what YAML reads as a comment is not counted."""
    return _Follow(env_vars, environ, (project_file, *agent_files_in(agents_dir))).search()


class _Follow:
    """The search through the files the declarations name (see the module docstring)."""

    def __init__(self, env_vars: Mapping[str, object] | None, environ: Mapping[str, str],
                 declarations: tuple[Path, ...]) -> None:
        self.env_vars, self.environ = env_vars, environ
        self.queue = deque((path, True) for path in declarations)
        self.folders = {Path(os.path.realpath(path)).parent for path in declarations}
        self.seen: set[str] = set()
        self.total = 0
        self.listings: dict[Path, set[str]] = {}

    def search(self) -> str | None:
        while self.queue:
            path, declaration = self.queue.popleft()
            try:
                real, size = os.path.realpath(path), path.stat().st_size
            except OSError:
                continue  # a broken link or a loop: the loader reports it if declared
            if real in self.seen:
                continue
            self.seen.add(real)
            self.total += size
            if len(self.seen) > MAX_FILES or self.total > MAX_TOTAL_BYTES:
                return f"more than {MAX_FILES} files or {MAX_TOTAL_BYTES} bytes to search"
            if size > MAX_FILE_BYTES or not path.is_file():
                continue  # never loaded: the loader refuses it
            try:
                text = path.read_bytes().decode("utf-8", errors="replace")
            except OSError as exc:
                return f"{path} cannot be read ({exc.strerror})"
            read = _Read(path, text, declaration)
            if _first_without_value(text, self.env_vars, self.environ) is not None:
                for one in read.strings():
                    reason = _first_without_value(one, self.env_vars, self.environ)
                    if reason is not None:
                        return f"{path}: {reason}"
            self.folders.add(Path(real).parent)
            self._follow(read)
        return None

    def _follow(self, read: _Read) -> None:
        """Queue the files ``read`` names (each substitution in it has a value by now)."""
        strings = read.yaml_strings()
        names = [*strings, *(m.group(1) for one in (*strings, read.text)
                             for m in INCLUDE.finditer(one))]
        for written in names:
            name = self._substituted(written)
            if not _path_like(name):
                continue
            nested = "/" in name or "\\" in name
            for folder in list(self.folders):
                # A bare name is looked up in the folder's listing (one read per folder),
                # not with a look-up per string: most strings name no file.
                if (nested or name in self._entries(folder)) and (folder / name).is_file():
                    self.queue.append((folder / name, False))

    def _substituted(self, text: str) -> str:
        """``text`` with the values of its substitutions, as the loader reads a path written
        with them."""
        for sub in find_substitutions(text) if "${" in text else ():
            if sub.kind == "var" and self.env_vars is not None and sub.name in self.env_vars:
                text = text.replace(sub.text, str(self.env_vars[sub.name]), 1)
            elif sub.kind == "env" and sub.name in self.environ:
                text = text.replace(sub.text, self.environ[sub.name], 1)
        return text

    def _entries(self, folder: Path) -> set[str]:
        entries = self.listings.get(folder)
        if entries is None:
            try:
                entries = set(os.listdir(folder))
            except OSError:
                entries = set()
            self.listings[folder] = entries
        return entries


def _path_like(text: str) -> bool:
    """Whether ``text`` could be a relative path a declaration names: one line, not a URL
    and not absolute."""
    return (0 < len(text) < 1024 and "\n" not in text and "://" not in text
            and not os.path.isabs(text))


@dataclass
class _Read:
    """A file searched: its text, and the strings of its YAML document (its comments left
    out; the whole text where it is not YAML), parsed only when asked for."""

    path: Path
    text: str
    declaration: bool  # a project or agent file: its comments name nothing
    _strings: list[str] | None = None

    def strings(self) -> list[str]:
        """What may name a substitution: a declaration's strings, any other file's text."""
        return self.yaml_strings() if self.declaration else [self.text]

    def yaml_strings(self) -> list[str]:
        """What may name a file: the strings of the YAML document (a declaration, a base
        file), or the whole text."""
        if self._strings is None:
            from operator_iac.errors import DeclarationError
            from operator_iac.spec.loader import parse_yaml

            try:
                # Kept for the loading that follows (``spec.loader.parsed_ahead``).
                parsed = parse_yaml(self.text, self.path, keep=True) if self.text.strip() \
                    else None
                self._strings = list(_strings(parsed.data)) if parsed is not None else []
            except DeclarationError:  # YAML cannot read it: its whole text counts
                self._strings = [self.text]
        return self._strings


def _strings(data: Any) -> Iterator[str]:
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(data, list):
        for item in data:
            yield from _strings(item)


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
