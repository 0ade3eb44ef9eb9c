"""The operations a user runs, as plain functions over a ``Target``: make a plan, check a saved
one, refuse a plan that must not be written (``preflight``), apply it. The CLI commands are
thin wrappers around these, and the Python API for release scripts exports them, so both
behave the same.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from operator_iac.errors import (
    ConflictError,
    ForeignDraftError,
    PlanFileError,
    StalePlanError,
    UsageError,
)

if TYPE_CHECKING:
    from operator_iac.api.client import OperatorClient
    from operator_iac.apply import ApplyOptions, ApplyReport, Progress, SmokeGate
    from operator_iac.plan.model import Plan, PlanOptions
    from operator_iac.spec.desired import DesiredAgent
    from operator_iac.target import Target

# CI systems name the commit being built; a plain checkout asks git.
COMMIT_VARIABLES = ("GITHUB_SHA", "CI_COMMIT_SHA", "BUILD_VCS_NUMBER", "GIT_COMMIT")
COMMIT_LENGTH = 12


@dataclass(frozen=True)
class PlannedRun:
    """A plan together with the declarations it was made from (secrets resolved)."""

    plan: Plan
    desired: dict[str, DesiredAgent]


def current_commit(root: Path, environ: Mapping[str, str] | None = None) -> str | None:
    """The commit the declarations come from, short; None outside git and CI."""
    environ = os.environ if environ is None else environ
    for name in COMMIT_VARIABLES:
        if environ.get(name):
            return environ[name][:COMMIT_LENGTH]
    try:
        done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                              text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    sha = done.stdout.strip()
    return sha[:COMMIT_LENGTH] if done.returncode == 0 and sha else None


def make_plan(target: Target, client: OperatorClient, *, options: PlanOptions | None = None,
              parallelism: int = 8, environ: Mapping[str, str] | None = None,
              smoke: bool = True) -> PlannedRun:
    """Resolve the declarations, read the platform, and build the plan.

    ``smoke=False`` (``--no-smoke``) makes the plan say that no smoke test will run.
    """
    from operator_iac.plan.builder import build_plan
    from operator_iac.state.fetch import fetch_snapshot

    desired = target.desired(environ)
    snapshot = fetch_snapshot(client, parallelism=parallelism)
    plan = build_plan(desired, snapshot, project=target.project.name,
                      environment=target.env_name, options=options,
                      commit=current_commit(target.project.root, environ),
                      protect=target.protected)
    return PlannedRun(plan if smoke else without_smoke(plan), desired)


def without_smoke(plan: Plan) -> Plan:
    resources = tuple(r.model_copy(update={"smoke": ()}) for r in plan.resources)
    return plan.model_copy(update={"resources": resources})


def load_saved_plan(path: Path, target: Target, environ: Mapping[str, str] | None = None, *,
                    smoke: bool = True) -> PlannedRun:
    """A saved plan, checked against this project, environment and the declarations now.

    ``smoke=False`` (``--no-smoke``) makes the plan say that no smoke test will run.
    """
    from operator_iac.plan.model import Plan

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanFileError(f"{path}: cannot read the plan file ({exc})") from exc
    plan = Plan.from_json(text, source=str(path))
    if plan.project != target.project.name:
        raise UsageError(f"{path}: the plan is for project {plan.project!r}, "
                         f"not {target.project.name!r}")
    if plan.environment != target.env_name:
        raise UsageError(f"{path}: the plan is for environment {plan.environment!r}; "
                         f"pass --env {plan.environment}" if plan.environment else
                         f"{path}: the plan was made without an environment")
    desired = target.desired(environ)
    check_declarations_unchanged(plan, desired)
    return PlannedRun(plan if smoke else without_smoke(plan), desired)


def check_declarations_unchanged(plan: Plan, desired: Mapping[str, DesiredAgent]) -> None:
    """Refuse a saved plan when any declaration, or the set of declared keys, has changed."""
    from operator_iac.plan.compare import DesiredView
    from operator_iac.plan.hashing import declarations_hash

    hashes: dict[str, str] = {}
    for resource in plan.resources:
        if resource.desired_hash is None:
            continue
        agent = desired.get(resource.key)
        if agent is None:
            raise StalePlanError(f"agent {resource.key!r} is no longer declared; "
                                 "make a new plan")
        hashes[resource.key] = DesiredView.of(agent, {}).content_hash
    if declarations_hash(hashes, desired) != plan.declarations_hash:
        raise StalePlanError("the declarations changed since the plan was made; "
                             "make a new plan")


def smoke_gate(project: str, client: OperatorClient, desired: Mapping[str, DesiredAgent], *,
               parallelism: int = 8, keep_conversations: bool = False,
               progress: Progress | None = None, warn: Progress | None = None) -> SmokeGate:
    """The smoke-test gate for ``apply``: runs each agent's smoke tests on the revision under
    test, and records the verdicts that decide about a released revision on the platform
    (``operator_iac.smoke.record``), where ``promote`` checks them."""
    from operator_iac.smoke.gate import smoke_gate as run_smoke_gate
    from operator_iac.smoke.record import recording_gate

    gate = run_smoke_gate(client, desired, parallelism=parallelism,
                          keep_conversations=keep_conversations,
                          progress=progress or (lambda _line: None))
    return recording_gate(gate, client, project=project, warn=warn or (lambda _line: None))


def preflight(plan: Plan, desired: Mapping[str, DesiredAgent], options: ApplyOptions) -> None:
    """Refuse before any write: blocked resources, and declarations that moved since the plan."""
    from operator_iac.plan.writes import check_declarations

    for resource in plan.blocked_resources():
        if resource.blocked == "foreign_draft" and not options.overwrite_draft:
            raise ForeignDraftError(
                f"agent {resource.key!r} ({resource.agent_id}) has an unreleased draft that "
                "operator-iac did not write; review it in the dashboard, or pass "
                "--overwrite-draft to replace it")
        if resource.blocked == "needs_adopt":
            raise UsageError(
                f"agent {resource.key!r}: an agent named {resource.name!r} already exists "
                f"({resource.agent_id}) and is not managed by this project; plan and apply "
                "with --adopt to take it over")
        if resource.blocked == "needs_allow_delete":
            raise UsageError(
                f"agent {resource.key!r} would be deleted in a protected environment; pass "
                "--allow-delete to confirm")
    for resource in plan.ordered_resources():
        if resource.writes:
            agent = desired.get(resource.key)
            if agent is None:
                raise ConflictError(f"agent {resource.key!r} is in the plan but no longer "
                                    "declared; make a new plan")
            check_declarations(resource, agent)


def apply(planned: PlannedRun, client: OperatorClient, *, options: ApplyOptions | None = None,
          smoke_gate: SmokeGate | None = None, progress: Progress | None = None) -> ApplyReport:
    """Check the plan (``preflight``), then carry it out (see ``operator_iac.apply``)."""
    from operator_iac.apply import ApplyOptions, execute_plan

    options = options or ApplyOptions()
    preflight(planned.plan, planned.desired, options)
    return execute_plan(planned.plan, planned.desired, client, options=options,
                        smoke_gate=smoke_gate, progress=progress)
