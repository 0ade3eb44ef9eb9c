"""The registry of platform variations: every point where a platform may plausibly behave
otherwise than the bundled emulator does by default, declared once.

Each ``Variation`` names the point, the emulator's usual behaviour, the alternatives (each
played by a compatibility mode, or by a delay in seconds), how operator-iac adapts, and
whether and how ``doctor`` can observe it. Everything else derives from here: the emulator's
compatibility modes (``COMPAT_MODES``), a randomised platform (``draw``), the behaviours
``doctor`` reports, and the tables of ``docs/platform-behaviours.md`` (rendered by
``operator_iac.render.behaviours``; a test keeps the page in step).

It lives beside the emulator, which plays every alternative, and is pure data: the client
reads it only to report and document, never to decide how to read a platform (that is the
reading boundary's job, in ``operator_iac.api``).

A new variation costs three files: an entry here, the emulator's behaviour for its mode,
and the boundary's tolerance of it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Literal

Stance = Literal["adapts", "your call"]
Observation = Literal["read", "conversation", "write", "never"]

# The default bound of a drawn delay, in seconds (``draw``).
MAX_LAG_S = 1.5
RANDOM = "random"


@dataclass(frozen=True)
class Alternative:
    """One other plausible behaviour, and how the emulator plays it."""

    mode: str
    """The compatibility mode that plays it (``emulator --compat MODE``), or for a delay the
    fault setting that holds its seconds (``list_lag``)."""
    behaviour: str
    """What a platform that made this choice does."""
    delay: bool = False
    """The alternative is a delay in seconds (a fault setting), not a compatibility mode."""


@dataclass(frozen=True)
class Variation:
    """One undocumented point, its usual and alternative behaviours, and operator-iac's
    answer to it."""

    key: str
    """A stable name (doctor reports it; the JSON report's ``key``)."""
    group: str
    """The section of the documentation page it is listed in."""
    point: str
    """What is undocumented, in a few words."""
    usual: str
    """What the bundled emulator does by default."""
    alternatives: tuple[Alternative, ...]
    """The other plausible behaviours the emulator can play."""
    adapts: str
    """How operator-iac copes, in a sentence or two."""
    stance: Stance = "adapts"
    """``adapts``: works either way without a setting; ``your call``: operator-iac stops
    and names the setting that decides."""
    observed: Observation = "never"
    """How ``doctor`` sees which side a platform takes: from reads alone, from its testmode
    conversation, only with ``--write-check``, or not at all."""
    how_observed: str = ""
    """What doctor looks at (empty when it cannot see it)."""
    section_9: bool = False
    """Listed among the contract's behaviours a client must not assume."""

    @property
    def modes(self) -> tuple[str, ...]:
        return tuple(a.mode for a in self.alternatives if not a.delay)


AGENTS = "Agents, drafts and releases"
STORED = "Stored content"
CONSISTENCY = "Consistency"
CONVERSATIONS = "Conversations and smoke tests"
STREAMS = "Events and streams"
CONTEXT = "Context and smoke records"
ERRORS = "Errors, retries and rate limits"
GROUPS = (AGENTS, STORED, CONSISTENCY, CONVERSATIONS, STREAMS, CONTEXT, ERRORS)


def _alt(mode: str, behaviour: str) -> tuple[Alternative, ...]:
    return (Alternative(mode, behaviour),)


def _stored_form(key: str, point: str, mode: str, behaviour: str, written: str,
                 consequence: str = "") -> Variation:
    """A form the platform may store a written value in, which apply learns from the
    read-back of its writes and doctor sees by writing ``written`` and reading it back."""
    adapts = "learnt from the read-back like any stored form"
    return Variation(key, STORED, point, "kept as written", _alt(mode, behaviour),
                     f"{adapts}; {consequence}" if consequence else adapts, observed="write",
                     how_observed=f"{written} is written and read back")


VARIATIONS: tuple[Variation, ...] = (
    # ---- agents ------------------------------------------------------------------------
    Variation(
        "version_status", AGENTS, "Revision status field", "`version_status`",
        _alt("is_released", "a boolean `is_released`, as older API snapshots had"),
        "reads both; draft and archived are told apart over the whole versions list, and "
        "a revision newer than the released one (a draft, or archived by a rollback) by "
        "writing a part of its own content back to it (no text where the kind allows) "
        "before apply would refuse it: an archived revision refuses that write, a draft "
        "takes it unchanged; `rollback` starts a draft holding what it released (where "
        "the platform stores that content as written), so the revision it put aside never "
        "reads as a change applied and never released",
        observed="read", how_observed="the versions lists of a sample of agents"),
    Variation(
        "create_status", AGENTS, "A new agent's `v0`",
        "a draft: nothing is released until `v0` is",
        _alt("create_releases", "released at once, by the create itself"),
        "every write is read back and every revision addressed by its id: the change is "
        "written to a new draft, smoke-tested there and released as on any agent, and a "
        "released `v0` that holds this key's marker for the declared content counts as "
        "this tool's create", observed="write",
        how_observed="the temporary agent's `v0` right after its create"),
    Variation(
        "immutable_write", AGENTS, "A write to a revision that is not the draft",
        "409 (`version_immutable`)",
        _alt("immutable_422", "422, as for a body it rejects"),
        "a write to an addressed revision that is refused with 409, 400 or 422 is judged by "
        "reading that revision: no longer a draft, the write goes to a new draft (after the "
        "checks that nobody else wrote since); still a draft, the refusal stands",
        observed="write",
        how_observed="the temporary agent's released `v0` is written to once more"),
    Variation(
        "create_postprocess", AGENTS, "`postprocess_agents` on create", "accepted by `POST`",
        _alt("create_ignores_postprocess", "ignored by `POST`, accepted by `PUT`"),
        "every write is read back; fields a create dropped are written once more with `PUT` "
        "into the new draft before anything is released", section_9=True),
    Variation(
        "list_descriptions", AGENTS, "Descriptions in agent list items",
        "the newest revision's `description`",
        _alt("list_without_description", "no description (only the versions list has it)"),
        "ownership comes from the versions lists, documented to carry descriptions; after a "
        "lost create the marker is searched in each agent's versions, so no agent is created "
        "twice", observed="read", how_observed="the agents lists", section_9=True),
    Variation(
        "release_conflict", AGENTS, "Releasing the released revision", "200, a no-op",
        _alt("release_conflict", "409 \"already released\""),
        "a 409 on a release counts as done when the revision then reads as released",
        observed="write", how_observed="the temporary agent's released revision is released "
        "again", section_9=True),
    Variation(
        "transfers", AGENTS, "How transfer targets are spelt", "`{entity_id}`",
        _alt("transfer_id", "`{id}`, as older API snapshots had"),
        "both are read as `{entity_id}`", observed="read",
        how_observed="the transfers of the sampled revisions"),
    Variation(
        "extra_fields", AGENTS, "Fields operator-iac does not know", "none",
        _alt("extra_fields", "responses carry fields of their own"),
        "ignored when reading, kept through read-modify-write, never shown as changes",
        observed="read", how_observed="the agents lists"),
    Variation(
        "list_cursors", AGENTS, "Cursors of the agents lists",
        "opaque text, null on the last page",
        _alt("numeric_cursors", "numbers (where the next page begins), with `has_more`"),
        "a cursor is followed in either form; a page that says it has more but gives no "
        "cursor, or whose items cannot be told from other lists, is an error, never the end "
        "of the list (an agent missed would be created again)"),
    Variation(
        "time_form", AGENTS, "How times are written (`created_at`, `updated_at` ...)",
        "RFC 3339 text in UTC (`2023-11-07T05:31:56Z`)",
        _alt("epoch_times", "Unix time: seconds since 1970, as numbers"),
        "every time is read, in any of these forms, any offset or precision, into one form: "
        "times from any platform compare and order alike (the choice between two agents "
        "created at once by concurrent applies is made on their times)",
        observed="read", how_observed="the agents lists"),
    # ---- stored content ----------------------------------------------------------------
    Variation(
        "description_limit", STORED, "The length of a description", "no limit",
        (Alternative("short_descriptions", "cut silently at 255 characters"),
         Alternative("long_descriptions_refused", "refused over 255 characters (422)")),
        "the ownership marker never pushes a description over the platform's limit: the "
        "limit is learnt from the read-back of a write that kept only the beginning (or from "
        "a write refused with 400 or 422 that a smaller marker makes acceptable), and the "
        "description is written with the richest marker that fits beside the user's "
        "text (giving up, in order, what was written, the commit, the secret names, then "
        "halving the record of stored forms and the hash, keeping only the record's seal, "
        "the smoke records' ids (which then follow the release), the seal, the secret "
        "paths); where even the marker of identity does not fit, or the seal of the forms, "
        "the message names the characters to cut",
        observed="write", how_observed="a 2,000-character description is written into the "
        "temporary agent's draft and read back"),
    Variation(
        "stored_text", STORED, "Whitespace of stored text", "byte-exact",
        _alt("trim_text", "trailing whitespace and final newlines trimmed"),
        "what the platform stores in answer to a write is read back at once and becomes the "
        "record of how it stores that declaration: later plans compare through it, so a "
        "normalisation is never a change, a conflict or a foreign draft; a real edit still "
        "shows", observed="write", how_observed="text with trailing whitespace is written "
        "and read back", section_9=True),
    _stored_form(
        "model_snapshots", "Model aliases in `runtime.model`", "dated_models",
        "stored as the dated snapshot (`openai/gpt-4o` as `openai/gpt-4o-2024-08-06`)",
        "an undated model alias",
        "the plan says once that the platform stores the alias as the snapshot"),
    _stored_form(
        "list_order", "Order of lists of strings in `config`", "sorted_lists",
        "sorted on storage", "an unsorted list of keywords"),
    _stored_form(
        "unicode", "Unicode normal form of stored text", "nfc_text", "NFC-normalised",
        "decomposed text", "the plan never shows two identical-looking strings as a change"),
    Variation(
        "empty_strings", STORED, "Empty strings", "returned as `\"\"`",
        _alt("null_empty", "returned as `null` (descriptions, and any other empty string)"),
        "null, absent and empty are read alike where the contract does not tell them apart: "
        "an agent with a `null` description reads as one with an empty description",
        observed="write", how_observed="an empty string is written and read back"),
    Variation(
        "null_fields", STORED, "Fields whose value is null", "returned as `null`",
        _alt("omit_nulls", "left out of responses"),
        "absent and null are read alike", observed="conversation",
        how_observed="the fields of the test conversation before it starts"),
    # ---- consistency -------------------------------------------------------------------
    Variation(
        "list_consistency", CONSISTENCY, "When the lists (agents, conversations) show a write",
        "at once",
        (Alternative("list_lag", "a new agent or conversation shows (and a deleted one goes) "
                     "some seconds later", delay=True),),
        "apply ends once what it created or deleted shows in the agents list, and the smoke "
        "records found by listing conversations show there as they are (a bounded wait "
        "that warns past its bound), so a run started right after it never creates a second "
        "copy nor reads a proven release as pending; the run itself proves a release by the "
        "records' ids, never by a listing", observed="write",
        how_observed="how long the temporary agent takes to show in the list, and to leave "
                     "it"),
    Variation(
        "versions_consistency", CONSISTENCY,
        "When the versions list and status fields show a write", "at once",
        (Alternative("versions_lag", "a new revision or a release shows some seconds later; "
                     "reads by id are not delayed by it", delay=True),),
        "apply ends once its new revisions and releases show in the versions lists (bounded "
        "wait, warning past it), so `plan` and `status` right after it agree with it",
        observed="write", how_observed="how long a new revision and a release take to show "
        "in the versions list"),
    # ---- conversations -----------------------------------------------------------------
    Variation(
        "greeting", CONVERSATIONS, "Greeting", "the agent speaks first after "
        "`conversation.start`", _alt("no_greeting", "no greeting"),
        "a greeting is awaited only when turn 0 of a test has expectations; a test that "
        "expects one cannot pass, and fails with \"the agent did not finish the greeting ... "
        "(agents on some platforms do not speak first ...)\"", stance="your call",
        observed="conversation", how_observed="whether the agent speaks first",
        section_9=True),
    Variation(
        "session_url", CONVERSATIONS, "`session_url` in the create response",
        "the full WebSocket URL",
        (Alternative("no_session_url", "absent"),
         Alternative("relative_session_url", "relative: `/conversations/{id}/session?token=...`")),
        "built from the WebSocket base URL and the token when absent; resolved against the "
        "URL of the response when relative", observed="conversation",
        how_observed="the create response"),
    Variation(
        "draft_conversations", CONVERSATIONS, "Conversations pinned to a draft (`ca_x@vN`)",
        "allowed", _alt("released_only_conversations", "409: released revisions only"),
        "the draft stage fails, the draft stays unreleased, and the message names "
        "`smoke: {on: [released]}`: testing after the release alone would put an untested "
        "revision in front of callers while its tests run, a trade that is yours to make",
        stance="your call", observed="conversation",
        how_observed="a conversation pinned to a draft, when the account holds one",
        section_9=True),
    Variation(
        "has_tool_calls", CONVERSATIONS, "`has_tool_calls` on `agent.message.completed`",
        "true on a message that precedes tool calls",
        _alt("tool_flag_on_reply", "true on the reply that used tools (or absent)"),
        "read as \"tool calls follow\": a flag after this turn's tool calls returned is the "
        "reply itself; a flagged message with no tool call after it ends the turn instead of "
        "timing out", section_9=True),
    Variation(
        "session_events", CONVERSATIONS, "Events on the WebSocket session",
        "every event of the conversation",
        _alt("agent_events_only_ws", "the agent's own events only (`agent.*`, `server.error`)"),
        "the session is only for sending: smoke runs follow every turn on the SSE stream, the "
        "platform's own record", observed="conversation",
        how_observed="which events the session carries"),
    Variation(
        "ws_close", CONVERSATIONS, "The WebSocket after `conversation.ended`",
        "closed with 1000", _alt("ws_stays_open", "left open, with application-level pings"),
        "the session is left at `conversation.ended`; messages that are not events never "
        "extend a wait; every wait is bounded by the test's timeouts",
        observed="conversation", how_observed="whether the server closes the session",
        section_9=True),
    Variation(
        "ended_status", CONVERSATIONS, "`status` in `conversation.ended`", "carried",
        _alt("ended_without_status", "absent"),
        "read from the conversation itself (`GET /conversations/{id}`, documented) when "
        "absent", observed="conversation", how_observed="the end of the test conversation",
        section_9=True),
    Variation(
        "testmode_postprocessing", CONVERSATIONS, "Post-processing of testmode conversations",
        "runs", _alt("no_testmode_postprocessing", "does not run"),
        "a platform fact the environment declares (`testmode_postprocessing: false`): "
        "operator-iac then starts the runs a `procedure` assertion judges with `POST "
        "/procedures` (documented), in testmode, at once; undeclared, it waits for the "
        "platform's run and never starts one a slow platform may still start, and a test "
        "whose run never came says so and names the setting", stance="your call",
        observed="conversation", how_observed="the runs of an agent with post-processing",
        section_9=True),
    Variation(
        "postprocess_timing", CONVERSATIONS, "When post-processing runs start",
        "as the conversation ends",
        _alt("slow_postprocessing", "seconds later (a queue): 3 s after the end"),
        "a `procedure` assertion waits for the platform's run for as long as its test "
        "allows; a run the platform may still start is never started by operator-iac (a "
        "run may post to Slack or a webhook: it would run twice)", observed="conversation",
        how_observed="how long after the end the runs of an agent with post-processing "
        "appear"),
    Variation(
        "output_shape", CONVERSATIONS, "A procedure's `output`", "a JSON value",
        _alt("output_as_string", "the JSON encoded in a string"),
        "a JSON-encoded object is decoded where an object is expected",
        observed="conversation", how_observed="the output of a finished post-processing run"),
    Variation(
        "nullable_outputs", CONVERSATIONS, "`output_schema` dialect", "JSON Schema",
        _alt("nullable_outputs", "OpenAPI 3 schema objects (`nullable: true`); outputs null "
             "wherever allowed"),
        "OpenAPI 3.0 spellings (`nullable`, boolean `exclusiveMinimum`/`exclusiveMaximum`) "
        "are read as the JSON Schema they stand for, in `validate` and in `procedure` checks",
        section_9=True),
    Variation(
        "not_started_status", CONVERSATIONS, "The status before a conversation starts",
        "`queued`", _alt("enqueued", "`enqueued`"),
        "both read as not started", observed="conversation",
        how_observed="the test conversation before it starts"),
    # ---- streams -----------------------------------------------------------------------
    Variation(
        "sse_ids", STREAMS, "SSE `id:` lines and `Last-Event-ID`", "sent and honoured",
        _alt("no_sse_ids", "neither"),
        "events are de-duplicated by their envelope id after a reconnect that replays the "
        "stream", observed="conversation", how_observed="the test conversation's stream"),
    Variation(
        "sse_multiline", STREAMS, "`data:` lines per SSE message", "one",
        _alt("multiline_sse", "the JSON spread over several lines"),
        "joined, as the SSE format says", observed="conversation",
        how_observed="the test conversation's stream"),
    Variation(
        "sse_keepalive", STREAMS, "SSE keep-alives", "a comment every 15 s",
        _alt("no_sse_keepalive", "none"),
        "a silent stream is reopened; every read has a deadline"),
    Variation(
        "timestamps", STREAMS, "Precision of event and revision timestamps", "milliseconds",
        _alt("whole_seconds", "whole seconds"),
        "with whole-second stamps, latencies are timed from when the events arrived, and a "
        "run keeps an agent it created only once a listing a second later shows any agent "
        "created in the same second",
        observed="conversation", how_observed="the test conversation's events",
        section_9=True),
    # ---- context -----------------------------------------------------------------------
    Variation(
        "context_before_start", CONTEXT, "Context updates", "accepted for any conversation",
        _alt("context_in_progress_only", "accepted only while `in-progress`"),
        "smoke records never need one: a record is kept in its conversation's prompt "
        "override, written when the conversation is created", observed="conversation",
        how_observed="a context update before the test conversation starts", section_9=True),
    Variation(
        "context_event", CONTEXT, "What `conversation.context.updated` carries",
        "the update under `context`",
        _alt("bare_context_event", "the bare update, its keys in the payload"),
        "both are read as the update under `context`", observed="conversation",
        how_observed="the test conversation's context event", section_9=True),
    # ---- errors ------------------------------------------------------------------------
    Variation(
        "error_body", ERRORS, "Error bodies", "`{\"error\": {\"code\", \"message\"}}`",
        _alt("plain_errors", "plain text (or HTML from a proxy, or nothing)"),
        "a message is found in any of them; the status, method and path are always shown",
        observed="read", how_observed="the answer for an agent that does not exist"),
    Variation(
        "paths", ERRORS, "The paths of the API", "served as documented",
        _alt("slash_redirects", "`307` to the same path with a trailing slash, served there"),
        "a redirect on the platform's own origin is followed (`307` and `308` keeping the "
        "method and body, others for a `GET`, at most five); one to another origin never is: "
        "the key stays home", observed="read", how_observed="the agents lists"),
    Variation(
        "retry_after", ERRORS, "`Retry-After`", "seconds",
        _alt("retry_after_date", "an HTTP date"),
        "both are honoured", section_9=True),
    # ---- added later: at the end, so that every seed draws what it drew before them ------
    Variation(
        "list_order_agents", AGENTS, "Order of the agents lists", "oldest agent first",
        _alt("newest_first_lists", "newest agent first, each cursor going further back"),
        "no order is assumed: every list is read to the end of its cursor, and each agent "
        "is told by its id and its marker, never by its place"),
    Variation(
        "page_size", AGENTS, "How many items a page of a list holds", "20",
        _alt("small_pages", "3: the agents of a project span many pages"),
        "no page size is assumed or asked for: every list is read to the end of its cursor, "
        "page after page"),
    Variation(
        "zero_values", STORED, "Fields whose value is empty, false or zero",
        "returned as they are", _alt("omit_empty", "left out of every response, event "
                                      "and list page (false, 0, empty text, lists and "
                                      "objects, and null), as a serialiser that omits zero "
                                      "values writes it"),
        "a declared value made only of zero values that reads back absent is learnt as the "
        "platform's form of it; a conversation that does not say it is livemode is read as "
        "testmode where operator-iac created it so (its smoke records)", observed="write",
        how_observed="a channel with SMS and voicemail off (`false`) is written and read back"),
    Variation(
        "markup_in_text", STORED, "Markup and quotes in stored text", "kept as written",
        _alt("escaped_html", "stored as HTML entities (`&amp;`, `&lt;`, `&gt;`, `&quot;`, "
                             "`&#x27;`), in names, descriptions, every text of `config` and "
                             "a conversation's `override_config`"),
        "learnt from the read-back like any stored form; smoke records are written in "
        "letters and digits, which no such form changes", observed="write",
        how_observed="text with `&`, `<`, `>` and quotes is written and read back"),
    Variation(
        "markdown_descriptions", STORED, "Markdown punctuation in descriptions",
        "kept as written",
        _alt("escaped_markdown", "stored as Markdown text: `\\`, `` ` ``, `*`, `_`, `[` and `]` "
                                 "escaped with a backslash, as a dashboard that renders "
                                 "descriptions as Markdown keeps them"),
        "the ownership marker is read through the escapes (and through HTML entities and "
        "tags), so every agent stays operator-iac's; the rest of the description is learnt "
        "from the read-back like any stored form", observed="write",
        how_observed="a description with `[`, `]`, `*` and `_` is written and read back"),
    Variation(
        "unjoined_conversations", CONVERSATIONS, "A conversation nobody joins",
        "stays `queued`", _alt("unjoined_end", "a conversation nobody joins ends a minute "
                               "after its creation: `failed`, with `failure_reason` "
                               "`agent_timeout`"),
        "a smoke record is read for what it holds, whatever has become of its conversation "
        "since: a record kept after its release (where a platform converses only with "
        "released revisions) is found in the time after the release once it has ended too"),
    Variation(
        "draft_after_release", AGENTS, "A draft beside the released revision",
        "none until the next write: `PUT` on the bare id starts one",
        _alt("draft_after_release", "a new draft, copied from the released revision, opened "
             "by every release"),
        "a draft that holds exactly what the released revision holds, or an archived one "
        "(after a rollback), is nobody's work: it never blocks a write as a foreign draft "
        "and `status` notes none; apply writes its change into it like into any draft "
        "(`RemoteAgent.pending_draft`)",
        observed="write", how_observed="the temporary agent's versions list after its release"),
    Variation(
        "unique_names", AGENTS, "Agents sharing a name", "allowed",
        _alt("unique_names", "a name another agent of the kind holds is refused (409 "
             "`name_taken`), on create and on rename"),
        "a refused create is judged by the account: an agent with this key's marker that holds "
        "the name is another apply's create of the key (settled like any concurrent create: "
        "converged for the same content) or, after an answer that was lost, this run's own; "
        "any other refusal stands, with the platform's message"),
    Variation(
        "list_revision", AGENTS, "The revision an agents list item describes",
        "the newest (a draft, when there is one)",
        _alt("list_released", "the released one, while there is one; the newest before the "
             "first release"),
        "who an agent belongs to and whether its versions list has caught up are read from "
        "the versions list, for the revision the item names, whichever that is"),
    Variation(
        "read_consistency", CONSISTENCY, "When a read by id shows a write",
        "at once: a client reads its own writes",
        (Alternative("read_lag", "a read by id shows a write some seconds later: a new "
                     "revision is not found, a rewritten one shows what it held before",
                     delay=True),),
        "a read of a revision this run just wrote that finds nothing, or what the revision "
        "held before the write, trails the write: it is read again (bounded wait) rather than "
        "taken for someone else's deletion or write; nor is another apply's write of the "
        "same draft placed before this run's by the platform's clock (`updated_at` against "
        "the `Date` of the write's answer: `state.write_order`); and apply ends once reads "
        "by id show its last writes, so the next command plans from them", observed="write",
        how_observed="how long the temporary agent's `v0` takes to be found by its id"),
    Variation(
        "revision_writes", AGENTS, "Writes addressed to a revision (`PUT ca_x@vN`)",
        "taken by the draft, refused for any other revision",
        _alt("bare_id_writes", "not taken: writes go to the bare id only, and a `PUT` "
             "addressed with `@vN` answers 404"),
        "a write to an addressed revision refused with any client-error status (400, 403, "
        "404, 405, 409, 422) sends apply to read the agent again and write to the bare id, "
        "where a deletion, a missing right or a rejected body is met again and stands"),
    Variation(
        "deleted_reads", ERRORS, "A read of something deleted", "404",
        (*_alt("deleted_stubs", "200 with a stub, `{id, deleted: true}` (agents and "
               "conversations)"),
         *_alt("soft_deletes", "200 with the conversation as it was, `status: \"deleted\"` "
               "and a `deleted_at` time (a soft delete); lists leave it out")),
        "an object marked deleted (`deleted: true`, `is_deleted: true`, a `deleted_at` time, "
        "`status: \"deleted\"`), read or listed, is read as a 404: the object is gone"),
    Variation(
        "chat_token", CONVERSATIONS, "A token in the `chat_realtime` create response",
        "carried, with `session_url`",
        _alt("no_chat_token", "neither a token nor a session URL: "
             "`POST /conversations/{id}/token/refresh` gives a token"),
        "a token is asked of the token refresh endpoint (documented), and the session URL "
        "built from it"),
    Variation(
        "throttle_status", ERRORS, "How a rate limit is answered",
        "429 with `Retry-After`",
        _alt("throttle_503", "503 with `Retry-After`, as a gateway in front of a platform "
             "may answer"),
        "a 503 that says when to come back is a request to slow down, as a 429 is: the "
        "request waits that long, and the client's parallelism halves (`api.pool`)"),
    Variation(
        "list_visibility", CONSISTENCY, "The order in which lagging lists show writes",
        "the order they were made: the list shows the platform as it was `list_lag` ago",
        (Alternative("uneven_list_lag", "each agent shows (and goes) after a delay of its own, "
                     "up to twice `list_lag`: a list can show an agent and not one created "
                     "before it"),
         Alternative("replica_lists", "each list read is served by a replica trailing by a "
                     "delay of its own, up to twice `list_lag` (`versions_lag` for a versions "
                     "list and the statuses it carries): a list can show less than the one "
                     "before it, a revision released a moment ago as the draft again")),
        "no order is assumed between the agents a list shows: of two agents created for one "
        "key by applies at once, the one ever released ranks first, so a run that kept its "
        "agent on a listing that did not show the other yet is yielded to by the other's "
        "run, which finds it released; each run lists until each of its own new agents "
        "shows, however long that one takes; and a machine reads again an agent whose "
        "versions list shows less than it saw of it before (`state.floor`: revisions are "
        "only added, and one released is never the draft again)"),
    Variation(
        "conversation_list_items", CONTEXT, "What a conversations list item holds",
        "the whole conversation object",
        _alt("summary_lists", "a summary: no `override_config`, `context` or `custom_fields` "
             "(the object itself, read by id, has them)"),
        "a smoke record listed without its override is read from the conversation itself "
        "(`GET /conversations/{id}`); only the testmode conversations of the minutes after a "
        "release are read so, and none at all where records are named in the marker"),
    Variation(
        "create_storage", STORED, "Whether a create and a PUT store one body alike", "alike",
        (Alternative("dated_on_create", "a create stores model aliases as their dated "
                     "snapshots, a PUT keeps them as sent (two paths of the platform's own)"),
         Alternative("dated_on_put", "a PUT stores model aliases as their dated snapshots, a "
                     "create keeps them as sent")),
        "the first PUT after a create is judged on its own, as the create was: holding every "
        "declared value as sent or in a form, its forms are recorded with the same PUT again, "
        "whose read-back must then match; only a value it does not hold at all is taken for "
        "another writer's"),
    Variation(
        "item_ids", STORED, "Values a platform adds to what it stores", "none beyond what was "
        "written (and the fields of `extra_fields`, the same on every read)",
        _alt("item_ids", "every persona, variable and tool is stored with an `id` of the "
             "platform's own, made anew by each write"),
        "two read-backs are compared only where the write speaks (`normalise.same_written`): "
        "the same write read back twice is the platform's own storing, never someone else's "
        "write, and a change to anything the project declares still shows; ids the "
        "platform gave are kept through read-modify-write"),
)

BY_KEY: dict[str, Variation] = {v.key: v for v in VARIATIONS}
# mode -> what it changes, for ``emulator --compat help`` and validation.
COMPAT_MODES: dict[str, str] = {
    a.mode: a.behaviour for v in VARIATIONS for a in v.alternatives if not a.delay}
DELAYS: tuple[str, ...] = tuple(a.mode for v in VARIATIONS for a in v.alternatives if a.delay)
MODE_VARIATION: dict[str, str] = {
    a.mode: v.key for v in VARIATIONS for a in v.alternatives}


@dataclass(frozen=True)
class Drawn:
    """A randomised platform: the compatibility modes and delays drawn for one seed."""

    seed: int
    """The seed it was drawn from."""
    modes: tuple[str, ...]
    """The compatibility modes drawn, at most one per point, in the registry's order."""
    delays: dict[str, float] = field(default_factory=dict)
    """The delays drawn (``list_lag``, ``versions_lag``, ``read_lag``), in seconds."""


def draw(seed: int, max_lag_s: float = MAX_LAG_S) -> Drawn:
    """A plausible platform for ``seed``: for every point, the usual behaviour or one of its
    alternatives (each side equally likely), and delays within ``max_lag_s``. The same seed
    always draws the same platform."""
    rng = random.Random(seed)
    modes: list[str] = []
    delays: dict[str, float] = {}
    for variation in VARIATIONS:
        if rng.random() < 0.5:
            continue
        chosen = rng.choice(variation.alternatives)
        if chosen.delay:
            delays[chosen.mode] = round(rng.uniform(0.1, max_lag_s), 2)
        else:
            modes.append(chosen.mode)
    return Drawn(seed, tuple(modes), delays)
