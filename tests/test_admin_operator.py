"""What an admin who runs an instance sees, through the real `python -m bot run` process:
the alerts a refresh sends them and the numbers /stats gives."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.admin import broadcast as bc
from bot.admin.audit import CLI
from bot.admin.feed_alerts import enqueue_move_alerts
from bot.admin.results import Tap
from bot.admin.stats import collect_stats
from bot.render import admin as render
from bot.render import tghtml
from bot.render.i18n import lang
from bot.storage.db import open_database, session_scope
from bot.storage.models import Feed, Outbox, utcnow
from tests.support.adminkit import ADMIN, push_stale_tap
from tests.support.fake_telegram import FakeTelegram
from tests.support.fake_telegram.server import Fault
from tests.support.feedserver import FeedServer, Reply, redirect
from tests.support.process import TOPICS_TOML, feed_toml, start_bot, stop_bot, write_config
from tests.support.samples import FEED_A, RSS
from tests.support.seed import seed_chats

MOVED = ("/one.xml", "/two.xml", "/three.xml")


@pytest.fixture
def server(server: FeedServer) -> FeedServer:
    server.route("/a.xml", Reply(200, RSS, FEED_A))
    server.route("/broken.xml", Reply(500, {}, b""))
    for path in MOVED:  # a publisher moved its feeds to a new site
        server.route(path, redirect(f"/new{path}", 301))
        server.route(f"/new{path}", Reply(200, RSS, FEED_A.replace(b"a-", path[1:4].encode())))
    return server


@pytest.mark.slow
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


# ---------------------------------------------------------------- broadcast, real process

HTMLISH = "Polls <b>close</b> at 8 & results <script>alert(1)</script> follow &amp; more"


@pytest.mark.slow
def test_a_broadcast_reaches_every_chat_once_and_the_report_says_who_did_not(
    tmp_path: Path, server: FeedServer, tg: FakeTelegram
) -> None:
    """Flood limits on, blocked and deactivated users, a chat Telegram no longer knows and a
    group that became a supergroup: each reachable chat gets the text once, as typed."""
    users = list(range(6001, 6041))
    blocked, deactivated, unknown = users[:3], users[3], 6999
    group, supergroup = -6100, -(10**12) - 6100
    for user in users:
        tg.add_private_chat(user)
    for user in blocked:
        tg.block(user)
    tg.deactivate(deactivated)
    tg.add_group(group, admins=[ADMIN])
    tg.migrate(group, supergroup, notify=False)  # the bot learns of it when it sends
    tg.add_private_chat(ADMIN, first_name="Operator")
    config = write_config(
        tmp_path,
        f"[telegram]\nadmins = [{ADMIN}]\n[fetch]\nallow_private_networks = true\n" + TOPICS_TOML,
    )
    engine = open_database(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    try:
        seed_chats(engine, [*users, unknown, group], now=utcnow(), due=None)
    finally:
        engine.dispose()
    proc = start_bot(config, tg, tmp_path / "bot.log")
    try:
        tg.send_text(ADMIN, f"/broadcast {HTMLISH}")
        preview, control = tg.wait_for(ADMIN, 2, timeout=30)
        assert preview.text == HTMLISH
        assert [b["text"] for b in control.buttons] == ["Send to 42 chats", "Cancel"]
        send, cancel = (b["callback_data"] for b in control.buttons)
        taps = [tg.press_button(ADMIN, control.message_id, send) for _ in range(2)]

        def answered() -> set[str]:
            return {c["callback_query_id"] for c in tg.calls("answerCallbackQuery")}

        # Taps are handled side by side: Cancel comes once both Sends are answered.
        tg.wait_for(lambda: set(taps) <= answered(), timeout=30)
        # The keyboard is gone after Send; an app that still shows it can tap Cancel.
        taps.append(push_stale_tap(tg, ADMIN, control.message_id, cancel))

        def report() -> str:
            return next(m for m in tg.messages(ADMIN) if m.message_id == control.message_id).text

        tg.wait_for(lambda: "done in" in report(), timeout=60)
    finally:
        stop_bot(proc)
    reached = [*users[4:], supergroup]
    assert all(tg.texts(chat) == [HTMLISH] for chat in reached)
    assert all(tg.texts(chat) == [] for chat in [*blocked, deactivated, group])
    assert "Sent 37 / 42 · blocked 5 · failed 0" in report(), report()
    assert report().endswith(  # why, not only how many: most common first
        "\nNot delivered, as Telegram answered: bot was blocked by the user (3);"
        " chat not found (1); user is deactivated (1)"
    ), report()
    said = {c["callback_query_id"]: c.get("text") for c in tg.calls("answerCallbackQuery")}
    answers = [said.get(q) for q in taps]
    # The two Send taps race (taps are handled concurrently): one sends, one is told.
    assert sorted(answers[:2], key=str) == [  # not "was already confirmed; nothing more …"
        "Broadcast #1 is already being sent; this tap sends nothing more.",
        "Sending broadcast #1…",
    ]
    assert answers[2] == "Broadcast #1 is already being sent; it can no longer be cancelled."
    assert not tg.server_errors


@pytest.mark.parametrize("code", ["de", "ru", "es", "tr"])
def test_a_late_tap_is_answered_in_the_admins_language_without_a_raw_state(code: str) -> None:
    """It read "Rundsendung #1 war bereits confirmed": the stored state, in English."""
    for status in ("confirmed", "done", "cancelled"):
        for confirming in (True, False):
            tap = Tap("already", 1, status=status, confirming=confirming)
            answer, edit = render.tap_reply(tap, now=utcnow(), per_second=30, lang=lang(code))
            assert edit is None and answer and status not in answer


def _moved_feeds(engine: Engine, count: int, origin: str) -> list[tuple[int, str]]:
    with session_scope(engine) as session:
        feeds = [
            Feed(url=f"https://old{n}.example/rss", name=f"Outlet <{n}>", origin=origin)
            for n in range(count)
        ]
        session.add_all(feeds)
        session.flush()
        return [(f.id or 0, f"https://new{n}.example/{'x' * 200}") for n, f in enumerate(feeds)]


def test_moves_told_in_a_list_are_not_told_again_in_another(engine: Engine) -> None:
    """Config feeds keep their old address, so each refresh reports their moves again, in
    whatever company: each admin hears of each move once."""
    first, second, third = _moved_feeds(engine, 3, "config")
    told = []
    for moves in ([first, second], [second], [second, third], [first, second, third]):
        with session_scope(engine) as session:
            told.append(enqueue_move_alerts(session, moves, [7, 8], now=utcnow()))
    assert told == [2, 0, 2, 0]
    with Session(engine) as session:
        rows = session.exec(select(Outbox).order_by(col(Outbox.id))).all()
    assert [r.chat_id for r in rows] == [7, 8, 7, 8]
    assert rows[0].text.startswith("↪️ 2 feeds moved for good")
    assert rows[2].text.startswith(f"↪️ Feed #{third[0]} Outlet &lt;2&gt; moved for good")


def test_hundreds_of_moved_feeds_fit_in_keys_and_messages(sqlite_engine: Engine) -> None:
    moves = _moved_feeds(sqlite_engine, 300, "admin")
    with session_scope(sqlite_engine) as session:
        enqueue_move_alerts(session, moves, [7], now=utcnow())
    with Session(sqlite_engine) as session:
        rows = session.exec(select(Outbox).order_by(col(Outbox.id))).all()
    assert 1 < len(rows) < 60
    assert all(len(r.dedup_key) <= 200 for r in rows)
    assert all(len(tghtml.plain_text(r.text)) <= 4096 for r in rows)
    named = [int(n) for r in rows for n in re.findall(r"#(\d+) Outlet", r.text)]
    assert named == [feed_id for feed_id, _url in moves]


@pytest.mark.slow
def test_while_a_flood_hold_keeps_a_chat_waiting_the_status_says_how_long(
    tmp_path: Path, tg: FakeTelegram
) -> None:
    """One chat met a 10-minute flood wait: the status said "Time left: 0 s" all along."""
    users = [6201, 6202, 6203, 6204, 6205]
    held = users[2]
    for user in users:
        tg.add_private_chat(user)
    tg.add_private_chat(ADMIN, first_name="Operator")
    met: list[int] = []

    def flood_wait(method: str, params: dict[str, Any]) -> Fault | None:
        if method.lower() != "sendmessage" or str(params.get("chat_id")) != str(held) or met:
            return None
        met.append(held)
        return Fault(429, retry_after=600)

    tg.set_fault_hook(flood_wait)
    config = write_config(tmp_path, f"[telegram]\nadmins = [{ADMIN}]\n" + TOPICS_TOML)
    engine = open_database(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    try:
        seed_chats(engine, users, now=utcnow(), due=None)
    finally:
        engine.dispose()
    proc = start_bot(config, tg, tmp_path / "bot.log")
    try:
        tg.send_text(ADMIN, "/broadcast Roads closed")
        _preview, control = tg.wait_for(ADMIN, 2, timeout=30)
        tg.press_button(ADMIN, control.message_id, control.buttons[0]["callback_data"])

        def status() -> str:
            return next(m for m in tg.messages(ADMIN) if m.message_id == control.message_id).text

        tg.wait_for(lambda: "Sent 4 / 5" in status(), timeout=30)
        # (the next edit, a few seconds on: the row's hold may be written just after)
        tg.wait_for(
            lambda: re.search(r"\nTime left: (9 min \d+ s|10 min 0 s)$", status()), 1, timeout=15
        )
    finally:
        stop_bot(proc)
    assert "Sent 4 / 5" in status()


def test_confirming_a_broadcast_to_many_chats_inserts_its_rows_by_executemany(
    sqlite_engine: Engine,
) -> None:
    """The Send tap's transaction compiled one multi-row INSERT per 500 chats: 30-46 s for
    100,000 chats on SQLite or PostgreSQL, the tap unanswered meanwhile and every other
    write of the bot waiting (BENCHMARKS.md, "Broadcast confirmation")."""
    chats = range(1, 2_001)
    seed_chats(sqlite_engine, chats, now=utcnow(), due=None)
    with session_scope(sqlite_engine) as session:
        draft = bc.create_draft(
            session, actor=CLI, chat_id=1, request=bc.Request("hi", None), now=utcnow()
        )
    inserts: list[tuple[str, bool]] = []

    def seen(_conn: Any, _cursor: Any, statement: str, _params: Any, _ctx: Any, many: bool) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO OUTBOX"):
            inserts.append((statement, many))

    event.listen(sqlite_engine, "before_cursor_execute", seen)
    try:
        with session_scope(sqlite_engine) as session:
            tap = bc.tap(session, draft.id, confirming=True, actor=CLI, now=utcnow())
    finally:
        event.remove(sqlite_engine, "before_cursor_execute", seen)
    assert tap == Tap("queued", draft.id, total=len(chats))
    assert inserts and all(many and statement.count("?") < 20 for statement, many in inserts)
