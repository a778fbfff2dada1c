"""No English in a non-English chat: every subscriber command, button and a failed 📖 tap,
through the real PTB stack, in each language the bot speaks."""

from __future__ import annotations

import asyncio
import html
import re
import socket
import ssl
from collections.abc import AsyncIterator
from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy.engine import Engine

from bot.admin.results import DailySeries
from bot.fulltext import article
from bot.ingest.httpmeta import describe_error
from bot.render import catalogue, texts
from bot.render.chart import chart_texts, render_chart
from bot.render.i18n import LANGUAGES, Lang
from bot.settings import FeedConfig, LimitsSettings, Settings
from tests.support.botharness import make_settings, refresh_once, running_bot, say, wait_for
from tests.support.fake_telegram import FakeTelegram
from tests.support.feedserver import FeedServer, Reply
from tests.support.samples import serve_news

LOCALES = [code for code in LANGUAGES if code != "en"]
USERS = {code: 3100 + i for i, code in enumerate(LOCALES)}


def _wrapped(cause: BaseException) -> httpx.ConnectError:
    error = httpx.ConnectError("connect failed")
    error.__cause__ = cause
    return error


# Every reason the fetcher words a transport failure with, and the extractor's own: a
# failed 📖 tap shows the stored reason to the user, through the catalogue.
FETCH_REASONS = sorted(
    {
        describe_error(exc)
        for exc in (
            httpx.ConnectTimeout("slow"),
            _wrapped(ssl.SSLError("bad certificate")),
            _wrapped(socket.gaierror("Name or service not known")),
            _wrapped(ConnectionRefusedError()),
            httpx.ConnectError("something else"),
            httpx.DecodingError("bad gzip"),
            httpx.RemoteProtocolError("peer closed"),
            httpx.UnsupportedProtocol("ftp"),
            httpx.ReadError("reset"),
            RuntimeError("odd"),
        )
    }
    | {value for name, value in vars(article).items() if name.startswith("REASON_")}
)


@pytest.mark.parametrize("reason", FETCH_REASONS)
def test_every_reason_a_failed_article_shows_is_translated(reason: str) -> None:
    """'Der Text des Artikels war nicht abrufbar: DNS lookup failed': the reasons were
    English strings outside the catalogue, shown as they were in every language."""
    assert reason in catalogue.msgids()
    for code in LOCALES:
        assert Lang(code)(reason) != reason, (code, reason)


def _english_phrases(code: str) -> set[str]:
    """Phrases of the English texts (two words or more) that the language's text lacks."""
    translations = catalogue.read(code)
    found: set[str] = set(FETCH_REASONS)
    for msgid, plural in catalogue.msgids().items():
        message = translations.get(msgid)
        assert message is not None
        translated = " ".join([message.string] if plural is None else message.string)
        for english in (msgid, plural or ""):
            for piece in re.split(r"\{[^}]*\}|<[^>]+>|\n", english):
                phrase = html.unescape(piece).strip(" .,:;()")
                if len(phrase) >= 10 and " " in phrase and phrase not in translated:
                    found.add(phrase)
    return found


# Each subscriber command and its common mistakes; the last tap of a 📖 button (an
# article page that is empty) fails with a reason.
SCRIPT = (
    "/start", "/help", "/topics", "/subscribe world", "/subscribe nope", "/subscribe",
    "/latest", "/latest world 2", "/latest 99", "/unsubscribe", "/unsubscribe nope",
    "/schedule", "/schedule 07:30 18:00", "/schedule 25:00", "/schedule instant",
    "/schedule off", "/timezone", "/timezone Europe/Berlin", "/timezone Mars/Base",
    "/mute", '/mute football "big deal"', "/follow chip", "/filters", "/unmute football",
    "/unfollow all", "/unmute all", "/manage", "/manage @nochannel", "/settings",
    "/language", "/stop", "/start", "/bogus", "hello", "/feeds", "/unsubscribe all",
)  # fmt: skip


@pytest.fixture
def server(server: FeedServer) -> FeedServer:
    serve_news(server)
    server.route("/articles/tram.html", Reply(200, {"Content-Type": "text/html"}, b"<html></html>"))
    return server


@pytest.fixture
async def bot(tg: FakeTelegram, server: FeedServer, engine: Engine) -> AsyncIterator[Settings]:
    settings = make_settings(
        tg,
        feeds=(FeedConfig(server.url("/feed.xml"), "Local News", ()),),
        limits=LimitsSettings(commands_per_minute=100, taps_per_minute=100),
    )
    await refresh_once(engine, settings)
    async with running_bot(settings, engine):
        yield settings


async def _session(tg: FakeTelegram, code: str, user: int) -> None:
    for text in SCRIPT:
        [reply] = await say(tg, user, text)
        for button in reply.buttons[:3]:  # topic, settings and filter buttons
            data = button.get("callback_data") or ""
            if data and not data.startswith(("lg:", "ft:")):
                tg.press_button(user, reply.message_id, data)
                await asyncio.sleep(0.3)
    [listing] = await say(tg, user, "/latest world")
    before = len(tg.messages(user))
    tg.press_button(user, listing.message_id, listing.buttons[0]["callback_data"])
    failure = Lang(code)(texts.FULLTEXT_FAILED).split("{")[0]
    await wait_for(tg, lambda: any(m.text.startswith(failure) for m in tg.messages(user)[before:]))


async def test_no_english_reaches_a_chat_in_another_language(
    tg: FakeTelegram, bot: Settings
) -> None:
    for code, user in USERS.items():
        tg.add_private_chat(user, language_code=code)
    await asyncio.gather(*(_session(tg, code, user) for code, user in USERS.items()))
    for code, user in USERS.items():
        english = _english_phrases(code)
        shown = [m.text for m in tg.messages(user)]
        shown += [b["text"] for m in tg.messages(user) for b in m.buttons]
        leaks = {(p, t[:120]) for t in shown for p in english if p in t}
        assert not leaks, (code, sorted(leaks))
    english_menu = {c["description"] for c in tg.commands()}
    for code in LOCALES:
        assert not english_menu & {c["description"] for c in tg.commands(language_code=code)}


def test_the_stats_chart_is_drawn_in_the_chats_language() -> None:
    """The /stats chart of a German admin read 'Messages sent per day' over '01 Dec', '02 Dec':
    its titles and day labels were English whatever the chat's language."""
    days = tuple(date(2026, 11, 25) + timedelta(days=i) for i in range(14))
    series = DailySeries(days=days, sent=(1,) * 14, new_chats=(0,) * 14)
    german = chart_texts(series, Lang("de"))
    assert german.sent == "Gesendete Nachrichten pro Tag"
    assert german.days[-1] == "8. Dez."
    english = chart_texts(series, Lang("en"))
    assert english.days[-1] == "8 Dec"
    for code in LOCALES:
        words = chart_texts(series, Lang(code))
        assert {words.sent, words.new_chats}.isdisjoint({english.sent, english.new_chats})
        assert render_chart(series, Lang(code)).startswith(b"\x89PNG")


@pytest.mark.parametrize("code", LOCALES)
def test_no_catalogue_keeps_an_english_argument_name(code: str) -> None:
    """'Noch keine Feeds. Füge einen mit /addfeed <url> [topic…] hinzu.': an argument
    name inside a text stayed English while every usage line says '[Thema…]'."""
    english_args = re.compile(r"(?:\[|&lt;|<)(?:topic|word|phrase|text|channel)\b")
    for message in catalogue.read(code):
        if not message.id:
            continue
        forms = [message.string] if isinstance(message.string, str) else list(message.string)
        for form in forms:
            assert not english_args.search(form), (code, form)


async def test_an_admin_sees_fetch_reasons_in_the_chats_language(
    tg: FakeTelegram, engine: Engine
) -> None:
    """'Не удалось добавить http://127.0.0.1:9/x.xml: connection refused.': the reason of
    a failed /addfeed (and of a failing or paused feed) was English in every language."""
    admin = USERS["ru"]
    tg.add_private_chat(admin, language_code="ru")
    with socket.socket() as closed:  # a port nothing listens on: connection refused
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}/feed.xml"
    settings = make_settings(tg, admins=(admin,))
    async with running_bot(settings, engine):
        [reply] = await say(tg, admin, f"/addfeed {url}")
    assert reply.text == f"Не удалось добавить {url}: соединение отклонено."
