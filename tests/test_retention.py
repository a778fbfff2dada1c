"""Retention: old rows are pruned in batches; identities of still-listed entries stay known."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from bot.ingest.parser import ParsedEntry
from bot.ingest.stories import IngestOutcome, ingest_entries
from bot.ingest.topics import TopicMatcher
from bot.services.retention import prune
from bot.settings import RetentionSettings, SettingsError, Topic, load_settings
from bot.storage import models, outbox
from bot.storage.db import session_scope
from bot.storage.models import utcnow

MATCHER = TopicMatcher.from_topics([Topic("world", "World", ("world",))])
DAY = timedelta(days=1)
WORDS = ("alpha", "bravo", "charlie", "delta", "echo")


def item(n: int, *, published: datetime) -> ParsedEntry:
    return ParsedEntry(
        guid=f"urn:item:{n}",
        link=f"https://news.example/{n}",
        title=f"World item {n}: {WORDS[n % 5]} {n * 7919}",
        summary=f"Summary {n} about the world number {n * 104729}",
        published_at=published,
        categories=("world",),
        author=None,
    )


def make_feed(engine: Engine, now: datetime) -> int:
    with session_scope(engine) as session:
        feed = models.Feed(url="https://news.example/feed.xml", topics="world", created_at=now)
        session.add(feed)
        session.flush()
        assert feed.id is not None
        return feed.id


def refresh(
    engine: Engine, feed_id: int, items: list[ParsedEntry], *, now: datetime
) -> IngestOutcome:
    """What a successful refresh does: ingest what the feed lists, note the success."""
    with session_scope(engine) as session:
        feed = session.get(models.Feed, feed_id)
        assert feed is not None
        outcome = ingest_entries(
            session, feed=feed, entries=items, matcher=MATCHER, now=now, window=timedelta(hours=48)
        )
        feed.last_success_at = now
        session.add(feed)
    return outcome


def count(engine: Engine, table: type) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(table)).one())


def test_old_rows_of_every_kind_are_pruned_and_young_ones_kept(engine: Engine) -> None:
    now = utcnow()
    feed_id = make_feed(engine, now - 60 * DAY)
    old = [item(i, published=now - 45 * DAY) for i in range(5)]
    refresh(engine, feed_id, old, now=now - 45 * DAY)
    young = item(99, published=now - DAY)
    refresh(engine, feed_id, [young], now=now - DAY)  # the old items are no longer listed
    refresh(engine, feed_id, [young], now=now)
    with session_scope(engine) as session:
        story_ids = list(session.exec(select(models.Story.id).order_by(col(models.Story.id))).all())
        assert len(story_ids) == 6
        old_story, young_story = story_ids[0], story_ids[-1]
        session.add(models.Delivery(chat_id=1, story_id=old_story, delivered_at=now - 45 * DAY))
        session.add(models.Delivery(chat_id=1, story_id=young_story, delivered_at=now - DAY))
        session.add(models.ArticleText(story_id=young_story, body="x", fetched_at=now - 8 * DAY))
        session.add(models.ArticleText(story_id=old_story, body="x", fetched_at=now - 40 * DAY))
        for days, status in [(20, "sent"), (20, "failed"), (20, "cancelled"), (20, "pending")]:
            outbox.enqueue(
                session,
                [outbox.NewMessage(chat_id=1, kind="reply", dedup_key=f"{status}{days}", text="t")],
                now=now - days * DAY,
            )
        outbox.enqueue(
            session,
            [outbox.NewMessage(chat_id=1, kind="reply", dedup_key="new", text="t")],
            now=now,
        )
        session.flush()
        for row in session.exec(select(models.Outbox)).all():
            row.status = row.dedup_key.rstrip("0123456789") if row.dedup_key != "new" else "sent"
            session.add(row)
        session.add(models.AuditEntry(action="old", created_at=now - 400 * DAY))
        session.add(models.AuditEntry(action="new", created_at=now - 10 * DAY))

    report = prune(engine, RetentionSettings(), now=now, batch=2)  # tiny batches: many rounds

    assert (report.outbox, report.stories, report.articles, report.audit) == (3, 5, 1, 1)
    with Session(engine) as session:
        assert sorted(session.exec(select(models.Outbox.status)).all()) == ["pending", "sent"]
        assert session.exec(select(models.Story.id)).all() == [young_story]
        assert session.exec(select(models.Entry.story_id)).all() == [young_story]
        assert set(session.exec(select(models.StoryKey.story_id)).all()) == {young_story}
        assert set(session.exec(select(models.StoryTopic.story_id)).all()) == {young_story}
        assert session.exec(select(models.Delivery.story_id)).all() == [young_story]
        assert count(engine, models.ArticleText) == 0
        assert session.exec(select(models.AuditEntry.action)).all() == ["new"]
    assert prune(engine, RetentionSettings(), now=now).total == 0


def test_an_item_the_feed_still_lists_is_not_taken_for_new_after_pruning(engine: Engine) -> None:
    start = utcnow() - 60 * DAY
    feed_id = make_feed(engine, start)
    evergreen, dropped = item(1, published=start), item(2, published=start)
    refresh(engine, feed_id, [evergreen, dropped], now=start)
    for day in range(1, 41):  # the feed keeps listing one item for 40 days
        refresh(engine, feed_id, [evergreen], now=start + day * DAY)
    report = prune(engine, RetentionSettings(stories_days=30), now=start + 40 * DAY)
    assert report.stories == 1  # only the item the feed stopped listing
    again = refresh(engine, feed_id, [evergreen], now=start + 41 * DAY)
    assert again.new_entries == 0 and again.new_stories == 0
    with Session(engine) as session:
        assert session.exec(select(models.Entry.identity)).all() == ["g:urn:item:1"]


def test_entries_of_a_feed_that_stopped_answering_are_kept(engine: Engine) -> None:
    start = utcnow() - 60 * DAY
    feed_id = make_feed(engine, start)
    refresh(engine, feed_id, [item(1, published=start)], now=start)  # then the feed goes down
    assert prune(engine, RetentionSettings(stories_days=30), now=start + 50 * DAY).stories == 0
    assert count(engine, models.Entry) == 1
    back = refresh(engine, feed_id, [item(1, published=start)], now=start + 51 * DAY)
    assert back.new_entries == 0


def test_retention_settings_are_read_and_checked(tmp_path: Path) -> None:
    assert load_settings(None, {}).retention == RetentionSettings(14, 30, 7, 365)
    cfg = tmp_path / "config.toml"
    cfg.write_text("[retention]\noutbox_days = 3\naudit_days = 30\n", encoding="utf-8")
    assert load_settings(cfg, {}).retention == RetentionSettings(3, 30, 7, 30)
    cfg.write_text("[retention]\nstories_days = 0\n", encoding="utf-8")
    with pytest.raises(
        SettingsError, match=r'retention\.stories_days must be a positive integer, got "0"'
    ):
        load_settings(cfg, {})


async def test_the_retention_tick_is_scheduled_and_prunes(sqlite_engine: Engine) -> None:
    import asyncio
    from types import SimpleNamespace

    from telegram.ext import ApplicationBuilder

    from handlers import jobs

    app = ApplicationBuilder().token("123:abc").build()
    jobs.schedule(app)
    assert app.job_queue is not None
    assert [job.name for job in app.job_queue.get_jobs_by_name("retention")] == ["retention"]
    now = utcnow()
    with session_scope(sqlite_engine) as session:
        session.add(models.AuditEntry(action="old", created_at=now - 400 * DAY))
        session.add(models.AuditEntry(action="new", created_at=now))
    services = SimpleNamespace(
        engine=sqlite_engine,
        settings=load_settings(None, {}),
        clock=lambda: now,
        stopping=asyncio.Event(),
    )
    await jobs.retention_tick(SimpleNamespace(services=services))  # type: ignore[arg-type]
    assert count(sqlite_engine, models.AuditEntry) == 1
