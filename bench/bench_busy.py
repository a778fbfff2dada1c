"""Commands while the bot is busy: reply latency during a full refresh, through the real bot.

One process runs the whole bot as `python -m bot run` does by default (role ``all``:
polling, handlers, the refresh/compose/deliver ticks) against tests/support/fake_telegram
with Telegram's flood limits on, and ``--feeds`` feeds × ``--items`` items served from a
child process. Users send commands at a steady pace (each user one every ``--period``
seconds, in turn ``/subscribe tech``, ``/latest``, ``/unsubscribe tech``, ``/topics``):

1. quiet: the same bot with no feeds, for ``--quiet`` seconds;
2. busy: from the first refresh tick until every entry is stored (the first refresh of
   a new instance: the store writes for about a minute at 1,000 feeds).

With ``--failing N`` the round also has N feeds that fail (``--fail-kind``): host names
that do not resolve (``*.invalid``; ``--dns-delay S``: each lookup of such a name waits S
seconds before it fails, as behind a DNS server that does not answer), connections refused
on 127.0.0.1, HTTP 500, or a server that accepts no connection (the fetch times out). The
busy phase then lasts until each of them has failed once as well. ``--guard`` turns the SSRF
guard on (``fetch.allow_private_networks = false``: host names are resolved by the fetcher's
resolver, not httpcore's); the working feeds on 127.0.0.1 are then refused, so use it with
``--feeds 0``.

Reply latency is from the command's arrival at the fake until the fake received the
reply (a user's replies come in the order of their commands). Also reported: how long
the refresh took in the busy bot, and whether every command was answered and applied.

Run: python -m bench.bench_busy [--feeds 1000] [--items 50] [--users 50] [--period 5]
     [--failing N --fail-kind unresolvable|refused|http500|hang] [--dns-delay S] [--guard]
Prints the machine, a markdown table and one summary line.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import socket
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import count

from bench._common import ensure_repo_on_path, md_table, percentile, print_machine

ensure_repo_on_path()

from sqlalchemy.engine import Engine  # noqa: E402
from sqlmodel import Session, func, select  # noqa: E402

from bench._corpus import build_corpus, rss  # noqa: E402
from bench._feed_process import FeedProcess  # noqa: E402
from bench.bench_storm import SORRY, Receipts, database  # noqa: E402
from bot.services.context import sync_feeds  # noqa: E402
from bot.settings import DedupSettings, FeedConfig, FetchSettings  # noqa: E402
from bot.storage.models import Entry, Feed, Subscription  # noqa: E402
from tests.support.botharness import make_settings, running_bot  # noqa: E402
from tests.support.fake_telegram import FakeTelegram  # noqa: E402

FIRST_USER = 800_001
# Within the per-user limits (20 commands and 4 /latest a minute at the defaults) at the
# default pace, so every command is applied and answered, not refused as a flood.
COMMANDS = ("/subscribe tech", "/latest", "/unsubscribe tech", "/topics")
DB_POLL = 0.5
FAIL_KINDS = ("unresolvable", "refused", "http500", "hang")
UNRESOLVABLE = ".bench.invalid"


@dataclass
class Phase:
    name: str
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    sent: int = 0
    sorry: int = 0
    subscribed_wrong: int = 0  # users whose subscription is not what their last command set


def stored_entries(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(Entry)).one())


def failed_feeds(engine: Engine) -> int:
    with Session(engine) as session:
        query = select(func.count()).select_from(Feed).where(Feed.consecutive_failures > 0)
        return int(session.exec(query).one())


@contextmanager
def slow_dns(delay: float) -> Iterator[None]:
    """Lookups of the bench's unresolvable names wait `delay` s, then fail (a DNS server
    that does not answer); every other name goes to the real resolver."""
    real = socket.getaddrinfo

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name.rstrip(".").endswith(UNRESOLVABLE):
            time.sleep(delay)
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)  # type: ignore[arg-type]

    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]
    try:
        yield
    finally:
        socket.getaddrinfo = real


@contextmanager
def failing_urls(kind: str, count_: int, server: FeedProcess) -> Iterator[list[str]]:
    """`count_` feed addresses that fail the way `kind` says."""
    if kind == "unresolvable":
        yield [f"http://feed-{n}{UNRESOLVABLE}/feed.xml" for n in range(count_)]
    elif kind == "http500":
        yield server.error_urls
    elif kind == "refused":
        with socket.socket() as probe:  # a port nothing listens on
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        yield [f"http://127.0.0.1:{port}/feeds/{n}.xml" for n in range(count_)]
    else:  # hang: a listener that never accepts; requests wait until the fetch timeout
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen(4096)
            port = listener.getsockname()[1]
            yield [f"http://127.0.0.1:{port}/feeds/{n}.xml" for n in range(count_)]


def subscribed(engine: Engine, users: Sequence[int]) -> set[int]:
    with Session(engine) as session:
        rows = session.exec(
            select(Subscription.chat_id).where(
                Subscription.chat_id.in_(users),  # type: ignore[attr-defined]
                Subscription.topic == "tech",
            )
        ).all()
    return set(rows)


async def drive(
    tg: FakeTelegram,
    users: list[int],
    period: float,
    *,
    until: float | None,
    done: asyncio.Event | None = None,
) -> tuple[dict[int, list[float]], dict[int, int], float]:
    """Send commands at a steady pace until `until` (monotonic) or until `done` is set.

    Returns each user's push times, how many commands each sent, and the seconds spent.
    """
    pushed: dict[int, list[float]] = {user: [] for user in users}
    sent = dict.fromkeys(users, 0)
    started = time.monotonic()
    if not users:  # the refresh alone, for comparison
        if done is not None:
            await done.wait()
        return pushed, sent, time.monotonic() - started
    step = period / len(users)  # users take turns, so commands arrive evenly
    for tick in count():
        if until is not None and time.monotonic() >= until:
            break
        if done is not None and done.is_set():
            break
        user = users[tick % len(users)]
        pushed[user].append(time.monotonic())
        tg.send_text(user, COMMANDS[sent[user] % len(COMMANDS)])
        sent[user] += 1
        await asyncio.sleep(max(0.0, started + (tick + 1) * step - time.monotonic()))
    return pushed, sent, time.monotonic() - started


async def collect(
    tg: FakeTelegram,
    engine: Engine,
    receipts: Receipts,
    phase: Phase,
    pushed: dict[int, list[float]],
    sent: dict[int, int],
) -> None:
    """Wait for every reply, then read latencies and the users' final subscriptions."""
    deadline = time.monotonic() + 120
    users = list(pushed)
    while time.monotonic() < deadline:
        if all(len(receipts.times.get(u, ())) >= sent[u] for u in users):
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.0)  # anything extra (an apology, a duplicate) arrives too
    for user in users:
        got = receipts.times.get(user, [])
        phase.latencies += [reply - push for push, reply in zip(pushed[user], got, strict=False)]
        phase.sent += sent[user]
    phase.sorry = sum(any(t.startswith(SORRY) for t in tg.texts(u)) for u in users)
    now_subscribed = await asyncio.to_thread(subscribed, engine, users)
    # The last of a user's commands that changes anything decides its subscription.
    for user in users:
        said = [COMMANDS[i % len(COMMANDS)] for i in range(sent[user])]
        changes = [c for c in said if "subscribe" in c]
        want = bool(changes) and changes[-1] == "/subscribe tech"
        if (user in now_subscribed) != want:
            phase.subscribed_wrong += 1


async def quiet_phase(users: int, period: float, seconds: float) -> Phase:
    phase = Phase("quiet (no feeds)")
    ids = list(range(FIRST_USER, FIRST_USER + users))
    with database(None) as engine, FakeTelegram() as tg:
        receipts = Receipts()
        tg.set_fault_hook(receipts)
        for user in ids:
            tg.add_private_chat(user)
        async with running_bot(make_settings(tg), engine, role="all"):
            await asyncio.sleep(3.0)  # past the first ticks
            until = time.monotonic() + seconds
            pushed, sent, phase.seconds = await drive(tg, ids, period, until=until)
            await collect(tg, engine, receipts, phase, pushed, sent)
    return phase


async def busy_phase(args: argparse.Namespace) -> tuple[Phase, float, int]:
    feeds, items, method, failing = args.feeds, args.items, args.method, args.failing
    name = f"busy (first refresh of {feeds} feeds × {items}, {method}"
    if failing:
        name += f"; {failing} failing: {args.fail_kind}"
        name += f", DNS {args.dns_delay:g} s" if args.fail_kind == "unresolvable" else ""
    name += ", guard on)" if args.guard else ")"
    phase = Phase(name)
    ids = list(range(FIRST_USER, FIRST_USER + args.users))
    corpus = build_corpus(feeds=feeds, items=items, now=datetime.now(UTC))
    bodies = [rss(n, feed_items) for n, feed_items in enumerate(corpus.feeds)]
    total = feeds * items
    errors = failing if args.fail_kind == "http500" else 0
    with (
        FeedProcess(bodies, errors=errors) as server,
        failing_urls(args.fail_kind, failing, server) as bad,
        database(None) as engine,
        FakeTelegram() as tg,
    ):
        urls = [*server.urls, *bad]
        configs = tuple(FeedConfig(url, f"Outlet {n:04d}", ("tech",)) for n, url in enumerate(urls))
        receipts = Receipts()
        tg.set_fault_hook(receipts)
        for user in ids:
            tg.add_private_chat(user)
        done = asyncio.Event()
        fetch = FetchSettings(allow_private_networks=not args.guard, timeout_seconds=5.0)
        settings = make_settings(
            tg,
            feeds=configs,
            dedup=DedupSettings(method=method),  # type: ignore[arg-type]
            fetch=fetch,
        )
        sync_feeds(settings, engine)  # as `python -m bot run` does before it starts
        async with running_bot(settings, engine, role="all"):
            started = time.monotonic()
            # With the guard on, the working feeds (127.0.0.1) fail too.
            to_fail = failing + (feeds if args.guard else 0)

            async def watch() -> float:
                while (
                    await asyncio.to_thread(stored_entries, engine) < (0 if args.guard else total)
                    or await asyncio.to_thread(failed_feeds, engine) < to_fail
                ):
                    await asyncio.sleep(DB_POLL)
                done.set()
                return time.monotonic() - started

            watcher = asyncio.create_task(watch())
            await asyncio.sleep(1.0)  # the refresh tick fires 1 s after start
            pushed, sent, phase.seconds = await drive(tg, ids, args.period, until=None, done=done)
            refresh_s = await watcher
            stored = await asyncio.to_thread(stored_entries, engine)
            await collect(tg, engine, receipts, phase, pushed, sent)
    return phase, refresh_s, stored


def row(phase: Phase) -> tuple[object, ...]:
    lat = phase.latencies
    return (
        phase.name,
        f"{phase.seconds:.0f} s",
        f"{len(lat)}/{phase.sent}",
        f"{percentile(lat, 50) * 1000:.0f} ms",
        f"{percentile(lat, 90) * 1000:.0f} ms",
        f"{percentile(lat, 95) * 1000:.0f} ms",
        f"{percentile(lat, 99) * 1000:.0f} ms",
        f"{max(lat, default=float('nan')) * 1000:.0f} ms",
        phase.sorry,
        phase.subscribed_wrong,
    )


async def run(args: argparse.Namespace) -> None:
    quiet = await quiet_phase(args.users, args.period, args.quiet)
    with slow_dns(args.dns_delay):
        busy, refresh_s, stored = await busy_phase(args)
    head = (
        "phase",
        "commands for",
        "answered",
        "p50",
        "p90",
        "p95",
        "p99",
        "max",
        "Sorry",
        "subscription wrong",
    )
    print(md_table(head, [row(quiet), row(busy)]))
    print()
    problems = [
        f"{p.name}: {len(p.latencies)}/{p.sent} answered, {p.sorry} sorry,"
        f" {p.subscribed_wrong} wrong"
        for p in (quiet, busy)
        if len(p.latencies) != p.sent or p.sorry or p.subscribed_wrong
    ]
    load = os.getloadavg()
    verdict = "OK" if not problems else "PROBLEMS: " + "; ".join(problems)
    print(
        f"bench_busy: {args.users} users, a command each {args.period:g} s;"
        f" quiet p50 {percentile(quiet.latencies, 50) * 1000:.0f} ms"
        f" p99 {percentile(quiet.latencies, 99) * 1000:.0f} ms;"
        f" during the refresh p50 {percentile(busy.latencies, 50) * 1000:.0f} ms"
        f" p90 {percentile(busy.latencies, 90) * 1000:.0f} ms"
        f" p99 {percentile(busy.latencies, 99) * 1000:.0f} ms"
        f" max {max(busy.latencies, default=float('nan')) * 1000:.0f} ms;"
        f" refresh ({args.method}) {stored} entries"
        f" ({args.failing} failing feeds: {args.fail_kind}) in {refresh_s:.1f} s;"
        f" load average at the end {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} -- {verdict}"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument(
        "--period", type=float, default=5.0, help="seconds between a user's commands"
    )
    parser.add_argument(
        "--method",
        default="lexical",
        choices=("lexical", "semantic"),
        help="dedup method of the busy bot (default: lexical, the default install's)",
    )
    parser.add_argument(
        "--switch-interval", type=float, default=None, help="sys.setswitchinterval (seconds)"
    )
    parser.add_argument("--failing", type=int, default=0, help="feeds that fail, besides")
    parser.add_argument("--fail-kind", default="unresolvable", choices=FAIL_KINDS)
    parser.add_argument(
        "--dns-delay",
        type=float,
        default=0.0,
        help="seconds each lookup of an unresolvable name takes before it fails",
    )
    parser.add_argument(
        "--guard", action="store_true", help="SSRF guard on (the 127.0.0.1 feeds are refused)"
    )
    parser.add_argument("--quiet", type=float, default=20.0, help="seconds of the quiet phase")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if args.switch_interval is not None:
        sys.setswitchinterval(args.switch_interval)
    print_machine()
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
