"""Factories for lint tests: a project written to a temporary folder from files (path -> text,
as the rule table's examples hold them) and linted there."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from operator_iac.errors import Severity
from operator_iac.lint.examples import PROJECT_FILE, project_file
from operator_iac.lint.report import LintReport
from operator_iac.services.lint import lint_paths

Lint = Callable[..., LintReport]


def write_files(root: Path, files: Mapping[str, str]) -> None:
    """The files, with the example's implied project file when none is given."""
    for name, text in {PROJECT_FILE: project_file(), **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@pytest.fixture
def lint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Lint:
    """Write ``files`` into a fresh project and lint it (as the CLI does, from its folder)."""
    counter = iter(range(1000))

    def run(files: Mapping[str, str], env: str | None = None,
            fail_on: Severity = "error") -> LintReport:
        root = tmp_path / f"project-{next(counter)}"
        root.mkdir()
        write_files(root, files)
        monkeypatch.chdir(root)
        return lint_paths([], env=env, fail_on=fail_on, start=root)

    return run
