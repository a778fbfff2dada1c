"""A story over several refreshes, as a reader of the real `python -m bot run` process sees it.

The feeds change between the process's own refresh ticks (every feed due each tick:
``interval_seconds = 1``); the reader asks /latest and taps 📖 through the fake Bot API.
"""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from tests.support.fake_telegram import FakeTelegram
from tests.support.feedserver import FeedServer, Reply
from tests.support.process import TOPICS_TOML, feed_toml, start_bot, stop_bot, write_config
from tests.support.samples import ARTICLES, HTML, NEWS_PARAGRAPHS, RSS

USER = 4343
BRIDGE = "Storm closes the northern bridge after cracks are found"
EDITED = "Storm closes the northern bridge: cracks found in two pillars"

pytestmark = pytest.mark.slow


def channel(title: str, items: list[tuple[str, str, str | None]]) -> bytes:
    """RSS with (guid, headline, link or None) items dated an hour ago; GUIDs are no links."""
    date = format_datetime(datetime.now(UTC) - timedelta(hours=1), usegmt=True)
    body = "".join(
        f'<item><guid isPermaLink="false">{guid}</guid><title>{headline}</title>'
        + (f"<link>{link}</link>" if link else "")
        + f"<pubDate>{date}</pubDate></item>"
        for guid, headline, link in items
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>{title}</title>'
        f"<link>https://outlet.example/</link>{body}</channel></rss>"
    ).encode()


def query(path: Path, sql: str) -> list[tuple[object, ...]]:
    """Rows from the bot's SQLite file, read-only ([] before it exists or while locked)."""
    if not path.exists():
        return []
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        try:
            return list(db.execute(sql).fetchall())
        except sqlite3.OperationalError:
            return []


def test_a_story_gains_a_link_an_outlet_and_a_corrected_headline_and_is_listed_once(
    tmp_path: Path, server: FeedServer, tg: FakeTelegram
) -> None:
    """Wire (its <title> is its address) reports without a link; Daily's report brings
    one; Daily then corrects its headline. /latest shows one story throughout: linked to
    Daily's article, named "Daily · … · also wire.example", under the corrected headline;
    📖 reads the article."""
    article = server.url("/articles/bridge.html")
    server.route(
        article.removeprefix(server.base_url),
        Reply(200, HTML, (ARTICLES / "news_article.html").read_bytes()),
    )
    server.route(
        "/wire.xml", Reply(200, RSS, channel("https://www.wire.example/", [("w-1", BRIDGE, None)]))
    )
    server.route("/daily.xml", Reply(200, RSS, channel("Daily Courier", [])))
    config = write_config(
        tmp_path,
        "[fetch]\nallow_private_networks = true\ninterval_seconds = 1\ntimeout_seconds = 5\n"
        '[dedup]\nmethod = "lexical"\n'
        '[briefing]\ntimes = ["08:00"]\ntimezone = "UTC"\n'
        + TOPICS_TOML
        + f'[[feeds]]\nurl = "{server.url("/wire.xml")}"\ntopics = ["world"]\n'
        + feed_toml(server, "/daily.xml", "Daily", ("world",)),
        database="bot.sqlite3",
    )
    db = tmp_path / "bot.sqlite3"
    log = tmp_path / "bot.log"
    proc = start_bot(config, tg, log)
    try:
        tg.wait_for(
            lambda: query(db, "SELECT title, link FROM story") == [(BRIDGE, None)], timeout=60
        )

        def serve_daily(items: list[tuple[str, str, str | None]]) -> None:
            """Serve Daily's next version; wait until the bot has stored that very body."""
            body = channel("Daily Courier", items)
            server.route("/daily.xml", Reply(200, RSS, body))
            stored = [(hashlib.sha256(body).hexdigest(),)]
            sql = "SELECT body_hash FROM feed WHERE name = 'Daily'"
            tg.wait_for(lambda: query(db, sql) == stored, timeout=90)

        serve_daily([("d-1", BRIDGE, article)])
        assert query(db, "SELECT count(*) FROM entry") == [(2,)]
        serve_daily([("d-1", EDITED, article)])

        tg.add_private_chat(USER)
        tg.send_text(USER, "/latest")
        [latest] = tg.wait_for(USER, 1, timeout=30)
        assert latest.html is not None
        assert "Latest 1 story" in latest.text
        assert f'<a href="{article}">{EDITED}</a>' in latest.html
        assert "Daily · " in latest.text and "also wire.example" in latest.text
        assert "://" not in latest.text and BRIDGE not in latest.text
        [read] = latest.buttons
        tg.press_button(USER, latest.message_id, read["callback_data"])
        parts = tg.wait_for(USER, 2, timeout=30)[1:]
        assert NEWS_PARAGRAPHS[0] in "\n".join(m.text for m in parts)
    finally:
        stop_bot(proc)
    assert proc.returncode == 0, log.read_text()[-3000:]
    assert not tg.server_errors
    assert "Traceback" not in log.read_text()
