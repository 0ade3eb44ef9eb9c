"""The search for substitutions that may have no value (``spec.prescan``): every file under
the project's folder counts, conservatively; what cannot be searched is a reason too."""

from __future__ import annotations

from pathlib import Path

import pytest

from operator_iac.spec import prescan
from operator_iac.spec.prescan import unresolvable


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "agents" / "prompts").mkdir(parents=True)
    (tmp_path / "operator-iac.yaml").write_text("project: p\n", encoding="utf-8")
    (tmp_path / "agents" / "a.yaml").write_text("name: ${var:team} desk\n", encoding="utf-8")
    return tmp_path


def test_every_name_with_a_value_vouches(root: Path) -> None:
    (root / "agents" / "b.yaml").write_text("config: {token: '${env:TOKEN}'}\n", encoding="utf-8")
    assert unresolvable([root], {"team"}, {"TOKEN": "x"}) is None


@pytest.mark.parametrize(("where", "text"), [
    ("agents/prompts/p.md", "Open at ${var:hours}."),       # a prompt file
    ("shared/fragment.md", "See ${var:hours}."),            # outside the agents folder
    ("operator-iac.yaml", "overrides: {a: {name: '${var:hours}'}}"),  # the project file
    ("agents/c.yaml", "# once: ${var:hours}\n"),            # even in a comment
])
def test_a_var_the_environment_does_not_give_anywhere_is_a_reason(root: Path, where: str,
                                                                   text: str) -> None:
    path = root / where
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    reason = unresolvable([root], {"team"}, {})
    assert reason is not None and "${var:hours}" in reason and where.split("/")[-1] in reason


def test_without_an_environment_every_var_is_a_reason(root: Path) -> None:
    assert unresolvable([root], None, {}) is not None


def test_an_unset_variable_is_a_reason(root: Path) -> None:
    (root / "agents" / "b.yaml").write_text("config: {token: '${env:TOKEN}'}\n", encoding="utf-8")
    assert "${env:TOKEN}" in (unresolvable([root], {"team"}, {}) or "")


def test_what_names_no_value_of_this_tool_is_no_reason(root: Path) -> None:
    workflows = root / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "ci.yml").write_text("env: {KEY: '${{ secrets.KEY }}'}\n", encoding="utf-8")
    (root / "run.sh").write_text('echo "${HOME}"\n', encoding="utf-8")
    assert unresolvable([root], {"team"}, {}) is None


def test_an_escaped_substitution_is_text(root: Path) -> None:
    (root / "agents" / "b.yaml").write_text("name: $${var:literal}\n", encoding="utf-8")
    assert unresolvable([root], {"team"}, {}) is None


@pytest.mark.parametrize("folder", [".git", "node_modules", ".venv", ".mypy_cache"])
def test_folders_that_hold_no_declarations_are_skipped(root: Path, folder: str) -> None:
    skipped = root / folder
    skipped.mkdir()
    if folder == ".venv":
        (skipped / "pyvenv.cfg").write_text("home = /usr\n", encoding="utf-8")
    if folder == ".mypy_cache":
        (skipped / "CACHEDIR.TAG").write_text("Signature: 8a477f597d28d172789f06886806bc55\n",
                                              encoding="utf-8")
    (skipped / "x.txt").write_text("${var:nothing}", encoding="utf-8")
    assert unresolvable([root], {"team"}, {}) is None


def test_other_hidden_folders_are_searched(root: Path) -> None:
    (root / ".prompts").mkdir()
    (root / ".prompts" / "p.md").write_text("${var:hours}", encoding="utf-8")
    assert unresolvable([root], {"team"}, {}) is not None


def test_a_folder_too_large_to_search_is_a_reason(root: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prescan, "MAX_FILES", 3)
    for n in range(4):
        (root / f"note-{n}.txt").write_text("plain", encoding="utf-8")
    assert "more than 3 files" in (unresolvable([root], {"team"}, {}) or "")


def test_an_agents_folder_elsewhere_or_behind_a_link_is_searched_too(tmp_path: Path) -> None:
    project, shared = tmp_path / "project", tmp_path / "shared-agents"
    project.mkdir()
    shared.mkdir()
    (shared / "a.yaml").write_text("name: ${var:hours}\n", encoding="utf-8")
    (project / "agents").symlink_to(shared, target_is_directory=True)

    assert unresolvable([project], {"team"}, {}) is None  # a link is not followed...
    for agents in (project / "agents", shared):  # ...but the agents folder is searched
        reason = unresolvable([project, agents], {"team"}, {})
        assert reason is not None and "${var:hours}" in reason
    (shared / "a.yaml").write_text("name: ${var:team}\n", encoding="utf-8")
    assert unresolvable([project, project / "agents", shared], {"team"}, {}) is None
