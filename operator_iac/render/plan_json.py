"""The plan as JSON: exactly the saved plan file format (``docs/plan-format.md``), which is also
the data of ``plan --format json``'s envelope (``docs/json-output.md``)."""

from __future__ import annotations

import json

from operator_iac.plan.model import Plan
from operator_iac.render.envelope import JsonReport


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
