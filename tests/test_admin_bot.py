"""Admin commands through the real PTB stack against the strict fake Bot API."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select
from telegram import Update
from telegram.ext import Application, CommandHandler

from bot.admin import opml
from bot.render import texts
from bot.services.context import sync_feeds
from bot.settings import FeedConfig, FetchSettings, Settings
from bot.storage.models import AuditEntry, Broadcast, Feed, Outbox, utcnow
from handlers.app import build_application
from tests.support.adminkit import ADMIN, HELPERS, USER, admin_settings, say
from tests.support.botharness import make_settings, refresh_once, running_bot, wait_for
from tests.support.fake_telegram import FakeTelegram
from tests.support.feedserver import FeedServer, Reply, Request, redirect
from tests.support.process import free_port
from tests.support.samples import FEED_A, serve_outlets
from tests.support.seed import seed_chats, seed_stories


@pytest.fixture
def server(server: FeedServer) -> FeedServer:
    serve_outlets(server)
    server.route("/page.html", Reply(200, {"Content-Type": "text/html"}, b"<html>hi</html>"))
    server.route("/old.xml", redirect("/a.xml", 301))
    return server


def counts(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        return {
            table.__name__: session.exec(select(func.count()).select_from(table)).one()
            for table in (Feed, Broadcast, AuditEntry, Outbox)
        }


# ---------------------------------------------------------------- who is an admin


async def test_every_admin_command_refuses_non_admins_and_changes_nothing(
    tg: FakeTelegram, admin_bot: tuple[Settings, Engine]
) -> None:
    _settings, engine = admin_bot
    seed_chats(engine, [3001], now=utcnow(), due=None)
    before = counts(engine)
    attempts = [
        "/broadcast hello everyone",
        "/broadcast #world hello",
        "/feeds",
        "/addfeed https://example.com/rss world",
        "/removefeed 1",
        "/resumefeed 1",
        "/feedtopics 1 world",
        "/export",
        "/stats",
        "/audit",
    ]
    users = [USER + i for i in range(len(attempts) + 1)]
    for user, text in zip(users, attempts, strict=False):
        tg.add_private_chat(user)
        tg.send_text(user, text)
    tg.add_private_chat(users[-1])
    tg.send_document(users[-1], "feeds.opml", opml.build_opml([], title="x", now=utcnow()))
    await wait_for(tg, lambda: all(tg.messages(u) for u in users))
    await asyncio.sleep(0.3)  # nothing else trickles in
    assert [tg.texts(u) for u in users] == [[texts.ADMIN_ONLY]] * len(users)
    assert counts(engine) == before
    for method in ("sendDocument", "sendPhoto", "getFile", "editMessageText"):
        assert tg.calls(method) == []


async def test_a_non_admin_cannot_press_the_send_button(
    tg: FakeTelegram, admin_bot: tuple[Settings, Engine]
) -> None:
    _settings, engine = admin_bot
    seed_chats(engine, [3001], now=utcnow(), due=None)
    tg.add_private_chat(3001)
    group = tg.add_group(-100_500, members=[ADMIN, USER])
    _preview, control = await say(tg, group, "/broadcast hello", expect=2, from_user=ADMIN)
    send = control.buttons[0]["callback_data"]
    query = tg.press_button(group, control.message_id, send, from_user=USER)
    answer = await wait_for(tg, lambda: tg.callback_answer(query))
    assert answer["text"] == texts.ADMIN_ONLY and answer["show_alert"] is True
    with Session(engine) as session:
        assert session.exec(select(Broadcast.status)).all() == ["draft"]
        assert session.exec(select(Outbox)).all() == []
    assert tg.messages(3001) == []


async def test_admin_commands_show_in_the_menu_of_admins_only(
    tg: FakeTelegram, admin_bot: tuple[Settings, Engine]
) -> None:
    everyone = {c["command"] for c in tg.commands()}
    admin = {c["command"] for c in tg.commands({"type": "chat", "chat_id": ADMIN})}
    assert everyone == set(texts.MENU)
    assert admin == set(texts.MENU) | set(texts.ADMIN_MENU)


async def test_an_admin_removed_from_the_config_loses_the_admin_menu(
    tg: FakeTelegram, sqlite_engine: Engine
) -> None:
    """Nothing lists the menus set for a chat: the first admin command after it goes."""
    async with running_bot(admin_settings(tg), sqlite_engine):
        pass
    scope = {"type": "chat", "chat_id": ADMIN}
    assert {c["command"] for c in tg.commands(scope, "de")} >= set(texts.ADMIN_MENU)
    async with running_bot(make_settings(tg, admins=HELPERS), sqlite_engine):
        [refusal] = await say(tg, ADMIN, "/broadcast still mine?")
        await wait_for(tg, lambda: not tg.commands(scope, "de"))
        await say(tg, USER, "/stats")  # and no admin menu to take: one look, nothing deleted
    assert refusal.text == texts.ADMIN_ONLY
    assert [tg.commands(scope, code) for code in ("", "en", "ru", "de", "es", "tr")] == [[]] * 6
    assert len(tg.calls("deleteMyCommands")) == 6  # the former admin's menus only
    assert {c["command"] for c in tg.commands({"type": "chat", "chat_id": HELPERS[0]})} >= set(
        texts.ADMIN_MENU
    )


# ---------------------------------------------------------------- feeds


async def test_addfeed_checks_the_feed_first_and_refuses_duplicates(
    tg: FakeTelegram, admin_bot: tuple[Settings, Engine], server: FeedServer
) -> None:
    _settings, engine = admin_bot
    url, page = server.url("/a.xml"), server.url("/page.html")
    dead = f"http://127.0.0.1:{free_port()}/rss"
    long = f"{dead}?q=" + "x" * 4000
    others = {
        f"/addfeed {page}": f"Can't add {page}: not a feed (got text/html).",
        f"/addfeed {dead}": f"Can't add {dead}: connection refused.",
        f"/addfeed {server.url('/b.xml')} wrld": 'There is no topic "wrld".',
        "/addfeed example.com/rss": "Can't add example.com/rss: not an http(s) URL.",
        # An address longer than a message can hold is shown back shortened.
        f"/addfeed {long}": f"Can't add {long[:300]}…: longer than 2048 characters.",
    }
    for helper, command in zip(HELPERS, others, strict=False):
        tg.send_text(helper, command)
    [added] = await say(tg, ADMIN, f"/addfeed {url} world")
    assert added.text.startswith("✅ Added feed #1 “Outlet A”: ")
    assert added.text.endswith("items now. Topics: world.")
    [again] = await say(tg, ADMIN, f"/addfeed {url}")
    assert again.text == "That feed is already there: #1 Outlet A."
    [moved] = await say(tg, ADMIN, f"/addfeed {server.url('/old.xml')}")
    assert moved.text == f"That URL leads to {url}, which is already feed #1 Outlet A."
    for helper, expected in zip(HELPERS, others.values(), strict=False):
        [reply] = await wait_for(tg, helper, 1)
        assert reply.text.startswith(expected)
    with Session(engine) as session:
        feeds = session.exec(select(Feed)).all()
    assert [(f.url, f.origin, f.topics, f.title) for f in feeds] == [
        (url, "admin", "world", "Outlet A")
    ]


async def test_addfeed_refuses_an_address_longer_than_the_feed_column(
    tg: FakeTelegram, engine: Engine, server: FeedServer
) -> None:
    """A feed that answers under a 2,100-character address: PostgreSQL would refuse the row."""
    long = server.url("/a.xml") + "?ref=" + "x" * 2100
    async with running_bot(admin_settings(tg), engine):
        [reply] = await say(tg, ADMIN, f"/addfeed {long}")
        [fits] = await say(tg, ADMIN, f"/addfeed {long[:2048]}")
    assert reply.text == f"Can't add {long[:300]}…: longer than 2048 characters."
    assert fits.text.startswith("✅ Added feed #1")
    with Session(engine) as session:
        assert session.exec(select(Feed.url)).all() == [long[:2048]]


async def test_two_admins_adding_the_same_feed_at_once_get_one_feed_and_two_answers(
    tg: FakeTelegram, engine: Engine, server: FeedServer
) -> None:
    """Both trial fetches answer together, so both admins store at the same moment."""
    both = threading.Barrier(2, timeout=10)

    def together(_request: Request) -> Reply:
        both.wait()
        return Reply(200, {"Content-Type": "application/rss+xml"}, FEED_A)

    url = server.url("/together.xml")
    server.route("/together.xml", together)
    async with running_bot(admin_settings(tg), engine):
        for admin in (ADMIN, HELPERS[0]):
            tg.send_text(admin, f"/addfeed {url}")
        replies = [(await wait_for(tg, admin, 1))[0].text for admin in (ADMIN, HELPERS[0])]
    assert sorted(r[:9] for r in replies) == ["That feed", "✅ Added f"], replies
    with Session(engine) as session:
        assert session.exec(select(Feed.url)).all() == [url]


async def test_addfeed_refuses_private_addresses_when_not_allowed(
    tg: FakeTelegram, sqlite_engine: Engine, server: FeedServer
) -> None:
    settings = admin_settings(tg, fetch=FetchSettings(allow_private_networks=False))
    async with running_bot(settings, sqlite_engine):
        [reply] = await say(tg, ADMIN, f"/addfeed {server.url('/a.xml')}")
    assert reply.text == (
        f"Can't add {server.url('/a.xml')}: refused: 127.0.0.1 is a private or local address."
    )
    assert server.hits["/a.xml"] == 0


async def test_feeds_list_remove_and_resume(
    tg: FakeTelegram, admin_bot: tuple[Settings, Engine], server: FeedServer
) -> None:
    _settings, engine = admin_bot
    await say(tg, ADMIN, f"/addfeed {server.url('/a.xml')} world")
    await say(tg, HELPERS[0], f"/addfeed {server.url('/b.xml')}")
    now = utcnow()
    with Session(engine) as session:
        broken = session.get(Feed, 2)
        assert broken is not None
        broken.paused, broken.failing_since, broken.last_error = True, now, "HTTP 500"
        broken.consecutive_failures = 10
        session.add(broken)
        session.commit()
    [listing] = await say(tg, HELPERS[1], "/feeds")
    assert "Feeds (2)" in listing.text
    assert "#1 Outlet A" in listing.text and "Topics: world" in listing.text
    assert "State: ✅ ok" in listing.text
    assert "paused since" in listing.text and "HTTP 500" in listing.text
    [resumed] = await say(tg, ADMIN, "/resumefeed 2")
    assert resumed.text.startswith("▶️ Feed #2")
    [not_paused] = await say(tg, ADMIN, "/resumefeed #2")
    assert "is not paused" in not_paused.text
    [removed] = await say(tg, HELPERS[2], "/removefeed 1")
    assert removed.text == "Feed #1 Outlet A removed; its stories stay."
    [missing] = await say(tg, HELPERS[2], "/removefeed 99")
    assert missing.text == "There is no feed #99. /feeds lists them."
    [usage] = await say(tg, HELPERS[2], "/removefeed one")
    assert usage.text.startswith("Usage: /removefeed <id>")
    with Session(engine) as session:
        one, two = session.get(Feed, 1), session.get(Feed, 2)
        assert one is not None and two is not None
        assert one.enabled is False
        assert (two.paused, two.consecutive_failures, two.failing_since) == (False, 0, None)
        assert two.next_check_at is not None and two.next_check_at >= now
    [listing] = await say(tg, HELPERS[1], "/feeds")
    assert "Feeds (1)" in listing.text and "Outlet A" not in listing.text
    [log] = await say(tg, HELPERS[3], "/audit")
    lines = [line for line in log.text.splitlines() if line]
    assert lines[0] == "Audit log (last 4)"
    assert [line.split(" · ")[2] for line in lines[1:]] == [
        "removefeed",
        "resumefeed",
        "addfeed",
        "addfeed",
    ]
    assert "@boss (777)" in lines[2]


async def test_a_paused_feed_alerts_admins_once(
    tg: FakeTelegram, sqlite_engine: Engine, server: FeedServer
) -> None:
    feeds = (FeedConfig(server.url("/broken.xml"), "Broken"),)
    settings = admin_settings(
        tg,
        feeds=feeds,
        fetch=FetchSettings(allow_private_networks=True, pause_after_failures=1),
    )
    from bot.cli.fetch import sync_feeds

    sync_feeds(settings, sqlite_engine)
    async with running_bot(settings, sqlite_engine, role="all") as services:
        [alert] = await wait_for(tg, ADMIN, 1, timeout=15)
        from handlers.jobs import alert_paused

        await alert_paused(services, [1])  # a second report of the same streak
        await asyncio.sleep(1.2)  # a deliver tick would have sent it by now
    assert alert.text.startswith("⏸ Feed #1 Broken was paused after 1 failed fetch (")
    assert "HTTP 500" in alert.text and "/resumefeed 1" in alert.text
    assert len(tg.messages(ADMIN)) == 1


# ---------------------------------------------------------------- OPML in chat


OPML_IN = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0"><head><title>Mine</title></head><body>
<outline text="World"><outline type="rss" text="Outlet A" xmlUrl="{a}"/></outline>
<outline type="rss" text="Outlet B" xmlUrl="{b}" category="/tech"/>
</body></opml>"""


async def test_opml_document_import_then_export_round_trip(
    tg: FakeTelegram, admin_bot: tuple[Settings, Engine], server: FeedServer
) -> None:
    _settings, engine = admin_bot
    a, b = server.url("/a.xml"), server.url("/b.xml")
    data = OPML_IN.format(a=a, b=b).encode()
    tg.send_document(ADMIN, "mine.opml", data, mime_type="text/x-opml")
    [reply] = await wait_for(tg, ADMIN, 1)
    assert reply.text == "📥 OPML import. Added: 2, already there: 0, skipped as invalid: 0."
    tg.send_document(ADMIN, "mine.opml", data)
    again = (await wait_for(tg, ADMIN, 2))[1]
    assert "Added: 0, already there: 2," in again.text
    [export] = await say(tg, ADMIN, "/export")
    assert export.kind == "document" and export.file is not None
    assert export.file.filename == "feeds.opml" and export.text == "Feeds: 2"
    back = opml.parse_opml(export.file.data, _settings.topics)
    assert back == [
        opml.OpmlFeed(a, "Outlet A", ("world",)),
        opml.OpmlFeed(b, "Outlet B", ("tech",)),
    ]
    with Session(engine) as session:
        assert session.exec(select(AuditEntry.action)).all() == ["import-opml", "import-opml"]


async def test_malicious_opml_document_is_refused(
    tg: FakeTelegram, admin_bot: tuple[Settings, Engine]
) -> None:
    _settings, engine = admin_bot
    evil = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><opml><body>'
        b'<outline text="&b;" xmlUrl="https://x.example/"/></body></opml>'
    )
    tg.send_document(ADMIN, "evil.opml", evil)
    [reply] = await wait_for(tg, ADMIN, 1)
    assert reply.text == (
        "This OPML file was refused: it declares a DTD or entities, which are not allowed."
    )
    assert counts(engine)["Feed"] == 0


async def test_a_feed_removed_while_paused_comes_back_from_opml_with_a_clean_slate(
    tg: FakeTelegram, admin_bot: tuple[Settings, Engine], server: FeedServer
) -> None:
    """Re-imported, it gets `fetch.pause_after_failures` tries again, as /addfeed gives it."""
    settings, engine = admin_bot
    url, long_ago = server.url("/broken.xml"), utcnow() - timedelta(days=3)
    with Session(engine) as session:
        session.add(
            Feed(url=url, name="Broken", origin="admin", enabled=False, paused=True,
                 consecutive_failures=10, failing_since=long_ago, last_error="HTTP 500",
                 created_at=long_ago)
        )  # fmt: skip
        session.commit()
    data = f'<opml version="2.0"><body><outline xmlUrl="{url}"/></body></opml>'.encode()
    tg.send_document(ADMIN, "back.opml", data)
    [reply] = await wait_for(tg, ADMIN, 1)
    assert reply.text.startswith("📥 OPML import. Added: 1,")
    await refresh_once(engine, settings)  # it still fails: one failure of a new streak
    with Session(engine) as session:
        [feed] = session.exec(select(Feed)).all()
    assert feed.enabled and not feed.paused
    assert (feed.consecutive_failures, feed.last_error) == (1, "HTTP 500")


async def test_opml_entries_naming_private_addresses_are_skipped_as_addfeed_refuses_them(
    tg: FakeTelegram, sqlite_engine: Engine
) -> None:
    """Every fetch would refuse them: counted as invalid, not added to fail for a day."""
    hosts = ["127.0.0.1", "10.1.2.3", "169.254.169.254", "[::1]", "[::ffff:192.168.0.1]"]
    urls = [f"http://{host}/rss" for host in hosts] + ["http://localhost:8080/rss"]
    urls += ["https://public.example/rss"]
    outlines = "".join(f'<outline xmlUrl="{url}"/>' for url in urls)
    data = f'<opml version="2.0"><body>{outlines}</body></opml>'.encode()
    settings = admin_settings(tg, fetch=FetchSettings(allow_private_networks=False))
    async with running_bot(settings, sqlite_engine):
        tg.send_document(ADMIN, "mixed.opml", data)
        [reply] = await wait_for(tg, ADMIN, 1)
    assert reply.text == "📥 OPML import. Added: 1, already there: 0, skipped as invalid: 6."
    with Session(sqlite_engine) as session:
        assert session.exec(select(Feed.url)).all() == ["https://public.example/rss"]


async def test_opml_names_are_read_in_the_encoding_the_bytes_are_in(
    tg: FakeTelegram, admin_bot: tuple[Settings, Engine]
) -> None:
    """A prolog may name a charset the bytes are not in: valid UTF-8 is believed first."""
    _settings, engine = admin_bot
    template = '<?xml version="1.0" encoding="{}"?><opml version="2.0"><body>{}</body></opml>'
    mislabelled = template.format(
        "ISO-8859-1", '<outline text="Café Zürich" xmlUrl="https://a.example/"/>'
    )
    cyrillic = template.format(
        "windows-1251", '<outline text="Новости" xmlUrl="https://b.example/"/>'
    )
    tg.send_document(ADMIN, "one.opml", mislabelled.encode("utf-8"))
    tg.send_document(ADMIN, "two.opml", cyrillic.encode("cp1251"))
    replies = await wait_for(tg, ADMIN, 2)
    assert all(r.text.startswith("📥 OPML import. Added: 1,") for r in replies)
    with Session(engine) as session:
        names = session.exec(select(Feed.name).order_by(Feed.url)).all()
    assert names == ["Café Zürich", "Новости"]


async def test_a_feed_dropped_from_the_config_and_imported_by_an_admin_survives_a_restart(
    tg: FakeTelegram, sqlite_engine: Engine
) -> None:
    """The import is the admin's now: a start disables only feeds the config owns."""
    url = "https://dropped.example/rss"
    sync_feeds(admin_settings(tg, feeds=(FeedConfig(url, "Dropped"),)), sqlite_engine)
    settings = admin_settings(tg)  # the feed left the config file: the next start drops it
    sync_feeds(settings, sqlite_engine)
    async with running_bot(settings, sqlite_engine):
        data = f'<opml version="2.0"><body><outline xmlUrl="{url}"/></body></opml>'.encode()
        tg.send_document(ADMIN, "back.opml", data)
        [reply] = await wait_for(tg, ADMIN, 1)
    assert reply.text.startswith("📥 OPML import. Added: 1,")
    sync_feeds(settings, sqlite_engine)  # what the next start does first
    with Session(sqlite_engine) as session:
        assert session.exec(select(Feed.url).where(Feed.enabled)).all() == [url]


async def test_opml_exports_named_xml_are_imported_for_admins_only(
    tg: FakeTelegram, admin_bot: tuple[Settings, Engine]
) -> None:
    """Inoreader names its export `… .xml`, FreshRSS `… .opml.xml`: an admin's is imported."""
    _settings, engine = admin_bot
    data = OPML_IN.format(a="https://a.example/rss", b="https://b.example/rss").encode()
    tg.send_document(ADMIN, "Inoreader Subscriptions 20261206.xml", data, mime_type="text/xml")
    [reply] = await wait_for(tg, ADMIN, 1)
    assert reply.text == "📥 OPML import. Added: 2, already there: 0, skipped as invalid: 0."
    helper = HELPERS[0]
    tg.send_document(helper, "feeds_2026-12-06.opml.xml", data, mime_type="application/xml")
    [again] = await wait_for(tg, helper, 1)
    assert again.text.startswith("📥 OPML import. Added: 0, already there: 2,")
    tg.add_private_chat(USER)
    tg.send_document(USER, "notes.xml", data, mime_type="text/xml")  # no admin: as before
    [hint] = await wait_for(tg, USER, 1)
    assert hint.text == texts.TEXT_NOT_COMMAND
    assert counts(engine)["Feed"] == 2


async def test_opml_with_folders_nested_thousands_deep_is_imported(
    tg: FakeTelegram, admin_bot: tuple[Settings, Engine]
) -> None:
    """A file fits 50,000 levels of folders; walking them must not exhaust the stack."""
    _settings, engine = admin_bot
    depth = 5000
    folders = '<outline text="World">' + '<outline text="more">' * depth
    feed = '<outline type="rss" text="Deep" xmlUrl="https://deep.example/rss"/>'
    body = folders + feed + "</outline>" * (depth + 1)
    data = f'<?xml version="1.0"?><opml version="2.0"><body>{body}</body></opml>'.encode()
    tg.send_document(ADMIN, "deep.opml", data)
    [reply] = await wait_for(tg, ADMIN, 1)
    assert reply.text == "📥 OPML import. Added: 1, already there: 0, skipped as invalid: 0."
    with Session(engine) as session:
        [stored] = session.exec(select(Feed)).all()
    assert (stored.url, stored.topics) == ("https://deep.example/rss", "world")


# ---------------------------------------------------------------- health


async def test_stats_answer_with_numbers_and_a_png_chart(
    tg: FakeTelegram, admin_bot: tuple[Settings, Engine]
) -> None:
    _settings, engine = admin_bot
    now = utcnow()
    seed_stories(engine, now=now, count=4)
    seed_chats(engine, [5001, 5002], now=now, due=None)
    [text, photo] = await say(tg, ADMIN, "/stats", expect=2)
    assert text.text.startswith("📊 Statistics")
    assert "Chats: 2 active, 0 inactive" in text.text
    assert "World 2, Technology 0, Science 0" in text.text
    assert "Last 24 h: 4 stories, 0 merged duplicates" in text.text
    assert photo.kind == "photo" and photo.file is not None
    assert photo.file.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(tg.calls("sendPhoto")) == 1


@asynccontextmanager
async def started(app: Application[Any, Any, Any, Any, Any, Any]) -> AsyncIterator[None]:
    await app.initialize()
    assert app.post_init is not None and app.updater is not None
    await app.post_init(app)
    await app.updater.start_polling(poll_interval=0.0, timeout=1)
    await app.start()
    try:
        yield
    finally:
        await app.updater.stop()
        await app.stop()
        assert app.post_shutdown is not None
        await app.post_shutdown(app)
        await app.shutdown()


async def test_errors_reach_admins_once_per_kind(
    tg: FakeTelegram, sqlite_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    settings = admin_settings(tg)
    app = build_application(settings, sqlite_engine, role="bot")

    async def boom(update: Update, context: Any) -> None:
        raise ValueError("handler <broke>")

    async def job_boom(context: Any) -> None:
        raise KeyError("job broke")

    app.add_handler(CommandHandler("boom", boom), group=-1)
    users = [USER, USER + 1, USER + 2]
    caplog.set_level(logging.ERROR, logger="handlers.errors")
    async with started(app):
        for user in users:
            tg.add_private_chat(user)
            tg.send_text(user, "/boom")
        assert app.job_queue is not None
        for _ in range(2):
            app.job_queue.run_once(job_boom, 0.01, name="tidy")
        reports = await wait_for(tg, ADMIN, 2)
        # Each user is told, and (the test's handler runs first) hears "unknown command" too.
        await wait_for(tg, lambda: all(len(tg.messages(u)) == 2 for u in users))
        await asyncio.sleep(0.3)
    assert all(texts.ERROR_GENERIC in tg.texts(user) for user in users)
    assert len(tg.messages(ADMIN)) == 2
    first, second = sorted(m.text for m in reports)
    assert first.startswith("🐞 KeyError in job tidy")
    # /boom is not one of the bot's commands: every such name is one kind, "(unknown)".
    assert second.startswith("🐞 ValueError in command (unknown)") and "handler <broke>" in second
    assert "test_admin_bot.py" not in second  # only our own code's frames are named
    assert caplog.text.count("unhandled error") == 5


async def test_two_admins_importing_one_opml_at_once_each_get_an_answer(
    tg: FakeTelegram, engine: Engine
) -> None:
    """Both imports read the feed list before either commits; on PostgreSQL the second
    commit met the first one's rows (IntegrityError, a bug report instead of an answer)."""
    outlines = "".join(
        f'<outline type="rss" text="Wire {n}" xmlUrl="https://wire{n}.example/feed.xml"/>'
        for n in range(400)
    )
    data = f'<?xml version="1.0"?><opml version="2.0"><body>{outlines}</body></opml>'.encode()
    admins = (ADMIN, HELPERS[0])
    async with running_bot(admin_settings(tg), engine):
        for admin in admins:
            tg.send_document(admin, "wires.opml", data)
        replies = [(await wait_for(tg, admin, 1))[0].text for admin in admins]
        assert all(r.startswith("📥 OPML import.") for r in replies), replies
        added = [int(r.split("Added: ")[1].split(",")[0]) for r in replies]
        assert sum(added) == 400, replies  # each feed added by one of the two
        await asyncio.sleep(0.5)  # no bug report follows
        assert [len(tg.messages(a)) for a in admins] == [1, 1]
    with Session(engine) as session:
        assert len(session.exec(select(Feed.url)).all()) == 400
