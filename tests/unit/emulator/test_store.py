"""The SQLite store: transactions, cursors, and persistence to a file."""

from __future__ import annotations

from pathlib import Path

import pytest

from operator_iac.emulator.store import (
    InvalidCursorError,
    Store,
    decode_cursor,
    encode_cursor,
)


def test_cursor_round_trip_and_forgery() -> None:
    assert decode_cursor(encode_cursor(42)) == 42
    assert decode_cursor(None) is None and decode_cursor("") is None
    with pytest.raises(InvalidCursorError):
        decode_cursor("not-a-cursor!")
    with pytest.raises(InvalidCursorError):
        decode_cursor(encode_cursor(1).upper())


def test_failed_transaction_rolls_back() -> None:
    store = Store()
    with pytest.raises(RuntimeError), store.tx() as db:
        db.execute("INSERT INTO agents (id, kind, created_at) VALUES ('ca_1', 'ca', 0)")
        raise RuntimeError("boom")
    with store.tx() as db:
        assert db.execute("SELECT COUNT(*) FROM agents").fetchone()[0] == 0


def test_nested_transactions_join_the_outer_one() -> None:
    store = Store()
    with store.tx() as outer, store.tx() as inner:
        inner.execute("INSERT INTO agents (id, kind, created_at) VALUES ('ca_1', 'ca', 0)")
        assert outer.execute("SELECT COUNT(*) FROM agents").fetchone()[0] == 1
    with store.tx() as db:
        assert db.execute("SELECT id FROM agents").fetchone()[0] == "ca_1"


def test_file_store_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "emulator.sqlite"
    first = Store(path)
    with first.tx() as db:
        db.execute("INSERT INTO agents (id, kind, created_at) VALUES ('pa_1', 'pa', 0)")
    first.close()
    second = Store(path)
    with second.tx() as db:
        assert db.execute("SELECT kind FROM agents WHERE id = 'pa_1'").fetchone()[0] == "pa"
    second.close()
