"""The JSON rendering is the plan file itself."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from operator_iac.errors import PlanFileError
from operator_iac.plan.model import Plan
from operator_iac.render.envelope import envelope, error_entry, render_envelope
from operator_iac.render.plan_json import plan_json, plan_report_schema, render_plan_json

Factory = Any


def test_json_is_the_plan_file(make_plan: Factory, make_resource: Factory) -> None:
    plan = make_plan(make_resource("a", "create"), make_resource("b"))

    text = render_plan_json(plan)

    assert Plan.from_json(text) == plan
    assert json.loads(text)["summary"] == {"create": 1, "update": 1, "release": 0, "adopt": 0,
                                           "delete": 0, "unchanged": 0}


def test_the_envelope_of_plan_reads_back_as_the_plan(make_plan: Factory,
                                                     make_resource: Factory) -> None:
    plan = make_plan(make_resource("a", "create"))
    report = envelope("plan", 0, **vars(plan_json(plan)))
    text = render_envelope(report)

    assert Plan.from_json(text) == plan
    assert report["summary"]["create"] == 1 and report["checksum"].startswith("sha256:")
    assert {k: v for k, v in report.items() if k not in ("command", "exit_code", "errors")} \
        == json.loads(plan.to_json())


def test_the_envelope_of_a_failed_plan_is_no_plan_and_says_why() -> None:
    failed = envelope("plan", 3, errors=[error_entry("configuration", "choose an environment")])
    with pytest.raises(PlanFileError, match=r"a plan that failed.*choose an environment"):
        Plan.from_json(render_envelope(failed), source="plan.json")


def test_the_published_schema_of_plan_json_follows_the_plan() -> None:
    published = Path(__file__).resolve().parents[3] / "docs" / "schemas" / "plan.json"
    assert json.loads(published.read_text(encoding="utf-8")) == plan_report_schema(), (
        "regenerate docs/schemas/plan.json: python -c 'import json; from operator_iac.render."
        "plan_json import plan_report_schema as s; print(json.dumps(s(), indent=2))' "
        "> docs/schemas/plan.json")
