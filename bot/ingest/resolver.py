"""Resolve host names on the fetcher's own threads, never in the event loop's default executor.

``getaddrinfo`` holds a thread for as long as the DNS server takes to answer: seconds for
a name that does not resolve behind a slow or unreachable server. The loop's default
executor (cores + 4 threads: 6 on 2 cores) is where ``asyncio.to_thread`` runs, and with
it every command's database work (``Services.db``); a refresh of many such feeds queued
the commands behind the lookups. Here lookups get a bounded pool of their own, created
with the fetcher and shut down with it.
"""

from __future__ import annotations

import asyncio
import socket
from concurrent.futures import ThreadPoolExecutor


def _lookup(host: str, port: int) -> list[str]:
    """The addresses of host (blocking); ``socket.gaierror`` when it does not resolve."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise socket.gaierror(socket.EAI_NONAME, "no addresses")
    return addresses


class ThreadedResolver:
    """A ``Resolver`` (see ``bot.ingest.netguard``) on up to ``threads`` threads of its own.

    Threads start as lookups need them. ``close`` drops the lookups not started and lets
    the ones under way end in their threads, which then exit; it never waits for a DNS
    server. A lookup asked for after ``close`` fails as a lookup (``OSError``).
    """

    def __init__(self, threads: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="dns")
        self._closed = False

    async def __call__(self, host: str, port: int) -> list[str]:
        if self._closed:
            raise OSError("resolver closed")
        return await asyncio.get_running_loop().run_in_executor(self._pool, _lookup, host, port)

    def close(self) -> None:
        """Stop the pool: queued lookups are cancelled, running ones finish on their own."""
        self._closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)
