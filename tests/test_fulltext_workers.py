"""The 📖 extraction runs in worker processes: stopped over its limit, survives a killed
worker, and never holds up the bot's answers to everyone else.

These tests freeze a worker with SIGSTOP instead of relying on a slow page: what they
check is ordering (the bot answers while the extraction cannot progress), not time.
A pool hands the next call to the worker it used last, so `next_worker` names the pid
that will take the next tap.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import os
import signal
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.ingest.process_pool import ProcessPool, TimedOut, WorkerDied
from bot.render import texts
from bot.render.stories import parse_fulltext_callback
from bot.services.articles import EXTRACT_NICENESS, extraction_pool
from bot.settings import FeedConfig
from bot.storage.models import Story
from tests.support.botharness import ARTICLES, make_settings, refresh_once, running_bot, wait_for
from tests.support.fake_telegram import FakeTelegram
from tests.support.feedserver import FeedServer, Reply

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGSTOP"), reason="POSIX signals")

USER, BYSTANDER = 1401, 1402
# Two headlines no dedup method takes for one story ("Story alpha" / "Story beta" were
# merged by the semantic method on some builds of its int8 model).
PAGES = {
    "alpha": "Harbour trams return after a year of repairs",
    "beta": "Council votes to keep the city library open at night",
}
ARTICLE_WORDS = "Trams are scheduled"  # in the test article's body text


@pytest.fixture
def server() -> Iterator[FeedServer]:
    page = (ARTICLES / "news_article.html").read_bytes()
    with FeedServer() as srv:
        items = "".join(
            f"<item><guid>{name}</guid><title>{title}</title>"
            f"<link>{srv.url(f'/articles/{name}.html')}</link><category>world</category>"
            f"<pubDate>Wed, 25 Nov 2026 0{i}:00:00 GMT</pubDate></item>"
            for i, (name, title) in enumerate(PAGES.items())
        )
        feed = (
            '<?xml version="1.0"?><rss version="2.0"><channel><title>Worker News</title>'
            f"<link>{srv.base_url}</link>{items}</channel></rss>"
        ).encode()
        srv.route("/feed.xml", Reply(200, {"Content-Type": "application/rss+xml"}, feed))
        for name in PAGES:
            srv.route(f"/articles/{name}.html", Reply(200, {"Content-Type": "text/html"}, page))
        yield srv


@dataclasses.dataclass
class Scene:
    tg: FakeTelegram
    message_id: int
    data: dict[str, str]  # page name -> callback data of its 📖 button
    frozen: list[int] = dataclasses.field(default_factory=list)

    def tap(self, page: str) -> None:
        self.tg.press_button(USER, self.message_id, self.data[page])

    def freeze(self, pid: int) -> None:
        os.kill(pid, signal.SIGSTOP)
        self.frozen.append(pid)

    def thaw(self) -> None:
        for pid in self.frozen:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        self.frozen.clear()


@pytest.fixture
async def scene(
    request: pytest.FixtureRequest, tg: FakeTelegram, server: FeedServer, sqlite_engine: Engine
) -> AsyncIterator[Scene]:
    base = make_settings(tg, feeds=(FeedConfig(server.url("/feed.xml"), "Worker News", ()),))
    fulltext = dataclasses.replace(base.fulltext, **getattr(request, "param", {}))
    settings = dataclasses.replace(base, fulltext=fulltext)
    await refresh_once(sqlite_engine, settings)
    tg.add_private_chat(USER)
    tg.add_private_chat(BYSTANDER)
    async with running_bot(settings, sqlite_engine):
        tg.send_text(USER, "/latest 10")
        [reply] = await wait_for(tg, USER, 1)
        with Session(sqlite_engine) as session:
            links = {s.id: str(s.link) for s in session.exec(select(Story)).all()}
        data = {}
        for button in reply.buttons:
            story_id = parse_fulltext_callback(button["callback_data"])
            if story_id is not None:
                name = links[story_id].rsplit("/", 1)[-1].removesuffix(".html")
                data[name] = button["callback_data"]
        made = Scene(tg, reply.message_id, data)
        try:
            yield made
        finally:
            made.thaw()


async def next_worker() -> int:
    """The pid of the ready worker that the next extraction goes to."""
    pid: int = await extraction_pool().run(os.getpid, timeout=60)
    return pid


async def busy(pid: int) -> None:
    """Wait until worker `pid` has a call (observed state, no sleep-and-hope)."""
    while pid not in extraction_pool().busy_pids():
        await asyncio.sleep(0.01)


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def said(scene: Scene, index: int) -> str:
    return scene.tg.messages(USER)[index].text


@pytest.mark.parametrize("scene", [{"extract_timeout_seconds": 1.0}], indirect=True)
async def test_an_extraction_over_its_limit_is_killed_and_the_next_tap_gets_a_fresh_worker(
    scene: Scene, server: FeedServer
) -> None:
    pid = await next_worker()
    scene.freeze(pid)  # this extraction cannot finish: only the time limit ends it
    scene.tap("alpha")
    await wait_for(scene.tg, USER, 2, timeout=30)
    assert texts.FULLTEXT_EXTRACT_SLOW in said(scene, 1)
    assert gone(pid)  # killed and reaped: the work really stopped
    scene.tap("beta")
    await wait_for(scene.tg, USER, 3, timeout=30)
    assert ARTICLE_WORDS in said(scene, 2)
    scene.tap("alpha")  # the failure was not cached: fetched and read again
    await wait_for(scene.tg, USER, 4, timeout=30)
    assert ARTICLE_WORDS in said(scene, 3)
    assert server.hits["/articles/alpha.html"] == 2
    assert pid not in extraction_pool().worker_pids()


async def test_a_killed_worker_is_a_clear_failure_and_the_next_tap_works(
    scene: Scene, server: FeedServer
) -> None:
    pid = await next_worker()
    scene.freeze(pid)
    scene.tap("alpha")
    await busy(pid)
    os.kill(pid, signal.SIGKILL)
    await wait_for(scene.tg, USER, 2, timeout=30)
    assert texts.FULLTEXT_EXTRACT_DIED in said(scene, 1)
    assert server.url("/articles/alpha.html") in (scene.tg.messages(USER)[1].html or "")
    scene.tap("alpha")  # not cached; a fresh worker reads it
    await wait_for(scene.tg, USER, 3, timeout=30)
    assert ARTICLE_WORDS in said(scene, 2)
    assert server.hits["/articles/alpha.html"] == 2


async def test_the_bot_answers_another_chat_while_an_extraction_is_stuck(scene: Scene) -> None:
    pid = await next_worker()
    scene.freeze(pid)
    scene.tap("alpha")
    await busy(pid)
    scene.tg.send_text(BYSTANDER, "/latest")
    [answer] = await wait_for(scene.tg, BYSTANDER, 1, timeout=30)
    assert PAGES["alpha"] in answer.text
    assert len(scene.tg.messages(USER)) == 1 and pid in extraction_pool().busy_pids()
    scene.thaw()
    await wait_for(scene.tg, USER, 2, timeout=30)
    assert ARTICLE_WORDS in said(scene, 1)


@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="POSIX process priorities")
async def test_extraction_workers_run_between_the_bot_and_the_parse_workers() -> None:
    pid = await next_worker()
    ours = os.getpriority(os.PRIO_PROCESS, 0)
    assert os.getpriority(os.PRIO_PROCESS, pid) == min(19, ours + EXTRACT_NICENESS)


@pytest.fixture
def pool() -> Iterator[ProcessPool]:
    made = ProcessPool(1, name="test-pool")
    try:
        yield made
    finally:
        made.shutdown()


async def test_a_cancelled_call_kills_its_worker_and_leaves_none_behind(pool: ProcessPool) -> None:
    await pool.run(os.getpid, timeout=60)  # a ready worker: the next call is handed at once
    call = asyncio.ensure_future(pool.run(functools.partial(signal.pause), timeout=60))
    while not pool.busy_pids():
        await asyncio.sleep(0.01)
    [pid] = pool.busy_pids()
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    while not gone(pid):  # killed at once, reaped by the pool's thread
        await asyncio.sleep(0.01)
    assert await pool.run(os.getpid, timeout=60) != pid
    assert len(pool.worker_pids()) == 1


async def test_an_exception_is_raised_here_and_the_worker_serves_on(pool: ProcessPool) -> None:
    pid = await pool.run(os.getpid, timeout=60)
    with pytest.raises(ValueError, match="invalid literal"):
        await pool.run(functools.partial(int, "x"), timeout=60)
    assert await pool.run(os.getpid, timeout=60) == pid


async def test_a_killed_or_overdue_call_is_a_value(pool: ProcessPool) -> None:
    pid = await pool.run(os.getpid, timeout=60)
    assert await pool.run(signal.pause, timeout=0.2) == TimedOut(0.2)
    assert gone(pid)
    pid = await pool.run(os.getpid, timeout=60)
    call = asyncio.ensure_future(pool.run(signal.pause, timeout=60))
    while pid not in pool.busy_pids():
        await asyncio.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    assert await call == WorkerDied(pid)


def test_shutdown_stops_every_worker(pool: ProcessPool) -> None:
    pool.start_workers()
    [pid] = pool.worker_pids()
    pool.shutdown()
    assert gone(pid)


async def test_an_os_error_in_the_function_is_raised_here_not_a_dead_worker(
    pool: ProcessPool,
) -> None:
    pid = await pool.run(os.getpid, timeout=60)
    with pytest.raises(FileNotFoundError):
        await pool.run(functools.partial(os.stat, "/no/such/file"), timeout=60)
    assert await pool.run(os.getpid, timeout=60) == pid
