"""A minimal Bot API stub (asyncio, child process): the ceiling of the sending side.

It answers getMe and sendMessage with well-formed replies and checks nothing else, so a
sender measured against it shows our own cost, not the strict fake's. HTTP/1.1 with
keep-alive, Content-Length bodies only (what httpx sends).
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
    def __init__(self) -> None:
        self.sent: Counter[int] = Counter()
        self.requests = 0
        self.next_id = 0

    def answer(self, path: str, body: bytes) -> bytes:
        self.requests += 1
        method = path.rsplit("/", 1)[-1].lower()
        if method == "getme":
            result: object = BOT
        elif method == "sendmessage":
            params = dict(parse_qsl(body.decode()))
            chat_id = int(params["chat_id"])
            self.sent[chat_id] += 1
            self.next_id += 1
            result = {
                "message_id": self.next_id,
                "from": BOT,
                "chat": {"id": chat_id, "type": "private", "first_name": "User"},
                "date": int(time.time()),
                "text": params.get("text", "")[:64],
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
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (len(payload), payload)
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def _child(conn: Connection) -> None:
    async def main() -> None:
        stub = _Stub()
        server = await asyncio.start_server(stub.serve, "127.0.0.1", 0, backlog=1024)
        port = server.sockets[0].getsockname()[1]
        conn.send(f"http://127.0.0.1:{port}/bot")
        loop = asyncio.get_running_loop()
        while True:
            command = await loop.run_in_executor(None, conn.recv)
            conn.send((stub.requests, sum(stub.sent.values()), len(stub.sent)))
            if command == "stop":
                server.close()
                return

    asyncio.run(main())


class StubProcess:
    """`with StubProcess() as stub:` then stub.base_url and stub.token."""

    token = TOKEN

    def __init__(self) -> None:
        context = mp.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_child, args=(child,), daemon=True)
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

    def __exit__(self, *exc: object) -> None:
        self._conn.send("stop")
        self._conn.recv()
        self._process.join(timeout=10)
