"""The defaults of a run: what a flag or a setting falls back to when nobody chose a value.

Each value is written here once. The command-line options, the project file's fields, the
API client and the engines import these instead of writing the value again, so that two
commands cannot drift apart on the same default. Values that are facts of the platform's API
(its version, the chat sessions' host) live in ``operator_iac.api.constants``; the defaults
of a declared field that the JSON Schema shows (a smoke test's ``turn_timeout_s``, a gate's
``max_drop``) stay beside their field.

This module imports nothing: the command line reads it before anything heavy is loaded.
"""

from __future__ import annotations

# ---- the platform -------------------------------------------------------------------------

API_URL = "https://api.operator.xyz"
"""The platform's REST API. Overridden by `--api-url` (or its environment variable, see
``operator_iac.settings``), else by an environment's `api_url` in the project file."""

API_KEY_ENV = "OPERATOR_API_KEY"
"""The environment variable that holds the API key. Overridden per environment by its
`api_key_env` in the project file."""

# ---- parallel work ------------------------------------------------------------------------

PARALLELISM = 8
"""How much runs at once: requests in flight for bulk reads and writes (`plan`, `apply`,
`status`, ...), and test conversations at once (`smoke`, and apply's smoke tests and release
gates). Overridden by `--parallelism`; test conversations stay within an environment's
`max_concurrent_conversations`. The work pool lowers it by itself while the platform answers
429."""

# ---- the HTTP client ----------------------------------------------------------------------

REQUEST_TIMEOUT_S = 30.0
"""How long one HTTP attempt may wait to send, to read and for a pooled connection, in
seconds. Overridden by `OperatorClient(timeout=...)` in the Python API; a streaming read
(`stream(read_timeout=...)`, the SSE reader's idle timeout) sets its own read timeout."""

CONNECT_TIMEOUT_S = 10.0
"""How long one HTTP attempt may take to connect, in seconds (never more than the request
timeout). Overridden by an `httpx.Timeout` given as `OperatorClient(timeout=...)`."""

MAX_RETRIES = 5
"""How many times a failed request is retried (a 429, a 5xx, a broken connection), within
`RETRY_DEADLINE_S`. Overridden by `OperatorClient(max_retries=...)` in the Python API."""

RETRY_DEADLINE_S = 60.0
"""The time one logical request may take across all its attempts and back-off pauses, in
seconds. Overridden by `OperatorClient(deadline=...)` in the Python API."""

READ_AHEAD_LEAD_S = 0.25
"""How long a command waits, once it has begun reading the platform ahead of its
declarations (`services.read_ahead`), for the agent lists to be read before it loads the
declarations beside those reads, in seconds: the lists head every chain of reads, and the
loading would slow their handling. Bounded, so that lists of many pages do not hold it."""

READ_AHEAD_CLOSE_WAIT_S = 5.0
"""How long a command that ends without using the reads it began before its declarations
loaded (`services.read_ahead`) waits for those under way; no new one begins meanwhile, and a
request still retrying after it is cut off."""

# ---- conversations ------------------------------------------------------------------------

SESSION_OPEN_TIMEOUT_S = 10.0
"""How long opening a conversation's WebSocket chat session may take, in seconds.
Overridden by `OperatorClient.open_session(open_timeout=...)`."""

SESSION_RECV_TIMEOUT_S = 30.0
"""How long a chat session waits for the next event before giving up, in seconds.
Overridden by `open_session(recv_timeout=...)`: a smoke test waits its `turn_timeout_s`."""

EVENTS_IDLE_TIMEOUT_S = 60.0
"""How long the SSE event stream may stay silent before it reconnects, in seconds.
Overridden by `OperatorClient.events(idle_timeout=...)`."""

EVENTS_MAX_RECONNECTS = 5
"""How many reconnects of the SSE event stream in a row may bring no new event before it
fails. Overridden by `OperatorClient.events(max_reconnects=...)`."""

MAX_REDIRECTS = 5
"""How many redirects on the platform's own origin one request follows (a path moved, a
trailing slash added); a redirect to another origin is never followed (the key stays home)."""

# ---- after the writes ---------------------------------------------------------------------

VISIBILITY_TIMEOUT_S = 30.0
"""How long a run waits for the platform's lists to show its own writes, in seconds: for its
new agent before deciding a concurrent create, and for every write before `apply` or
`rollback` ends (past it, a warning), and for a release answered 409 "already released" to
read as released. No flag overrides it."""

CREATION_TIE_S = 1.0
"""How far apart two agents' creations may be and still carry the same `created_at`, in
seconds, where the platform does not show its precision: the contract's timestamps have
whole seconds (`2023-11-07T05:31:56Z`). Before it releases an agent it created, a run decides
whether to keep it on a listing begun that long after one first showed it (the precision of
the agent's `created_at`, at most this), so that the listing shows every agent created
within it (`apply.claims`)."""

WRITE_ORDER_SLACK_S = 4.0
"""How long a read-back showing another writer's state, written about when this run's write
was answered, is read again for this run's write to show, in seconds: the answer's `Date`
header has whole seconds and may be stamped up to a second late, and the two clocks of one
platform may differ by a second more. So long too is one written clearly before the
answer read again, until the run has seen its reads trail (then up to
`VISIBILITY_TIMEOUT_S`); one written clearly after it stands at once."""

SAME_CHANGE_WAIT_S = 3.0
"""How long a run that finds its agent moved since its plan, to a revision under this very
change's marker whose content does not yet read as this change (another apply of the same
commit between its first write and the one recording how the platform stores it), reads it
again before calling it a conflict, in seconds."""

OTHER_APPLY_WAIT_S = 30.0
"""How long a run waits for another apply of the same change, whose write of the same content
replaced this run's in the draft, to release the draft and prove the release, beyond the time
that apply's smoke tests of the stage may take by their own limits, in seconds. Nothing shows
whether that apply is alive (a kill, a lost runner): past the wait, the run finishes the draft
itself, or proves the release itself (`apply.steps.Steps.converged`)."""

OTHER_APPLY_WAIT_MAX_S = 600.0
"""The longest such a wait may be, in seconds. Where that apply's smoke tests may take longer
by their limits (a release gate of many conversations, say), the run does not wait: it leaves
the draft to that apply, and should that apply stop first, the next apply releases it."""

FIRST_POLL_S = 0.05
"""The first pause, in seconds, between two reads while waiting for the platform to show a
write; each pause doubles, up to `LONGEST_POLL_S`."""

LONGEST_POLL_S = 2.0
"""The longest pause, in seconds, between two reads while waiting for the platform to show a
write."""
