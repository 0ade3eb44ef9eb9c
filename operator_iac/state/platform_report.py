"""What ``operator-iac doctor`` found on a platform, as values: the checks of what operator-iac
relies on, and the undocumented behaviours it adapts to (docs/platform-behaviours.md), each
with what this platform does. Pure data; ``services.doctor`` fills it, ``render.doctor`` shows
it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Status = Literal["ok", "failed", "skipped"]


@dataclass(frozen=True)
class Check:
    """Something operator-iac relies on, and whether this platform shows it."""

    name: str
    status: Status
    detail: str


@dataclass(frozen=True)
class Behaviour:
    """One undocumented point: what this platform does (``seen``; None when it could not be
    observed), whether that is the emulator's choice (``usual``) or the alternative."""

    key: str
    point: str
    seen: str | None
    usual: bool | None
    adapts: str


@dataclass(frozen=True)
class DoctorReport:
    """Every check and behaviour, in the order they were looked at."""

    api_url: str
    checks: tuple[Check, ...]
    behaviours: tuple[Behaviour, ...]

    @property
    def ok(self) -> bool:
        return all(check.status != "failed" for check in self.checks)

    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def alternatives(self) -> list[Behaviour]:
        """The behaviours where this platform made the other choice."""
        return [b for b in self.behaviours if b.usual is False]


@dataclass
class Findings:
    """What the checks found so far (filled in step by step)."""

    checks: list[Check] = field(default_factory=list)
    behaviours: list[Behaviour] = field(default_factory=list)

    def check(self, name: str, status: Status, detail: str) -> None:
        self.checks.append(Check(name, status, detail))

    def saw(self, key: str, seen: str | None, usual: bool | None) -> None:
        point, adapts = BEHAVIOURS[key]
        self.behaviours.append(Behaviour(key, point, seen, usual, adapts))


# key -> (the undocumented point, how operator-iac adapts)
BEHAVIOURS: dict[str, tuple[str, str]] = {
    "version_header": ("a request without Operator-Version", "operator-iac always sends it"),
    "error_body": ("the shape of error bodies", "a message is found in any body"),
    "version_status": ("the status field of revisions",
                       "reads version_status and the older is_released"),
    "list_descriptions": ("descriptions in agent list items",
                          "ownership comes from the versions lists"),
    "extra_fields": ("fields operator-iac does not know",
                     "kept through read-modify-write, never shown as changes"),
    "transfers": ("how transfer targets are spelt", "reads {entity_id} and {id}"),
    "draft_conversations": ("conversations pinned to a draft",
                            "where refused, apply fails naming smoke.on: [released]"),
    "session_url": ("session_url in the create response",
                    "builds it from the WebSocket base URL and the token"),
    "not_started_status": ("the status before a conversation starts",
                           "queued and enqueued both count as not started"),
    "context_before_start": ("context updates before a conversation starts",
                             "smoke records never use them (kept in the prompt override)"),
    "context_event": ("what conversation.context.updated carries",
                      "reads the update under context or bare"),
    "greeting": ("whether the agent speaks first",
                 "a greeting is awaited only when a test expects one"),
    "ended_status": ("the status in conversation.ended",
                     "reads the conversation's own status when absent"),
    "ws_close": ("the chat session after conversation.ended",
                 "left at conversation.ended; pings never extend a wait"),
    "sse_ids": ("id: lines in the event stream", "de-duplicates by the envelope's id"),
    "sse_keepalive": ("keep-alive comments in the event stream",
                      "a silent stream is reopened; every read has a deadline"),
    "sse_multiline": ("data: lines per event", "joined, as the SSE format says"),
    "timestamps": ("the precision of event timestamps",
                   "whole seconds: latencies timed on arrival"),
    "testmode_postprocessing": ("post-processing of testmode conversations",
                                "procedure assertions start it with POST /procedures"),
    # Points a read-only check cannot observe.
    "create_postprocess": ("postprocess_agents on create (needs a write)",
                           "every write is read back; dropped fields are written with PUT"),
    "stored_text": ("whether stored text is kept byte-exact (needs a write)",
                    "normalised forms of the declared text count as equal"),
    "release_conflict": ("releasing the released revision (needs a write)",
                         "a 409 counts as done when the versions list shows it released"),
    "has_tool_calls": ("what has_tool_calls means (needs a tool call)",
                       "a turn ends on the reply whatever the flag means"),
    "retry_after": ("Retry-After as seconds or a date (needs a rate limit)",
                    "both are honoured"),
}
UNOBSERVABLE = ("create_postprocess", "stored_text", "release_conflict", "has_tool_calls",
                "retry_after")
