"""The JSON envelope: its pure builders, the codes of the error classes, and schemas that refuse
what the contract does not allow (so that validating against them means something)."""

from __future__ import annotations

import inspect

import pytest

from operator_iac import errors
from operator_iac.cli.json_report import requested
from operator_iac.errors import DeclarationError, Diagnostic, ProjectFileError
from operator_iac.render import envelope as env
from operator_iac.render.envelope import envelope, exception_entries

from ..e2e.json_contract import SCHEMAS, validator


def error_classes() -> list[type[errors.OperatorIacError]]:
    return [c for _, c in inspect.getmembers(errors, inspect.isclass)
            if issubclass(c, errors.OperatorIacError) and c.__module__ == errors.__name__]


def test_every_error_class_has_a_code_of_its_own() -> None:
    codes = [cls.__dict__.get("code") for cls in error_classes()]
    assert None not in codes and len(set(codes)) == len(codes)


def test_the_schema_lists_every_code_and_no_other() -> None:
    import json

    schema = json.loads((SCHEMAS / "envelope.json").read_text(encoding="utf-8"))
    listed = set(schema["$defs"]["error"]["properties"]["code"]["enum"])
    extra = {value for name, value in vars(env).items() if name.endswith("_CODE")}
    assert listed == {cls.code for cls in error_classes()} | extra


def test_a_finding_keeps_its_position_and_an_error_its_message() -> None:
    typo = Diagnostic("agents/a.yaml", 3, 5, "unknown key 'nmae'")
    warning = Diagnostic("agents/a.yaml", 4, 1, "odd", severity="warning")
    no_line = Diagnostic("operator-iac.yaml", 0, 0, "not found")
    assert exception_entries(DeclarationError([typo, warning])) == [
        {"code": "invalid_declaration", "message": "unknown key 'nmae'",
         "file": "agents/a.yaml", "line": 3, "column": 5}]
    assert exception_entries(ProjectFileError("bad", [no_line])) == [
        {"code": "invalid_project_file", "message": "not found", "file": "operator-iac.yaml"}]
    assert exception_entries(errors.AuthenticationError(401, "GET", "/x")) == [
        {"code": "authentication_failed", "message": "GET /x failed with HTTP 401"}]
    assert exception_entries(KeyError("k"))[0]["code"] == "internal_error"


def test_the_envelope_owns_its_keys() -> None:
    made = envelope("status", 2, summary={"agents": 1},
                    data={"exit_code": 0, "summary": "old", "agents": []})
    assert made == {"format_version": 1, "command": "status", "exit_code": 2,
                    "summary": {"agents": 1}, "agents": [], "errors": []}
    assert list(made) == ["format_version", "command", "exit_code", "summary", "agents",
                          "errors"]


def status_report(**changes: object) -> dict[str, object]:
    report: dict[str, object] = {
        "format_version": 1, "command": "status", "exit_code": 0,
        "summary": {"agents": 0, "in_sync": 0, "drifted": 0, "not_matching": 0},
        "project": "p", "environment": None, "api_url": "http://x", "commit": None,
        "clean": True, "agents": [], "errors": []}
    report.update(changes)
    return report


@pytest.mark.parametrize(("changes", "valid"), [
    ({}, True),
    ({"surprise": 1}, False),  # every top-level field is documented
    ({"agents": None}, False),
    ({"summary": {"agents": 0}}, False),  # a result carries its whole summary
    ({"errors": [{"code": "no_such_code", "message": "m"}]}, False),
    ({"errors": [{"code": "usage", "message": "m", "line": 0}]}, False),
])
def test_the_schema_refuses_what_the_contract_does_not_allow(changes: dict[str, object],
                                                             valid: bool) -> None:
    assert validator("status").is_valid(status_report(**changes)) is valid


def test_a_failure_is_the_envelope_alone_with_an_error() -> None:
    failed = {"format_version": 1, "command": "status", "exit_code": 3, "summary": {},
              "errors": [{"code": "configuration", "message": "choose an environment"}]}
    assert validator("status").is_valid(failed)
    assert not validator("status").is_valid({**failed, "errors": []})
    assert not validator("status").is_valid({**failed, "command": "plan"})


def test_json_is_recognised_on_a_command_line_click_refused() -> None:
    import click

    json_command = click.Command("status", params=[
        click.Option(["--format"], type=click.Choice(["text", "json"]))])
    text_only = click.Command("init", params=[click.Option(["--force"], is_flag=True)])
    named = {"status": json_command, "init": text_only}.get
    assert requested(["status", "--bogus", "--format", "json"], named) == "status"
    assert requested(["--env", "x", "status", "--format=json"], named) == "status"
    assert requested(["status", "--format", "text"], named) is None
    assert requested(["init", "--format", "json"], named) is None


def test_the_documentation_explains_every_code() -> None:
    import json

    schema = json.loads((SCHEMAS / "envelope.json").read_text(encoding="utf-8"))
    page = (SCHEMAS.parent / "json-output.md").read_text(encoding="utf-8")
    codes = schema["$defs"]["error"]["properties"]["code"]["enum"]
    assert [code for code in codes if f"| `{code}` |" not in page] == []
