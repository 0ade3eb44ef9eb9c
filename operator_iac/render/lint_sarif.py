"""The ``lint`` report as SARIF 2.1.0, the format GitHub code scanning reads: every rule of
the table in ``runs[].tool.driver.rules`` (so that code scanning can tell a rule that found
nothing from a rule that does not exist, and close fixed alerts), one result per finding not
suppressed, placed by a path relative to the repository root. Suppressed findings are left
out, so that code scanning never opens an alert the repository has accepted; they are in
the JSON report. Problems that kept files from being linted are tool notifications.
"""

from __future__ import annotations

import json
from typing import Any

from operator_iac import __version__
from operator_iac.errors import Diagnostic
from operator_iac.lint.catalog import RULES
from operator_iac.lint.findings import Finding
from operator_iac.lint.report import LintReport
from operator_iac.render.lint import environments_note
from operator_iac.render.lint_docs import rule_help

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
TOOL_URI = "https://github.com/operator-xyz/operator-iac"
SOURCE_ROOT = "%SRCROOT%"
_LEVELS = {"off": "none", "warning": "warning", "error": "error"}


def render_lint_sarif(report: LintReport) -> str:
    return json.dumps(sarif_log(report), indent=2)


def sarif_log(report: LintReport) -> dict[str, Any]:
    index = {rule_id: n for n, rule_id in enumerate(RULES)}
    run: dict[str, Any] = {
        "tool": {"driver": _driver()},
        "columnKind": "unicodeCodePoints",
        "results": [_result(f, index[f.rule], report) for f in report.active],
        "invocations": [{
            "executionSuccessful": not report.problems,
            "toolExecutionNotifications": [_notification(d, report) for d in report.problems],
        }],
    }
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def _driver() -> dict[str, Any]:
    return {
        "name": "operator-iac",
        "informationUri": TOOL_URI,
        "version": __version__,
        "rules": [{
            "id": rule.id,
            "name": rule.name,
            "shortDescription": {"text": rule.title},
            "fullDescription": {"text": rule.rationale},
            "help": {"text": f"{rule.rationale}\n\nFix: {rule.fix}",
                     "markdown": rule_help(rule)},
            "defaultConfiguration": {"level": _LEVELS[rule.severity],
                                     "enabled": rule.severity != "off"},
            "properties": {"tags": [rule.group]},
        } for rule in RULES.values()],
    }


def _location(file: str, line: int, column: int, report: LintReport) -> dict[str, Any]:
    region = {"startLine": max(line, 1), "startColumn": max(column, 1)}
    return {"physicalLocation": {
        "artifactLocation": {"uri": report.uris.get(file, file), "uriBaseId": SOURCE_ROOT},
        "region": region,
    }}


def _result(finding: Finding, index: int, report: LintReport) -> dict[str, Any]:
    at = finding.at
    properties: dict[str, Any] = {"environments": list(finding.environments)}
    if finding.agent is not None:
        properties["agent"] = finding.agent
    return {
        "ruleId": finding.rule,
        "ruleIndex": index,
        "level": _LEVELS[finding.severity],
        "message": {"text": finding.message + environments_note(finding, report)},
        "locations": [_location(at.file, at.line, at.column, report)],
        "properties": properties,
    }


def _notification(diagnostic: Diagnostic, report: LintReport) -> dict[str, Any]:
    return {
        "level": _LEVELS[diagnostic.severity],
        "message": {"text": diagnostic.message},
        "locations": [_location(diagnostic.file, diagnostic.line, diagnostic.column, report)],
    }
