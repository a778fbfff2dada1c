"""Subscriber use cases: what a chat's commands and taps do, without Telegram.

Each use case is one transaction on a worker thread and returns plain data;
the handlers parse arguments before and render texts after. Use cases that
change a chat first take its write lock (`begin_write`, then the chat row in
`ensure_chat`), so concurrent commands of one chat apply one after another,
each deciding from the state the previous one left.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlmodel import Session

from bot.briefings import selection
from bot.briefings.prefs import ChatPrefs, chat_prefs, default_language
from bot.delivery.message import OutMessage
from bot.ingest.topics import Topic
from bot.render.i18n import EN, Lang
from bot.render.stories import StoryView
from bot.services import articles, lookup
from bot.services.context import Services
from bot.services.story_views import story_views
from bot.storage import chats as chat_store
from bot.storage import outbox
from bot.storage import stories as story_store
from bot.storage.models import ArticleText, Chat

T = TypeVar("T")


@dataclass(frozen=True)
class Asker:
    """The chat a command or tap came from, as Telegram describes it."""

    id: int
    type: str
    title: str | None
    thread_id: int | None = None  # a forum topic other than General: a subscriber of its own
    language: str | None = None  # the user's Telegram language_code (private chats)

    @property
    def key(self) -> int:
        """The subscriber id: the chat's, or the forum topic's."""
        if self.thread_id is None:
            return self.id
        return chat_store.topic_subscriber_id(self.id, self.thread_id)


@dataclass(frozen=True)
class ChatState:
    stopped: bool
    subscribed: frozenset[str]
    paused: bool = False  # Telegram refused its messages (a closed topic, a block) meanwhile


@dataclass(frozen=True)
class ScheduleView:
    mode: str  # scheduled | instant | off
    times: tuple[str, ...]
    timezone: str
    next_at: datetime | None  # aware UTC; None when nothing is scheduled


@dataclass(frozen=True)
class LatestResult:
    scope: str  # plain-text name of what was listed: a topic, the chat's topics; "" for all
    single_topic: bool  # one topic was asked for by name
    stories: tuple[StoryView, ...]
    prefs: ChatPrefs  # the chat listed for: its language answers a command from itself
    all_muted: bool = False  # no stories listed, though some are there: mute words hid them


async def _as_chat(
    services: Services, who: Asker, work: Callable[[Session, Chat], T], *, create: bool = True
) -> T:
    """Run `work` in one transaction holding the chat's write lock; create the chat if new.

    `create` False (a read): a chat not stored yet is not created; `work` reads one as it
    would be created, unsaved."""
    language = (
        default_language(who.type, who.language, services.settings)
        if who.type == "private"
        else None
    )
    defaults = services.settings.briefing

    def run(session: Session) -> T:
        now = services.clock()
        fresh = chat_store.new_chat(
            who.id,
            chat_type=who.type,
            title=who.title,
            defaults=defaults,
            now=now,
            thread_id=who.thread_id,
            language=language,
        )
        if not create and session.get(Chat, fresh.id) is None:
            return work(session, fresh)  # answered as a new chat would be, nothing stored
        chat_store.begin_write(session)
        chat, _ = chat_store.store_chat(session, fresh, now=now)
        return work(session, chat)

    return await services.db(run)


as_chat = _as_chat  # for the other subscriber use cases (filters)


def _state(session: Session, chat: Chat) -> ChatState:
    subscribed = frozenset(chat_store.subscriptions(session, chat.id))
    return ChatState(chat.stopped, subscribed, paused=not chat.active)


def _schedule(chat: Chat) -> ScheduleView:
    next_at = chat.next_briefing_at if chat.mode == "scheduled" else None
    return ScheduleView(chat.mode, tuple(chat.briefing_times.split()), chat.timezone, next_at)


async def start(services: Services, who: Asker, *, create: bool = True) -> ChatState:
    """First contact or /start: the chat exists afterwards (unless not `create`); say
    whether it was stopped or paused."""
    return await _as_chat(services, who, _state, create=create)


async def resume(services: Services, who: Asker) -> ChatState:
    """Undo /stop (and a block noted earlier): briefings are scheduled again."""

    def work(session: Session, chat: Chat) -> ChatState:
        now = services.clock()
        chat_store.set_stopped(session, chat, False, now=now)
        chat_store.set_active(session, chat.id, True, now=now)
        return _state(session, chat)

    return await _as_chat(services, who, work)


async def topics_state(services: Services, who: Asker, *, create: bool = True) -> frozenset[str]:
    """The chat's subscribed topic slugs (for the picker)."""
    return (await _as_chat(services, who, _state, create=create)).subscribed


async def subscribed_now(services: Services, chat_id: int) -> frozenset[str]:
    """Read-only: the topics subscribed at this moment (no chat row is created)."""
    return await services.db(lambda s: frozenset(chat_store.subscriptions(s, chat_id)))


async def subscribe(services: Services, who: Asker, slugs: Sequence[str]) -> frozenset[str]:
    """Follow topics; return those that were not followed before."""
    return await _as_chat(
        services,
        who,
        lambda s, chat: frozenset(chat_store.subscribe(s, chat.id, slugs, now=services.clock())),
    )


async def unsubscribe(
    services: Services, who: Asker, slugs: Sequence[str] | None
) -> tuple[frozenset[str], bool]:
    """Stop following topics (all when `slugs` is None); return those that were followed,
    and whether the chat follows none now (its briefings then bring every topic)."""

    def work(session: Session, chat: Chat) -> tuple[frozenset[str], bool]:
        removed = frozenset(chat_store.unsubscribe(session, chat.id, slugs))
        return removed, not chat_store.subscriptions(session, chat.id)

    return await _as_chat(services, who, work)


async def set_topic(services: Services, who: Asker, slug: str, follow: bool | None) -> bool:
    """Follow one topic (`follow` True), stop following it (False), or flip it (None);
    True when the chat follows it now. Following twice, or stopping twice, changes
    nothing the second time."""

    def work(session: Session, chat: Chat) -> bool:
        if follow is None:
            return chat_store.toggle(session, chat.id, slug, now=services.clock())
        if follow:
            chat_store.subscribe(session, chat.id, [slug], now=services.clock())
        else:
            chat_store.unsubscribe(session, chat.id, [slug])
        return follow

    return await _as_chat(services, who, work)


async def set_schedule(
    services: Services, who: Asker, request: lookup.ScheduleRequest, *, create: bool = True
) -> ScheduleView:
    """Change mode and times as asked (or only show them when no mode is given)."""

    def work(session: Session, chat: Chat) -> ScheduleView:
        if request.mode is None:
            return _schedule(chat)
        now, was_scheduled = services.clock(), chat.mode == "scheduled"
        if request.mode == "instant" and chat.mode != "instant":
            chat.instant_since = now  # only stories from now on, not a backlog
        chat.mode = request.mode
        if request.times:
            chat.briefing_times = " ".join(request.times)
        chat.updated_at = now
        chat_store.reschedule(chat, now=now, keep_due=was_scheduled)
        session.add(chat)
        if chat.mode == "off":
            _cancel_queued(session, chat, "briefings off")
        return _schedule(chat)

    return await _as_chat(services, who, work, create=create or request.mode is not None)


def _cancel_queued(session: Session, chat: Chat, reason: str) -> None:
    """A briefing composed before /stop or /schedule off and still waiting for its turn
    (a large round, a flood wait, Telegram failing for a while) is not sent after it."""
    target, thread_id = chat.send_to
    outbox.cancel_briefings(session, target, thread_id, reason=reason)


async def set_timezone(services: Services, who: Asker, zone: str) -> ScheduleView:
    def work(session: Session, chat: Chat) -> ScheduleView:
        now, old_zone = services.clock(), chat.timezone
        chat.timezone, chat.updated_at = zone, now
        chat_store.reschedule(chat, now=now, old_zone=old_zone)
        session.add(chat)
        return _schedule(chat)

    return await _as_chat(services, who, work)


async def stop(services: Services, who: Asker) -> None:
    def work(session: Session, chat: Chat) -> None:
        chat_store.set_stopped(session, chat, True, now=services.clock())
        _cancel_queued(session, chat, "stopped")

    await _as_chat(services, who, work)


async def topic_reopened(services: Services, chat_id: int, thread_id: int | None) -> bool:
    """A forum topic was reopened: its subscriber, paused because it was closed, resumes."""
    return await services.db(
        lambda s: chat_store.resume_topic(
            s, chat_id, thread_id, reason=chat_store.TOPIC_CLOSED, now=services.clock()
        )
    )


async def mark_unreachable(services: Services, chat_id: int) -> bool:
    """Telegram refused a send (403): briefings to this chat stop; unknown chats are left be."""
    return await services.db(
        lambda s: chat_store.set_active(s, chat_id, False, now=services.clock())
    )


async def migrated(services: Services, old_id: int, new_id: int) -> None:
    """A group became a supergroup: its settings, topics, filters and unsent messages move
    to the new id at once, so commands in the supergroup act on them."""

    def work(session: Session) -> None:
        chat_store.migrate_chat(session, old_id, new_id, now=services.clock())
        outbox.move_chat(session, old_id, new_id)

    await services.db(work)


def latest_wait(services: Services, chat_id: int) -> float | None:
    """Seconds to wait before /latest may run again for this chat (kept in memory)."""
    return services.latest_limiter.check(chat_id, time.monotonic())


async def latest(
    services: Services, who: Asker, request: lookup.LatestRequest, *, create: bool = True
) -> LatestResult:
    """The newest stories of one topic, of the chat's topics, or of all; one transaction."""
    return await _as_chat(services, who, latest_work(services, who, request), create=create)


def latest_work(
    services: Services, who: Asker, request: lookup.LatestRequest
) -> Callable[[Session, Chat], LatestResult]:
    """What `latest` does inside its transaction, for a use case that reads more beside it."""
    topics = services.settings.topics

    def work(session: Session, chat: Chat) -> LatestResult:
        if request.topic:
            scope_topics: list[str] | None = [request.topic]
            topic = services.settings.topic(request.topic)
            scope = topic.name if topic else request.topic
        else:
            subscribed = sorted(chat_store.subscriptions(session, chat.id))
            scope_topics = subscribed or None
            scope = _plain_names(subscribed, topics) if subscribed else ""
        rows = selection.stories_for_chat(
            session,
            chat_id=chat.id,
            topics=scope_topics,
            limit=request.count,
            with_follows=not request.topic,  # a topic asked for by name: only that topic
        )
        views = story_views(session, rows) if rows else []
        prefs = chat_prefs(chat, services.settings, user_language=who.language)
        # An empty list says "nothing yet" only when there is nothing: not when every
        # story there mentions one of the chat's mute words.
        all_muted = not rows and bool(
            story_store.latest_stories(session, topics=scope_topics, limit=1)
        )
        return LatestResult(scope, bool(request.topic), tuple(views), prefs, all_muted)

    return work


def _plain_names(slugs: Sequence[str], topics: Sequence[Topic]) -> str:
    by_slug = {t.slug: t.name for t in topics}
    return ", ".join(by_slug.get(s, s) for s in slugs)


async def fulltext(
    services: Services,
    story_id: int,
    *,
    before_fetch: Callable[[], Awaitable[object]],
    start: int = 0,
    lang: Lang = EN,
) -> list[OutMessage]:
    """A story's full text as messages (Telegram HTML from `articles`), from message `start`.

    `before_fetch` runs only when the text is not cached yet, i.e. when the
    reader is about to wait for a page download (a "typing…" hint).
    """
    cached = await services.db(lambda s: s.get(ArticleText, story_id) is not None)
    if not cached:
        await before_fetch()
    return await articles.fulltext_messages(services, story_id, lang, start=start)
