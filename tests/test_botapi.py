"""The sender's Bot API replies read as PTB reads them (pure; the wire path is in test_delivery)."""

from __future__ import annotations

import json

import pytest
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter

from bot.delivery.botapi import message_body, raise_for_reply
from bot.delivery.pacing import concurrency_for, retry_seconds


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
