"""The Plan value: summary, JSON round trip, and refusal of damaged plan files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from operator_iac.errors import PlanFileError
from operator_iac.plan.model import Plan, _checksum, plan_json_schema
from operator_iac.spec.schema import undescribed_properties

Factory = Any
SCHEMA_FILE = Path(__file__).resolve().parents[3] / "docs" / "plan.schema.json"


@pytest.fixture
def plan(plan_for: Factory, make_desired: Factory, managed: Factory,
         with_config: Factory) -> Plan:
    """A plan with a create, an update (with a secret), a no-op and a delete."""
    kept = make_desired("kept")
    changed = make_desired("changed", sensitive=frozenset({"runtime.prompt.text"}))

    def new_secret(config: dict[str, Any]) -> None:
        config["runtime"]["prompt"]["text"] = "TOPSECRET-2"

    remote = [managed(kept, "ca_1"), managed(changed, "ca_2"),
              managed(make_desired("gone"), "ca_3")]
    return plan_for([kept, with_config(changed, new_secret), make_desired("fresh")], remote,
                    prune=True)


def test_summary_counts_each_action(plan: Plan) -> None:
    summary = plan.summary()

    assert (summary.create, summary.update, summary.delete, summary.unchanged) == (1, 1, 1, 1)
    assert summary.changes == 3
    assert plan.has_changes


def test_json_round_trip_is_lossless(plan: Plan) -> None:
    text = plan.to_json()

    assert Plan.from_json(text) == plan
    data = json.loads(text)
    assert data["format_version"] == 1
    assert data["summary"]["update"] == 1
    assert data["checksum"].startswith("sha256:")


def test_the_plan_file_holds_no_secret(plan: Plan) -> None:
    text = plan.to_json()

    assert "TOPSECRET" not in text
    assert "(sensitive)" in text


def test_reformatting_the_file_keeps_it_valid(plan: Plan) -> None:
    compact = json.dumps(json.loads(plan.to_json()))

    assert Plan.from_json(compact) == plan


def test_a_hand_edited_plan_is_refused(plan: Plan) -> None:
    data = json.loads(plan.to_json())
    data["resources"][0]["action"] = "no-op"

    with pytest.raises(PlanFileError, match="edited or damaged"):
        Plan.from_json(json.dumps(data), source="plan.json")


def test_a_truncated_plan_is_refused(plan: Plan) -> None:
    text = plan.to_json()

    with pytest.raises(PlanFileError, match="truncated"):
        Plan.from_json(text[: len(text) // 2])


@pytest.mark.parametrize(("text", "message"), [
    ("[]", "expected a JSON object"),
    ('{"format_version": 2}', "format_version 2 is not supported"),
    ('{"project": "x"}', "format_version None"),
    ("", "not valid JSON"),
])
def test_other_damage_is_refused_clearly(text: str, message: str) -> None:
    with pytest.raises(PlanFileError, match=message):
        Plan.from_json(text)


def test_a_well_formed_but_invalid_plan_is_refused(plan: Plan) -> None:
    data = json.loads(plan.to_json())
    data["resources"][0]["action"] = "explode"
    data["checksum"] = _checksum(data)

    with pytest.raises(PlanFileError, match=r"resources\.0\.action"):
        Plan.from_json(json.dumps(data))


def test_the_documented_schema_is_current_and_validates_plans(plan: Plan) -> None:
    documented = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))

    assert documented == plan_json_schema(), "regenerate docs/plan.schema.json"
    jsonschema.validate(json.loads(plan.to_json()), documented)


def test_every_property_of_the_plan_file_schema_is_described() -> None:
    total, missing = undescribed_properties(plan_json_schema())

    assert total > 50
    assert missing == [], ("add a docstring under each field in operator_iac/plan/model.py:\n  "
                           + "\n  ".join(missing))
