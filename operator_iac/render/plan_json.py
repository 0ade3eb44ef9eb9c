"""The plan as JSON: exactly the saved plan file format (``docs/plan-format.md``)."""

from __future__ import annotations

from operator_iac.plan.model import Plan


def render_plan_json(plan: Plan) -> str:
    """The plan file's text: ``Plan.from_json`` reads it back, checksum and all."""
    return plan.to_json()
