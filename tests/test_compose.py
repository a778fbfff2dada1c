"""Composing briefings with a controllable clock: zones, repeats, downtime, instant mode."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.briefings.compose import compose_instant, compose_scheduled
from bot.settings import BriefingSettings, Settings, Topic
from bot.storage.models import Chat, Delivery, Outbox, Story
from tests.support.seed import seed_chats, seed_stories

NOW = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
SETTINGS = Settings(
    topics=(Topic("world", "World"), Topic("tech", "Technology")),
    briefing=BriefingSettings(times=("08:00",), timezone="UTC", max_items=3, late_grace_hours=3),
)


def outbox_rows(engine: Engine, chat_id: int | None = None) -> list[Outbox]:
    with Session(engine) as session:
        query = select(Outbox).order_by(col(Outbox.id))
        if chat_id is not None:
            query = query.where(Outbox.chat_id == chat_id)
        return list(session.exec(query).all())


def chat(engine: Engine, chat_id: int) -> Chat:
    with Session(engine) as session:
        row = session.get(Chat, chat_id)
        assert row is not None
        return row


def test_due_chat_gets_one_briefing_with_newest_stories(engine: Engine) -> None:
    seed_stories(engine, now=NOW, count=5)
    seed_chats(engine, [1], now=NOW, due=NOW - timedelta(minutes=1))
    stats = compose_scheduled(engine, SETTINGS, now=NOW)
    assert (stats.briefings, stats.messages) == (1, 1)
    [row] = outbox_rows(engine)
    assert "Your briefing · World" in row.text and "Saturday, 28 March 2026" in row.text
    assert row.text.count("story number") == 3  # max_items
    assert "story number 0" in row.text and "story number 3" not in row.text  # newest first
    assert "&lt;with&gt; &amp; odd" in row.text  # escaped
    # The next one is tomorrow at 08:00 UTC; a repeat tick composes nothing.
    assert chat(engine, 1).next_briefing_at == datetime(2026, 3, 29, 8, 0, tzinfo=UTC)
    assert compose_scheduled(engine, SETTINGS, now=NOW).briefings == 0
    assert len(outbox_rows(engine)) == 1


def test_stories_already_delivered_are_not_repeated(engine: Engine) -> None:
    seed_stories(engine, now=NOW, count=5)
    seed_chats(engine, [1], now=NOW, due=NOW - timedelta(minutes=1))
    compose_scheduled(engine, SETTINGS, now=NOW)
    with Session(engine) as session:
        c = session.get(Chat, 1)
        c.next_briefing_at = NOW + timedelta(minutes=1)
        c.last_briefing_at = NOW - timedelta(days=1)
        session.add(c)
        session.commit()
    compose_scheduled(engine, SETTINGS, now=NOW + timedelta(minutes=2))
    _first, second = outbox_rows(engine)
    assert "story number 3" in second.text and "story number 0" not in second.text
    with Session(engine) as session:
        assert len(session.exec(select(Delivery)).all()) == 5


def test_nothing_new_means_no_message(engine: Engine) -> None:
    seed_chats(engine, [1], now=NOW, due=NOW - timedelta(minutes=1))
    stats = compose_scheduled(engine, SETTINGS, now=NOW)
    assert (stats.briefings, stats.empty) == (0, 1)
    assert outbox_rows(engine) == []
    assert chat(engine, 1).next_briefing_at > NOW


def test_two_zones_fall_due_at_their_own_local_times(engine: Engine) -> None:
    seed_stories(engine, now=NOW, count=2)
    from bot.briefings.timetable import next_briefing, parse_times

    start = datetime(2026, 3, 28, 0, 0, tzinfo=UTC)
    berlin = next_briefing(parse_times("08:00"), "Europe/Berlin", after=start)
    new_york = next_briefing(parse_times("08:00"), "America/New_York", after=start)
    seed_chats(engine, [1], now=start, due=berlin, zone="Europe/Berlin")
    seed_chats(engine, [2], now=start, due=new_york, zone="America/New_York")
    assert (
        compose_scheduled(engine, SETTINGS, now=datetime(2026, 3, 28, 7, 1, tzinfo=UTC)).briefings
        == 1
    )
    assert [r.chat_id for r in outbox_rows(engine)] == [1]
    assert (
        compose_scheduled(engine, SETTINGS, now=datetime(2026, 3, 28, 12, 1, tzinfo=UTC)).briefings
        == 1
    )
    assert [r.chat_id for r in outbox_rows(engine)] == [1, 2]
    # Berlin springs forward overnight: its next 08:00 is 06:00 UTC.
    assert chat(engine, 1).next_briefing_at == datetime(2026, 3, 29, 6, 0, tzinfo=UTC)


def test_downtime_short_sends_once_long_skips(engine: Engine) -> None:
    seed_stories(engine, now=NOW, count=2)
    seed_chats(engine, [1], now=NOW, due=NOW - timedelta(hours=2))  # 2 h late: within grace
    seed_chats(engine, [2], now=NOW, due=NOW - timedelta(hours=5))  # 5 h late: skipped
    stats = compose_scheduled(engine, SETTINGS, now=NOW)
    assert (stats.briefings, stats.skipped_late) == (1, 1)
    assert [r.chat_id for r in outbox_rows(engine)] == [1]
    for chat_id in (1, 2):
        assert chat(engine, chat_id).next_briefing_at > NOW
    # Ticking again (a restart) repeats nothing.
    assert compose_scheduled(engine, SETTINGS, now=NOW + timedelta(seconds=30)).briefings == 0


def test_stopped_and_inactive_chats_get_nothing(engine: Engine) -> None:
    seed_stories(engine, now=NOW, count=2)
    seed_chats(engine, [1, 2], now=NOW, due=NOW - timedelta(minutes=1))
    with Session(engine) as session:
        one, two = session.get(Chat, 1), session.get(Chat, 2)
        one.stopped, two.active = True, False
        session.add_all([one, two])
        session.commit()
    assert compose_scheduled(engine, SETTINGS, now=NOW).briefings == 0
    assert outbox_rows(engine) == []


def test_instant_mode_batches_and_waits_a_minute(engine: Engine) -> None:
    seed_chats(engine, [7], now=NOW, due=NOW, mode="instant")
    seed_stories(engine, now=NOW, count=3)
    assert compose_instant(engine, SETTINGS, now=NOW).briefings == 1
    [batch] = outbox_rows(engine)
    assert batch.text.count("story number") == 3  # one batched message
    seed_stories(engine, now=NOW + timedelta(seconds=20), count=1, topic="world")
    assert compose_instant(engine, SETTINGS, now=NOW + timedelta(seconds=30)).briefings == 0
    assert compose_instant(engine, SETTINGS, now=NOW + timedelta(seconds=61)).briefings == 1
    assert len(outbox_rows(engine)) == 2


def deliver(engine: Engine, chat_id: int, titles: list[str]) -> None:
    """Record stories (by title) as already sent to a chat, as an earlier briefing would."""
    with Session(engine) as session:
        for story in session.exec(select(Story).where(col(Story.title).in_(titles))).all():
            session.add(Delivery(chat_id=chat_id, story_id=story.id, delivered_at=NOW))
        session.commit()


def titles_in(row: Outbox) -> list[int]:
    return [n for n in range(10) if f"story number {n} " in row.text]


def test_chats_sharing_a_group_get_only_what_each_has_not_had(engine: Engine) -> None:
    seed_stories(engine, now=NOW, count=6)
    seed_chats(engine, range(1, 8), now=NOW, due=NOW - timedelta(minutes=1))
    deliver(engine, 3, [f"World story number {n} <with> & odd text" for n in (0, 2)])
    deliver(engine, 6, [f"World story number {n} <with> & odd text" for n in (0, 1, 2, 3)])
    # Batches of two: the group and its shared render cross transaction boundaries.
    stats = compose_scheduled(engine, SETTINGS, now=NOW, batch=2)
    assert (stats.chats, stats.briefings, stats.messages) == (7, 7, 7)
    rows = {r.chat_id: r for r in outbox_rows(engine)}
    assert {c: titles_in(r) for c, r in rows.items()} == {
        1: [0, 1, 2],
        2: [0, 1, 2],
        4: [0, 1, 2],
        5: [0, 1, 2],
        7: [0, 1, 2],
        3: [1, 3, 4],
        6: [4, 5],
    }
    assert rows[1].text == rows[7].text and rows[1].reply_markup == rows[7].reply_markup
    with Session(engine) as session:
        pairs = session.exec(select(Delivery.chat_id, Delivery.story_id)).all()
    assert len(pairs) == len(set(pairs)) == 2 + 4 + 5 * 3 + 3 + 2  # each story once per chat


def test_topic_sets_and_zones_are_composed_apart(engine: Engine) -> None:
    seed_stories(engine, now=NOW, count=2, topic="world")
    seed_stories(engine, now=NOW, count=2, topic="tech")
    seed_chats(engine, [1], now=NOW, due=NOW - timedelta(minutes=1), topics=["world"])
    seed_chats(engine, [2], now=NOW, due=NOW - timedelta(minutes=1), topics=["tech"])
    seed_chats(engine, [3], now=NOW, due=NOW - timedelta(minutes=1), topics=["world", "tech"])
    # 12:00 UTC is already Sunday in Kiritimati (UTC+14).
    seed_chats(
        engine,
        [4],
        now=NOW,
        due=NOW - timedelta(minutes=1),
        topics=["world"],
        zone="Pacific/Kiritimati",
    )
    compose_scheduled(engine, SETTINGS, now=NOW)
    rows = {r.chat_id: r.text for r in outbox_rows(engine)}
    assert "Your briefing · World" in rows[1] and "Tech story" not in rows[1]
    assert "Your briefing · Technology" in rows[2] and "World story" not in rows[2]
    assert "Technology, World" in rows[3] and rows[3].count("story number") == 3
    assert "Sunday, 29 March 2026" in rows[4] and "Saturday" in rows[1]


def test_chats_of_one_group_with_other_languages_or_settings_are_composed_apart(
    engine: Engine,
) -> None:
    seed_stories(engine, now=NOW, count=5)
    seed_chats(engine, [1, 2, 3, 4, 5], now=NOW, due=NOW - timedelta(minutes=1))
    with Session(engine) as session:
        session.exec(sa.update(Chat).where(col(Chat.id) == 2).values(language="de"))
        session.exec(sa.update(Chat).where(col(Chat.id) == 3).values(quiet=True, max_items=2))
        session.exec(sa.update(Chat).where(col(Chat.id) == 4).values(link_preview="large"))
        session.exec(sa.update(Chat).where(col(Chat.id) == 5).values(language="zz"))  # unknown
        session.commit()
    stats = compose_scheduled(engine, SETTINGS, now=NOW)
    assert (stats.briefings, stats.messages) == (5, 5)
    rows = {r.chat_id: r for r in outbox_rows(engine)}
    assert "Your briefing · World" in rows[1].text and rows[1].options is None
    assert rows[5].text == rows[1].text  # a code we no longer speak: English
    assert "Dein Briefing · World" in rows[2].text and "Samstag, 28. März 2026" in rows[2].text
    assert rows[3].text.count("story number") == 2  # its own max_items
    assert json.loads(rows[3].options or "") == {"quiet": True}
    preview = json.loads(rows[4].options or "")["preview"]
    assert preview["prefer_large_media"] is True and preview["url"].startswith("http")
    assert rows[4].text == rows[1].text


def test_a_limited_call_takes_the_oldest_due_and_leaves_the_rest_due(engine: Engine) -> None:
    seed_stories(engine, now=NOW, count=1)
    seed_chats(engine, range(1, 6), now=NOW, due=NOW - timedelta(minutes=2))
    seed_chats(engine, range(6, 8), now=NOW, due=NOW - timedelta(minutes=1))
    first = compose_scheduled(engine, SETTINGS, now=NOW, limit=6, batch=4)
    assert (first.chats, first.briefings) == (6, 6)
    assert sorted(r.chat_id for r in outbox_rows(engine)) == [1, 2, 3, 4, 5, 6]
    second = compose_scheduled(engine, SETTINGS, now=NOW, limit=6, batch=4)
    assert (second.chats, second.briefings) == (1, 1)
    assert compose_scheduled(engine, SETTINGS, now=NOW).chats == 0
    assert sorted(r.chat_id for r in outbox_rows(engine)) == list(range(1, 8))


def test_statements_do_not_grow_with_the_chats_of_a_group(engine: Engine) -> None:
    seed_stories(engine, now=NOW, count=5)
    seed_chats(engine, range(1, 201), now=NOW, due=NOW - timedelta(minutes=1))
    statements: list[str] = []

    def count(_conn: object, _cursor: object, sql: str, *_args: object) -> None:
        statements.append(sql)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        stats = compose_scheduled(engine, SETTINGS, now=NOW, limit=1000)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert stats.briefings == 200
    # One batch: lock, subscriptions, history, the group's stories and their
    # outlets/topics, three executemany writes, then the empty look for more.
    assert len(statements) < 20, statements
    assert len(outbox_rows(engine)) == 200


def test_a_zone_this_host_cannot_load_does_not_stop_the_other_chats(engine: Engine) -> None:
    """A chat whose stored zone is missing here (set on another host, or a tzdata name that
    went away) gets its briefing on UTC dates; the chats composed with it get theirs."""
    seed_stories(engine, now=NOW, count=5)
    seed_chats(engine, [1, 2], now=NOW, due=NOW - timedelta(minutes=1))
    with Session(engine) as session:
        gone = session.get(Chat, 2)
        assert gone is not None
        gone.timezone = "localtime-of-another-host"
        session.add(gone)
        session.commit()
    assert compose_scheduled(engine, SETTINGS, now=NOW).briefings == 2
    assert {row.chat_id for row in outbox_rows(engine)} == {1, 2}
    assert chat(engine, 2).next_briefing_at == datetime(2026, 3, 29, 8, 0, tzinfo=UTC)
