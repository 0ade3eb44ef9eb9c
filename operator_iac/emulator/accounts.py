"""Accounts: one emulator serves a separate account per API key, as the platform does.

Each account has its own store, agents, conversations and procedures (an ``EmulatorState``);
the clock, faults, compatibility modes, agent brain and request log are the server's and
shared by all (``ServerParts``), so that a test's controls act on the whole server.

A request reaches the account its credentials name (``AccountRouter``): the bearer key, or,
for the event stream and the chat session that authorise with a conversation's token, the
account that holds the conversation. A request naming no account goes to the first one,
which answers it as before (401 for an unknown key): with a single key the emulator is
exactly the one-account server it always was.

With a database file and several keys, each account is kept in a file of its own beside it,
named after a fingerprint of its key (never the key itself), so that the keys can be given
in any order across restarts.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from operator_iac.emulator.http_helpers import bearer_key
from operator_iac.emulator.state import EmulatorOptions, EmulatorState

# Paths whose requests authorise with a conversation's token instead of a bearer key.
_TOKEN_PATH = re.compile(r"^/conversations/(?P<id>[^/]+)/(events|session)/?$")


def open_accounts(options: EmulatorOptions, keys: Sequence[str]) -> list[EmulatorState]:
    """One account per distinct key, in order; the first one's shared parts serve all."""
    unique = list(dict.fromkeys(keys)) or [options.api_key]
    accounts: list[EmulatorState] = []
    for key in unique:
        own = replace(options, api_key=key, db=account_db(options.db, key, len(unique)))
        accounts.append(EmulatorState(own, accounts[0].shared if accounts else None))
    return accounts


def account_db(db: str | Path | None, key: str, accounts: int) -> str | Path | None:
    """Where the account of ``key`` is kept: the file itself for a single account, else a
    file beside it named after the key's fingerprint."""
    if db is None or accounts == 1:
        return db
    path = Path(db)
    fingerprint = hashlib.sha256(key.encode()).hexdigest()[:12]
    return path.with_name(f"{path.stem}.{fingerprint}{path.suffix}")


class AccountRouter:
    """Sends each request to the application of the account its credentials name."""

    def __init__(self, apps: Sequence[tuple[EmulatorState, ASGIApp]]) -> None:
        self._apps = list(apps)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._pick(scope)(scope, receive, send)

    def _pick(self, scope: Scope) -> ASGIApp:
        first = self._apps[0][1]
        if len(self._apps) == 1 or scope["type"] not in ("http", "websocket"):
            return first
        key = bearer_key(Headers(scope=scope))
        if key is not None:
            return next((app for state, app in self._apps if state.key_matches(key)), first)
        found = _TOKEN_PATH.match(scope["path"])
        if found is not None:
            conversation_id = found.group("id")
            return next((app for state, app in self._apps
                         if state.conversations.exists(conversation_id)), first)
        return first
