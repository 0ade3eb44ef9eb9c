"""Fault injection and compatibility modes: what the emulator does wrong on purpose.

``FaultState`` holds the settings (from CLI flags, the admin endpoint, or Python calls on the
running server) and decides per request, without I/O, whether to pass it, answer with an
error status, reset the connection, or perform it and then lose the response. Counted rules
("fail the next 2 PUTs with 503") make attempt counts in client tests exact; the error rate
is drawn from a seeded generator so runs repeat.

Compatibility modes switch the [decided] parts of the contract to their documented
alternatives, so that the client's tolerance is tested rather than assumed.
"""

from __future__ import annotations

import random
import re
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from operator_iac.emulator.rules import Outcome

COMPAT_MODES: dict[str, str] = {
    "is_released": "agents carry a boolean is_released instead of version_status",
    "no_session_url": "the create-conversation response has no session_url",
    "no_sse_ids": "SSE messages have no id: lines and Last-Event-ID is ignored",
    "plain_errors": "error bodies are plain text instead of JSON",
    "transfer_id": "config.tool.transfers items read back as {id} instead of {entity_id}",
    "enqueued": "a not yet started conversation has status enqueued instead of queued",
    "extra_fields": "responses carry fields the client does not know",
    "multiline_sse": "each SSE message spreads its JSON over several data: lines",
    "whole_seconds": "event timestamps have whole seconds instead of milliseconds",
    # The alternatives of operator-api.md section 9, one mode each.
    "no_greeting": "the agent does not speak first: conversation.start brings no greeting",
    "ended_without_status": "conversation.ended carries no status (GET the conversation)",
    "create_ignores_postprocess": "POST creates ignore postprocess_agents (only PUT sets it)",
    "released_only_conversations": "conversations pinned to a revision that is not released "
                                   "are refused with 409",
    "no_testmode_postprocessing": "testmode conversations are not post-processed "
                                  "(POST /procedures still runs one)",
    "tool_flag_on_reply": "has_tool_calls is true on the reply that used tools",
    "trim_text": "stored text loses trailing whitespace and final newlines",
    "ws_stays_open": "the chat session is not closed after conversation.ended; the server "
                     "sends application-level pings",
    "list_without_description": "agent list items carry no description",
    "release_conflict": "releasing the released revision answers 409 already_released",
    "context_in_progress_only": "context updates are refused unless the conversation is "
                                "in-progress",
    "bare_context_event": "conversation.context.updated carries the update's keys in the "
                          "payload itself, not under context",
    "nullable_outputs": "procedure outputs are null wherever the output_schema allows null",
    "retry_after_date": "Retry-After is an HTTP date instead of seconds",
    # Stored forms: what comes back is not byte for byte what was written.
    "dated_models": "runtime.model aliases are stored as their dated snapshot "
                    "(openai/gpt-4o becomes openai/gpt-4o-2024-08-06)",
    "sorted_lists": "lists of strings in config are stored sorted",
    "nfc_text": "every stored string is NFC-normalised Unicode",
    # Empty values and shapes of the same data.
    "null_empty": "empty strings (descriptions ...) come back as null, in agents, list items "
                  "and versions",
    "omit_nulls": "null fields are left out of responses entirely",
    "output_as_string": "procedure output is delivered as a JSON-encoded string",
    "relative_session_url": "session_url is relative: /conversations/{id}/session?token=...",
    "agent_events_only_ws": "the chat session carries only the agent's own events (agent.*, "
                            "server.error); the SSE stream stays complete",
}

CompatMode = Literal["is_released", "no_session_url", "no_sse_ids", "plain_errors",
                     "transfer_id", "enqueued", "extra_fields", "multiline_sse",
                     "whole_seconds", "no_greeting", "ended_without_status",
                     "create_ignores_postprocess",
                     "released_only_conversations", "no_testmode_postprocessing",
                     "tool_flag_on_reply", "trim_text", "ws_stays_open",
                     "list_without_description", "release_conflict",
                     "context_in_progress_only", "bare_context_event", "nullable_outputs",
                     "retry_after_date", "dated_models", "sorted_lists", "nfc_text",
                     "null_empty", "omit_nulls", "output_as_string", "relative_session_url",
                     "agent_events_only_ws"]
# The modes that stand for the alternatives of operator-api.md section 9.
SECTION_9_MODES: tuple[str, ...] = (
    "no_greeting", "ended_without_status", "create_ignores_postprocess",
    "released_only_conversations", "no_testmode_postprocessing", "tool_flag_on_reply",
    "trim_text", "ws_stays_open", "list_without_description", "release_conflict",
    "context_in_progress_only", "bare_context_event", "nullable_outputs", "retry_after_date",
    "whole_seconds")
BodyShape = Literal["json", "text", "html", "empty"]


class FailRule(BaseModel):
    """Answer the next ``count`` matching requests with ``status`` (0 = reset the connection)."""

    model_config = ConfigDict(extra="forbid")
    status: int = Field(ge=0, le=599)
    count: int = Field(default=1, ge=1)
    method: str = ".*"
    path: str = ".*"
    retry_after: int | None = Field(default=None, ge=0)
    body: BodyShape = "json"

    def matches(self, method: str, path: str) -> bool:
        return (re.fullmatch(self.method, method, re.IGNORECASE) is not None
                and re.search(self.path, path) is not None)


class LoseRule(BaseModel):
    """Perform the next ``count`` matching requests, then answer 502 or reset the connection,
    so the client cannot tell whether the write happened."""

    model_config = ConfigDict(extra="forbid")
    count: int = Field(default=1, ge=1)
    method: str = "POST"
    path: str = ".*"
    mode: Literal["502", "reset"] = "502"

    def matches(self, method: str, path: str) -> bool:
        return (re.fullmatch(self.method, method, re.IGNORECASE) is not None
                and re.search(self.path, path) is not None)


class FaultSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    latency_ms: int = Field(default=0, ge=0)
    error_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    error_statuses: list[int] = Field(default_factory=lambda: [500, 503])
    seed: int | None = None
    rate_limit_rps: float | None = Field(default=None, gt=0)
    retry_after_s: int = Field(default=1, ge=0)
    drop_sse_after: int | None = Field(default=None, ge=0)
    drop_ws_after: int | None = Field(default=None, ge=0)
    reply_delay_ms: int = Field(default=0, ge=0)
    procedure_outcome: Outcome = "success"
    compat: list[CompatMode] = Field(default_factory=list)
    list_lag: float = Field(default=0.0, ge=0.0)
    """Seconds before the agents list shows a new agent, or stops showing a deleted one."""
    versions_lag: float = Field(default=0.0, ge=0.0)
    """Seconds before the versions lists and every status field show a new revision or a
    release. Reads of a revision by its id (``@vN``, or the bare id) are never late."""
    fail_next: list[FailRule] = Field(default_factory=list)
    lose_response: list[LoseRule] = Field(default_factory=list)


@dataclass(frozen=True)
class Decision:
    """What to do with one request."""

    action: Literal["pass", "respond", "reset", "lose"]
    status: int = 0
    retry_after: int | None = None
    body: BodyShape = "json"
    lose_mode: str = "502"


PASS = Decision("pass")


class FaultState:
    """The live fault settings, safe to change from any thread while requests run."""

    def __init__(self, settings: FaultSettings | None = None) -> None:
        self._lock = threading.Lock()
        self._settings = settings or FaultSettings()
        self._rng = random.Random(self._settings.seed)
        self._recent: deque[float] = deque()

    @property
    def settings(self) -> FaultSettings:
        """The settings now, for reading. A shallow copy (its lists of counted rules are the
        live ones), because every event a conversation streams reads the settings."""
        with self._lock:
            return self._settings.model_copy()

    def snapshot(self) -> dict[str, Any]:
        return self.settings.model_dump()

    def update(self, **changes: Any) -> FaultSettings:
        """Replace the given settings (validated); the others stay."""
        with self._lock:
            merged = {**self._settings.model_dump(), **changes}
            self._settings = FaultSettings.model_validate(merged)
            if "seed" in changes:
                self._rng = random.Random(self._settings.seed)
            return self._settings.model_copy(deep=True)

    def reset(self) -> None:
        with self._lock:
            self._settings = FaultSettings()
            self._rng = random.Random()
            self._recent.clear()

    def fail_next(self, count: int, status: int, method: str = ".*", path: str = ".*",
                  retry_after: int | None = None, body: BodyShape = "json") -> None:
        rule = FailRule(status=status, count=count, method=method, path=path,
                        retry_after=retry_after, body=body)
        with self._lock:
            self._settings.fail_next.append(rule)

    def lose_next_response(self, method: str = "POST", path: str = ".*", count: int = 1,
                           mode: Literal["502", "reset"] = "502") -> None:
        rule = LoseRule(method=method, path=path, count=count, mode=mode)
        with self._lock:
            self._settings.lose_response.append(rule)

    def set_compat(self, *modes: str) -> None:
        self.update(compat=list(modes))

    def has(self, mode: str) -> bool:
        with self._lock:
            return mode in self._settings.compat

    def modes(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._settings.compat)

    def decide(self, method: str, path: str, now: float) -> Decision:
        """The fate of one request (consumes counted rules)."""
        with self._lock:
            return (self._consume_fail_rule(method, path)
                    or self._rate_limited(now)
                    or self._random_error()
                    or self._consume_lose_rule(method, path)
                    or PASS)

    def _consume_fail_rule(self, method: str, path: str) -> Decision | None:
        for rule in self._settings.fail_next:
            if rule.count > 0 and rule.matches(method, path):
                rule.count -= 1
                self._settings.fail_next = [r for r in self._settings.fail_next if r.count > 0]
                if rule.status == 0:
                    return Decision("reset")
                retry_after = rule.retry_after
                if retry_after is None and rule.status == 429:
                    retry_after = self._settings.retry_after_s
                return Decision("respond", rule.status, retry_after, rule.body)
        return None

    def _rate_limited(self, now: float) -> Decision | None:
        limit = self._settings.rate_limit_rps
        if limit is None:
            return None
        while self._recent and now - self._recent[0] >= 1.0:
            self._recent.popleft()
        if len(self._recent) >= limit:
            return Decision("respond", 429, self._settings.retry_after_s)
        self._recent.append(now)
        return None

    def _random_error(self) -> Decision | None:
        rate = self._settings.error_rate
        if rate <= 0 or self._rng.random() >= rate:
            return None
        statuses = self._settings.error_statuses or [500]
        return Decision("respond", self._rng.choice(statuses))

    def _consume_lose_rule(self, method: str, path: str) -> Decision | None:
        for rule in self._settings.lose_response:
            if rule.count > 0 and rule.matches(method, path):
                rule.count -= 1
                self._settings.lose_response = [
                    r for r in self._settings.lose_response if r.count > 0]
                return Decision("lose", lose_mode=rule.mode)
        return None
