"""What ``init`` made, as text: the files written and the commands to run next. Pure."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path


def render_init_text(project: str, folder: Path, written: Sequence[Path],
                     overwritten: Sequence[Path] = (), *, cwd: Path | None = None,
                     git: bool = False) -> str:
    where = os.path.relpath(folder.resolve(), (cwd or Path.cwd()).resolve())
    lines = [f"Created the project {project} in {where}:"]
    for path in written:
        note = "  (overwritten)" if path in overwritten else ""
        lines.append(f"  {path.relative_to(folder).as_posix()}{note}")
    if git:
        lines.append("Initialised a git repository there (git init).")
    lines.append("Next:")
    if where != ".":
        lines.append(f"  cd {where}")
    lines += ["  operator-iac validate",
              "  operator-iac --emulator apply --yes     # the whole flow, offline",
              "  export OPERATOR_API_KEY_STAGING=...     # then, against the platform:",
              "  operator-iac plan --env staging"]
    return "\n".join(lines)
