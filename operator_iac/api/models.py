"""Response models of the Operator API: tolerant readers into one canonical shape.

Every model allows extra fields and keeps them (``model_extra``), and ``config`` objects are
kept as plain dicts, so a read-modify-write sends back every field the platform added, even
ones this version of operator-iac has never heard of. The generic rules of
``operator_iac.api.tolerance`` apply to every field (null where no null fits reads as absent,
JSON-encoded objects are decoded); where the platform's answers have varied over time the
models read each form into one: ``version_status`` (or the older boolean ``is_released``,
settled over a versions list), transfers as ``{entity_id}`` (also the older ``{id}``), a
conversation not yet started as ``queued`` (also ``enqueued``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any, Protocol, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from operator_iac.api.tolerance import Encoded, Timestamp, canonical_fields, note, said_true

QUEUED = "queued"
# Conversation statuses after which nothing more happens [doc].
FINAL_CONVERSATION_STATUSES = frozenset({"completed", "failed", "voicemail", "busy", "no-answer"})
READ_ONLY_AGENT_FIELDS = frozenset(
    {"id", "version_id", "version_status", "is_released", "created_at", "updated_at"})
_VERSION_SUFFIX = re.compile(r"@v(\d+)$")


class ApiModel(BaseModel):
    """Base of every response model: unknown fields are accepted and kept, and the generic
    rules of the tolerant reader apply to the declared ones."""

    model_config = ConfigDict(extra="allow", defer_build=True)

    @model_validator(mode="before")
    @classmethod
    def _canonical(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        return canonical_fields(cls, data, cls.__name__)


def version_number(version_id: str) -> int | None:
    """N of ``<agent id>@vN``, or None for a bare id."""
    match = _VERSION_SUFFIX.search(version_id)
    return int(match.group(1)) if match else None


class Numbered(Protocol):
    """An entry of a versions list, as read raw or as the snapshot holds it."""

    @property
    def version_id(self) -> str: ...
    @property
    def number(self) -> int | None: ...


N = TypeVar("N", bound=Numbered)


def entry_for(entries: Iterable[N], version_id: str) -> N | None:
    """The entry of a versions list for ``version_id``, matched by id or by number (entries
    may spell their ids without the agent's)."""
    wanted = version_number(version_id)
    return next((e for e in entries if e.version_id == version_id or
                 (wanted is not None and e.number == wanted)), None)


def agent_id_of(id_or_version_id: str) -> str:
    """The bare agent id of ``ca_x`` or ``ca_x@vN``."""
    return id_or_version_id.partition("@")[0]


def transfer_target(transfer: Mapping[str, Any]) -> str | None:
    """The target of a transfer entry (read as ``{entity_id}``)."""
    target = transfer.get("entity_id")
    return target if isinstance(target, str) else None


def _canonical_transfers(config: Any) -> Any:
    """``config`` with every transfer spelt ``{entity_id}`` (older snapshots wrote ``{id}``)."""
    tool = config.get("tool") if isinstance(config, dict) else None
    transfers = tool.get("transfers") if isinstance(tool, dict) else None
    if not isinstance(tool, dict) or not isinstance(transfers, list) or not any(
            isinstance(t, dict) and "entity_id" not in t and "id" in t for t in transfers):
        return config
    note("transfers", "{id}")
    spelt = [{**{k: v for k, v in t.items() if k != "id"}, "entity_id": t["id"]}
             if isinstance(t, dict) and "entity_id" not in t and "id" in t else t
             for t in transfers]
    return {**config, "tool": {**tool, "transfers": spelt}}


class _Revision(ApiModel):
    """Fields shared by everything that describes one revision of an agent."""

    version_id: str
    name: str = ""
    description: str = ""
    version_status: str | None = None
    is_released: bool | None = None
    created_at: Timestamp = None
    updated_at: Timestamp = None

    @model_validator(mode="after")
    def _note_status_field(self) -> Self:
        if not self.status_reported and self.is_released is not None:
            note("version_status", "is_released (the older boolean)")
        return self

    @property
    def number(self) -> int | None:
        return version_number(self.version_id)

    @property
    def status_reported(self) -> bool:
        """Whether the platform said this revision's ``version_status``. Where it does not
        (older API snapshots say only ``is_released``), not released reads alike for a draft
        and an archived revision, and no read of the revision tells them apart."""
        return bool(self.version_status)

    @property
    def status(self) -> str | None:
        """``version_status``, or a best guess from ``is_released`` (released/draft).

        A lone revision cannot tell draft from archived; ``normalise_version_statuses``
        settles that over a whole versions list.
        """
        if self.version_status:
            return self.version_status.lower()
        if self.is_released is None:
            return None
        return "released" if self.is_released else "draft"


class VersionEntry(_Revision):
    """One entry of ``GET /<kind>/{id}/versions``."""


class _AgentRevision(_Revision):
    """A revision that names its agent: ``id``, or else the agent id in ``version_id``."""

    id: str = ""

    @model_validator(mode="after")
    def _fill_id(self) -> Self:
        if not self.id:
            self.id = agent_id_of(self.version_id)
        return self


class Agent(_AgentRevision):
    """A conversational or procedural agent revision as ``GET /<kind>/{id}`` returns it."""

    config: dict[str, Any] = Field(default_factory=dict)
    postprocess_agents: list[str] | None = None

    @model_validator(mode="after")
    def _spell_transfers(self) -> Self:
        self.config = _canonical_transfers(self.config)
        return self

    def update_body(self, *, include_extra: bool = False) -> dict[str, Any]:
        """The writable content of this revision, ready to send back with ``update``.

        ``config`` keeps every unknown field. Unknown top-level fields are sent too when
        ``include_extra`` is set (the platform may or may not accept them on PUT).
        """
        body: dict[str, Any] = {"name": self.name, "description": self.description,
                                "config": self.config}
        if self.postprocess_agents is not None:
            body["postprocess_agents"] = list(self.postprocess_agents)
        if include_extra:
            extra = self.model_extra or {}
            body.update({k: v for k, v in extra.items() if k not in READ_ONLY_AGENT_FIELDS})
        return body


class AgentSummary(_AgentRevision):
    """One item of ``GET /<kind>``: an agent described by its newest revision. A platform may
    leave the description out of list items (only the versions list carries it [doc]):
    ``described`` says whether this one carried it."""

    version_id: str = ""
    _described: bool = PrivateAttr(default=True)

    @model_validator(mode="wrap")
    @classmethod
    def _note_description(cls, data: Any, handler: Any) -> Any:
        described = isinstance(data, dict) and isinstance(data.get("description"), str)
        if isinstance(data, dict) and "description" in data and data["description"] is None:
            data = {k: v for k, v in data.items() if k != "description"}
        model = handler(data)
        if isinstance(model, AgentSummary):
            model._described = described
            if not described:
                note("list_descriptions", "list items without a description")
            if model.model_extra:
                note("extra_fields", f"unknown fields {', '.join(sorted(model.model_extra))}")
        return model

    @property
    def described(self) -> bool:
        return self._described


class WriteResult(ApiModel):
    """The answer to create, update and release: the agent and the revision written. An
    answer that names only the revision names its agent too (``ca_x@vN``)."""

    id: str = ""
    version_id: str | None = None
    answered_at: datetime | None = None
    """Not of the body: when the platform answered the write, by its clock (the answer's
    ``Date`` header, whole seconds); None when it sent none."""

    @model_validator(mode="after")
    def _named(self) -> Self:
        if not self.id and self.version_id:
            self.id = agent_id_of(self.version_id)
        if not self.id:
            raise ValueError("the answer names neither the agent (id) nor the revision "
                             "(version_id)")
        return self


class DeleteResult(ApiModel):
    """The answer to a DELETE: what was deleted (also made up when the body was empty)."""

    id: str = ""
    deleted: bool = True


def normalise_version_statuses(entries: Sequence[VersionEntry]) -> list[VersionEntry]:
    """The entries with ``version_status`` set on each, inferred where only ``is_released``
    was given: the newest unreleased revision after the released one is the draft (the only
    mutable revision), every other unreleased one is archived.
    """
    ordered = sorted(entries, key=lambda e: e.number if e.number is not None else -1)
    released = [e.number or 0 for e in ordered if e.status == "released"]
    newest = ordered[-1].number if ordered else None
    floor = max(released) if released else -1
    result = []
    for entry in ordered:
        status = entry.status if entry.version_status else _inferred_status(entry, newest, floor)
        result.append(entry if entry.version_status == status else
                      entry.model_copy(update={"version_status": status}))
    return result


def _inferred_status(entry: VersionEntry, newest: int | None, floor: int) -> str:
    if entry.is_released:
        return "released"
    number = entry.number if entry.number is not None else -1
    return "draft" if number == newest and number > floor else "archived"


# ---- conversations -------------------------------------------------------------------------


class Channel(ApiModel):
    """The channel of a conversation create response, with its ephemeral token."""

    type: str = ""
    token: str | None = Field(default=None, repr=False)
    events_url: str | None = None
    session_url: str | None = Field(default=None, repr=False)


class ConversationCreated(ApiModel):
    """The answer to ``POST /conversations``: the new conversation's id and its channel, whose
    ephemeral token opens the chat session and the event stream."""

    id: str
    channel: Channel = Field(default_factory=Channel)


class Conversation(ApiModel):
    """A conversation as ``GET /conversations/{id}`` returns it; ``status`` is ``queued``
    until it starts (also read so when a platform says ``enqueued``), ``in-progress``, then
    final (``completed``, ``failed``...).
    """

    id: str
    agent_id: str | None = None
    customer_id: str | None = None
    channel_type: str | None = None
    channel: dict[str, Any] | None = None
    livemode: bool | None = None
    override_config: dict[str, Any] | None = None
    created_at: Timestamp = None
    started_at: Timestamp = None
    completed_at: Timestamp = None
    direction: str | None = None
    status: str | None = None
    failure_reason: str | None = None
    custom_fields: dict[str, Any] | None = None
    summary: Any = None
    duration_sec: float | None = None
    sentiment: Any = None

    @model_validator(mode="before")
    @classmethod
    def _one_spelling(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        if data.get("status") == "enqueued":
            note("not_started_status", "enqueued")
            data = {**data, "status": QUEUED}
        left_out = sorted(set(_DOCUMENTED_CONVERSATION_FIELDS) - set(data))
        if left_out:
            note("null_fields", f"left out ({', '.join(left_out[:3])} ...)")
        return data

    @property
    def is_started(self) -> bool:
        """Whether the conversation left the queue."""
        return self.status is not None and self.status != QUEUED

    @property
    def testmode(self) -> bool:
        """Whether the conversation is in testmode: it does not say it is livemode."""
        return not said_true(self.livemode)

    @property
    def shows_no_override(self) -> bool:
        """Whether no ``override_config`` is shown: a conversation created without one, or
        an item of a conversations list that leaves it out (a platform may list
        conversations as summaries, the whole object only read by id)."""
        return not self.override_config


# Fields the documentation lists for every conversation object (null when they do not apply).
_DOCUMENTED_CONVERSATION_FIELDS = (
    "agent_id", "customer_id", "channel_type", "livemode", "created_at", "started_at",
    "completed_at", "direction", "status", "failure_reason", "summary", "duration_sec")


class TokenRefresh(ApiModel):
    """A conversation's new ephemeral token; the previous one stops working."""

    token: str = Field(repr=False)
    expires_at: Timestamp = None


# ---- procedures and customers ----------------------------------------------------------------


class ProcedureCreated(ApiModel):
    """The answer to ``POST /procedures``: the id of the procedure run just started."""

    id: str


class Procedure(ApiModel):
    """A procedure run; ``status`` is pending, running, success, failed, skipped, cancelled."""

    id: str
    livemode: bool | None = None
    name: str | None = None
    conversation_id: str | None = None
    created_at: Timestamp = None
    status: str | None = None
    agent_id: str | None = None
    agent_version_id: str | None = None
    error: Any = None
    input: Annotated[Any, Encoded("output_shape")] = None
    output: Annotated[Any, Encoded("output_shape")] = None
    summary: Any = None


class Customer(ApiModel):
    """A customer of the platform: only its id is read, every other field is kept."""

    id: str
