"""Persistence of the emulator in SQLite (standard library ``sqlite3``).

In memory by default; a file path makes the state survive a restart. One connection is
shared by every request and guarded by a re-entrant lock: the emulator's work per request
is tiny, so serialising it is simpler and safer than juggling per-thread connections (an
in-memory database cannot be shared across connections anyway). JSON values are stored as
text; list pages use an opaque cursor that wraps the table's autoincrement ``seq``.
"""

from __future__ import annotations

import base64
import binascii
import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS agents (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS revisions (
    agent_id TEXT NOT NULL,
    number INTEGER NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    config TEXT NOT NULL,
    postprocess_agents TEXT,
    status TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (agent_id, number)
);
CREATE TABLE IF NOT EXISTS customers (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    external_id TEXT,
    doc TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS conversations (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    created_at REAL NOT NULL,
    started_at REAL,
    completed_at REAL,
    context TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    conversation_id TEXT NOT NULL,
    envelope TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_conversation ON events (conversation_id, seq);
CREATE TABLE IF NOT EXISTS tokens (
    token TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL,
    expires_at REAL NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS procedures (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    agent_id TEXT NOT NULL,
    agent_version_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at REAL NOT NULL,
    doc TEXT NOT NULL
);
"""


class InvalidCursorError(ValueError):
    """A pagination cursor this emulator did not hand out."""


class Store:
    """The one SQLite connection, its schema, and serialised transactions."""

    def __init__(self, path: str | Path | None = None) -> None:
        target = ":memory:" if path is None else str(path)
        self._conn = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        self._depth = 0
        if path is not None:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(SCHEMA)

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """A transaction (nested calls join the outer one); rolled back on any exception."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self._conn
                finally:
                    self._depth -= 1
                return
            self._conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")
            finally:
                self._depth = 0

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"seq:{seq}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    """The ``seq`` a cursor stands for; None for no cursor. InvalidCursorError if forged."""
    if not cursor:
        return None
    if cursor.isdigit():  # the ``numeric_cursors`` form: the seq itself
        return int(cursor)
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        label, _, number = raw.partition(":")
        if label != "seq":
            raise ValueError(raw)
        return int(number)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidCursorError(f"invalid cursor {cursor!r}") from exc


def newest_first_page(store: Store, table: str, filters: Sequence[tuple[str, object]],
                      cursor: str | None, size: int) -> tuple[list[sqlite3.Row], str | None]:
    """One page of ``table`` newest first, where each filter is an SQL condition with one
    ``?`` and its value; the cursor continues below the last row's ``seq``."""
    conditions = list(filters)
    before = decode_cursor(cursor)
    if before is not None:
        conditions.append(("seq < ?", before))
    where = f"WHERE {' AND '.join(sql for sql, _ in conditions)}" if conditions else ""
    with store.tx() as db:
        rows = db.execute(f"SELECT * FROM {table} {where} ORDER BY seq DESC LIMIT ?",
                          (*(value for _, value in conditions), size + 1)).fetchall()
    return split_page(rows, size)


def split_page(rows: Sequence[sqlite3.Row], size: int) -> tuple[list[sqlite3.Row], str | None]:
    """Rows of one page (queried with ``LIMIT size + 1``) and the cursor of the next, if any."""
    page = list(rows[:size])
    more = len(rows) > size
    return page, (encode_cursor(int(page[-1]["seq"])) if more and page else None)
