"""Test conversations a retried create may have left behind, found and deleted.

Creating a testmode conversation is retried after failures that may have happened after the
platform created it (``ConversationsResource.create_test``): a duplicate costs nothing while it
is never started, but it would linger, and an unstarted testmode conversation pinned to a
revision is exactly what a smoke record looks like. So when a create was retried that way,
the conversations it may have made are looked for: testmode, pinned to the same revision,
never started, created while the create was being retried, and not one this run made on
purpose. The window is anchored on the platform's own ``created_at`` of the conversation the
create returned, so clocks that disagree do not matter, and it is closed on both ends, so the
listing reads the conversations of those few seconds only, however busy the account.

Smoke records (``smoke.record``) are testmode conversations never started too: a conversation
that carries a prompt override is an orphan only when it carries the very override of the
create that was retried (its duplicate), so a sweep never removes another record.
"""

from __future__ import annotations

import threading
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from operator_iac.errors import OperatorIacError
from operator_iac.state.times import parse_time

if TYPE_CHECKING:
    from operator_iac.api.client import OperatorClient
    from operator_iac.api.models import Conversation

# Timestamps may be whole seconds: the window is widened by this much on each side.
ROUNDING = timedelta(seconds=2)
_ISO = "%Y-%m-%dT%H:%M:%SZ"


@dataclass(frozen=True)
class OrphanWindow:
    """Where the duplicates of one retried create can be: same revision, created at most
    ``span_s`` seconds before ``anchor`` (the returned conversation's ``created_at``)."""

    version_id: str
    kept: str
    anchor: str | None
    span_s: float
    # The prompt override the retried create sent (a smoke record's), None for a smoke test's.
    override: dict[str, Any] | None = None


def orphan_window(client: OperatorClient, version_id: str, kept: str,
                  span_s: float) -> OrphanWindow:
    """The window of a create just retried (one read of the conversation it returned)."""
    try:
        returned = client.conversations.get(kept)
    except OperatorIacError:
        return OrphanWindow(version_id, kept, None, span_s)
    return OrphanWindow(version_id, kept, returned.created_at, span_s,
                        returned.override_config)


def sweep_orphans(client: OperatorClient, window: OrphanWindow,
                  known: Collection[str] = ()) -> list[str]:
    """Delete the duplicates ``window`` may hold; returns their ids. ``known`` are
    conversations made on purpose, which are never touched. Failures are left alone: an
    orphan that cannot be deleted now harms nothing."""
    if window.anchor is None:
        return []
    anchor = parse_time(window.anchor)
    if anchor is None:
        return []
    since = anchor - timedelta(seconds=window.span_s) - ROUNDING
    until = anchor + ROUNDING
    deleted = []
    try:
        for conversation in client.conversations.list(
                created_at_gte=since.strftime(_ISO),
                created_at_lt=(until + timedelta(seconds=1)).strftime(_ISO)):
            if window.override and \
                    _is_orphan(conversation, window, known, since, until, shown=False):
                whole = client.conversations.in_full(conversation)  # a summary, maybe
                if whole is None:
                    continue
                conversation = whole
            if _is_orphan(conversation, window, known, since, until):
                client.conversations.delete(conversation.id)
                deleted.append(conversation.id)
    except OperatorIacError:
        pass
    return deleted


def unstarted_testmode(conversation: Conversation) -> bool:
    """Whether ``conversation`` is a testmode conversation never started: what a record, or
    a test conversation a retried create left behind, is."""
    return conversation.testmode and not conversation.is_started


def _is_orphan(conversation: Conversation, window: OrphanWindow, known: Collection[str],
               since: datetime, until: datetime, *, shown: bool = True) -> bool:
    """Whether ``conversation`` is a duplicate ``window`` may hold (``shown`` false: on all
    but its override, which the list item did not show)."""
    if conversation.id == window.kept or conversation.id in known:
        return False
    if not unstarted_testmode(conversation):
        return False
    if conversation.agent_id != window.version_id or \
            (shown and (conversation.override_config or None) != window.override):
        return False
    created = parse_time(conversation.created_at)
    return created is not None and since <= created <= until


class OrphanLedger:
    """What a smoke suite's runs report, from many threads: the conversations they created on
    purpose, and the windows of creates that were retried. Swept once every run is over, so
    that a sibling run's conversation, not yet started, is never mistaken for an orphan."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._created: set[str] = set()
        self._windows: list[OrphanWindow] = []

    def created(self, conversation_id: str) -> None:
        with self._lock:
            self._created.add(conversation_id)

    def retried(self, window: OrphanWindow) -> None:
        with self._lock:
            self._windows.append(window)

    def sweep(self, client: OperatorClient) -> list[str]:
        """Delete every orphan of the retried creates; returns their ids."""
        with self._lock:
            windows, known = list(self._windows), set(self._created)
            self._windows.clear()
        return [found for window in windows for found in sweep_orphans(client, window, known)]
