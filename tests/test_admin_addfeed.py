"""/addfeed with addresses that are not quite the feed: moved for good, or a site's page."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.admin.results import FeedChange
from bot.ingest.discovery import feed_links
from bot.render import admin as render
from bot.render.i18n import lang
from bot.settings import Settings
from bot.storage.models import AuditEntry, Feed
from tests.support.adminkit import ADMIN, HELPERS, say
from tests.support.fake_telegram import FakeTelegram
from tests.support.feedserver import FeedServer, Reply, redirect
from tests.support.samples import serve_outlets


@pytest.fixture
def server(server: FeedServer) -> FeedServer:
    serve_outlets(server)
    server.route("/old.xml", redirect("/a.xml", 301))
    server.route("/older.xml", redirect("/old.xml", 308))
    server.route("/today.xml", redirect("/b.xml", 302))
    server.route("/site/", _page('<link rel="alternate" type="application/rss+xml" href="/a.xml">'))
    server.route(
        "/dead-link.html",
        _page('<link rel="alternate" type="application/rss+xml" href="/gone.xml">'),
    )
    return server


def _page(head: str) -> Reply:
    html = f"<!doctype html><html><head><title>Site</title>{head}</head><body>Hi</body></html>"
    return Reply(200, {"Content-Type": "text/html; charset=utf-8"}, html.encode())


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
        feeds = session.exec(select(Feed).order_by(col(Feed.id))).all()
        audit = session.exec(select(AuditEntry.detail)).all()
    # A temporary (302) redirect keeps the address the admin gave.
    assert [(f.url, f.topics) for f in feeds] == [(new, "world"), (server.url("/today.xml"), "")]
    assert audit == [f"#1 {new}", f"#2 {server.url('/today.xml')}"]


async def test_a_web_page_that_names_its_feed_adds_that_feed_and_says_so(
    tg: FakeTelegram, admin_bot: tuple[Settings, Engine], server: FeedServer
) -> None:
    """Before, the answer was only "not a feed (got text/html)" though the page names one."""
    _settings, engine = admin_bot
    site, feed = server.url("/site/"), server.url("/a.xml")
    [added] = await say(tg, ADMIN, f"/addfeed {site} world")
    [again] = await say(tg, HELPERS[0], f"/addfeed {site}")
    [dead] = await say(tg, HELPERS[1], f"/addfeed {server.url('/dead-link.html')}")
    assert added.text.startswith("✅ Added feed #1 “Outlet A”: ")
    assert added.text.endswith(
        f"Topics: world.\n{site} is a web page, not a feed; this is the feed it names: {feed}"
    )
    assert again.text == f"That URL leads to {feed}, which is already feed #1 Outlet A."
    assert dead.text == f"Can't add {server.url('/gone.xml')}: HTTP 404."
    with Session(engine) as session:
        assert session.exec(select(Feed.url)).all() == [feed]


@pytest.mark.parametrize(
    ("head", "found"),
    [
        ('<link rel="alternate" type="application/rss+xml" href="/feed/">', ["/feed/"]),
        ('<LINK REL="Alternate" TYPE="application/atom+xml; charset=utf-8" HREF="a">', ["/n/a"]),
        ('<link rel="alternate" type="application/feed+json" href="//cdn.example/f.json">', ["//"]),
        ('<link rel="alternate" hreflang="de" href="/de/">', []),  # a translation, no feed
        ('<link rel="stylesheet alternate" type="text/css" href="/s.css">', []),
        ('<link rel="alternate" type="application/rss+xml" href="javascript:void(0)">', []),
        ('<link rel="alternate" type="application/rss+xml" href="">', []),
    ],
)
def test_feed_links_name_the_feeds_a_page_announces(head: str, found: list[str]) -> None:
    page = f"<html><head>{head}</head><body><p>x</body>".encode()
    links = feed_links(page, "https://site.example/n/page")
    expected = {
        "/feed/": "https://site.example/feed/",
        "/n/a": "https://site.example/n/a",
        "//": "https://cdn.example/f.json",
    }
    assert links == [expected[f] for f in found]


def test_feed_links_survive_bytes_that_are_no_html() -> None:
    assert feed_links(b"\xff\xfe<<<\x00 <link rel=", "https://a.example/") == []


async def test_resumefeed_on_a_removed_feed_says_it_was_removed_and_how_to_take_it_back(
    tg: FakeTelegram, admin_bot: tuple[Settings, Engine], server: FeedServer
) -> None:
    """Before, it answered "There is no feed #1" for a feed /audit and /export still show."""
    url = server.url("/a.xml")
    await say(tg, ADMIN, f"/addfeed {url} tech world")
    await say(tg, ADMIN, "/removefeed 1")
    [resumed] = await say(tg, ADMIN, "/resumefeed 1")
    [missing] = await say(tg, ADMIN, "/resumefeed 2")
    assert resumed.text == f"Feed #1 Outlet A was removed; /addfeed {url} tech world takes it back."
    [back] = await say(tg, ADMIN, f"/addfeed {url} tech world")
    assert back.text.startswith("✅ Feed #1 “Outlet A” is back: ")
    assert missing.text == "There is no feed #2. /feeds lists them."


@pytest.mark.parametrize(("items", "shown"), [(0, "0 items"), (1, "1 item"), (2, "2 items")])
def test_the_added_answer_counts_items_in_good_english(items: int, shown: str) -> None:
    """A feed with one item was answered "1 items now"."""
    change = FeedChange("added", 4, "Site", "https://s.example/rss", items=items, topics=("tech",))
    assert render.feed_change(change) == f"✅ Added feed #4 “Site”: {shown} now. Topics: tech."
    assert f"{items} Eintr" in render.feed_change(change, lang("de"))
