"""The shared test helpers do what the tests built on them assume."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from bot.settings import load_settings
from bot.storage.models import Chat, Story, StoryTopic, Subscription
from tests.support.feedserver import FeedServer
from tests.support.fulltextkit import score, shingles, words
from tests.support.process import TOPICS_TOML, feed_toml, write_config
from tests.support.samples import FEED_A, FEED_B, serve_news, serve_outlets
from tests.support.seed import seed_chats, seed_stories

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_config_writer_output_is_what_the_bot_reads(tmp_path: Path, server: FeedServer) -> None:
    body = TOPICS_TOML + feed_toml(server, "/a.xml", "Outlet A", ("world", "tech"))
    body += feed_toml(server, "/b.xml", "Outlet B")
    settings = load_settings(write_config(tmp_path, body, database="x.sqlite3"), {})
    assert settings.database_url == f"sqlite:///{tmp_path / 'x.sqlite3'}"
    assert [t.slug for t in settings.topics] == ["world", "tech"]
    assert [(f.url, f.name, f.topics) for f in settings.feeds] == [
        (server.url("/a.xml"), "Outlet A", ("world", "tech")),
        (server.url("/b.xml"), "Outlet B", ()),
    ]


def test_config_writer_takes_a_full_database_url(tmp_path: Path) -> None:
    url = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    assert load_settings(write_config(tmp_path, "", database=url), {}).database_url == url


def test_sample_servers_answer_their_routes(server: FeedServer) -> None:
    import httpx

    serve_outlets(server)
    serve_news(server)
    assert httpx.get(server.url("/a.xml")).content == FEED_A
    assert httpx.get(server.url("/b.xml")).content == FEED_B
    assert httpx.get(server.url("/broken.xml")).status_code == 500
    assert b"/articles/tram.html" in httpx.get(server.url("/feed.xml")).content
    assert b"Varnholm" in httpx.get(server.url("/articles/tram.html")).content
    assert httpx.get(server.url("/articles/missing.html")).status_code == 404


def test_seeded_stories_are_newest_first_and_filed_under_their_topic(engine: Engine) -> None:
    seed_stories(engine, now=NOW, count=3)
    seed_stories(engine, now=NOW, count=2, topic="tech")  # a second call adds, no clash
    with Session(engine) as session:
        stories = session.exec(select(Story).order_by(col(Story.published_at).desc())).all()
        tech = session.exec(select(func.count()).where(StoryTopic.topic == "tech")).one()
    assert len(stories) == 5 and tech == 2
    assert stories[0].published_at == NOW - timedelta(minutes=5)
    assert "<with> & odd text" in stories[0].title


def test_seeded_chats_take_every_topic_or_a_random_few(engine: Engine) -> None:
    assert seed_chats(engine, [1, -2], now=NOW, due=NOW, topics=("world", "tech")) == 4
    many = seed_chats(
        engine, range(10, 60), now=NOW, due=None, topics=("a", "b", "c"), per_chat=(1, 2)
    )
    seed_chats(engine, [7], now=NOW, due=None, mode="instant", zone="Europe/Berlin")
    with Session(engine) as session:
        group = session.get(Chat, -2)
        instant = session.get(Chat, 7)
        per_chat = session.exec(
            select(func.count())
            .where(col(Subscription.chat_id) >= 10)
            .group_by(col(Subscription.chat_id))
        ).all()
    assert group is not None and group.type == "group" and group.active
    assert instant is not None and instant.instant_since == NOW - timedelta(hours=1)
    assert instant.timezone == "Europe/Berlin"
    assert 50 <= many <= 100 and set(per_chat) <= {1, 2} and len(per_chat) == 50


def test_shingles_count_words_only_in_their_place() -> None:
    text = "The mayor opened the new tram line on Monday."
    moved = "On Monday the mayor opened the new tram line."  # the same words, reordered
    assert score(words(moved), words(text)).f1 == 1.0
    moved_score = score(shingles(moved), shingles(text))
    assert 0.0 < moved_score.f1 < 1.0
    assert score(shingles(text), shingles(text)).f1 == 1.0
    assert shingles("Two words") == Counter({"Two words": 1})  # shorter than a run: one
    assert not shingles("")
