"""The sender's Bot API client: replies read as PTB reads them, and transport failures
(a reply cut short, no reply, a refused connection, a timeout) raised as PTB's errors,
against a real socket server on 127.0.0.1. The sender's handling is in test_delivery."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TimedOut,
)

from bot.delivery.botapi import BotApi, env_proxy, message_body, raise_for_reply
from bot.delivery.pacing import concurrency_for, retry_seconds
from bot.delivery.ptb_aiohttp import AiohttpRequest
from tests.support.fake_telegram import FakeTelegram

Reply = Callable[[asyncio.StreamWriter, bytes], Awaitable[bool]]  # False: hang up


def test_a_body_is_the_json_telegram_reads() -> None:
    markup = '{"inline_keyboard": [[{"text": "📖 1", "callback_data": "ft:7"}]]}'
    fields = json.loads(message_body(-100, "<b>a & b</b>", markup, paid=True))
    assert fields == {
        "chat_id": -100,
        "text": "<b>a & b</b>",
        "parse_mode": "HTML",
        "link_preview_options": {"is_disabled": True},
        "reply_markup": json.loads(markup),
        "allow_paid_broadcast": True,
    }
    plain = json.loads(message_body(5, 'say "hi" 📖', None))
    assert plain["text"] == 'say "hi" 📖'
    assert "reply_markup" not in plain and "allow_paid_broadcast" not in plain


def test_replies_map_to_the_errors_the_sender_handles() -> None:
    assert raise_for_reply(200, b'{"ok": true, "result": {"message_id": 9}}') == {"message_id": 9}
    cases = [
        (429, b'{"ok":false,"description":"Too Many Requests","parameters":{"retry_after":3}}'),
        (400, b'{"ok":false,"parameters":{"migrate_to_chat_id":-1001}}'),
        (403, b'{"ok":false,"description":"Forbidden: bot was blocked by the user"}'),
        (400, b'{"ok":false,"description":"Bad Request: chat not found"}'),
        (502, b"<html>Bad Gateway</html>"),  # a proxy's page: transient, retried
        (500, b'{"ok":false,"description":"Internal Server Error"}'),
    ]
    raised = []
    for status, payload in cases:
        with pytest.raises(Exception) as info:
            raise_for_reply(status, payload)
        raised.append(info.value)
    assert [type(e) for e in raised] == [
        RetryAfter,
        ChatMigrated,
        Forbidden,
        BadRequest,
        NetworkError,
        NetworkError,
    ]
    assert retry_seconds(raised[0].retry_after) == 3.0
    assert raised[1].new_chat_id == -1001
    assert raised[3].message == "Chat not found"  # PTB drops the prefix, as the sender expects


def test_paid_broadcasts_get_enough_requests_in_flight() -> None:
    assert concurrency_for(30) == 16
    assert concurrency_for(1000) == 150
    assert concurrency_for(1e9) == 256


class _Server:
    """A bare HTTP/1.1 server: reads each request, lets `reply` answer it."""

    def __init__(self, reply: Reply) -> None:
        self.reply = reply
        self.connections = 0
        self.requests: list[tuple[str, bytes]] = []  # (head, body)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
                length = next(
                    int(line.split(":", 1)[1])
                    for line in head.split("\r\n")
                    if line.lower().startswith("content-length:")
                )
                body = await reader.readexactly(length)
                self.requests.append((head, body))
                if not await self.reply(writer, body):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@asynccontextmanager
async def _serving(reply: Reply) -> AsyncIterator[tuple[_Server, str]]:
    server = _Server(reply)
    listener = await asyncio.start_server(server.serve, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    try:
        yield server, f"http://127.0.0.1:{port}/botTOKEN"
    finally:
        listener.close()


async def _ok(writer: asyncio.StreamWriter, body: bytes) -> bool:
    chat_id = json.loads(body)["chat_id"]
    payload = json.dumps({"ok": True, "result": {"message_id": chat_id + 1}}).encode()
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
    writer.write(head % len(payload) + payload)
    await writer.drain()
    return True


async def _cut_short(writer: asyncio.StreamWriter, body: bytes) -> bool:
    """Promise 200 bytes of reply, send 9, close."""
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n"
    writer.write(head + b'{"ok": tr')
    await writer.drain()
    return False


async def _hang_up(writer: asyncio.StreamWriter, body: bytes) -> bool:
    return False  # the request read, the connection closed without a reply


async def _never(writer: asyncio.StreamWriter, body: bytes) -> bool:
    await asyncio.sleep(3600)
    return False


async def _send(base_url: str, *, timeout: float = 30.0) -> int:
    api = BotApi(base_url, connections=2, timeout=timeout)
    try:
        return await api.send_message(message_body(7, "hi", None))
    finally:
        await api.aclose()


async def test_a_body_goes_out_as_built_over_a_pool_of_the_given_size() -> None:
    async with _serving(_ok) as (server, base_url):
        api = BotApi(base_url, connections=3)
        try:
            bodies = [
                message_body(chat, "<b>x</b>", '{"inline_keyboard":[]}') for chat in range(40)
            ]
            ids = await asyncio.gather(*(api.send_message(body) for body in bodies))
        finally:
            await api.aclose()
    assert ids == [chat + 1 for chat in range(40)]
    assert sorted(body for _, body in server.requests) == sorted(bodies)
    head = server.requests[0][0].lower()
    assert head.startswith("post /bottoken/sendmessage http/1.1")
    assert "content-type: application/json" in head
    assert server.connections <= 3  # keep-alive: 40 requests over at most 3 connections


async def test_a_reply_cut_short_is_a_network_error_not_a_timeout() -> None:
    async with _serving(_cut_short) as (_, base_url):
        with pytest.raises(NetworkError) as info:
            await _send(base_url)
    assert type(info.value) is NetworkError  # TimedOut is a NetworkError too


async def test_a_connection_closed_without_a_reply_is_a_network_error() -> None:
    async with _serving(_hang_up) as (_, base_url):
        with pytest.raises(NetworkError) as info:
            await _send(base_url)
    assert type(info.value) is NetworkError


async def test_a_refused_connection_is_a_network_error() -> None:
    with socket.socket() as bound:  # bound, never listening: a connect is refused
        bound.bind(("127.0.0.1", 0))
        port = bound.getsockname()[1]
        with pytest.raises(NetworkError) as info:
            await _send(f"http://127.0.0.1:{port}/botTOKEN")
    assert type(info.value) is NetworkError


async def test_no_reply_within_the_timeout_is_timed_out() -> None:
    async with _serving(_never) as (_, base_url):
        with pytest.raises(TimedOut):
            await _send(base_url, timeout=0.3)


def test_the_proxy_comes_from_the_environment_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://user:pw@proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "localhost")
    assert env_proxy("https://api.telegram.org/botTOKEN") == "http://user:pw@proxy.example:3128"
    assert env_proxy("https://localhost:8081/botTOKEN") is None


# -- PTB's requests (replies, tap answers, edits) on aiohttp: bot/delivery/ptb_aiohttp.py


@asynccontextmanager
async def _ptb_bot(
    base_url: str, token: str = "123:TOKEN", **timeouts: float
) -> AsyncIterator[Bot]:
    request = AiohttpRequest(3, **timeouts)
    await request.initialize()
    try:
        yield Bot(token, base_url=base_url, request=request)
    finally:
        await request.shutdown()


async def test_ptb_calls_over_aiohttp_reach_the_bot_api_as_httpx_sent_them(
    tg: FakeTelegram,
) -> None:
    """Form fields, an inline keyboard, and a multipart upload, through the strict fake;
    20 calls at once (to 20 chats: within Telegram's limits) share the pool's 3 kept-alive
    connections."""
    many = range(100, 120)
    for chat_id in (7, *many):
        tg.add_private_chat(chat_id)
    async with _ptb_bot(tg.base_url, tg.token) as bot:
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("World", callback_data="tp:w")]])
        sent = await bot.send_message(
            7, "<b>Hi</b> &amp; more", parse_mode="HTML", reply_markup=keyboard
        )
        await bot.send_document(7, b"<opml/>", filename="feeds.opml", caption="Feeds")
        await asyncio.gather(*(bot.send_message(chat_id, "n") for chat_id in many))
        await bot.edit_message_reply_markup(7, sent.message_id, reply_markup=None)
    first, document = tg.messages(7)
    assert first.text == "Hi & more" and first.reply_markup is None  # the edit took it off
    assert document.kind == "document" and document.file is not None
    assert (document.file.filename, document.file.data, document.text) == (
        "feeds.opml",
        b"<opml/>",
        "Feeds",
    )
    assert [tg.texts(chat_id) for chat_id in many] == [["n"]] * len(many)
    assert tg.connections_opened <= 3


async def test_ptb_over_aiohttp_maps_failures_to_ptbs_errors() -> None:
    async with _serving(_never) as (_, base_url), _ptb_bot(base_url, read_timeout=0.3) as bot:
        with pytest.raises(TimedOut):
            await bot.send_message(7, "hi")
    async with _serving(_hang_up) as (_, base_url), _ptb_bot(base_url) as bot:
        with pytest.raises(NetworkError) as info:
            await bot.send_message(7, "hi")
        assert type(info.value) is NetworkError
    with pytest.raises(RuntimeError, match="not initialized"):
        await AiohttpRequest(1).do_request("http://127.0.0.1:9/x", "POST")
