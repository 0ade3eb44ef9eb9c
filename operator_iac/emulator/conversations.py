"""Conversations: creation under the testmode and revision rules, ephemeral tokens,
context, lifecycle timestamps, deletion, and the customers named in ``context.$customer``.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from operator_iac.emulator import ids
from operator_iac.emulator.agents import CONVERSATIONAL, AgentService, Revision
from operator_iac.emulator.clock import Clock
from operator_iac.emulator.consistency import KEEP_S
from operator_iac.emulator.events import Envelope, EventLog
from operator_iac.emulator.problems import Problem, conflict, invalid, not_found
from operator_iac.emulator.store import (
    Store,
    decode_cursor,
    dumps,
    encode_cursor,
    loads,
    newest_first_page,
)
from operator_iac.emulator.validation import (
    ConversationCreate,
    CustomerIn,
    validate_config,
    validate_context,
)

QUEUED = "queued"
IN_PROGRESS = "in-progress"
COMPLETED = "completed"
FAILED = "failed"
DEFAULT_TOKEN_TTL_S = 3 * 3600.0
# On a platform that ends the conversations nobody joins (compat ``unjoined_end``): how long,
# on the emulator's clock, a conversation may stay queued before it fails.
UNJOINED_END_S = 60.0
UNJOINED_REASON = "agent_timeout"


@dataclass(frozen=True)
class Conversation:
    id: str
    agent_id: str
    customer_id: str | None
    channel: dict[str, Any]
    livemode: bool
    override_config: dict[str, Any] | None
    context: dict[str, Any]
    status: str
    direction: str
    created_at: float
    started_at: float | None = None
    completed_at: float | None = None
    failure_reason: str | None = None
    custom_fields: dict[str, Any] | None = None
    summary: str | None = None
    sentiment: str | None = None

    @property
    def channel_type(self) -> str:
        return str(self.channel["type"])

    @property
    def duration_sec(self) -> int | None:
        if self.completed_at is None:
            return None
        return round(self.completed_at - (self.started_at or self.completed_at))


@dataclass(frozen=True)
class TimeFilters:
    created_at_gte: float | None = None
    created_at_lt: float | None = None
    completed_at_gte: float | None = None
    completed_at_lt: float | None = None


@dataclass(frozen=True)
class Token:
    value: str
    expires_at: float


_DOC_FIELDS = ("agent_id", "customer_id", "channel", "livemode", "override_config",
               "direction", "failure_reason", "custom_fields", "summary", "sentiment")
_FILTER_SQL = {
    "created_at_gte": "CAST(created_at AS INTEGER) >= ?",
    "created_at_lt": "CAST(created_at AS INTEGER) < ?",
    "completed_at_gte": "CAST(completed_at AS INTEGER) >= ?",
    "completed_at_lt": "CAST(completed_at AS INTEGER) < ?",
}


def deep_merge(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """``overlay`` merged over ``base``: objects recursively, everything else replaced."""
    merged = dict(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def missing_variables(config: dict[str, Any], context: dict[str, Any]) -> list[str]:
    """Prompt variables with no default that the conversation's context does not supply."""
    declared = ((config.get("runtime") or {}).get("variables")) or []
    supplied = context.get("$variables") or {}
    return [v["name"] for v in declared
            if v.get("default_value") is None and v["name"] not in supplied]


class ConversationService:
    """Conversations and their tokens and customers, persisted in the store."""

    def __init__(self, store: Store, clock: Clock, agents: AgentService, events: EventLog,
                 token_ttl_s: float = DEFAULT_TOKEN_TTL_S,
                 list_lag: Callable[[], float] = lambda: 0.0,
                 unjoined_end: Callable[[], bool] = lambda: False) -> None:
        self._store = store
        self._clock = clock
        self._agents = agents
        self._events = events
        self.token_ttl_s = token_ttl_s
        # The list trails the writes by this many seconds (``list_lag``, as the agents list
        # does): conversations deleted lately are still listed until then (in memory only).
        self._list_lag = list_lag
        # Whether a conversation nobody joins ends ``UNJOINED_END_S`` after its creation.
        self._unjoined_end = unjoined_end
        self._gone: dict[str, tuple[int, float, Conversation]] = {}
        self._gone_lock = threading.Lock()

    # ---- create --------------------------------------------------------------------------

    def create(self, body: ConversationCreate) -> tuple[Conversation, Token]:
        revision = self._agents.resolve_for_use(CONVERSATIONAL, body.agent_id)
        context = body.context or {}
        parsed_context = validate_context(context, "body.context")
        config = self._effective(revision, body.override_config)
        channel = body.channel.model_dump(exclude_none=True)
        _check_channel(channel)
        missing = missing_variables(config, context)
        if missing:
            raise Problem(422, "missing_variables", "context.$variables lacks values for "
                          f"{', '.join(missing)} (no default_value in the agent)")
        conversation = Conversation(
            id=ids.new_id(ids.CONVERSATION), agent_id=revision.version_id, customer_id=None,
            channel=channel, livemode=body.livemode, override_config=body.override_config,
            context=context, status=QUEUED,
            direction="outbound" if channel["type"] == "phone" else "inbound",
            created_at=self._clock.now(), custom_fields={})
        token = Token(ids.new_token(), conversation.created_at + self.token_ttl_s)
        with self._store.tx() as db:
            if parsed_context.customer is not None:
                customer_id = self._upsert_customer(db, parsed_context.customer)
                conversation = replace(conversation, customer_id=customer_id)
            self._insert(db, conversation)
            self._store_token(db, conversation.id, token)
        self.append_event(conversation, {"type": "conversation.setup", "channel": channel,
                                         "direction": conversation.direction})
        return conversation, token

    def _effective(self, revision: Revision, override: dict[str, Any] | None) -> dict[str, Any]:
        if not override:
            return revision.config
        merged = deep_merge(revision.config, override)
        validate_config(CONVERSATIONAL.prefix, merged, "body.override_config")
        return merged

    # ---- reads ---------------------------------------------------------------------------

    def get(self, conversation_id: str) -> Conversation:
        with self._store.tx() as db:
            row = db.execute("SELECT * FROM conversations WHERE id = ?",
                             (conversation_id,)).fetchone()
        if row is None:
            raise not_found("conversation", conversation_id)
        return self._ended_if_unjoined(_conversation(row))

    def exists(self, conversation_id: str) -> bool:
        with self._store.tx() as db:
            row = db.execute("SELECT 1 FROM conversations WHERE id = ?",
                             (conversation_id,)).fetchone()
        return row is not None

    def page(self, filters: TimeFilters, cursor: str | None,
             size: int) -> tuple[list[Conversation], str | None]:
        """Newest first, as a reader trailing the writes by ``list_lag`` sees them: a
        conversation shows only that long after its creation, and one deleted shows until
        that long after its deletion."""
        conditions = [(sql, getattr(filters, name)) for name, sql in _FILTER_SQL.items()
                      if getattr(filters, name) is not None]
        lag = self._list_lag()
        if lag <= 0:
            page, next_cursor = newest_first_page(self._store, "conversations", conditions,
                                                  cursor, size)
            return [self._ended_if_unjoined(_conversation(row)) for row in page], next_cursor
        moment = self._clock.now() - lag
        # One row beyond the page, as ``newest_first_page`` reads: whether more follow is
        # told after the ghosts are merged in, and a full page of rows alone has more too.
        rows, _ = newest_first_page(self._store, "conversations",
                                    [*conditions, ("created_at <= ?", moment)], cursor,
                                    size + 1)
        listed = [(int(row["seq"]), self._ended_if_unjoined(_conversation(row)))
                  for row in rows]
        before = decode_cursor(cursor)
        with self._gone_lock:
            listed += [(seq, c) for seq, deleted_at, c in self._gone.values()
                       if c.created_at <= moment < deleted_at and _matches(c, filters)
                       and (before is None or seq < before)]
        listed.sort(key=lambda entry: -entry[0])
        page_items = listed[:size]
        more = len(listed) > size and bool(page_items)
        return [c for _, c in page_items], (encode_cursor(page_items[-1][0]) if more else None)

    def _ended_if_unjoined(self, conversation: Conversation) -> Conversation:
        """``conversation`` as a platform that ends the conversations nobody joins has it
        (compat ``unjoined_end``): queued for ``UNJOINED_END_S``, it failed then, with
        ``agent_timeout``. Settled when it is next read, and kept so (the clock can be moved
        on, so nothing waits for it in the background)."""
        if conversation.status != QUEUED or not self._unjoined_end():
            return conversation
        ends = conversation.created_at + UNJOINED_END_S
        if self._clock.now() < ends:
            return conversation
        ended = replace(conversation, status=FAILED, completed_at=ends,
                        failure_reason=UNJOINED_REASON)
        doc = {name: getattr(ended, name) for name in _DOC_FIELDS}
        with self._store.tx() as db:
            changed = db.execute(
                "UPDATE conversations SET status = ?, completed_at = ?, doc = ? "
                "WHERE id = ? AND status = ?",
                (FAILED, ends, dumps(doc), conversation.id, QUEUED)).rowcount
        if changed:
            self.append_event(ended, {"type": "conversation.ended", "status": FAILED,
                                      "failure_reason": UNJOINED_REASON})
        return ended

    def revision_of(self, conversation: Conversation) -> Revision:
        return self._agents.get(CONVERSATIONAL, conversation.agent_id)

    def effective_config(self, conversation: Conversation) -> dict[str, Any]:
        config = self.revision_of(conversation).config
        return deep_merge(config, conversation.override_config or {})

    def customer(self, customer_id: str) -> dict[str, Any]:
        with self._store.tx() as db:
            row = db.execute("SELECT doc FROM customers WHERE id = ?", (customer_id,)).fetchone()
        if row is None:
            raise not_found("customer", customer_id)
        return dict(loads(row["doc"]))

    # ---- writes --------------------------------------------------------------------------

    def seed(self, count: int, agent_id: str, since: float, until: float) -> None:
        """Insert ``count`` finished livemode conversations with ``agent_id``, created evenly
        between ``since`` and ``until``: an account's past traffic, in one transaction (no
        events; nothing reads them)."""
        step = (until - since) / max(count, 1)
        rows = []
        for n in range(count):
            created = since + n * step
            conversation = Conversation(
                id=ids.new_id(ids.CONVERSATION), agent_id=agent_id, customer_id=None,
                channel={"type": "phone", "callee_no": "+15550100"}, livemode=True,
                override_config=None, context={}, status=COMPLETED, direction="outbound",
                created_at=created, started_at=created, completed_at=created + 60,
                custom_fields={})
            doc = {name: getattr(conversation, name) for name in _DOC_FIELDS}
            rows.append((conversation.id, conversation.status, created, created, created + 60,
                         "{}", dumps(doc)))
        with self._store.tx() as db:
            db.executemany(
                "INSERT INTO conversations (id, status, created_at, started_at, completed_at, "
                "context, doc) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)

    def delete(self, conversation_id: str) -> None:
        """Testmode conversations always; livemode ones only before they started."""
        conversation = self.get(conversation_id)
        if conversation.livemode and conversation.status != QUEUED:
            raise conflict("conversation_not_deletable",
                           f"livemode conversation {conversation_id} is {conversation.status}; "
                           "only testmode or not yet started conversations can be deleted")
        with self._store.tx() as db:
            row = db.execute("SELECT seq FROM conversations WHERE id = ?",
                             (conversation_id,)).fetchone()
            db.execute("DELETE FROM tokens WHERE conversation_id = ?", (conversation_id,))
            db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))
        self._events.delete_conversation(conversation_id)
        now = self._clock.now()
        with self._gone_lock:
            self._gone[conversation_id] = (int(row["seq"]), now, conversation)
            for old in [k for k, (_, at, _c) in self._gone.items() if at < now - KEEP_S]:
                del self._gone[old]

    def refresh_token(self, conversation_id: str) -> Token:
        """A new token; every earlier token of the conversation stops working."""
        self.get(conversation_id)
        token = Token(ids.new_token(), self._clock.now() + self.token_ttl_s)
        with self._store.tx() as db:
            db.execute("UPDATE tokens SET revoked = 1 WHERE conversation_id = ?",
                       (conversation_id,))
            self._store_token(db, conversation_id, token)
        return token

    def token_allows(self, conversation_id: str, token: str | None) -> bool:
        if not token:
            return False
        with self._store.tx() as db:
            row = db.execute("SELECT * FROM tokens WHERE token = ?", (token,)).fetchone()
        return (row is not None and row["conversation_id"] == conversation_id
                and not row["revoked"] and row["expires_at"] > self._clock.now())

    def update_context(self, conversation_id: str, context: dict[str, Any], *,
                       bare: bool = False) -> Envelope:
        """Merge ``context`` into the conversation's (top-level keys replaced). The event
        carries the update under ``context``, or (``bare``) as the payload's own keys."""
        conversation = self.get(conversation_id)
        if conversation.status not in (QUEUED, IN_PROGRESS):
            raise conflict("conversation_ended",
                           f"conversation {conversation_id} is {conversation.status}")
        validate_context(context, "body.context")
        merged = {**conversation.context, **context}
        with self._store.tx() as db:
            db.execute("UPDATE conversations SET context = ? WHERE id = ?",
                       (dumps(merged), conversation_id))
        update = dict(context) if bare else {"context": context}
        return self.append_event(conversation,
                                 {**update, "type": "conversation.context.updated"})

    def mark_started(self, conversation_id: str) -> Conversation:
        with self._store.tx() as db:
            db.execute("UPDATE conversations SET status = ?, started_at = ? WHERE id = ?",
                       (IN_PROGRESS, self._clock.now(), conversation_id))
        return self.get(conversation_id)

    def mark_ended(self, conversation_id: str, status: str = COMPLETED) -> Conversation:
        with self._store.tx() as db:
            db.execute("UPDATE conversations SET status = ?, completed_at = ? WHERE id = ?",
                       (status, self._clock.now(), conversation_id))
        return self.get(conversation_id)

    def append_event(self, conversation: Conversation, payload: dict[str, Any]) -> Envelope:
        return self._events.append(conversation.id, conversation.agent_id,
                                   conversation.livemode, payload)

    # ---- helpers -------------------------------------------------------------------------

    def _insert(self, db: sqlite3.Connection, c: Conversation) -> None:
        doc = {name: getattr(c, name) for name in _DOC_FIELDS}
        db.execute(
            "INSERT INTO conversations (id, status, created_at, started_at, completed_at, "
            "context, doc) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (c.id, c.status, c.created_at, c.started_at, c.completed_at, dumps(c.context),
             dumps(doc)))

    def _store_token(self, db: sqlite3.Connection, conversation_id: str, token: Token) -> None:
        db.execute("INSERT INTO tokens (token, conversation_id, expires_at) VALUES (?, ?, ?)",
                   (token.value, conversation_id, token.expires_at))

    def _upsert_customer(self, db: sqlite3.Connection, customer: CustomerIn) -> str:
        """The customer with the same ``external_id``, updated; otherwise a new one."""
        fields = customer.model_dump(exclude_none=True)
        row = None
        if customer.external_id:
            row = db.execute("SELECT id, doc FROM customers WHERE external_id = ?",
                             (customer.external_id,)).fetchone()
        if row is not None:
            doc = {**loads(row["doc"]), **fields}
            db.execute("UPDATE customers SET doc = ? WHERE id = ?", (dumps(doc), row["id"]))
            return str(row["id"])
        customer_id = ids.new_id(ids.CUSTOMER)
        now = self._clock.now()
        doc = {"id": customer_id, **_empty_customer(), **fields, "created_at": now}
        db.execute("INSERT INTO customers (id, external_id, doc, created_at) VALUES (?, ?, ?, ?)",
                   (customer_id, customer.external_id, dumps(doc), now))
        return customer_id


def refuse_unless_in_progress(conversation: Conversation) -> None:
    """Context can be injected only into a running conversation (a compatibility mode)."""
    if conversation.status != IN_PROGRESS:
        raise conflict("conversation_not_in_progress",
                       f"conversation {conversation.id} is {conversation.status}; context "
                       "can be updated only while it is in-progress")


def _empty_customer() -> dict[str, Any]:
    keys = ("name", "phone_no", "email", "external_id", "salesforce_lead_id",
            "salesforce_contact_id", "zendesk_user_id", "extra")
    return dict.fromkeys(keys)


def _check_channel(channel: dict[str, Any]) -> None:
    if channel["type"] == "phone" and not channel.get("callee_no"):
        raise invalid("body.channel.callee_no: required for a phone conversation")


def _matches(conversation: Conversation, filters: TimeFilters) -> bool:
    """Whether ``conversation`` passes ``filters`` (as ``_FILTER_SQL`` reads them: whole
    seconds; a conversation not completed has no completion time to pass)."""
    times = {"created_at": conversation.created_at, "completed_at": conversation.completed_at}
    for name in _FILTER_SQL:
        bound = getattr(filters, name)
        field, _, side = name.rpartition("_")
        value = times[field]
        if bound is None:
            continue
        if value is None or not (int(value) >= bound if side == "gte" else int(value) < bound):
            return False
    return True


def _conversation(row: sqlite3.Row) -> Conversation:
    doc = loads(row["doc"])
    return Conversation(
        id=row["id"], status=row["status"], created_at=row["created_at"],
        started_at=row["started_at"], completed_at=row["completed_at"],
        context=loads(row["context"]), **doc)
