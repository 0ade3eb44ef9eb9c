"""The search for substitutions that may have no value (``spec.prescan``): every file under
the project's folder and its agents folder counts, conservatively (only a YAML comment of a
declaration does not); what cannot be searched is a reason too."""

from __future__ import annotations

from pathlib import Path

import pytest

from operator_iac.spec import prescan


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "agents" / "prompts").mkdir(parents=True)
    (tmp_path / "operator-iac.yaml").write_text("project: p\n", encoding="utf-8")
    (tmp_path / "agents" / "a.yaml").write_text("name: ${var:team} desk\n", encoding="utf-8")
    return tmp_path


def unresolvable(root: Path, env_vars: set[str] | None = None,
                 environ: dict[str, str] | None = None, agents: str = "agents") -> str | None:
    return prescan.unresolvable(root / "operator-iac.yaml", root / agents,
                                {"team"} if env_vars is None else env_vars, environ or {})


def test_every_name_with_a_value_vouches(root: Path) -> None:
    (root / "agents" / "b.yaml").write_text("config: {token: '${env:TOKEN}'}\n", encoding="utf-8")
    assert unresolvable(root, environ={"TOKEN": "x"}) is None


@pytest.mark.parametrize(("where", "text"), [
    ("agents/prompts/p.md", "Open at ${var:hours}."),       # a prompt file
    ("shared/fragment.md", "See ${var:hours}."),            # outside the agents folder
    ("operator-iac.yaml", "overrides: {a: {name: '${var:hours}'}}"),  # the project file
    ("agents/prompts/p.yaml", "# ${var:hours}\n"),          # a prompt, whatever its name
    ("notes/old.yaml", "# once: ${var:hours}\n"),           # not a declaration: text
])
def test_a_var_the_environment_does_not_give_anywhere_is_a_reason(root: Path, where: str,
                                                                   text: str) -> None:
    path = root / where
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    reason = unresolvable(root)
    assert reason is not None and "${var:hours}" in reason and where.split("/")[-1] in reason


def test_a_comment_of_a_declaration_names_nothing(root: Path) -> None:
    (root / "operator-iac.yaml").write_text(
        "project: p\n# agents may read ${env:NAME} once declared\n", encoding="utf-8")
    (root / "agents" / "b.yaml").write_text("name: desk  # was ${var:hours}\n",
                                            encoding="utf-8")
    assert unresolvable(root) is None
    (root / "agents" / "b.yaml").write_text("name: '# ${var:hours}'\n", encoding="utf-8")
    assert unresolvable(root) is not None  # a value that only looks like a comment


def test_without_an_environment_every_var_is_a_reason(root: Path) -> None:
    assert unresolvable(root, env_vars=set()) is not None
    assert prescan.unresolvable(root / "operator-iac.yaml", root / "agents", None, {}) \
        is not None


def test_an_unset_variable_is_a_reason(root: Path) -> None:
    (root / "agents" / "b.yaml").write_text("config: {token: '${env:TOKEN}'}\n", encoding="utf-8")
    assert "${env:TOKEN}" in (unresolvable(root) or "")


def test_what_names_no_value_of_this_tool_is_no_reason(root: Path) -> None:
    workflows = root / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "ci.yml").write_text("env: {KEY: '${{ secrets.KEY }}'}\n", encoding="utf-8")
    (root / "run.sh").write_text('echo "${HOME}"\n', encoding="utf-8")
    assert unresolvable(root) is None


def test_an_escaped_substitution_is_text(root: Path) -> None:
    (root / "agents" / "b.md").write_text("Write $${var:literal} here.", encoding="utf-8")
    assert unresolvable(root) is None


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
    assert unresolvable(root) is None


def test_a_hidden_folder_is_searched_once_a_path_names_it(root: Path) -> None:
    for folder in (".vscode", ".schemas", ".prompts"):
        (root / folder).mkdir()
        (root / folder / "x.json").write_text('{"d": "${env:NAME}"}', encoding="utf-8")
    # named only in comments of declarations, as `init` writes them: not searched
    (root / "operator-iac.yaml").write_text(
        "# yaml-language-server: $schema=.schemas/project.schema.json\nproject: p\n",
        encoding="utf-8")
    (root / "agents" / "a.yaml").write_text(
        "# yaml-language-server: $schema=../.schemas/agent.schema.json\nname: desk\n",
        encoding="utf-8")
    assert unresolvable(root) is None
    # a path into one, from a declaration's value or from any other file's text: searched
    (root / "agents" / "b.yaml").write_text("prompt: {file: ../.prompts/x.json}\n",
                                            encoding="utf-8")
    assert ".prompts" in (unresolvable(root) or "")
    (root / "agents" / "b.yaml").unlink()
    (root / "agents" / "prompts" / "p.md").write_text("{{> ../../.vscode/x.json}}",
                                                      encoding="utf-8")
    assert ".vscode" in (unresolvable(root) or "")


def test_a_folder_too_large_to_search_is_a_reason(root: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prescan, "MAX_FILES", 3)
    for n in range(4):
        (root / f"note-{n}.txt").write_text("plain", encoding="utf-8")
    assert "more than 3 files" in (unresolvable(root) or "")


def test_an_agents_folder_elsewhere_or_behind_a_link_is_searched_too(tmp_path: Path) -> None:
    project, shared = tmp_path / "project", tmp_path / "shared-agents"
    project.mkdir()
    shared.mkdir()
    (project / "operator-iac.yaml").write_text("project: p\n", encoding="utf-8")
    (shared / "a.yaml").write_text("name: ${var:hours}\n", encoding="utf-8")
    (project / "agents").symlink_to(shared, target_is_directory=True)

    for agents in ("agents", "../shared-agents"):
        reason = unresolvable(project, agents=agents)
        assert reason is not None and "${var:hours}" in reason
    (shared / "a.yaml").write_text("name: ${var:team}\n", encoding="utf-8")
    assert unresolvable(project, agents="agents") is None
