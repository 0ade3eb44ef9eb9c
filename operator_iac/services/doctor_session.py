"""The conversation part of ``doctor``: one testmode conversation, created, talked to, ended,
and deleted, watching what the platform does where the contract is silent.

::

    POST /conversations (testmode; pinned to a draft when one exists, to learn whether the
                         platform converses with drafts; else to a released revision)
    GET the conversation (its status and fields before the start)
    POST .../context before the start (accepted, or refused until in-progress)
    SSE: read in the background (the turns; id: lines, keep-alives, multi-line data,
         timestamps)
    WebSocket: start, see whether a greeting comes, send one message, wait for the reply,
               end, see which events the session carried and whether the server closes it
    wait briefly for post-processing and its output; DELETE the conversation

The turns are followed on the SSE stream: some platforms carry only the agent's own events
on the session.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from operator_iac.api.events import (
    AGENT_MESSAGE_COMPLETED,
    CONTEXT_UPDATED,
    CONVERSATION_ENDED,
    CONVERSATION_STARTED,
    USER_MESSAGE_RECEIVED,
    Event,
    updated_context,
)
from operator_iac.errors import ApiConflictError, ApiError, OperatorIacError
from operator_iac.services.doctor import Catalog
from operator_iac.smoke.record import placeholder_context
from operator_iac.state.platform_report import Findings
from operator_iac.state.times import parse_time

if TYPE_CHECKING:
    from operator_iac.api.client import OperatorClient
    from operator_iac.api.models import Agent, ConversationCreated, Procedure
    from operator_iac.api.probe import StreamWatch
    from operator_iac.api.session import ChatSession

DOCTOR_MESSAGE = "This is a connection check by operator-iac doctor; a one-line reply is enough."
CONTEXT_KEY = "operator_iac_doctor"
CLOSE_WAIT_S = 3.0


def check_conversation(client: OperatorClient, catalog: Catalog, found: Findings, *,
                       wait_s: float) -> None:
    """Create one testmode conversation and look at everything it shows (then delete it)."""
    released, draft = _candidates(catalog)
    created, revision = _create(client, released, draft, found)
    if created is None or revision is None:
        return
    try:
        _Probe(client, created, revision, catalog, found, wait_s).run()
    finally:
        try:
            client.conversations.delete(created.id)
            found.check("conversation delete", "ok", f"testmode conversation {created.id} "
                        "deleted")
        except OperatorIacError as exc:
            found.check("conversation delete", "failed", str(exc))


def _candidates(catalog: Catalog) -> tuple[Agent | None, Agent | None]:
    """A released chat revision (one with post-processing preferred) and a draft, if any,
    as the versions lists say (a lone revision cannot tell a draft from an archived one)."""
    by_status: dict[str, list[Agent]] = {"released": [], "draft": []}
    for agent_id, entries in catalog.versions.items():
        for entry in entries:
            revision = catalog.revisions.get(entry.version_id)
            if agent_id.startswith("ca_") and revision is not None and entry.status in by_status:
                by_status[entry.status].append(revision)
    released, drafts = by_status["released"], by_status["draft"]
    released.sort(key=lambda a: not a.postprocess_agents)
    return (released[0] if released else None), (drafts[0] if drafts else None)


def _create(client: OperatorClient, released: Agent | None, draft: Agent | None,
            found: Findings) -> tuple[ConversationCreated | None, Agent | None]:
    if draft is not None:
        try:
            created, _ = client.conversations.create_test(
                draft.version_id, context=placeholder_context(draft.config))
            found.saw("draft_conversations", f"allowed ({draft.version_id})", True)
            found.check("conversation create", "ok", f"testmode chat conversation {created.id} "
                        f"with {draft.version_id}")
            return created, draft
        except ApiConflictError as exc:
            found.saw("draft_conversations", f"refused: {exc}", False)
        except OperatorIacError as exc:
            found.check("conversation create", "failed", str(exc))
            return None, None
    if released is None:
        found.check("conversation create", "skipped", "no conversational agent with a released "
                    "revision to talk to: release one (in the dashboard, or with apply) and run "
                    "doctor again to check conversations too")
        return None, None
    try:
        created, _ = client.conversations.create_test(
            released.version_id, context=placeholder_context(released.config))
    except OperatorIacError as exc:
        found.check("conversation create", "failed", str(exc))
        return None, None
    found.check("conversation create", "ok", f"testmode chat conversation {created.id} with "
                f"{released.version_id}")
    return created, released


class _Probe:
    """One conversation's checks, in order."""

    def __init__(self, client: OperatorClient, created: ConversationCreated, revision: Agent,
                 catalog: Catalog, found: Findings, wait_s: float) -> None:
        self.client, self.created, self.revision = client, created, revision
        self.catalog, self.found, self.wait_s = catalog, found, wait_s
        self.context_sent = False

    def run(self) -> None:
        from operator_iac.api.probe import StreamWatch

        # What the reading had to adapt to is noted by the boundary (relative or missing
        # session URL, enqueued, left-out fields); these are the usual sightings.
        self.found.saw("session_url", "the full WebSocket URL", True)
        conversation = self.client.conversations.get(self.created.id)
        self.found.saw("not_started_status", str(conversation.status),
                       True if conversation.status == "queued" else None)
        self.found.saw("null_fields", "returned as null", True)
        self._context("before the start", "context_before_start")
        watch = StreamWatch(self.client, self.created.id, self.created.channel.token,
                            deadline_s=6 * self.wait_s + 10).start()
        try:
            self._talk(watch)
            self._stream(watch)
        finally:
            watch.stop()
        self._post_processing()

    def _context(self, when: str, key: str | None) -> None:
        try:
            self.client.conversations.update_context(self.created.id, {CONTEXT_KEY: when})
        except ApiError as exc:
            if key is not None:
                self.found.saw(key, f"refused (HTTP {exc.status})", False)
            return
        self.context_sent = True
        if key is not None:
            self.found.saw(key, "accepted", True)

    # ---- the chat session ------------------------------------------------------------------

    def _talk(self, watch: StreamWatch) -> None:
        carried: list[Event] = []
        try:
            with self.client.open_session(self.created, recv_timeout=self.wait_s) as session:
                session.read_in_background(carried.append)
                self._converse(session, watch)
                self._closing(session)
        except OperatorIacError as exc:
            self.found.check("chat session", "failed", str(exc))
        self._session_events(carried)

    def _converse(self, session: ChatSession, watch: StreamWatch) -> None:
        session.start()
        greeting = watch.wait_for(lambda e: e.type == AGENT_MESSAGE_COMPLETED, self.wait_s)
        self.found.saw("greeting", "the agent speaks first" if greeting else
                       f"no greeting within {self.wait_s:g}s", greeting is not None)
        if not self.context_sent:
            self._context("in progress", None)
        session.send_message(DOCTOR_MESSAGE)
        reply = watch.wait_until(_answered, self.wait_s)
        self.found.check("chat session", "ok" if reply else "failed",
                         "connected, started, and the agent answered a message" if reply else
                         f"the agent did not answer a message within {self.wait_s:g}s")
        session.end()
        self._ended(watch.wait_for(lambda e: e.type == CONVERSATION_ENDED, self.wait_s))

    def _ended(self, ended: Event | None) -> None:
        if ended is None:
            return
        status = ended.payload.get("status")
        if isinstance(status, str):
            self.found.saw("ended_status", f"carries status {status}", True)
            return
        own = self.client.conversations.get(self.created.id).status
        self.found.saw("ended_status", f"no status (the conversation's own: {own})", False)

    def _closing(self, session: ChatSession) -> None:
        wait = min(CLOSE_WAIT_S, self.wait_s)
        if not session.wait_closed(wait):
            pings = f", {session.skipped} application-level ping(s)" if session.skipped else ""
            self.found.saw("ws_close", f"left open for {wait:g}s{pings}", False)
        elif session.failure is not None:
            self.found.saw("ws_close", f"closed abnormally: {session.failure}", None)
        else:
            self.found.saw("ws_close", "closed by the server", True)

    def _session_events(self, carried: list[Event]) -> None:
        kinds = {e.type for e in carried}
        if not kinds:
            return
        if kinds & {CONVERSATION_STARTED, USER_MESSAGE_RECEIVED, CONVERSATION_ENDED}:
            self.found.saw("session_events", "every event of the conversation", True)
        else:
            self.found.saw("session_events", "the agent's own events only", False)

    # ---- the event stream ------------------------------------------------------------------

    def _stream(self, watch: StreamWatch) -> None:
        watch.wait_for(lambda e: e.type == CONVERSATION_ENDED, self.wait_s)
        if self.context_sent:
            watch.wait_for(_is_doctor_context, min(self.wait_s, 3.0))
        events = list(watch.events)
        if not events:
            self.found.check("event stream", "failed", watch.error or "no events arrived over "
                             "the SSE stream with the conversation's token")
            return
        ended = any(e.type == CONVERSATION_ENDED for e in events)
        self.found.check("event stream", "ok" if ended else "failed", f"{len(events)} events "
                         "with the conversation's token" + ("" if ended else
                                                            ", but not conversation.ended"))
        self.found.saw("sse_ids", f"{watch.with_ids} of {watch.messages} messages",
                       watch.with_ids == watch.messages)
        self.found.saw("sse_keepalive", f"{watch.comments} comment(s) seen" if watch.comments
                       else "none seen in this short conversation",
                       True if watch.comments else None)
        self.found.saw("sse_multiline", f"{watch.multiline} of {watch.messages} messages spread "
                       "over several lines", watch.multiline == 0)
        self._timestamps(events)
        if any(_is_doctor_context(e) for e in events):
            self.found.saw("context_event", "the update under context", True)

    def _timestamps(self, events: list[Event]) -> None:
        stamps = [e.created_at for e in events if e.created_at]
        if not stamps:
            return
        # Read into one form at the boundary (``api.tolerance``): whole seconds show as
        # times without a fraction (a platform's milliseconds rarely all fall on .000).
        fractional = any(moment.microsecond for stamp in stamps
                         if (moment := parse_time(stamp)) is not None)
        self.found.saw("timestamps", "milliseconds" if fractional else "whole seconds",
                       fractional)

    # ---- post-processing -------------------------------------------------------------------

    def _post_processing(self) -> None:
        if not self._expects_procedures():
            return
        limit = self.wait_s
        began = time.monotonic()
        runs: list[Procedure] = []
        appeared: float | None = None
        while time.monotonic() < began + limit:
            runs = list(self.client.procedures.list_for_conversation(self.created.id))
            if runs and appeared is None:
                appeared = time.monotonic() - began
            if runs and all(run.status not in ("pending", "running") for run in runs):
                break
            time.sleep(0.25)
        if appeared is None:
            # Not yet is not never: a slower queue may still run them (--wait waits longer).
            self.found.saw("testmode_postprocessing", f"no procedure within {limit:g}s", False)
            return
        self.found.saw("testmode_postprocessing", f"runs ({len(runs)} procedure(s))", True)
        # Within a second reads as "as the conversation ends": a poll's pause, a read's time.
        self.found.saw("postprocess_timing", f"the runs showed {appeared:.1f}s after the end",
                       appeared < 1.0)
        if any(run.status == "success" and run.output is not None for run in runs):
            self.found.saw("output_shape", "a JSON value", True)  # a string is noted instead

    def _expects_procedures(self) -> bool:
        """Whether a procedural agent of this revision would run on a completed conversation
        (one whose filter leaves completed out proves nothing)."""
        for ref in self.revision.postprocess_agents or ():
            agent_id = ref.partition("@")[0]
            released = [e.version_id for e in self.catalog.versions.get(agent_id, [])
                        if e.status == "released"]
            procedural = self.catalog.revisions.get(released[0]) if released else None
            statuses: Any = (procedural.config.get("filter_statuses")
                             if procedural is not None else None)
            if procedural is not None and (not statuses or "completed" in statuses):
                return True
        return False


def _answered(events: list[Event]) -> bool:
    """Whether the agent completed a message after the user's message was received."""
    heard = False
    for event in events:
        if event.type == USER_MESSAGE_RECEIVED:
            heard = True
        elif heard and event.type == AGENT_MESSAGE_COMPLETED:
            return True
    return False


def _is_doctor_context(event: Event) -> bool:
    return event.type == CONTEXT_UPDATED and CONTEXT_KEY in updated_context(event.payload)
