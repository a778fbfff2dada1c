"""Storm of new users and one flooding user, through the real bot against the fake Bot API.

Both scenarios run the real in-process Application (polling, the per-user limits layer,
handlers, the pacer) against tests/support/fake_telegram with Telegram's flood limits
ON, on SQLite (default) or on PostgreSQL (`--database-url`, in a throwaway schema that
is dropped afterwards).

1. storm: N new users each send /start, /subscribe <topic>, /schedule instant, all
   queued before the bot polls. Measures when the database holds every chat,
   subscription and mode, and when every reply reached the fake.
2. flood: one user sends F commands at once while B others send one each. Measures the
   bystanders' reply latency (push -> the fake's receipt) and what the flooder got.
3. taps: T users, each with the /start picker, tap one topic's button twice (both follow
   it), all 2T taps queued before the bot polls. Measures each tap's answer latency
   (Telegram refuses an answer after 15 s), the picker edits, and whether every picker
   ends showing the database.

Run: python -m bench.bench_storm [--users 300] [--flood 50,200] [--taps 300] [--database-url URL]
Prints the machine, a markdown table per scenario, and one summary line.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench._common import ensure_repo_on_path, md_table, percentile, print_machine

ensure_repo_on_path()

import sqlalchemy as sa  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402
from sqlmodel import Session, func, select  # noqa: E402

from bot.render import texts  # noqa: E402
from bot.storage.db import open_database  # noqa: E402
from bot.storage.models import Chat, Subscription  # noqa: E402
from tests.support.botharness import make_settings, running_bot, wait_for  # noqa: E402
from tests.support.fake_telegram import FakeTelegram  # noqa: E402

SORRY = "Sorry, something went wrong"
FIRST_USER = 700_001
FLOODER = 5_000
FIRST_BYSTANDER = 6_001
TOPIC = "tech"
TAP_TOPIC = "world"
DB_POLL = 0.05  # seconds between "is everything applied?" queries during the storm


class Receipts:
    """When the fake received each sendMessage that it accepted, per chat.

    The fake's fault hook sees every call before flood control; a 429 is counted by
    the fake itself, and both scenarios report (and require) zero of them, so a receipt
    here is a delivered message.
    """

    def __init__(self) -> None:
        self.times: dict[int, list[float]] = {}
        self._lock = threading.Lock()

    def __call__(self, method: str, params: dict[str, Any]) -> None:
        if method == "sendMessage":
            with self._lock:
                self.times.setdefault(int(params["chat_id"]), []).append(time.monotonic())
        return None


# --------------------------------------------------------------------------- databases


@contextmanager
def database(url: str | None) -> Iterator[Engine]:
    """A migrated, empty database: a fresh SQLite file, or a throwaway PostgreSQL schema."""
    if url is None:
        with tempfile.TemporaryDirectory(prefix="bench_storm_") as tmp:
            engine = open_database(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
            try:
                yield engine
            finally:
                engine.dispose()
        return
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        sep = "&" if "?" in url else "?"
        engine = open_database(f"{url}{sep}options=-csearch_path%3D{schema}")
        try:
            yield engine
        finally:
            engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def applied_count(engine: Engine, users: Sequence[int]) -> int:
    """How many of the users have their chat in instant mode AND the topic subscription."""
    with Session(engine) as session:
        query = (
            select(func.count())
            .select_from(Chat)
            .join(Subscription, Subscription.chat_id == Chat.id)  # type: ignore[arg-type]
            .where(
                Chat.id.in_(users),  # type: ignore[attr-defined]
                Chat.mode == "instant",
                Chat.next_briefing_at.is_not(None),  # type: ignore[union-attr]
                Subscription.topic == TOPIC,
            )
        )
        return int(session.exec(query).one())


# --------------------------------------------------------------------------- scenario 1


@dataclass
class StormResult:
    users: int
    applied: int
    applied_s: float
    replies: int
    replies_s: float
    sorry: int
    rejected_429: int
    wrong: list[str] = field(default_factory=list)

    @property
    def commands(self) -> int:
        return 3 * self.users


async def storm(engine: Engine, users: int, timeout: float) -> StormResult:
    ids = list(range(FIRST_USER, FIRST_USER + users))
    with FakeTelegram() as tg:
        receipts = Receipts()
        tg.set_fault_hook(receipts)
        for user in ids:
            tg.add_private_chat(user)
        async with running_bot(make_settings(tg), engine):
            # Holding the fake's lock while queueing keeps its getUpdates from answering
            # until all 3N updates are there: "in the same second", before the bot polls.
            with tg._cond:
                for user in ids:
                    tg.send_text(user, "/start")
                    tg.send_text(user, f"/subscribe {TOPIC}")
                    tg.send_text(user, "/schedule instant")
                started = time.monotonic()
            deadline = started + timeout
            applied = 0
            while time.monotonic() < deadline:
                applied = await asyncio.to_thread(applied_count, engine, ids)
                if applied == users:
                    break
                await asyncio.sleep(DB_POLL)
            applied_at = time.monotonic()
            remaining = max(0.1, deadline - time.monotonic())
            with suppress(TimeoutError):
                await wait_for(
                    tg, lambda: all(len(receipts.times.get(u, ())) >= 3 for u in ids), 1, remaining
                )
            # Let anything extra (a duplicate or an apology) arrive before counting.
            await asyncio.sleep(1.0)
        last = [max(receipts.times[u]) for u in ids if receipts.times.get(u)]
        sorry = sum(any(t.startswith(SORRY) for t in tg.texts(u)) for u in ids)
        wrong = [f"{u}: {tg.texts(u)!r}" for u in ids if not _storm_replies_ok(tg.texts(u))]
        return StormResult(
            users=users,
            applied=applied,
            applied_s=applied_at - started,
            replies=sum(len(tg.texts(u)) for u in ids),
            replies_s=(max(last) - started) if last else float("nan"),
            sorry=sorry,
            rejected_429=tg.stats.rejected_429,
            wrong=wrong,
        )


def _storm_replies_ok(replies: list[str]) -> bool:
    return (
        len(replies) == 3
        and sum("Welcome to your news briefing" in t for t in replies) == 1
        and "✅ Subscribed to: Technology." in replies
        and texts.SCHEDULE_INSTANT in replies
    )


# --------------------------------------------------------------------------- scenario 2


@dataclass
class FloodResult:
    flood: int
    bystanders: int
    latencies: list[float]
    answered: int
    flooder_replies: int
    flooder_slowdowns: int
    flooder_span_s: float
    sorry: int
    rejected_429: int


async def flood(engine: Engine, count: int, bystanders: int, settle: float) -> FloodResult:
    others = list(range(FIRST_BYSTANDER, FIRST_BYSTANDER + bystanders))
    with FakeTelegram() as tg:
        settings = make_settings(tg)
        allowed = settings.limits.commands_per_minute
        receipts = Receipts()
        tg.set_fault_hook(receipts)
        for chat in (FLOODER, *others):
            tg.add_private_chat(chat)
        pushed: dict[int, float] = {}
        async with running_bot(settings, engine):
            flood_at = time.monotonic()
            for _ in range(count):
                tg.send_text(FLOODER, "/help")
            for chat in others:
                pushed[chat] = time.monotonic()
                tg.send_text(chat, "/help")
            with suppress(TimeoutError):
                await wait_for(tg, lambda: all(receipts.times.get(c) for c in others), 1, 60)
            # The flooder gets its allowed replies (paced at ~1/s for one private chat)
            # and one slow-down; wait for those, then a little longer for any extra.
            expected = min(count, allowed) + (1 if count > allowed else 0)
            with suppress(TimeoutError):
                await wait_for(tg, lambda: len(receipts.times.get(FLOODER, ())) >= expected, 1, 90)
            await asyncio.sleep(settle)
        latencies = [receipts.times[c][0] - pushed[c] for c in others if receipts.times.get(c)]
        flooder_texts = tg.texts(FLOODER)
        flooder_times = receipts.times.get(FLOODER, [])
        slow = texts.SLOW_DOWN.split("{", 1)[0]
        everyone = (FLOODER, *others)
        return FloodResult(
            flood=count,
            bystanders=bystanders,
            latencies=latencies,
            answered=len(latencies),
            flooder_replies=len(flooder_texts),
            flooder_slowdowns=sum(t.startswith(slow) for t in flooder_texts),
            flooder_span_s=(max(flooder_times) - flood_at) if flooder_times else float("nan"),
            sorry=sum(any(t.startswith(SORRY) for t in tg.texts(c)) for c in everyone),
            rejected_429=tg.stats.rejected_429,
        )


# --------------------------------------------------------------------------- scenario 3


@dataclass
class TapResult:
    users: int
    latencies: list[float]  # seconds from each tap to its accepted answer
    late: int  # answers the fake refused: after Telegram's 15 s
    edits: int
    wrong_pickers: int
    connections: int  # TCP connections the bot opened to the fake, the whole run


async def taps(engine: Engine, users: int, timeout: float) -> TapResult:
    """Every user taps the same topic twice at once on the /start picker."""
    ids = list(range(FIRST_USER, FIRST_USER + users))
    with FakeTelegram() as tg:
        for user in ids:
            tg.add_private_chat(user)
        async with running_bot(make_settings(tg), engine):
            for user in ids:
                tg.send_text(user, "/start")
            await wait_for(tg, lambda: all(tg.messages(u) for u in ids), 1, timeout)
            pickers = {u: tg.messages(u)[0].message_id for u in ids}
            edits_before = len(tg.calls("editMessageReplyMarkup"))
            with tg._cond:  # all 2N taps are there before the bot's next poll
                queries = [
                    tg.press_button(u, pickers[u], f"tp:+{TAP_TOPIC}") for u in ids for _ in "ab"
                ]
            with suppress(TimeoutError):
                await wait_for(tg, lambda: all(tg.callback_answer(q) for q in queries), 1, timeout)
        # stopped: every picker redraw has finished
        # Both taps follow the topic: every picker ends showing it followed (✅).
        wrong = sum(
            not next(
                b["text"]
                for b in tg.messages(u)[0].buttons
                if b["callback_data"].endswith(TAP_TOPIC)
            ).startswith("✅ ")
            for u in ids
        )
        latencies = tg.answer_latencies()
        return TapResult(
            users=users,
            latencies=latencies,
            late=len(queries) - len(latencies),
            edits=len(tg.calls("editMessageReplyMarkup")) - edits_before,
            wrong_pickers=wrong,
            connections=tg.connections_opened,
        )


def report_taps(r: TapResult) -> list[str]:
    problems = []
    if r.late or r.wrong_pickers:
        problems.append(f"taps: {r.late} answers late or missing, {r.wrong_pickers} pickers wrong")
    lat = r.latencies
    rows = [
        ("users (2 taps each on one button, queued at once)", r.users),
        ("taps answered within Telegram's 15 s", f"{len(lat)}/{2 * r.users}"),
        (
            "answer latency p50 / p99 / max",
            " / ".join(
                f"{v:.2f} s"
                for v in (percentile(lat, 50), percentile(lat, 99), max(lat, default=float("nan")))
            ),
        ),
        ("picker edits (one per tap before coalescing)", r.edits),
        ("pickers not showing the final state", r.wrong_pickers),
        ("connections the bot opened to the fake (whole run)", r.connections),
    ]
    print(md_table(("measure", "value"), rows))
    print()
    return problems


# --------------------------------------------------------------------------- report


def report_storm(r: StormResult) -> list[str]:
    problems = []
    if r.applied != r.users:
        problems.append(f"storm: only {r.applied}/{r.users} users fully applied")
    if r.sorry or r.rejected_429 or r.wrong:
        problems.append(f"storm: {r.sorry} sorry, {r.rejected_429} 429s, {len(r.wrong)} wrong")
    rows = [
        ("users (3 commands each, queued at once)", r.users),
        ("users fully applied in the database", f"{r.applied}/{r.users}"),
        ("time until the database held all of it", f"{r.applied_s:.2f} s"),
        ("commands applied per second", f"{r.commands / r.applied_s:.0f}"),
        ("replies received by the fake", f"{r.replies}/{r.commands}"),
        ("time until every reply arrived", f"{r.replies_s:.2f} s"),
        ("replies per second (Telegram allows ~30/s)", f"{r.replies / r.replies_s:.1f}"),
        ('"Sorry, something went wrong" replies', r.sorry),
        ("429 Too Many Requests", r.rejected_429),
    ]
    print(md_table(("measure", "value"), rows))
    for line in r.wrong[:5]:
        print(f"WRONG REPLIES {line}")
    print()
    return problems


def report_flood(results: Sequence[FloodResult]) -> list[str]:
    problems = []
    head = (
        "flooder commands",
        "bystanders answered",
        "bystander p50",
        "p99",
        "max",
        "flooder replies (slow-downs)",
        "flooder's last reply",
        "Sorry",
        "429s",
    )
    rows = []
    for r in results:
        lat = r.latencies
        rows.append(
            (
                r.flood,
                f"{r.answered}/{r.bystanders}",
                f"{percentile(lat, 50):.2f} s",
                f"{percentile(lat, 99):.2f} s",
                f"{max(lat, default=float('nan')):.2f} s",
                f"{r.flooder_replies} ({r.flooder_slowdowns})",
                f"{r.flooder_span_s:.1f} s",
                r.sorry,
                r.rejected_429,
            )
        )
        if r.answered != r.bystanders or r.sorry or r.rejected_429 or r.flooder_slowdowns != 1:
            problems.append(f"flood {r.flood}: see the table")
    print(md_table(head, rows))
    print()
    return problems


async def run(args: argparse.Namespace) -> None:
    label = "PostgreSQL" if args.database_url else "SQLite"
    problems: list[str] = []
    storm_result = None
    if args.users > 0:
        print(f"### Storm of new users on {label}\n", flush=True)
        with database(args.database_url) as engine:
            storm_result = await storm(engine, args.users, args.timeout)
        problems += report_storm(storm_result)
    tap_result = None
    if args.taps > 0:
        print(f"### {args.taps} users double-tap the topic picker at once ({label})\n", flush=True)
        with database(args.database_url) as engine:
            tap_result = await taps(engine, args.taps, args.timeout)
        problems += report_taps(tap_result)
    floods = []
    for count in args.flood:
        with database(args.database_url) as engine:
            floods.append(await flood(engine, count, args.bystanders, args.settle))
    if floods:
        print(f"### One user floods, {args.bystanders} others send one command ({label})\n")
        problems += report_flood(floods)
    parts = [label]
    if storm_result is not None:
        s = storm_result
        parts.append(
            f"storm {s.applied}/{s.users} users applied in {s.applied_s:.2f} s"
            f" ({s.commands / s.applied_s:.0f} commands/s), {s.replies} replies in"
            f" {s.replies_s:.1f} s ({s.replies / s.replies_s:.1f}/s), {s.sorry} sorry,"
            f" {s.rejected_429} 429s"
        )
    if tap_result is not None:
        t = tap_result
        slowest = max(t.latencies, default=float("nan"))
        parts.append(
            f"taps {len(t.latencies)}/{2 * t.users} answered in time, p50"
            f" {percentile(t.latencies, 50):.2f} s max {slowest:.2f} s, {t.edits} edits"
        )
    for f in floods:
        parts.append(
            f"flood {f.flood}: bystanders p50 {percentile(f.latencies, 50):.2f} s"
            f" p99 {percentile(f.latencies, 99):.2f} s, flooder got {f.flooder_replies}"
        )
    verdict = "OK" if not problems else "PROBLEMS: " + "; ".join(problems)
    load = os.getloadavg()
    parts.append(f"load average at the end {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}")
    print("bench_storm: " + "; ".join(parts) + f" -- {verdict}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--users", type=int, default=300, help="new users in the storm (0: skip)")
    parser.add_argument(
        "--flood",
        type=lambda s: [int(x) for x in s.split(",") if x],
        default=[50, 200],
        help="commands the flooder sends, comma-separated (empty: skip)",
    )
    parser.add_argument(
        "--taps", type=int, default=300, help="users who double-tap the picker (0: skip)"
    )
    parser.add_argument("--bystanders", type=int, default=20)
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL; default SQLite")
    parser.add_argument("--timeout", type=float, default=120.0, help="storm deadline, seconds")
    parser.add_argument(
        "--settle", type=float, default=2.0, help="seconds to wait for extra flooder replies"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    print_machine()
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
