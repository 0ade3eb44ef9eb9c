"""The lint service on small projects: environments and their overrides, configuration in the
project file, suppressions in prompt files and fragments, invalid declarations, PATHs."""

from __future__ import annotations

from pathlib import Path

import pytest

from operator_iac.errors import ConfigurationError
from operator_iac.lint import examples
from operator_iac.lint.examples import AGENT, PROMPT, PROMPT_FILE, conversational
from operator_iac.render.lint import render_lint_text
from operator_iac.services.lint import lint_paths

from .conftest import Lint

TWO_ENVS = "environments:\n  staging: {}\n  production: {}\n"
PHONE = PROMPT + "If the line drops, call +1 415 555 0100.\n"


def _rules(report: object) -> list[str]:
    return [f.rule for f in report.active]  # type: ignore[attr-defined]


def test_an_override_is_linted_where_it_is_written_and_only_in_its_environment(
        lint: Lint) -> None:
    project = ("lint:\n  allowed_models: [openai/*]\nenvironments:\n  staging: {}\n"
               "  production:\n    overrides:\n      support:\n"
               "        config: {runtime: {model: mistral/large}}\n")
    report = lint(examples.support(project=project).files)
    (finding,) = report.active
    assert finding.rule == "OIC301" and finding.environments == ("production",)
    assert (finding.at.file, finding.at.line) == ("operator-iac.yaml", 9)
    assert "mistral/large" in finding.message
    assert render_lint_text(report).splitlines()[0].endswith("[production]")
    assert lint(examples.support(project=project).files, env="staging").active == []


def test_a_tool_an_override_drops_is_judged_as_validate_judges_prompt_references(
        lint: Lint) -> None:
    project = ("environments:\n  staging: {}\n  production:\n    overrides:\n      support:\n"
               "        config: {tool: {tools: [{ns: acme, name: lookup_orders}]}}\n")
    files = dict(examples.with_summary(project=project).files)
    files[PROMPT_FILE] = PROMPT + "After the call, @call-summary runs.\n"  # a procedural agent
    report = lint(files)
    (finding,) = [f for f in report.active if f.rule == "OIC204"]
    assert finding.environments == ("production",)
    assert (finding.at.file, finding.at.line, finding.at.column) == (PROMPT_FILE, 3, 5)
    assert finding.message.startswith("prompt references @lookup_order, which is neither")
    assert finding.message.endswith("did you mean 'lookup_orders'?")


def test_a_finding_shared_by_environments_is_reported_once(lint: Lint) -> None:
    report = lint(examples.support(prompt=PHONE, project=TWO_ENVS).files)
    (finding,) = report.active
    assert finding.environments == ("staging", "production")
    assert (finding.at.file, finding.at.line, finding.at.column) == \
        ("agents/prompts/support.md", 4, 25)
    assert report.environments == ("staging", "production")
    assert "[" not in render_lint_text(report).splitlines()[0]


def test_findings_in_fragments_are_placed_there_and_silenced_from_the_agent_file(
        lint: Lint) -> None:
    files = {AGENT: conversational(), PROMPT_FILE: PROMPT + "{{> fragments/contact.md}}\n",
             "agents/prompts/fragments/contact.md": "Our desk: dana@acme-support.com\n"}
    (finding,) = lint(files).active
    assert (finding.at.file, finding.at.line, finding.at.column) == \
        ("agents/prompts/fragments/contact.md", 1, 11)
    files[AGENT] = files[AGENT].replace(
        "prompt: {file: prompts/support.md}",
        "prompt: {file: prompts/support.md}  # operator-iac: ignore[OIC104] shared inbox")
    report = lint(files)
    assert report.active == [] and [f.suppressed for f in report.suppressed] == ["shared inbox"]


def test_stale_and_unknown_suppressions_are_reported(lint: Lint) -> None:
    prompt = PROMPT.replace("order.\n", "order.  # operator-iac: ignore[OIC104, OIC999] old\n")
    files = examples.support(prompt=prompt, project=TWO_ENVS).files
    everything = lint(files)
    assert [(f.rule, f.message) for f in everything.active] == [
        ("OIC002", "suppression names 'OIC999', which is not a lint rule"),
        ("OIC002", "suppression of OIC104 silences nothing on this line")]
    # One environment cannot tell that a suppression is stale: another may need it.
    assert [f.message for f in lint(files, env="production").active] == [
        "suppression names 'OIC999', which is not a lint rule"]


def test_a_suppression_meant_for_an_agent_not_linted_is_not_stale(lint: Lint) -> None:
    project = ("lint:\n  allowed_models: [openai/*]\nenvironments:\n  staging: {}\n"
               "  production:\n    overrides:\n      support:\n"
               "        config: {runtime: {model: mistral/large}}  "
               "# operator-iac: ignore[OIC301] a trial in production\n")
    files = dict(examples.with_summary(project=project).files)
    files[examples.SUMMARY] = files[examples.SUMMARY].replace(
        "name: Call summary\n", "name: Call summary  # operator-iac: ignore[OIC105] old\n")
    stale = [("OIC002", examples.SUMMARY, 2)]
    report = lint(files)
    assert [(f.rule, f.at.file, f.at.line) for f in report.active] == stale
    assert [f.rule for f in report.suppressed] == ["OIC301"]
    # The project file's suppression is for support, which a PATH naming call-summary leaves
    # out; the one in call-summary's own file is still known to be stale.
    named = lint_paths([Path(examples.SUMMARY)], start=Path.cwd())
    assert [(f.rule, f.at.file, f.at.line) for f in named.active] == stale


def test_a_suppression_without_a_reason_silences_nothing(lint: Lint) -> None:
    prompt = PHONE.replace("0100.\n", "0100.  # operator-iac: ignore[OIC103]\n")
    report = lint(examples.support(prompt=prompt).files)
    assert sorted(_rules(report)) == ["OIC001", "OIC103"]
    assert report.failed  # OIC001 is an error


def test_the_project_and_its_environments_configure_rules_field_by_field(lint: Lint) -> None:
    prompt = PHONE + "Refunds: dana@acme-support.com\n"
    project = ("lint:\n  rules: {OIC103: error}\n  max_prompt_chars: 100\n"
               "environments:\n  staging:\n    lint: {rules: {OIC104: off}}\n"
               "  production: {}\n")
    report = lint(examples.support(prompt=prompt, project=project).files)
    by_rule = {f.rule: f for f in report.active}
    assert by_rule["OIC103"].severity == "error"
    assert by_rule["OIC103"].environments == ("staging", "production")
    assert by_rule["OIC104"].environments == ("production",)
    assert by_rule["OIC202"].environments == ("staging", "production")
    assert "over the budget of 100" in by_rule["OIC202"].message


def test_without_a_lint_section_the_defaults_apply(lint: Lint) -> None:
    filler = "Answer in one short sentence, then ask what else you can do.\n"
    long = PROMPT + filler * (16_000 // len(filler) + 1)
    assert _rules(lint(examples.support(prompt=long).files)) == ["OIC202"]
    assert _rules(lint(examples.support(prompt=long[:15_990]).files)) == []


def test_an_unknown_rule_id_in_the_configuration_is_invalid_input(lint: Lint) -> None:
    project = "lint:\n  rules: {OIC130: off}\nenvironments:\n  production:\n" \
              "    lint: {rules: {OIC999: error}}\n"
    report = lint(examples.support(project=project).files)
    assert [(d.file, d.line, d.message) for d in report.problems] == [
        ("operator-iac.yaml", 3, "OIC130 is not a lint rule; did you mean 'OIC303'?"),
        ("operator-iac.yaml", 6, "OIC999 is not a lint rule")]
    assert report.failed


def test_invalid_agents_are_reported_and_the_others_linted(lint: Lint) -> None:
    files = {**examples.support(prompt=PHONE).files,
             "agents/broken.yaml": "kind: conversational_agent\nname: Broken\n"}
    report = lint(files)
    assert [d.file for d in report.problems] == ["agents/broken.yaml"]
    assert _rules(report) == ["OIC103"] and report.agents == 1 and report.failed


def test_fail_on_warning(lint: Lint) -> None:
    files = examples.support(prompt=PHONE).files
    assert not lint(files).failed
    report = lint(files, fail_on="warning")
    assert report.failed and [f.rule for f in report.failing] == ["OIC103"]


def test_a_template_reports_a_shared_line_once(lint: Lint) -> None:
    template = conversational().replace("name: Support\n", "name: Support ${var:city}\n") + \
        "instances:\n  - {key: support-paris, vars: {city: Paris}}\n" \
        "  - {key: support-rome, vars: {city: Rome}}\n"
    report = lint({AGENT: template, PROMPT_FILE: PHONE})
    assert report.agents == 2
    assert [(f.rule, f.agent) for f in report.active] == [("OIC103", "support-paris")]


def test_paths_lint_only_the_files_named(lint: Lint, tmp_path: Path) -> None:
    files = {**examples.support(prompt=PHONE).files, "agents/prompts/other.md": PROMPT,
             "agents/other.yaml": conversational(description='""').replace("support.md",
                                                                           "other.md")}
    assert sorted(_rules(lint(files))) == ["OIC103", "OIC701"]
    root = Path.cwd()
    named = lint_paths([root / "agents" / "other.yaml"], start=root)
    assert _rules(named) == ["OIC701"] and named.files == 1


def test_an_unknown_environment_is_a_configuration_error(lint: Lint) -> None:
    with pytest.raises(ConfigurationError, match=r"unknown environment 'prod'.*production"):
        lint(examples.support(project=TWO_ENVS).files, env="prod")


def test_the_disclosure_must_be_in_the_greeting_instructions(lint: Lint) -> None:
    project = "lint:\n  require_ai_disclosure: true\n"
    elsewhere = ("You are Sam, an AI assistant for Acme orders.\n\nGreet the caller warmly.\n"
                 "Use @lookup_order to find orders.\n")
    (finding,) = lint(examples.support(prompt=elsewhere, project=project).files).active
    assert finding.rule == "OIC201" and (finding.at.line, finding.at.column) == (3, 1)
    custom = project + "  disclosure_phrases: ['digital colleague']\n"
    greeting = "Greet the caller as Acme's digital colleague.\nUse @lookup_order.\n"
    assert lint(examples.support(prompt=greeting, project=custom).files).active == []
