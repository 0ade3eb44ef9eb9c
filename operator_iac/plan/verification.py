"""Verified releases: a release counts as done only once the smoke tests passed on the
released revision. The evidence is on the platform (``operator_iac.smoke.evidence``): apply
writes a release's smoke records before releasing and names them in the revision's marker,
and deletes the proof record once the smoke tests pass. A released revision whose proof
record is still there was never proven (a run stopped between the release and its smoke
tests, or its tests failed and it was not rolled back); the planner shows it as ``verify``
and apply proves it or rolls it back.

Which released revisions are asked about is a pure question, answered here for the service
that reads the records: those of declared agents that have smoke tests, whose released
revision carries this project's marker for the key. A revision whose marker names no records
was not released by a run that meant to prove it (``--no-smoke`` names records a later run
may prove, but the planner does not ask apply to), and is not flagged.
"""

from __future__ import annotations

from collections.abc import Mapping

from operator_iac.plan.compare import own_marker
from operator_iac.plan.identity import resolve_ownership
from operator_iac.plan.marker import Owner
from operator_iac.spec.desired import DesiredAgent
from operator_iac.state.snapshot import RemoteRevision, Snapshot


def needs_verification(agent: DesiredAgent) -> bool:
    """Whether releases of ``agent`` are proven by smoke tests (and so can be unproven)."""
    return agent.kind == "conversational_agent" and bool(agent.smoke) and bool(agent.smoke_on)


def verification_candidates(desired: Mapping[str, DesiredAgent], snapshot: Snapshot,
                            owner: Owner | str) -> dict[str, tuple[RemoteRevision, str | None]]:
    """Key -> the released revision to read the evidence of (its marker names where), and
    when it was created (where the marker names none, the records follow its creation)."""
    ownership = resolve_ownership(desired, snapshot, owner)
    wanted: dict[str, tuple[RemoteRevision, str | None]] = {}
    for key, agent in sorted(desired.items()):
        remote = ownership.owned.get(key)
        if remote is None or remote.released is None or not needs_verification(agent) or \
                own_marker(remote.released, owner, key) is None:
            continue
        released = remote.released
        created = next((v.created_at for v in remote.versions
                        if v.version_id == released.version_id), None)
        wanted[key] = (released, created)
    return wanted
