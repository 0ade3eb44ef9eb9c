"""Assertions on the event types besides messages and tools: notices the agent sent (a
recording or AI disclosure), context updates, and the ``interrupted`` flag of replies.

Each returns an ``AssertionResult``. When the stream carries nothing that could decide an
assertion (no reply says whether it was interrupted), the result is not *failed* but not
*evaluable*: the run is incomplete, never passed. Pure functions over the scope's events.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from operator_iac.api.events import AGENT_MESSAGE_COMPLETED, CONTEXT_UPDATED, NOTICE_SENT, Event
from operator_iac.smoke.matchers import (
    check_fields,
    has_positive_condition,
    show,
    text_conditions,
    text_satisfies,
    text_violates,
)
from operator_iac.smoke.results import AssertionResult
from operator_iac.spec.assertions import AgentInterrupted, ContextUpdated, NoticeSent

if TYPE_CHECKING:
    from operator_iac.smoke.assertions import Scope

MAX_SHOWN = 4


def notice_text(event: Event) -> str:
    """A notice's words: ``text`` as documented by us, else another string field a platform
    may use, else the payload itself."""
    payload = event.payload
    for key in ("text", "message", "notice", "content"):
        value = payload.get(key)
        if isinstance(value, str):
            return value
    return show({k: v for k, v in payload.items() if k != "type"})


def _listing(items: Sequence[str]) -> str:
    shown = list(items[-MAX_SHOWN:])
    skipped = len(items) - len(shown)
    return (f"({skipped} earlier not shown) " if skipped else "") + "; ".join(shown)


def notice_sent(assertion: NoticeSent, scope: Scope) -> AssertionResult:
    match = assertion.notice_sent
    conditions = " and ".join(text_conditions(match))
    notices = [notice_text(e) for e in scope.events if e.type == NOTICE_SENT]
    found = not has_positive_condition(match) or any(text_satisfies(match, t) for t in notices)
    violating = [t for t in notices if text_violates(match, t)]
    if violating:
        seen = "notice " + show(violating[0])
    elif notices:
        seen = "notices " + _listing([show(t) for t in notices])
    else:
        seen = f"no {NOTICE_SENT} event"
    return AssertionResult("notice_sent", f"notice_sent {conditions}",
                           found and not violating, scope.turn,
                           f"a notice that {conditions}", seen)


def context_updated(assertion: ContextUpdated, scope: Scope) -> AssertionResult:
    wanted = assertion.context_updated
    fields = " and ".join(wanted) or "any field"
    updates = [_context_of(e) for e in scope.events if e.type == CONTEXT_UPDATED]
    mismatches = [check_fields(wanted, update) for update in updates]
    passed = any(not failures for failures in mismatches)
    if not updates:
        seen = f"no {CONTEXT_UPDATED} event"
    else:
        seen = _listing([f"context {show(u, 80)}" + (f": {f[0]}" if f else "")
                         for u, f in zip(updates, mismatches, strict=True)])
    return AssertionResult("context_updated", f"context_updated ({fields})", passed,
                           scope.turn, f"a context update matching {fields}", seen)


def _context_of(event: Event) -> Any:
    context = event.payload.get("context")
    return context if isinstance(context, dict) else {}


def agent_interrupted(assertion: AgentInterrupted, scope: Scope) -> AssertionResult:
    wanted = assertion.agent_interrupted
    replies = [e for e in scope.events if e.type == AGENT_MESSAGE_COMPLETED]
    flags = [e.payload["interrupted"] for e in replies
             if isinstance(e.payload.get("interrupted"), bool)]
    description = f"agent_interrupted {str(wanted).lower()}"
    expected = "an interrupted agent message" if wanted else "no interrupted agent message"
    if not flags:
        why = "no agent message" if not replies else \
            "no agent message carries the interrupted flag"
        return AssertionResult("agent_interrupted", description, False, scope.turn, expected,
                               why, evaluable=False)
    interrupted = sum(flags)
    seen = f"{interrupted} of {len(flags)} agent messages interrupted"
    return AssertionResult("agent_interrupted", description, any(flags) == wanted, scope.turn,
                           expected, seen)
