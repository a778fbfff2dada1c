"""Forum topics and channels in the fake Bot API: setup, user actions and the send checks.

Telegram's answers, as the Bot API server gives them: a send to a thread a
forum does not have is `Bad Request: message thread not found`, to a closed
topic `Bad Request: TOPIC_CLOSED`; a channel post by a bot without the
can_post_messages right is `Bad Request: need administrator rights in the
channel chat`, and a bot that is not in the channel is refused with 403. A bot a
group's admins restricted (`member_update(chat, "restricted")`: no sending) is refused
with `Bad Request: not enough rights to send text messages to the chat` (photos: "…
to send photos …"), as the Bot API server checks the chat's permissions before a send.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .server import Chat, Message

THREAD_NOT_FOUND = "Bad Request: message thread not found"
TOPIC_CLOSED = "Bad Request: TOPIC_CLOSED"
NEED_RIGHTS = "Bad Request: need administrator rights in the channel chat"
NO_SEND_RIGHTS = "Bad Request: not enough rights to send {what} to the chat"


@dataclass
class ForumTopic:
    thread_id: int
    name: str
    closed: bool = False


class PlacesMixin:
    """Forums and channels; mixed into FakeTelegram (which provides the state and helpers)."""

    _cond: Any
    _chats: dict[int, Chat]
    _users: dict[int, dict[str, Any]]
    bot_id: int
    bot_user: dict[str, Any]

    # test setup -------------------------------------------------------------------------------

    def add_forum(self, chat_id: int, title: str = "Forum", *, admins: Any = (), **kw: Any) -> int:
        """A supergroup with topics enabled; add topics with `add_topic`."""
        self.add_group(chat_id, title, admins=admins, **kw)  # type: ignore[attr-defined]
        with self._cond:
            chat = self._chats[chat_id]
            if chat.type != "supergroup":
                raise ValueError("forums are supergroups: use an id ≤ -10**12")
            chat.is_forum = True
        return chat_id

    def add_topic(self, chat_id: int, name: str) -> int:
        """Create a forum topic; its thread id is the id of its creation message."""
        with self._cond:
            chat = self._chats[chat_id]
            if not chat.is_forum:
                raise ValueError(f"chat {chat_id} is not a forum")
            thread_id: int = self._new_message_id(chat_id)  # type: ignore[attr-defined]
            chat.topics[thread_id] = ForumTopic(thread_id, name)
            return thread_id

    def close_topic(self, chat_id: int, thread_id: int) -> None:
        with self._cond:
            self._chats[chat_id].topics[thread_id].closed = True

    def close_general(self, chat_id: int) -> None:
        """Close the General topic: sends without a thread answer `TOPIC_CLOSED`."""
        with self._cond:
            self._chats[chat_id].general_closed = True

    def reopen_general(self, chat_id: int, *, notify: bool = False) -> None:
        """Reopen General; `notify`: the bot gets Telegram's service message about it."""
        with self._cond:
            self._chats[chat_id].general_closed = False
            if notify:
                self._reopened_notice(self._chats[chat_id], None)

    def reopen_topic(self, chat_id: int, thread_id: int, *, notify: bool = False) -> None:
        """Reopen a topic; `notify`: the bot gets the `forum_topic_reopened` service message
        in it (as Telegram sends it to every bot in the forum)."""
        with self._cond:
            self._chats[chat_id].topics[thread_id].closed = False
            if notify:
                self._reopened_notice(self._chats[chat_id], thread_id)

    def _reopened_notice(self, chat: Chat, thread_id: int | None) -> None:
        user = self._default_user(chat)  # type: ignore[attr-defined]
        extra = {"forum_topic_reopened": {}, **self._topic_fields(chat, thread_id)}
        message = self._user_message(chat, user, extra)  # type: ignore[attr-defined]
        self._push({"message": message})  # type: ignore[attr-defined]

    def delete_topic(self, chat_id: int, thread_id: int) -> None:
        """Delete a topic: later sends to it answer `message thread not found`."""
        with self._cond:
            del self._chats[chat_id].topics[thread_id]

    def add_channel(
        self,
        chat_id: int,
        title: str = "Channel",
        *,
        username: str | None = None,
        admins: Any = (),
        creator: int | None = None,
        bot_is_admin: bool = True,
        bot_can_post: bool = True,
    ) -> int:
        """A channel with its admins; the bot is an admin (that may post, or not) or absent."""
        from .server import Chat

        if chat_id > -(10**12):
            raise ValueError("channel ids are ≤ -10**12")
        for uid in {*admins, *([creator] if creator else [])}:
            if uid not in self._users:
                self.add_user(uid, f"User{uid}")  # type: ignore[attr-defined]
        with self._cond:
            self._chats[chat_id] = Chat(
                chat_id,
                "channel",
                title=title,
                username=username,
                admins=set(admins),
                creator=creator,
                bot_status="administrator" if bot_is_admin else "left",
                bot_can_post=bot_can_post,
            )
        return chat_id

    # playing users ----------------------------------------------------------------------------

    def post_in_channel(self, chat_id: int, text: str) -> dict[str, Any]:
        """A channel admin posts: the bot (an admin there) gets a `channel_post` update."""
        with self._cond:
            chat = self._chats[chat_id]
            post = {
                "message_id": self._new_message_id(chat_id),  # type: ignore[attr-defined]
                "sender_chat": chat.to_api(),
                "chat": chat.to_api(),
                "date": int(time.time()),
                "text": text,
            }
            self._push({"channel_post": post})  # type: ignore[attr-defined]
            return post

    def forward_channel_post(self, user_id: int, channel_id: int, message_id: int) -> None:
        """The user forwards a channel's post into their private chat with the bot."""
        with self._cond:
            channel = self._chats[channel_id]
            chat = self._chat_or_register(user_id)  # type: ignore[attr-defined]
            user = self._users[user_id]
            date = int(time.time())
            origin = {
                "type": "channel",
                "chat": channel.to_api(),
                "message_id": message_id,
                "date": date,
            }
            extra = {"text": "forwarded post", "forward_origin": origin}
            message = self._user_message(chat, user, extra)  # type: ignore[attr-defined]
            self._push({"message": message})  # type: ignore[attr-defined]

    # reading ----------------------------------------------------------------------------------

    def topic_messages(self, chat_id: int, thread_id: int | None) -> list[Message]:
        """The bot's messages in one forum topic (None: the General topic)."""
        messages: list[Message] = self.messages(chat_id)  # type: ignore[attr-defined]
        return [m for m in messages if m.thread_id == thread_id]

    # checks the API methods call --------------------------------------------------------------

    def _topic_fields(self, chat: Chat, thread_id: int | None) -> dict[str, Any]:
        """The fields a user's message in a forum topic carries."""
        if thread_id is None:
            return {}
        if not chat.is_forum or thread_id not in chat.topics:
            raise ValueError(f"chat {chat.id} has no topic {thread_id}")
        return {"message_thread_id": thread_id, "is_topic_message": True}

    def _check_thread(self, chat: Chat, params: dict[str, Any]) -> int | None:
        """The thread a send goes to; Telegram's errors for one that is gone or closed."""
        from .server import ApiError

        raw = params.get("message_thread_id")
        if raw in (None, "") or chat.type in ("private", "channel"):
            if chat.is_forum and chat.general_closed:
                raise ApiError(400, TOPIC_CLOSED)
            return None
        try:
            thread_id = int(raw)
        except (TypeError, ValueError):
            raise ApiError(400, THREAD_NOT_FOUND) from None
        topic = chat.topics.get(thread_id)
        if not chat.is_forum or topic is None:
            raise ApiError(400, THREAD_NOT_FOUND)
        if topic.closed:
            raise ApiError(400, TOPIC_CLOSED)
        return thread_id

    def _check_may_post(self, chat: Chat, kind: str = "text") -> None:
        from .server import ApiError

        if chat.type == "channel" and chat.bot_status == "administrator" and not chat.bot_can_post:
            raise ApiError(400, NEED_RIGHTS)
        if chat.type in ("group", "supergroup") and chat.bot_status == "restricted":
            what = {"text": "text messages", "photo": "photos"}.get(kind, kind + "s")
            raise ApiError(400, NO_SEND_RIGHTS.format(what=what))
