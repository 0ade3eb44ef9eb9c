"""The search for substitutions that may have no value (``spec.prescan``): every file the
declarations read or name counts, conservatively (only a YAML comment of a project or agent
file does not), and no other; what cannot be searched is a reason too."""

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


def unresolvable(root: Path, env_vars: dict[str, object] | None = None,
                 environ: dict[str, str] | None = None, agents: str = "agents") -> str | None:
    return prescan.unresolvable(root / "operator-iac.yaml", root / agents,
                                {"team": "sales"} if env_vars is None else env_vars,
                                environ or {})


def test_every_name_with_a_value_vouches(root: Path) -> None:
    (root / "agents" / "b.yaml").write_text("config: {token: '${env:TOKEN}'}\n", encoding="utf-8")
    assert unresolvable(root, environ={"TOKEN": "x"}) is None


PROMPT_FILE = "config: {runtime: {prompt: {file: prompts/p.md}}}\n"


@pytest.mark.parametrize(("where", "text", "agent"), [
    # a prompt file
    ("agents/prompts/p.md", "Open at ${var:hours}.", PROMPT_FILE),
    # a fragment outside the agents folder, included by an inline prompt
    ("shared/fragment.md", "See ${var:hours}.",
     "config: {runtime: {prompt: {text: 'Hi. {{> ../shared/fragment.md}}'}}}\n"),
    # a fragment included by a prompt file: p.md includes it
    ("agents/prompts/parts/hours.md", "${var:hours}", PROMPT_FILE),
    # the project file
    ("operator-iac.yaml", "overrides: {a: {name: '${var:hours}'}}", "name: desk\n"),
    # a prompt, whatever its name: its comments count
    ("agents/prompts/p.yaml", "# ${var:hours}\n",
     "config: {runtime: {prompt: {file: prompts/p.yaml}}}\n"),
    # a prompt file whose path has a space
    ("agents/my prompts/p.md", "${var:hours}",
     "config: {runtime: {prompt: {file: 'my prompts/p.md'}}}\n"),
    # a prompt file named without a folder or a suffix
    ("agents/PROMPT", "${var:hours}", "config: {runtime: {prompt: {file: PROMPT}}}\n"),
    # a base file, and the prompt file a base names
    ("templates/base.yaml", "description: ${var:hours}\n", "extends: ../templates/base.yaml\n"),
    ("templates/prompts/b.md", "${var:hours}", "extends: ../templates/base.yaml\n"),
])
def test_a_var_the_environment_does_not_give_in_a_file_the_declarations_read_is_a_reason(
        root: Path, where: str, text: str, agent: str) -> None:
    (root / "agents" / "a.yaml").write_text(agent, encoding="utf-8")
    (root / "agents" / "prompts" / "p.md").write_text("Hello. {{> parts/hours.md}}\n",
                                                      encoding="utf-8")
    (root / "agents" / "prompts" / "parts").mkdir()
    (root / "agents" / "prompts" / "parts" / "hours.md").write_text("9 to 5", encoding="utf-8")
    (root / "templates" / "prompts").mkdir(parents=True)
    (root / "templates" / "base.yaml").write_text(
        "config: {runtime: {prompt: {file: prompts/b.md}}}\n", encoding="utf-8")
    (root / "templates" / "prompts" / "b.md").write_text("Base.", encoding="utf-8")
    assert unresolvable(root) is None
    path = root / where
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    reason = unresolvable(root)
    assert reason is not None and "${var:hours}" in reason and where.split("/")[-1] in reason


def test_a_file_no_declaration_names_is_not_searched(root: Path) -> None:
    # A project at the root of a repository: its README, changelog and notes write the
    # syntax in prose, and its code is many files.
    for name in ("README.md", "CHANGELOG.md", "notes/old.yaml", "agents/prompts/unused.md"):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("Write ${env:NAME} or ${var:hours}.\n", encoding="utf-8")
    for n in range(prescan.MAX_FILES + 1):
        (root / "src").mkdir(exist_ok=True)
        (root / "src" / f"m{n}.py").write_text("x = 1\n", encoding="utf-8")
    assert unresolvable(root) is None


def test_a_path_written_with_a_value_is_followed_where_it_leads(root: Path) -> None:
    (root / "agents" / "prompts" / "sales.md").write_text("${var:hours}", encoding="utf-8")
    (root / "agents" / "b.yaml").write_text(
        "config: {runtime: {prompt: {file: 'prompts/${var:team}.md'}}}\n", encoding="utf-8")
    assert "sales.md" in (unresolvable(root) or "")
    assert unresolvable(root, env_vars={"team": "sales", "hours": "9-5"}) is None
    # A one-word value alone (a webhook's address, a queue's name) names no file.
    (root / "agents" / "b.yaml").write_text("config: {webhook: '${var:team}'}\n",
                                            encoding="utf-8")
    (root / "notes.md").write_text("Write ${var:hours}.\n", encoding="utf-8")
    assert unresolvable(root) is None


def test_a_comment_of_a_declaration_names_nothing(root: Path) -> None:
    (root / "operator-iac.yaml").write_text(
        "project: p\n# agents may read ${env:NAME} once declared\n", encoding="utf-8")
    (root / "agents" / "b.yaml").write_text("name: desk  # was ${var:hours}\n",
                                            encoding="utf-8")
    assert unresolvable(root) is None
    (root / "agents" / "b.yaml").write_text("name: '# ${var:hours}'\n", encoding="utf-8")
    assert unresolvable(root) is not None  # a value that only looks like a comment


def test_without_an_environment_every_var_is_a_reason(root: Path) -> None:
    assert unresolvable(root, env_vars={}) is not None
    assert prescan.unresolvable(root / "operator-iac.yaml", root / "agents", None, {}) \
        is not None


def test_an_unset_variable_is_a_reason(root: Path) -> None:
    (root / "agents" / "b.yaml").write_text("config: {token: '${env:TOKEN}'}\n", encoding="utf-8")
    assert "${env:TOKEN}" in (unresolvable(root) or "")


def test_what_names_no_value_of_this_tool_is_no_reason(root: Path) -> None:
    (root / "agents" / "prompts" / "p.md").write_text('Run "${HOME}/x" or ${{ secrets.KEY }}.',
                                                      encoding="utf-8")
    (root / "agents" / "b.yaml").write_text(PROMPT_FILE, encoding="utf-8")
    assert unresolvable(root) is None


def test_an_escaped_substitution_is_text(root: Path) -> None:
    (root / "agents" / "prompts" / "p.md").write_text("Write $${var:literal} here.",
                                                      encoding="utf-8")
    (root / "agents" / "b.yaml").write_text(PROMPT_FILE, encoding="utf-8")
    assert unresolvable(root) is None
    (root / "agents" / "prompts" / "p.md").write_text("Write ${var:literal} here.",
                                                      encoding="utf-8")
    assert unresolvable(root) is not None


def test_a_hidden_folder_is_searched_once_a_path_names_it(root: Path) -> None:
    for folder in (".git", "node_modules", ".venv"):  # never named: never searched
        (root / folder).mkdir()
        (root / folder / "x.txt").write_text("${var:nothing}", encoding="utf-8")
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
    (root / "agents" / "b.yaml").write_text(PROMPT_FILE, encoding="utf-8")
    (root / "agents" / "prompts" / "p.md").write_text("{{> ../../.vscode/x.json}}",
                                                      encoding="utf-8")
    assert ".vscode" in (unresolvable(root) or "")


def test_a_folder_too_large_to_search_is_a_reason(root: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prescan, "MAX_FILES", 3)
    for n in range(4):
        (root / "agents" / f"b{n}.yaml").write_text("name: desk\n", encoding="utf-8")
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


def test_the_declarations_searched_ahead_are_not_parsed_again_when_they_load(
        root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from operator_iac.spec import loader

    parsed: list[str] = []
    compose = loader._compose
    monkeypatch.setattr(loader, "_compose",
                        lambda text, display: parsed.append(display) or compose(text, display))
    with loader.parsed_ahead():
        assert unresolvable(root) is None
        searched = len(parsed)
        assert loader.load_yaml(root / "agents" / "a.yaml").data == {"name": "${var:team} desk"}
        assert loader.load_yaml(root / "operator-iac.yaml").data == {"project": "p"}
    assert searched == 2 and len(parsed) == 2
