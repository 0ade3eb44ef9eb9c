"""The lint report rendered: text lines and summary, the JSON envelope with suppressed findings
and their reasons, and SARIF 2.1.0 validated against the published OASIS schema
(``sarif-schema-2.1.0.json`` beside this file, the errata01 OASIS Standard's schema,
https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json)
with the properties GitHub code scanning reads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator, FormatChecker

from operator_iac.lint import examples
from operator_iac.lint.catalog import RULES
from operator_iac.render.envelope import envelope, render_envelope
from operator_iac.render.lint import lint_json, render_lint_text
from operator_iac.render.lint_sarif import render_lint_sarif

from .conftest import Lint

SCHEMA = json.loads((Path(__file__).parent / "sarif-schema-2.1.0.json").read_text("utf-8"))
PROJECT = ("lint:\n  allowed_models: [anthropic/*]\n"
           "environments:\n  staging: {}\n  production: {}\n")
PROMPT = examples.PROMPT + ("If the line drops, call +1 415 555 0100.\n"
                            "Refunds: dana@acme-support.com  # operator-iac: ignore[OIC104] "
                            "the shared refunds inbox\n")


@pytest.fixture
def report(lint: Lint, tmp_path: Path) -> Any:
    (tmp_path / ".git").mkdir()  # the repository root: above the project's folder
    return lint(examples.support(prompt=PROMPT, project=PROJECT).files)


def test_text_lists_findings_then_a_summary(report: Any) -> None:
    assert render_lint_text(report).splitlines() == [
        "agents/prompts/support.md:4:25: warning OIC103 hard-coded phone number "
        "'+1 415 555 0100'; give it through ${var:NAME} or ${env:NAME}, or suppress it with "
        "a reason if it is a public number",
        "agents/support.yaml:7:12: error OIC301 model 'openai/gpt-4o' is not approved "
        "(lint.allowed_models: anthropic/*)",
        "1 error, 1 warning in 2 files (1 suppressed); 1 agent linted in staging, production"]


def test_json_holds_every_finding_with_suppressions_and_their_reasons(report: Any) -> None:
    part = lint_json(report)
    document = json.loads(render_envelope(envelope("lint", 3, summary=part.summary,
                                                   data=part.data, errors=part.errors)))
    assert document["ok"] is False and document["fail_on"] == "error"
    assert [(e["code"], e["line"]) for e in document["errors"]] == [("lint_finding", 7)]
    assert document["summary"] == {"files": 1, "agents": 1,
                                   "environments": ["staging", "production"], "errors": 1,
                                   "warnings": 1, "suppressed": 1, "problems": 0}
    silenced = [f for f in document["findings"] if f["suppressed"]]
    assert silenced == [{
        "rule": "OIC104", "name": "email-in-text", "severity": "warning",
        "file": "agents/prompts/support.md", "line": 5, "column": 10,
        "message": "hard-coded e-mail address 'dana@acme-support.com'; give it through "
                   "${var:NAME} or ${env:NAME}, or suppress it with a reason if it is a "
                   "public address",
        "agent": "support", "environments": ["staging", "production"],
        "suppressed": {"reason": "the shared refunds inbox"}}]
    assert [f["rule"] for f in document["findings"] if not f["suppressed"]] == \
        ["OIC103", "OIC301"]


def test_sarif_is_valid_against_the_published_schema(report: Any) -> None:
    log = json.loads(render_lint_sarif(report))
    errors = sorted(Draft4Validator(SCHEMA, format_checker=FormatChecker()).iter_errors(log),
                    key=str)
    assert errors == []
    assert SCHEMA["id"].endswith("/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json")


def test_sarif_carries_what_code_scanning_needs(report: Any) -> None:
    log = json.loads(render_lint_sarif(report))
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == list(RULES)
    assert all(r["shortDescription"]["text"] and r["help"]["markdown"] for r in rules)
    off = next(r for r in rules if r["id"] == "OIC503")["defaultConfiguration"]
    assert off == {"level": "none", "enabled": False}
    results = run["results"]
    assert [(r["ruleId"], r["level"]) for r in results] == [("OIC103", "warning"),
                                                             ("OIC301", "error")]
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        (location,) = result["locations"]
        physical = location["physicalLocation"]
        # Relative to the repository root (the folder with .git), not to the working folder.
        assert physical["artifactLocation"]["uri"].startswith("project-0/agents/")
        assert set(physical["region"]) == {"startLine", "startColumn"}
    assert results[0]["locations"][0]["physicalLocation"]["region"] == \
        {"startLine": 4, "startColumn": 25}
    assert "OIC104" not in json.dumps(results)  # suppressed: in the JSON report only


def test_sarif_of_invalid_declarations_reports_them_as_notifications(lint: Lint) -> None:
    broken = lint({"agents/broken.yaml": "kind: conversational_agent\nname: B\n"})
    log = json.loads(render_lint_sarif(broken))
    assert list(Draft4Validator(SCHEMA).iter_errors(log)) == []
    invocation = log["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    assert invocation["toolExecutionNotifications"][0]["level"] == "error"
