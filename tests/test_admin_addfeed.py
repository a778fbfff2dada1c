"""/addfeed with addresses that are not quite the feed: moved for good, or a site's page."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.settings import Settings
from bot.storage.models import AuditEntry, Feed
from tests.support.adminkit import ADMIN, HELPERS, say
from tests.support.fake_telegram import FakeTelegram
from tests.support.feedserver import FeedServer, redirect
from tests.support.samples import serve_outlets


@pytest.fixture
def server(server: FeedServer) -> FeedServer:
    serve_outlets(server)
    server.route("/old.xml", redirect("/a.xml", 301))
    server.route("/older.xml", redirect("/old.xml", 308))
    server.route("/today.xml", redirect("/b.xml", 302))
    return server


async def test_a_feed_that_moved_for_good_is_added_under_its_new_address(
    tg: FakeTelegram, admin_bot: tuple[Settings, Engine], server: FeedServer
) -> None:
    """Stored under the old address, a second admin adding the new one got a second feed."""
    _settings, engine = admin_bot
    new = server.url("/a.xml")
    [added] = await say(tg, ADMIN, f"/addfeed {server.url('/older.xml')} world")
    [again] = await say(tg, HELPERS[0], f"/addfeed {new}")
    [temporary] = await say(tg, ADMIN, f"/addfeed {server.url('/today.xml')}")
    assert added.text.startswith("✅ Added feed #1 “Outlet A”: ")
    assert again.text == "That feed is already there: #1 Outlet A."
    assert temporary.text.startswith("✅ Added feed #2 “Outlet B”: ")
    with Session(engine) as session:
        feeds = session.exec(select(Feed).order_by(Feed.id)).all()  # type: ignore[arg-type]
        audit = session.exec(select(AuditEntry.detail)).all()
    # A temporary (302) redirect keeps the address the admin gave.
    assert [(f.url, f.topics) for f in feeds] == [(new, "world"), (server.url("/today.xml"), "")]
    assert audit == [f"#1 {new}", f"#2 {server.url('/today.xml')}"]
