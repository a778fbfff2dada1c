"""SQLModel tables: feeds, entries, stories, chats, subscriptions and the outbox.

Every datetime is stored as UTC and comes back aware (see `UTCDateTime`);
schema changes go through Alembic migrations in `bot/migrations`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """Store aware datetimes as UTC; return them aware on every backend."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def table_of(model: type[SQLModel]) -> sa.Table:
    """A table model's Core `Table`, for statements built once at import."""
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, sa.Table)
    return table


def utcnow() -> datetime:
    return datetime.now(UTC)


def _ts(nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)


def _bigint_pk() -> Any:
    return Field(sa_type=sa.BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False})


#: The Feed columns for a response's validators (PostgreSQL refuses a longer value).
ETAG_LENGTH = 512
LAST_MODIFIED_LENGTH = 128


class Feed(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(unique=True, max_length=2048)
    name: str | None = Field(default=None, max_length=200)
    title: str | None = Field(default=None, max_length=300)
    topics: str = Field(default="", max_length=1000)  # space-separated topic slugs
    origin: str = Field(default="config", max_length=16)  # config | admin | opml
    enabled: bool = Field(default=True)
    paused: bool = Field(default=False)
    etag: str | None = Field(default=None, max_length=ETAG_LENGTH)
    last_modified: str | None = Field(default=None, max_length=LAST_MODIFIED_LENGTH)
    body_hash: str | None = Field(default=None, max_length=64)
    not_modified_since: datetime | None = _ts()
    last_checked_at: datetime | None = _ts()
    last_success_at: datetime | None = _ts()
    next_check_at: datetime | None = _ts(index=True)
    consecutive_failures: int = Field(default=0)
    last_error: str | None = Field(default=None, max_length=500)
    failing_since: datetime | None = _ts()
    lease_until: datetime | None = _ts()
    created_at: datetime | None = _ts()

    @property
    def display_name(self) -> str:
        """The outlet as readers see it: the configured name, the feed's title, else its host.

        A title that is an address (some feeds put their site's URL there) names its
        host: a source line names an outlet, never a URL.
        """
        return self.name or _title_name(self.title) or _host(self.url)

    @property
    def topic_slugs(self) -> tuple[str, ...]:
        return tuple(self.topics.split())


def _host(url: str) -> str:
    host = urlsplit(url).hostname or url
    return host.removeprefix("www.")


_ADDRESS = re.compile(r"(?i)(?:https?:)?//\S+")


def _title_name(title: str | None) -> str | None:
    """A feed's title as an outlet's name: an address's host, "" for one without."""
    if not title or not _ADDRESS.fullmatch(title.strip()):
        return title
    host = urlsplit(title.strip()).hostname
    return host.removeprefix("www.") if host else ""


class Story(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=400)
    summary: str = Field(default="", max_length=1200)
    link: str | None = Field(default=None, max_length=2048)
    source_name: str = Field(default="", max_length=200)
    feed_id: int | None = Field(default=None, foreign_key="feed.id")
    published_at: datetime = Field(sa_type=UTCDateTime, index=True)
    first_seen_at: datetime = Field(sa_type=UTCDateTime, index=True)
    entry_count: int = Field(default=1)
    image_url: str | None = Field(default=None, max_length=2048)  # the feed's own, http(s)


class StoryTopic(SQLModel, table=True):
    __tablename__ = "story_topic"
    __table_args__ = (sa.Index("ix_story_topic_topic_story", "topic", "story_id"),)
    story_id: int = Field(foreign_key="story.id", primary_key=True)
    topic: str = Field(primary_key=True, max_length=32)


class StoryKey(SQLModel, table=True):
    """Candidate keys for near-duplicate lookup (see `bot.ingest.dedup.candidate_keys`).

    Keyed (key, published_at, story_id): the dedup read (keys within a time window)
    is a range of the primary key itself. Every key row carries its story's
    publication time, which never changes, so a story has a key at most once. On
    SQLite the table is WITHOUT ROWID: rows live in that key's B-tree, so a new row
    lands on one random leaf, not on two (a rowid table's primary-key index plus a
    (key, published_at) index). Migration 0009.
    """

    __tablename__ = "story_key"
    __table_args__ = (
        sa.Index("ix_story_key_story_id", "story_id"),  # pruning deletes by story
        {"sqlite_with_rowid": False},
    )
    key: int = _bigint_pk()
    published_at: datetime = Field(sa_type=UTCDateTime, primary_key=True)
    story_id: int = Field(foreign_key="story.id", primary_key=True)


class StoryVector(SQLModel, table=True):
    """A story's headline embedding for semantic dedup (`bot.ingest.semantic`).

    float16 bytes, unit length; written only while the semantic method is active.
    """

    __tablename__ = "story_vector"
    story_id: int = Field(foreign_key="story.id", primary_key=True)
    published_at: datetime = Field(sa_type=UTCDateTime, index=True)
    vector: bytes = Field(sa_type=sa.LargeBinary)


class Entry(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("feed_id", "identity", name="uq_entry_feed_identity"),)
    id: int | None = Field(default=None, primary_key=True)
    feed_id: int = Field(foreign_key="feed.id", index=True)
    identity: str = Field(max_length=600)
    guid: str | None = Field(default=None, max_length=2048)
    link: str | None = Field(default=None, max_length=2048, index=True)
    title: str = Field(max_length=400)
    summary: str = Field(default="", max_length=1200)
    categories: str = Field(default="", max_length=1000)
    published_at: datetime = Field(sa_type=UTCDateTime)
    seen_at: datetime = Field(sa_type=UTCDateTime)
    story_id: int = Field(foreign_key="story.id", index=True)


class ArticleText(SQLModel, table=True):
    """Extracted full text of a story's article, cached after the first tap."""

    __tablename__ = "article_text"
    story_id: int = Field(foreign_key="story.id", primary_key=True)
    ok: bool = Field(default=True)
    title: str = Field(default="", max_length=400)
    body: str = Field(default="", sa_type=sa.Text)  # paragraphs joined by "\n\n"
    error: str | None = Field(default=None, max_length=300)
    fetched_at: datetime = Field(sa_type=UTCDateTime)


class Chat(SQLModel, table=True):
    id: int = _bigint_pk()  # Telegram chat id
    type: str = Field(default="private", max_length=16)
    title: str | None = Field(default=None, max_length=256)
    active: bool = Field(default=True)  # false when blocked/kicked/deactivated
    stopped: bool = Field(default=False)  # true after /stop
    timezone: str = Field(default="UTC", max_length=64)
    briefing_times: str = Field(default="08:00", max_length=200)  # "07:30 19:00"
    mode: str = Field(default="scheduled", max_length=16)  # scheduled | instant | off
    next_briefing_at: datetime | None = _ts(index=True)
    last_briefing_at: datetime | None = _ts()
    instant_since: datetime | None = _ts()  # instant mode: stories seen after this
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    # A forum topic is a subscriber of its own: `id` is then derived from the
    # forum's Telegram id (`parent_id`) and the topic's `thread_id`.
    parent_id: int | None = Field(default=None, sa_type=sa.BigInteger, index=True)
    thread_id: int | None = Field(default=None)
    inactive_reason: str | None = Field(default=None, max_length=200)  # e.g. topic deleted

    @property
    def send_to(self) -> tuple[int, int | None]:
        """The Telegram chat id and forum thread its messages go to."""
        return (self.parent_id or self.id, self.thread_id)

    # Chosen by the chat (/language, /settings); None: the configured default applies.
    language: str | None = Field(default=None, max_length=8)
    link_preview: str | None = Field(default=None, max_length=8)  # off | small | large
    lead_image: bool | None = Field(default=None)
    summaries: bool | None = Field(default=None)
    max_items: int | None = Field(default=None)
    quiet: bool | None = Field(default=None)


class Subscription(SQLModel, table=True):
    chat_id: int = Field(sa_type=sa.BigInteger, foreign_key="chat.id", primary_key=True)
    topic: str = Field(primary_key=True, max_length=32)
    created_at: datetime = Field(sa_type=UTCDateTime)


class ChatFilter(SQLModel, table=True):
    """A subscriber's mute word (kind "mute") or personal keyword (kind "follow").

    `phrase` is stored in its match form (folded words joined by spaces), so
    "Football" and "football's" are one entry.
    """

    __tablename__ = "chat_filter"
    chat_id: int = Field(sa_type=sa.BigInteger, foreign_key="chat.id", primary_key=True)
    kind: str = Field(primary_key=True, max_length=8)
    phrase: str = Field(primary_key=True, max_length=256)
    created_at: datetime = Field(sa_type=UTCDateTime)


class ChannelManager(SQLModel, table=True):
    """A user who manages a channel from their private chat (`current`: acting on it now)."""

    __tablename__ = "channel_manager"
    user_id: int = Field(sa_type=sa.BigInteger, primary_key=True)
    channel_id: int = Field(sa_type=sa.BigInteger, foreign_key="chat.id", primary_key=True)
    current: bool = Field(default=False)
    created_at: datetime = Field(sa_type=UTCDateTime)


class Delivery(SQLModel, table=True):
    """A story recorded as delivered to a chat (written with its outbox rows)."""

    __table_args__ = (sa.Index("ix_delivery_story_id", "story_id"),)  # pruning deletes by story
    chat_id: int = Field(sa_type=sa.BigInteger, primary_key=True)
    story_id: int = Field(foreign_key="story.id", primary_key=True)
    delivered_at: datetime = Field(sa_type=UTCDateTime)


class WorkerHeartbeat(SQLModel, table=True):
    """Live sender processes; each paces itself at its share of the overall rate."""

    __tablename__ = "worker_heartbeat"
    id: str = Field(primary_key=True, max_length=64)
    seen_at: datetime = Field(sa_type=UTCDateTime, index=True)


class FloodHold(SQLModel, table=True):
    """Telegram's last retry_after: no sender sends (to the chat) before `until`, across
    restarts."""

    __tablename__ = "flood_hold"
    scope: str = Field(primary_key=True, max_length=32)  # "global", or "chat:<id>"
    until: datetime = Field(sa_type=UTCDateTime)


# The rows still to send (pending, or sending under a lease), and the rows being sent:
# both partial indexes (migration 0008) leave out the finished rows (sent, failed,
# cancelled) that make up most of the table. The claim query repeats these conditions
# word for word, which is what lets SQLite use a partial index.
OUTBOX_UNSENT = "status NOT IN ('sent', 'failed', 'cancelled')"
OUTBOX_SENDING = "status = 'sending'"


class Outbox(SQLModel, table=True):
    __table_args__ = (
        sa.Index("ix_outbox_due", "status", "priority", "not_before"),
        # A claim walks the queue in (priority, id) order and stops after its batch.
        sa.Index(
            "ix_outbox_queue",
            "priority",
            "id",
            sqlite_where=sa.text(OUTBOX_UNSENT),
            postgresql_where=sa.text(OUTBOX_UNSENT),
        ),
        # Whether another sender holds a chat: one probe per candidate row.
        sa.Index(
            "ix_outbox_held",
            "chat_id",
            "lease_until",
            sqlite_where=sa.text(OUTBOX_SENDING),
            postgresql_where=sa.text(OUTBOX_SENDING),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(sa_type=sa.BigInteger, index=True)
    kind: str = Field(max_length=16)  # briefing | instant | broadcast | reply
    dedup_key: str = Field(unique=True, max_length=200)
    priority: int = Field(default=10)  # lower goes first; broadcasts 0
    text: str = Field(sa_type=sa.Text)
    reply_markup: str | None = Field(default=None, sa_type=sa.Text)  # JSON
    # JSON of how to send: {"photo": url, "preview": {...}, "quiet": true}; None: plain text.
    options: str | None = Field(default=None, sa_type=sa.Text)
    status: str = Field(default="pending", max_length=16)  # pending|sending|sent|failed|cancelled
    attempts: int = Field(default=0)
    not_before: datetime = Field(sa_type=UTCDateTime)
    lease_until: datetime | None = _ts()
    # The worker that claimed a `sending` row: its presence id, the key of the advisory
    # lock it holds while it lives (bot/storage/presence.py); NULL on SQLite.
    claimed_by: int | None = Field(default=None, sa_type=sa.BigInteger)
    telegram_message_id: int | None = Field(default=None)
    error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(sa_type=UTCDateTime)
    sent_at: datetime | None = _ts()
    broadcast_id: int | None = Field(default=None, index=True)
    thread_id: int | None = Field(default=None)  # forum topic (message_thread_id)


class Broadcast(SQLModel, table=True):
    """An admin's broadcast: draft → confirmed → done, or draft → cancelled.

    Status changes are compare-and-set updates, so a second tap on a button
    changes nothing; the messages themselves are outbox rows with `broadcast_id`.
    """

    id: int | None = Field(default=None, primary_key=True)
    admin_id: int = Field(sa_type=sa.BigInteger)
    admin_chat_id: int = Field(sa_type=sa.BigInteger)  # where the preview and report go
    topic: str | None = Field(default=None, max_length=32)  # None: every active chat
    text: str = Field(sa_type=sa.Text)  # Telegram HTML, exactly as subscribers get it
    status: str = Field(default="draft", max_length=16, index=True)
    audience: int = Field(default=0)  # chats counted for the preview
    total: int = Field(default=0)  # outbox rows enqueued on confirmation
    status_message_id: int | None = Field(default=None)
    report: str | None = Field(default=None, sa_type=sa.Text)  # last status text shown
    reported_at: datetime | None = _ts()
    created_at: datetime = Field(sa_type=UTCDateTime)
    confirmed_at: datetime | None = _ts()
    finished_at: datetime | None = _ts()


class AuditEntry(SQLModel, table=True):
    """One admin action: who did what, when (user_id None: the command line)."""

    __tablename__ = "audit"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = Field(default=None, sa_type=sa.BigInteger)
    actor: str = Field(default="", max_length=100)
    action: str = Field(max_length=32)
    detail: str = Field(default="", max_length=1000)
    created_at: datetime = Field(sa_type=UTCDateTime, index=True)
