"""A minimal Bot API stub (asyncio, child process): the ceiling of the sending side.

It answers getMe and sendMessage with well-formed replies and checks nothing else, so a
sender measured against it shows our own cost, not the strict fake's. HTTP/1.1 with
keep-alive, Content-Length bodies only (what httpx sends).

`StubProcess(flood_limits=True)` applies the fake Bot API's own flood-limit rules
(`tests.support.fake_telegram.server._FloodControl`: 30/s overall, 1,000/s with
`allow_paid_broadcast`, ~1/s per private chat) and answers 429 with retry_after as
Telegram does; it stamps every sendMessage arrival. The full fake cannot take
1,000/s on this machine (its HTML parser costs milliseconds per message).
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing as mp
import socket
import time
from collections import Counter
from multiprocessing.connection import Connection
from urllib.parse import parse_qsl

TOKEN = "123456789:AAStubTokenForBenchmarksOnly_abcdefghijk"
BOT = {"id": 123456789, "is_bot": True, "first_name": "Stub", "username": "stub_bot"}


class _Stub:
    def __init__(self, flood_limits: bool = False) -> None:
        self.sent: Counter[int] = Counter()
        self.requests = 0
        self.next_id = 0
        self.rejected = 0
        self.arrivals: list[float] = []
        self.flood = None
        if flood_limits:
            from tests.support.fake_telegram.server import _FloodControl

            self.flood = _FloodControl()

    def answer(self, path: str, body: bytes) -> bytes:
        self.requests += 1
        method = path.rsplit("/", 1)[-1].lower()
        if method == "getme":
            result: object = BOT
        elif method == "sendmessage":
            params = json.loads(body) if body[:1] == b"{" else dict(parse_qsl(body.decode()))
            chat_id = int(params["chat_id"])
            if self.flood is not None:
                now = time.perf_counter()
                paid = params.get("allow_paid_broadcast") in (True, "true")
                retry = self.flood.admit(chat_id, paid=paid, now=now)
                if retry is not None:
                    self.rejected += 1
                    return json.dumps(
                        {
                            "ok": False,
                            "error_code": 429,
                            "description": f"Too Many Requests: retry after {retry}",
                            "parameters": {"retry_after": retry},
                        }
                    ).encode()
                self.arrivals.append(now)
            self.sent[chat_id] += 1
            self.next_id += 1
            result = {
                "message_id": self.next_id,
                "from": BOT,
                "chat": {"id": chat_id, "type": "private", "first_name": "User"},
                "date": int(time.time()),
                "text": str(params.get("text", ""))[:64],
            }
        else:
            result = True
        return json.dumps({"ok": True, "result": result}).encode()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                length = 0
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value.strip())
                body = await reader.readexactly(length) if length else b""
                payload = self.answer(path, body)
                status = (
                    b"200 OK" if payload.startswith(b'{"ok": true') else b"429 Too Many Requests"
                )
                writer.write(
                    b"HTTP/1.1 %s\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (status, len(payload), payload)
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def _child(conn: Connection, flood_limits: bool) -> None:
    async def main() -> None:
        if flood_limits:
            from bench._common import ensure_repo_on_path

            ensure_repo_on_path()
        stub = _Stub(flood_limits)
        server = await asyncio.start_server(stub.serve, "127.0.0.1", 0, backlog=1024)
        port = server.sockets[0].getsockname()[1]
        conn.send(f"http://127.0.0.1:{port}/bot")
        loop = asyncio.get_running_loop()
        while True:
            command = await loop.run_in_executor(None, conn.recv)
            if command == "flood":
                conn.send((stub.rejected, list(stub.arrivals)))
                continue
            conn.send((stub.requests, sum(stub.sent.values()), len(stub.sent)))
            if command == "stop":
                server.close()
                return

    asyncio.run(main())


class StubProcess:
    """`with StubProcess() as stub:` then stub.base_url and stub.token."""

    token = TOKEN

    def __init__(self, *, flood_limits: bool = False) -> None:
        context = mp.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_child, args=(child, flood_limits), daemon=True)
        self.base_url = ""

    def __enter__(self) -> StubProcess:
        self._process.start()
        self.base_url = self._conn.recv()
        return self

    def counts(self) -> tuple[int, int, int]:
        """(requests, messages, distinct chats) so far."""
        self._conn.send("stats")
        counts: tuple[int, int, int] = self._conn.recv()
        return counts

    def flood(self) -> tuple[int, list[float]]:
        """(429 answers, sendMessage arrival stamps) with flood limits on."""
        self._conn.send("flood")
        report: tuple[int, list[float]] = self._conn.recv()
        return report

    def __exit__(self, *exc: object) -> None:
        self._conn.send("stop")
        self._conn.recv()
        self._process.join(timeout=10)
