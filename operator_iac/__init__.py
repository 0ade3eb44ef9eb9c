"""operator-iac: Operator agents as code.

The public Python API for scripts is re-exported here lazily, so that importing the package
(and ``operator-iac --version``) stays cheap: nothing heavy is imported until it is used.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# name -> "module" (same name there) or "module:attribute"; resolved on first access.
_LAZY_EXPORTS: dict[str, str] = {
    # declarations
    "load_project": "operator_iac.spec.project",
    "Project": "operator_iac.spec.project",
    "DesiredAgent": "operator_iac.spec.desired",
    # where a run points
    "Target": "operator_iac.services.target",
    "build_target": "operator_iac.services.target",
    "choose_environment": "operator_iac.services.target",
    "OperatorClient": "operator_iac.api.client",
    # plan and apply
    "make_plan": "operator_iac.services.plan",
    "load_saved_plan": "operator_iac.services.plan",
    # ``apply`` is also the name of a subpackage, which would shadow a function of that name.
    "apply_plan": "operator_iac.services.apply:apply",
    "PlannedRun": "operator_iac.services.plan",
    "Plan": "operator_iac.plan.model",
    "PlanOptions": "operator_iac.plan.model",
    "ApplyOptions": "operator_iac.apply.report",
    "ApplyReport": "operator_iac.apply.report",
    # environments: promote, rollback, status, import
    "plan_promotion": "operator_iac.services.promote",
    "check_promotion": "operator_iac.services.promote",
    "run_promotion": "operator_iac.services.promote:promote",
    "promotion_route": "operator_iac.services.promote",
    "fetch_status": "operator_iac.services.status",
    "smoke_gate": "operator_iac.smoke.gate",
    "record_smoke_result": "operator_iac.smoke.evidence",
    "last_smoke_result": "operator_iac.smoke.evidence",
    "import_agents": "operator_iac.services.import_",
    "ImportOptions": "operator_iac.importing.results",
    # renderers
    "render_plan_text": "operator_iac.render.plan_text",
    "render_plan_markdown": "operator_iac.render.plan_markdown",
    "render_plan_json": "operator_iac.render.plan_json",
    "render_apply_text": "operator_iac.render.apply_report",
    "render_apply_markdown": "operator_iac.render.apply_report",
    # errors
    "OperatorIacError": "operator_iac.errors",
}

__all__ = ["__version__", *_LAZY_EXPORTS]


def __getattr__(name: str) -> Any:
    target = _LAZY_EXPORTS.get(name)
    if target is None:
        raise AttributeError(f"module 'operator_iac' has no attribute {name!r}")
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute or name)


def __dir__() -> list[str]:
    return sorted(__all__)
