"""The ``operator-iac emulator`` command as a real process, as a person runs it: started in a
folder, its announcement read, stopped with Ctrl-C."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

VERSION = "2025-06-19"


def headers(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "Operator-Version": VERSION}


def launch(*args: str, cwd: Path | None = None) -> tuple[subprocess.Popen[str], str, str]:
    """Start ``python -m operator_iac emulator`` (in ``cwd``, by default a folder with no
    project file); return it, the URL and the announcement."""
    process = subprocess.Popen(
        [sys.executable, "-m", "operator_iac", "emulator", "--port", "0", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd or Path("/"))
    assert process.stdout is not None
    lines = [process.stdout.readline()]
    found = re.search(r"listening on (http://\S+)", lines[0])
    if found is None:
        process.kill()
        _, err = process.communicate(timeout=10)
        pytest.fail(f"the emulator did not start: {lines[0]!r} {err!r}")
    while lines[-1] and not lines[-1].startswith("Then try:"):
        lines.append(process.stdout.readline())
    return process, found.group(1), "".join(lines)


def interrupt(process: subprocess.Popen[str]) -> tuple[str, str]:
    """Ctrl-C, as a user would stop it."""
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=15)
    return out, err
