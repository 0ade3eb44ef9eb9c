"""Files a command writes into the user's project (``import``, ``init``): nothing is written
when a file is in the way and overwriting was not asked for, and each file is written through
a temporary name, so that none is ever left half written."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from operator_iac.errors import UsageError
from operator_iac.spec.loader import display_path


def refuse_existing(paths: Iterable[Path]) -> None:
    """A usage error listing every path that exists already (``--force`` overwrites)."""
    existing = [display_path(path) for path in paths if path.exists()]
    if existing:
        raise UsageError(f"{', '.join(existing)} already exist{'s' if len(existing) == 1 else ''}"
                         "; nothing was written (pass --force to overwrite)")


def write_text_files(files: Iterable[tuple[Path, str]]) -> None:
    """Write each (path, text), creating folders as needed."""
    for path, text in files:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.partial")
        with open(partial, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.replace(partial, path)
