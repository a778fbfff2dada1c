"""Resident memory of the real bot process under hostile feeds and hostile webhook traffic.

    python -m bench.bench_hostile_process [--feeds 20] [--wait 25] [--posts 6]

`feeds`: starts `python -m bot run` (fake Bot API, feeds on 127.0.0.1) with that many
hostile feeds in turn: an endless chunked body, a 1 GiB gzip bomb, a stacked
(gzip, gzip) bomb, 100,000 items cut at 9.5 MB, a 9 MB title. Polls /proc every
0.05 s from the first start until `--wait` seconds after every feed was fetched, and
prints the bot's own peak RSS and that of the bot and its worker processes together,
with each feed's recorded outcome.

`webhook`: starts the bot in webhook mode and sends `--posts` POSTs of 95 MB each at
once, none with the secret token; prints the bot's RSS before and at its peak, and
the first bytes of each answer.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import socket
import sqlite3
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

if __package__ in (None, ""):
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.fake_telegram import FakeTelegram
from tests.support.feedserver import FeedServer, Reply
from tests.support.process import (
    TOPICS_TOML,
    feed_toml,
    free_port,
    start_bot,
    stop_bot,
    write_config,
)

RSS = {"Content-Type": "application/rss+xml"}


def _vmrss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _children(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if f"\nPPid:\t{parent}\n" in (entry / "status").read_text():
                found.append(int(entry.name))
        except (OSError, ValueError):
            continue
    return found


class Peak:
    """Peak RSS (MiB) of a process, alone and with its children, polled from a thread."""

    def __init__(self, pid: int) -> None:
        self.pid, self.own, self.total = pid, 0.0, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while True:
            try:
                own = _vmrss_mib(self.pid)
                kids = sum(_vmrss_mib(k) for k in _children(self.pid))
            except OSError:
                return
            self.own, self.total = max(self.own, own), max(self.total, own + kids)
            if self._stop.wait(0.05):
                return

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def _item(i: int, title: str = "") -> str:
    return f"<item><title>{title or f'Story {i}'}</title><link>https://a.test/{i}</link></item>"


def _rss(items: str) -> bytes:
    channel = f"<channel><title>T</title>{items}</channel>"
    return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'.encode()


def _endless() -> Iterator[bytes]:
    yield b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
    yield from itertools.repeat(_item(1).encode() * 1000)


def hostile_feeds(count: int, wait: float) -> None:
    bomb = gzip.compress(b" " * (1 << 30), 9)
    stacked = gzip.compress(gzip.compress(b" " * (1 << 30), 9), 9)
    many = _rss("".join(_item(i) for i in range(100_000)))[:9_500_000] + b"</channel></rss>"
    kinds = {
        "endless": lambda request: Reply(200, RSS, _endless()),
        "bomb": Reply(200, {**RSS, "Content-Encoding": "gzip"}, bomb),
        "stacked": Reply(200, {**RSS, "Content-Encoding": "gzip, gzip"}, stacked),
        "items": Reply(200, RSS, many),
        "title": Reply(200, RSS, _rss(_item(1, "T" * 9_000_000))),
    }
    names = [f"{kind}{k}" for k, kind in zip(range(count), itertools.cycle(kinds), strict=False)]
    with tempfile.TemporaryDirectory() as tmp, FakeTelegram() as tg, FeedServer() as server:
        for name in names:
            server.route(f"/{name}", kinds[name.rstrip("0123456789")])
        feeds = "".join(feed_toml(server, f"/{n}", n, ("world",)) for n in names)
        fetch = "[fetch]\nallow_private_networks = true\ninterval_seconds = 60\n"
        config = write_config(Path(tmp), fetch + TOPICS_TOML + feeds, database="bot.sqlite3")
        proc = start_bot(config, tg, Path(tmp) / "bot.log")
        peak = Peak(proc.pid)
        try:
            tg.wait_for(lambda: all(server.hits[f"/{n}"] for n in names), timeout=120)
            time.sleep(wait)
            after = _vmrss_mib(proc.pid)
        finally:
            peak.stop()
            stop_bot(proc)
        print(f"hostile feeds: {count}; peak bot {peak.own:.0f} MiB, bot + workers")
        print(f"  {peak.total:.0f} MiB; bot {after:.0f} MiB {wait:g} s after the last fetch")
        with sqlite3.connect(Path(tmp) / "bot.sqlite3") as db:
            rows = db.execute(
                "SELECT name, last_error, (SELECT count(*) FROM entry WHERE feed_id = feed.id)"
                " FROM feed ORDER BY id"
            )
            for name, error, entries in rows:
                print(f"  {name}: {error or f'{entries} entries'}")


def _post(port: int, size: int, answers: dict[int, str], index: int) -> None:
    head = (
        "POST /tg-hook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {size}\r\n\r\n"
    )
    chunk, sent = b" " * (1 << 20), 0
    with socket.create_connection(("127.0.0.1", port)) as sock:
        try:
            sock.sendall(head.encode())
            while sent < size:
                sock.sendall(chunk[: size - sent])
                sent += min(len(chunk), size - sent)
            sock.settimeout(30)
            answers[index] = sock.recv(100).split(b"\r\n")[0].decode()
        except OSError as exc:
            answers[index] = f"{type(exc).__name__} after {sent >> 20} MiB sent"


def webhook(posts: int) -> None:
    port = free_port()
    env = {
        "TELEGRAM_WEBHOOK_URL": "https://bot.example.org/tg-hook",
        "TELEGRAM_WEBHOOK_SECRET": "s3cret-token",
    }
    with tempfile.TemporaryDirectory() as tmp, FakeTelegram() as tg:
        listen = f'[telegram]\nwebhook_listen = "127.0.0.1"\nwebhook_port = {port}\n'
        config = write_config(Path(tmp), listen)
        proc = start_bot(config, tg, Path(tmp) / "bot.log", **env)
        try:
            tg.wait_for(lambda: tg.webhook_url is not None, timeout=60)
            time.sleep(8)  # the model and workers load after the webhook is set
            before = _vmrss_mib(proc.pid)
            peak = Peak(proc.pid)
            answers: dict[int, str] = {}
            senders = [
                threading.Thread(target=_post, args=(port, 95 << 20, answers, i))
                for i in range(posts)
            ]
            for sender in senders:
                sender.start()
            for sender in senders:
                sender.join()
            peak.stop()
        finally:
            stop_bot(proc)
        print(f"webhook: {posts} POSTs of 95 MiB without the secret; bot {before:.0f} MiB")
        print(f"  before, peak {peak.own:.0f} MiB; answers: {sorted(set(answers.values()))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=20)
    parser.add_argument("--wait", type=float, default=40.0)
    parser.add_argument("--posts", type=int, default=6)
    parser.add_argument("--only", choices=("feeds", "webhook"))
    args = parser.parse_args()
    if args.only != "webhook":
        hostile_feeds(args.feeds, args.wait)
    if args.only != "feeds":
        webhook(args.posts)


if __name__ == "__main__":
    main()
