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
    "record_smoke_result": "operator_iac.smoke.record",
    "last_smoke_result": "operator_iac.smoke.record",
    "import_agents": "operator_iac.services.import_",
    "ImportOptions": "operator_iac.importing.results",
    # rollback and history
    "rollback_agent": "operator_iac.services.rollback",
    "RollbackRequest": "operator_iac.services.rollback",
    "RollbackRun": "operator_iac.services.rollback",
    "read_history": "operator_iac.services.history",
    "read_commits": "operator_iac.services.commit_rollback",
    "plan_commit_rollback": "operator_iac.services.commit_rollback",
    "rollback_to_commit": "operator_iac.services.commit_rollback",
    "CommitRollbackRequest": "operator_iac.services.commit_rollback",
    # dashboard edits into the files
    "pull_agents": "operator_iac.services.pull:pull",
    "PullRequest": "operator_iac.services.pull",
    # conversations
    "read_transcript": "operator_iac.services.transcript",
    "conversation_test": "operator_iac.services.transcript",
    "write_conversation_test": "operator_iac.services.transcript",
    # checking a platform
    "run_doctor": "operator_iac.services.doctor",
    # renderers
    "render_plan_text": "operator_iac.render.plan_text",
    "render_plan_markdown": "operator_iac.render.plan_markdown",
    "render_plan_json": "operator_iac.render.plan_json",
    "render_apply_text": "operator_iac.render.apply_report",
    "render_apply_markdown": "operator_iac.render.apply_report",
    "render_transcript": "operator_iac.render.transcript",
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
