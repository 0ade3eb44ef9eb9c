"""What an import was asked (``ImportOptions``) and what it made: the files of each imported
agent, the agents skipped and why, and the validation of the written project."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from operator_iac.defaults import PARALLELISM
from operator_iac.importing.credentials import CredentialHint
from operator_iac.importing.selection import Skipped
from operator_iac.spec.loader import display_path
from operator_iac.spec.validation import ValidationReport


@dataclass(frozen=True)
class ImportOptions:
    """``ids`` to import, or ``everything`` (every agent no declaration stands for)."""

    ids: tuple[str, ...] = ()
    everything: bool = False
    force: bool = False
    dry_run: bool = False
    parallelism: int = PARALLELISM


@dataclass(frozen=True)
class FileText:
    """One file an import writes (or prints with ``--dry-run``)."""

    path: Path
    text: str

    @property
    def display(self) -> str:
        return display_path(self.path)


@dataclass(frozen=True)
class ImportedAgent:
    """One imported agent: its new key, the revision it was made from and why, its files,
    and the config paths kept verbatim under ``config.extra``."""

    key: str
    agent_id: str
    kind: str
    name: str
    version_id: str
    reason: str
    files: tuple[FileText, ...]
    extra_paths: tuple[str, ...] = ()
    managed: bool = False  # the platform already knows it as this project's (no adoption)
    credentials: tuple[CredentialHint, ...] = ()  # values that look like credentials

    @property
    def agent_file(self) -> FileText:
        return self.files[0]


@dataclass(frozen=True)
class ImportReport:
    """What an import made and skipped, whether the files were written, and what validating
    the project afterwards found."""

    api_url: str
    imported: tuple[ImportedAgent, ...]
    skipped: tuple[Skipped, ...] = ()
    written: bool = False
    validation: ValidationReport | None = None
