"""Write order: whether a state that a read-back shows in place of this run's write was
written before that write or after it, told by the platform's own clock.

On a platform whose reads by id trail its writes, a read of a draft this run has just
written may show another writer's state that came *before* this run's write (two applies
writing one draft at once: the other wrote first, and this run's write is still on the way
to the reads). Taken for a write after this run's, both applies conclude they lost, and
the draft is left holding a write neither finished. The two are told apart by time: the
state's ``updated_at`` against the moment the platform answered this run's write (the
answer's ``Date`` header, whole seconds, both by the platform's clock). A state clearly
older than the answer trails it: read again until this run's write shows. One clearly newer
is another writer's, after this run's: it stands. Between the two, the write shows within
the evidence's resolution (``WRITE_ORDER_SLACK_S``) if it came last; after that, it stands.
Without a ``Date`` header or an ``updated_at``, there is no order to read: the state stands
at once, as on a platform whose reads never trail. A state placed before the answer is read
past for as long as any write takes to show only once the run has seen its reads trail (a
404 of its write, or the state before it); until then it is read again for the evidence's
resolution alone, as an unsure one: on a consistent platform that state came after this
run's write, whatever its ``updated_at`` says (some platforms do not move it on a write),
so the conflict is reported after those seconds rather than at once, and a first read-back
that trails unseen (two applies' very first writes of one draft) still finds this run's
write. Once a read has shown this run's write, and the reads were never seen to trail,
another apply's state a later read shows came after it: it stands at once. Only another
apply's write of this key is placed: a person's edit the read shows stands at once (a
conflict), as it always did.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from operator_iac.state.snapshot import RemoteRevision
from operator_iac.state.times import parse_time

Placed = Literal["before", "unsure", "after"]

# The answer's ``Date`` has whole seconds and may be stamped a second late; one platform's
# clocks (the one stamping ``updated_at``, the one stamping ``Date``) may differ by a second.
_EARLIER = timedelta(seconds=1)
_LATER = timedelta(seconds=3)


@dataclass(frozen=True)
class WriteOrder:
    """What tells a read-back that trails this run's write from another writer's state."""

    answered_at: datetime | None
    """When the platform answered this run's last write (its ``Date`` header); None when
    it sent none."""
    mine: Callable[[RemoteRevision], bool]
    """Whether a state read is this run's own write."""
    rival: Callable[[RemoteRevision], bool]
    """Whether a state read is another apply's write of this key (its marker names this
    project, environment and key): the only other writer whose state is placed. Any other
    state (a person's edit in the dashboard) stands at once, as a conflict."""
    shown: bool = False
    """Whether a read has already shown this run's write (a check of the draft before its
    release, after the read-back): another apply's state a later read shows then came after
    it, unless the run has seen its reads trail (a replica behind the one read before)."""

    def placed(self, shown: RemoteRevision) -> Placed | None:
        """Where another apply's ``shown`` state falls against this run's write; None when
        it is this run's own, someone else's, or when nothing tells."""
        if self.mine(shown) or not self.rival(shown):
            return None
        changed = parse_time(shown.updated_at)
        if self.answered_at is None or changed is None:
            return None
        if changed < self.answered_at - _EARLIER:
            return "before"
        if changed >= self.answered_at + _LATER:
            return "after"
        return "unsure"
