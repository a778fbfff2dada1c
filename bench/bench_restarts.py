"""What stopping the sender mid-round costs subscribers: repeats, losses, time to finish.

Run from the repo root: ``python -m bench.bench_restarts [--database-url URL] [--messages N]``
(about a minute per database on 2 cores; PostgreSQL with ``--database-url``, an empty
database of its own).

`--messages` broadcast rows go to as many private chats of the fake Bot API (flood limits
off, `delivery.messages_per_second` 300). A real `python -m bot run --role worker` process
sends them and is stopped twice, at a quarter and at half of the sends, then started
again to finish: once with SIGTERM (a deploy, a supervisor restart) and once with SIGKILL
(the OOM killer, a power cut). Printed per way of stopping: messages Telegram accepted
more than once (repeats), chats that got nothing (lost), seconds to finish (those of the
last process), and the log's tracebacks.

With PostgreSQL a third run starts two workers together and SIGKILLs one at a quarter
of the sends while the other lives on ("SIGKILL, another alive"): the seconds are from
the kill until the last chat has its message. The living worker hands the dead one's
claimed rows back once it has seen its id's lock free for `presence.GRACE_SECONDS`
(before revision 0010 they waited for their leases).

A SIGKILL between Telegram's answer and the "sent" mark costs one repeat per message in
that window; that is the at-least-once window the Bot API leaves (it has no idempotency
key). The next process, finding no other worker alive (the lock file beside a SQLite
database; PostgreSQL's live-workers advisory lock), sends the rows the killed process had
claimed at once instead of after their lease (`delivery.lease_seconds`, 60 s).
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path

if __package__ in (None, ""):
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bench._common import md_table, print_machine
from bot.storage.db import open_database
from tests.support.fake_telegram import FakeTelegram
from tests.support.outboxkit import enqueue_messages, statuses
from tests.support.process import start_bot, stop_bot, write_config

RATE = 300


def _fresh(url: str | None, tmp: Path) -> tuple[str, sa.Engine]:
    """The database URL for the config (a file name in `tmp` for SQLite) and an engine."""
    if url is None:
        return "restarts.sqlite3", open_database(f"sqlite:///{tmp / 'restarts.sqlite3'}")
    engine = open_database(url)
    with engine.begin() as conn:  # an empty outbox: one run after another
        conn.execute(sa.text("DELETE FROM outbox"))
    return url, engine


def run(how: signal.Signals, *, url: str | None, messages: int) -> list[object]:
    tmp = Path(tempfile.mkdtemp(prefix="bench_restarts_"))
    config_url, engine = _fresh(url, tmp)
    config = write_config(tmp, f"[delivery]\nmessages_per_second = {RATE}\n", database=config_url)
    chats = list(range(1_000, 1_000 + messages))
    enqueue_messages(engine, chats, kind="broadcast", key="b", text="News for {chat}")
    log = tmp / "worker.log"
    with FakeTelegram(flood_limits=False) as tg:
        for chat in chats:
            tg.add_private_chat(chat)
        for share in (4, 2):
            proc = start_bot(config, tg, log, "--role", "worker")
            at = messages // share
            tg.wait_for(lambda n=at: tg.stats.by_method["sendMessage"] >= n, timeout=300)
            if how is signal.SIGKILL:
                proc.kill()
                proc.wait()
            else:
                stop_bot(proc, timeout=60)
        proc = start_bot(config, tg, log, "--role", "worker")
        finish, counts = _finish(tg, chats, proc)
    return _row(how.name, engine, finish, counts, [log])


def _finish(
    tg: FakeTelegram, chats: list[int], proc: subprocess.Popen[bytes]
) -> tuple[float, Counter[int]]:
    """Seconds until every chat has its message, then each chat's count (`proc` stopped)."""
    began = time.monotonic()
    tg.wait_for(lambda: all(tg.messages(c) for c in chats), timeout=600)
    finish = time.monotonic() - began
    time.sleep(2.0)  # a repeat still on its way arrives now
    stop_bot(proc)
    return finish, Counter({chat: len(tg.messages(chat)) for chat in chats})


def _row(
    label: str, engine: Engine, finish: float, counts: Counter[int], logs: list[Path]
) -> list[object]:
    """The table row: messages, repeats, lost, seconds, tracebacks, rows left by status."""
    left = ", ".join(f"{status} {n}" for status, n in sorted(statuses(engine).items()))
    engine.dispose()
    repeats = sum(n - 1 for n in counts.values() if n > 1)
    lost = sum(1 for n in counts.values() if n == 0)
    tracebacks = sum(log.read_text().count("Traceback") for log in logs)
    return [label, len(counts), repeats, lost, f"{finish:.1f}", tracebacks, left]


def run_beside(*, url: str, messages: int) -> list[object]:
    """Two workers; one SIGKILLed at a quarter of the sends, the other finishes."""
    tmp = Path(tempfile.mkdtemp(prefix="bench_restarts_"))
    config_url, engine = _fresh(url, tmp)
    config = write_config(tmp, f"[delivery]\nmessages_per_second = {RATE}\n", database=config_url)
    chats = list(range(1_000, 1_000 + messages))
    enqueue_messages(engine, chats, kind="broadcast", key="b", text="News for {chat}")
    logs = [tmp / "killed.log", tmp / "living.log"]
    with FakeTelegram(flood_limits=False) as tg:
        for chat in chats:
            tg.add_private_chat(chat)
        killed, living = (start_bot(config, tg, log, "--role", "worker") for log in logs)
        at = messages // 4
        tg.wait_for(lambda: tg.stats.by_method["sendMessage"] >= at, timeout=300)
        killed.kill()
        killed.wait()
        finish, counts = _finish(tg, chats, living)
    return _row("SIGKILL, another alive", engine, finish, counts, logs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="PostgreSQL URL (default: a SQLite file)")
    parser.add_argument("--messages", type=int, default=3_000)
    args = parser.parse_args()
    print_machine()
    print(f"database: {'PostgreSQL' if args.database_url else 'SQLite'}")
    rows = [
        run(how, url=args.database_url, messages=args.messages)
        for how in (signal.SIGTERM, signal.SIGKILL)
    ]
    if args.database_url:
        rows.append(run_beside(url=args.database_url, messages=args.messages))
    head = ("stopped by", "messages", "repeats", "lost", "s to finish", "tracebacks")
    print(md_table((*head, "outbox after"), rows))


if __name__ == "__main__":
    main()
