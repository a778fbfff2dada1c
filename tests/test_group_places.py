"""The bot in groups beyond subscribing: what its admins do to it there, and what it hears."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.briefings.compose import compose_scheduled
from bot.services.context import Services
from bot.settings import Settings
from bot.storage.models import Chat, Outbox, Subscription
from tests.support.botharness import make_settings, running_bot, say, wait_for
from tests.support.fake_telegram import FakeTelegram
from tests.support.feedserver import FeedServer
from tests.support.outboxkit import open_bot
from tests.support.seed import seed_headlines
from tests.test_display_settings import USER, briefing_calls

GROUP = -1005550000001
ADMIN, MEMBER = 3101, 3102


@pytest.fixture
async def bot(
    tg: FakeTelegram, sqlite_engine: Engine
) -> AsyncIterator[tuple[Settings, Engine, Services]]:
    tg.add_group(GROUP, "Newsroom", admins=[ADMIN], members=[MEMBER])
    settings = make_settings(tg)
    async with running_bot(settings, sqlite_engine) as services:
        yield settings, sqlite_engine, services


def stored(engine: Engine, chat_id: int) -> Chat:
    with Session(engine) as session:
        chat = session.get(Chat, chat_id)
    assert chat is not None
    return chat


async def deliver_due(services: Services, engine: Engine, settings: Settings) -> datetime:
    """Compose the group's next briefing at its time and send it, as the ticks would."""
    due = stored(engine, GROUP).next_briefing_at
    assert due is not None
    at = due + timedelta(minutes=1)
    seed_headlines(engine, [f"Summit opens in Geneva {at:%H%M%S%f}"], now=at)
    await asyncio.to_thread(compose_scheduled, engine, settings, now=at)
    assert services.sender is not None
    services.sender.clock = lambda: at
    await services.sender.deliver_due(budget_seconds=10)
    return at


async def test_a_group_that_restricts_the_bot_pauses_and_resumes_when_it_lifts_that(
    tg: FakeTelegram, bot
) -> None:
    """Admins who take the bot's right to send (Telegram: my_chat_member `restricted`)
    pause the group's briefings; lifting the restriction resumes them."""
    settings, engine, services = bot
    await say(tg, GROUP, "/subscribe world", from_user=ADMIN)
    tg.member_update(GROUP, "restricted", from_user=ADMIN)
    await wait_for(tg, lambda: not stored(engine, GROUP).active)
    tg.member_update(GROUP, "member", from_user=ADMIN)
    await wait_for(tg, lambda: stored(engine, GROUP).active)
    before = len(tg.messages(GROUP))
    await deliver_due(services, engine, settings)
    assert "Summit opens in Geneva" in tg.messages(GROUP)[before].text


async def test_a_briefing_refused_for_want_of_the_right_to_send_pauses_the_group(
    tg: FakeTelegram, bot
) -> None:
    """Telegram's word at send time (the restriction's update was missed): the group
    pauses like a blocked chat, and the refusal is not reported as our bug."""
    settings, engine, services = bot
    await say(tg, GROUP, "/subscribe world", from_user=ADMIN)
    tg.chat(GROUP).bot_status = "restricted"  # no update: the bot was down meanwhile
    before = len(tg.messages(GROUP))
    await deliver_due(services, engine, settings)
    assert len(tg.messages(GROUP)) == before
    assert not stored(engine, GROUP).active
    with Session(engine) as session:
        rows = session.exec(select(Outbox.status, Outbox.error)).all()
    assert [status for status, _ in rows] == ["cancelled"]
    assert "not enough rights" in (rows[0][1] or "").lower()


async def test_a_reply_refused_for_want_of_the_right_to_send_pauses_and_is_no_error(
    tg: FakeTelegram, bot, caplog: pytest.LogCaptureFixture
) -> None:
    _settings, engine, _services = bot
    await say(tg, GROUP, "/subscribe world", from_user=ADMIN)
    tg.chat(GROUP).bot_status = "restricted"
    tg.send_text(GROUP, "/help", from_user=MEMBER)
    await wait_for(tg, lambda: not stored(engine, GROUP).active)
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


async def test_a_chat_that_forbids_photos_gets_its_briefing_as_text(
    sqlite_engine: Engine, tg: FakeTelegram, server: FeedServer
) -> None:
    """A group may allow its members text but no media: the lead image is left out and
    the briefing goes out as text; the chat stays active."""
    refused = "Bad Request: not enough rights to send photos to the chat"
    tg.fail_next("sendPhoto", status=400, description=refused)
    async with open_bot(tg, pool_size=8) as sender_bot:
        calls = await briefing_calls(
            sqlite_engine, tg, sender_bot, server, lead_image=True, max_items=5
        )
    assert [method for method, _ in calls] == ["sendPhoto", "sendMessage"]
    assert "Headline 0" in tg.messages(USER)[0].text and stored(sqlite_engine, USER).active


ANONYMOUS_ADMIN = {"id": 1087968824, "is_bot": True, "first_name": "Group"}


async def test_anonymous_admins_change_the_group_and_a_channel_persona_does_not(
    tg: FakeTelegram, bot
) -> None:
    """Telegram: an anonymous admin writes as GroupAnonymousBot with sender_chat = the
    group (an admin, so allowed); a member writing as a channel of theirs is no admin."""
    _settings, engine, _services = bot
    group = tg.chat(GROUP).to_api()
    persona = {"id": -1007770000001, "type": "channel", "title": "Someone's channel"}

    async def command(text: str, sender: dict[str, Any], sender_chat: dict[str, Any]) -> str:
        before = len(tg.messages(GROUP))
        entity = {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
        message = {"from": sender, "sender_chat": sender_chat, "chat": group, "text": text}
        tg.push_update({"message": {"message_id": 900 + before, "date": 0, **message,
                                    "entities": [entity]}})  # fmt: skip
        [reply] = (await wait_for(tg, GROUP, before + 1))[before:]
        return str(reply.text)

    assert "Subscribed to: World" in await command("/subscribe world", ANONYMOUS_ADMIN, group)
    channel_bot = {"id": 136817688, "is_bot": True, "first_name": "Channel"}
    refused = await command("/subscribe tech", channel_bot, persona)
    assert "only the group's admins" in refused
    assert "Deutsch" in await command("/language de", ANONYMOUS_ADMIN, group)
    with Session(engine) as session:
        topics = session.exec(select(Subscription.topic).where(Subscription.chat_id == GROUP))
        assert sorted(topics.all()) == ["world"]
