"""The outbox sender against a bare httpx loop, and a paid-broadcast round at 1,000/s.

Run from the repo root: ``python -m bench.bench_sender`` (both parts, about a minute),
``--part stub`` or ``--part paid`` for one.

stub: N pending outbox rows (a real 10-headline briefing with its 10-button keyboard,
to N chats) in a fresh SQLite file; `Sender.deliver_due` with limits off
(`Pacer(per_second=1e9)`) against the minimal Bot API stub in a child process
(`bench/_stubapi.py`), and, in the same run, alternating with it, a bare httpx loop
sending the same `sendMessage` requests (bodies built before the clock starts;
`concurrency` tasks over one client with a pool of that size, reading each reply).
Prints the median ratio of the pairs:
``sender: 5000 msgs, 1210/s vs bare httpx 1420/s = 0.85x (median of 3 pairs)``.

paid: 20,000 rows to 20,000 chats, `Sender(allow_paid_broadcast=True)` paced at
1,000/s, against the fake Bot API's flood-limit rules (1,000/s overall for paid
broadcasts, 30/s without) in a child process that stamps every sendMessage arrival:
by default run inside the minimal stub (`StubProcess(flood_limits=True)`), since the
full fake parses each message's HTML in milliseconds and tops out near 200/s here;
``--paid-target fake`` uses the full fake. Prints
``paid: 20000 msgs in 21.0 s, 952/s, max 1000 in any 1 s, 0 x 429 (stub)``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import httpx
from sqlalchemy.engine import Engine
from telegram import Bot

from bench._common import print_machine
from bench._fakeproc import FakeProcess
from bench._stubapi import StubProcess
from bench.bench_delivery import briefing_message, deliver_all, fresh_outbox, max_in_window
from bot.delivery.botapi import message_body
from bot.delivery.pacing import Pacer
from bot.delivery.sender import DeliveryStats, Sender

FIRST_CHAT = 3_000_000


CPU: dict[str, float] = {}  # process CPU seconds (all threads) of the last timed run


async def drain(engine: Engine, sender: Sender) -> tuple[float, DeliveryStats]:
    cpu = time.process_time()
    elapsed, total = await deliver_all(engine, sender)
    CPU["last"] = time.process_time() - cpu
    await sender.aclose()
    return elapsed, total


def run_sender(
    folder: Path, base_url: str, token: str, chats: range, *, per_second: float, paid: bool
) -> tuple[float, DeliveryStats]:
    text, markup = briefing_message()
    engine = fresh_outbox(folder, chats, text, markup)
    bot = Bot(token, base_url=base_url)
    sender = Sender(
        engine=engine, bot=bot, pacer=Pacer(per_second=per_second), allow_paid_broadcast=paid
    )
    try:
        return asyncio.run(drain(engine, sender))
    finally:
        engine.dispose()


async def bare_loop(url: str, bodies: Sequence[bytes], concurrency: int) -> float:
    """Seconds for a bare httpx client to post every body, `concurrency` at a time."""
    headers = {"Content-Type": "application/json"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    queue = iter(bodies)
    async with httpx.AsyncClient(limits=limits) as client:

        async def worker() -> None:
            for body in queue:
                response = await client.post(url, content=body, headers=headers)
                response.json()

        cpu = time.process_time()
        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
        CPU["last"] = time.process_time() - cpu
        return elapsed


def part_stub(messages: int, pairs: int) -> None:
    chats = range(FIRST_CHAT, FIRST_CHAT + messages)
    text, markup = briefing_message()
    bodies = [message_body(c, text, markup) for c in chats]
    concurrency = Sender.concurrency
    ratios, sender_rates, bare_rates, cpu_ratios = [], [], [], []
    with StubProcess() as stub:
        url = f"{stub.base_url}{stub.token}/sendMessage"
        for i in range(pairs):
            with tempfile.TemporaryDirectory(prefix="bench_sender_") as folder:
                elapsed, stats = run_sender(
                    Path(folder), stub.base_url, stub.token, chats, per_second=1e9, paid=False
                )
            assert stats.sent == messages, stats
            sender_cpu = CPU["last"]
            bare = asyncio.run(bare_loop(url, bodies, concurrency))
            bare_cpu = CPU["last"]
            cpu_ratios.append(bare_cpu / sender_cpu)
            sender_rates.append(messages / elapsed)
            bare_rates.append(messages / bare)
            ratios.append(bare / elapsed)
            print(
                f"pair {i + 1}: sender {messages / elapsed:.0f}/s, bare httpx "
                f"{messages / bare:.0f}/s, ratio {bare / elapsed:.2f}; CPU ms/msg sender "
                f"{sender_cpu / messages * 1e3:.2f}, bare {bare_cpu / messages * 1e3:.2f}",
                flush=True,
            )
        requests, sent, distinct = stub.counts()
    print(f"stub saw {requests} requests, {sent} messages to {distinct} chats")
    print(
        f"sender: {messages} msgs, {statistics.median(sender_rates):.0f}/s vs bare httpx "
        f"{statistics.median(bare_rates):.0f}/s = {statistics.median(ratios):.2f}x "
        f"(median of {pairs} pairs, concurrency {concurrency}); by CPU per message "
        f"{statistics.median(cpu_ratios):.2f}x"
    )


def part_paid(messages: int, target: str) -> None:
    chats = range(FIRST_CHAT, FIRST_CHAT + messages)
    server: StubProcess | FakeProcess = (
        StubProcess(flood_limits=True)
        if target == "stub"
        else FakeProcess(chats=chats, flood_limits=True)
    )
    with tempfile.TemporaryDirectory(prefix="bench_sender_") as folder, server:
        elapsed, stats = run_sender(
            Path(folder), server.base_url, server.token, chats, per_second=1000.0, paid=True
        )
        if isinstance(server, StubProcess):
            rejected, times = server.flood()
            delivered = server.counts()[1]
        else:
            report = server.report()
            rejected, times, delivered = report.rejected_429, report.send_times, report.messages
    times = sorted(times)
    seen = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
    print(
        f"sender stats: sent {stats.sent}, retried {stats.retried}, failed {stats.failed}; "
        f"server ({target}, flood limits on): {delivered} delivered, "
        f"rate as the server saw it {seen:.0f}/s"
    )
    print(
        f"paid: {delivered} msgs in {elapsed:.1f} s, {messages / elapsed:.0f}/s, "
        f"max {max_in_window(times, 1.0)} in any 1 s, {rejected} x 429 ({target})"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", action="append", choices=("stub", "paid"))
    parser.add_argument("--messages", type=int, default=5000, help="stub: rows per run")
    parser.add_argument("--pairs", type=int, default=3, help="stub: sender/bare pairs")
    parser.add_argument("--paid-messages", type=int, default=20_000)
    parser.add_argument(
        "--paid-target",
        choices=("stub", "fake"),
        default="stub",
        help="paid: the stub with the fake's flood rules (default), or the full fake",
    )
    args = parser.parse_args(argv)
    print_machine()
    parts = args.part or ["stub", "paid"]
    if "stub" in parts:
        part_stub(args.messages, args.pairs)
    if "paid" in parts:
        part_paid(args.paid_messages, args.paid_target)


if __name__ == "__main__":
    main()
