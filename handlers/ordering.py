"""One chat's messages are handled one after another, in the order they arrived.

PTB runs updates concurrently (`concurrent_updates`), so without this a quick
"/schedule 07:00" then "/schedule 09:30" could be applied in either order and
leave the first; "/subscribe world" then "/unsubscribe world" could leave the
subscription. Messages (commands, text, documents) and membership changes of
one chat wait for the previous one of that chat; different chats still run
side by side. Button taps are not held here: Telegram wants each answered within
seconds, and each tap's change is applied atomically by its use case.

The wait is taken before PTB's concurrency slot, so a chat that floods the bot
queues its own updates without occupying the slots other chats need. The
handlers of ordered updates must be blocking (PTB's default `block=True`), else
the update counts as handled as soon as its handler task is created.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor


def order_key(update: object) -> int | None:
    """The chat whose updates must not overtake each other; None for taps and the rest."""
    if not isinstance(update, Update) or update.callback_query is not None:
        return None
    if update.message is None and update.my_chat_member is None:
        return None
    chat = update.effective_chat
    return chat.id if chat is not None else None


class ChatOrderedProcessor(BaseUpdateProcessor):
    """PTB's concurrent processing, with each chat's messages in arrival order.

    At most `running` updates are processed at once; PTB's own bound (`waiting`) only
    caps how many may wait, for their chat or for a slot."""

    __slots__ = ("_locks", "_running", "_waiting")

    def __init__(self, running: int, *, waiting: int = 10_000) -> None:
        super().__init__(waiting)
        self._running = asyncio.Semaphore(running)
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}  # updates holding or awaiting each chat's lock

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = order_key(update)
        if key is None:
            async with self._running:
                await coroutine
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock, self._running:  # FIFO: PTB starts update tasks in arrival order
                await coroutine
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:
                del self._waiting[key], self._locks[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""
