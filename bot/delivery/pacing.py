"""Pacing towards Telegram's flood limits, shared by replies and the outbox sender.

Slots are reserved, not polled, in two steps: a send first books and waits
for its chat's next free moment (per-chat and per-group limits), and only then
books the bot-wide slot. A chat's backlog therefore waits on its own clock and
never holds global capacity: twenty quick replies to one user must not push an
unrelated user's reply, or a briefing, back by twenty seconds. On top of that
spacing, a rolling
window counts sends by when Telegram *answered* them: a send may start only
when fewer than `per_second` sends are in flight or answered within the last
second. Telegram counts a request when it arrives, which lies between our
start and its answer, so network jitter can never squeeze more than the limit
into one of its seconds. After a 429 every sender waits until `retry_after`
has passed (Telegram: sending to anyone earlier risks longer bans).

A booked chat slot is a forecast: the bot-wide wait after it can hold a
chat's first sends while its later slots come due, and then they would leave
together. So a send is let go only if the chat's sends as actually let go
still keep its spacing; otherwise it waits and books a bot-wide slot again.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.ext import BaseRateLimiter

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

# Margins keep us just under the limits Telegram states (30/s overall,
# about 1/s per private chat with short bursts, 20/min per group).
GLOBAL_MARGIN = 1.0
WINDOW = 1.0
_POLL = 0.005
PRIVATE_INTERVAL = 1.05
PRIVATE_BURST = 3
GROUP_INTERVAL = 3.1
# A longer retry_after is taken as one chat's own (Telegram holds a busy group or channel
# for minutes or hours; its bot-wide limits ask for seconds): it does not hold everyone.
CHAT_FLOOD_WAIT = 60.0


def retry_seconds(retry_after: float | timedelta) -> float:
    """Seconds in a RetryAfter's `retry_after` (an int, or a timedelta in newer PTB)."""
    if isinstance(retry_after, timedelta):
        return retry_after.total_seconds()
    return float(retry_after)


class Pacer:
    """Books send slots: overall rate, per-chat spacing, and global 429 holds."""

    def __init__(
        self,
        *,
        per_second: float,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        limit_chats: bool = True,
    ) -> None:
        self._clock, self._sleep, self._limit_chats = clock, sleep, limit_chats
        self._next_global = 0.0
        self.set_rate(per_second)
        self._answered: deque[float] = deque()
        self._in_flight = 0
        self._chat_next: dict[int, float] = {}
        # Per chat, the theoretical time of its next send counted from when its sends
        # were actually let go (the same burst-and-interval rule as the bookings).
        self._chat_sent: dict[int, float] = {}
        self.hold_until = 0.0

    def set_rate(self, per_second: float) -> None:
        """Change the overall rate (a worker's share when several send)."""
        self.per_second = per_second
        self.interval = GLOBAL_MARGIN / per_second if per_second > 0 else 0.0
        self._cap = max(1, int(per_second))

    def _chat_slot(self, chat_id: int, now: float) -> float:
        if not self._limit_chats:
            return now
        if len(self._chat_next) > 50_000:  # bounded memory: forget chats that are free again
            self._chat_next = {c: t for c, t in self._chat_next.items() if t > now}
            self._chat_sent = {c: t for c, t in self._chat_sent.items() if t > now}
        if chat_id < 0:  # groups and channels: steady spacing, no burst
            slot = max(now, self._chat_next.get(chat_id, 0.0))
            self._chat_next[chat_id] = slot + GROUP_INTERVAL
            return slot
        # Private chats: a burst of PRIVATE_BURST, then one per PRIVATE_INTERVAL.
        earliest = now - (PRIVATE_BURST - 1) * PRIVATE_INTERVAL
        slot = max(earliest, self._chat_next.get(chat_id, earliest))
        self._chat_next[chat_id] = slot + PRIVATE_INTERVAL
        return max(slot, now)

    def _global_slot(self, not_before: float) -> float:
        slot = max(not_before, self._next_global, self.hold_until)
        self._next_global = slot + self.interval
        return slot

    async def acquire(self, chat_id: int | None) -> None:
        """Wait until this chat and the bot may send one more message; pair with release()."""
        if chat_id is not None and self._limit_chats:
            # The chat's own wait comes first and books nothing global.
            delay = self._chat_slot(chat_id, self._clock()) - self._clock()
            if delay > 0:
                await self._sleep(delay)
        while True:
            slot = self._global_slot(self._clock())
            delay = slot - self._clock()
            if delay > 0:
                await self._sleep(delay)
            await self._window_room()
            now = self._clock()
            if now < self.hold_until:
                continue  # a 429 arrived while we slept: book again after the hold
            early = self._too_early(chat_id, now)
            if early > 0:
                await self._sleep(early)  # the queue bunched this chat's sends: space them
                continue
            self._let_go(chat_id, now)
            self._in_flight += 1
            return

    def _too_early(self, chat_id: int | None, now: float) -> float:
        """Seconds until this chat's sends as actually let go allow one more (0: now)."""
        if chat_id is None or not self._limit_chats or chat_id not in self._chat_sent:
            return 0.0
        burst = 0.0 if chat_id < 0 else (PRIVATE_BURST - 1) * PRIVATE_INTERVAL
        return max(0.0, self._chat_sent[chat_id] - burst - now)

    def _let_go(self, chat_id: int | None, now: float) -> None:
        if chat_id is None or not self._limit_chats:
            return
        interval = GROUP_INTERVAL if chat_id < 0 else PRIVATE_INTERVAL
        self._chat_sent[chat_id] = max(self._chat_sent.get(chat_id, now), now) + interval

    def release(self) -> None:
        """Record that Telegram answered a send started with acquire()."""
        self._in_flight -= 1
        self._answered.append(self._clock())

    @asynccontextmanager
    async def sending(self, chat_id: int | None) -> AsyncIterator[None]:
        """`async with pacer.sending(chat_id):` around one request."""
        await self.acquire(chat_id)
        try:
            yield
        finally:
            self.release()

    async def _window_room(self) -> None:
        while True:
            now = self._clock()
            while self._answered and self._answered[0] <= now - WINDOW:
                self._answered.popleft()
            if self._in_flight + len(self._answered) < self._cap:
                return
            oldest = self._answered[0] + WINDOW - now if self._answered else _POLL
            await self._sleep(max(min(oldest, WINDOW), _POLL))

    def hold(self, seconds: float) -> None:
        """Stop every sender for `seconds` (Telegram's retry_after)."""
        self.hold_until = max(self.hold_until, self._clock() + seconds)


# Methods that put a message into a chat and therefore count against its limits.
_SENDING = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendMediaGroup",
        "copyMessage",
        "forwardMessage",
        "editMessageText",
        "editMessageReplyMarkup",
    }
)


class SlotHeld:
    """`rate_limit_args=SLOT_HELD`: the caller already holds the chat's send slot
    (`async with pacer.sending(chat_id)`), e.g. to read what it sends only once its turn
    has come; the request is not paced a second time (a retry after a 429 is)."""

    __slots__ = ()


SLOT_HELD = SlotHeld()


class PacedRateLimiter(BaseRateLimiter[SlotHeld]):
    """PTB rate limiter for replies that shares one `Pacer` with the outbox sender.

    A reply that meets a 429 holds every sender, then is retried, so a burst
    of commands from many users is answered, not dropped; one that meets a chat's
    own long wait (over CHAT_FLOOD_WAIT) fails at once and holds nobody. A 5xx or a network
    error is retried after a short back-off (0.5, 1, 2 … s), as the outbox
    sender retries them: one bad gateway must not turn an applied command's
    answer into "something went wrong".
    """

    def __init__(self, pacer: Pacer, *, max_retries: int = 5) -> None:
        self.pacer, self.max_retries = pacer, max_retries

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: SlotHeld | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        chat_id = data.get("chat_id")
        counts = endpoint in _SENDING
        target = chat_id if isinstance(chat_id, int) else None
        held = rate_limit_args is SLOT_HELD
        for attempt in range(self.max_retries + 1):
            try:
                if not counts or (held and attempt == 0):
                    return await callback(*args, **kwargs)
                async with self.pacer.sending(target):
                    return await callback(*args, **kwargs)
            except RetryAfter as exc:
                seconds = retry_seconds(exc.retry_after)
                if counts and target is not None and seconds > CHAT_FLOOD_WAIT:
                    raise  # this chat's own wait: nobody else's reply waits, nor this one
                self.pacer.hold(seconds)
                if attempt == self.max_retries:
                    raise
                if not counts:
                    await asyncio.sleep(seconds)
            except BadRequest:
                raise  # a subclass of NetworkError, but Telegram's final word
            except NetworkError:
                if attempt == self.max_retries:
                    raise
                await asyncio.sleep(0.5 * 2**attempt)
        raise AssertionError("unreachable")


def concurrency_for(per_second: float) -> int:
    """Requests in flight that keep `per_second` going at ~150 ms a round trip.

    30/s needs a handful; paid broadcasts at 1,000/s need ~150 (Little's law).
    """
    return max(16, min(256, math.ceil(per_second * 0.15)))


def retry_delay(attempts: int) -> float:
    """Back-off for network errors and 5xx: 2, 4, 8 … seconds, at most 5 minutes."""
    return float(min(300, 2**attempts))
