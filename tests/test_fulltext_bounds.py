"""The 📖 full text within bounds: one fetch per story, page cap and deadlines, few messages."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.render import texts
from bot.render.stories import parse_fulltext_callback as parse_story_id
from bot.settings import FeedConfig, FulltextSettings, Settings
from bot.storage.models import Story
from tests.support.botharness import ARTICLES, make_settings, refresh_once, running_bot, wait_for
from tests.support.fake_telegram import FakeTelegram
from tests.support.feedserver import FeedServer, Reply, Request
from tests.support.forged import push_forged_tap, tap_answers

USER = 1301
PAGES = ("tram", "slow", "huge", "missing")


def huge_article(size: int = 1024 * 1024) -> bytes:
    """A plain news page whose body text is about `size` bytes, every paragraph different."""
    paragraphs = []
    total, i = 0, 0
    while total < size:
        paragraph = (
            f"<p>In part {i} of the report, councillor number {i * 7 % 101} asked about stop "
            f"{i * 13 % 97} on the planned line, and the answer ran to {i % 40 + 3} minutes. "
            f"Residents of block {i * 31 % 211} wrote {i % 17 + 2} letters about it.</p>\n"
        )
        paragraphs.append(paragraph)
        total += len(paragraph)
        i += 1
    return (
        "<html><head><title>A very long report</title></head><body><article>"
        "<h1>A very long report</h1>" + "".join(paragraphs) + "</article></body></html>"
    ).encode()


def feed(server: FeedServer) -> bytes:
    items = "".join(
        f"<item><guid>{name}</guid><title>Story about {name}</title>"
        f"<link>{server.url(f'/articles/{name}.html')}</link><category>world</category>"
        f"<pubDate>Wed, 25 Nov 2026 0{i}:00:00 GMT</pubDate></item>"
        for i, name in enumerate(PAGES)
    )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Bounds News</title>'
        f"<link>{server.base_url}</link>{items}</channel></rss>"
    ).encode()


@pytest.fixture
def server() -> Iterator[FeedServer]:
    page = (ARTICLES / "news_article.html").read_bytes()
    half = len(page) // 2
    html = {"Content-Type": "text/html"}

    def tram(_: Request) -> Reply:
        # Half now, half after a second: taps arriving meanwhile find the fetch in flight.
        return Reply(200, html, [page[:half], page[half:]], chunk_delay=0.5)

    def slow(_: Request) -> Reply:
        return Reply(200, html, [page[:half], page[half:]], chunk_delay=2.0)

    with FeedServer() as srv:
        srv.route("/feed.xml", Reply(200, {"Content-Type": "application/rss+xml"}, feed(srv)))
        srv.route("/articles/tram.html", tram)
        srv.route("/articles/slow.html", slow)
        srv.route("/articles/huge.html", Reply(200, html, huge_article()))
        srv.route("/articles/missing.html", Reply(404, {}, b"not here"))
        yield srv


def settings_for(tg: FakeTelegram, server: FeedServer, **fulltext: Any) -> Settings:
    base = make_settings(tg, feeds=(FeedConfig(server.url("/feed.xml"), "Bounds News", ()),))
    limits = dataclasses.replace(base.limits, fulltext_per_minute=100)
    return dataclasses.replace(
        base, limits=limits, fulltext=dataclasses.replace(base.fulltext, **fulltext)
    )


@dataclasses.dataclass
class Scene:
    tg: FakeTelegram
    engine: Engine
    message_id: int
    data: dict[str, str]  # page name -> callback data of its 📖 button

    def tap(self, data: str) -> str:
        return self.tg.press_button(USER, self.message_id, data)


async def start(tg: FakeTelegram, server: FeedServer, engine: Engine, settings: Settings) -> Any:
    await refresh_once(engine, settings)
    tg.add_private_chat(USER)
    running = running_bot(settings, engine)
    await running.__aenter__()
    tg.send_text(USER, "/latest 10")
    [reply] = await wait_for(tg, USER, 1)
    with Session(engine) as session:
        links = {s.id: s.link for s in session.exec(select(Story)).all()}
    data = {}
    for button in reply.buttons:
        story_id = parse_story_id(button["callback_data"])
        if story_id is not None:
            name = str(links[story_id]).rsplit("/", 1)[-1].removesuffix(".html")
            data[name] = button["callback_data"]
    assert set(data) == set(PAGES)
    return running, Scene(tg, engine, reply.message_id, data)


@pytest.fixture
async def scene(
    request: pytest.FixtureRequest, tg: FakeTelegram, server: FeedServer, sqlite_engine: Engine
) -> AsyncIterator[Scene]:
    overrides = getattr(request, "param", {})
    running, made = await start(tg, server, sqlite_engine, settings_for(tg, server, **overrides))
    try:
        yield made
    finally:
        await running.__aexit__(None, None, None)


def texts_after_first(tg: FakeTelegram) -> list[str]:
    return [m.text for m in tg.messages(USER)[1:]]


async def test_concurrent_taps_on_one_story_share_one_fetch(
    scene: Scene, server: FeedServer
) -> None:
    """Ten taps in one chat and one in each of four others, all while the page loads: one
    fetch, every tap answered, and each chat gets the article once (its other taps came
    while its copy was on its way)."""
    tg, tram = scene.tg, scene.data["tram"]
    others = range(USER + 1, USER + 5)
    for other in others:
        tg.add_private_chat(other)
    queries = [scene.tap(tram) for _ in range(10)]
    queries += [push_forged_tap(tg, other, 1, tram, user_id=other) for other in others]
    await wait_for(tg, lambda: all(tap_answers(tg, q) for q in queries))

    def copies(chat: int) -> int:
        return sum(t.startswith("Story about tram") for t in tg.texts(chat))  # the headline tapped

    chats = (USER, *others)
    await wait_for(tg, lambda: all(copies(chat) for chat in chats), timeout=40)
    await asyncio.sleep(2)  # a second copy would follow within a part's pace
    assert server.hits["/articles/tram.html"] == 1
    assert [copies(chat) for chat in chats] == [1] * len(chats)


# Extracting a megabyte takes seconds on a loaded machine; the limit is tested on its own.
@pytest.mark.parametrize("scene", [{"extract_timeout_seconds": 120.0}], indirect=True)
async def test_a_megabyte_article_arrives_as_max_messages_and_a_link(
    scene: Scene, server: FeedServer
) -> None:
    scene.tap(scene.data["huge"])
    await wait_for(
        scene.tg,
        lambda: any("Continue reading" in t for t in texts_after_first(scene.tg)),
        timeout=90,
    )
    await wait_for(scene.tg, lambda: not scene.tg.pending_updates())
    sent = scene.tg.messages(USER)[1:]
    most = FulltextSettings().max_messages  # the scene keeps the default
    assert 1 <= len(sent) <= most  # the link inside the last message of text
    assert sum(len(m.text) for m in sent) <= (most + 1) * 4096
    assert server.url("/articles/huge.html") in (sent[-1].html or "")
    assert sent[0].text.startswith("Story about huge")  # the headline tapped


@pytest.mark.parametrize(
    "scene",
    [{"extract_timeout_seconds": 120.0, "max_messages": 2, "max_read_on_messages": 5}],
    indirect=True,
)
async def test_read_on_taps_send_the_next_messages_then_the_link(
    scene: Scene, server: FeedServer
) -> None:
    # Two messages a tap, five kept: taps of 2, 2 and 1 messages, the last with the link.
    scene.tap(scene.data["huge"])
    seen = 1
    for pages in ("3–4 of 5", "5 of 5"):
        await wait_for(scene.tg, lambda n=seen: len(scene.tg.messages(USER)) >= n + 2, timeout=90)
        await wait_for(scene.tg, lambda: not scene.tg.pending_updates())
        sent = scene.tg.messages(USER)
        [button] = sent[-1].buttons
        assert button["text"] == f"📖 Read on ({pages})"
        assert len(sent) - seen == 2  # two of text, the link in the second
        seen = len(sent)
        scene.tg.press_button(USER, sent[-1].message_id, button["callback_data"])
    await wait_for(scene.tg, lambda: len(scene.tg.messages(USER)) >= seen + 1, timeout=30)
    await wait_for(scene.tg, lambda: not scene.tg.pending_updates())
    sent = scene.tg.messages(USER)
    assert not sent[-1].buttons and server.url("/articles/huge.html") in (sent[-1].html or "")
    assert server.hits["/articles/huge.html"] == 1  # the read-on taps read the stored text
    texts = [m.text for m in sent[1:]]
    assert sum("Continue reading" in t for t in texts) == 3  # each tap ends with the link
    parts = [p for p in (t.split("Continue reading")[0].strip() for t in texts) if p]
    assert len(set(parts)) == len(parts)  # no message sent twice


@pytest.mark.parametrize(
    ("scene", "article", "said"),
    [
        pytest.param(
            {"timeout_seconds": 1.0}, "slow", "Couldn't get the article's text", id="page-deadline"
        ),
        # The 1 MB page: its worker takes far longer than the 1 ms limit to read it (a
        # small page could come back before the event loop's timer fires).
        pytest.param(
            {"extract_timeout_seconds": 0.001},
            "huge",
            texts.FULLTEXT_EXTRACT_SLOW,
            id="extraction-time-limit",
        ),
    ],
    indirect=["scene"],
)
async def test_an_article_past_a_limit_gets_the_reason_and_the_link(
    scene: Scene, server: FeedServer, article: str, said: str
) -> None:
    scene.tap(scene.data[article])
    [_, failure] = await wait_for(scene.tg, USER, 2, timeout=20)
    assert said in failure.text
    assert server.url(f"/articles/{article}.html") in (failure.html or "")


# 1 MiB, well under the feed cap, over this one: the page cap is the full text one, and
# a page past it is read up to it (pages are big for their scripts and data, after the text).
@pytest.mark.parametrize("scene", [{"max_bytes": 50_000}], indirect=True)
async def test_a_page_past_the_cap_is_read_up_to_it(scene: Scene, server: FeedServer) -> None:
    scene.tap(scene.data["huge"])
    await wait_for(
        scene.tg,
        lambda: any("Continue reading" in t for t in texts_after_first(scene.tg)),
        timeout=60,
    )
    sent = scene.tg.messages(USER)[1:]
    assert sent[0].text.startswith("Story about huge")
    # 50 kB of page is more text than ten messages hold: they are full, then the link.
    assert sum(len(m.text) for m in sent) > 9 * 4000
    assert server.hits["/articles/huge.html"] == 1


async def test_forged_and_unknown_ids_get_clear_answers(scene: Scene) -> None:
    # A modified client can send any callback data; the fake only accepts data of a
    # button it showed, so the forged buttons are put on the bot's message.
    forged = ["ft:abc", "ft:²", "ft:99999999", "ft:", "ft:" + "9" * 40]
    message = scene.tg.messages(USER)[0]
    assert message.reply_markup is not None
    message.reply_markup["inline_keyboard"].append(
        [{"text": d, "callback_data": d} for d in forged]
    )
    answers = {}
    for data in forged:
        query = scene.tap(data)
        answers[data] = await wait_for(scene.tg, lambda q=query: scene.tg.callback_answer(q))
    for data in ("ft:abc", "ft:²", "ft:", "ft:" + "9" * 40):
        assert answers[data].get("text") == texts.FULLTEXT_BUTTON_BAD, data
    [_, gone] = await wait_for(scene.tg, USER, 2)
    assert gone.text == texts.FULLTEXT_GONE
    assert not scene.tg.server_errors


def test_only_ascii_digits_are_story_ids() -> None:
    assert parse_story_id("ft:42") == 42
    for data in ("ft:abc", "ft:²", "ft:٣", "ft:", "ft:-1", "ft:1.0", "tp:1", "ft: 1"):
        assert parse_story_id(data) is None, data


async def test_taps_that_fetch_have_their_own_per_user_limit(
    tg: FakeTelegram, server: FeedServer, sqlite_engine: Engine
) -> None:
    settings = settings_for(tg, server)
    settings = dataclasses.replace(
        settings, limits=dataclasses.replace(settings.limits, fulltext_per_minute=2)
    )
    running, scene = await start(tg, server, sqlite_engine, settings)
    try:
        answers = []
        for name in ("tram", "missing", "missing", "tram"):
            query = scene.tap(scene.data[name])
            answers.append(await wait_for(tg, lambda q=query: tg.callback_answer(q), timeout=20))
            await wait_for(tg, lambda: not tg.pending_updates())
            if name == "tram" and len(answers) == 1:  # let the article land in the cache
                await wait_for(
                    tg, lambda: any(t.startswith("Story about tram") for t in tg.texts(USER))
                )
        # Third tap: a second fetch of the missing page would be the third fetch this minute.
        assert str(answers[2].get("text", "")).startswith("You've opened many articles")
        # Fourth: the tram article is cached now, so it is served (taps that fetch are limited).
        assert answers[3].get("text") == texts.FULLTEXT_LOADING
        # The second tap's fetch runs after its tap was answered: wait for it, then
        # make sure the refused third tap added none.
        await wait_for(tg, lambda: server.hits["/articles/missing.html"] >= 1)
        await wait_for(tg, lambda: any(t.startswith("Couldn't get") for t in tg.texts(USER)))
        assert server.hits["/articles/missing.html"] == 1
    finally:
        await running.__aexit__(None, None, None)


async def test_read_on_taps_count_against_the_full_text_limit(
    tg: FakeTelegram, server: FeedServer, sqlite_engine: Engine
) -> None:
    """Each "Read on" tap sends up to max_messages messages from the stored text: a user
    tapping it again and again is held to `fulltext_per_minute` like taps that fetch."""
    settings = settings_for(tg, server, extract_timeout_seconds=120.0, max_messages=2)
    settings = dataclasses.replace(
        settings, limits=dataclasses.replace(settings.limits, fulltext_per_minute=2)
    )
    running, scene = await start(tg, server, sqlite_engine, settings)
    try:
        scene.tap(scene.data["huge"])  # fetches: one of two this minute
        await wait_for(tg, lambda: len(tg.messages(USER)) >= 3, timeout=90)
        await wait_for(tg, lambda: not tg.pending_updates())
        last = tg.messages(USER)[-1]
        [button] = last.buttons
        answers = []
        for _ in range(2):  # the second of two this minute, then one too many
            query = tg.press_button(USER, last.message_id, button["callback_data"])
            answers.append(await wait_for(tg, lambda q=query: tg.callback_answer(q), timeout=20))
            await wait_for(tg, lambda: not tg.pending_updates())
        assert answers[0].get("text") == texts.FULLTEXT_LOADING
        assert str(answers[1].get("text", "")).startswith("You've opened many articles")
    finally:
        await running.__aexit__(None, None, None)
