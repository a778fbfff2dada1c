"""What an admin who runs an instance sees, through the real `python -m bot run` process:
the alerts a refresh sends them and the numbers /stats gives."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.admin.stats import collect_stats
from bot.render import admin as render
from bot.storage.db import session_scope
from bot.storage.models import Feed, utcnow
from tests.support.fake_telegram import FakeTelegram
from tests.support.feedserver import FeedServer, Reply, redirect
from tests.support.process import TOPICS_TOML, feed_toml, start_bot, stop_bot, write_config
from tests.support.samples import FEED_A, RSS

ADMIN = 5150
MOVED = ("/one.xml", "/two.xml", "/three.xml")


@pytest.fixture
def server(server: FeedServer) -> FeedServer:
    server.route("/a.xml", Reply(200, RSS, FEED_A))
    server.route("/broken.xml", Reply(500, {}, b""))
    for path in MOVED:  # a publisher moved its feeds to a new site
        server.route(path, redirect(f"/new{path}", 301))
        server.route(f"/new{path}", Reply(200, RSS, FEED_A.replace(b"a-", path[1:4].encode())))
    return server


def test_an_admin_is_told_of_feeds_moved_together_once_and_stats_count_paused_once(
    tmp_path: Path, server: FeedServer, tg: FakeTelegram
) -> None:
    """Three feeds moved in one refresh were three alerts; a paused feed counted as failing."""
    feeds = feed_toml(server, "/a.xml", "Fine") + feed_toml(server, "/broken.xml", "Broken")
    feeds += "".join(feed_toml(server, path, f"Moved {path[1:-4]}") for path in MOVED)
    config = write_config(
        tmp_path,
        f"[telegram]\nadmins = [{ADMIN}]\n"
        "[fetch]\nallow_private_networks = true\ntimeout_seconds = 5\npause_after_failures = 1\n"
        + TOPICS_TOML
        + feeds,
    )
    tg.add_private_chat(ADMIN, first_name="Operator")
    proc = start_bot(config, tg, tmp_path / "bot.log")
    try:
        alerts = tg.wait_for(ADMIN, 2, timeout=60)
        paused = [a.text for a in alerts if a.text.startswith("⏸")]
        moved = [a.text for a in alerts if a.text.startswith("↪️")]
        assert len(paused) == 1 and "Feed #2 Broken was paused" in paused[0]
        assert len(moved) == 1, moved
        assert moved[0].startswith("↪️ 3 feeds moved for good")
        for path in MOVED:  # config feeds keep the address the file gives
            assert f"{server.url('/new' + path)}: its old address stays" in moved[0]
        tg.send_text(ADMIN, "/stats")
        stats = tg.wait_for(ADMIN, len(alerts) + 2, timeout=30)[len(alerts)]
    finally:
        stop_bot(proc)
    assert "Feeds: 5 enabled (4 fine, 0 failing, 1 paused)" in stats.text, stats.text
    assert len(tg.messages(ADMIN)) == len(alerts) + 2  # nothing more: each move told once


def test_stats_count_each_feed_in_one_state(sqlite_engine: Engine) -> None:
    now = utcnow()
    since = now - timedelta(hours=3)
    with session_scope(sqlite_engine) as session:
        session.add(Feed(url="https://fine.example/rss", created_at=now))
        session.add(Feed(url="https://flaky.example/rss", failing_since=since, created_at=now))
        session.add_all(
            Feed(url=f"https://dead{n}.example/rss", paused=True, failing_since=since)
            for n in range(2)
        )
        session.add(Feed(url="https://gone.example/rss", enabled=False, failing_since=since))
    with Session(sqlite_engine) as session:
        numbers = collect_stats(session, now=now)
    assert (numbers.feeds, numbers.fine, numbers.failing, numbers.paused) == (4, 1, 1, 2)
    assert "Feeds: 4 enabled (1 fine, 1 failing, 2 paused)" in render.stats(numbers, [])
