"""Every agent back to a commit (``rollback --all --to-commit SHA``), and the commits that can be
named (``history --all``). Pure: from the revisions' markers and dates.

A commit can be targeted when some revision of the project carries it in its marker (without
``+dirty``: such a revision holds uncommitted changes, not the commit). The commit's *moment*
is when its last revision was written. Per agent this project owns:

- it has revisions written from the commit: the newest of them (not the draft) is the target;
- it has none (the commit did not change it): the newest revision it had at the commit's
  moment, one operator-iac wrote, is the target, so that the whole project is as it was;
- its first revision came after that moment: it was *created after* the commit, and is listed
  and left alone (or deleted, when asked).

A candidate must still hold what its marker says was written (``compare.holds_own_writing``):
a dashboard edit that kept the marker is not a revision written from the commit, so the
service reads each candidate's content before choosing it (``chosen_target``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from operator_iac.errors import SmokeIncompleteError, SmokeTestFailedError, UsageError
from operator_iac.plan.marker import Marker, parse_own_marker
from operator_iac.plan.rollback import RollbackPlan
from operator_iac.spec.desired import AgentKind
from operator_iac.state.snapshot import RemoteAgent, RemoteRevision, RemoteVersion
from operator_iac.state.times import parse_time

if TYPE_CHECKING:
    from operator_iac.smoke.gate import SmokeVerdict

_SHA = re.compile(r"^[0-9a-fA-F]{4,64}$")


@dataclass(frozen=True)
class CommitInfo:
    """A commit revisions were written from: when, and for which keys (those whose released
    revision is from it now in ``released``)."""

    commit: str
    written_at: str | None
    keys: tuple[str, ...]
    released: tuple[str, ...] = ()


@dataclass(frozen=True)
class Candidates:
    """The revisions of one agent that can stand for a commit, best first, or why none."""

    key: str
    agent: RemoteAgent
    versions: tuple[RemoteVersion, ...] = ()
    created_after: bool = False
    from_commit: bool = False  # the candidates were written from the commit itself


def owned_revisions(agent: RemoteAgent, project: str,
                    key: str) -> list[tuple[RemoteVersion, Marker]]:
    """The agent's revisions that carry this project's marker for ``key``, newest first."""
    found = [(v, parse_own_marker(v.description, project, key)) for v in agent.versions]
    return sorted(((v, m) for v, m in found if m is not None), key=lambda p: -p[0].number)


def commit_history(owned: dict[str, RemoteAgent], project: str) -> tuple[CommitInfo, ...]:
    """Every commit some revision was written from, newest first."""
    keys: dict[str, set[str]] = {}
    dates: dict[str, list[datetime]] = {}
    released: dict[str, set[str]] = {}
    for key, agent in owned.items():
        for version, marker in owned_revisions(agent, project, key):
            if marker.commit is None or marker.dirty:
                continue
            keys.setdefault(marker.commit, set()).add(key)
            if (moment := parse_time(version.created_at)) is not None:
                dates.setdefault(marker.commit, []).append(moment)
            if version.status == "released":
                released.setdefault(marker.commit, set()).add(key)
    infos = [CommitInfo(commit, _iso(max(dates[commit])) if commit in dates else None,
                        tuple(sorted(names)), tuple(sorted(released.get(commit, ()))))
             for commit, names in keys.items()]
    return tuple(sorted(infos, key=lambda c: c.written_at or "", reverse=True))


def resolve_commit(requested: str, commits: Iterable[CommitInfo]) -> CommitInfo:
    """The commit ``requested`` names (any prefix of four or more hex digits)."""
    if not _SHA.match(requested):
        raise UsageError(f"--to-commit {requested!r}: give a commit as hex digits (at least 4)")
    known = list(commits)
    wanted = requested.lower()
    matches = [c for c in known if c.commit.startswith(wanted) or wanted.startswith(c.commit)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise UsageError(f"--to-commit {requested}: several commits start with it "
                         f"({', '.join(c.commit for c in matches)}); give more digits")
    recent = ", ".join(c.commit for c in known[:5]) or "none"
    raise UsageError(f"no revision of this project was written from commit {requested} "
                     f"(recent commits: {recent}; operator-iac history --all lists them)")


def candidates(key: str, agent: RemoteAgent, project: str, commit: CommitInfo) -> Candidates:
    """The revisions that can stand for ``commit`` on this agent (see the module docstring)."""
    mine = [(v, m) for v, m in owned_revisions(agent, project, key) if v.status != "draft"]
    exact = tuple(v for v, m in mine if m.commit == commit.commit)
    if exact:
        return Candidates(key, agent, exact, from_commit=True)
    moment = parse_time(commit.written_at)
    first = min(agent.versions, key=lambda v: v.number, default=None)
    born = parse_time(first.created_at) if first is not None else None
    if moment is not None and born is not None and born > moment:
        return Candidates(key, agent, created_after=True)
    earlier = tuple(v for v, _ in mine if moment is not None and
                    (when := parse_time(v.created_at)) is not None and when <= moment)
    return Candidates(key, agent, earlier)


def chosen_target(found: Candidates, read: Callable[[RemoteVersion], RemoteRevision],
                  holds: Callable[[RemoteRevision], bool | None]) -> RemoteRevision | None:
    """The first candidate that still holds what operator-iac wrote into it (``holds``: None
    when its marker records nothing, which counts as holding it)."""
    for version in found.versions:
        revision = read(version)
        if holds(revision) is not False:
            return revision
    return None


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")



# ---- the plan of a whole rollback --------------------------------------------------------


@dataclass(frozen=True)
class AgentRollback:
    """One agent in a rollback to a commit: its ``plan`` (None when it is left alone), and
    ``note`` saying why it is left alone or where its target comes from."""

    key: str
    kind: AgentKind
    agent_id: str
    plan: RollbackPlan | None = None
    note: str | None = None
    created_after: bool = False

    @property
    def releases(self) -> bool:
        return self.plan is not None and not self.plan.already_released


@dataclass(frozen=True)
class CommitRollback:
    """What ``rollback --all --to-commit`` will do, agent by agent, for the confirmation."""

    commit: CommitInfo
    agents: tuple[AgentRollback, ...]

    @property
    def to_release(self) -> tuple[AgentRollback, ...]:
        """Procedural agents first: a conversational agent's revision names them."""
        chosen = [a for a in self.agents if a.releases]
        return tuple(sorted(chosen, key=lambda a: (a.kind != "procedural_agent", a.key)))

    @property
    def created_after(self) -> tuple[AgentRollback, ...]:
        """Conversational agents first: deleting a procedural agent still named fails."""
        chosen = [a for a in self.agents if a.created_after]
        return tuple(sorted(chosen, key=lambda a: (a.kind != "conversational_agent", a.key)))


@dataclass(frozen=True)
class CommitRollbackRun:
    """What the rollback did, per key: released revisions, deleted agents, failures, and the
    smoke verdicts of the agents released."""

    plan: CommitRollback
    released: dict[str, str] = field(default_factory=dict)
    deleted: tuple[str, ...] = ()
    failed: dict[str, str] = field(default_factory=dict)
    verdicts: dict[str, SmokeVerdict] = field(default_factory=dict)

    def exit_code(self) -> int:
        """1 when a release, deletion or the platform during smoke tests failed; else 4 when
        a smoke test failed, 6 when one was incomplete; 0 otherwise."""
        if self.failed or any(v.platform_error for v in self.verdicts.values()):
            return 1
        if any(not v.passed and not v.incomplete for v in self.verdicts.values()):
            return SmokeTestFailedError.exit_code
        if any(v.incomplete for v in self.verdicts.values()):
            return SmokeIncompleteError.exit_code
        return 0
