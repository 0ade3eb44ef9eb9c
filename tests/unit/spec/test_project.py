"""Loading a project: the project file, its agents, and checks against its environments."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from operator_iac.errors import ConfigurationError, DeclarationError, ProjectFileError
from operator_iac.spec.project import load_project

MakeProject = Callable[..., Path]
Builder = Callable[..., dict[str, Any]]
LineOf = Callable[..., int]


def declaration_errors(make_project: MakeProject, agents: dict[str, Any], **kwargs: Any
                       ) -> list[str]:
    make_project(agents, **kwargs)
    with pytest.raises(DeclarationError) as caught:
        load_project()
    return [str(d) for d in caught.value.diagnostics if d.severity == "error"]


def test_loads_project_and_agents(make_project: MakeProject, conversational: Builder,
                                  procedural: Builder) -> None:
    root = make_project({"a.yaml": conversational(postprocess_agents=["p"]),
                         "p.yml": procedural()})
    project = load_project()
    assert project.root == root.resolve()
    assert project.file == root.resolve() / "operator-iac.yaml"
    assert project.name == "test-project"
    assert sorted(project.agents) == ["a", "p"]
    assert project.agents["p"].kind == "procedural_agent"
    assert project.warnings == ()
    assert project.environment("production").protect is True


def test_project_file_is_found_from_a_subdirectory(make_project: MakeProject,
                                                   conversational: Builder) -> None:
    root = make_project({"a.yaml": conversational()})
    assert load_project(start=root / "agents").file == root.resolve() / "operator-iac.yaml"


def test_non_yaml_hidden_and_prompt_folder_files_in_agents_dir_are_ignored(
        make_project: MakeProject, conversational: Builder) -> None:
    make_project({"a.yaml": conversational(), "notes.txt": "not yaml: [",
                  "old.json": "{}", ".hidden.yaml": "bad: [", ".drafts/b.yaml": "bad: [",
                  "prompts/b.yaml": "bad: [", "support/fragments/c.yml": "bad: ["})
    assert sorted(load_project().agents) == ["a"]


def test_errors_across_files_are_all_reported(make_project: MakeProject) -> None:
    found = declaration_errors(make_project, {"a.yaml": "a: [\n", "b.yaml": "x: 1\nx: 2\n"})
    assert found[0].startswith("agents/a.yaml:2:1: invalid YAML")
    assert found[1] == "agents/b.yaml:2:1: duplicate key 'x' (first defined at line 1, column 1)"


def test_missing_project_file(make_project: MakeProject) -> None:
    make_project(project=None)
    with pytest.raises(ProjectFileError, match=re.escape("no operator-iac.yaml found in")):
        load_project()


def test_invalid_project_file_names_file_and_line(make_project: MakeProject,
                                                  line_of: LineOf) -> None:
    text = "project: p\nenvironments:\n  staging:\n    api_key_env: X\n    protekt: true\n"
    make_project(project=text)
    with pytest.raises(ProjectFileError) as caught:
        load_project()
    assert str(caught.value).startswith(
        f"operator-iac.yaml:{line_of(text, 'protekt')}:5: unknown key 'protekt' in "
        "environments.staging; did you mean 'protect'?")


def test_api_key_pasted_into_api_key_env_is_refused_without_echoing_it(
        make_project: MakeProject, project_data: Builder) -> None:
    secret = "op_prod_d0n0tl34k"
    make_project(project=project_data(environments={"staging": {"api_key_env": secret}}))
    with pytest.raises(ProjectFileError) as caught:
        load_project()
    assert "looks like an API key" in str(caught.value)
    assert secret not in str(caught.value)


def test_an_api_key_env_that_is_no_variable_name_is_refused_without_echoing_it(
        make_project: MakeProject, project_data: Builder) -> None:
    secret = "live-d0n0tl34k.x"
    make_project(project=project_data(environments={"staging": {"api_key_env": secret}}))
    with pytest.raises(ProjectFileError) as caught:
        load_project()
    assert "must name the environment variable that holds the API key" in str(caught.value)
    assert secret not in str(caught.value)


def test_missing_agents_dir(make_project: MakeProject, project_data: Builder) -> None:
    make_project(project=project_data(agents_dir="agentz"))
    with pytest.raises(ProjectFileError, match="agents directory 'agentz' does not exist"):
        load_project()


def test_var_missing_in_an_environment(make_project: MakeProject, conversational: Builder,
                                       project_data: Builder) -> None:
    agent = conversational(config={"tool": {"transfers": [{"entity_id": "${var:queue}"},
                                                          {"entity_id": "${var:desk}"}]}})
    project = project_data(environments={"staging": {"vars": {"desk": "+1555"}}})
    found = declaration_errors(make_project, {"a.yaml": agent}, project=project)
    assert len(found) == 1
    assert found[0].endswith(
        "${var:desk} has no value in the vars of environment production")


def test_missing_vars_point_at_the_prompt_file_or_at_the_override(
        make_project: MakeProject, conversational: Builder, project_data: Builder,
        line_of: LineOf) -> None:
    agent = conversational(config={"runtime": {"prompt": {"text": None, "file": "a.md"}}})
    del agent["config"]["runtime"]["prompt"]["text"]
    override = {"a": {"description": "Desk ${var:desk}"}}
    project = project_data(environments={"staging": {"overrides": override}})
    found = declaration_errors(make_project, {"a.yaml": agent}, project=project,
                               files={"agents/a.md": "Hello.\nCall ${var:queue2}.\n"})
    line = line_of(Path("operator-iac.yaml").read_text(encoding="utf-8"), "Desk")
    assert sorted(found) == [
        "agents/a.md:2:6: ${var:queue2} has no value in the vars of environments "
        "staging, production",
        f"operator-iac.yaml:{line}:22: ${{var:desk}} has no value in the vars of environment "
        "staging",
    ]


def test_override_for_an_undeclared_agent(make_project: MakeProject, conversational: Builder,
                                          project_data: Builder) -> None:
    project = project_data(environments={"production": {"overrides": {
        "bookng": {"config": {"runtime": {"model": "x"}}}}}})
    [found] = declaration_errors(make_project, {"booking.yaml": conversational()},
                                 project=project)
    assert found.startswith("operator-iac.yaml:")
    assert "override for 'bookng', which is not a declared agent; did you mean 'booking'?" \
        in found


def test_invalid_override_points_into_the_project_file(make_project: MakeProject,
                                                       conversational: Builder,
                                                       line_of: LineOf) -> None:
    text = """\
        project: p
        environments:
          production:
            overrides:
              a:
                config:
                  runtime: {modle: x}
        """
    [found] = declaration_errors(make_project, {"a.yaml": conversational()}, project=text)
    column = textwrap.dedent(text).splitlines()[6].index("modle") + 1
    assert found == (f"operator-iac.yaml:{line_of(text, 'modle')}:{column}: unknown key 'modle' in "
                     "config.runtime; did you mean 'model'? (known keys: model, prompt, "
                     "variables)")


def test_promote_from_unknown_environment(make_project: MakeProject, conversational: Builder,
                                          project_data: Builder) -> None:
    project = project_data(environments={"production": {"promote_from": "stage"}})
    [found] = declaration_errors(make_project, {"a.yaml": conversational()}, project=project)
    assert "promote_from names unknown environment 'stage'; did you mean 'staging'?" in found


def test_unknown_environment_suggests_the_closest(make_project: MakeProject,
                                                  conversational: Builder) -> None:
    make_project({"a.yaml": conversational()})
    expected = "unknown environment 'prod'; did you mean 'production'?"
    with pytest.raises(ConfigurationError, match=re.escape(expected)):
        load_project().environment("prod")


def test_smoke_policy_merges_defaults_and_agent_settings(make_project: MakeProject,
                                                         conversational: Builder,
                                                         project_data: Builder) -> None:
    make_project({"a.yaml": conversational(smoke_settings={"on": ["released"]}),
                  "b.yaml": conversational()},
                 project=project_data(defaults={"smoke": {"on": ["draft"], "rollback": False}}))
    project = load_project()
    assert (project.smoke_policy("a").on, project.smoke_policy("a").rollback) == (
        ("released",), False)
    assert project.smoke_policy("b").on == ("draft",)
