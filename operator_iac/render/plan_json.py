"""The plan as JSON: exactly the saved plan file format (``docs/plan-format.md``), which is also
the data of ``plan --format json``'s envelope (``docs/json-output.md``)."""

from __future__ import annotations

import json

from operator_iac.plan.model import Plan, plan_json_schema
from operator_iac.render.envelope import JsonObject, JsonReport

PLAN_FILE_SCHEMA = "../plan.schema.json"  # docs/plan.schema.json, from docs/schemas/plan.json
# Every summary of a plan has these counts (``verify`` only when there is one).
SUMMARY_COUNTS = ("create", "update", "release", "adopt", "delete", "unchanged")


def render_plan_json(plan: Plan) -> str:
    """The plan file's text: ``Plan.from_json`` reads it back, checksum and all."""
    return plan.to_json()


def plan_json(plan: Plan) -> JsonReport:
    """The plan file's fields as the envelope's data, its ``summary`` as the envelope's, and
    its ``format_version``: the envelope is a plan file with ``command``, ``exit_code`` and
    ``errors`` added, so ``apply`` reads the output of ``plan --format json`` as a plan file."""
    data = json.loads(plan.to_json())
    summary = data.pop("summary")
    return JsonReport(data, summary, format_version=data.pop("format_version"))


def plan_report_schema() -> JsonObject:
    """The JSON Schema of ``plan --format json`` (``docs/schemas/plan.json``): the envelope,
    and each field of the plan file as ``docs/plan.schema.json`` describes it. Derived from
    the plan's own schema, so that a field the plan gains is in both."""
    fields = [name for name in plan_json_schema()["properties"]
              if name not in ("format_version", "summary")]
    success = {"required": fields, "properties": {"summary": {
        "$ref": f"{PLAN_FILE_SCHEMA}#/$defs/Summary", "required": list(SUMMARY_COUNTS)}}}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "operator-iac plan --format json",
        "description": "The plan file (docs/plan-format.md, docs/plan.schema.json) with "
                       "command, exit_code and errors added: saved from stdout, it is applied "
                       "as a plan file. Its summary is the plan's counts.",
        "$ref": "envelope.json",
        "properties": {"command": {"const": "plan"},
                       **{name: {"$ref": f"{PLAN_FILE_SCHEMA}#/properties/{name}"}
                          for name in fields}},
        "anyOf": [success, {"$ref": "envelope.json#/$defs/failed"}],
        "unevaluatedProperties": False,
    }
