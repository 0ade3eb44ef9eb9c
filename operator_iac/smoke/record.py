"""Smoke records: the verdict of the last smoke run of a revision, kept on the platform itself,
so that a promotion job sharing no files with the job that ran the tests can check it.

A record is a testmode conversation that is never started, pinned to the revision that was
tested (``ca_x@vN``), whose ``context`` carries ``operator_iac_smoke``: project, key, version,
the content hash and commit of the revision's marker, whether the run passed, a one-line
summary, and when. Recording one deletes the older records of the same agent (testmode
conversations may be deleted), so an agent normally carries one record.

Reading a record back: the contract's conversation object has no ``context`` field. A platform
that returns it anyway is read directly (from the list, then from the conversation itself);
otherwise the record comes from the conversation's event stream: right after the conversation
is created the record is also sent as a context update, whose ``conversation.context.updated``
event carries it (under ``context``, or as the payload's own keys on platforms that send the
bare update). The stream starts with the events that already exist, so this costs one short
request per candidate. A record that cannot be read counts as no record (a promotion then
refuses, which is the safe side).

Platforms that accept context updates only while a conversation is in progress refuse that
update: the record conversation is then started over its chat session, the record sent, and
the conversation ended at once (it stays a testmode conversation pinned to the revision). A
record is read back before recording counts as done; one that cannot be written or read is a
``SmokeRecordError``, which apply reports as a warning and exit code 6.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from operator_iac.api.events import (
    CONTEXT_UPDATED,
    CONVERSATION_ENDED,
    USER_MESSAGE_RECEIVED,
    updated_context,
)
from operator_iac.api.models import Conversation, ConversationCreated, agent_id_of, version_number
from operator_iac.errors import ApiError, OperationError, OperatorIacError, SmokeRecordError
from operator_iac.plan.marker import parse_own_marker
from operator_iac.smoke.orphans import orphan_window, sweep_orphans

if TYPE_CHECKING:
    from operator_iac.api.client import OperatorClient
    from operator_iac.api.events import Event
    from operator_iac.smoke.results import SmokeReport, TestResult

RECORD_KEY = "operator_iac_smoke"
# The stage of the record apply writes right before a release whose smoke tests are to run on
# the released revision: if the run stops before they pass, this record says so.
PENDING_STAGE = "pending"
PENDING_SUMMARY = "released; its smoke tests have not passed on the released revision yet"

# Prompt variables without a default must be supplied even to a conversation never started.
PLACEHOLDER_VALUE = "operator-iac smoke record"
READ_TIMEOUT_S = 3.0
# Records are looked for from the tested revision's creation on, with this much slack for
# clocks that disagree by a little.
CLOCK_SLACK = timedelta(seconds=60)
SUMMARY_LIMIT = 300
_ISO = "%Y-%m-%dT%H:%M:%SZ"


@dataclass(frozen=True)
class SmokeRecord:
    """The outcome of one smoke run of one revision, as kept on the platform."""

    project: str
    key: str
    version_id: str
    passed: bool
    summary: str
    at: str
    content_hash: str | None = None
    commit: str | None = None
    stage: str | None = None
    # The revision released before this one: what a failed or unproven release rolls back to.
    previous: str | None = None
    conversation_id: str | None = field(default=None, compare=False)

    @property
    def pending(self) -> bool:
        """A release announced before it happened, whose smoke tests have not run yet."""
        return self.stage == PENDING_STAGE

    def payload(self) -> dict[str, Any]:
        """What goes under ``operator_iac_smoke`` in the conversation's context."""
        data = asdict(self)
        data.pop("conversation_id")
        return data

    def describes(self, project: str, key: str, version_id: str | None = None) -> bool:
        return self.project == project and self.key == key and (
            version_id is None or self.version_id == version_id)

    @classmethod
    def from_context(cls, context: Any, conversation_id: str | None = None
                     ) -> SmokeRecord | None:
        """The record in a conversation context, or None when there is none (or it is not
        one this version of operator-iac can read)."""
        data = context.get(RECORD_KEY) if isinstance(context, Mapping) else None
        if not isinstance(data, Mapping):
            return None
        texts = ("project", "key", "version_id", "summary", "at")
        if not all(isinstance(data.get(name), str) for name in texts) or \
                not isinstance(data.get("passed"), bool):
            return None
        return cls(project=data["project"], key=data["key"], version_id=data["version_id"],
                   passed=data["passed"], summary=data["summary"], at=data["at"],
                   content_hash=_text_or_none(data.get("content_hash")),
                   commit=_text_or_none(data.get("commit")),
                   stage=_text_or_none(data.get("stage")),
                   previous=_text_or_none(data.get("previous")),
                   conversation_id=conversation_id)


# ---- writing ---------------------------------------------------------------------------------


def record_smoke_result(client: OperatorClient, *, project: str, key: str, version_id: str,
                        content_hash: str | None, passed: bool, summary: str,
                        commit: str | None, stage: str | None = None,
                        previous: str | None = None) -> SmokeRecord:
    """Keep the verdict of a smoke run of ``version_id`` (``ca_x@vN``) on the platform and
    remove the agent's older records. Missing hash or commit are taken from the revision's
    own marker."""
    revision = client.conversational_agents.get(version_id)
    own = parse_own_marker(revision.description, project, key)
    record = SmokeRecord(
        project=project, key=key, version_id=version_id, passed=passed,
        summary=_shorten(summary), at=_now(),
        content_hash=content_hash or (own.content_hash if own else None),
        commit=commit or (own.commit if own else None), stage=stage, previous=previous)
    context = {RECORD_KEY: record.payload(), **placeholder_context(revision.config)}
    began = time.monotonic()
    created, retried = client.conversations.create_test(version_id, "chat_realtime",
                                                        context=context)
    if retried:
        sweep_orphans(client, orphan_window(client, version_id, created.id,
                                            time.monotonic() - began))
    _inject(client, created, record.payload())
    record = replace(record, conversation_id=created.id)
    if _read(client, client.conversations.get(created.id)) != record:
        raise SmokeRecordError(f"the smoke record of {version_id} ({created.id}) was written "
                               "but cannot be read back")
    since = _cleanup_start(client, version_id)
    _remove_older(client, record, since)
    return record


def record_pending_release(client: OperatorClient, *, project: str, key: str, version_id: str,
                           previous: str | None) -> SmokeRecord:
    """Announce, right before releasing ``version_id``, that its release is not proven yet
    and that ``previous`` is what to release again if its smoke tests fail. A run killed
    after the release leaves this record as the newest, and the next plan shows ``verify``."""
    return record_smoke_result(client, project=project, key=key, version_id=version_id,
                               content_hash=None, passed=False, summary=PENDING_SUMMARY,
                               commit=None, stage=PENDING_STAGE, previous=previous)


def _inject(client: OperatorClient, created: ConversationCreated,
            payload: dict[str, Any]) -> None:
    """Send the record as a context update, so the event stream carries it (where
    conversations do not show their context); into a started conversation where a platform
    refuses context for one not yet started."""
    try:
        client.conversations.update_context(created.id, {RECORD_KEY: payload})
        return
    except ApiError:
        pass
    try:
        with client.open_session(created, recv_timeout=READ_TIMEOUT_S) as session:
            session.start()
            session.update_context({RECORD_KEY: payload})
            session.end()
            # Followed on the event stream: a session may carry only the agent's own events.
            for _event in client.events(created.id, stop=_ended, deadline=READ_TIMEOUT_S):
                pass
    except OperationError as exc:
        raise SmokeRecordError(f"the smoke record could not be sent to {created.id}: "
                               f"{exc}") from exc


def placeholder_context(config: Mapping[str, Any]) -> dict[str, Any]:
    """A context that supplies every prompt variable without a default (a placeholder each):
    without them the platform refuses even a conversation never started."""
    runtime = config.get("runtime")
    variables = runtime.get("variables") if isinstance(runtime, Mapping) else None
    needed = [v["name"] for v in variables or () if isinstance(v, Mapping)
              and isinstance(v.get("name"), str) and v.get("default_value") is None]
    return {"$variables": dict.fromkeys(needed, PLACEHOLDER_VALUE)} if needed else {}


def _remove_older(client: OperatorClient, record: SmokeRecord, since: str | None) -> None:
    agent_id = agent_id_of(record.version_id)
    for older in _records(client, agent_id, None, since):
        if older.conversation_id == record.conversation_id or older.at > record.at or \
                not older.describes(record.project, record.key):
            continue
        with contextlib.suppress(OperationError):
            client.conversations.delete(older.conversation_id or "")


def _cleanup_start(client: OperatorClient, version_id: str) -> str | None:
    """Older records of the agent were made after the previous revision was created (each
    recording removes the ones before it)."""
    number = version_number(version_id)
    previous = max(0, (number or 0) - 1)
    return _created_at(client, agent_id_of(version_id), previous)


# ---- reading ---------------------------------------------------------------------------------


def last_smoke_result(client: OperatorClient, *, project: str, key: str, agent_id: str,
                      since: str | None = None) -> SmokeRecord | None:
    """The newest record of this project and key for ``agent_id``: only records of that
    revision for ``ca_x@vN``, of any revision for a bare ``ca_x``. None when there is none."""
    bare = agent_id_of(agent_id)
    number = version_number(agent_id)
    if since is None:
        since = _created_at(client, bare, number if number is not None else 0)
    wanted = agent_id if number is not None else None
    found = [r for r in _records(client, bare, wanted, since) if r.describes(project, key)]
    return max(found, key=lambda r: r.at, default=None)


def latest_records(client: OperatorClient, *, project: str, revisions: Mapping[str, str],
                   since: str | None) -> dict[str, SmokeRecord]:
    """The newest record of each revision in ``revisions`` (key -> ``ca_x@vN``), from one
    listing of the conversations created since ``since`` (the oldest revision's creation):
    what plan and status read to find releases that were never proven."""
    wanted = {version_id: key for key, version_id in revisions.items()}
    newest: dict[str, SmokeRecord] = {}
    for conversation in client.conversations.list(created_at_gte=_with_slack(since)):
        pinned = conversation.agent_id or ""
        if pinned not in wanted or not _is_candidate(conversation, agent_id_of(pinned), pinned):
            continue
        record = _read(client, conversation)
        key = wanted[pinned]
        if record is None or not record.describes(project, key, pinned):
            continue
        if key not in newest or record.at > newest[key].at:
            newest[key] = record
    return newest


def _records(client: OperatorClient, agent_id: str, version_id: str | None,
             since: str | None) -> Iterator[SmokeRecord]:
    for conversation in client.conversations.list(created_at_gte=_with_slack(since)):
        if _is_candidate(conversation, agent_id, version_id):
            record = _read(client, conversation)
            if record is not None:
                yield record


def _is_candidate(conversation: Conversation, agent_id: str, version_id: str | None) -> bool:
    # Started ones too: where context is accepted only while a conversation is in progress,
    # a record conversation is started for the record to be sent.
    pinned = conversation.agent_id or ""
    return (conversation.livemode is False and agent_id_of(pinned) == agent_id
            and version_id in (None, pinned))


def _read(client: OperatorClient, conversation: Conversation) -> SmokeRecord | None:
    if conversation.is_started:
        # Started only for the record to be sent: it counts when the update came after the
        # start, never from the context the conversation began with (a smoke test's own).
        return SmokeRecord.from_context(_context_from_events(client, conversation.id),
                                        conversation.id)
    context = _context_of(conversation)
    if context is None:
        try:
            context = _context_of(client.conversations.get(conversation.id))
        except ApiError:
            return None  # deleted meanwhile
    if context is None:
        context = _context_from_events(client, conversation.id)
    return SmokeRecord.from_context(context, conversation.id)


def _context_of(conversation: Conversation) -> dict[str, Any] | None:
    extra = conversation.model_extra or {}
    context = extra.get("context")
    return context if isinstance(context, dict) else None


def _updated_context(event: Event) -> dict[str, Any] | None:
    return updated_context(event.payload) if event.type == CONTEXT_UPDATED else None


def _ended(event: Event) -> bool:
    return event.type == CONVERSATION_ENDED


def _is_record_event(event: Event) -> bool:
    context = _updated_context(event)
    return context is not None and RECORD_KEY in context


def _no_record_after(event: Event) -> bool:
    """A record is sent before anyone speaks and before the end: a conversation whose stream
    reached these events without one is not a record."""
    return _is_record_event(event) or event.type in (USER_MESSAGE_RECEIVED, CONVERSATION_ENDED)


def _context_from_events(client: OperatorClient, conversation_id: str
                         ) -> dict[str, Any] | None:
    try:
        with client.events(conversation_id, stop=_no_record_after, max_reconnects=0,
                           idle_timeout=READ_TIMEOUT_S, deadline=READ_TIMEOUT_S) as stream:
            for event in stream:
                if _is_record_event(event):
                    return _updated_context(event)
    except OperationError:
        return None
    return None


def _created_at(client: OperatorClient, agent_id: str, number: int) -> str | None:
    """When revision ``number`` of the agent was created (None when unknown)."""
    versions = client.conversational_agents.list_versions(agent_id)
    entry = next((v for v in versions if v.number == number), None)
    return entry.created_at if entry is not None else None


# ---- recording a smoke run ------------------------------------------------------------------


def record_smoke_report(client: OperatorClient, report: SmokeReport, *, project: str,
                        warn: Callable[[str], None]) -> list[SmokeRecord]:
    """Record the verdict of ``operator-iac smoke`` run against released revisions: one record
    per agent tested (passed only when all its tests passed). Call it only for a run of the
    released revisions: a record must speak about what is released."""
    by_revision: dict[tuple[str, str], list[TestResult]] = {}
    for test in report.tests:
        by_revision.setdefault((test.agent_key, test.version_id), []).append(test)
    records = []
    for (key, version_id), tests in sorted(by_revision.items()):
        # Quarantined tests are reported, never evidence against a revision.
        passed = all(t.holds for t in tests)
        failing = next((t for t in tests if not t.holds), None)
        summary = f"{sum(t.passed for t in tests)}/{len(tests)} smoke tests passed" + (
            f": {failing.test_name!r}: {failing.reason()}" if failing else "")
        try:
            records.append(record_smoke_result(
                client, project=project, key=key, version_id=version_id, content_hash=None,
                passed=passed, summary=summary, commit=None, stage="released"))
        except OperatorIacError as exc:
            warn(f"{key}: the smoke result of {version_id} could not be recorded ({exc}); "
                 "a promotion from this environment will refuse it until one is")
    return records


# ---- small helpers ---------------------------------------------------------------------------


def _now() -> str:
    # Microseconds: two records made within one second must still be ordered.
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _with_slack(since: str | None) -> str | None:
    if since is None:
        return None
    try:
        moment = datetime.fromisoformat(since.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - CLOCK_SLACK).astimezone(UTC).strftime(_ISO)


def _shorten(summary: str) -> str:
    line = " ".join(summary.split())
    return line if len(line) <= SUMMARY_LIMIT else line[:SUMMARY_LIMIT - 3] + "..."


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
