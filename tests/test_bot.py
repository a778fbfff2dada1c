"""A subscriber's path through the real PTB stack against the strict fake Bot API."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.render import texts
from bot.settings import FeedConfig, Settings
from bot.storage.models import ArticleText, Chat, Subscription
from tests.support.botharness import (
    converse,
    make_settings,
    refresh_once,
    running_bot,
    say,
    wait_for,
)
from tests.support.fake_telegram import FakeTelegram
from tests.support.feedserver import FeedServer, Reply
from tests.support.forged import push_forged_tap, tap_answers
from tests.support.samples import (
    ARTICLES,
    NEWS_FURNITURE,
    NEWS_PARAGRAPHS,
    TRAM_HEADLINE,
    serve_news,
)

USER = 1001


@pytest.fixture
def server(server: FeedServer) -> FeedServer:
    return serve_news(server)


@pytest.fixture
async def bot(
    tg: FakeTelegram, server: FeedServer, engine: Engine
) -> AsyncIterator[tuple[Settings, Engine]]:
    feeds = (FeedConfig(server.url("/feed.xml"), "Local News", ()),)
    settings = make_settings(tg, feeds=feeds)
    await refresh_once(engine, settings)
    async with running_bot(settings, engine):
        yield settings, engine


def html_of(tg: FakeTelegram, chat_id: int) -> list[str]:
    return [m.html or "" for m in tg.messages(chat_id)]


async def test_start_shows_welcome_and_topic_picker_that_toggles(tg: FakeTelegram, bot) -> None:
    _settings, engine = bot
    tg.add_private_chat(USER)
    [welcome] = await say(tg, USER, "/start")
    assert "Welcome" in welcome.text
    labels = [b["text"] for b in welcome.buttons]
    assert labels == ["World", "Technology", "Science"]
    assert tg.commands()  # setMyCommands ran at startup
    tg.press_button(USER, welcome.message_id, "tp:+world")
    await wait_for(tg, lambda: any(b["text"] == "✅ World" for b in tg.messages(USER)[0].buttons))
    with Session(engine) as session:
        subs = session.exec(select(Subscription.topic)).all()
        assert subs == ["world"]
    tg.press_button(USER, welcome.message_id, "tp:-world")
    await wait_for(tg, lambda: tg.messages(USER)[0].buttons[0]["text"] == "World")


def _button(message, label: str) -> str:
    """The callback data of `message`'s button labelled `label` (with or without ✅)."""
    return next(b["callback_data"] for b in message.buttons if b["text"].endswith(label))


async def test_a_picker_drawn_before_a_subscribe_does_what_it_shows(tg: FakeTelegram, bot) -> None:
    """/start's picker shows World unfollowed; /subscribe world; then a tap on that old
    World button: it follows World, as the button showed, instead of flipping it off."""
    _settings, engine = bot
    tg.add_private_chat(USER)
    [welcome] = await say(tg, USER, "/start")
    await say(tg, USER, "/subscribe world")
    query = tg.press_button(USER, welcome.message_id, _button(welcome, "World"))
    answer = await wait_for(tg, lambda: tg.callback_answer(query))
    assert answer.get("text") == "✅ World"
    await wait_for(tg, lambda: tg.messages(USER)[0].buttons[0]["text"] == "✅ World")
    with Session(engine) as session:
        assert session.exec(select(Subscription.topic)).all() == ["world"]
    # The redrawn button stops following; the legacy "flip" data still flips.
    query = tg.press_button(USER, welcome.message_id, _button(tg.messages(USER)[0], "World"))
    assert (await wait_for(tg, lambda: tg.callback_answer(query))).get("text") == "Removed World"
    query = push_forged_tap(tg, USER, welcome.message_id, "tp:world", user_id=USER)
    [answer] = await wait_for(tg, lambda: tap_answers(tg, query))
    assert answer.get("text") == "✅ World"


async def test_a_double_tap_on_a_topic_follows_it_once(tg: FakeTelegram, bot) -> None:
    """Both taps of a double tap carry the button's data as drawn: the topic is followed,
    not followed and then dropped again."""
    _settings, engine = bot
    tg.add_private_chat(USER)
    [welcome] = await say(tg, USER, "/start")
    data = _button(welcome, "Science")
    queries = [tg.press_button(USER, welcome.message_id, data) for _ in range(2)]
    await wait_for(tg, lambda: all(tg.callback_answer(q) for q in queries))
    assert [tg.callback_answer(q).get("text") for q in queries] == ["✅ Science"] * 2
    await wait_for(tg, lambda: tg.messages(USER)[0].buttons[2]["text"] == "✅ Science")
    with Session(engine) as session:
        assert session.exec(select(Subscription.topic)).all() == ["science"]


async def test_quick_taps_on_the_picker_are_answered_at_once_and_share_one_redraw(
    tg: FakeTelegram, engine: Engine
) -> None:
    """Three topics tapped while the picker's edit waits for its send slot (here a flood
    hold): each tap is answered at once, and one edit draws all three, instead of an edit
    per tap queued behind Telegram's per-chat limit (a storm of double taps halves)."""
    tg.add_private_chat(USER)
    async with running_bot(make_settings(tg), engine) as services:
        [welcome] = await say(tg, USER, "/start")
        services.pacer.hold(5.0)
        queries = [
            tg.press_button(USER, welcome.message_id, f"tp:+{slug}")
            for slug in ("world", "tech", "science")
        ]
        await wait_for(tg, lambda: all(tg.callback_answer(q) for q in queries))
        assert tg.calls("editMessageReplyMarkup") == []  # still waiting for its slot
        labels = ["✅ World", "✅ Technology", "✅ Science"]
        await wait_for(
            tg, lambda: [b["text"] for b in tg.messages(USER)[0].buttons] == labels, timeout=20
        )
        await asyncio.sleep(1.5)  # a second edit would follow the first at once
    assert len(tg.calls("editMessageReplyMarkup")) == 1


async def test_latest_lists_linked_headlines_with_fulltext_buttons(tg: FakeTelegram, bot) -> None:
    tg.add_private_chat(USER)
    [reply] = await say(tg, USER, "/latest 10")
    assert "Latest 4 stories" in reply.text
    assert "City council approves new tram line" in reply.text
    assert "Local News" in reply.text and "ago" in reply.text
    assert '<a href="' in (reply.html or "")
    assert all(len(b["callback_data"].encode()) <= 64 for b in reply.buttons)
    assert all(not b["callback_data"].startswith("http") for b in reply.buttons)
    # The hostile title arrived as literal text, not markup.
    assert "Hostile title a < b & c" in reply.text


async def test_fulltext_tap_sends_clean_article_then_serves_from_cache(
    tg: FakeTelegram, bot, server: FeedServer
) -> None:
    _settings, engine = bot
    tg.add_private_chat(USER)
    [reply] = await say(tg, USER, "/latest world")  # "world" category → World topic
    tram = next(b for b in reply.buttons if b["text"].endswith(" 1"))
    query = tg.press_button(USER, reply.message_id, tram["callback_data"])
    parts = await wait_for(tg, USER, 2)
    assert tg.callback_answer(query) is not None
    assert "typing" in tg.chat_actions(USER)
    text = "\n".join(m.text for m in parts[1:])
    assert parts[1].text.startswith(TRAM_HEADLINE)  # the headline tapped
    assert all(start in text for start in NEWS_PARAGRAPHS)
    assert not any(junk in text for junk in NEWS_FURNITURE)
    hits = server.hits["/articles/tram.html"]
    tg.press_button(USER, reply.message_id, tram["callback_data"])
    await wait_for(tg, USER, len(parts) * 2 - 1)
    assert server.hits["/articles/tram.html"] == hits  # second tap: from the database
    with Session(engine) as session:
        assert session.exec(select(ArticleText)).first() is not None


async def test_a_double_tap_on_the_fulltext_button_sends_the_article_once(
    tg: FakeTelegram, bot, server: FeedServer
) -> None:
    """Two taps in one breath (the first seems to do nothing while the page loads), or two
    members of a group tapping the same story: the article goes to the chat once."""
    group, members = -504, (2007, 2008)
    tg.add_group(group, members=members)
    page = (ARTICLES / "news_article.html").read_bytes()
    slow = Reply(200, {"Content-Type": "text/html"}, [page[:100], page[100:]], chunk_delay=0.5)
    server.route("/articles/tram.html", lambda _request: slow)
    for chat, user in ((USER, USER), (group, members[0])):
        if chat == USER:
            tg.add_private_chat(USER)
        [reply] = await say(tg, chat, "/latest world", from_user=user)
        tram = reply.buttons[0]["callback_data"]
        for tapper in (user, members[1] if chat == group else user):
            tg.press_button(chat, reply.message_id, tram, from_user=tapper)
        await wait_for(tg, chat, 2, timeout=20)
        await asyncio.sleep(3.5)  # a second copy would follow (a group's pace: 3 s a message)
        copies = [m for m in tg.messages(chat) if m.text.startswith(TRAM_HEADLINE)]
        assert len(copies) == 1, [m.text[:60] for m in tg.messages(chat)]


async def test_fulltext_failure_says_why_and_links(tg: FakeTelegram, bot) -> None:
    tg.add_private_chat(USER)
    [reply] = await say(tg, USER, "/latest tech")
    button = reply.buttons[0]
    tg.press_button(USER, reply.message_id, button["callback_data"])
    [_, failure] = await wait_for(tg, USER, 2)
    assert "Couldn't get the article" in failure.text and "HTTP 404" in failure.text
    assert "/articles/missing.html" in (failure.html or "")


async def test_subscribe_by_name_suggests_and_changes_nothing_on_typos(
    tg: FakeTelegram, bot
) -> None:
    _settings, engine = bot
    tg.add_private_chat(USER)
    [typo] = await say(tg, USER, "/subscribe tehc")
    assert 'There is no topic "tehc"' in typo.text and "tech" in typo.text
    with Session(engine) as session:
        assert session.exec(select(Subscription)).all() == []
    script = [
        ("/subscribe tech Science", ("Subscribed to: Science, Technology",)),
        ("/subscribe tech", ("Nothing changed",)),
        ("/unsubscribe science", ("Unsubscribed from: Science.",)),
        ("/unsubscribe all", ("Unsubscribed from every topic.",)),
        ("/unsubscribe all", ("Nothing changed: you follow no topics.",)),  # not "Unsubscribed"
    ]
    replies = await converse(tg, USER, script)
    # With no topic left, briefings bring every topic: the answer says so (it did not).
    nothing_left = "\nWith no topic chosen, your briefings bring every topic."
    assert [nothing_left in r.text for r in replies] == [False, False, False, True, False]
    with Session(engine) as session:
        assert session.exec(select(Subscription)).all() == []


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/latest 0", "Usage: /latest"),
        ("/latest 99", "Usage: /latest"),
        ("/latest a b c", "Usage: /latest"),
        ("/latest nosuchtopic", 'There is no topic "nosuchtopic"'),
        ("/subscribe", "Usage: /subscribe"),
        ("/unsubscribe", "Usage: /unsubscribe"),
        ("/schedule 25:00", "Usage: /schedule"),
        ("/timezone", "Usage: /timezone"),
        ("/timezone Mars/Base", 'Unknown time zone "Mars/Base"'),
        ("/frobnicate", "I don't know that command"),
        ("hello there", "I only understand commands"),
        ("/help", "/latest [topic] [n]"),
    ],
)
async def test_bad_input_gets_usage_not_silence(
    tg: FakeTelegram, bot, command: str, expected: str
) -> None:
    tg.add_private_chat(USER)
    [reply] = await say(tg, USER, command)
    assert expected in reply.text
    assert not tg.server_errors


async def test_latest_is_rate_limited_politely(tg: FakeTelegram, bot) -> None:
    tg.add_private_chat(USER)
    for _ in range(4):
        await say(tg, USER, "/latest 1")
    [limited] = await say(tg, USER, "/latest 1")
    assert "Please wait" in limited.text


async def test_mistyped_latest_does_not_spend_the_chats_listings(tg: FakeTelegram, bot) -> None:
    """`/latest 0`, `/latest 99`, `/latest nosuch` list nothing: the corrected request that
    follows them is answered with stories, not with "you asked for news a lot"."""
    tg.add_private_chat(USER)
    for typo in ("/latest 0", "/latest 99", "/latest nosuch", "/latest world 2 extra"):
        [reply] = await say(tg, USER, typo)
        assert "Please wait" not in reply.text, typo
    [listing] = await say(tg, USER, "/latest 1")
    assert "Latest 1 story" in listing.text


async def test_stop_then_start_resumes(tg: FakeTelegram, bot) -> None:
    _settings, engine = bot
    tg.add_private_chat(USER)
    await say(tg, USER, "/start")
    [stopped] = await say(tg, USER, "/stop")
    assert "Stopped" in stopped.text
    with Session(engine) as session:
        assert session.get(Chat, USER).stopped
    [resumed] = await say(tg, USER, "/start")
    assert "resumed" in resumed.text
    with Session(engine) as session:
        assert not session.get(Chat, USER).stopped


@pytest.mark.parametrize(
    ("data", "answer"),
    [("tp:world", "✅ World"), ("st:n:15", "Saved."), ("lg:de", None), ("fl:m:0123456789", None)],
)
async def test_a_tap_on_a_message_deleted_meanwhile_is_applied_without_an_apology(
    tg: FakeTelegram, bot, data: str, answer: str | None
) -> None:
    """The picker, /settings, /language or /filters message was deleted (by the user on
    another device, by a group admin) while the tap was on its way: the change is made and
    the tap answered; the redraw finds no message, which is nothing to apologise for."""
    tg.add_private_chat(USER)
    await say(tg, USER, "/mute football")  # a filter for the fl: tap to name
    key = tg.messages(USER)[0]  # any bot message id; the forged tap names a gone one
    gone = key.message_id + 100
    if data.startswith("fl:"):
        [listing] = await say(tg, USER, "/filters")
        data = listing.buttons[0]["callback_data"]
    query = push_forged_tap(tg, USER, gone, data, user_id=USER)
    await wait_for(tg, lambda: tap_answers(tg, query))
    if answer is not None:
        assert tap_answers(tg, query)[0].get("text") == answer
    edits = ("editMessageText", "editMessageReplyMarkup")
    await wait_for(tg, lambda: any(p.get("message_id") == gone for m in edits for p in tg.calls(m)))
    await asyncio.sleep(0.5)  # an apology would follow the failed edit
    assert not any("Sorry" in t or "Entschuldigung" in t for t in tg.texts(USER))


async def test_in_a_stopped_group_only_an_admin_start_resumes_and_a_member_is_told_so(
    tg: FakeTelegram, bot
) -> None:
    """A member's /start in a group its admins stopped is not welcomed as if briefings came:
    it is told that only the admins may, and the group stays stopped until one does."""
    _settings, engine = bot
    group, admin, member = -505, 2009, 2010
    tg.add_group(group, admins=[admin], members=[member])
    tg.send_text(group, "/stop", from_user=admin)
    await wait_for(tg, group, 1)
    tg.send_text(group, "/start", from_user=member)
    refused = (await wait_for(tg, group, 2))[1]
    assert "only the group's admins" in refused.text
    with Session(engine) as session:
        assert session.get(Chat, group).stopped
    tg.send_text(group, "/start", from_user=admin)
    resumed = (await wait_for(tg, group, 3))[2]
    assert "Deliveries resumed" in resumed.text
    with Session(engine) as session:
        assert not session.get(Chat, group).stopped


@pytest.mark.parametrize("data", ["tp:+world", "st:n:15"])
async def test_a_tap_in_a_group_upgraded_meanwhile_is_applied_without_an_error_report(
    tg: FakeTelegram, engine: Engine, data: str
) -> None:
    """An admin taps the picker or /settings just before the group becomes a supergroup:
    the tap is applied and answered; the redraw of a message left behind in the old group
    (ChatMigrated) is no error to report to the bot's admins."""
    group, supergroup, admin, bot_admin = -506, -(10**12) - 506, 2011, 2012
    tg.add_private_chat(bot_admin)
    tg.add_group(group, admins=[admin])
    async with running_bot(make_settings(tg, admins=(bot_admin,)), engine):
        command = "/topics" if data.startswith("tp:") else "/settings"
        [keyboard] = await say(tg, group, command, from_user=admin)
        tg.migrate(group, supergroup, notify=False)
        query = tg.press_button(group, keyboard.message_id, data, from_user=admin)
        await wait_for(tg, lambda: tg.callback_answer(query))
        edits = ("editMessageText", "editMessageReplyMarkup")
        await wait_for(tg, lambda: any(tg.calls(m) for m in edits))
        await asyncio.sleep(0.5)  # the report would follow the failed edit
    assert tg.messages(bot_admin) == []
    assert tg.messages(supergroup) == []


async def test_a_fulltext_tap_in_a_group_upgraded_meanwhile_reaches_the_supergroup(
    tg: FakeTelegram, server: FeedServer, engine: Engine
) -> None:
    """📖 tapped just before the group became a supergroup: the "typing…" action for the old
    id meets ChatMigrated, which must not stop the article (nor reach the admins as an
    error); the text goes to the supergroup."""
    group, supergroup, member, bot_admin = -507, -(10**12) - 507, 2013, 2014
    tg.add_private_chat(bot_admin)
    tg.add_group(group, members=[member])
    feeds = (FeedConfig(server.url("/feed.xml"), "Local News", ()),)
    settings = make_settings(tg, feeds=feeds, admins=(bot_admin,))
    await refresh_once(engine, settings)
    async with running_bot(settings, engine):
        [listing] = await say(tg, group, "/latest world", from_user=member)
        tg.migrate(group, supergroup, notify=False)
        tg.press_button(group, listing.message_id, listing.buttons[0]["callback_data"])
        [article, *_] = await wait_for(tg, supergroup, 1, timeout=20)
        assert article.text.startswith(TRAM_HEADLINE)
        await asyncio.sleep(0.5)
    assert tg.messages(bot_admin) == []


async def test_blocking_marks_inactive_and_start_reactivates(tg: FakeTelegram, bot) -> None:
    _settings, engine = bot
    tg.add_private_chat(USER)
    await say(tg, USER, "/start")
    tg.member_update(USER, "kicked")
    await wait_for(tg, lambda: not _active(engine, USER))
    tg.member_update(USER, "member")
    await wait_for(tg, lambda: _active(engine, USER))


def _active(engine: Engine, chat_id: int) -> bool:
    with Session(engine) as session:
        chat = session.get(Chat, chat_id)
        return bool(chat and chat.active)


async def test_in_groups_only_admins_change_subscriptions(tg: FakeTelegram, bot) -> None:
    _settings, engine = bot
    group, admin, member = -500, 2001, 2002
    tg.add_user(admin)
    tg.add_user(member)
    tg.add_group(group, admins=[admin], members=[member])
    tg.send_text(group, "/subscribe@newsbrief_test_bot world", from_user=member)
    [refused] = await wait_for(tg, group, 1)
    assert "only the group's admins" in refused.text
    tg.send_text(group, "/subscribe@newsbrief_test_bot world", from_user=admin)
    messages = await wait_for(tg, group, 2)
    assert "Subscribed to: World" in messages[1].text
    with Session(engine) as session:
        assert session.exec(select(Subscription.chat_id)).all() == [group]
    tg.send_text(group, "/latest@newsbrief_test_bot 2", from_user=member)  # anyone may read
    messages = await wait_for(tg, group, 3)
    assert "Latest" in messages[2].text


async def test_two_hundred_users_at_once_all_answered(tg: FakeTelegram, bot) -> None:
    _settings, engine = bot
    users = list(range(50_000, 50_200))
    for user in users:
        tg.add_private_chat(user)
    for user in users:
        tg.send_text(user, "/subscribe world")
    await wait_for(tg, lambda: all(tg.messages(u) for u in users), timeout=60)
    assert all("Subscribed to: World" in tg.messages(u)[0].text for u in users)
    with Session(engine) as session:
        assert len(session.exec(select(Subscription)).all()) == 200
    assert not tg.server_errors


async def test_schedule_and_timezone(tg: FakeTelegram, bot) -> None:
    _settings, engine = bot
    tg.add_private_chat(USER)
    script = [
        ("/schedule", ("08:00", "Europe/Berlin")),
        ("/schedule 19:00 07:30", ("07:30, 19:00",)),
        ("/timezone new_york", ("America/New_York",)),
        ("/schedule instant", ("Instant mode",)),
    ]
    await converse(tg, USER, script)
    with Session(engine) as session:
        chat = session.get(Chat, USER)
        assert (chat.mode, chat.timezone, chat.briefing_times) == (
            "instant",
            "America/New_York",
            "07:30 19:00",
        )
    await asyncio.sleep(0)


async def test_timezone_names_with_spaces_and_utc_offsets_as_people_type_them(
    tg: FakeTelegram, bot
) -> None:
    """ "/timezone New York" is one name, not a usage error. "GMT+3" means three hours ahead
    of UTC, while IANA's Etc/GMT+3 is three hours behind: it is set as Etc/GMT-3, and the
    reply shows the offset, so briefings do not come six hours off."""
    _settings, engine = bot
    tg.add_private_chat(USER)
    script = [
        ("/timezone New York", ("America/New_York",)),
        ("/timezone São Paulo", ("America/Sao_Paulo",)),
        ("/timezone UTC-05:00", ("Etc/GMT+5 (UTC-05:00)",)),
        ("/timezone UTC+5:30", ("Unknown time zone",)),
        ("/timezone GMT+3", ("Etc/GMT-3 (UTC+03:00)",)),
        ("/schedule", ("Etc/GMT-3 (UTC+03:00)",)),
    ]
    await converse(tg, USER, script)
    with Session(engine) as session:
        chat = session.get(Chat, USER)
        assert chat is not None and chat.timezone == "Etc/GMT-3"


async def test_schedule_takes_times_as_people_type_them_and_refuses_the_rest(
    tg: FakeTelegram, bot
) -> None:
    """ "7:00" is 07:00 and "06:45, 18:00" two times; "7pm", "24:00" and "7:5" get the usage
    line and change nothing."""
    _settings, engine = bot
    tg.add_private_chat(USER)
    usage = "Usage: /schedule"
    script = [
        ("/schedule 7:00", ("Briefings at 07:00 ",)),
        ("/schedule 06:45, 18:00", ("Briefings at 06:45, 18:00 ",)),
        ("/schedule 9:15,21:30", ("Briefings at 09:15, 21:30 ",)),
        ("/schedule 7pm", (usage,)),
        ("/schedule 24:00", (usage,)),
        ("/schedule 7:5", (usage,)),
    ]
    await converse(tg, USER, script)
    with Session(engine) as session:
        chat = session.get(Chat, USER)
        assert chat is not None and chat.briefing_times == "09:15 21:30"


async def test_direction_and_zero_width_marks_around_arguments_are_ignored(
    tg: FakeTelegram, bot
) -> None:
    """Right-to-left keyboards and copy-paste leave invisible marks around words: "‏world"
    is World, not 'There is no topic "world". Did you mean “world”?'."""
    tg.add_private_chat(USER)
    script = [
        ("/subscribe \u200fworld", ("Subscribed to: World",)),
        ("/unsubscribe \u202btech\u202c world\u200b", ("Unsubscribed from: World",)),
        ("/schedule \u200f07:00\u200f \u206619:30\u2069", ("07:00, 19:30",)),
        ("/timezone \u200eEurope/Berlin\u200e", ("Time zone set to Europe/Berlin",)),
        ("/latest \ufeffworld 2", ("Latest",)),
    ]
    await converse(tg, USER, script)


async def test_a_burst_of_commands_is_applied_and_answered_in_the_order_sent(
    tg: FakeTelegram, bot
) -> None:
    """Quick successive commands of one chat: the last one decides, the answers keep order."""
    _settings, engine = bot
    tg.add_private_chat(USER)
    times = [f"{h:02d}:15" for h in range(6, 14)]
    burst = [f"/schedule {t}" for t in times] + [
        "/subscribe world",
        "/unsubscribe world",
        "/subscribe tech",
    ]
    for text in burst:  # in one getUpdates batch, as a fast typist's commands arrive
        tg.send_text(USER, text)
    replies = await wait_for(tg, USER, len(burst), timeout=30)
    answered = [t for r in replies for t in times if f"Briefings at {t} " in r.text]
    assert answered == times
    assert [r.text for r in replies[-3:]] == [
        "✅ Subscribed to: World.",
        "Unsubscribed from: World." + texts.NO_TOPIC_LEFT,
        "✅ Subscribed to: Technology.",
    ]
    with Session(engine) as session:
        chat = session.get(Chat, USER)
        assert chat is not None and chat.briefing_times == times[-1]
        assert session.exec(select(Subscription.topic)).all() == ["tech"]


async def test_a_5xx_on_a_reply_is_retried_not_turned_into_an_error_message(
    tg: FakeTelegram, bot
) -> None:
    tg.add_private_chat(USER)
    tg.fail_next("sendMessage", 2, status=502)
    [reply] = await say(tg, USER, "/schedule 07:00")
    assert "Briefings at 07:00" in reply.text
    await asyncio.sleep(0.5)  # no "Sorry, something went wrong" after it
    assert len(tg.messages(USER)) == 1


async def test_commands_for_other_bots_in_a_group_get_no_answer(tg: FakeTelegram, bot) -> None:
    """A group shared with other bots: "/start@OtherBot" or a bare "/ban" is not ours to
    call unknown; only an unknown command that names this bot is answered."""
    group, member = -501, 2003
    tg.add_group(group, members=[member])
    texts = ("/start@other_bot", "/ban@Other_Bot spammer", "/ban spammer", "/warn")
    for text in (*texts, "/help@NEWSBRIEF_TEST_BOT"):
        tg.send_text(group, text, from_user=member)  # in order: ours comes last
    [reply] = await wait_for(tg, group, 1)
    assert reply.text.startswith("Commands")
    tg.send_text(group, "/nosuch@newsbrief_test_bot", from_user=member)
    unknown = (await wait_for(tg, group, 2))[1]
    assert "I don't know that command" in unknown.text


async def test_a_group_that_becomes_a_supergroup_keeps_its_settings_there(
    tg: FakeTelegram, bot
) -> None:
    """Telegram's migrate notice moves the chat at once, so the supergroup's admins act on
    the group's subscription rather than on a fresh chat with none."""
    _settings, engine = bot
    group, supergroup, admin = -502, -(10**12) - 502, 2004
    tg.add_group(group, admins=[admin])
    tg.send_text(group, "/subscribe world", from_user=admin)
    await wait_for(tg, group, 1)
    tg.migrate(group, supergroup)

    def moved() -> bool:
        with Session(engine) as session:
            return session.get(Chat, supergroup) is not None

    await wait_for(tg, moved)  # the notice comes first; an admin types later
    tg.send_text(supergroup, "/unsubscribe world", from_user=admin)
    [reply] = await wait_for(tg, supergroup, 1)
    assert reply.text.startswith("Unsubscribed from: World.\nWith no topic chosen")
    with Session(engine) as session:
        assert session.exec(select(Subscription)).all() == []
        old, new = session.get(Chat, group), session.get(Chat, supergroup)
        assert old is not None and not old.active
        assert new is not None and new.active and new.type == "supergroup"


async def test_a_command_answered_after_its_group_became_a_supergroup_is_answered_there(
    tg: FakeTelegram, bot
) -> None:
    """A command typed just before the upgrade is answered after it: Telegram refuses the
    old id with migrate_to_chat_id, so the answer goes to the supergroup, not lost to an
    "unhandled error" (whose apology could not reach the old id either)."""
    _settings, engine = bot
    group, supergroup, admin, member = -503, -(10**12) - 503, 2006, 2005
    tg.add_group(group, admins=[admin], members=[member])
    tg.migrate(group, supergroup, notify=False)  # the notice comes later, after the commands
    tg.send_text(group, "/help", from_user=member)
    [reply] = await wait_for(tg, supergroup, 1)
    assert reply.text.startswith("Commands")
    tg.send_text(group, "/subscribe world", from_user=admin)  # whether an admin: asked there
    changed = (await wait_for(tg, supergroup, 2))[1]
    assert changed.text == "✅ Subscribed to: World."
    notice = {"message_id": 99, "date": int(time.time()), "chat": tg.chat(group).to_api()}
    tg.push_update({"message": {**notice, "migrate_to_chat_id": supergroup}})

    def moved() -> list[str]:
        with Session(engine) as session:
            query = select(Subscription.topic).where(Subscription.chat_id == supergroup)
            return list(session.exec(query).all())

    assert await wait_for(tg, moved) == ["world"]
    await asyncio.sleep(0.5)  # no apology after them
    assert [m.text for m in tg.messages(supergroup)] == [reply.text, changed.text]


async def test_in_a_private_chat_a_command_for_another_bot_is_still_answered(
    tg: FakeTelegram, bot
) -> None:
    tg.add_private_chat(USER)
    [reply] = await say(tg, USER, "/start@other_bot")
    assert "I don't know that command" in reply.text
