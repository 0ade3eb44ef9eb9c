"""Promotion: carry into one environment exactly what was released and smoke-tested in another.

The destination is planned from the declarations as usual, with its own vars and overrides.
Before anything is written, every agent the plan changes is checked in the source
environment, in the source's own terms (vars and overrides make the content hashes of two
environments differ, so the declarations are resolved for the source and compared with what
the source released; the markers make this a comparison of hashes):

- the source holds an agent carrying this project's marker for the key, with a released
  revision that carries the marker too;
- the hash in that marker is the hash the declarations produce for the source, and the
  revision still holds that content (it was not edited outside operator-iac);
- the source has no unreleased draft written by operator-iac with other content (a change
  applied there but never released, so never tested as released);
- when the agent has smoke tests, the last smoke record of that released revision passed
  (``operator_iac.smoke.record``).

One failing check refuses the whole promotion (``PromotionRefusedError``, exit 5) with every
agent and reason listed. Agents the destination already holds as declared are not checked:
the promotion does not touch them. The checks are pure functions of a source plan, snapshot
and records; fetching those is this module's I/O half.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from operator_iac.errors import PromotionRefusedError, UsageError
from operator_iac.plan.compare import own_marker
from operator_iac.plan.hashing import hash_matches
from operator_iac.plan.marker import Marker

if TYPE_CHECKING:
    from operator_iac.api.client import OperatorClient
    from operator_iac.apply import ApplyOptions, ApplyReport, Progress, SmokeGate
    from operator_iac.plan.model import Plan, PlanOptions, ResourcePlan
    from operator_iac.smoke.record import SmokeRecord
    from operator_iac.spec.desired import DesiredAgent
    from operator_iac.spec.project import Project
    from operator_iac.state.snapshot import RemoteAgent, Snapshot
    from operator_iac.target import Target
    from operator_iac.workflow import PlannedRun


@dataclass(frozen=True)
class AgentCheck:
    """What the source environment says about one agent to be promoted."""

    key: str
    source_version_id: str | None
    reasons: tuple[str, ...] = ()
    source_hash: str | None = None  # the content hash in the released revision's marker
    smoke: SmokeRecord | None = None

    @property
    def ok(self) -> bool:
        return not self.reasons


@dataclass(frozen=True)
class PromotionCheck:
    source: str
    destination: str
    agents: tuple[AgentCheck, ...]

    @property
    def refused(self) -> tuple[AgentCheck, ...]:
        return tuple(a for a in self.agents if not a.ok)

    def lines(self) -> list[str]:
        """One line per agent checked (the reasons are in the refusal)."""
        lines = []
        for agent in self.agents:
            where = agent.source_version_id or "nothing released"
            verdict = "ready" if agent.ok else "NOT READY"
            smoke = ", smoke tests passed" if agent.smoke is not None and agent.ok else ""
            lines.append(f"  {agent.key}: {verdict} ({self.source}: {where}{smoke})")
        return lines

    def raise_if_refused(self) -> None:
        refused = self.refused
        if not refused:
            return
        count = f"{len(refused)} agent{'s' if len(refused) > 1 else ''}"
        details = "\n".join(f"  {a.key}: " + "; ".join(a.reasons) for a in refused)
        raise PromotionRefusedError(
            f"promotion from {self.source} to {self.destination} refused: {count} not "
            f"released and smoke-tested in {self.source} as declared:\n{details}")


@dataclass(frozen=True)
class Promotion:
    """A destination plan together with the source check that allows (or refuses) it."""

    planned: PlannedRun
    check: PromotionCheck


# ---- the route -------------------------------------------------------------------------------


def promotion_route(project: Project, source: str | None, destination: str) -> str:
    """The source environment for promoting into ``destination``: ``source`` (checked against
    the destination's ``promote_from``) or, when not given, that ``promote_from``."""
    env = project.environment(destination)
    if source is None:
        if env.promote_from is None:
            raise UsageError(f"environment {destination!r} has no promote_from; say where to "
                             "promote from with --from")
        source = env.promote_from
    project.environment(source)
    if source == destination:
        raise UsageError(f"cannot promote {destination!r} into itself")
    if env.promote_from is not None and env.promote_from != source:
        raise UsageError(f"environment {destination!r} receives promotions from "
                         f"{env.promote_from!r} only, not from {source!r}")
    return source


# ---- checking the source (pure) --------------------------------------------------------------


def agent_reasons(resource: ResourcePlan, remote: RemoteAgent | None, *, project: str,
                  source: str) -> tuple[str, ...]:
    """Why the source's released revision is not what the declarations produce for it."""
    if remote is None:
        return (f"not on {source}: apply it to {source} first",)
    if resource.action == "adopt":
        return (f"{source} holds an agent named {resource.name!r} ({remote.id}) that "
                f"operator-iac never applied: apply to {source} with --adopt first",)
    released = remote.released
    if released is None:
        return (f"nothing is released in {source} ({remote.id})",)
    marker = own_marker(released, project, resource.key)
    if marker is None:
        return (f"the released revision {released.version_id} in {source} carries no "
                "operator-iac marker: it was changed outside operator-iac",)
    if resource.drift:
        return (f"the released revision {released.version_id} in {source} was changed "
                "outside operator-iac after it was released",)
    return (*_content_reasons(resource, released.version_id, marker, source),
            *_draft_reasons(remote, marker.content_hash, project, resource.key, source))


def _content_reasons(resource: ResourcePlan, version_id: str, marker: Marker,
                     source: str) -> list[str]:
    wanted = resource.desired_hash
    if wanted is None or not hash_matches(marker.content_hash, wanted):
        return [f"{source} released other content ({version_id}, hash {marker.content_hash}, "
                f"commit {marker.commit or 'unknown'}) than the declarations produce for "
                f"{source} (hash {wanted}): apply them to {source} first"]
    if resource.action != "no-op":
        return [f"the released revision {version_id} in {source} differs from the "
                f"declarations: apply them to {source} first"]
    return []


def _draft_reasons(remote: RemoteAgent, released_hash: str, project: str, key: str,
                   source: str) -> list[str]:
    draft = remote.draft
    marker = own_marker(draft, project, key)
    if draft is None or marker is None or hash_matches(marker.content_hash, released_hash):
        return []
    return [f"{source} has an unreleased draft {draft.version_id} written by operator-iac "
            f"(commit {marker.commit or 'unknown'}): it was applied but never released "
            f"there, so it was not promoted; release it in {source} (apply) or discard it"]


def smoke_reasons(record: SmokeRecord | None, version_id: str, marker_hash: str | None, *,
                  key: str, source: str) -> tuple[str, ...]:
    """Why the smoke record does not allow promoting ``version_id``."""
    if record is None:
        return (f"no smoke run of {version_id} is recorded in {source}: run "
                f"operator-iac smoke --env {source} {key}",)
    if not record.passed:
        return (f"the last smoke run of {version_id} in {source} failed ({record.at}): "
                f"{record.summary}",)
    if record.content_hash and marker_hash and not hash_matches(record.content_hash,
                                                                marker_hash):
        return (f"the last smoke run recorded for {version_id} in {source} tested other "
                f"content (hash {record.content_hash}): run operator-iac smoke --env "
                f"{source} {key}",)
    return ()


def needs_smoke(agent: DesiredAgent | None) -> bool:
    """Only agents whose smoke tests run during apply can have a recorded run."""
    return bool(agent is not None and agent.kind == "conversational_agent" and agent.smoke
                and agent.smoke_on)


# ---- checking the source (I/O) ---------------------------------------------------------------


def check_promotion(plan: Plan, source: Target, source_client: OperatorClient, *,
                    environ: Mapping[str, str] | None = None,
                    parallelism: int = 8) -> PromotionCheck:
    """Check every agent ``plan`` changes against the source environment."""
    from operator_iac.plan.builder import build_plan
    from operator_iac.plan.model import RELEASING_ACTIONS
    from operator_iac.state.fetch import fetch_snapshot

    # The agents whose release the promotion changes are the ones checked in the source.
    keys = [r.key for r in plan.resources if r.action in RELEASING_ACTIONS]
    destination = plan.environment or "(no environment)"
    source_name = source.env_name or "(no environment)"
    if not keys:
        return PromotionCheck(source_name, destination, ())
    desired = source.desired(environ)
    snapshot = fetch_snapshot(source_client, parallelism=parallelism)
    source_plan = build_plan(desired, snapshot, project=plan.project,
                             environment=source.env_name, protect=source.protected)
    checks = [_check(source_plan, snapshot, key, source_name) for key in keys]
    with ThreadPoolExecutor(max_workers=max(1, min(parallelism, len(checks))),
                            thread_name_prefix="operator-iac-promote") as pool:
        done = list(pool.map(lambda c: _with_smoke(c, desired.get(c.key), source_client,
                                                   plan.project, source_name), checks))
    return PromotionCheck(source_name, destination, tuple(done))


def _check(source_plan: Plan, snapshot: Snapshot, key: str, source: str) -> AgentCheck:
    resource = source_plan.resource(key)
    if resource is None:
        return AgentCheck(key, None, (f"{key!r} is not declared for {source}",))
    remote = snapshot.by_id(resource.agent_id) if resource.agent_id else None
    released = remote.released if remote is not None else None
    marker = own_marker(released, source_plan.project, key)
    reasons = agent_reasons(resource, remote, project=source_plan.project, source=source)
    return AgentCheck(key, released.version_id if released else None, reasons,
                      marker.content_hash if marker else None)


def _with_smoke(check: AgentCheck, agent: DesiredAgent | None, client: OperatorClient,
                project: str, source: str) -> AgentCheck:
    if not check.ok or check.source_version_id is None or not needs_smoke(agent):
        return check
    from operator_iac.smoke.record import last_smoke_result

    version_id = check.source_version_id
    record = last_smoke_result(client, project=project, key=check.key, agent_id=version_id)
    reasons = smoke_reasons(record, version_id, check.source_hash, key=check.key,
                            source=source)
    return replace(check, reasons=reasons, smoke=record)


# ---- the service -----------------------------------------------------------------------------


def plan_promotion(destination: Target, destination_client: OperatorClient, source: Target,
                   source_client: OperatorClient, *, options: PlanOptions | None = None,
                   parallelism: int = 8, environ: Mapping[str, str] | None = None,
                   smoke: bool = True) -> Promotion:
    """Plan the destination from the declarations and check the source for it."""
    from operator_iac.workflow import make_plan

    planned = make_plan(destination, destination_client, options=options,
                        parallelism=parallelism, environ=environ, smoke=smoke)
    return Promotion(planned, check_promotion(planned.plan, source, source_client,
                                              environ=environ, parallelism=parallelism))


def check_saved_promotion(planned: PlannedRun, source: Target, source_client: OperatorClient,
                          *, environ: Mapping[str, str] | None = None,
                          parallelism: int = 8) -> Promotion:
    """A saved destination plan (``load_saved_plan``), checked against the source now."""
    return Promotion(planned, check_promotion(planned.plan, source, source_client,
                                              environ=environ, parallelism=parallelism))


def promote(promotion: Promotion, destination_client: OperatorClient, *,
            options: ApplyOptions | None = None, smoke_gate: SmokeGate | None = None,
            progress: Progress | None = None) -> ApplyReport:
    """Apply a checked promotion; refuses (exit 5) when the check found any problem."""
    from operator_iac.workflow import apply

    promotion.check.raise_if_refused()
    return apply(promotion.planned, destination_client, options=options,
                 smoke_gate=smoke_gate, progress=progress)
