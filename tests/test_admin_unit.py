"""Admin building blocks without Telegram: entities → HTML, OPML, broadcast state, stats."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.admin import audit, opml
from bot.admin import broadcast as bc
from bot.admin.alerts import ErrorThrottle, error_kind, format_alert
from bot.admin.feed_alerts import enqueue_pause_alerts
from bot.admin.results import Progress, Stats, TooLong
from bot.admin.stats import collect_stats, daily_series
from bot.render import admin as render
from bot.render.entities import Span, entities_to_html, split_broadcast
from bot.render.i18n import lang
from bot.services.lookup import UnknownName
from bot.settings import FeedConfig, Topic
from bot.storage import feeds as feed_store
from bot.storage import outbox
from bot.storage.db import session_scope
from bot.storage.models import Broadcast, Chat, Feed, Outbox, utcnow
from tests.support.fake_telegram.tdhtml import Entity, fix_formatted_text, parse_html, utf16_len
from tests.support.seed import seed_chats, seed_stories
from tests.support.tghtml_check import check_message

TOPICS = (Topic("world", "World"), Topic("tech", "Technology"))
ADMIN = audit.Actor(7, "@boss")

# ---------------------------------------------------------------- entities → HTML


def test_formatting_survives_with_utf16_offsets_after_the_command_and_topic() -> None:
    head = "/broadcast #world "
    body = "Breaking 😀 news: <calm> & carry on, see site"
    text = head + body
    at = utf16_len(head)

    def pos(word: str) -> int:
        return at + utf16_len(body[: body.index(word)])

    spans = [
        Span("bot_command", 0, 10),
        Span("hashtag", 11, 6),
        Span("bold", at, utf16_len("Breaking 😀")),
        Span("italic", pos("news"), 4),
        Span("spoiler", pos("<calm>"), 6),
        Span("text_link", pos("site"), 4, url='https://e.example/?a=1&b="2"'),
    ]
    parts = split_broadcast(text, spans)
    assert parts.topic == "world"
    assert parts.plain == body
    sent = parse_html(parts.html)  # what Telegram makes of our HTML
    assert sent.text == body
    got = {(e.type, body_slice(body, e)) for e in sent.entities}
    assert got == {
        ("bold", "Breaking 😀"),
        ("italic", "news"),
        ("spoiler", "<calm>"),
        ("text_link", "site"),
    }
    link = next(e for e in sent.entities if e.type == "text_link")
    assert link.url == 'https://e.example/?a=1&b="2"'


def body_slice(text: str, e: Entity) -> str:
    raw = text.encode("utf-16-le")
    return raw[2 * e.offset : 2 * (e.offset + e.length)].decode("utf-16-le")


def test_pre_with_language_code_blockquote_and_mention() -> None:
    text = "quote here\ncode()\nprint(1)\nhi Ann"
    spans = [
        Span("expandable_blockquote", 0, 10),
        Span("bold", 0, 5),
        Span("code", 11, 6),
        Span("pre", 18, 8, language="python"),
        Span("text_mention", 30, 3, user_id=42),
        Span("custom_emoji", 27, 2),  # falls back to the text
    ]
    html = entities_to_html(text, spans)
    assert '<pre><code class="language-python">print(1)</code></pre>' in html
    assert "<blockquote expandable><b>quote</b> here</blockquote>" in html
    assert '<a href="tg://user?id=42">Ann</a>' in html
    assert "tg-emoji" not in html
    parsed = parse_html(html)
    assert parsed.text == text


def test_overlapping_styles_render_as_nested_tags() -> None:
    text = "one two three four"
    spans = [Span("bold", 0, 7), Span("italic", 4, 9), Span("underline", 2, 14)]
    html = entities_to_html(text, spans)
    assert parse_html(html).text == text  # well-formed for Telegram


@pytest.mark.parametrize("seed", range(60))
def test_random_entities_round_trip_through_telegrams_parser(seed: int) -> None:
    rng = random.Random(seed)
    alphabet = "ab 😀é<>&\n\"'"
    text = "".join(rng.choice(alphabet) for _ in range(rng.randint(5, 40)))
    # Entity boundaries fall between code points, never inside a surrogate pair.
    bounds = sorted({utf16_len(text[:i]) for i in range(len(text) + 1)})
    kinds = ["bold", "italic", "underline", "strikethrough", "spoiler", "code", "pre"]
    kinds += ["text_link", "blockquote"]
    raw = []
    for _ in range(rng.randint(0, 6)):
        a, b = sorted(rng.sample(bounds, 2))
        kind = rng.choice(kinds)
        url = "https://x.example/a?b=1&c=2" if kind == "text_link" else None
        raw.append(Entity(kind, a, b - a, url=url))
    # Telegram delivers entities already normalised; use the fake's copy of TDLib's rules.
    given = fix_formatted_text(text, raw)
    html = entities_to_html(given.text, given.entities)
    again = parse_html(html)
    assert again.text == given.text.strip() or again.text == given.text
    assert _norm(again.entities) == _norm(given.entities)


def _norm(entities: tuple[Entity, ...]) -> set[tuple[str, int, int, str | None]]:
    return {(e.type, e.offset, e.length, e.url) for e in entities}


def test_broadcast_without_text_has_empty_plain() -> None:
    assert split_broadcast("/broadcast #world  ", []).plain == ""
    assert split_broadcast("/broadcast@newsbrief_test_bot hi", []).plain == "hi"


# ---------------------------------------------------------------- OPML

GOOD_OPML = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0"><head><title>Mine</title></head><body>
  <outline text="World">
    <outline type="rss" text="Outlet &amp; Co" xmlUrl="https://a.example/feed.xml"/>
  </outline>
  <outline type="rss" text="Chips" xmlUrl="https://b.example/rss" category="/tech,/misc"/>
  <outline type="rss" text="Bad" xmlUrl="ftp://c.example/x"/>
</body></opml>"""


def test_opml_parse_maps_folders_and_categories_to_topics() -> None:
    feeds = opml.parse_opml(GOOD_OPML, TOPICS)
    assert feeds == [
        opml.OpmlFeed("https://a.example/feed.xml", "Outlet & Co", ("world",)),
        opml.OpmlFeed("https://b.example/rss", "Chips", ("tech",)),
        opml.OpmlFeed("ftp://c.example/x", "Bad", ()),
    ]


def test_opml_build_then_parse_round_trips() -> None:
    feeds = [
        opml.OpmlFeed("https://a.example/feed.xml?x=1&y=2", 'A "quoted" <name>', ("world",)),
        opml.OpmlFeed("https://b.example/rss", None, ("world", "tech")),
    ]
    data = opml.build_opml(feeds, title="t", now=utcnow())
    back = opml.parse_opml(data, TOPICS)
    assert back[0] == feeds[0]
    assert back[1] == opml.OpmlFeed(
        "https://b.example/rss", "https://b.example/rss", feeds[1].topics
    )


def test_opml_in_utf16_is_read() -> None:
    text = GOOD_OPML.decode().replace('encoding="UTF-8"', 'encoding="UTF-16"')
    assert len(opml.parse_opml(text.encode("utf-16"), TOPICS)) == 3


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">]>
<opml version="2.0"><body><outline text="&lol2;" xmlUrl="https://x.example/"/></body></opml>"""
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE opml SYSTEM "file:///etc/passwd">
<opml version="2.0"><body/></opml>"""


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (BILLION_LAUGHS, "DTD or entities"),
        (EXTERNAL, "DTD or entities"),
        (BILLION_LAUGHS.decode().encode("utf-16"), "DTD or entities"),
        (b"<opml><body><outline></body></opml>", "not well-formed"),
        (b"<rss><channel/></rss>", "not an OPML document"),
        (b"\xff\xfe\x00", "not readable"),
        (b"x" * (opml.MAX_BYTES + 1), "larger than"),
    ],
)
def test_malicious_or_broken_opml_is_refused(data: bytes, reason: str) -> None:
    with pytest.raises(opml.OpmlError, match=reason):
        opml.parse_opml(data, TOPICS)


def test_opml_import_adds_new_skips_present_and_invalid(sqlite_engine: Engine) -> None:
    now = utcnow()
    feeds = opml.parse_opml(GOOD_OPML, TOPICS)
    with session_scope(sqlite_engine) as session:
        first = opml.import_feeds(session, feeds, actor=ADMIN, now=now, allow_private=False)
    with session_scope(sqlite_engine) as session:
        second = opml.import_feeds(session, feeds, actor=ADMIN, now=now, allow_private=False)
        rows = session.exec(select(Feed).order_by(Feed.id)).all()
        exported = opml.export_feeds(session)
    assert first == opml.ImportReport(added=2, present=0, invalid=1)
    assert second == opml.ImportReport(added=0, present=2, invalid=1)
    assert [(f.origin, f.topics) for f in rows] == [("opml", "world"), ("opml", "tech")]
    assert [f.url for f in exported] == ["https://a.example/feed.xml", "https://b.example/rss"]


# ---------------------------------------------------------------- feeds


def test_config_sync_leaves_admin_and_opml_feeds_alone(sqlite_engine: Engine) -> None:
    now = utcnow()
    with session_scope(sqlite_engine) as session:
        session.add(Feed(url="https://admin.example/rss", origin="admin", created_at=now))
        session.add(Feed(url="https://opml.example/rss", origin="opml", created_at=now))
        feed_store.sync_config_feeds(session, [FeedConfig("https://cfg.example/rss")], now=now)
    with session_scope(sqlite_engine) as session:
        feed_store.sync_config_feeds(session, [], now=now)  # the config dropped its feed
        enabled = {f.url: f.enabled for f in session.exec(select(Feed)).all()}
    assert enabled == {
        "https://admin.example/rss": True,
        "https://opml.example/rss": True,
        "https://cfg.example/rss": False,
    }


def test_pause_alert_once_per_failing_streak_and_admin(sqlite_engine: Engine) -> None:
    now = utcnow()
    with session_scope(sqlite_engine) as session:
        feed = Feed(
            url="https://x.example/rss",
            paused=True,
            failing_since=now - timedelta(hours=5),
            consecutive_failures=10,
            last_error="HTTP 500",
            created_at=now,
        )
        session.add(feed)
        session.flush()
        assert feed.id is not None
        feed_id = feed.id
    for _ in range(3):  # every later refresh report of the same streak
        with session_scope(sqlite_engine) as session:
            enqueue_pause_alerts(session, [feed_id], [7, 8], now=now)
    with Session(sqlite_engine) as session:
        rows = session.exec(select(Outbox)).all()
    assert sorted(r.chat_id for r in rows) == [7, 8]
    assert all("HTTP 500" in r.text and r.kind == "alert" for r in rows)


# ---------------------------------------------------------------- broadcast state


def _draft(engine: Engine, topic: str | None = None) -> int:
    with session_scope(engine) as session:
        request = bc.Request("<b>Hi</b>", topic)
        return bc.create_draft(session, actor=ADMIN, chat_id=7, request=request, now=utcnow()).id


def test_confirm_is_compare_and_set(engine: Engine) -> None:
    now = utcnow()
    seed_chats(engine, [1, 2, 3], now=now, due=None, topics=("world",))
    seed_chats(engine, [4], now=now, due=None, topics=("tech",))
    with session_scope(engine) as session:
        session.add(Chat(id=5, active=False, created_at=now, updated_at=now))
        session.add(Chat(id=6, stopped=True, created_at=now, updated_at=now))
    everyone, world = _draft(engine), _draft(engine, "world")
    with session_scope(engine) as session:
        assert bc.confirm(session, everyone, actor=ADMIN, now=now) == 4
    with session_scope(engine) as session:
        assert bc.confirm(session, everyone, actor=ADMIN, now=now) is None
        assert bc.cancel(session, everyone, actor=ADMIN, now=now) is False
        assert bc.confirm(session, world, actor=ADMIN, now=now) == 3
    with Session(engine) as session:
        rows = session.exec(select(Outbox)).all()
        log = audit.recent(session)
    assert {r.dedup_key for r in rows if r.broadcast_id == everyone} == {
        f"bc:{everyone}:{c}" for c in (1, 2, 3, 4)
    }
    assert all(r.priority == 0 and r.kind == "broadcast" for r in rows)
    assert [e.action for e in log] == ["broadcast", "broadcast"]


def test_cancel_then_confirm_enqueues_nothing(engine: Engine) -> None:
    now = utcnow()
    seed_chats(engine, [1, 2], now=now, due=None)
    draft = _draft(engine)
    with session_scope(engine) as session:
        assert bc.cancel(session, draft, actor=ADMIN, now=now) is True
    with session_scope(engine) as session:
        assert bc.confirm(session, draft, actor=ADMIN, now=now) is None
        assert bc.cancel(session, draft, actor=ADMIN, now=now) is False
    with Session(engine) as session:
        assert session.exec(select(Outbox)).all() == []
        assert session.get(Broadcast, draft).status == "cancelled"  # type: ignore[union-attr]


def test_progress_report_counts_outcomes_and_estimates_time() -> None:
    now = utcnow()
    running = Progress(sent=10, blocked=2, failed=1, waiting=60)
    text = render.broadcast_status(3, running, started=now, now=now, per_second=30)
    assert "Sent 10 / 73 · blocked 2 · failed 1" in text and "Time left: 2 s" in text
    done = Progress(sent=980, blocked=20)
    report = render.broadcast_status(
        3, done, started=now - timedelta(seconds=75), now=now, per_second=30
    )
    assert "done in 1 min 15 s" in report and "Sent 980 / 1000 · blocked 20 · failed 0" in report


# ---------------------------------------------------------------- stats and alerts


def test_stats_count_chats_stories_messages_and_days(sqlite_engine: Engine) -> None:
    now = utcnow()
    seed_stories(sqlite_engine, now=now, count=3)
    seed_chats(sqlite_engine, [1, 2, 3], now=now, due=None)
    with session_scope(sqlite_engine) as session:
        session.add(Chat(id=4, active=False, created_at=now - timedelta(days=3), updated_at=now))
        chat = session.get(Chat, 3)
        assert chat is not None
        chat.stopped = True
        outbox.enqueue(
            session,
            [outbox.NewMessage(c, "reply", f"k{c}", "x") for c in (1, 2, 3)],
            now=now,
        )
        for row in session.exec(select(Outbox)).all():
            row.status = {1: "sent", 2: "failed", 3: "cancelled"}[row.chat_id]
            row.sent_at = now if row.status == "sent" else None
    with Session(sqlite_engine) as session:
        numbers = collect_stats(session, now=now)
        series = daily_series(session, now=now)
    assert (numbers.active, numbers.unreachable, numbers.stopped) == (2, 1, 1)
    assert numbers.subscribers == {"world": 2}
    assert (numbers.stories, numbers.sent, numbers.failed, numbers.cancelled) == (3, 1, 1, 1)
    assert len(series.days) == 14 and series.days[-1] == now.date()
    assert series.sent[-1] == 1 and series.new_chats[-1] == 3 and series.new_chats[-4] == 1
    assert "World 2, Technology 0" in render.stats(numbers, TOPICS)


def test_error_throttle_reports_each_kind_once_per_period() -> None:
    clock = [0.0]
    throttle = ErrorThrottle(period=600, clock=lambda: clock[0])
    kind = error_kind(ValueError("x"), "job deliver")
    assert throttle.allow(kind)
    assert not throttle.allow(kind)
    assert throttle.allow(error_kind(KeyError("x"), "job deliver"))
    clock[0] = 601
    assert throttle.allow(kind)


def test_error_alert_names_our_frame_and_escapes() -> None:
    try:
        raise RuntimeError("bad <thing> & more")
    except RuntimeError as exc:
        text = format_alert(exc, "command /stats")
    assert "RuntimeError" in text and "&lt;thing&gt; &amp; more" in text
    check_message(text)


def test_error_alert_masks_the_token_secrets_and_database_passwords() -> None:
    """The alert carried the error text as raised: a URL with the token in it, say."""
    token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
    message = (
        f"POST https://api.telegram.org/bot{token}/sendMessage failed; other bot"
        " 987654321:ZZHdqTcvCH1vGWJxfSeofSAs0K5PALDsXX; secret s3cr3t-hook;"
        " postgresql://bot:hunter2@db.example/news"
    )
    try:
        raise RuntimeError(message)
    except RuntimeError as exc:
        text = format_alert(exc, "job refresh", secrets=(token, "s3cr3t-hook", None))
    for secret in (token, "AAHdqTcvCH1", "ZZHdqTcvCH1", "s3cr3t-hook", "hunter2"):
        assert secret not in text
    assert "api.telegram.org/bot***/sendMessage" in text and "postgresql://bot:***@" in text
    check_message(text)


def test_broadcast_request_parsing() -> None:
    request = bc.parse_request("/broadcast #World <b>", [], TOPICS)
    assert request == bc.Request("&lt;b&gt;", "world")
    assert bc.parse_request("/broadcast hi", [], TOPICS) == bc.Request("hi", None)
    unknown = bc.parse_request("/broadcast #wrld hi", [], TOPICS)
    assert isinstance(unknown, UnknownName) and unknown.suggestions == ("world",)
    assert bc.parse_request("/broadcast", [], TOPICS) is None  # answered with the usage line
    too_long = bc.parse_request("/broadcast " + "x" * 4097, [], TOPICS)
    assert too_long == TooLong(4097, 4096)
    assert (
        render.too_long(too_long) == "That text is too long: 4097 characters, Telegram allows 4096."
    )


@pytest.mark.parametrize(
    ("count", "english", "russian"),
    [
        (1, "1 story, 1 merged duplicate", "1 новость"),
        (3, "3 stories, 3 merged duplicates", "3 новости"),
    ],
)
def test_stats_count_stories_with_the_languages_plural_rules(
    count: int, english: str, russian: str
) -> None:
    """A quiet day read "Last 24 h: 1 stories, 1 merged duplicates"."""
    numbers = Stats({}, 2, 0, 0, count, count, 5, 0, 0, 1, 0, 0)
    assert f"Last 24 h: {english}\n" in render.stats(numbers, [])
    assert russian in render.stats(numbers, [], lang("ru"))
