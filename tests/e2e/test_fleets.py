"""Fleets end to end: agent files in subfolders, driven through the real CLI against the
emulator."""

from __future__ import annotations

import shutil
from collections.abc import Callable

import pytest

from .conftest import KEYS, Platform, ProjectCopy
from .test_unreadable_inputs import BREAKAGES, MESSAGES

Project = Callable[..., ProjectCopy]


def _move(copy: ProjectCopy, relative: str, folder: str) -> None:
    source = copy.agents_dir / relative
    (copy.agents_dir / folder).mkdir(parents=True, exist_ok=True)
    shutil.move(source, copy.agents_dir / folder / source.name)


def test_a_subfolder_layout_applies_and_moving_files_changes_nothing(
        project: Project, platform: Platform) -> None:
    copy = project()
    _move(copy, "lead-qualification.yaml", "analysis")
    _move(copy, "support-triage.yaml", "support/web")
    applied = copy.apply()
    assert applied.exit_code == 0, applied.stderr
    assert sorted(platform.owners()) == sorted(KEYS)
    writes = len(platform.writes())
    _move(copy, "analysis/lead-qualification.yaml", "sales")
    _move(copy, "support/web/support-triage.yaml", "")
    planned = copy.plan("--detailed-exitcode")
    assert planned.exit_code == 0, planned.stdout + planned.stderr
    assert "No changes." in planned.stdout
    assert len(platform.writes()) == writes


def test_the_same_key_in_two_folders_stops_plan_with_exit_3(project: Project) -> None:
    copy = project()
    (copy.agents_dir / "eu").mkdir()
    shutil.copy(copy.agent_file("support-triage"), copy.agents_dir / "eu" / "support-triage.yaml")
    result = copy.plan()
    assert result.exit_code == 3
    assert "duplicate agent key 'support-triage'" in result.stderr
    assert "agents/eu/support-triage.yaml" in result.stderr
    assert "agents/support-triage.yaml" in result.stderr


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_an_unreadable_agent_file_in_a_subfolder_is_an_error(project: Project,
                                                             breakage: str) -> None:
    copy = project()
    (copy.agents_dir / "support").mkdir()
    BREAKAGES[breakage](copy.agents_dir / "support" / "broken.yaml")
    validate = copy.run("validate")
    assert validate.exit_code == 3
    assert f"agents/support/broken.yaml:1:1: {MESSAGES[breakage]}" in validate.stdout
