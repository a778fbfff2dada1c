"""The fake Bot API's forums and channels answer as Telegram does (wire format, exact errors)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.fake_telegram import FakeTelegram

FORUM, CHANNEL, ADMIN, USER = -1001000000001, -1002000000002, 11, 12


@pytest.fixture
def tg() -> Iterator[FakeTelegram]:
    with FakeTelegram(flood_limits=False) as fake:
        fake.add_private_chat(USER)
        fake.add_forum(FORUM, "Forum", admins=[ADMIN])
        fake.add_channel(CHANNEL, "Wire", username="wire", admins=[ADMIN])
        yield fake
    assert fake.server_errors == []


def call(tg: FakeTelegram, method: str, **params: Any) -> tuple[int, dict[str, Any]]:
    data = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
    reply = httpx.post(f"{tg.base_url}{tg.token}/{method}", data=data, timeout=10)
    return reply.status_code, reply.json()


def test_forum_threads_send_and_fail_like_telegram(tg: FakeTelegram) -> None:
    desk = tg.add_topic(FORUM, "Desk")
    status, reply = call(tg, "sendMessage", chat_id=FORUM, text="hi", message_thread_id=desk)
    assert status == 200
    assert reply["result"]["message_thread_id"] == desk and reply["result"]["is_topic_message"]
    assert reply["result"]["chat"]["is_forum"] is True
    status, reply = call(tg, "sendMessage", chat_id=FORUM, text="general")
    assert status == 200 and "message_thread_id" not in reply["result"]
    assert [m.text for m in tg.topic_messages(FORUM, desk)] == ["hi"]
    assert [m.text for m in tg.topic_messages(FORUM, None)] == ["general"]
    tg.close_topic(FORUM, desk)
    status, reply = call(tg, "sendMessage", chat_id=FORUM, text="x", message_thread_id=desk)
    assert (status, reply["description"]) == (400, "Bad Request: TOPIC_CLOSED")
    tg.delete_topic(FORUM, desk)
    for thread in (desk, 999):
        status, reply = call(tg, "sendMessage", chat_id=FORUM, text="x", message_thread_id=thread)
        assert (status, reply["description"]) == (400, "Bad Request: message thread not found")


def test_user_messages_in_a_topic_carry_its_thread(tg: FakeTelegram) -> None:
    desk = tg.add_topic(FORUM, "Desk")
    message = tg.send_text(FORUM, "/start", from_user=ADMIN, thread_id=desk)
    assert message["message_thread_id"] == desk and message["is_topic_message"] is True
    with pytest.raises(ValueError, match="no topic"):
        tg.send_text(FORUM, "/start", thread_id=desk + 100)


def test_channels_answer_get_chat_member_and_refuse_posts_without_the_right(
    tg: FakeTelegram,
) -> None:
    status, reply = call(tg, "getChatMember", chat_id="@wire", user_id=ADMIN)
    assert reply["result"]["status"] == "administrator" and reply["result"]["can_post_messages"]
    tg.add_user(USER + 1)
    status, reply = call(tg, "getChatMember", chat_id=CHANNEL, user_id=USER + 1)
    assert reply["result"]["status"] == "left"
    status, reply = call(tg, "getChatMember", chat_id=CHANNEL, user_id=tg.bot_id)
    assert reply["result"]["can_post_messages"] is True
    assert call(tg, "sendMessage", chat_id=CHANNEL, text="post")[0] == 200
    tg.add_channel(-1003000000003, "Shy", bot_can_post=False)
    status, reply = call(tg, "sendMessage", chat_id=-1003000000003, text="post")
    assert (status, reply["description"]) == (
        400,
        "Bad Request: need administrator rights in the channel chat",
    )
    tg.add_channel(-1004000000004, "Away", bot_is_admin=False)
    status, reply = call(tg, "getChatMember", chat_id=-1004000000004, user_id=ADMIN)
    assert (status, reply["description"]) == (400, "Bad Request: member list is inaccessible")
    status, reply = call(tg, "sendMessage", chat_id=-1004000000004, text="post")
    assert (status, reply["description"]) == (
        403,
        "Forbidden: bot is not a member of the channel chat",
    )


def test_channel_posts_and_forwards_are_updates(tg: FakeTelegram) -> None:
    post = tg.post_in_channel(CHANNEL, "Edition")
    tg.forward_channel_post(USER, CHANNEL, post["message_id"])
    _status, reply = call(tg, "getUpdates", timeout=0)
    updates = reply["result"]
    assert updates[0]["channel_post"]["sender_chat"]["id"] == CHANNEL
    origin = updates[1]["message"]["forward_origin"]
    assert origin == {
        "type": "channel",
        "chat": {"id": CHANNEL, "type": "channel", "title": "Wire", "username": "wire"},
        "message_id": post["message_id"],
        "date": origin["date"],
    }
