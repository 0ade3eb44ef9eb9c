"""The event log of conversations: envelopes (operator-api.md 6.1) appended in order.

Every event is stored before anyone sees it; ``notify`` then wakes the listeners of that
conversation (SSE streams), which read what is new from the store. The store's ``seq`` is
the order of the stream and the basis of ``Last-Event-ID`` resumption.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from operator_iac.emulator import ids
from operator_iac.emulator.clock import Clock, iso, iso_ms
from operator_iac.emulator.store import Store, dumps, loads

BATCH = 500

Envelope = dict[str, Any]


class EventLog:
    """Append and read conversation events."""

    def __init__(self, store: Store, clock: Clock, notify: Callable[[str], None],
                 whole_seconds: Callable[[], bool] = lambda: False,
                 epoch: Callable[[], bool] = lambda: False) -> None:
        self._store = store
        self._clock = clock
        self._notify = notify
        # Milliseconds unless a compatibility mode asks for the documented example's form,
        # as text unless one asks for Unix time (``epoch_times``).
        self._whole_seconds = whole_seconds
        self._epoch = epoch

    def append(self, conversation_id: str, agent_id: str, livemode: bool,
               payload: dict[str, Any]) -> Envelope:
        """Store one event and wake the conversation's listeners."""
        return self.append_many(conversation_id, agent_id, livemode, [payload])[0]

    def append_many(self, conversation_id: str, agent_id: str, livemode: bool,
                    payloads: list[dict[str, Any]]) -> list[Envelope]:
        now = self._clock.now()
        created: str | float | None = iso(now) if self._whole_seconds() else iso_ms(now)
        if self._epoch():
            created = float(int(now)) if self._whole_seconds() else round(now, 3)
        envelopes = [_envelope(conversation_id, agent_id, livemode, p, created) for p in payloads]
        with self._store.tx() as db:
            db.executemany(
                "INSERT INTO events (id, conversation_id, envelope) VALUES (?, ?, ?)",
                [(env["id"], conversation_id, dumps(env)) for env in envelopes])
        self._notify(conversation_id)
        return envelopes

    def after(self, conversation_id: str, after_seq: int,
              limit: int = BATCH) -> list[tuple[int, Envelope]]:
        """Up to ``limit`` events following ``after_seq``, oldest first, with their seq."""
        with self._store.tx() as db:
            rows = db.execute(
                "SELECT seq, envelope FROM events WHERE conversation_id = ? AND seq > ? "
                "ORDER BY seq LIMIT ?", (conversation_id, after_seq, limit)).fetchall()
        return [(row["seq"], loads(row["envelope"])) for row in rows]

    def seq_of(self, conversation_id: str, event_id: str) -> int | None:
        with self._store.tx() as db:
            row = db.execute("SELECT seq FROM events WHERE conversation_id = ? AND id = ?",
                             (conversation_id, event_id)).fetchone()
        return None if row is None else int(row["seq"])

    def payloads(self, conversation_id: str) -> list[dict[str, Any]]:
        with self._store.tx() as db:
            rows = db.execute("SELECT envelope FROM events WHERE conversation_id = ? "
                              "ORDER BY seq", (conversation_id,)).fetchall()
        return [loads(row["envelope"])["payload"] for row in rows]

    def delete_conversation(self, conversation_id: str) -> None:
        with self._store.tx() as db:
            db.execute("DELETE FROM events WHERE conversation_id = ?", (conversation_id,))
        self._notify(conversation_id)


def _envelope(conversation_id: str, agent_id: str, livemode: bool, payload: dict[str, Any],
              created_at: str | float | None) -> Envelope:
    return {
        "id": ids.new_id(ids.EVENT),
        "created_at": created_at,
        "agent_id": agent_id,
        "livemode": livemode,
        "conversation_id": conversation_id,
        "payload": payload,
        "experimental": False,
    }
