"""Verified releases: a release counts as done only once the smoke tests passed on the
released revision. The evidence is the smoke record on the platform
(``operator_iac.smoke.record``): apply announces each release it will prove with a *pending*
record before releasing, and the smoke gate records the verdict after. A released revision
whose newest record is pending or failed was never proven (a run stopped between the release
and its smoke tests, or during the rollback that follows a failure); the planner shows it as
``verify`` and apply proves it or rolls it back.

Which released revisions are asked about is a pure question, answered here for the service
that reads the records: those of declared agents that have smoke tests, whose released
revision carries this project's marker for the key. A revision without any record was not
released by a run that meant to prove it (``--no-smoke``, the dashboard, an older version)
and is not flagged.
"""

from __future__ import annotations

from collections.abc import Mapping

from operator_iac.plan.compare import own_marker
from operator_iac.plan.identity import resolve_ownership
from operator_iac.plan.marker import Owner
from operator_iac.spec.desired import DesiredAgent
from operator_iac.state.snapshot import Snapshot


def needs_verification(agent: DesiredAgent) -> bool:
    """Whether releases of ``agent`` are proven by smoke tests (and so can be unproven)."""
    return agent.kind == "conversational_agent" and bool(agent.smoke) and bool(agent.smoke_on)


def verification_candidates(desired: Mapping[str, DesiredAgent], snapshot: Snapshot,
                            owner: Owner | str) -> tuple[dict[str, str], str | None]:
    """Key -> released version id to read the smoke record of, and the earliest creation
    date among those revisions (records are made after the revision they speak about)."""
    ownership = resolve_ownership(desired, snapshot, owner)
    wanted: dict[str, str] = {}
    dates: list[str] = []
    for key, agent in sorted(desired.items()):
        remote = ownership.owned.get(key)
        if remote is None or remote.released is None or not needs_verification(agent) or \
                own_marker(remote.released, owner, key) is None:
            continue
        version_id = wanted[key] = remote.released.version_id
        created = next((v.created_at for v in remote.versions if v.version_id == version_id),
                       None)
        if created:
            dates.append(created)
    return wanted, min(dates, default=None)
