"""Run settings, resolved in one order: command-line flags, then ``OPERATOR_IAC_*`` environment
variables, then the project file.

Click reads the first two layers (each global option names its environment variable); this
module holds the result and finds the project file when none was named.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PROJECT_FILE_NAME = "operator-iac.yaml"

# Every OPERATOR_IAC_* environment variable operator-iac reads, defined once here.
VARIABLE_PREFIX = "OPERATOR_IAC_"
ENV_VARIABLE = "OPERATOR_IAC_ENV"  # --env
PROJECT_FILE_VARIABLE = "OPERATOR_IAC_PROJECT_FILE"  # --project-file
API_URL_VARIABLE = "OPERATOR_IAC_API_URL"  # --api-url
# More hosts the API key may be sent to, set by a person or a CI job, never by a project file.
ALLOWED_HOSTS_VARIABLE = "OPERATOR_IAC_ALLOWED_HOSTS"
EMULATOR_VARIABLE = "OPERATOR_IAC_EMULATOR"  # --emulator
EMULATOR_COMPAT_VARIABLE = "OPERATOR_IAC_EMULATOR_COMPAT"  # --emulator-compat
DEBUG_VARIABLE = "OPERATOR_IAC_DEBUG"  # --debug
QUIET_VARIABLE = "OPERATOR_IAC_QUIET"  # --quiet
PARALLELISM_VARIABLE = "OPERATOR_IAC_PARALLELISM"  # --parallelism
LIVE_VARIABLE = "OPERATOR_IAC_LIVE"  # 1: the contract suite runs against the real platform
CACHE_DIR_VARIABLE = "OPERATOR_IAC_CACHE_DIR"  # where released revisions are cached
NO_CACHE_VARIABLE = "OPERATOR_IAC_NO_CACHE"  # --no-cache
LOG_VARIABLE = "OPERATOR_IAC_LOG"  # debug|info|warning: what is logged on stderr (--verbose)
CACHE_FOLDER = "operator-iac"


def cache_directory(environ: Mapping[str, str], platform: str = sys.platform) -> Path:
    """Where the revision cache lives: ``OPERATOR_IAC_CACHE_DIR``, else the user's cache
    directory (``$XDG_CACHE_HOME`` or ``~/.cache`` on Linux, ``~/Library/Caches`` on macOS,
    ``%LOCALAPPDATA%`` on Windows), in a folder of its own."""
    if environ.get(CACHE_DIR_VARIABLE):
        return Path(environ[CACHE_DIR_VARIABLE])
    home = Path(environ.get("HOME") or Path.home())
    if platform == "darwin":
        return home / "Library" / "Caches" / CACHE_FOLDER
    if platform.startswith("win") and environ.get("LOCALAPPDATA"):
        return Path(environ["LOCALAPPDATA"]) / CACHE_FOLDER / "Cache"
    base = environ.get("XDG_CACHE_HOME")
    return (Path(base) if base and Path(base).is_absolute() else home / ".cache") / CACHE_FOLDER


@dataclass(frozen=True)
class Settings:
    """What the global options and their environment variables asked for."""

    project_file: Path | None = None
    env: str | None = None
    api_url: str | None = None
    emulator: bool = False
    emulator_compat: str | None = None
    no_color: bool = False
    debug: bool = False
    quiet: bool = False
    no_cache: bool = False
    verbose: bool = False

    def find_project_file(self, start: Path | None = None) -> Path | None:
        """The named project file, or the nearest ``operator-iac.yaml`` at or above ``start``."""
        if self.project_file is not None:
            return self.project_file
        here = (start or Path.cwd()).resolve()
        for folder in (here, *here.parents):
            candidate = folder / PROJECT_FILE_NAME
            if candidate.is_file():
                return candidate
        return None
