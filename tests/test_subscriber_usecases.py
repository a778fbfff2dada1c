"""Subscriber use cases: the one schedule rule, converging writes, cached full text."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.briefings.timetable import next_briefing, next_due, parse_times
from bot.ingest.topics import Topic
from bot.services import lookup
from bot.settings import BriefingSettings
from bot.storage import chats as chat_store
from bot.storage.db import session_scope
from bot.storage.models import ArticleText, Chat, Story, Subscription
from tests.support.botharness import converse, make_settings, running_bot, wait_for
from tests.support.fake_telegram import FakeTelegram
from tests.support.seed import seed_stories

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
HANDLERS = Path(__file__).resolve().parents[1] / "handlers"


def test_next_due_is_the_one_rule_for_every_mode() -> None:
    times = "07:30 19:00"
    expected = next_briefing(parse_times(times), "Europe/Berlin", after=NOW)
    assert next_due("scheduled", times, "Europe/Berlin", after=NOW) == expected
    assert next_due("scheduled", ["19:00", "07:30"], "Europe/Berlin", after=NOW) == expected
    assert next_due("instant", times, "Europe/Berlin", after=NOW) == NOW
    assert next_due("off", times, "Europe/Berlin", after=NOW) is None


def test_new_chat_and_reschedule_follow_the_rule(sqlite_engine: Engine) -> None:
    defaults = BriefingSettings(times=("06:45",), timezone="Asia/Tokyo")
    with session_scope(sqlite_engine) as session:
        chat, created = chat_store.ensure_chat(
            session, 5, chat_type="private", title="A", defaults=defaults, now=NOW
        )
        assert created
        assert chat.next_briefing_at == next_due("scheduled", "06:45", "Asia/Tokyo", after=NOW)
        chat.mode = "off"
        chat_store.reschedule(chat, now=NOW)
        assert chat.next_briefing_at is None
        chat.mode = "instant"
        chat_store.reschedule(chat, now=NOW)
        assert chat.next_briefing_at == NOW and chat.instant_since == NOW


def test_handlers_reach_no_storage() -> None:
    offenders = [
        p.name
        for p in HANDLERS.glob("*.py")
        if "bot.storage" in p.read_text() or "from bot import storage" in p.read_text()
    ]
    assert offenders == []


def _hammer(engine: Engine, chat_id: int, rounds: int, errors: list[BaseException]) -> None:
    defaults = BriefingSettings()
    try:
        for _ in range(rounds):
            with session_scope(engine) as session:
                chat_store.begin_write(session)
                chat_store.ensure_chat(
                    session, chat_id, chat_type="private", title="T", defaults=defaults, now=NOW
                )
                chat_store.subscribe(session, chat_id, ["tech"], now=NOW)
                chat_store.toggle(session, chat_id, "world", now=NOW)
    except BaseException as exc:  # collected for the assertion in the main thread
        errors.append(exc)


def test_concurrent_first_contacts_and_toggles_converge(engine: Engine) -> None:
    """Threads race on a chat that does not exist yet; an even number of toggles → off."""
    errors: list[BaseException] = []
    threads = [threading.Thread(target=_hammer, args=(engine, 42, 5, errors)) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with Session(engine) as session:
        assert session.get(Chat, 42) is not None
        subs = set(session.exec(select(Subscription.topic)).all())
    assert subs == {"tech"}  # 30 toggles of "world": off again


async def test_cached_fulltext_tap_sends_no_typing_action(
    tg: FakeTelegram, sqlite_engine: Engine
) -> None:
    seed_stories(sqlite_engine, now=datetime.now(UTC), count=1, topic="world")
    with session_scope(sqlite_engine) as session:
        story = session.exec(select(Story)).one()
        assert story.id is not None
        session.add(
            ArticleText(story_id=story.id, title="Cached", body="First.\n\nSecond.", fetched_at=NOW)
        )
    user = tg.add_private_chat(3003)
    async with running_bot(make_settings(tg), sqlite_engine):
        tg.send_text(user, "/latest world")
        [listing] = await wait_for(tg, user, 1)
        tg.press_button(user, listing.message_id, listing.buttons[0]["callback_data"])
        article = (await wait_for(tg, user, 2))[1]
    assert "First." in article.text and "Second." in article.text
    assert tg.chat_actions(user) == []  # nothing to wait for: no "typing…"


async def test_latest_is_one_transaction_for_a_new_and_a_known_chat(
    tg: FakeTelegram, sqlite_engine: Engine
) -> None:
    seed_stories(sqlite_engine, now=datetime.now(UTC), count=3, topic="world")
    transactions: list[list[str]] = []

    def begun(_conn: object) -> None:
        transactions.append([])

    def statement(_conn: object, _cursor: object, sql: str, *_args: object) -> None:
        if transactions:
            transactions[-1].append(sql)

    user = tg.add_private_chat(3004)
    group = tg.add_group(-3005, "Newsroom")
    async with running_bot(make_settings(tg), sqlite_engine):
        sa.event.listen(sqlite_engine, "begin", begun)
        sa.event.listen(sqlite_engine, "before_cursor_execute", statement)
        try:
            tg.send_text(user, "/latest")  # first contact: the chat row is created
            [first] = await wait_for(tg, user, 1)
            private = list(transactions)
            tg.send_text(user, "/latest world")
            await wait_for(tg, user, 2)
            known = transactions[len(private) :]
            tg.send_text(group, "/latest world", from_user=3004)
            [in_group] = await wait_for(tg, group, 1)
            grouped = transactions[len(private) + len(known) :]
        finally:
            sa.event.remove(sqlite_engine, "begin", begun)
            sa.event.remove(sqlite_engine, "before_cursor_execute", statement)
    assert "World story number 0" in first.text and "World story number 0" in in_group.text

    # A private /latest reads whether its user manages a channel, creates or locks the
    # chat, reads its language and lists the stories, all in one transaction; in a
    # group there is no routing, and the language comes with the stories too.
    assert (len(private), len(known), len(grouped)) == (1, 1, 1), transactions
    for sqls in (*private, *known):
        assert any("channel_manager" in s for s in sqls)
    for sqls in (*private, *known, *grouped):  # the chat's write lock and the stories
        assert any("INSERT INTO chat" in s for s in sqls)
        assert any("FROM story" in s for s in sqls)


@pytest.mark.parametrize("name", ["localtime", "LOCALTIME", "Factory"])
def test_timezone_refuses_the_hosts_own_and_placeholder_zones(name: str) -> None:
    """ "localtime" is the server's zone, not a place, and absent from the tzdata package."""
    assert lookup.resolve_timezone(name).zone is None
    assert lookup.resolve_timezone("berlin").zone == "Europe/Berlin"


@pytest.mark.parametrize(
    ("name", "zone"),
    [
        ("GMT+3", "Etc/GMT-3"),  # people's sign: three hours ahead of UTC
        ("utc -5", "Etc/GMT+5"),
        ("UTC+03:00", "Etc/GMT-3"),
        ("+14", "Etc/GMT-14"),
        ("UTC+0", "UTC"),
        ("Etc/GMT+3", "Etc/GMT+3"),  # an IANA name typed out keeps IANA's meaning
        ("UTC+5:30", None),  # no Etc zone has a half hour
        ("GMT+15", None),
        ("buenos aires", "America/Buenos_Aires"),
    ],
)
def test_timezone_reads_offsets_as_meant_and_city_names_with_spaces(
    name: str, zone: str | None
) -> None:
    choice = lookup.resolve_timezone(name)
    assert choice.zone == zone
    assert zone is not None or choice.suggestions == ()


async def test_topics_named_with_spaces_or_in_quotes_are_found_by_name(
    tg: FakeTelegram, engine: Engine
) -> None:
    """`/subscribe Middle East`: the command's arguments are split at spaces, and the
    topic is "Middle East", not the topics "Middle" and "East"."""
    topics = (
        Topic("mideast", "Middle East"),
        Topic("scitech", "Science and Tech"),
        Topic("world", "World"),
    )
    settings = make_settings(tg, topics=topics)
    seed_stories(engine, now=datetime.now(UTC), count=3, topic="mideast")
    tg.add_private_chat(7)
    async with running_bot(settings, engine):
        await converse(
            tg,
            7,
            [
                ("/subscribe Middle East", ("Subscribed to: Middle East.",)),
                ('/subscribe "science and tech" World', ("Science and Tech, World",)),
                ('/subscribe "World"', ("already follow World",)),
                ("/latest middle east 2", ("Latest 2 stories · Middle East",)),
                ("/latest 1 Middle East", ("Latest 1 story · Middle East",)),
                ("/unsubscribe Science and Tech", ("Unsubscribed from: Science and Tech.",)),
                ("/subscribe Middle Earth", ('no topic "Middle"',)),
            ],
        )
