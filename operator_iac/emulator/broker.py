"""In-process publish/subscribe of "conversation X has new events".

Listeners (SSE streams) hold an ``asyncio.Event`` per subscription and re-read the store when
it is set; the broker carries no event data, so a slow listener can never miss or reorder
anything. Publishing is safe from any thread: calls from outside the server's event loop
are handed to it.
"""

from __future__ import annotations

import asyncio


class EventBroker:
    def __init__(self) -> None:
        self._waiters: dict[str, set[asyncio.Event]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self.closed = False

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.closed = False

    def subscribe(self, conversation_id: str) -> asyncio.Event:
        waiter = asyncio.Event()
        self._waiters.setdefault(conversation_id, set()).add(waiter)
        if self.closed:
            waiter.set()
        return waiter

    def unsubscribe(self, conversation_id: str, waiter: asyncio.Event) -> None:
        waiters = self._waiters.get(conversation_id)
        if waiters is not None:
            waiters.discard(waiter)
            if not waiters:
                del self._waiters[conversation_id]

    def publish(self, conversation_id: str) -> None:
        loop = self._loop
        if loop is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._wake(conversation_id)
        elif not loop.is_closed():
            loop.call_soon_threadsafe(self._wake, conversation_id)

    def close(self) -> None:
        """Wake every listener for good (shutdown): streams see ``closed`` and finish."""
        self.closed = True
        for waiters in self._waiters.values():
            for waiter in waiters:
                waiter.set()

    def _wake(self, conversation_id: str) -> None:
        for waiter in self._waiters.get(conversation_id, ()):
            waiter.set()
