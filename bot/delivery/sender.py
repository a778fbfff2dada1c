"""Use case: send due outbox rows at Telegram's pace, handling each error by kind.

A chat's rows go out in order, chats in parallel, all through one `Pacer`. A row is
marked sent only after Telegram accepted it (marks in small batches, bot.delivery.marks):
only what was in flight can repeat after a crash. Marks that cannot be written stay
queued and are retried with back-off while the rows' leases are renewed, so a message
Telegram accepted is never sent again because its mark failed once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session
from telegram import Bot
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError

from bot.delivery import options
from bot.delivery.botapi import BotApi, message_body, photo_body
from bot.delivery.marks import Mark, MarkQueue, Sent, retry_at
from bot.delivery.options import SendPlan, chat_refused, photo_refused, send_plan
from bot.delivery.pacing import CHAT_FLOOD_WAIT, Pacer, retry_delay, retry_seconds
from bot.delivery.stats import DeliveryStats
from bot.ops import metrics
from bot.storage import chats as chat_store
from bot.storage import outbox
from bot.storage.db import session_scope
from bot.storage.models import utcnow
from bot.storage.presence import GONE, LIVE, STALE_POLL, WorkerPresence

logger = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
HEARTBEAT_EVERY = 5.0
LEASE_MARGIN = timedelta(seconds=1)  # a send is not started this close to its lease's end
# Network errors and 5xx are retried 2, 4, 8 … s apart, then every 5 minutes (retry_delay):
# 20 attempts are about an hour, so a briefing outlasts Telegram or the network being down
# for a while (6 gave up after one minute: the 08:00 briefings of a two-minute outage were
# lost), and a message Telegram keeps failing on still ends, failed, and frees its chat.
MAX_ATTEMPTS = 20
SHUTDOWN_MARKS_SECONDS = 5.0  # how long a stop waits for marks it could not write yet
# A retry_after over CHAT_FLOOD_WAIT holds only its chat, unless another chat met one in
# the CHAT_FLOOD_WAIT before: two in a row show that the whole bot is held.
_STOP = "sender stopping"  # the message of a cancel that takes a send out of its slot wait
_PLAIN = SendPlan()  # a row without options: text, no preview, with a notification
# A forum topic that was deleted or closed (General too): only that topic's subscriber pauses.
_TOPIC_GONE = ("message thread not found", "topic_closed", "topic_deleted")
_TOPIC_GONE_OUTCOME = "topic_gone"  # counted as blocked; the chat's other rows go on
_LAPSED_OUTCOME = "lapsed"  # our lease or our worker id ran out before the send: not ours now


def first_line(exc: DBAPIError) -> str:
    """The driver's own message of a database error on one line: no SQL statement, no
    SQLAlchemy background link, a driver's hint joined on (logs are one line a record)."""
    return " ".join(str(exc.orig or exc).split()) or type(exc).__name__


@dataclass
class Sender:
    """Claims due rows and sends them; build one per process."""

    engine: Engine
    bot: Bot
    pacer: Pacer
    allow_paid_broadcast: bool = False
    batch_size: int = 200
    concurrency: int = 32  # requests in flight at once, and the keep-alive pool's size
    lease: timedelta = LEASE
    total_per_second: float | None = None  # shared among live senders (None: pacer as is)
    worker_id: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    clock: Callable[[], datetime] = utcnow
    # PostgreSQL: this worker's presence (bot/storage/presence.py). Claims name its id, and
    # nothing is claimed or sent while it cannot prove that it still holds that id's lock.
    presence: WorkerPresence | None = None
    backoff: Callable[[int], float] = retry_delay
    stopping: bool = False
    # Why the last heartbeat (our write probe) failed, until one succeeds: a full disk or
    # a read-only database fails it while reads and empty claims still pass.
    write_failure: str | None = None
    _last_beat: float = -HEARTBEAT_EVERY
    _marks: MarkQueue = field(init=False)
    _leases: dict[int, datetime] = field(default_factory=dict)  # held row -> its lease's end
    _in_flight: set[int] = field(default_factory=set)  # rows of this round's running sends
    _chat_holds: dict[int, datetime] = field(default_factory=dict)  # a chat's long flood wait
    _last_long_wait: tuple[int, datetime] = (0, datetime.min.replace(tzinfo=UTC))  # chat, when
    _waiting: set[asyncio.Task[Any]] = field(default_factory=set)  # sends waiting for a slot
    _api: BotApi | None = None
    _gate: asyncio.Semaphore | None = None

    def __post_init__(self) -> None:
        self._marks = MarkQueue(self.engine)

    def stop(self) -> None:
        """Claim nothing more; sends still waiting for a slot (a flood hold may last an
        hour) go back to the queue now; those already asked of Telegram finish."""
        self.stopping = True
        for task in list(self._waiting):
            task.cancel(_STOP)

    async def deliver_due(self, *, budget_seconds: float = 20.0) -> DeliveryStats:
        """Send due rows until none are left, the budget is spent or we are stopping."""
        stats = DeliveryStats()
        loop = asyncio.get_running_loop()
        if self._api is None or self._api.loop is not loop:
            # Built in the loop that uses it: a pool and a gate of `concurrency`.
            self._api = BotApi(self.bot.base_url, connections=self.concurrency)
            self._gate = asyncio.Semaphore(self.concurrency)
        deadline = loop.time() + budget_seconds
        if loop.time() - self._last_beat >= HEARTBEAT_EVERY:
            self._last_beat = loop.time()
            try:
                live, held_until, chats_held = await asyncio.to_thread(self._heartbeat)
            except DBAPIError as exc:  # locked or unreachable: the next round tries again
                self.write_failure = first_line(exc)
                logger.warning("outbox heartbeat failed error=%s", self.write_failure)
                return stats
            self.write_failure = None
            for chat_id, until in chats_held.items():  # e.g. met before a restart
                self._chat_holds[chat_id] = max(until, self._chat_holds.get(chat_id, until))
            if self.total_per_second:
                self.pacer.set_rate(self.total_per_second / max(1, live))
            remaining = (held_until - self.clock()).total_seconds() if held_until else 0.0
            if remaining > 0:
                self.pacer.hold(remaining)
        background = [
            asyncio.create_task(self._flush_loop()),
            asyncio.create_task(self._renew_loop()),
        ]
        try:
            stats += await self._pump(deadline)
            # Wait (leases renewed) for the marks; what still fails waits for the next call.
            if await self._marks.settle(loop.time() + self.lease.total_seconds() / 2):
                self._marks.held.clear()  # e.g. rows of a blocked chat, cancelled with it
        finally:
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
        if len(self._marks):
            logger.error(
                "outbox marks still unwritten, kept for the next round marks=%d accepted=%s",
                len(self._marks),
                sorted(self._marks.accepted),
            )
        return stats

    async def _pump(self, deadline: float) -> DeliveryStats:
        """Send claimed rows, each chat's in order, claiming the next batch while earlier
        ones are in flight, so the pacer is never left waiting for a claim.

        A claim starts whenever at most one batch of claimed rows is still unsent: at
        most two batches are held at a time. Claiming ahead keeps each chat's order,
        because a chat with a row in flight (`sending`, leased) is not claimed. An empty
        claim while rows are in flight may only mean that their chats are held, so the
        next claim waits until those are done; an empty claim with nothing in flight
        ends the round, as do the deadline, a stop, a failed claim and unwritten marks.
        """
        stats = DeliveryStats()
        chats: dict[asyncio.Task[DeliveryStats], list[int]] = {}  # a chat's send -> its rows
        unsent = 0  # rows in `chats`
        claim: asyncio.Task[list[outbox.Claimed] | None] | None = None
        more, after_all = True, False  # claim again; but only once nothing is in flight
        ahead = False  # the last claim was made while rows were in flight
        # Finished sends are counted by a callback, and the loop below wakes only when
        # there is something to do: asyncio.wait over hundreds of sends each time one
        # finished cost more CPU than the claims (BENCHMARKS.md).
        finished: list[asyncio.Task[DeliveryStats]] = []
        wake = asyncio.Event()

        def sent(task: asyncio.Task[DeliveryStats]) -> None:
            nonlocal unsent
            row_ids = chats.pop(task)
            self._in_flight.difference_update(row_ids)
            unsent -= len(row_ids)
            finished.append(task)
            if not chats or (claim is None and unsent <= self.batch_size):
                wake.set()

        def claimed(_: asyncio.Task[Any]) -> None:
            wake.set()

        try:
            while True:
                ready = not (after_all and chats)
                if more and ready and claim is None and unsent <= self.batch_size:
                    ahead = bool(chats)
                    claim = asyncio.create_task(self._next_batch(deadline, ahead=ahead))
                    claim.add_done_callback(claimed)
                if not chats and claim is None:
                    break
                await wake.wait()
                wake.clear()
                for task in finished:
                    stats += task.result()
                finished.clear()
                if claim is not None and claim.done():
                    rows = claim.result()
                    claim = None
                    more = rows is not None and (bool(rows) or ahead)
                    after_all = not rows
                    for chat_rows in self._by_chat(rows or ()):
                        sending = asyncio.create_task(self._send_chat(chat_rows))
                        sending.add_done_callback(sent)
                        chats[sending] = [row.id for row in chat_rows]
                        self._in_flight.update(chats[sending])
                        unsent += len(chat_rows)
            for task in finished:
                stats += task.result()
            return stats
        finally:
            if claim is not None:
                claim.remove_done_callback(claimed)
                claim.cancel()
            for task, row_ids in list(chats.items()):
                task.remove_done_callback(sent)
                task.cancel()
                self._in_flight.difference_update(row_ids)

    async def _next_batch(self, deadline: float, *, ahead: bool) -> list[outbox.Claimed] | None:
        """Claim the next batch; None when the round ends here instead.

        With nothing in flight (not `ahead`) every mark is written first, so that the
        chats of rows just sent are free again; ahead of rows in flight only when marks
        fail or pile up. Either way nothing new is claimed while marks cannot be written.
        """
        if self.stopping or asyncio.get_running_loop().time() >= deadline:
            return None
        if self.presence is not None and self.presence.claimant() is None:
            return None  # not joined, or its last check is too old: the next round looks again
        behind = self._marks.failing or len(self._marks) > self.batch_size
        if (behind or not ahead) and not await self._marks.settle(deadline):
            return None
        try:
            now, claimed = await asyncio.to_thread(self._claim)
        except DBAPIError as exc:  # e.g. another writer holds SQLite's lock
            logger.warning("outbox claim failed, next round retries error=%s", first_line(exc))
            return None
        return self._take(now, claimed)

    def _claim(self) -> tuple[datetime, list[outbox.Claimed]]:
        now = self.clock()
        owner = None
        if self.presence is not None:
            owner = self.presence.claimant()
            if owner is None:
                return now, []
        with session_scope(self.engine) as session:
            claimed = outbox.claim_due(
                session, now=now, limit=self.batch_size, lease=self.lease, owner=owner
            )
        return now, claimed

    def _take(self, now: datetime, claimed: Sequence[outbox.Claimed]) -> list[outbox.Claimed]:
        """Hold the claimed rows; return those to send now.

        A row being sent here is claimed again only if another sender, whose lease on
        it had lapsed, put it back: it is not sent twice, and its chat's other rows in
        this claim go back to wait behind it. (A row done here whose mark is written
        but not yet settled, e.g. put back to go now, is simply sent.)
        """
        again = {row.id for row in claimed if row.id in self._in_flight}
        behind = {row.chat_id for row in claimed if row.id in again}
        self._marks.held.update(row.id for row in claimed)
        self._leases.update((row.id, now + self.lease) for row in claimed)
        claimed = self._wait_out_chat_holds(claimed, now)
        if not behind:
            return list(claimed)
        logger.warning("claimed rows held here again row_ids=%s", sorted(again))
        wait = [row for row in claimed if row.chat_id in behind and row.id not in again]
        self._requeue(wait, now)
        return [row for row in claimed if row.chat_id not in behind]

    def _wait_out_chat_holds(
        self, claimed: Sequence[outbox.Claimed], now: datetime
    ) -> Sequence[outbox.Claimed]:
        """Rows queued since their chat met a long flood wait go back until it ends."""
        self._chat_holds = {c: t for c, t in self._chat_holds.items() if t > now}
        if not self._chat_holds:
            return claimed
        for row in claimed:
            if row.chat_id in self._chat_holds:
                self._requeue([row], self._chat_holds[row.chat_id])
        return [row for row in claimed if row.chat_id not in self._chat_holds]

    def _bot_wide(self, chat_id: int, seconds: float, until: datetime) -> float:
        """Seconds every chat waits after a 429 of `seconds` for `chat_id` (see
        CHAT_FLOOD_WAIT): all of a short one, none of a chat's own long one."""
        if seconds <= CHAT_FLOOD_WAIT:
            return seconds
        now, (last_chat, last_at) = self.clock(), self._last_long_wait
        self._last_long_wait = (chat_id, now)
        self._chat_holds[chat_id] = max(until, self._chat_holds.get(chat_id, until))
        bot_wide = last_chat != chat_id and now - last_at <= timedelta(seconds=CHAT_FLOOD_WAIT)
        return seconds if bot_wide else 0.0

    def _heartbeat(self) -> tuple[int, datetime | None, dict[int, datetime]]:
        """Say this sender is alive; return how many senders are, any flood hold, and
        the chats that are held."""
        now = self.clock()
        with session_scope(self.engine) as session:
            live = outbox.heartbeat(session, self.worker_id, now=now)
            return live, outbox.hold_until(session), outbox.chat_holds(session, now=now)

    def _by_chat(self, rows: Sequence[outbox.Claimed]) -> list[list[outbox.Claimed]]:
        """A batch's rows to send, grouped by chat, each chat's in the claim's order."""
        by_chat: dict[int, list[outbox.Claimed]] = defaultdict(list)
        for row in rows:
            if row.id in self._marks.accepted:
                continue  # claimed again after a lease lapsed; its "sent" mark is queued
            by_chat[row.chat_id].append(row)
        return list(by_chat.values())

    async def _send_chat(self, rows: Sequence[outbox.Claimed]) -> DeliveryStats:
        stats = DeliveryStats()
        gone: set[int | None] = set()  # forum topics found deleted or closed in this round
        for i, row in enumerate(rows):
            if self.stopping:
                self._requeue(rows[i:], self.clock())
                break
            if row.thread_id in gone:
                continue  # cancelled with its topic
            outcome, retry_at = await self._send_one(row)
            if outcome == _LAPSED_OUTCOME:
                self._let_go(rows[i:])
                stats.retried += len(rows) - i
                break
            if outcome == _TOPIC_GONE_OUTCOME:
                gone.add(row.thread_id)
                stats.blocked += 1
                continue  # the forum's other topics go on
            setattr(stats, outcome, getattr(stats, outcome) + 1)
            metrics.count_message(row.kind, outcome)
            if retry_at is not None:
                # Later rows of this chat wait with it, so the order holds.
                self._requeue(rows[i + 1 :], retry_at)
                break
            if outcome == "blocked":
                break  # the chat's other rows are cancelled with it
        return stats

    def _lapsing(self, row_id: int) -> bool:
        """Our lease on the row ends before a send could be answered: another sender may
        have claimed it already (this process was starved of time, or renewals failed)."""
        until = self._leases.get(row_id)
        margin = min(LEASE_MARGIN, self.lease / 4)
        return until is not None and self.clock() + margin >= until

    async def _proven(self, row: outbox.Claimed) -> bool:
        """Whether this worker may send the row now (PostgreSQL: the id it was claimed under
        is still this worker's, and proven held). While the last check is merely late, the
        send waits for the next; a lost id, a stop or the lease's end let the row go."""
        presence = self.presence
        if presence is None or row.owner is None:
            return True
        while (standing := presence.standing(row.owner)) != LIVE:
            if standing == GONE or self.stopping or self._lapsing(row.id):
                return False
            await asyncio.sleep(STALE_POLL)
        return True

    def _let_go(self, rows: Sequence[outbox.Claimed]) -> None:
        """Leave rows whose lease lapsed (or whose claim's worker id this worker lost),
        unsent and unmarked, to the next claim (in order: a chat's later rows go with them)."""
        logger.warning("claim lapsed before sending chat_id=%s rows=%d", rows[0].chat_id, len(rows))
        for row in rows:
            self._marks.held.discard(row.id)
            self._leases.pop(row.id, None)

    def _requeue(self, rows: Sequence[outbox.Claimed], at: datetime) -> None:
        for row in rows:
            self._mark(partial(retry_at, row_id=row.id, at=at), row.id)

    async def _send_one(self, row: outbox.Claimed) -> tuple[str, datetime | None]:
        """Send one row; return the stats field to count it under and any retry time."""
        assert self._gate is not None
        plan = send_plan(row.options) if row.options else _PLAIN
        if self.stopping or not await self._slot(row.chat_id):  # asked to stop meanwhile
            self._requeue([row], self.clock())
            return "retried", self.clock()
        try:
            async with self._gate:
                if self._lapsing(row.id) or not await self._proven(row):
                    return _LAPSED_OUTCOME, None
                message_id = await self._deliver(row, plan)
        except RetryAfter as exc:
            seconds = retry_seconds(exc.retry_after)
            metrics.count_flood_wait()
            not_before = self.clock() + timedelta(seconds=seconds)
            everyone = self._bot_wide(row.chat_id, seconds, not_before)
            self.pacer.hold(everyone)
            logger.warning(
                "flood limit chat_id=%s retry_after=%s holds=%s",
                row.chat_id,
                seconds,
                "all" if everyone else "chat",
            )
            self._mark(
                lambda s: outbox.mark_retry(s, row.id, not_before=not_before, error="429"), row.id
            )
            if everyone:
                held_until = self.clock() + timedelta(seconds=everyone)
                self._mark(lambda s: outbox.extend_hold(s, held_until))
            else:  # the chat's alone: its rows queued later, here or elsewhere, wait too
                self._mark(lambda s: outbox.extend_hold(s, not_before, chat_id=row.chat_id))
            return "retried", not_before
        except ChatMigrated as exc:
            new_id = int(exc.new_chat_id)
            logger.info("chat migrated chat_id=%s new_chat_id=%s", row.chat_id, new_id)
            now = self.clock()
            self._mark(lambda s: self._migrate(s, row, new_id, now), row.id)
            return "retried", now
        except Forbidden as exc:
            return self._unreachable(row, exc.message), None
        except BadRequest as exc:
            if chat_refused(exc.message):
                return self._unreachable(row, exc.message), None
            if any(t in exc.message.lower() for t in _TOPIC_GONE):  # a forum's General too
                return self._topic_gone(row, row.thread_id, exc.message), None
            # Can't parse entities, message too long, …: our bug. Never retried.
            # (A lone lead image Telegram could not fetch is the feed's problem, not ours.)
            log = logger.info if photo_refused(exc.message) else logger.error
            log(
                "message rejected row_id=%s chat_id=%s error=%s text=%r",
                row.id,
                row.chat_id,
                exc.message,
                row.text,
            )
            error = exc.message
            self._mark(lambda s: outbox.mark_failed(s, row.id, error=error), row.id)
            return "failed", None
        except TelegramError as exc:  # network errors, timeouts, 5xx
            return self._transient(row, f"{type(exc).__name__}: {exc}")
        finally:
            self.pacer.release()
        sent_at = self.clock()
        self._marks.accepted.add(row.id)
        self._mark(Sent(row.id, message_id, sent_at), row.id)
        return "sent", None

    async def _slot(self, chat_id: int) -> bool:
        """Wait for the pacer's slot (release it after the send); False when a stop took
        the send out of its wait (no slot taken)."""
        task = asyncio.current_task()
        assert task is not None
        self._waiting.add(task)
        try:
            await self.pacer.acquire(chat_id)
        except asyncio.CancelledError as exc:
            if exc.args != (_STOP,):
                raise
            task.uncancel()
            return False
        finally:
            self._waiting.discard(task)
        if self.stopping:  # asked to stop while waiting for the slot
            self.pacer.release()
            return False
        return True

    async def _deliver(self, row: outbox.Claimed, plan: SendPlan) -> int:
        """Send as the row's plan says: text, or a photo (the text as its caption).

        Each body is built once from the stored row (the keyboard JSON as stored).
        """
        assert self._api is not None
        common: dict[str, Any] = {
            "paid": self.allow_paid_broadcast,
            "thread_id": row.thread_id,
            "quiet": plan.quiet,
        }
        if plan.photo is not None:
            body = photo_body(row.chat_id, plan.photo, row.text, row.reply_markup, **common)
            try:
                return await self._api.send_photo(body)
            except BadRequest as exc:
                if not (row.text and photo_refused(exc.message)):
                    raise
                # The feed's image could not be fetched: the briefing goes out without it.
                logger.info("photo refused row_id=%s error=%s", row.id, exc.message)
        preview = None if plan.preview is options.NO_PREVIEW else plan.preview.to_dict()
        body = message_body(row.chat_id, row.text, row.reply_markup, preview=preview, **common)
        return await self._api.send_message(body)

    def _unreachable(self, row: outbox.Claimed, reason: str) -> str:
        logger.info("chat unreachable chat_id=%s reason=%s", row.chat_id, reason)

        def mark(session: Session) -> None:
            outbox.mark_failed(session, row.id, error=reason, status=outbox.CANCELLED)
            outbox.cancel_chat(session, row.chat_id, reason=reason)
            chat_store.set_active(session, row.chat_id, False, now=self.clock())

        self._mark(mark, row.id)
        return "blocked"

    def _topic_gone(self, row: outbox.Claimed, thread_id: int | None, reason: str) -> str:
        logger.info(
            "forum topic gone chat_id=%s thread_id=%s reason=%s", row.chat_id, thread_id, reason
        )

        def mark(session: Session) -> None:
            outbox.mark_failed(session, row.id, error=reason, status=outbox.CANCELLED)
            outbox.cancel_thread(session, row.chat_id, thread_id, reason=reason)
            chat_store.pause_topic(session, row.chat_id, thread_id, reason=reason, now=self.clock())

        self._mark(mark, row.id)
        return _TOPIC_GONE_OUTCOME

    def _transient(self, row: outbox.Claimed, reason: str) -> tuple[str, datetime | None]:
        if row.attempts >= MAX_ATTEMPTS:
            logger.warning("giving up row_id=%s chat_id=%s reason=%s", row.id, row.chat_id, reason)
            self._mark(lambda s: outbox.mark_failed(s, row.id, error=reason), row.id)
            return "failed", None
        not_before = self.clock() + timedelta(seconds=self.backoff(row.attempts))
        self._mark(
            lambda s: outbox.mark_retry(s, row.id, not_before=not_before, error=reason), row.id
        )
        return "retried", not_before

    def _migrate(self, session: Session, row: outbox.Claimed, new_id: int, now: datetime) -> None:
        chat_store.migrate_chat(session, row.chat_id, new_id, now=now)
        outbox.move_chat(session, row.chat_id, new_id)
        outbox.mark_retry(session, row.id, not_before=now, error="migrated")

    def _mark(self, mark: Mark, row_id: int | None = None) -> None:
        self._marks.add(mark, row_id)

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(0.05)
            await self._marks.flush()

    async def aclose(self) -> None:
        """At shutdown: write the marks still queued (a few seconds at most), so a restart
        does not send again what Telegram accepted; close the keep-alive pool."""
        if self._marks.unsettled and not await self._marks.settle(
            asyncio.get_running_loop().time() + SHUTDOWN_MARKS_SECONDS
        ):
            logger.error(
                "outbox marks not written at stop, Telegram's accepted messages will be sent"
                " again marks=%d row_ids=%s",
                len(self._marks),
                sorted(self._marks.accepted),
            )
        if self._api is not None:
            await self._api.aclose()
            self._api = None

    # -- leases of held rows are renewed while they wait (pacing, flood holds, failed marks)

    async def _renew_loop(self) -> None:
        every = max(0.2, self.lease.total_seconds() / 3)
        while True:
            await asyncio.sleep(every)
            held = sorted(self._marks.held)
            for row_id in self._leases.keys() - self._marks.held:  # marked, or let go
                self._leases.pop(row_id, None)
            if not held:
                continue
            try:
                await asyncio.to_thread(self._renew, held)
            except Exception as exc:  # the next round tries again; marks are unaffected
                why = first_line(exc) if isinstance(exc, DBAPIError) else exc
                logger.warning("lease renewal failed rows=%d error=%s", len(held), why)

    def _renew(self, row_ids: Sequence[int]) -> None:
        until = self.clock() + self.lease
        ours = {i: self._leases[i] for i in row_ids if i in self._leases}
        with session_scope(self.engine) as session:
            renewed = outbox.renew_leases(session, ours, until=until)
        for row_id in renewed:  # their leases in the database end there now
            self._leases[row_id] = until
