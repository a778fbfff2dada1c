"""A lean Bot API client for the outbox sender: one prebuilt request per row.

The sender sends thousands of `sendMessage` (and `sendPhoto`) calls a second with paid
broadcasts. Going through PTB's `Bot` costs per message: the stored keyboard
JSON parsed into objects and serialised again, the request rebuilt, the reply
turned into a `Message`. Here the JSON body is built once from the stored row
(the keyboard JSON goes out as stored), the reply is read for its
`message_id` only, and a keep-alive pool sized for the sender's concurrency
carries the requests: aiohttp's, which costs about a twentieth of httpx's CPU a
request here (BENCHMARKS.md, Issue 15 sender; handlers' replies stay on PTB's
httpx). Errors are raised as PTB's exceptions, mapped from the status code and
`parameters` exactly as PTB maps them, so the sender handles both paths alike.
"""

from __future__ import annotations

import asyncio
import json
import urllib.parse
import urllib.request
from http import HTTPStatus
from typing import Any

import aiohttp
import httpx
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

_JSON = {"Content-Type": "application/json"}
_NO_PREVIEW = {"is_disabled": True}


def _body(fields: dict[str, Any], reply_markup: str | None) -> bytes:
    """Fields as compact JSON, the stored keyboard JSON spliced in as it is, never parsed."""
    body = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    if reply_markup:
        body = f'{body[:-1]},"reply_markup":{reply_markup}}}'
    return body.encode()


def _common(
    fields: dict[str, Any], *, paid: bool, thread_id: int | None, quiet: bool
) -> dict[str, Any]:
    if thread_id is not None:
        fields["message_thread_id"] = thread_id  # a forum topic
    if quiet:
        fields["disable_notification"] = True
    if paid:
        fields["allow_paid_broadcast"] = True
    return fields


def message_body(
    chat_id: int,
    text: str,
    reply_markup: str | None,
    *,
    paid: bool = False,
    thread_id: int | None = None,
    preview: dict[str, Any] | None = None,
    quiet: bool = False,
) -> bytes:
    """The JSON body of one `sendMessage` in Telegram HTML.

    `preview` is the `link_preview_options` (None: previews off). JSON costs a
    sixth of form encoding for a 2 KB briefing (percent-encoding is per character).
    """
    fields: dict[str, Any] = {
        "chat_id": chat_id,
        "text": text,
        "parse_mode": "HTML",
        "link_preview_options": preview or _NO_PREVIEW,
    }
    return _body(_common(fields, paid=paid, thread_id=thread_id, quiet=quiet), reply_markup)


def photo_body(
    chat_id: int,
    photo: str,
    caption: str,
    reply_markup: str | None,
    *,
    paid: bool = False,
    thread_id: int | None = None,
    quiet: bool = False,
) -> bytes:
    """The JSON body of one `sendPhoto` by URL, `caption` in Telegram HTML ("": none)."""
    fields: dict[str, Any] = {"chat_id": chat_id, "photo": photo}
    if caption:
        fields.update(caption=caption, parse_mode="HTML")
    return _body(_common(fields, paid=paid, thread_id=thread_id, quiet=quiet), reply_markup)


def raise_for_reply(status: int, payload: bytes) -> dict[str, Any]:
    """The `result` of a successful reply; otherwise the PTB exception for it."""
    try:
        data = json.loads(payload)
    except ValueError as exc:
        raise NetworkError(f"Unparsable reply ({status}): {payload[:200]!r}") from exc
    if not isinstance(data, dict):
        raise NetworkError(f"Unexpected reply ({status}): {payload[:200]!r}")
    if 200 <= status <= 299 and data.get("ok"):
        result = data.get("result")
        return result if isinstance(result, dict) else {}
    try:
        message = data.get("description") or f"{HTTPStatus(status).phrase} ({status})"
    except ValueError:
        message = f"Unknown HTTPError ({status})"
    parameters = data.get("parameters") or {}
    if parameters.get("migrate_to_chat_id"):
        raise ChatMigrated(int(parameters["migrate_to_chat_id"]))
    if parameters.get("retry_after"):
        raise RetryAfter(int(parameters["retry_after"]))
    errors: dict[int, type[TelegramError]] = {
        HTTPStatus.FORBIDDEN: Forbidden,
        HTTPStatus.NOT_FOUND: InvalidToken,
        HTTPStatus.UNAUTHORIZED: InvalidToken,
        HTTPStatus.BAD_REQUEST: BadRequest,
        HTTPStatus.CONFLICT: Conflict,
    }
    raise errors.get(status, NetworkError)(message)


def env_proxy(url: str) -> str | None:
    """The proxy the environment names for `url` (HTTPS_PROXY, NO_PROXY …), or None."""
    parts = urllib.parse.urlsplit(url)
    if parts.hostname and urllib.request.proxy_bypass(parts.hostname):
        return None
    return urllib.request.getproxies().get(parts.scheme)


class BotApi:
    """`sendMessage` and `sendPhoto` over one keep-alive pool; build it inside the loop
    that uses it.

    Like PTB's httpx client it verifies TLS against httpx's (certifi) trust store and
    honours the proxy environment variables, read once here (aiohttp's `trust_env`
    would look them and ~/.netrc up in a thread for every request). `timeout` bounds
    a whole call (connect, send, reply); the sender never waits for the pool, since
    no more than `connections` calls are in flight at once.
    """

    def __init__(self, base_url: str, *, connections: int, timeout: float = 30.0) -> None:
        self.base_url = base_url
        self.loop = asyncio.get_running_loop()
        connector = aiohttp.TCPConnector(limit=connections, ssl=httpx.create_ssl_context())
        self._session = aiohttp.ClientSession(
            connector=connector, timeout=aiohttp.ClientTimeout(total=timeout)
        )
        self._proxy = env_proxy(base_url)

    async def send_message(self, body: bytes) -> int:
        """Send a prebuilt `sendMessage` body; return Telegram's message_id."""
        return await self.send("sendMessage", body)

    async def send_photo(self, body: bytes) -> int:
        """Send a prebuilt `sendPhoto` body; return Telegram's message_id."""
        return await self.send("sendPhoto", body)

    async def send(self, method: str, body: bytes) -> int:
        """Call `method` with a prebuilt JSON body; return Telegram's message_id."""
        try:
            url = f"{self.base_url}/{method}"
            post = self._session.post(url, data=body, headers=_JSON, proxy=self._proxy)
            async with post as response:
                status, payload = response.status, await response.read()
        except TimeoutError as exc:  # aiohttp's own timeouts subclass it too
            raise TimedOut(f"Timed out: {type(exc).__name__} {exc}") from exc
        except (aiohttp.ClientError, OSError) as exc:  # refused, reset, closed mid-reply …
            raise NetworkError(f"aiohttp {type(exc).__name__}: {exc}") from exc
        result = raise_for_reply(status, payload)
        return int(result.get("message_id", 0))

    async def aclose(self) -> None:
        await self._session.close()
