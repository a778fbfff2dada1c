"""Run the fake Bot API in a child process, so its CPU does not share our GIL.

The child registers the chats, stamps every sendMessage arrival (time.perf_counter is
CLOCK_MONOTONIC on Linux, comparable across processes) and answers a few commands over
a pipe: ``stats`` and ``stop``.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any


@dataclass(frozen=True)
class FakeReport:
    requests: int
    rejected_429: int
    errors: int
    server_errors: int
    messages: int
    send_times: list[float]


def _child(conn: Connection, flood_limits: bool, chats: range, nodelay: bool) -> None:
    from bench._common import ensure_repo_on_path, fix_loopback_fakes

    ensure_repo_on_path()
    from tests.support.fake_telegram import FakeTelegram

    fix_loopback_fakes(nodelay)
    sends: list[float] = []
    fake = FakeTelegram(flood_limits=flood_limits)
    for chat_id in chats:
        fake.add_private_chat(chat_id)

    def stamp(method: str, params: dict[str, Any]) -> None:
        if method == "sendMessage":
            sends.append(time.perf_counter())  # runs under the fake's lock

    fake.set_fault_hook(stamp)
    fake.start()
    conn.send((fake.base_url, fake.token))
    while True:
        command = conn.recv()
        if command in ("stats", "stop"):
            stats = fake.stats
            delivered = sum(len(fake.messages(c)) for c in chats)
            conn.send(
                FakeReport(
                    stats.requests,
                    stats.rejected_429,
                    stats.errors,
                    len(fake.server_errors),
                    delivered,
                    list(sends),
                )
            )
            if command == "stop":
                fake.stop()
                return


class FakeProcess:
    """`with FakeProcess(chats=range(...)) as fp:` then use fp.base_url and fp.token."""

    def __init__(self, *, chats: range, flood_limits: bool = False, nodelay: bool = True) -> None:
        context = mp.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=_child, args=(child, flood_limits, chats, nodelay), daemon=True
        )
        self.base_url = ""
        self.token = ""

    def __enter__(self) -> FakeProcess:
        self._process.start()
        self.base_url, self.token = self._conn.recv()
        return self

    def report(self) -> FakeReport:
        self._conn.send("stats")
        report: FakeReport = self._conn.recv()
        return report

    def __exit__(self, *exc: object) -> None:
        self._conn.send("stop")
        self._conn.recv()
        self._process.join(timeout=10)
