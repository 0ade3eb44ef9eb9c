"""Monotonic reads of one agent: what a read of it must show at least, after what was seen
of it before.

A platform may serve its versions lists, and the statuses they carry, from replicas that
trail the writes each by a delay of its own (nothing in the contract says otherwise): a read
can then show less than one a moment before, a versions list without its newest revision, or
a revision released a moment ago as the draft again. Planned on such a read, a plan right
after an apply proposes to write again what the apply wrote, and an apply's check before
writing takes the read for a change since its plan. Two facts of the contract never go back
(section 2): an agent's revisions are only ever added, so the highest revision number only
grows; and only the draft is mutable and a release is never undone into a draft, so a
revision once released or archived is never the draft again. A ``Floor`` holds the two
numbers that follow, and tells a read that shows less for behind; the reader reads the agent
again, bounded (``state.fetch.fetch_agent``). Where a floor comes from: what this machine saw
of the agent in earlier commands and wrote to it (``state.journal``), and what the plan an
apply carries out read of it, raised by the former for the apply's checks before writing
(``plan.writes.seen_by_plan``: a release made here holds them as it held the plan's read).

Which revision is released does go back (a rollback releases an older one), so no floor
holds it; but a release this machine made is what its reads show for as long as a read may
trail (``VISIBILITY_TIMEOUT_S``), unless they show a revision released that it had not seen
released or archived by then (someone's newer release): a read showing one it had is read
again, as one that shows less is.

One platform choice blurs the second fact: where statuses are told only by ``is_released``
(older API snapshots), the revision a rollback put aside reads as the draft when it is the
newest (``api.models.normalise_version_statuses``), as a read from before its release does.
A rollback run here keeps, in place of what was seen of the agent, what the rollback made
(``services.rollback``); one made elsewhere (the dashboard) costs the next command here one
bounded wait, after which what was kept of the agent is dropped (``services.remote``).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from operator_iac import defaults
from operator_iac.api.models import version_number

if TYPE_CHECKING:
    from operator_iac.state.snapshot import RemoteAgent


@dataclass(frozen=True)
class Floor:
    """The least a read of one agent shows, after what was seen of it before."""

    newest: int = -1
    """The highest revision number seen (``@v<N>``); -1 for none."""
    settled: int = -1
    """The highest revision number seen released or archived (never the draft again); -1
    for none."""
    released: int = -1
    """The revision this machine released last (an apply's release, a rollback); -1 for
    none. Not a floor by itself (a rollback releases an older revision): for
    ``VISIBILITY_TIMEOUT_S`` after ``released_at``, a read that shows another revision
    released, one this machine had seen released or archived by then (up to
    ``released_over``), is a read from before that release."""
    released_over: int = -1
    """The highest revision number this machine had seen released or archived when it
    released ``released``: a revision above it released since is someone's newer release."""
    released_at: float = 0.0
    """When this machine released ``released`` (seconds since the epoch)."""

    @classmethod
    def of(cls, agent: RemoteAgent) -> Floor:
        """What a read of ``agent`` showed."""
        return cls(max((v.number for v in agent.versions), default=-1),
                   max((v.number for v in agent.versions if v.status != "draft"), default=-1))

    @classmethod
    def of_ids(cls, version_ids: Iterable[str], draft_id: str | None) -> Floor:
        """What a read that listed ``version_ids`` showed, ``draft_id`` the draft among them
        (a plan's record of an agent, ``plan.model.RemoteState``); ids without ``@v<N>``
        tell nothing."""
        numbers = {version_id: version_number(version_id) for version_id in version_ids}
        known = [(vid, n) for vid, n in numbers.items() if n is not None]
        return cls(max((n for _, n in known), default=-1),
                   max((n for vid, n in known if vid != draft_id), default=-1))

    def raised(self, other: Floor | None) -> Floor:
        """This floor, seen after ``other``: the higher numbers, and the later release made
        here (a release made after ``other`` was over what ``other`` had seen settled)."""
        if other is None:
            return self
        newest, settled = max(self.newest, other.newest), max(self.settled, other.settled)
        if self.released_at > other.released_at:
            return Floor(newest, settled, self.released,
                         max(self.released_over, other.settled), self.released_at)
        return Floor(newest, settled, other.released, other.released_over, other.released_at)

    def behind(self, agent: RemoteAgent) -> str | None:
        """Why a read of ``agent`` shows less than this floor (a read that trails), or None
        when it shows at least as much."""
        newest = agent.newest
        if newest is None and self.newest >= 0:
            return f"its versions list is empty, where v{self.newest} was seen"
        if newest is not None and newest.number < self.newest:
            return f"its versions list ends at {newest.version_id}, where v{self.newest} was seen"
        for version in agent.versions:
            if version.status == "draft" and version.number <= self.settled:
                return (f"{version.version_id} reads as the draft, where v{self.settled} was "
                        "seen released or archived")
        shown = next((v for v in agent.versions if v.status == "released"), None)
        until = self.released_here_until(self.released)
        if until is not None and shown is not None and shown.number != self.released and \
                shown.number <= self.released_over and time.time() < until:
            return (f"{shown.version_id} reads as released, where v{self.released} was "
                    f"released here {time.time() - self.released_at:.0f} s ago")
        return None

    def released_here_until(self, number: int | None) -> float | None:
        """Until when (seconds since the epoch) a read showing revision ``number`` as not
        released trails this floor: where it is the revision this machine released last,
        ``VISIBILITY_TIMEOUT_S`` after that release; None where it is not (a read of it is
        taken as it is)."""
        if number is None or number < 0 or number != self.released:
            return None
        return self.released_at + defaults.VISIBILITY_TIMEOUT_S

    def text(self) -> str:
        """The floor as kept in a file: its five values."""
        return (f"{self.newest} {self.settled} {self.released} {self.released_over} "
                f"{self.released_at:.3f}")

    @classmethod
    def parse(cls, text: str) -> Floor | None:
        """A floor kept by ``text``; None when the text holds none (an older file)."""
        parts = text.split()
        if len(parts) != 5 or not all(p.lstrip("-").isdigit() for p in parts[:4]):
            return None
        try:
            at = float(parts[4])
        except ValueError:
            return None
        return cls(int(parts[0]), int(parts[1]), int(parts[2]), int(parts[3]), at)
