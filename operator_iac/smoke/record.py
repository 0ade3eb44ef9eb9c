"""Smoke records: small facts about a revision's smoke tests, kept on the platform itself so
that a job sharing no files with the one that ran the tests (a promotion, the next plan) can
read them. Which records exist and how they are found is ``operator_iac.smoke.evidence``;
this module is one record and how it is kept.

A record is a testmode conversation that is never started, pinned to a revision (the one it
speaks about where the platform allows it), holding a ``SmokeRecord``: project, key, the
revision it speaks about, its stage, whether it passed, a one-line summary, when, and the
content hash, commit and previously released revision of that revision. The record is kept
where the contract says a conversation's data comes back: ``override_config``, a documented
field of both the create request and the conversation object, as the text of a prompt
override (which a conversation never started never uses). The record's JSON is written there
in the URL-safe base64 alphabet (letters, digits, ``-`` and ``_``) after a plain prefix that
says what it is: a platform may store text in a form of its own (trimmed, normalised,
markup and quotes encoded as entities, ``$`` and ``@`` read as prompt syntax), and
whatever it does to text, it leaves letters and digits alone, so the record reads back as it
was written on any of them. It is also sent as the conversation's ``context``, which some
platforms show. Records written as plain JSON after the prefix (earlier versions) are still
read. Nothing here depends on
updating a conversation's context (some platforms accept that only while it is in progress)
or on a platform showing ``context`` (the contract's conversation object has none).

A record that cannot be read (a platform that drops the override, a record written by a
version that kept it elsewhere) still exists: its existence alone is what most questions
ask about (``evidence``), and its details are then unknown.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from operator_iac.errors import NotFoundError
from operator_iac.render.envelope import JsonObject
from operator_iac.smoke.orphans import orphan_window, sweep_orphans
from operator_iac.state.times import parse_time

if TYPE_CHECKING:
    from operator_iac.api.client import OperatorClient
    from operator_iac.api.models import Conversation

RECORD_KEY = "operator_iac_smoke"
# The stages of the records that speak about a release rather than a smoke run
# (``smoke.evidence``): the release record, and the proof record deleted once it is proven.
RELEASE_STAGE = "release"
PROOF_STAGE = "proof"
# The prompt override a record's text is kept in starts with this, so a person who finds a
# record conversation in the dashboard knows what it is.
TEXT_PREFIX = "operator-iac smoke record (a testmode conversation never started): "
# Prompt variables without a default must be supplied even to a conversation never started.
PLACEHOLDER_VALUE = "operator-iac smoke record"
SUMMARY_LIMIT = 300
_ISO = "%Y-%m-%dT%H:%M:%SZ"
# The record after the prefix: URL-safe base64 without padding (earlier versions: JSON).
_ENCODED_RE = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class SmokeRecord:
    """One fact about the smoke tests of one revision of one agent, as kept on the platform.

    ``stage`` says which fact: ``release`` (the release record: this revision is being
    released by a run of operator-iac), ``proof`` (the proof record: that release is not
    proven yet; deleted once it is), ``released`` or ``draft`` (a verdict of a smoke run of
    that stage)."""

    project: str
    """The project whose run wrote the record."""
    key: str
    """The agent's key in that project."""
    version_id: str
    """The revision the record speaks about (``ca_x@vN``)."""
    passed: bool
    """Whether the smoke tests passed. The records this version keeps say False: release and
    proof records are written so (a release is proven by deleting its proof record), and
    only a failing run keeps its verdict. True only in records never kept: the one
    ``evidence.Evidence.record`` makes once a release is proven, or a pass just recorded."""
    summary: str
    """One line for people: the verdict's counts and the first failure, or the fact."""
    at: str
    """When the record was written (ISO-8601 UTC with microseconds, the writer's clock);
    empty in one standing for a record that could not be read."""
    content_hash: str | None = None
    """The content hash in the revision's marker, when known."""
    commit: str | None = None
    """The commit in the revision's marker, when known."""
    stage: str | None = None
    """``release``, ``proof``, ``released`` or ``draft`` (see the class)."""
    previous: str | None = None
    """The revision released before this one: what a failed or unproven release rolls back
    to; None when there was none, or it is not known."""
    tested: bool = True
    """Release and proof records: whether the run that released the revision meant to prove
    it with its smoke tests (False for ``--no-smoke``: a later ``smoke`` run may prove it)."""
    within_s: float | None = None
    """Release records: within how many seconds of this record the run that wrote it
    records a failure of its smoke tests, at the latest (where ``evidence`` looks for it)."""
    conversation_id: str | None = field(default=None, compare=False)
    """The record's conversation (not part of what is kept)."""

    @property
    def pending(self) -> bool:
        """A release or proof record: it speaks about a release, not about a smoke run."""
        return self.stage in (RELEASE_STAGE, PROOF_STAGE)

    def payload(self) -> JsonObject:
        """What is kept on the platform."""
        data = asdict(self)
        data.pop("conversation_id")
        return data

    def describes(self, project: str, key: str, version_id: str | None = None) -> bool:
        return self.project == project and self.key == key and (
            version_id is None or self.version_id == version_id)

    @classmethod
    def from_payload(cls, data: Any, conversation_id: str | None = None) -> SmokeRecord | None:
        """The record in ``data``, or None when it is not one this version can read."""
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
                   tested=data.get("tested") is not False,
                   within_s=_seconds_or_none(data.get("within_s")),
                   conversation_id=conversation_id)


# ---- the record as text ----------------------------------------------------------------------


def record_text(record: SmokeRecord) -> str:
    """The record as the prompt override's text (see the module docstring)."""
    data = json.dumps(record.payload(), ensure_ascii=True, separators=(",", ":"),
                      sort_keys=True)
    return TEXT_PREFIX + base64.urlsafe_b64encode(data.encode("ascii")).decode().rstrip("=")


def parse_record_text(text: Any, conversation_id: str | None = None) -> SmokeRecord | None:
    if not isinstance(text, str) or not text.startswith(TEXT_PREFIX):
        return None
    kept = text[len(TEXT_PREFIX):].strip()
    try:
        if _ENCODED_RE.fullmatch(kept):
            kept = base64.urlsafe_b64decode(kept + "=" * (-len(kept) % 4)).decode("ascii")
        data = json.loads(kept)
    except ValueError:  # binascii.Error and UnicodeDecodeError are ValueErrors
        return None
    return SmokeRecord.from_payload(data, conversation_id)


def record_of(conversation: Conversation) -> SmokeRecord | None:
    """The record a conversation holds (in its prompt override, or in a context the platform
    shows), or None."""
    runtime = (conversation.override_config or {}).get("runtime")
    prompt = runtime.get("prompt") if isinstance(runtime, Mapping) else None
    found = parse_record_text(prompt.get("text") if isinstance(prompt, Mapping) else None,
                              conversation.id)
    if found is not None:
        return found
    context = (conversation.model_extra or {}).get("context")
    data = context.get(RECORD_KEY) if isinstance(context, Mapping) else None
    return SmokeRecord.from_payload(data, conversation.id)


# ---- writing, reading, removing --------------------------------------------------------------


def write_record(client: OperatorClient, pin: str, pin_config: Mapping[str, Any],
                 record: SmokeRecord) -> SmokeRecord:
    """Keep ``record`` in a new testmode conversation pinned to ``pin`` (a revision the
    platform converses with; ``pin_config`` is its config, for the prompt variables every
    conversation must be given). Returns the record with its conversation id."""
    override = {"runtime": {"prompt": {"type": "fixed", "text": record_text(record)}}}
    context = {RECORD_KEY: record.payload(), **placeholder_context(pin_config)}
    began = time.monotonic()
    created, retried = client.conversations.create_test(pin, "chat_realtime", context=context,
                                                        override_config=override)
    if retried:  # a lost answer may have left a duplicate: the same record, never started
        sweep_orphans(client, orphan_window(client, pin, created.id,
                                            time.monotonic() - began))
    return replace(record, conversation_id=created.id)


def remove_record(client: OperatorClient, conversation_id: str) -> None:
    """Delete a record; one deleted already is what was wanted."""
    with contextlib.suppress(NotFoundError):
        client.conversations.delete(conversation_id)


def placeholder_context(config: Mapping[str, Any]) -> JsonObject:
    """A context that supplies every prompt variable without a default (a placeholder each):
    without them the platform refuses even a conversation never started."""
    runtime = config.get("runtime")
    variables = runtime.get("variables") if isinstance(runtime, Mapping) else None
    needed = [v["name"] for v in variables or () if isinstance(v, Mapping)
              and isinstance(v.get("name"), str) and v.get("default_value") is None]
    return {"$variables": dict.fromkeys(needed, PLACEHOLDER_VALUE)} if needed else {}


# ---- small helpers ---------------------------------------------------------------------------


def now() -> str:
    """The writer's clock, with microseconds: two records made within one second are still
    ordered."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def shifted(text: str | None, seconds: float) -> str | None:
    """``text`` moved by ``seconds``, in the form the conversation filters take."""
    moment = parse_time(text)
    if moment is None:
        return None
    return (moment + timedelta(seconds=seconds)).astimezone(UTC).strftime(_ISO)


def shorten(summary: str) -> str:
    line = " ".join(summary.split())
    return line if len(line) <= SUMMARY_LIMIT else line[:SUMMARY_LIMIT - 3] + "..."


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _seconds_or_none(value: Any) -> float | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
    return float(value) if ok else None
