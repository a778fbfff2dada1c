"""Private addresses in other spellings, through the running bot with the guard on.

A resolver reads "2130706433", "0x7f.1", "127.1", "0177.0.0.1" and "0" as IPv4
addresses (127.0.0.1 and 0.0.0.0). /addfeed fetches first, so the fetch's guard
refuses them; an OPML import adds without fetching, and took them as names: each
became a feed that failed every refresh.

A feed's server chooses where it permanently moves: /addfeed stored that address
whatever its length, which PostgreSQL refused ("something went wrong").
"""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.settings import FeedConfig, FetchSettings
from bot.storage.models import Feed
from tests.support.adminkit import ADMIN, admin_settings, say
from tests.support.botharness import refresh_once, running_bot, wait_for
from tests.support.fake_telegram import FakeTelegram
from tests.support.feedserver import FeedServer, Reply

LOOPBACK_SPELLINGS = ["2130706433", "0x7f.1", "127.1", "0x7f000001", "[::ffff:7f00:1]"]
RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title></channel></rss>'


async def test_addfeed_refuses_loopback_in_other_spellings(
    tg: FakeTelegram, sqlite_engine: Engine, server: FeedServer
) -> None:
    server.route("/a.xml", Reply(200, {"Content-Type": "application/rss+xml"}, RSS))
    settings = admin_settings(tg, fetch=FetchSettings(allow_private_networks=False))
    async with running_bot(settings, sqlite_engine):
        replies = [
            (await say(tg, ADMIN, f"/addfeed http://{host}:{server.port}/a.xml"))[0].text
            for host in LOOPBACK_SPELLINGS
        ]
    for host, reply in zip(LOOPBACK_SPELLINGS, replies, strict=True):
        assert "is a private or local address" in reply, (host, reply)
    assert server.hits["/a.xml"] == 0
    with Session(sqlite_engine) as session:
        assert session.exec(select(Feed)).all() == []


async def test_opml_entries_naming_loopback_in_other_spellings_are_skipped(
    tg: FakeTelegram, sqlite_engine: Engine
) -> None:
    hosts = ["2130706433", "0x7f.1", "127.1", "0177.0.0.1", "0", "0xa.1.2.3"]
    urls = [f"http://{host}/rss" for host in hosts]
    urls += ["http://134744072/rss"]  # 8.8.8.8: public, in the same spelling
    outlines = "".join(f'<outline xmlUrl="{url}"/>' for url in urls)
    data = f'<opml version="2.0"><body>{outlines}</body></opml>'.encode()
    settings = admin_settings(tg, fetch=FetchSettings(allow_private_networks=False))
    async with running_bot(settings, sqlite_engine):
        tg.send_document(ADMIN, "spellings.opml", data)
        [reply] = await wait_for(tg, ADMIN, 1)
    assert reply.text == "📥 OPML import. Added: 1, already there: 0, skipped as invalid: 6."
    with Session(sqlite_engine) as session:
        assert session.exec(select(Feed.url)).all() == ["http://134744072/rss"]


async def test_addfeed_keeps_the_address_asked_when_it_moves_to_one_too_long(
    tg: FakeTelegram, engine: Engine, server: FeedServer
) -> None:
    far = "/new/" + "p" * 3000
    server.route(far, Reply(200, {"Content-Type": "application/rss+xml"}, RSS))
    server.route("/old", Reply(301, {"Location": server.url(far)}, b""))
    server.route("/near", Reply(301, {"Location": server.url(far[:100])}, b""))
    server.route(far[:100], Reply(200, {"Content-Type": "application/rss+xml"}, RSS))
    settings = admin_settings(tg)
    async with running_bot(settings, engine):
        [far_reply] = await say(tg, ADMIN, f"/addfeed {server.url('/old')}")
        [near_reply] = await say(tg, ADMIN, f"/addfeed {server.url('/near')}")
    assert far_reply.text.startswith("✅ Added feed #1"), far_reply.text
    assert near_reply.text.startswith("✅ Added feed #2"), near_reply.text
    with Session(engine) as session:
        urls = session.exec(select(Feed.url).order_by(Feed.id)).all()
    assert urls == [server.url("/old"), server.url(far[:100])]


async def test_full_text_taps_never_fetch_private_pages(
    tg: FakeTelegram, sqlite_engine: Engine, server: FeedServer
) -> None:
    """Stories whose links name loopback (in any spelling) or redirect there: every 📖
    tap is answered with why, and no page is requested."""
    page = b"<html><body><article><p>secret</p></article></body></html>"
    hosts = ["127.0.0.1", "2130706433", "0x7f.1", "[::ffff:127.0.0.1]"]
    links = [f"http://{host}:{server.port}/page/{i}" for i, host in enumerate(hosts)]
    for i in range(len(hosts)):
        server.route(f"/page/{i}", Reply(200, {"Content-Type": "text/html"}, page))
    items = "".join(
        f"<item><guid>g{i}</guid><title>Story {i}</title><link>{link}</link>"
        f"<pubDate>Wed, 25 Nov 2026 0{i}:00:00 GMT</pubDate></item>"
        for i, link in enumerate(links)
    )
    channel = f"<channel><title>P</title>{items}</channel>"
    body = f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'
    server.route("/feed.xml", Reply(200, {"Content-Type": "application/rss+xml"}, body.encode()))
    feeds = (FeedConfig(server.url("/feed.xml"), "Private pages", ()),)
    settings = admin_settings(tg, feeds=feeds, fetch=FetchSettings(allow_private_networks=False))
    await refresh_once(sqlite_engine, settings)  # stored by a fetcher that allows loopback
    user = 515_101
    tg.add_private_chat(user)
    async with running_bot(settings, sqlite_engine):
        tg.send_text(user, "/latest 10")
        [latest] = await wait_for(tg, user, 1)
        taps = [b["callback_data"] for b in latest.buttons if b["callback_data"].startswith("ft:")]
        assert len(taps) == len(hosts), latest.buttons
        for data in taps:
            tg.press_button(user, latest.message_id, data)
        answers = await wait_for(tg, user, 1 + len(taps), timeout=30)
    assert all(hits == 0 for path, hits in server.hits.items() if path.startswith("/page/"))
    for answer in answers[1:]:
        assert "private or local address" in answer.text, answer.text
