"""Mute words and personal keywords: the one rule, briefings, instant mode, /latest and commands."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.briefings.compose import compose_instant, compose_scheduled
from bot.briefings.filters import StoryFilter, normalise_phrase
from bot.ingest.topics import TopicMatcher
from bot.services.filters import parse_phrases
from bot.settings import BriefingSettings, Settings, Topic
from bot.storage.db import session_scope
from bot.storage.filters import add_filters
from bot.storage.models import ChatFilter, Delivery, Outbox, Story
from tests.support.botharness import make_settings, running_bot, say, wait_for
from tests.support.fake_telegram import FakeTelegram
from tests.support.seed import seed_chats, seed_headlines

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
SETTINGS = Settings(
    topics=(Topic("world", "World"), Topic("tech", "Technology")),
    briefing=BriefingSettings(times=("08:00",), timezone="UTC", max_items=10),
)
FOOTBALL = (
    "Football final draws record crowd",
    "FOOTBALL: league votes on new rules",
    "The football's governing body meets",
)
OTHER = ("Parliament passes budget", "Footballer retires at 40", "Rain expected all week")


def muting(*words: str) -> StoryFilter:
    return StoryFilter.from_phrases(mutes=[normalise_phrase(w) or "" for w in words], follows=[])


# ---------------------------------------------------------------- the rule (pure)


@pytest.mark.parametrize("title", [*FOOTBALL, "Football’s future", "a – football – b"])
def test_mute_matches_every_spelling_of_the_whole_word(title: str) -> None:
    assert muting("football").muted(title)
    assert not muting("football").admits(title=title, summary="", in_topics=True)


@pytest.mark.parametrize("title", [*OTHER, "Footballs for sale", "#footballfan"])
def test_mute_leaves_other_words_alone(title: str) -> None:
    assert not muting("football").muted(title)


def test_mute_any_script_phrases_summaries_and_no_regex() -> None:
    assert muting("ФУТБОЛ").muted("Футбол: итоги тура")
    assert muting("Straße").muted("Neue STRASSE eröffnet")  # case folding, not lower()
    assert muting("open source").muted("x", "An Open-Source release")  # a hyphen splits words
    assert muting("open source").muted("Open source wins", "")
    assert not muting("source open").muted("Open source wins")  # phrase order matters
    assert muting("budget").muted("Nothing here", "The budget passed")  # summary counts
    assert not muting("a.*b").muted("aaaa b")
    assert normalise_phrase("(a+)+$") == "a"  # punctuation is dropped, never interpreted


def test_follow_admits_outside_topics_but_mute_wins() -> None:
    rule = StoryFilter.from_phrases(mutes=["football"], follows=["chip", "football"])
    assert rule.admits(title="New chip plant", summary="", in_topics=False)
    assert not rule.admits(title="Rain", summary="", in_topics=False)
    assert not rule.admits(title="Football chip shop", summary="", in_topics=False)


def test_phrases_parse_words_and_quotes() -> None:
    assert parse_phrases('football "world cup"  “Taylor Swift” «x y»') == (
        "football",
        "world cup",
        "Taylor Swift",
        "x y",
    )
    assert parse_phrases('"unclosed phrase') == ("unclosed phrase",)
    assert parse_phrases('"" ""') == ()
    assert normalise_phrase("  FOOTBALL's ") == "football"
    assert normalise_phrase("!!!") is None


# ---------------------------------------------------------------- briefings and instant mode


def _filters(engine: Engine, chat_id: int, *, mutes=(), follows=()) -> None:
    with session_scope(engine) as session:
        add_filters(session, chat_id, "mute", [normalise_phrase(w) for w in mutes], now=NOW)
        add_filters(session, chat_id, "follow", [normalise_phrase(w) for w in follows], now=NOW)


def _titles(engine: Engine, chat_id: int) -> str:
    with Session(engine) as session:
        rows = session.exec(select(Outbox).where(Outbox.chat_id == chat_id)).all()
        return "\n".join(r.text for r in rows)


def _delivered(engine: Engine, chat_id: int) -> set[str]:
    with Session(engine) as session:
        query = select(Story.title).join(Delivery, col(Delivery.story_id) == Story.id)
        return set(session.exec(query.where(Delivery.chat_id == chat_id)).all())


def test_briefing_leaves_out_muted_stories_without_delivery_records(engine: Engine) -> None:
    seed_headlines(engine, [*FOOTBALL, *OTHER], now=NOW)
    seed_chats(engine, [1, 2], now=NOW, due=NOW - timedelta(minutes=1))
    _filters(engine, 1, mutes=["football"])
    assert compose_scheduled(engine, SETTINGS, now=NOW).briefings == 2
    muted, plain = _titles(engine, 1), _titles(engine, 2)
    assert all(t not in muted for t in FOOTBALL) and all(t in muted for t in OTHER)
    assert all(t in plain for t in (*FOOTBALL, *OTHER))  # the neighbour is unaffected
    assert _delivered(engine, 1) == set(OTHER)  # muted: no record, so unmuting brings them back


def test_follow_brings_a_story_from_an_unsubscribed_topic(engine: Engine) -> None:
    seed_headlines(engine, ["Parliament passes budget"], now=NOW, topic="world")
    seed_headlines(engine, ["New chip plant opens", "Phone sales fall"], now=NOW, topic="tech")
    seed_chats(engine, [1], now=NOW, due=NOW - timedelta(minutes=1), topics=("world",))
    _filters(engine, 1, follows=["chip"])
    compose_scheduled(engine, SETTINGS, now=NOW)
    text = _titles(engine, 1)
    assert "New chip plant opens" in text and "Parliament passes budget" in text
    assert "Phone sales fall" not in text


def test_instant_mode_applies_the_same_rule(engine: Engine) -> None:
    seed_chats(engine, [7], now=NOW, due=NOW, mode="instant", topics=("world",))
    _filters(engine, 7, mutes=["football"], follows=["chip"])
    seed_headlines(engine, [FOOTBALL[0], OTHER[0]], now=NOW)
    seed_headlines(engine, ["Chip exports grow", "Football chip shop opens"], now=NOW, topic="tech")
    assert compose_instant(engine, SETTINGS, now=NOW).briefings == 1
    assert _delivered(engine, 7) == {OTHER[0], "Chip exports grow"}


def test_many_muted_stories_do_not_crowd_out_the_rest(engine: Engine) -> None:
    seed_headlines(engine, [f"Football story {i}" for i in range(150)], now=NOW)
    seed_headlines(engine, ["Old but wanted"], now=NOW - timedelta(hours=3))
    seed_chats(engine, [1], now=NOW, due=NOW - timedelta(minutes=1))
    _filters(engine, 1, mutes=["football"])
    compose_scheduled(engine, SETTINGS, now=NOW)
    assert _delivered(engine, 1) == {"Old but wanted"}


# ---------------------------------------------------------------- commands through Telegram

USER = 3003


@pytest.fixture
async def bot(tg: FakeTelegram, sqlite_engine: Engine) -> AsyncIterator[Engine]:
    seed_headlines(sqlite_engine, [*FOOTBALL, *OTHER], now=datetime.now(UTC))
    seed_headlines(sqlite_engine, ["New chip plant opens"], now=datetime.now(UTC), topic="tech")
    tg.add_private_chat(USER)
    async with running_bot(make_settings(tg), sqlite_engine):
        yield sqlite_engine


async def test_mute_then_unmute_through_latest(tg: FakeTelegram, bot: Engine) -> None:
    [reply] = await say(tg, USER, "/subscribe world")
    [reply] = await say(tg, USER, "/mute Football")
    assert "Muted: “football”" in reply.text
    [latest] = await say(tg, USER, "/latest 20")
    assert all(t not in latest.text for t in FOOTBALL)
    assert all(t in latest.text for t in OTHER)
    [reply] = await say(tg, USER, "/unmute football")
    assert "Unmuted: “football”" in reply.text
    [latest] = await say(tg, USER, "/latest 20")
    assert all(t in latest.text for t in FOOTBALL)
    assert "New chip plant opens" not in latest.text
    [reply] = await say(tg, USER, "/follow chip")
    [latest] = await say(tg, USER, "/latest 20")
    assert "New chip plant opens" in latest.text
    [only_world] = await say(tg, USER, "/latest world 20")  # a named topic: only that topic
    assert "New chip plant opens" not in only_world.text


async def test_latest_says_when_mute_words_hid_every_story(tg: FakeTelegram, bot: Engine) -> None:
    """Not "no stories yet, feeds are fetched every few minutes": they are there, muted."""
    await say(tg, USER, "/mute chip")
    [tech] = await say(tg, USER, "/latest tech")
    assert tech.text.startswith("Every recent story here mentions one of your mute words.")
    [science] = await say(tg, USER, "/latest science")  # nothing there: nothing to blame
    assert science.text == "No stories in Science yet."
    await say(tg, USER, "/subscribe tech")
    [mine] = await say(tg, USER, "/latest")
    assert mine.text.startswith("Every recent story here mentions one of your mute words.")


CJK = ("東京で新しい地下鉄路線が開通", "北京市发布新的交通规定", "京都の紅葉が見頃に")


async def test_chinese_and_japanese_words_are_muted_and_followed_inside_a_headline(
    tg: FakeTelegram, bot: Engine
) -> None:
    """Chinese and Japanese put no spaces between words: "東京" is a word of the first
    headline, and muting it hides that story only (not 京都's, which shares a character)."""
    seed_headlines(bot, list(CJK), now=datetime.now(UTC))
    await say(tg, USER, "/subscribe world")
    [reply] = await say(tg, USER, "/mute 東京 北京")
    assert "Muted: “東京”, “北京”" in reply.text
    [latest] = await say(tg, USER, "/latest 20")
    assert CJK[0] not in latest.text and CJK[1] not in latest.text and CJK[2] in latest.text
    [listing] = await say(tg, USER, "/filters")
    assert [b["text"] for b in listing.buttons] == ["🔇 北京 ✖", "🔇 東京 ✖"]
    await say(tg, USER, "/unmute 東京")
    [latest] = await say(tg, USER, "/latest 20")
    assert CJK[0] in latest.text and CJK[1] not in latest.text


def test_a_topic_keyword_in_chinese_matches_inside_a_headline() -> None:
    matcher = TopicMatcher.from_topics([Topic("tech", "Technology", ("芯片",))])
    assert matcher.entry_topics(title="中国芯片产能扩大", categories=()) == {"tech"}
    assert matcher.entry_topics(title="中国产能扩大", categories=()) == frozenset()


async def test_filters_lists_both_and_buttons_remove_each(tg: FakeTelegram, bot: Engine) -> None:
    await say(tg, USER, '/mute football "taylor swift"')
    await say(tg, USER, "/follow chip")
    [older] = await say(tg, USER, "/filters")
    [listing] = await say(tg, USER, "/filters")
    assert "Muted (2)" in listing.text and "Keywords (1)" in listing.text
    labels = [b["text"] for b in listing.buttons]
    assert labels == ["🔇 football ✖", "🔇 taylor swift ✖", "➕ chip ✖"]
    assert all(len(b["callback_data"].encode()) <= 64 for b in listing.buttons)
    swift = listing.buttons[1]["callback_data"]
    query = tg.press_button(USER, listing.message_id, swift)
    await wait_for(tg, lambda: "Muted (1)" in tg.messages(USER)[-1].text)
    assert tg.callback_answer(query)["text"] == "Removed taylor swift"
    tg.press_button(USER, older.message_id, swift)  # the same entry, from an older listing
    await wait_for(tg, lambda: len(tg.calls("answerCallbackQuery")) == 2)
    assert tg.calls("answerCallbackQuery")[-1]["text"] == "That one was already removed."
    with Session(bot) as session:
        rows = session.exec(select(ChatFilter.phrase).order_by(col(ChatFilter.phrase))).all()
    assert rows == ["chip", "football"]


async def test_bad_input_gets_a_clear_answer_and_changes_nothing(
    tg: FakeTelegram, bot: Engine
) -> None:
    [usage] = await say(tg, USER, "/mute")
    assert usage.text.startswith("Usage: /mute")
    [long] = await say(tg, USER, "/mute ok " + "x" * 65)
    assert "longer than 64 characters" in long.text
    [punct] = await say(tg, USER, "/follow ok !!!")
    assert "no letters or digits" in punct.text
    [none] = await say(tg, USER, "/unmute nothing")
    assert "Not muted: “nothing”" in none.text
    await say(tg, USER, "/mute " + " ".join(f"w{i}" for i in range(48)))
    [limit] = await say(tg, USER, "/follow a b c")
    assert "would make 51" in limit.text and "50 is the limit" in limit.text
    [fits] = await say(tg, USER, "/follow a b")
    assert "Following: “a”, “b”" in fits.text
    [cleared] = await say(tg, USER, "/unmute all")
    assert "Every mute word removed" in cleared.text
    with Session(bot) as session:
        left = session.exec(select(ChatFilter.phrase).order_by(col(ChatFilter.phrase))).all()
    assert left == ["a", "b"]


@pytest.mark.parametrize(
    "typed",
    [
        "/unmute " + "x" * 4000,
        "/unfollow " + "y" * 4000,
        "/unmute " + " ".join(f"w{i}" for i in range(700)),
        "/mute " + " ".join("!" * 3 for _ in range(1000)),
        "/mute " + " ".join("z" * 65 for _ in range(60)),
    ],
    ids=["one-long-word", "one-long-keyword", "many-words", "many-punctuation", "many-too-long"],
)
async def test_any_typed_input_gets_one_answer_that_fits_a_message(
    tg: FakeTelegram, bot: Engine, typed: str
) -> None:
    [reply] = await say(tg, USER, typed)
    assert len(reply.text) < 4096 and "“" in reply.text
