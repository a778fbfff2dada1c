"""/settings: each choice changes what the fake Bot API receives, from real feeds to sending.

Feeds are served over HTTP on 127.0.0.1 and ingested for real; briefings are
composed into the outbox and sent by the real sender to the strict fake Bot API.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from telegram import Bot

from bot.briefings.compose import compose_scheduled
from bot.delivery.pacing import Pacer
from bot.delivery.sender import Sender
from bot.settings import FeedConfig, Settings
from bot.storage.models import Chat, Story, utcnow
from tests.support.botharness import make_settings, refresh_once, running_bot, say, wait_for
from tests.support.fake_telegram import FakeTelegram
from tests.support.feedserver import FeedServer, Reply
from tests.support.forged import push_forged_tap, tap_answers
from tests.support.outboxkit import drain, open_bot
from tests.support.tghtml_check import check_message

USER, GROUP, MEMBER = 4001, -5001, 4002
IMAGE = "https://img.example/photo-{n}.jpg"


def feed_xml(count: int, *, long: bool) -> bytes:
    """`count` items, newest first, of the last few hours (older ones are no news);
    each has a media:thumbnail, some hostile ones too."""
    words = "Officials said the plan would take effect next spring after a long review. " * (
        3 if long else 1
    )
    items = []
    recent = utcnow().replace(microsecond=0) - timedelta(hours=1)
    for n in range(count):
        thumb = IMAGE.format(n=n) if n % 3 != 1 else "javascript:alert(1)"
        items.append(
            f"<item><guid>g{n}</guid><title>Headline {n}</title>"
            f"<link>https://news.example/{n}</link>"
            f"<pubDate>{format_datetime(recent - timedelta(minutes=n), usegmt=True)}</pubDate>"
            f'<media:thumbnail url="{thumb}"/>'
            f"<description>Summary {n}: {words}</description></item>"
        )
    return (
        '<?xml version="1.0"?><rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/">'
        f"<channel><title>Wire</title><link>https://news.example/</link>{''.join(items)}"
        "</channel></rss>"
    ).encode()


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    async with open_bot(tg, pool_size=8) as b:
        yield b


async def briefing_calls(
    engine: Engine,
    tg: FakeTelegram,
    bot: Bot,
    server: FeedServer,
    *,
    long: bool = False,
    **prefs: Any,
) -> list[tuple[str, dict[str, Any]]]:
    """Ingest the feed, compose one briefing for a chat with `prefs`, send it; the calls."""
    server.route(
        "/feed.xml", Reply(200, {"Content-Type": "application/rss+xml"}, feed_xml(20, long=long))
    )
    settings = make_settings(tg, feeds=(FeedConfig(server.url("/feed.xml"), "Wire", ()),))
    await refresh_once(engine, settings)
    tg.add_private_chat(USER)
    now = utcnow()
    with Session(engine) as session:
        chat = Chat(id=USER, created_at=now, updated_at=now, **prefs)
        chat.next_briefing_at = now - timedelta(minutes=1)
        session.add(chat)
        session.commit()
    assert compose_scheduled(engine, settings, now=now).briefings == 1
    sender = Sender(engine=engine, bot=bot, pacer=Pacer(per_second=30), backoff=lambda n: 0.1)
    await drain(sender)
    await sender.aclose()
    return [
        (r.method, r.params)
        for r in tg.requests
        if r.method in ("sendMessage", "sendPhoto") and str(r.params.get("chat_id")) == str(USER)
    ]


def _items(text: str) -> int:
    return sum(1 for line in text.splitlines() if line[:1].isdigit() and ". " in line)


async def test_defaults_plain_text_no_preview_with_notification(
    engine: Engine, tg: FakeTelegram, bot: Bot, server: FeedServer
) -> None:
    [(method, params)] = await briefing_calls(engine, tg, bot, server)
    assert method == "sendMessage"
    assert params["link_preview_options"] == {"is_disabled": True}
    assert "disable_notification" not in params
    assert _items(check_message(params["text"])) == 10  # briefing.max_items
    assert "Summary 0" not in params["text"]


@pytest.mark.parametrize(
    ("size", "flag"), [("small", "prefer_small_media"), ("large", "prefer_large_media")]
)
async def test_link_preview_shows_the_lead_story(
    engine: Engine, tg: FakeTelegram, bot: Bot, server: FeedServer, size: str, flag: str
) -> None:
    [(_, params)] = await briefing_calls(engine, tg, bot, server, link_preview=size)
    assert params["link_preview_options"] == {"url": "https://news.example/0", flag: True}


async def test_items_summaries_and_quiet(
    engine: Engine, tg: FakeTelegram, bot: Bot, server: FeedServer
) -> None:
    calls = await briefing_calls(engine, tg, bot, server, max_items=5, summaries=True, quiet=True)
    [(_, params)] = calls
    shown = check_message(params["text"])
    assert _items(shown) == 5
    assert "Summary 0: Officials said" in shown and "Summary 4:" in shown
    assert params["disable_notification"] is True


async def test_fifteen_items(
    engine: Engine, tg: FakeTelegram, bot: Bot, server: FeedServer
) -> None:
    calls = await briefing_calls(engine, tg, bot, server, max_items=15)
    assert sum(_items(p["text"]) for _, p in calls) == 15


async def test_lead_image_as_photo_with_the_briefing_as_caption(
    engine: Engine, tg: FakeTelegram, bot: Bot, server: FeedServer
) -> None:
    calls = await briefing_calls(engine, tg, bot, server, lead_image=True, max_items=5)
    [(method, params)] = calls
    assert method == "sendPhoto"
    assert params["photo"] == IMAGE.format(n=0)  # the feed's own URL, as the feed gave it
    assert params["parse_mode"] == "HTML"
    assert len(check_message(params["caption"], limit=1024)) <= 1024
    assert _items(params["caption"]) == 5
    assert tg.messages(USER)[0].kind == "photo" and tg.messages(USER)[0].buttons


async def test_lead_image_separately_when_the_briefing_is_longer_than_a_caption(
    engine: Engine, tg: FakeTelegram, bot: Bot, server: FeedServer
) -> None:
    calls = await briefing_calls(
        engine,
        tg,
        bot,
        server,
        long=True,
        lead_image=True,
        summaries=True,
        max_items=15,
        quiet=True,
    )
    assert [m for m, _ in calls][:2] == ["sendPhoto", "sendMessage"]
    photo = calls[0][1]
    assert photo["photo"] == IMAGE.format(n=0) and "caption" not in photo
    assert all(p["disable_notification"] is True for _, p in calls)
    assert sum(_items(p["text"]) for _, p in calls[1:]) == 15


async def test_only_the_feeds_own_http_images_reach_telegram(
    engine: Engine, tg: FakeTelegram, bot: Bot, server: FeedServer
) -> None:
    await briefing_calls(engine, tg, bot, server, lead_image=True, max_items=5)
    with Session(engine) as session:
        stored = set(session.exec(select(Story.image_url)).all())
    wanted = {IMAGE.format(n=n) for n in range(20) if n % 3 != 1}
    assert stored == wanted | {None}  # every "javascript:" thumbnail was refused
    photos = [r.params["photo"] for r in tg.requests if r.method == "sendPhoto"]
    assert photos and all(p in wanted for p in photos)


async def test_a_photo_telegram_cannot_fetch_still_delivers_the_briefing(
    engine: Engine, tg: FakeTelegram, bot: Bot, server: FeedServer
) -> None:
    tg.unreachable_photos.add(IMAGE.format(n=0))
    calls = await briefing_calls(engine, tg, bot, server, lead_image=True, max_items=5)
    assert [m for m, _ in calls] == ["sendPhoto", "sendMessage"]
    assert _items(tg.messages(USER)[0].text) == 5


# ---------------------------------------------------------------- the /settings keyboard


@pytest.fixture
async def running(tg: FakeTelegram, engine: Engine) -> AsyncIterator[Settings]:
    settings = make_settings(tg)
    async with running_bot(settings, engine):
        yield settings


def _chat(engine: Engine, chat_id: int) -> Chat:
    with Session(engine) as session:
        chat = session.get(Chat, chat_id)
        assert chat is not None
        return chat


async def test_settings_keyboard_is_edited_in_place(
    tg: FakeTelegram, running: Settings, engine: Engine
) -> None:
    tg.add_private_chat(USER)
    [panel] = await say(tg, USER, "/settings")
    labels = [b["text"] for b in panel.buttons]
    assert labels == [
        "🔗 Link preview: off",
        "🖼 Lead image: off",
        "📝 Summaries: off",
        "🔢 Stories per briefing: 10",
        "🔕 Quiet delivery: off",
    ]
    steps = [
        ("st:p:small", "🔗 Link preview: small"),
        ("st:p:large", "🔗 Link preview: large"),
        ("st:i:1", "🖼 Lead image: on"),
        ("st:s:1", "📝 Summaries: on"),
        ("st:n:15", "🔢 Stories per briefing: 15"),
        ("st:q:1", "🔕 Quiet delivery: on"),
    ]
    for data, label in steps:
        tg.press_button(USER, panel.message_id, data)
        await wait_for(
            tg, lambda label=label: label in [b["text"] for b in tg.messages(USER)[0].buttons]
        )
    assert len(tg.messages(USER)) == 1  # one message, edited each time
    chat = _chat(engine, USER)
    assert (chat.link_preview, chat.lead_image, chat.summaries, chat.max_items, chat.quiet) == (
        "large",
        True,
        True,
        15,
        True,
    )
    # A double tap (the same button twice) and forged values change nothing and break nothing.
    first = tg.press_button(USER, panel.message_id, "st:q:0")
    second = tg.press_button(USER, panel.message_id, "st:q:0")
    await wait_for(tg, lambda: tg.callback_answer(first) and tg.callback_answer(second))
    await wait_for(
        tg, lambda: "🔕 Quiet delivery: off" in [b["text"] for b in tg.messages(USER)[0].buttons]
    )
    for data in ("st:n:999", "st:x:1", "st:p", "lg:klingon"):
        forged = push_forged_tap(tg, USER, panel.message_id, data, user_id=USER)
        await wait_for(tg, lambda forged=forged: tap_answers(tg, forged))
        assert (
            "not valid" in tap_answers(tg, forged)[0]["text"]
            or "expired" in (tap_answers(tg, forged)[0]["text"])
        )
    chat = _chat(engine, USER)
    assert (chat.max_items, chat.quiet, chat.language) == (15, False, "en")


async def test_in_groups_only_admins_change_settings(
    tg: FakeTelegram, running: Settings, engine: Engine
) -> None:
    tg.add_group(GROUP, admins=[USER], members=[MEMBER])
    [panel] = await say(tg, GROUP, "/settings", from_user=MEMBER)
    query = tg.press_button(GROUP, panel.message_id, "st:q:1", from_user=MEMBER)
    await wait_for(tg, lambda: tg.callback_answer(query) is not None)
    assert "only the group's admins" in tg.callback_answer(query)["text"]
    with Session(engine) as session:  # /settings only reads: a refused tap wrote nothing
        assert session.get(Chat, GROUP) is None
    tg.press_button(GROUP, panel.message_id, "st:q:1", from_user=USER)

    def quiet_now() -> bool:
        with Session(engine) as session:
            chat = session.get(Chat, GROUP)
            return chat is not None and chat.quiet is True

    await wait_for(tg, quiet_now)


async def test_help_names_the_configured_defaults(tg: FakeTelegram, running: Settings) -> None:
    tg.add_private_chat(USER)
    [reply] = await say(tg, USER, "/help")
    assert "/settings: link preview, lead image" in reply.text
    assert (
        "New chats start with: link preview off, lead image off, summaries off,"
        " 10 stories per briefing, quiet delivery off" in reply.text
    )


async def test_a_lone_photo_telegram_cannot_fetch_fails_alone(
    engine: Engine, tg: FakeTelegram, bot: Bot, server: FeedServer
) -> None:
    tg.unreachable_photos.add(IMAGE.format(n=0))
    calls = await briefing_calls(
        engine, tg, bot, server, long=True, lead_image=True, summaries=True, max_items=15
    )
    assert calls[0][0] == "sendPhoto"
    assert sum(_items(p["text"]) for m, p in calls if m == "sendMessage") == 15
    assert [m.kind for m in tg.messages(USER)] == ["text"] * (len(calls) - 1)
