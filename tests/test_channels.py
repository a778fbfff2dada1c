"""Channels managed from a private chat: /manage, rights from getChatMember, own schedule."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.briefings.compose import compose_scheduled
from bot.services.context import Services
from bot.settings import Settings
from bot.storage.models import ChannelManager, Chat, Subscription
from tests.support.botharness import converse, make_settings, running_bot, say, wait_for
from tests.support.fake_telegram import FakeTelegram
from tests.support.seed import seed_headlines

OWNER, STRANGER = 701, 702
CHANNEL = -1009876543210


@pytest.fixture
async def bot(tg: FakeTelegram, engine: Engine) -> AsyncIterator[tuple[Settings, Engine, Services]]:
    tg.add_private_chat(OWNER)
    tg.add_private_chat(STRANGER)
    tg.add_channel(CHANNEL, "Daily Wire", username="dailywire", admins=[OWNER])
    settings = make_settings(tg)
    async with running_bot(settings, engine) as services:
        yield settings, engine, services


def subscriptions(engine: Engine, chat_id: int) -> list[str]:
    with Session(engine) as session:
        query = select(Subscription.topic).where(Subscription.chat_id == chat_id)
        return sorted(session.exec(query).all())


async def test_managed_channel_gets_its_briefing_at_its_own_time(tg: FakeTelegram, bot) -> None:
    settings, engine, services = bot
    await converse(
        tg,
        OWNER,
        [
            ("/start", ("Welcome",)),  # the owner's own chat exists, due at 08:00
            ("/manage @dailywire", ("Now managing Daily Wire",)),
            ("/subscribe world", ("Managing Daily Wire", "Subscribed to: World")),
            ("/schedule 06:15", ("Managing Daily Wire", "06:15")),
            ("/mute football", ("Managing Daily Wire", "Muted: “football”")),
        ],
    )
    assert subscriptions(engine, CHANNEL) == ["world"]
    assert subscriptions(engine, OWNER) == []  # the owner's own chat is untouched
    with Session(engine) as session:
        channel, own = session.get(Chat, CHANNEL), session.get(Chat, OWNER)
    assert channel is not None and channel.type == "channel" and channel.briefing_times == "06:15"
    assert own is not None and own.briefing_times == "08:00"
    assert channel.next_briefing_at is not None
    at = channel.next_briefing_at + timedelta(minutes=1)
    seed_headlines(engine, ["Summit opens in Geneva", "Football final tonight"], now=at)
    stats = await asyncio.to_thread(compose_scheduled, engine, settings, now=at)
    assert stats.briefings == 1  # the owner's chat (08:00) is not due at 06:16
    assert services.sender is not None
    services.sender.clock = lambda: at
    await services.sender.deliver_due(budget_seconds=10)
    [briefing] = tg.messages(CHANNEL)
    assert "Summit opens in Geneva" in briefing.text and "Football" not in briefing.text

    # /manage lists it; /manage off goes back to the owner's own chat.
    await converse(
        tg,
        OWNER,
        [
            ("/manage", ("Channels you manage", "▶️ Daily Wire")),
            ("/manage off", ("Back to your own chat", "Daily Wire keeps its settings")),
            ("/subscribe tech", ("Subscribed to: Technology",)),
        ],
    )
    assert subscriptions(engine, OWNER) == ["tech"]
    assert subscriptions(engine, CHANNEL) == ["world"]


async def test_a_non_admin_cannot_manage_a_channel(tg: FakeTelegram, bot) -> None:
    _settings, engine, _services = bot
    [refused] = await say(tg, STRANGER, "/manage @dailywire")
    assert "you are not one of them" in refused.text
    [own] = await say(tg, STRANGER, "/subscribe science")
    assert "Managing" not in own.text
    assert subscriptions(engine, CHANNEL) == [] and subscriptions(engine, STRANGER) == ["science"]
    with Session(engine) as session:
        assert session.exec(select(ChannelManager)).all() == []


async def test_lost_admin_loses_access_at_the_next_command(tg: FakeTelegram, bot) -> None:
    _settings, engine, _services = bot
    await converse(tg, OWNER, [("/manage @dailywire", ("Now managing",))])
    tg.set_admins(CHANNEL, [])
    [lost] = await say(tg, OWNER, "/subscribe world")
    assert "no longer an admin of Daily Wire" in lost.text
    assert subscriptions(engine, CHANNEL) == [] and subscriptions(engine, OWNER) == []
    [listing] = await say(tg, OWNER, "/manage")
    assert "You manage no channels yet" in listing.text


async def test_forwarded_post_and_refusals(tg: FakeTelegram, bot) -> None:
    _settings, engine, _services = bot
    tg.add_channel(
        -1001111111111, "Mute Channel", username="nopost", admins=[OWNER], bot_can_post=False
    )
    tg.add_channel(
        -1002222222222, "Elsewhere", username="elsewhere", admins=[OWNER], bot_is_admin=False
    )
    await converse(
        tg,
        OWNER,
        [
            ("/manage @nopost", ("I can't post in", "Mute Channel")),
            ("/manage @elsewhere", ("I can't find",)),
            ("/manage @nosuchchannel", ("I can't find", "@nosuchchannel")),
            ("/manage a b", ("Usage: /manage",)),
        ],
    )
    post = tg.post_in_channel(CHANNEL, "Today's edition")
    before = len(tg.messages(OWNER))
    tg.forward_channel_post(OWNER, CHANNEL, post["message_id"])
    [started] = (await wait_for(tg, OWNER, before + 1))[before:]
    assert "Now managing Daily Wire" in started.text
    [picker] = await say(tg, OWNER, "/topics")
    assert picker.text.startswith("📣 Managing Daily Wire")
    tg.press_button(OWNER, picker.message_id, "tp:+world")
    await wait_for(tg, lambda: subscriptions(engine, CHANNEL) == ["world"])
    await wait_for(tg, lambda: tg.messages(OWNER)[-1].buttons[0]["text"] == "✅ World")
    assert subscriptions(engine, OWNER) == []


async def test_manage_in_a_group_points_to_the_private_chat(tg: FakeTelegram, bot) -> None:
    tg.add_group(-5005, admins=[OWNER])
    [reply] = await say(tg, -5005, "/manage @dailywire", from_user=OWNER)
    assert "in a private chat" in reply.text


async def test_a_german_owner_is_answered_in_german_while_managing(tg: FakeTelegram, bot) -> None:
    german = 703
    tg.add_private_chat(german, language_code="de")
    tg.set_admins(CHANNEL, [OWNER, german])
    await say(tg, german, "/start")
    [started] = await say(tg, german, "/manage @dailywire")
    assert started.text.startswith("📣 Du verwaltest jetzt Daily Wire.")
    [muted] = await say(tg, german, "/mute football")
    assert muted.text.startswith("📣 Verwaltet: Daily Wire\n🔇 Stummgeschaltet: “football”.")
    [off] = await say(tg, german, "/manage off")
    assert off.text == "Zurück in deinem eigenen Chat; Daily Wire behält seine Einstellungen."


async def test_latest_while_managing_lists_the_channel_in_the_owners_language(
    tg: FakeTelegram, bot
) -> None:
    _settings, engine, _services = bot
    german = 704
    tg.add_private_chat(german, language_code="de")
    tg.set_admins(CHANNEL, [OWNER, german])
    seed_headlines(engine, ["Summit opens in Geneva"], now=datetime.now(UTC), topic="world")
    seed_headlines(engine, ["Chip maker doubles output"], now=datetime.now(UTC), topic="tech")
    await converse(tg, german, [("/subscribe tech", ("Abonniert",))])  # its own chat: tech
    await converse(tg, german, [("/manage @dailywire", ("Daily Wire",))])
    await converse(tg, german, [("/subscribe world", ("Daily Wire",))])
    [listing] = await say(tg, german, "/latest")
    assert listing.text.startswith("📣 Verwaltet: Daily Wire")
    assert "Summit opens in Geneva" in listing.text and "Chip maker" not in listing.text
    await converse(tg, german, [("/manage off", ("Zurück",))])
    [own] = await say(tg, german, "/latest")
    assert "Chip maker doubles output" in own.text and "Summit" not in own.text
    assert "Verwaltet" not in own.text


async def test_lost_admin_is_told_at_latest_and_gets_nothing_listed(tg: FakeTelegram, bot) -> None:
    _settings, engine, _services = bot
    seed_headlines(engine, ["Summit opens in Geneva"], now=datetime.now(UTC), topic="world")
    await converse(tg, OWNER, [("/manage @dailywire", ("Now managing",))])
    tg.set_admins(CHANNEL, [])
    [lost] = await say(tg, OWNER, "/latest")
    assert "no longer an admin of Daily Wire" in lost.text
    [own] = await say(tg, OWNER, "/latest")  # back on the owner's own chat
    assert "Summit opens in Geneva" in own.text and "Managing" not in own.text


async def test_settings_and_language_taps_while_managing_change_the_channel(
    tg: FakeTelegram, bot
) -> None:
    """The keyboards a managed channel's /settings and /language draw change the channel,
    in the owner's language, and the edited keyboard still says which chat it is about."""
    _settings, engine, _services = bot
    await converse(tg, OWNER, [("/start", ("Welcome",)), ("/manage @dailywire", ("Now managing",))])
    await converse(tg, OWNER, [("/language de", ("Managing Daily Wire",))])  # the channel's
    [board] = await say(tg, OWNER, "/settings")
    assert board.text.startswith("📣 Managing Daily Wire\n⚙️ Settings for this chat")
    tg.press_button(OWNER, board.message_id, "st:q:1")
    await wait_for(tg, lambda: board.buttons[-1]["text"] == "🔕 Quiet delivery: on")
    assert board.text.startswith("📣 Managing Daily Wire\n⚙️ Settings")  # edited in place
    [picker] = await say(tg, OWNER, "/language")
    assert any(b["text"] == "✅ Deutsch" for b in picker.buttons)  # the channel's language
    tg.press_button(OWNER, picker.message_id, "lg:es")
    await wait_for(tg, lambda: picker.buttons == [])
    with Session(engine) as session:
        channel, own = session.get(Chat, CHANNEL), session.get(Chat, OWNER)
    assert channel is not None and own is not None
    assert channel.quiet and channel.language == "es"
    assert not own.quiet and own.language == "en"


async def test_managers_are_told_when_the_bot_loses_and_regains_the_right_to_post(
    tg: FakeTelegram, bot
) -> None:
    """Telegram's my_chat_member: still an admin of the channel, but without the right to
    post. The channel pauses at once, and each manager hears it in their own language."""
    _settings, engine, _services = bot
    german = 705
    tg.add_private_chat(german, language_code="de")
    tg.set_admins(CHANNEL, [OWNER, german])
    await converse(tg, OWNER, [("/manage @dailywire", ("Now managing",))])
    await converse(tg, german, [("/start", ("Willkommen",)), ("/manage @dailywire", ("Daily",))])
    owner_before, german_before = len(tg.messages(OWNER)), len(tg.messages(german))
    tg.member_update(CHANNEL, "administrator", can_post=False, from_user=OWNER)
    [paused] = (await wait_for(tg, OWNER, owner_before + 1))[owner_before:]
    assert paused.text.startswith("⏸ I can no longer post in Daily Wire")
    [pausiert] = (await wait_for(tg, german, german_before + 1))[german_before:]
    assert pausiert.text.startswith("⏸ Ich kann in Daily Wire nicht mehr posten")
    with Session(engine) as session:
        channel = session.get(Chat, CHANNEL)
        assert channel is not None and not channel.active
    tg.member_update(CHANNEL, "administrator", can_post=True, from_user=OWNER)
    [resumed] = (await wait_for(tg, OWNER, owner_before + 2))[owner_before + 1 :]
    assert resumed.text == "▶️ I can post in Daily Wire again; its briefings resume."
    with Session(engine) as session:
        channel = session.get(Chat, CHANNEL)
        assert channel is not None and channel.active


async def test_start_does_not_resume_a_channel_the_bot_still_may_not_post_in(
    tg: FakeTelegram, bot
) -> None:
    _settings, engine, _services = bot
    await converse(tg, OWNER, [("/manage @dailywire", ("Now managing",))])
    before = len(tg.messages(OWNER))
    tg.member_update(CHANNEL, "administrator", can_post=False, from_user=OWNER)
    await wait_for(tg, OWNER, before + 1)  # the owner is told it paused
    [refused] = await say(tg, OWNER, "/start")
    assert "I can no longer post in Daily Wire" in refused.text
    with Session(engine) as session:
        channel = session.get(Chat, CHANNEL)
        assert channel is not None and not channel.active
    tg.chat(CHANNEL).bot_can_post = True  # given back; Telegram's update never arrived
    [resumed] = await say(tg, OWNER, "/start")
    assert "Deliveries resumed" in resumed.text
    with Session(engine) as session:
        channel = session.get(Chat, CHANNEL)
        assert channel is not None and channel.active
