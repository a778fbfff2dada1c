"""The fake Bot API refuses what Telegram refuses for photos, captions and link previews."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.fake_telegram import FakeTelegram

USER = 7001


def call(tg: FakeTelegram, method: str, **data: Any) -> tuple[int, dict[str, Any]]:
    reply = httpx.post(f"{tg.base_url}{tg.token}/{method}", data=data, timeout=10)
    return reply.status_code, reply.json()


@pytest.mark.parametrize(
    ("options", "description"),
    [
        ("not json", "Bad Request: can't parse link preview options JSON object"),
        ("[]", "Bad Request: object expected as link preview options"),
        ('{"is_disabled": "1"}', 'Bad Request: field "is_disabled" must be of type Boolean'),
        (
            '{"prefer_small_media": 1}',
            'Bad Request: field "prefer_small_media" must be of type Boolean',
        ),
        ('{"url": 5}', 'Bad Request: field "url" must be of type String'),
    ],
)
def test_link_preview_options_are_validated(
    tg: FakeTelegram, options: str, description: str
) -> None:
    tg.add_private_chat(USER)
    status, body = call(tg, "sendMessage", chat_id=USER, text="hi", link_preview_options=options)
    assert (status, body["description"]) == (400, description)
    assert tg.messages(USER) == []


def test_valid_link_preview_options_are_accepted(tg: FakeTelegram) -> None:
    tg.add_private_chat(USER)
    options = '{"url": "https://news.example/1", "prefer_large_media": true}'
    status, _ = call(tg, "sendMessage", chat_id=USER, text="hi", link_preview_options=options)
    assert status == 200


def test_photo_caption_limit_and_unreachable_photo_urls(tg: FakeTelegram) -> None:
    tg.add_private_chat(USER)
    photo = "https://img.example/a.jpg"
    status, body = call(tg, "sendPhoto", chat_id=USER, photo=photo, caption="x" * 1025)
    assert (status, body["description"]) == (400, "Bad Request: message caption is too long")
    status, _ = call(
        tg, "sendPhoto", chat_id=USER, photo=photo, caption="<b>x</b>", parse_mode="HTML"
    )
    assert status == 200
    tg.unreachable_photos.add(photo)
    status, body = call(tg, "sendPhoto", chat_id=USER, photo=photo)
    assert (status, body["description"]) == (400, "Bad Request: failed to get HTTP URL content")
    status, body = call(tg, "sendPhoto", chat_id=USER, photo="ftp://img.example/a.jpg")
    assert (status, body["description"]) == (
        400,
        "Bad Request: wrong file identifier/HTTP URL specified",
    )
    assert [m.kind for m in tg.messages(USER)] == ["photo"]
