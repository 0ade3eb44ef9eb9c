"""Another apply of this very change: telling it from anything else that moved an agent.

Two pipelines applying one commit write the same change. A run whose re-check finds its
agent moved since the plan to that change itself (``plan.writes.moved_to_this_change``) is
no conflict: released, the other apply finished it and nothing is left to do; only written
into a draft over the release the plan saw, the run finishes that draft itself
(``Steps._finishing``: the writer may have died before releasing it). One moment needs a
second look: the other apply's first write, under this change's marker, holds values in the
platform's own form that its marker does not record yet (it records them with its next
write, right after reading the first back). The same revision could also be a person's edit
of that draft that kept the marker. So the run reads the agent again, briefly
(``defaults.SAME_CHANGE_WAIT_S``): the other apply's next write makes it read as this change;
an edit never does, and stays a conflict. Unless nobody is left to make that next write:
a run killed between its write and its read-back leaves a draft marked for this change that
reads as it only through forms nobody recorded. The plan's own rule for such a draft
(``plan.compare.unfinished_own_write``: never changed after it was made, its marker carried
by no other revision a person could have copied) tells it from an edit here too
(``draft_to_write_over``), for a plan made on a read from before that write showed: the
run writes over it, as it would have had its plan seen it; and so it does over a draft
written since the plan that holds no change the declaration does not make too, as the plan
does over one it reads.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from operator_iac import defaults
from operator_iac.api.polling import bounded_pauses
from operator_iac.errors import NotFoundError
from operator_iac.plan.compare import DesiredView, unfinished_own_write
from operator_iac.plan.drafts import overwrite_loses
from operator_iac.plan.writes import CHANGE_ACTIONS, carries_marker, moved_to_this_change
from operator_iac.state.fetch import fetch_agent

if TYPE_CHECKING:
    from operator_iac.api.client import OperatorClient
    from operator_iac.plan.marker import Owner
    from operator_iac.plan.model import ResourcePlan
    from operator_iac.plan.stored import StoredForms
    from operator_iac.spec.desired import DesiredAgent
    from operator_iac.state.snapshot import RemoteAgent

logger = logging.getLogger(__name__)


def holding_this_change(client: OperatorClient, resource: ResourcePlan, agent: DesiredAgent,
                        ids: Mapping[str, str], forms: StoredForms,
                        current: RemoteAgent | None) -> RemoteAgent | None:
    """The agent (``current``, as just read after the re-check found it moved) if it holds
    exactly this change as its newest revision, or as read again once it does, within
    ``SAME_CHANGE_WAIT_S`` while that revision carries this change's marker (see the module
    docstring); else None, also for an action that writes no declared change."""
    remote = resource.remote
    if resource.action not in CHANGE_ACTIONS or remote is None:
        return None
    pauses = bounded_pauses(defaults.SAME_CHANGE_WAIT_S)
    while True:
        if moved_to_this_change(resource, agent, ids, current, forms):
            return current
        newest = (current.draft or current.released) if current is not None else None
        if newest is None or not carries_marker(newest, resource):
            return None
        pause = next(pauses, None)
        if pause is None:
            return None
        logger.info("%s: %s carries this change's marker but does not read as it yet (another "
                    "apply recording how the platform stores it?): reading it again in %.2f s",
                    resource.key, newest.version_id, pause)
        client.pause(pause)
        try:
            current = fetch_agent(client, resource.kind, remote.agent_id)
        except NotFoundError:
            return None


def draft_to_write_over(resource: ResourcePlan, agent: DesiredAgent, ids: Mapping[str, str],
                        forms: StoredForms, owner: Owner, current: RemoteAgent | None
                        ) -> str | None:
    """Why the run writes over the draft the agent moved to since the plan, as its plan would
    have had it read that draft (None: it may not, and the move stays a conflict). Only a
    draft over the release the plan saw, for an action that writes the draft, by the plan's
    own rules for a draft it reads: a write of this very change that its run left before
    reading it back (see the module docstring); or a draft holding no change from that
    release that the declaration does not make too (``plan.drafts.overwrite_loses``: the
    same edit made in the dashboard; a killed run's write into the draft a platform opened
    beside its release, whose marker the release carries too, so it cannot vouch for it).
    Writing over either loses nobody's work."""
    if current is None or current.draft is None or resource.action not in ("update", "adopt") \
            or not over_planned_release(resource, current):
        return None
    draft = current.draft
    view = DesiredView.of(agent, ids, forms)
    version = next((v for v in current.versions if v.version_id == draft.version_id), None)
    if unfinished_own_write(draft, view, owner, version, current.released, current.versions):
        return f"{draft.version_id} holds this change as a run wrote it and left it before " \
               "reading it back; this run writes it again"
    if not overwrite_loses(view, current):
        return f"{draft.version_id}, written since the plan, holds no change that the " \
               "declaration does not make too: writing over it loses nothing"
    return None


def over_planned_release(resource: ResourcePlan, current: RemoteAgent) -> bool:
    """Whether the agent, moved since the plan, still has the release the plan saw (none
    where it saw none): a draft written since is over that release, so the run may go on
    with it as its plan would have."""
    remote = resource.remote
    released = current.released.version_id if current.released is not None else None
    return remote is not None and released == remote.released_version_id
