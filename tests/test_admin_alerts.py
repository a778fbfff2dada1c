"""Pause alerts: many feeds paused by one refresh reach each admin as one list, not a flood."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.admin.feed_alerts import enqueue_pause_alerts
from bot.storage.db import session_scope
from bot.storage.models import Feed, Outbox, utcnow
from tests.support.fake_telegram.tdhtml import utf16_len

ADMINS = [7, 8]


def _paused_feeds(engine: Engine, count: int) -> list[int]:
    now = utcnow()
    with session_scope(engine) as session:
        feeds = [
            Feed(
                url=f"https://dead{n}.example/rss",
                title=f"Dead <{n}> & gone",
                paused=True,
                failing_since=now - timedelta(hours=5),
                consecutive_failures=10,
                last_error="connection refused",
                created_at=now,
            )
            for n in range(count)
        ]
        session.add_all(feeds)
        session.flush()
        return [f.id or 0 for f in feeds]


def _alerts(engine: Engine) -> list[Outbox]:
    with Session(engine) as session:
        return list(session.exec(select(Outbox).order_by(col(Outbox.id))).all())


def test_feeds_paused_together_reach_each_admin_in_one_message(sqlite_engine: Engine) -> None:
    """An OPML import of dead feeds pauses them all in one round: one alert each was a flood."""
    ids = _paused_feeds(sqlite_engine, 3)
    for _ in range(2):  # the same report again adds nothing
        with session_scope(sqlite_engine) as session:
            enqueue_pause_alerts(session, ids, ADMINS, now=utcnow())
    rows = _alerts(sqlite_engine)
    assert [r.chat_id for r in rows] == ADMINS
    text = rows[0].text
    assert text.startswith("⏸ 3 feeds were paused after failing fetches in a row:")
    assert all(f"/resumefeed {feed_id}" in text for feed_id in ids)
    assert "Dead &lt;0&gt; &amp; gone" in text and "connection refused" in text


def test_hundreds_of_paused_feeds_fit_in_telegram_messages(sqlite_engine: Engine) -> None:
    ids = _paused_feeds(sqlite_engine, 400)
    with session_scope(sqlite_engine) as session:
        enqueue_pause_alerts(session, ids, ADMINS[:1], now=utcnow())
    rows = _alerts(sqlite_engine)
    plain = [html.unescape(re.sub(r"<[^>]+>", "", r.text)) for r in rows]
    assert 1 < len(rows) < 40
    assert all(utf16_len(text) <= 4096 for text in plain)
    named = [int(n) for r in rows for n in re.findall(r"/resumefeed (\d+)", r.text)]
    assert named == ids
