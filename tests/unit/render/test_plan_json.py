"""The JSON rendering is the plan file itself."""

from __future__ import annotations

import json
from typing import Any

from operator_iac.plan.model import Plan
from operator_iac.render.plan_json import render_plan_json

Factory = Any


def test_json_is_the_plan_file(make_plan: Factory, make_resource: Factory) -> None:
    plan = make_plan(make_resource("a", "create"), make_resource("b"))

    text = render_plan_json(plan)

    assert Plan.from_json(text) == plan
    assert json.loads(text)["summary"] == {"create": 1, "update": 1, "release": 0, "adopt": 0,
                                           "delete": 0, "unchanged": 0}
