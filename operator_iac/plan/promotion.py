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
the promotion does not touch them. The checks here are pure functions of a source plan, snapshot
and records; ``operator_iac.services.promote`` fetches those and applies the promotion.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from operator_iac.errors import PromotionRefusedError
from operator_iac.plan.compare import own_marker
from operator_iac.plan.hashing import hash_matches
from operator_iac.plan.marker import DIRTY, Marker, Owner

if TYPE_CHECKING:
    from operator_iac.plan.model import ResourcePlan
    from operator_iac.smoke.record import SmokeRecord
    from operator_iac.spec.desired import DesiredAgent
    from operator_iac.state.snapshot import RemoteAgent


@dataclass(frozen=True)
class AgentCheck:
    """What the source environment says about one agent to be promoted."""

    key: str
    source_version_id: str | None
    reasons: tuple[str, ...] = ()
    source_hash: str | None = None  # the content hash in the released revision's marker
    smoke: SmokeRecord | None = None
    source_commit: str | None = None  # the commit in that marker (``+dirty``: uncommitted)
    deletion: bool = False  # the promotion deletes the agent (``--prune``)

    @property
    def ok(self) -> bool:
        return not self.reasons


@dataclass(frozen=True)
class PromotionCheck:
    """The source environment's verdict on every agent a promotion would change."""

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
            if agent.deletion:
                verdict = "ready to delete" if agent.ok else "NOT READY to delete"
                lines.append(f"  {agent.key}: {verdict} ({self.source} no longer has it)"
                             if agent.ok else f"  {agent.key}: {verdict}")
                continue
            where = agent.source_version_id or "nothing released"
            verdict = "ready" if agent.ok else "NOT READY"
            smoke = ", smoke tests passed" if agent.smoke is not None and agent.ok else ""
            lines.append(f"  {agent.key}: {verdict} ({self.source}: {where}{smoke})")
        return lines

    def warnings(self, commit: str | None) -> list[str]:
        """Provenance to be careful about: agents the source released from uncommitted
        changes, and a promotion made from them (``commit`` of the destination plan)."""
        found = [f"{a.key}: {self.source} released it from uncommitted changes (commit "
                 f"{a.source_commit}): no commit holds exactly what is promoted"
                 for a in self.agents if a.source_commit and a.source_commit.endswith(DIRTY)]
        if commit and commit.endswith(DIRTY):
            found.append(f"the declarations have uncommitted changes (commit {commit}); "
                         f"{self.destination}'s markers will say so")
        return found

    def raise_if_refused(self) -> None:
        refused = self.refused
        if not refused:
            return
        count = f"{len(refused)} agent{'s' if len(refused) > 1 else ''}"
        details = "\n".join(f"  {a.key}: " + "; ".join(a.reasons) for a in refused)
        raise PromotionRefusedError(
            f"promotion from {self.source} to {self.destination} refused: {count} not "
            f"released and smoke-tested in {self.source} as declared:\n{details}")


def agent_reasons(resource: ResourcePlan, remote: RemoteAgent | None, *,
                  project: Owner | str, source: str) -> tuple[str, ...]:
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
            *_draft_reasons(resource, remote, marker.content_hash, project, source))


def _content_reasons(resource: ResourcePlan, version_id: str, marker: Marker,
                     source: str) -> list[str]:
    if resource.action == "no-op":
        # The released revision holds what the declarations produce for the source (compared
        # through the platform's stored forms); a marker naming older content means only that
        # the files were brought up to the platform (``pull``), not that anything differs.
        return []
    wanted = resource.desired_hash
    if wanted is None or not hash_matches(marker.content_hash, wanted):
        return [f"{source} released other content ({version_id}, hash {marker.content_hash}, "
                f"commit {marker.commit or 'unknown'}) than the declarations produce for "
                f"{source} (hash {wanted}): apply them to {source} first"]
    return [f"the released revision {version_id} in {source} differs from the "
            f"declarations: apply them to {source} first"]


def same_agent_reasons(key: str, agent_id: str | None, source_id: str | None, *, source: str,
                       destination: str) -> tuple[str, ...]:
    """Why a promotion cannot write ``key``: the source and the destination resolve it to one
    and the same agent (both environments on one account, with markers that name no
    environment), so promoting would rewrite the source's own agent."""
    if agent_id is None or agent_id != source_id:
        return ()
    return (f"{source} and {destination} both resolve {key!r} to agent {agent_id} (one "
            "account, markers written before environments were recorded): promoting would "
            f"rewrite {source}'s own agent; run operator-iac apply --env {source} "
            f"--record-environment first, then {destination} gets agents of its own",)


def _draft_reasons(resource: ResourcePlan, remote: RemoteAgent, released_hash: str,
                   project: Owner | str, source: str) -> list[str]:
    draft = remote.draft
    marker = own_marker(draft, project, resource.key)
    if draft is None or marker is None or hash_matches(marker.content_hash, released_hash):
        return []
    # The source plan's ``stale_draft``: still as operator-iac wrote it, so the flag can
    # discard it; otherwise it was edited since (in the dashboard), which is a person's.
    way_out = (f"release it in {source} (apply) or discard it (operator-iac apply --env "
               f"{source} --discard-drafts)" if resource.stale_draft == draft.version_id else
               f"it was edited outside operator-iac since: review it in {source}'s dashboard")
    return [f"{source} has an unreleased draft {draft.version_id} written by operator-iac "
            f"(commit {marker.commit or 'unknown'}): it was applied but never released "
            f"there, so it was not promoted; {way_out}"]


def deletion_reasons(key: str, still_there: str | None, *, source: str) -> tuple[str, ...]:
    """Why an agent the declarations no longer declare cannot be deleted by a promotion:
    the source still holds it (``still_there``: its id), so its deletion was never applied
    and seen there first."""
    if still_there is None:
        return ()
    return (f"{source} still has {still_there} for {key!r}: delete it there first "
            f"(operator-iac apply --env {source} --prune), then promote the deletion",)


def smoke_reasons(record: SmokeRecord | None, version_id: str, marker_hash: str | None, *,
                  key: str, source: str) -> tuple[str, ...]:
    """Why the smoke record does not allow promoting ``version_id``."""
    if record is None or (record.pending and not record.tested):
        return (f"no smoke run of {version_id} is recorded in {source}: run "
                f"operator-iac smoke --env {source} {key} (a revision released without smoke "
                "records, by the platform or the dashboard, cannot keep one: the agent's next "
                "release by apply can)",)
    if record.pending and not record.passed:
        return (f"the smoke tests of {version_id} never passed in {source} since its release "
                f"({record.summary}): prove it with operator-iac apply --env {source}, or "
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
