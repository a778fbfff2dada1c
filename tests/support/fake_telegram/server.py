"""A strict fake Telegram Bot API server on 127.0.0.1 for tests.

It speaks the real wire format to python-telegram-bot's own HTTP stack (and to a bot running in a
subprocess), answers with Telegram's exact error texts and limits, and lets a test play the user:
queue messages, button presses and membership changes, then read what the bot sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import math
import re
import socket
import threading
import time
import traceback
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.message import Message as _MimeHeader
from email.utils import collapse_rfc2231_value
from http.server import BaseHTTPRequestHandler
from typing import Any, NamedTuple, TypeVar
from urllib.parse import parse_qsl, unquote, urlsplit

from ..loopback import LoopbackHTTPServer
from .places import ForumTopic, PlacesMixin
from .tdhtml import Entity, FormattedText, HtmlParseError, fix_formatted_text, parse_html, utf16_len

logger = logging.getLogger(__name__)

DEFAULT_TOKEN = "123456789:AAFakeTokenForTestsOnly_abcdefghijklm"
DEFAULT_USERNAME = "newsbrief_test_bot"
MAX_TEXT = 4096
MAX_CAPTION = 1024
T = TypeVar("T")
_OCTET = "application/octet-stream"
_CAPTION_TOO_LONG = "message caption is too long"

# Parameters the Bot API reads as strings; everything else arrives as JSON text.
_STRING_PARAMS = frozenset(
    {
        "text", "caption", "parse_mode", "callback_query_id", "url", "action", "language_code",
        "secret_token", "ip_address", "business_connection_id", "emoji", "title", "description",
        "short_description", "name", "file_id", "inline_message_id", "message_effect_id",
    }
)  # fmt: skip
_CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
        "upload_document", "choose_sticker", "find_location", "record_video_note",
        "upload_video_note",
    }
)  # fmt: skip
_DEFAULT_UPDATE_TYPES = frozenset(
    {
        "message", "edited_message", "channel_post", "edited_channel_post", "callback_query",
        "my_chat_member", "inline_query", "chosen_inline_result", "shipping_query",
        "pre_checkout_query", "poll", "poll_answer", "chat_join_request",
    }
)  # fmt: skip
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")


_NO_REPLY = 0  # a status `_serve_api` returns for a call applied but left unanswered


class ApiError(Exception):
    """An error reply: HTTP status, Telegram's description and optional parameters."""

    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters or {}


def bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


@dataclass(frozen=True)
class Fault:
    """An injected failure; `retry_after` turns it into a flood-wait reply."""

    status: int = 500
    description: str | None = None
    retry_after: int | None = None

    def to_error(self) -> ApiError:
        if self.retry_after is not None or self.status == 429:
            seconds = self.retry_after or 1
            return ApiError(
                429, f"Too Many Requests: retry after {seconds}", {"retry_after": seconds}
            )
        default = {500: "Internal Server Error", 502: "Bad Gateway", 400: "Bad Request"}
        return ApiError(self.status, self.description or default.get(self.status, "Error"))


FaultHook = Callable[[str, dict[str, Any]], Fault | None]


class ApiRequest(NamedTuple):
    """One logged call: canonical method name and decoded parameters."""

    method: str
    params: dict[str, Any]


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request, or a document a test user sent."""

    filename: str
    content_type: str
    data: bytes


@dataclass
class Stats:
    """What the fake server saw: requests, 429s it answered, faults it injected, errors."""

    requests: int = 0
    by_method: Counter[str] = field(default_factory=Counter)
    rejected_429: int = 0
    injected_faults: int = 0
    errors: int = 0


@dataclass
class Chat:
    id: int
    type: str
    title: str | None = None
    first_name: str | None = None
    username: str | None = None
    admins: set[int] = field(default_factory=set)
    members: set[int] = field(default_factory=set)
    creator: int | None = None
    blocked: bool = False
    deactivated: bool = False
    bot_status: str = "member"
    migrated_to: int | None = None
    is_forum: bool = False
    topics: dict[int, ForumTopic] = field(default_factory=dict)  # forum: thread id -> topic
    bot_can_post: bool = True  # channels: the bot's can_post_messages right
    general_closed: bool = False  # forums: the General topic is closed

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.type == "private":
            out["first_name"] = self.first_name or "User"
        else:
            out["title"] = self.title or "Group"
        if self.username:
            out["username"] = self.username
        if self.is_forum:
            out["is_forum"] = True
        return out


@dataclass
class Message:
    """A message the bot sent, as the recipient sees it now (edits applied)."""

    message_id: int
    chat_id: int
    date: int
    kind: str  # "text", "document" or "photo"
    text: str  # plain text, or the plain caption of a media message
    html: str | None  # raw text/caption as sent, when parse_mode was HTML
    entities: list[dict[str, Any]]
    reply_markup: dict[str, Any] | None = None
    parse_mode: str | None = None
    file: UploadedFile | None = None
    file_id: str | None = None
    edit_date: int | None = None
    edits: list[dict[str, Any]] = field(default_factory=list)
    deleted: bool = False
    thread_id: int | None = None  # forum topic (None: General or not a forum)

    @property
    def buttons(self) -> list[dict[str, Any]]:
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [button for row in rows for button in row]

    def to_api(self, bot_user: dict[str, Any], chat: Chat) -> dict[str, Any]:
        out: dict[str, Any] = {
            "message_id": self.message_id,
            "from": bot_user,
            "chat": chat.to_api(),
            "date": self.date,
        }
        text_key = "text" if self.kind == "text" else "caption"
        if self.text:
            out[text_key] = self.text
        if self.entities:
            out["entities" if self.kind == "text" else "caption_entities"] = self.entities
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            out["reply_markup"] = self.reply_markup
        if self.edit_date is not None:
            out["edit_date"] = self.edit_date
        if self.thread_id is not None:
            out["message_thread_id"] = self.thread_id
            out["is_topic_message"] = True
        if self.file is not None and self.file_id is not None:
            out.update(_media_json(self.kind, self.file, self.file_id))
        return out


@dataclass
class _CallbackQuery:
    id: str
    chat_id: int
    message_id: int
    created: float
    answered: bool = False
    answer: dict[str, Any] | None = None
    latency: float | None = None  # seconds from the tap to its accepted answer


def _media_json(kind: str, file: UploadedFile, file_id: str) -> dict[str, Any]:
    unique = "U" + file_id[-12:]
    if kind == "photo":
        size = {"file_id": file_id, "file_unique_id": unique, "file_size": len(file.data)}
        return {"photo": [{**size, "width": 90, "height": 90}]}
    return {
        "document": {
            "file_id": file_id,
            "file_unique_id": unique,
            "file_name": file.filename,
            "mime_type": file.content_type,
            "file_size": len(file.data),
        }
    }


# --- flood control ------------------------------------------------------------------------


# Forgiven arrival jitter: a request delayed by loopback or thread scheduling lets the next
# one arrive "early" although the client paced correctly; Telegram's limits are not that exact.
_JITTER = 0.05


class _FloodControl:
    """Telegram's published limits: ~1/s per private chat, 20/min per group, 30/s overall.

    Private chats get a token bucket (burst 3, one token per second); groups and the whole bot
    get sliding windows (20 per 60 s, 30 or, for paid broadcasts, 1000 per second).
    """

    def __init__(self) -> None:
        self._overall: deque[float] = deque()
        self._buckets: dict[int, tuple[float, float]] = {}
        self._groups: dict[int, deque[float]] = {}

    def admit(self, chat_id: int, *, paid: bool, now: float) -> int | None:
        """Record a send and return None, or return retry_after seconds without recording."""
        waits = [self._overall_wait(paid, now), self._chat_wait(chat_id, now)]
        retry = max((w for w in waits if w is not None), default=None)
        if retry is not None:
            return max(1, math.ceil(retry))
        self._overall.append(now)
        if chat_id < 0:
            self._groups.setdefault(chat_id, deque()).append(now)
        else:
            tokens, _ = self._bucket(chat_id, now)
            self._buckets[chat_id] = (tokens - 1, now)
        return None

    def _overall_wait(self, paid: bool, now: float) -> float | None:
        span = 1.0 - _JITTER
        while self._overall and self._overall[0] <= now - span:
            self._overall.popleft()
        limit = 1000 if paid else 30
        if len(self._overall) < limit:
            return None
        return self._overall[-limit] + span - now

    def _bucket(self, chat_id: int, now: float) -> tuple[float, float]:
        tokens, last = self._buckets.get(chat_id, (3.0, now))
        return min(3.0, tokens + (now - last) * 1.0), now

    def _chat_wait(self, chat_id: int, now: float) -> float | None:
        if chat_id < 0:
            span = 60.0 - _JITTER
            window = self._groups.setdefault(chat_id, deque())
            while window and window[0] <= now - span:
                window.popleft()
            return None if len(window) < 20 else window[-20] + span - now
        tokens, _ = self._bucket(chat_id, now)
        return None if tokens >= 1.0 - _JITTER else (1.0 - _JITTER - tokens)


# --- wire format ----------------------------------------------------------------------------


def _decode_params(raw: dict[str, Any]) -> dict[str, Any]:
    """Turn wire strings into values: JSON for non-string parameters, files left as they are."""
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, str) and key not in _STRING_PARAMS:
            try:
                out[key] = json.loads(value)
            except ValueError:
                out[key] = value
        else:
            out[key] = value
    return out


def _parse_body(content_type: str, body: bytes) -> dict[str, Any]:
    mime = content_type.split(";", 1)[0].strip().lower()
    if not body:
        return {}
    if mime == "application/json":
        data = json.loads(body)
        if not isinstance(data, dict):
            raise bad_request("parameters must be a JSON object")
        return {k: v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}
    if mime == "multipart/form-data":
        return _parse_multipart(content_type, body)
    return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))


def _parse_multipart(content_type: str, body: bytes) -> dict[str, Any]:
    header = _MimeHeader()
    header["content-type"] = content_type
    boundary = header.get_param("boundary")
    if not isinstance(boundary, str):
        raise bad_request("multipart boundary is missing")
    out: dict[str, Any] = {}
    for part in body.split(b"--" + boundary.encode())[1:]:
        if part.startswith(b"--"):
            break
        head, _, content = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        content = content.removesuffix(b"\r\n")
        headers = _MimeHeader()
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, _, value = line.partition(":")
            headers[key.strip()] = value.strip()
        name = _disposition_param(headers, "name")
        filename = _disposition_param(headers, "filename")
        if name is None:
            continue
        if filename is not None:
            ctype = headers.get_content_type() if headers["content-type"] else _OCTET
            out[name] = UploadedFile(filename, ctype, content)
        else:
            out[name] = content.decode("utf-8")
    return out


def _disposition_param(headers: _MimeHeader, key: str) -> str | None:
    value = headers.get_param(key, header="content-disposition")
    return None if value is None else collapse_rfc2231_value(value)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without TCP_NODELAY each
    # response waits ~40 ms for the client's delayed ACK (Nagle).
    disable_nagle_algorithm = True
    server: _Server

    def do_POST(self) -> None:
        self._dispatch()

    def do_GET(self) -> None:
        self._dispatch()

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("fake_telegram %s", format % args)

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        fake = self.server.fake
        if url.path.startswith("/file/bot"):
            # PTB percent-encodes the download path (the token's ":" becomes %3A).
            status, payload, ctype = fake._serve_file(unquote(url.path))
        else:
            status, payload = fake._serve_api(url, self.headers.get("Content-Type", ""), body)
            ctype = "application/json"
            if status == _NO_REPLY:  # applied, but the client hears nothing: a reset
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
                return
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        with contextlib.suppress(OSError):
            self.wfile.write(payload)


class _Server(LoopbackHTTPServer):
    fake: FakeTelegram

    def __init__(self, address: tuple[str, int]) -> None:
        super().__init__(address, _Handler)
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        self.accepted = 0  # connections opened by clients, over the server's life

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
            self.accepted += 1
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def drop_connections(self) -> None:
        """Close kept-alive client connections so their handler threads end."""
        with self._open_lock:
            sockets = list(self._open)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


# --- the fake -----------------------------------------------------------------------------


class FakeTelegram(PlacesMixin):
    """A thread-safe fake Bot API server; use as `with FakeTelegram() as tg:`."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = DEFAULT_USERNAME,
        flood_limits: bool = True,
        callback_deadline: float = 15.0,
        clock: Callable[[], float] = time.monotonic,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self.flood_limits = flood_limits
        self.callback_deadline = callback_deadline
        self.clock = clock
        self.stats = Stats()
        self.server_errors: list[str] = []
        self.webhook_url = ""
        self._host, self._port = host, port
        self._cond = threading.Condition(threading.RLock())
        self._chats: dict[int, Chat] = {}
        self._users: dict[int, dict[str, Any]] = {}
        self._messages: dict[int, list[Message]] = {}
        self._next_message_id: dict[int, int] = {}
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._allowed_updates: frozenset[str] = _DEFAULT_UPDATE_TYPES
        self._poll_generation = 0
        self._requests: list[ApiRequest] = []
        self._actions: list[tuple[int, str]] = []
        self._commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self._queries: dict[str, _CallbackQuery] = {}
        self._files: dict[str, tuple[str, UploadedFile]] = {}  # file_id -> (file_path, file)
        self._query_seq = itertools.count(1)
        self._file_seq = itertools.count(1)
        self._faults: dict[str, deque[Fault]] = {}
        self._fault_hook: FaultHook | None = None
        self._lost_replies: dict[str, int] = {}  # method -> calls applied but not answered
        self.lost_replies = 0  # how many were
        # Photo URLs the real server could not download ("failed to get HTTP URL content").
        self.unreachable_photos: set[str] = set()
        self._flood = _FloodControl()
        self._closed = False
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # lifecycle ------------------------------------------------------------------------------

    def start(self) -> FakeTelegram:
        """Bind an ephemeral port on 127.0.0.1 and serve from a daemon thread."""
        self._server = _Server((self._host, self._port))
        self._server.fake = self
        self._port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="fake-telegram", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Wake long polls, stop serving and close the socket."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._server is not None:
            self._server.shutdown()
            self._server.drop_connections()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeTelegram:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """What to pass as PTB's `base_url` (the token is appended by PTB)."""
        return f"http://{self._host}:{self._port}/bot"

    @property
    def base_file_url(self) -> str:
        """What to pass as PTB's `base_file_url` so `File.download_*` hits this server."""
        return f"http://{self._host}:{self._port}/file/bot"

    @property
    def bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "NewsBrief Test",
            "username": self.bot_username,
        }

    # test setup -----------------------------------------------------------------------------

    def add_user(
        self,
        user_id: int,
        first_name: str = "Test",
        *,
        username: str | None = None,
        language_code: str | None = "en",
    ) -> dict[str, Any]:
        """Register a user (for `from` fields and chat membership)."""
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if language_code:
            user["language_code"] = language_code
        if username:
            user["username"] = username
        with self._cond:
            self._users[user_id] = user
        return user

    def add_private_chat(self, user_id: int, **user: Any) -> int:
        """Register a private chat with a user (keywords as for add_user); its id is the user id."""
        fields = self.add_user(user_id, **user)
        with self._cond:
            self._chats[user_id] = Chat(
                user_id, "private", first_name=fields["first_name"], username=fields.get("username")
            )
        return user_id

    def add_group(
        self,
        chat_id: int,
        title: str = "Test group",
        *,
        admins: Iterable[int] = (),
        members: Iterable[int] = (),
        creator: int | None = None,
    ) -> int:
        """Register a group (ids ≤ -10**12 are supergroups) with admins and members."""
        if chat_id >= 0:
            raise ValueError("group ids are negative")
        kind = "supergroup" if chat_id <= -(10**12) else "group"
        admin_ids, member_ids = set(admins), set(members)
        for uid in admin_ids | member_ids | ({creator} if creator else set()):
            if uid not in self._users:
                self.add_user(uid, f"User{uid}")
        with self._cond:
            self._chats[chat_id] = Chat(
                chat_id, kind, title=title, admins=admin_ids, members=member_ids, creator=creator
            )
        return chat_id

    def set_admins(self, chat_id: int, admins: Iterable[int]) -> None:
        with self._cond:
            self._chat(chat_id).admins = set(admins)

    def block(self, chat_id: int) -> None:
        """The user blocked the bot: sends answer 403 `bot was blocked by the user`."""
        with self._cond:
            self._chat(chat_id).blocked = True

    def unblock(self, chat_id: int) -> None:
        with self._cond:
            self._chat(chat_id).blocked = False

    def deactivate(self, chat_id: int) -> None:
        """The user deleted their account: sends answer 403 `user is deactivated`."""
        with self._cond:
            self._chat(chat_id).deactivated = True

    def migrate(self, group_id: int, new_supergroup_id: int, *, notify: bool = True) -> None:
        """Upgrade a group; later sends to the old id answer 400 with migrate_to_chat_id."""
        with self._cond:
            old = self._chat(group_id)
            old.migrated_to = new_supergroup_id
            self._chats[new_supergroup_id] = Chat(
                new_supergroup_id,
                "supergroup",
                title=old.title,
                admins=set(old.admins),
                members=set(old.members),
                creator=old.creator,
            )
            if notify:
                user = self._default_user(old)
                service = self._user_message(old, user, {"migrate_to_chat_id": new_supergroup_id})
                self._push({"message": service})

    def fail_next(
        self,
        method: str,
        count: int = 1,
        *,
        status: int = 500,
        retry_after: int | None = None,
        description: str | None = None,
    ) -> None:
        """Make the next `count` calls of `method` fail (500, 502, 429 with retry_after...)."""
        with self._cond:
            queue = self._faults.setdefault(method.lower(), deque())
            queue.extend(Fault(status, description, retry_after) for _ in range(count))

    def lose_replies(self, method: str, count: int = 1) -> None:
        """Apply the next `count` calls of `method`, then close the connection unanswered,
        as when a reply is lost on the way back (a reset, a proxy that timed out)."""
        with self._cond:
            self._lost_replies[method.lower()] = self._lost_replies.get(method.lower(), 0) + count

    def set_fault_hook(self, hook: FaultHook | None) -> None:
        """Install `hook(method, params) -> Fault | None`, e.g. a seeded random fault source."""
        with self._cond:
            self._fault_hook = hook

    # playing the user -----------------------------------------------------------------------

    def send_text(
        self,
        chat_id: int,
        text: str,
        *,
        from_user: int | None = None,
        thread_id: int | None = None,
    ) -> dict[str, Any]:
        """Queue a `message` update; a leading /command gets its bot_command entity.

        `thread_id` posts it in a forum topic (which must exist and be open).
        """
        with self._cond:
            chat = self._chat_or_register(chat_id)
            user = self._user_for(chat, from_user)
            extra: dict[str, Any] = {"text": text, **self._topic_fields(chat, thread_id)}
            if text.startswith("/"):
                command = {"type": "bot_command", "offset": 0, "length": utf16_len(text.split()[0])}
                extra["entities"] = [command]
            message = self._user_message(chat, user, extra)
            self._push({"message": message})
            return message

    def send_document(
        self,
        chat_id: int,
        filename: str,
        data: bytes,
        *,
        mime_type: str = "application/octet-stream",
        caption: str | None = None,
        from_user: int | None = None,
    ) -> dict[str, Any]:
        """Queue a `message` update carrying a document the bot can getFile and download."""
        with self._cond:
            chat = self._chat_or_register(chat_id)
            user = self._user_for(chat, from_user)
            file = UploadedFile(filename, mime_type, data)
            extra = _media_json("document", file, self._store_file(file))
            if caption:
                extra["caption"] = caption
            message = self._user_message(chat, user, extra)
            self._push({"message": message})
            return message

    def press_button(
        self, chat_id: int, message_id: int, callback_data: str, *, from_user: int | None = None
    ) -> str:
        """Queue a `callback_query` for a button of a bot message; return the query id."""
        with self._cond:
            chat = self._chat(chat_id)
            msg = self._find_message(chat_id, message_id)
            if msg is None:
                raise ValueError(f"bot message {message_id} not found in chat {chat_id}")
            if all(b.get("callback_data") != callback_data for b in msg.buttons):
                raise ValueError(f"message {message_id} has no button with data {callback_data!r}")
            user = self._user_for(chat, from_user)
            query_id = f"{self.bot_id}{next(self._query_seq):06d}"
            self._queries[query_id] = _CallbackQuery(query_id, chat_id, message_id, self.clock())
            query = {
                "id": query_id,
                "from": user,
                "message": msg.to_api(self.bot_user, chat),
                "chat_instance": str(abs(chat_id) * 7 + 1),
                "data": callback_data,
            }
            self._push({"callback_query": query})
            return query_id

    def member_update(
        self,
        chat_id: int,
        status: str = "kicked",
        *,
        from_user: int | None = None,
        can_post: bool | None = None,
    ) -> dict[str, Any]:
        """Queue a `my_chat_member` update; kicked/left also make later sends fail with 403.

        In a channel, `can_post` gives or takes the bot's right to post (an admin there)."""
        with self._cond:
            chat = self._chat_or_register(chat_id)
            user = self._user_for(chat, from_user)
            old = self._bot_member_json(chat)
            chat.bot_status = status
            if can_post is not None:
                chat.bot_can_post = can_post
            if chat.type == "private":
                chat.blocked = status == "kicked"
            update = {
                "chat": chat.to_api(),
                "from": user,
                "date": int(time.time()),
                "old_chat_member": old,
                "new_chat_member": self._bot_member_json(chat),
            }
            self._push({"my_chat_member": update})
            return update

    def push_update(self, update: dict[str, Any]) -> int:
        """Queue a raw update (without update_id); return the update_id given to it."""
        with self._cond:
            return self._push(dict(update))

    # reading what happened --------------------------------------------------------------------

    def messages(self, chat_id: int, *, include_deleted: bool = False) -> list[Message]:
        """Messages the bot sent to a chat, oldest first, edits applied."""
        with self._cond:
            return [m for m in self._messages.get(chat_id, []) if include_deleted or not m.deleted]

    def texts(self, chat_id: int) -> list[str]:
        """The plain text (or caption) of each message the bot sent to a chat."""
        return [m.text for m in self.messages(chat_id)]

    @property
    def requests(self) -> list[ApiRequest]:
        with self._cond:
            return list(self._requests)

    def calls(self, method: str) -> list[dict[str, Any]]:
        """Parameters of each logged call to `method` (case-insensitive)."""
        return [r.params for r in self.requests if r.method.lower() == method.lower()]

    def chat_actions(self, chat_id: int) -> list[str]:
        with self._cond:
            return [action for cid, action in self._actions if cid == chat_id]

    def callback_answer(self, query_id: str) -> dict[str, Any] | None:
        """The parameters answerCallbackQuery gave for a query, or None if unanswered."""
        with self._cond:
            query = self._queries.get(query_id)
            return None if query is None else query.answer

    @property
    def connections_opened(self) -> int:
        """TCP connections clients opened to this fake so far (keep-alive reuses one)."""
        return self._server.accepted if self._server is not None else 0

    def answer_latencies(self) -> list[float]:
        """Seconds from each answered tap to its answer, sorted."""
        with self._cond:
            return sorted(q.latency for q in self._queries.values() if q.latency is not None)

    def commands(
        self, scope: dict[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, str]]:
        """The command list setMyCommands stored for a scope (default scope when None)."""
        with self._cond:
            return list(self._commands.get((_scope_key(scope), language_code), []))

    def pending_updates(self) -> list[dict[str, Any]]:
        with self._cond:
            return list(self._updates)

    def chat(self, chat_id: int) -> Chat:
        with self._cond:
            return self._chat(chat_id)

    def wait_for(
        self,
        target: Callable[[], T] | int,
        count: int = 1,
        *,
        timeout: float = 5.0,
    ) -> Any:
        """Block until a predicate is truthy (returning its value) or a chat has `count` messages.

        `target` is a zero-argument callable or a chat id; with a chat id the messages are
        returned. Raises TimeoutError with the recent requests when the deadline passes.
        """
        check = _as_check(self, target, count)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                result = check()
                if result:
                    return result
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    recent = [r.method for r in self._requests[-10:]]
                    raise TimeoutError(f"wait_for timed out after {timeout}s; last calls {recent}")
                self._cond.wait(min(remaining, 0.1))

    async def await_for(
        self, target: Callable[[], T] | int, count: int = 1, *, timeout: float = 5.0
    ) -> Any:
        """Async `wait_for`: polls without blocking the event loop."""
        check = _as_check(self, target, count)
        deadline = time.monotonic() + timeout
        while True:
            with self._cond:
                result = check()
            if result:
                return result
            if time.monotonic() >= deadline:
                raise TimeoutError(f"await_for timed out after {timeout}s")
            await asyncio.sleep(0.01)

    # HTTP entry points (called from server threads) -------------------------------------------

    def _serve_api(self, url: Any, content_type: str, body: bytes) -> tuple[int, bytes]:
        match = re.fullmatch(r"/bot([^/]*)/([^/]*)", url.path)
        try:
            if match is None:
                raise ApiError(404, "Not Found")
            if match[1] != self.token:
                raise ApiError(401, "Unauthorized: invalid token specified")
            method = _METHODS.get(match[2].lower())
            if method is None:
                raise ApiError(404, "Not Found: method not found")
            raw = dict(parse_qsl(url.query, keep_blank_values=True))
            raw.update(_parse_body(content_type, body))
            result = self._call(method, _decode_params(raw))
            with self._cond:
                if self._lost_replies.get(method.lower(), 0) > 0:
                    self._lost_replies[method.lower()] -= 1
                    self.lost_replies += 1
                    return _NO_REPLY, b""
            reply: dict[str, Any] = {"ok": True, "result": result}
            return 200, json.dumps(reply).encode()
        except ApiError as err:
            return err.status, _error_body(err)
        except Exception:
            with self._cond:
                self.server_errors.append(traceback.format_exc())
            logger.exception("fake_telegram handler crashed")
            return 500, _error_body(ApiError(500, "Internal Server Error"))

    def _call(self, method: str, params: dict[str, Any]) -> Any:
        with self._cond:
            self._requests.append(ApiRequest(method, params))
            self.stats.requests += 1
            self.stats.by_method[method] += 1
            self._cond.notify_all()
            try:
                fault = self._take_fault(method, params)
                if fault is not None:
                    self.stats.injected_faults += 1
                    raise fault.to_error()
                return getattr(self, "_api_" + _snake(method))(params)
            except ApiError as err:
                self.stats.errors += 1
                if err.status == 429:
                    self.stats.rejected_429 += 1
                raise

    def _take_fault(self, method: str, params: dict[str, Any]) -> Fault | None:
        queue = self._faults.get(method.lower())
        if queue:
            return queue.popleft()
        return self._fault_hook(method, params) if self._fault_hook else None

    def _serve_file(self, path: str) -> tuple[int, bytes, str]:
        prefix = f"/file/bot{self.token}/"
        with self._cond:
            wanted = path.removeprefix(prefix) if path.startswith(prefix) else None
            file = next((f for p, f in self._files.values() if p == wanted), None)
        if file is None:
            return 404, _error_body(ApiError(404, "Not Found")), "application/json"
        return 200, file.data, file.content_type

    # API methods --------------------------------------------------------------------------------

    def _api_get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _api_log_out(self, params: dict[str, Any]) -> bool:
        return True

    def _api_close(self, params: dict[str, Any]) -> bool:
        return True

    def _api_delete_webhook(self, params: dict[str, Any]) -> bool:
        self.webhook_url = ""
        if _flag(params, "drop_pending_updates"):
            self._updates.clear()
        return True

    def _api_set_webhook(self, params: dict[str, Any]) -> bool:
        url = str(params.get("url") or "")
        if url and not url.startswith("https://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        self.webhook_url = url
        if _flag(params, "drop_pending_updates"):
            self._updates.clear()
        return True

    def _api_get_webhook_info(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    def _api_get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = _int(params, "offset", 0)
        limit = min(max(_int(params, "limit", 100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        if "allowed_updates" in params:
            allowed = params["allowed_updates"]
            self._allowed_updates = frozenset(allowed) if allowed else _DEFAULT_UPDATE_TYPES
        self._poll_generation += 1
        generation = self._poll_generation
        self._cond.notify_all()
        self._acknowledge(offset)
        deadline = time.monotonic() + timeout
        while True:
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            ready = self._deliverable()
            remaining = deadline - time.monotonic()
            if ready or remaining <= 0 or self._closed:
                return ready[:limit]
            self._cond.wait(remaining)

    def _acknowledge(self, offset: int) -> None:
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]

    def _deliverable(self) -> list[dict[str, Any]]:
        # Telegram never delivers update types the bot did not subscribe to.
        def kind(update: dict[str, Any]) -> str:
            return next(k for k in update if k != "update_id")

        self._updates = [u for u in self._updates if kind(u) in self._allowed_updates]
        return list(self._updates)

    def _api_send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._target_chat(params)
        formatted = self._formatted(params, "text", MAX_TEXT)
        markup = _check_markup(params.get("reply_markup"))
        _check_link_preview(params.get("link_preview_options"))
        self._admit(chat, params)
        thread_id = self._check_thread(chat, params)
        self._check_may_post(chat)
        msg = self._store_bot_message(chat, "text", formatted, params, markup)
        msg.thread_id = thread_id
        return msg.to_api(self.bot_user, chat)

    def _api_send_document(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._send_media(params, "document")

    def _api_send_photo(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._send_media(params, "photo")

    def _send_media(self, params: dict[str, Any], kind: str) -> dict[str, Any]:
        chat = self._target_chat(params)
        if params.get(kind) in self.unreachable_photos:
            raise bad_request("failed to get HTTP URL content")
        file, file_id = self._input_file(params.get(kind), params)
        formatted = self._formatted(params, "caption", MAX_CAPTION)
        markup = _check_markup(params.get("reply_markup"))
        self._admit(chat, params)
        thread_id = self._check_thread(chat, params)  # a forum topic, as for sendMessage
        self._check_may_post(chat, kind)
        msg = self._store_bot_message(chat, kind, formatted, params, markup)
        msg.file, msg.file_id = file, file_id
        msg.thread_id = thread_id
        return msg.to_api(self.bot_user, chat)

    def _api_edit_message_text(self, params: dict[str, Any]) -> dict[str, Any]:
        chat, msg = self._editable(params)
        if msg.kind != "text":
            raise bad_request("there is no text in the message to edit")
        formatted = self._formatted(params, "text", MAX_TEXT)
        markup = _check_markup(params.get("reply_markup"))
        _check_link_preview(params.get("link_preview_options"))
        entities = formatted.entities_json()
        if (formatted.text, entities, markup) == (msg.text, msg.entities, msg.reply_markup):
            raise _not_modified()
        self._admit(chat, params)
        html = str(params["text"]) if _is_html(params) else None
        self._apply_edit(msg, text=formatted.text, html=html, entities=entities, markup=markup)
        msg.parse_mode = params.get("parse_mode") or None
        return msg.to_api(self.bot_user, chat)

    def _api_edit_message_reply_markup(self, params: dict[str, Any]) -> dict[str, Any]:
        chat, msg = self._editable(params)
        markup = _check_markup(params.get("reply_markup"))
        if markup == msg.reply_markup:
            raise _not_modified()
        self._admit(chat, params)
        self._apply_edit(msg, text=msg.text, html=msg.html, entities=msg.entities, markup=markup)
        return msg.to_api(self.bot_user, chat)

    def _api_delete_message(self, params: dict[str, Any]) -> bool:
        chat = self._target_chat(params)
        msg = self._find_message(chat.id, _int(params, "message_id", 0))
        if msg is None:
            raise bad_request("message to delete not found")
        msg.deleted = True
        self._cond.notify_all()
        return True

    def _api_answer_callback_query(self, params: dict[str, Any]) -> bool:
        query = self._queries.get(str(params.get("callback_query_id") or ""))
        too_old = query is None or self.clock() - query.created > self.callback_deadline
        if query is None or too_old or query.answered:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        if len(str(params.get("text") or "")) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        query.answered, query.answer = True, dict(params)
        query.latency = self.clock() - query.created
        self._cond.notify_all()
        return True

    def _api_send_chat_action(self, params: dict[str, Any]) -> bool:
        chat = self._target_chat(params)
        action = str(params.get("action") or "")
        if action not in _CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self._check_reachable(chat)
        self._actions.append((chat.id, action))
        self._cond.notify_all()
        return True

    def _api_set_my_commands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        cleaned = [_check_command(c) for c in commands]
        key = (_scope_key(params.get("scope")), str(params.get("language_code") or ""))
        self._commands[key] = cleaned
        return True

    def _api_get_my_commands(self, params: dict[str, Any]) -> list[dict[str, str]]:
        key = (_scope_key(params.get("scope")), str(params.get("language_code") or ""))
        return list(self._commands.get(key, []))

    def _api_delete_my_commands(self, params: dict[str, Any]) -> bool:
        key = (_scope_key(params.get("scope")), str(params.get("language_code") or ""))
        self._commands.pop(key, None)
        return True

    def _api_get_chat(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._target_chat(params)
        gift_types = dict.fromkeys(
            ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription"), False
        )
        return {
            **chat.to_api(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {**gift_types, "gifts_from_channels": False},
        }

    def _api_get_chat_member(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._target_chat(params)
        user_id = _int(params, "user_id", 0)
        if user_id == self.bot_id:
            return self._bot_member_json(chat)
        if chat.type == "channel" and chat.bot_status in ("left", "kicked"):
            raise bad_request("member list is inaccessible")  # the bot is no admin there
        user = self._users.get(user_id)
        if user is None:
            raise bad_request("user not found")
        member = self._member_json(user, self._status_of(chat, user_id))
        if chat.type == "channel" and member["status"] == "administrator":
            member["can_post_messages"] = True
        return member

    def _api_get_chat_administrators(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        chat = self._target_chat(params)
        if chat.type == "private":
            raise bad_request("there are no administrators in the private chat")
        ids = sorted(chat.admins | ({chat.creator} if chat.creator else set()))
        return [self._member_json(self._users[uid], self._status_of(chat, uid)) for uid in ids]

    def _api_get_file(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = str(params.get("file_id") or "")
        if file_id not in self._files:
            raise bad_request("invalid file_id")
        path, file = self._files[file_id]
        return {
            "file_id": file_id,
            "file_unique_id": "U" + file_id[-12:],
            "file_size": len(file.data),
            "file_path": path,
        }

    # helpers ------------------------------------------------------------------------------------

    def _chat(self, chat_id: int) -> Chat:
        chat = self._chats.get(chat_id)
        if chat is None:
            raise KeyError(f"chat {chat_id} is not registered with the fake")
        return chat

    def _chat_or_register(self, chat_id: int) -> Chat:
        if chat_id not in self._chats:
            if chat_id > 0:
                self.add_private_chat(chat_id)
            else:
                self.add_group(chat_id)
        return self._chats[chat_id]

    def _user_for(self, chat: Chat, from_user: int | None) -> dict[str, Any]:
        if from_user is None:
            return self._default_user(chat)
        if from_user not in self._users:
            self.add_user(from_user, f"User{from_user}")
        if chat.type != "private":
            chat.members.add(from_user)
        return self._users[from_user]

    def _default_user(self, chat: Chat) -> dict[str, Any]:
        if chat.type == "private":
            return self._users[chat.id]
        uid = chat.creator or min(chat.admins | chat.members, default=None)
        if uid is None:
            uid = 1001
            chat.members.add(uid)
        if uid not in self._users:
            self.add_user(uid, f"User{uid}")
        return self._users[uid]

    def _status_of(self, chat: Chat, user_id: int) -> str:
        if chat.type == "private":
            return "member" if user_id == chat.id else "left"
        if user_id == chat.creator:
            return "creator"
        if user_id in chat.admins:
            return "administrator"
        return "member" if user_id in chat.members else "left"

    def _bot_member_json(self, chat: Chat) -> dict[str, Any]:
        member = self._member_json(self.bot_user, chat.bot_status)
        if chat.type == "channel" and chat.bot_status == "administrator":
            member["can_post_messages"] = chat.bot_can_post
        return member

    def _member_json(self, user: dict[str, Any], status: str) -> dict[str, Any]:
        out: dict[str, Any] = {"user": user, "status": status}
        if status == "creator":
            out["is_anonymous"] = False
        elif status == "administrator":
            out.update(dict.fromkeys(_ADMIN_RIGHTS, False))
            out["can_manage_chat"] = True
        elif status == "kicked":
            out["until_date"] = 0
        elif status == "restricted":  # in the chat, allowed nothing (Telegram lists every right)
            out.update(dict.fromkeys(_RESTRICTED_RIGHTS, False))
            out.update(is_member=True, until_date=0)
        return out

    def _user_message(
        self, chat: Chat, user: dict[str, Any], extra: dict[str, Any]
    ) -> dict[str, Any]:
        return {
            "message_id": self._new_message_id(chat.id),
            "from": user,
            "chat": chat.to_api(),
            "date": int(time.time()),
            **extra,
        }

    def _new_message_id(self, chat_id: int) -> int:
        next_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = next_id + 1
        return next_id

    def _push(self, update: dict[str, Any]) -> int:
        update_id = next(self._update_ids)
        self._updates.append({"update_id": update_id, **update})
        self._cond.notify_all()
        return update_id

    def _store_file(self, file: UploadedFile) -> str:
        seq = next(self._file_seq)
        file_id = f"BQACAgIAAxkBAAI{seq:08d}"
        folder = "photos" if file.content_type.startswith("image/") else "documents"
        suffix = file.filename.rsplit(".", 1)[-1] if "." in file.filename else "bin"
        self._files[file_id] = (f"{folder}/file_{seq}.{suffix}", file)
        return file_id

    def _input_file(self, value: Any, params: dict[str, Any]) -> tuple[UploadedFile, str]:
        if isinstance(value, str) and value.startswith("attach://"):
            value = params.get(value.removeprefix("attach://"))
        if isinstance(value, UploadedFile):
            return value, self._store_file(value)
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            file = UploadedFile(value.rsplit("/", 1)[-1] or "file", "application/octet-stream", b"")
            return file, self._store_file(file)
        if isinstance(value, str) and value in self._files:
            return self._files[value][1], value
        raise bad_request("wrong file identifier/HTTP URL specified")

    def _find_message(self, chat_id: int, message_id: int) -> Message | None:
        for msg in self._messages.get(chat_id, []):
            if msg.message_id == message_id and not msg.deleted:
                return msg
        return None

    def _target_chat(self, params: dict[str, Any]) -> Chat:
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise bad_request("chat_id is empty")
        if isinstance(raw, str) and raw.startswith("@"):
            chat = next((c for c in self._chats.values() if c.username == raw[1:]), None)
        else:
            try:
                chat = self._chats.get(int(raw))
            except (TypeError, ValueError):
                chat = None
        if chat is None:
            raise bad_request("chat not found")
        if chat.migrated_to is not None:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": chat.migrated_to},
            )
        return chat

    def _formatted(self, params: dict[str, Any], key: str, limit: int) -> FormattedText:
        raw = params.get(key)
        if raw is None and key == "text":
            raise bad_request("message text is empty")
        text = "" if raw is None else str(raw)
        parse_mode = str(params.get("parse_mode") or "")
        if _is_html(params):
            try:
                formatted = parse_html(text)
            except HtmlParseError as err:
                raise bad_request(f"can't parse entities: {err}") from err
        elif parse_mode.lower() in ("", "markdown", "markdownv2"):
            # Markdown is stored unparsed (the project sends HTML); explicit entities are kept.
            entity_key = "entities" if key == "text" else "caption_entities"
            formatted = fix_formatted_text(text, _explicit_entities(params.get(entity_key)))
        else:
            raise bad_request("unsupported parse_mode")
        if key == "text" and not formatted.text:
            raise bad_request("message text is empty")
        if len(formatted.text) > limit:
            raise bad_request("message is too long" if key == "text" else _CAPTION_TOO_LONG)
        return formatted

    def _editable(self, params: dict[str, Any]) -> tuple[Chat, Message]:
        if params.get("inline_message_id"):
            raise bad_request("message to edit not found")
        chat = self._target_chat(params)
        msg = self._find_message(chat.id, _int(params, "message_id", 0))
        if msg is None:
            raise bad_request("message to edit not found")
        return chat, msg

    def _admit(self, chat: Chat, params: dict[str, Any]) -> None:
        if self.flood_limits:
            paid = _flag(params, "allow_paid_broadcast")
            retry = self._flood.admit(chat.id, paid=paid, now=self.clock())
            if retry is not None:
                raise ApiError(
                    429, f"Too Many Requests: retry after {retry}", {"retry_after": retry}
                )
        self._check_reachable(chat)

    def _check_reachable(self, chat: Chat) -> None:
        if chat.deactivated:
            raise ApiError(403, "Forbidden: user is deactivated")
        if chat.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if chat.type != "private" and chat.bot_status == "kicked":
            raise ApiError(403, f"Forbidden: bot was kicked from the {chat.type} chat")
        if chat.type != "private" and chat.bot_status == "left":
            raise ApiError(403, f"Forbidden: bot is not a member of the {chat.type} chat")

    def _store_bot_message(
        self,
        chat: Chat,
        kind: str,
        formatted: FormattedText,
        params: dict[str, Any],
        markup: dict[str, Any] | None,
    ) -> Message:
        raw = params.get("text" if kind == "text" else "caption")
        msg = Message(
            message_id=self._new_message_id(chat.id),
            chat_id=chat.id,
            date=int(time.time()),
            kind=kind,
            text=formatted.text,
            html=str(raw) if raw is not None and _is_html(params) else None,
            entities=formatted.entities_json(),
            reply_markup=markup,
            parse_mode=params.get("parse_mode") or None,
        )
        self._messages.setdefault(chat.id, []).append(msg)
        self._cond.notify_all()
        return msg

    def _apply_edit(
        self,
        msg: Message,
        *,
        text: str,
        html: str | None,
        entities: list[dict[str, Any]],
        markup: dict[str, Any] | None,
    ) -> None:
        msg.edits.append(
            {
                "text": msg.text,
                "html": msg.html,
                "entities": msg.entities,
                "reply_markup": msg.reply_markup,
                "edit_date": msg.edit_date,
            }
        )
        msg.text, msg.html, msg.entities, msg.reply_markup = text, html, entities, markup
        msg.edit_date = int(time.time())
        self._cond.notify_all()


# --- module helpers ---------------------------------------------------------------------------


def _snake(method: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", method).lower()


_METHOD_NAMES = [
    "getMe", "logOut", "close", "deleteWebhook", "setWebhook", "getWebhookInfo", "getUpdates",
    "sendMessage", "sendDocument", "sendPhoto", "editMessageText", "editMessageReplyMarkup",
    "deleteMessage", "answerCallbackQuery", "sendChatAction", "setMyCommands", "getMyCommands",
    "deleteMyCommands", "getChat", "getChatMember", "getChatAdministrators", "getFile",
]  # fmt: skip
_ADMIN_RIGHTS = [
    "can_be_edited", "is_anonymous", "can_manage_chat", "can_delete_messages",
    "can_manage_video_chats", "can_restrict_members", "can_promote_members", "can_change_info",
    "can_invite_users", "can_post_stories", "can_edit_stories", "can_delete_stories",
]  # fmt: skip
_RESTRICTED_RIGHTS = [
    "can_send_messages", "can_send_audios", "can_send_documents", "can_send_photos",
    "can_send_videos", "can_send_video_notes", "can_send_voice_notes", "can_send_polls",
    "can_send_other_messages", "can_add_web_page_previews", "can_change_info",
    "can_invite_users", "can_pin_messages", "can_manage_topics", "can_edit_tag",
    "can_react_to_messages",
]  # fmt: skip
_METHODS = {name.lower(): name for name in _METHOD_NAMES}


def _error_body(err: ApiError) -> bytes:
    body: dict[str, Any] = {"ok": False, "error_code": err.status, "description": err.description}
    if err.parameters:
        body["parameters"] = err.parameters
    return json.dumps(body).encode()


def _explicit_entities(raw: Any) -> list[Entity]:
    if not raw:
        return []
    try:
        return [
            Entity(
                e["type"],
                int(e["offset"]),
                int(e["length"]),
                url=e.get("url"),
                language=e.get("language"),
                custom_emoji_id=e.get("custom_emoji_id"),
            )
            for e in raw
            if int(e["length"]) > 0
        ]
    except (KeyError, TypeError, ValueError) as exc:
        raise bad_request("can't parse entities JSON object") from exc


def _not_modified() -> ApiError:
    return bad_request(
        "message is not modified: specified new message content and reply markup are exactly "
        "the same as a current content and reply markup of the message"
    )


def _int(params: dict[str, Any], key: str, default: int) -> int:
    value = params.get(key)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise bad_request(f'field "{key}" must be a valid Number') from exc


def _is_html(params: dict[str, Any]) -> bool:
    return str(params.get("parse_mode") or "").lower() == "html"


def _flag(params: dict[str, Any], key: str) -> bool:
    return params.get(key) in (True, 1, "true", "True", "1")


def _scope_key(scope: Any) -> str:
    if hasattr(scope, "to_dict"):  # a PTB BotCommandScope passed to FakeTelegram.commands()
        scope = scope.to_dict()
    if isinstance(scope, str):
        scope = json.loads(scope)
    if not scope:
        scope = {"type": "default"}
    return json.dumps(scope, sort_keys=True)


def _check_command(command: Any) -> dict[str, str]:
    if not isinstance(command, dict):
        raise bad_request("can't parse BotCommand")
    name = str(command.get("command") or "").strip().removeprefix("/")
    description = str(command.get("description") or "").strip()
    if not name:
        raise bad_request("command must be non-empty")
    if len(name) > 32:
        raise bad_request("command length must not exceed 32")
    if not description:
        raise bad_request("command description must be non-empty")
    if len(description) > 256:
        raise bad_request("command description length must not exceed 256")
    if not _COMMAND.fullmatch(name):
        raise bad_request("BOT_COMMAND_INVALID")
    return {"command": name, "description": description}


_PREVIEW_FLAGS = ("is_disabled", "prefer_small_media", "prefer_large_media", "show_above_text")


def _check_link_preview(raw: Any) -> None:
    """Validate link_preview_options like the Bot API server: a JSON object of typed fields."""
    if raw is None:
        return
    if isinstance(raw, str):  # _decode_params could not read it as JSON
        raise bad_request("can't parse link preview options JSON object")
    if not isinstance(raw, dict):
        raise bad_request("object expected as link preview options")
    for flag in _PREVIEW_FLAGS:
        if flag in raw and not isinstance(raw[flag], bool):
            raise bad_request(f'field "{flag}" must be of type Boolean')
    if "url" in raw and not isinstance(raw["url"], str):
        raise bad_request('field "url" must be of type String')


def _check_markup(raw: Any) -> dict[str, Any] | None:
    """Validate reply_markup like Telegram: callback_data 1-64 bytes, sane URLs."""
    if raw is None or raw == "":
        return None
    markup = json.loads(raw) if isinstance(raw, str) else raw
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if rows is None:
        return markup
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
    for row in rows:
        for button in row:
            _check_button(button)
    return markup


_OTHER_BUTTON_ACTIONS = frozenset(
    {
        "switch_inline_query", "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat", "web_app", "login_url", "pay", "copy_text",
        "callback_game",
    }
)  # fmt: skip


def _check_button(button: Any) -> None:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad_request("can't parse inline keyboard button: Text is not specified")
    if "callback_data" in button:
        size = len(str(button["callback_data"]).encode("utf-8"))
        if not 1 <= size <= 64:
            raise bad_request("BUTTON_DATA_INVALID")
    elif "url" in button:
        if not re.match(r"(?i)^(https?|tg)://\S+$", str(button["url"])):
            raise bad_request("BUTTON_URL_INVALID")
    elif not _OTHER_BUTTON_ACTIONS.intersection(button):
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )


def _as_check(fake: FakeTelegram, target: Callable[[], T] | int, count: int) -> Callable[[], Any]:
    if callable(target):
        return target

    def enough() -> list[Message] | None:
        found = fake.messages(target)
        return found if len(found) >= count else None

    return enough
