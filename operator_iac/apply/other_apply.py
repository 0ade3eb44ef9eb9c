"""Another apply of this very change, whose write of the same content replaced this run's
in the draft: waited for, and finished should it stop.

Two pipelines applying one commit write one draft; the last write is kept, and the run whose
write it replaced leaves the draft to the other (``converged``), which releases and proves
it. Nothing shows whether that run is alive: killed after its write (a runner lost, a job
cancelled), it would never release the draft, while this run said the change was done. So
this run reads the agent again, with growing pauses, for as long as the other's steps may
take by its smoke tests' own limits (the same commit declares the same tests), and then does
what is still undone: it writes the draft in its own name, tests, releases and proves it
(``take_over``), or proves the other's release (``Steps._converged_on``). Should the other
run be alive after all, its check before its release finds this run's write of the same
content and it converges in turn, waiting as this run did: one of the two releases the
draft. The wait is what keeps the two from taking the draft over from each other in turn,
so it is never shorter than the other's tests may take; where they may take longer than
``defaults.OTHER_APPLY_WAIT_MAX_S`` (a release gate of many conversations), the run does not
wait and leaves the draft to the other, as before: should that run stop first, the next
apply releases it.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Literal

from operator_iac import defaults
from operator_iac.api.polling import pauses_until
from operator_iac.apply.same_change import over_planned_release
from operator_iac.errors import OperatorIacError
from operator_iac.plan.writes import (
    CHANGE_ACTIONS,
    carries_cut_marker,
    carries_marker,
    holds_this_change,
)
from operator_iac.smoke.announce import stage_limit_s

if TYPE_CHECKING:
    from operator_iac.apply.report import ResourceResult
    from operator_iac.apply.steps import Steps
    from operator_iac.spec.assertions import SmokeStage
    from operator_iac.state.snapshot import RemoteAgent

logger = logging.getLogger(__name__)

# Where the other apply's work on this change stands (``state_of``).
OtherApply = Literal["draft", "unproven", "proven", "left", "unseen"]


def await_other_apply(steps: Steps, said: str) -> ResourceResult | None:
    """The result for ``steps``'s resource once the other apply released its draft (and
    proved the release), or once this run finished what that apply left (see the module
    docstring); a conflict where the change left the platform before either (the draft
    written over by someone else, the agent deleted, another revision released); None
    where there is nothing to wait for: the run releases nothing (``--no-release``), or it
    finished such a draft already."""
    resource = steps.resource
    if steps.took_over or not steps.run_.options.release or steps.agent_id is None or \
            resource.action not in (*CHANGE_ACTIONS, "create"):
        return None
    wait = wait_for(steps, "draft")
    if wait > defaults.OTHER_APPLY_WAIT_MAX_S:
        return steps.result("converged", f"{said} (it may test it for longer than "
                            f"{defaults.OTHER_APPLY_WAIT_MAX_S:.0f} s; should it stop first, "
                            "the next apply releases it)")
    steps.run_.progress(f"{resource.key}: another apply holds this change in a draft; "
                        f"waiting up to {wait:.0f} s for it to release it")
    state, agent = _watch(steps, time.time() + wait, "draft")
    if state == "unproven":  # released: it proves the release next
        proof = min(wait_for(steps, "released"), defaults.OTHER_APPLY_WAIT_MAX_S)
        state, agent = _watch(steps, time.time() + proof, "unproven")
    if agent is None or state in ("left", "unseen"):
        # The change is not on the platform, and the apply that held it cannot release it
        # any more: its draft was written over, or the agent deleted, or another release
        # (that apply's rollback after failing tests, a dashboard user's) replaced this
        # change's. Not done: a conflict, unless a last read finds this change released.
        return steps.conflict(f"{said}; but while this run waited for it, "
                              f"{_what_left(state, agent)}; make a new plan")
    released = agent.released
    if state == "proven":
        assert released is not None
        steps.saw_released(released)
        return steps.result("converged", f"{said}; that apply released it as "
                            f"{released.version_id}")
    if state == "unproven":
        assert released is not None
        return steps._converged_on(agent, released, f"{said}; that apply released it as "
                                   f"{released.version_id} and did not prove the release "
                                   "in time")
    return take_over(steps, agent, wait)


def state_of(steps: Steps, agent: RemoteAgent | None) -> OtherApply:
    """Where the other apply's work on this change stands in ``agent`` as read: ``draft``
    (written over the release the plan saw, none for a create, or over a release of this
    change a create made, which no test proved, unreleased; or such a release holding the
    change only through stored forms its own marker does not record yet, or a create of it
    still to finish: in forms not known yet, or without a field it did not keep),
    ``unproven``
    (released, its proof still to come), ``proven`` (released, and proven or needing no
    proof), ``left`` (a draft of other content, or another release: not this change's to
    finish), or ``unseen`` (no draft, or no release where the plan saw one, or the agent not
    read: a read that trails the other's write, as reads of a new agent do, or gone)."""
    if agent is None:
        return "unseen"
    resource, desired = steps.resource, steps._desired()
    ids, forms = steps.run_.ids, steps.run_.forms
    released, draft = agent.released, agent.draft
    written = _written(steps, agent)
    if released is not None and holds_this_change(resource, desired, ids, released, forms):
        if written or not holds_this_change(resource, desired, ids, released):
            # A write of the change above a release of it that a create made, untested; or
            # none yet above a release that holds the change only through forms other
            # revisions record, not its own marker (a create released at once, before its
            # writer recorded how the platform stored it): a plan reads that release by
            # its own record, as an update still to make. The other's work to finish.
            return "draft"
        proves = steps.run_.smoke_gate is not None and "released" in resource.smoke
        return "unproven" if proves and steps._unproven(agent, released) else "proven"
    newest = draft if draft is not None else released
    if resource.action == "create" and newest is not None and \
            (carries_marker(newest, resource) or carries_cut_marker(newest, resource)):
        # This change's create, not finished yet: released at once in a form nobody recorded,
        # or a draft without a field its create did not keep, or whose marker the platform
        # cut at its limit. Its writer reads it back and writes it again next (the forms
        # recorded, the field sent with a PUT, the marker fitted).
        return "draft"
    if released is not None and (resource.action == "create" or
                                 not over_planned_release(resource, agent)):
        return "left"  # another release than the plan's and this change's
    if draft is None:
        return "unseen"
    return "draft" if written else "left"


def _what_left(state: OtherApply, agent: RemoteAgent | None) -> str:
    """What the wait last read of the agent, where the change is no longer there to finish
    (``left``, ``unseen``), as the end of a sentence."""
    if agent is None:
        return "the agent could not be read any more (deleted, or its reads failing)"
    released = agent.released.version_id if agent.released is not None else "none"
    if state == "unseen":
        return f"no revision holds this change any more (released: {released})"
    if agent.draft is not None and not _is_copy_of_release(agent):
        return (f"the draft {agent.draft.version_id} came to hold other content "
                f"(released: {released})")
    return f"another revision was released ({released}), not this change"


def _is_copy_of_release(agent: RemoteAgent) -> bool:
    """Whether the agent's draft is a copy of its release (a platform opens one beside each
    release, holding its marker and content)."""
    draft, released = agent.draft, agent.released
    return draft is not None and released is not None and \
        draft.description == released.description and draft.config == released.config


def _written(steps: Steps, agent: RemoteAgent) -> bool:
    """Whether ``agent``'s draft holds a write of this change, other than a platform's copy
    of the release (one opened beside each release holds its marker and content)."""
    draft = agent.draft
    if draft is None or _is_copy_of_release(agent):
        return False
    # That apply's write made before it fitted its marker to a platform's limit holds the
    # marker cut short: the judgement the run met it by (``Steps._holds_this_content``).
    return holds_this_change(steps.resource, steps._desired(), steps.run_.ids, draft,
                             steps.run_.forms) or steps._holds_this_content(draft)


def wait_for(steps: Steps, stage: SmokeStage) -> float:
    """How long the other apply may take to reach its next step from the start of
    ``stage``: ``OTHER_APPLY_WAIT_S``, plus, where this run tests that stage (the other,
    of the same change, has the same tests), the time the stage's tests may take by their
    own limits (``smoke.announce.stage_limit_s``, at the run's parallelism)."""
    wait = defaults.OTHER_APPLY_WAIT_S
    if steps.run_.smoke_gate is None or stage not in steps.resource.smoke:
        return wait
    agent = steps._desired()
    return wait + stage_limit_s(agent.smoke, agent.smoke_gate, steps.run_.options.parallelism)


def take_over(steps: Steps, held: RemoteAgent, waited: float) -> ResourceResult:
    """Finish the draft the other apply wrote this very change into and did not release
    within ``waited`` seconds (stopped, or slower than its tests' limits): write it with
    this run's marker and records, test it, release and prove it, as a run whose re-check
    finds such a draft does (``Steps._finishing``; a create: ``Steps._finish_created``).
    Done once per run: met again (that apply wrote again, alive), the run leaves the draft
    to it."""
    steps.took_over = True
    resource = steps.resource
    # A create goes on from the other's draft, or from its release where no draft holds its
    # marker (released at once), as from this run's own create (``Steps._finish_created``).
    written = _written(steps, held)
    unwritten = resource.action == "create" and not written
    held_in = held.draft if held.draft is not None and (
        written or carries_marker(held.draft, resource)) else held.released
    assert held_in is not None
    steps.note(f"{held_in.version_id}, where another apply wrote this very change, is "
               f"still {'unfinished' if unwritten else 'unreleased'} after {waited:.0f} s: "
               "that apply stopped, or is slower than its tests' limits; this run finishes it")
    previous = steps._previous()

    def finish() -> ResourceResult:
        if resource.action == "create":
            steps._finish_created(held_in)
        else:
            steps.records.prepare(previous)
            steps._write_draft(steps._recheck())
        steps._gate("draft")
        steps._release(previous)
        return steps.result("applied")

    result = steps.run_.guarded(steps, finish)
    assert result is not None
    return result


def _watch(steps: Steps, until: float, state: OtherApply) -> tuple[OtherApply,
                                                                  RemoteAgent | None]:
    """Read the agent again, with growing pauses, while the other apply's work stays in
    ``state``, or reads as ``unseen`` (reads may trail that work), until ``until`` (seconds
    since the epoch): the state last seen otherwise, and the agent as read then (``unseen``
    and None where no read showed it)."""
    seen: tuple[OtherApply, RemoteAgent | None] = ("unseen", None)
    for pause in pauses_until(until):
        steps.client.pause(pause)
        agent = _read(steps)
        now = state_of(steps, agent)
        if now not in (state, "unseen"):
            return now, agent
        if now == state:
            seen = (now, agent)
        logger.info("%s: another apply's work on this change reads as %s; reading the agent "
                    "again in %.2f s", steps.resource.key, now, pause)
    return seen


def _read(steps: Steps) -> RemoteAgent | None:
    """The agent read again, never behind what the plan read of it, as by the re-check
    before writing (``Steps.read_agent``); None where it cannot be read (``unseen``)."""
    try:
        return steps.read_agent()
    except OperatorIacError:
        return None
