"""Hostile traffic at the webhook port of the real process.

The secret token is checked only once a request's body has been read; tornado read
bodies of up to 100 MB for that, so a few unauthenticated POSTs could hold gigabytes.
A body over 1 MB is now refused before it is read, declared or chunked, and the bot
still answers Telegram's own updates.
"""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import httpx
import pytest

from tests.support.fake_telegram import FakeTelegram
from tests.support.process import free_port, start_bot, stop_bot, write_config

pytestmark = pytest.mark.slow

USER = 515_001
SECRET = "s3cret-token"
HANG = 20.0  # seconds; only detects a server still reading


def _head(length: str) -> bytes:
    return (
        "POST /tg-hook HTTP/1.1\r\nHost: bot.example.org\r\nContent-Type: application/json\r\n"
        f"{length}\r\n\r\n"
    ).encode()


def _answer(sock: socket.socket) -> bytes:
    """The first line of what the server answers (b"" if it closed without one)."""
    sock.settimeout(HANG)
    try:
        return sock.recv(4096).split(b"\r\n", 1)[0]
    except ConnectionResetError:
        return b""
    except TimeoutError:
        return b"(no answer: the server was still reading)"


def _declared_too_large(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(_head(f"Content-Length: {64 * 1024 * 1024}"))
        return _answer(sock)  # no byte of the body sent


def _chunked_too_large(port: int) -> bytes:
    chunk = b"%x\r\n%s\r\n" % (64 * 1024, b" " * 64 * 1024)
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(_head("Transfer-Encoding: chunked"))
        try:
            for _ in range(32):  # 2 MB
                sock.sendall(chunk)
            sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused while sending: what the answer then says
        return _answer(sock)


def _update(text: str) -> dict[str, object]:
    return {
        "update_id": 7,
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": USER, "type": "private", "first_name": "Test"},
            "from": {"id": USER, "is_bot": False, "first_name": "Test"},
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}],
        },
    }


def test_webhook_refuses_huge_bodies_before_reading_them(tmp_path: Path, tg: FakeTelegram) -> None:
    port = free_port()
    log = tmp_path / "bot.log"
    env = {
        "TELEGRAM_WEBHOOK_URL": "https://bot.example.org/tg-hook",
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "BOT_FULLTEXT__EXTRACT_WORKERS": "1",
    }
    config = write_config(
        tmp_path, f'[telegram]\nwebhook_listen = "127.0.0.1"\nwebhook_port = {port}\n'
    )
    proc = start_bot(config, tg, log, **env)
    try:
        tg.wait_for(lambda: tg.webhook_url is not None, timeout=30)
        for _ in range(150):  # the server may still be starting
            try:
                socket.create_connection(("127.0.0.1", port)).close()
                break
            except OSError:
                time.sleep(0.2)
        declared = _declared_too_large(port)
        chunked = _chunked_too_large(port)
        tg.add_private_chat(USER)
        body = json.dumps(_update("/help")).encode()
        accepted = httpx.post(
            f"http://127.0.0.1:{port}/tg-hook",
            content=body,
            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"},
            timeout=10,
        )
        [reply] = tg.wait_for(USER, 1, timeout=15)
    finally:
        stop_bot(proc)
    assert declared == b"HTTP/1.1 400 Bad Request", declared
    assert chunked in (b"HTTP/1.1 400 Bad Request", b""), chunked
    assert accepted.status_code == 200
    assert "/latest" in reply.text
    assert proc.returncode == 0, log.read_text()
