"""Write what `bot.ingest.story_batch` decided for one feed: a few executemany statements.

Stories, keys, topics and entries are inserted (and merged-into stories bumped) with
statements built once, so SQLAlchemy reuses their compiled form; keys and topics a
stored story already has are skipped by the database (`ON CONFLICT DO NOTHING`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlmodel import Session

from bot.storage.models import Entry, Story, StoryKey, StoryTopic, table_of

_story, _entry = table_of(Story), table_of(Entry)
_key, _topic = table_of(StoryKey), table_of(StoryTopic)

_INSERT_STORY = sa.insert(_story).returning(_story.c.id, sort_by_parameter_order=True)
# A story stored without a link (its first outlet's item had none) becomes the first
# entry with a link that joins it: that entry's link, outlet, headline and summary, so
# the headline links to an article, 📖 can read it, and the source line names whose
# article it is. (SET expressions all read the row as it was: `link` is the stored one.)
_B_LINK = sa.bindparam("b_link", type_=_story.c.link.type)  # typed: PostgreSQL asks
_LINKLESS = sa.and_(_story.c.link.is_(None), _B_LINK.is_not(None))


def _if_linkless(column: str) -> Any:
    new = sa.bindparam(f"b_{column}", type_=_story.c[column].type)
    return sa.case((_LINKLESS, new), else_=_story.c[column])


_BUMP_STORY = (
    sa.update(_story)
    .where(_story.c.id == sa.bindparam("b_id"))
    .values(
        entry_count=_story.c.entry_count + sa.bindparam("b_added"),
        image_url=sa.func.coalesce(_story.c.image_url, sa.bindparam("b_image")),
        link=sa.func.coalesce(_story.c.link, _B_LINK),
        **{c: _if_linkless(c) for c in ("feed_id", "source_name", "title", "summary")},
    )
)


@dataclass(frozen=True)
class Lead:
    """An entry with a link that joins a story, as the story's row would name it."""

    link: str
    feed_id: int
    source_name: str
    title: str
    summary: str

    def params(self) -> dict[str, Any]:
        return {
            "b_link": self.link,
            "b_feed_id": self.feed_id,
            "b_source_name": self.source_name,
            "b_title": self.title,
            "b_summary": self.summary,
        }


_NO_LEAD = dict.fromkeys(Lead("", 0, "", "", "").params())  # every one None: no change


_INSERT_ENTRY = sa.insert(_entry)
# About nine key rows per entry: written through the driver, each story's time
# converted once (SQLAlchemy would convert it per row).
_INSERT_KEY = (
    'INSERT INTO story_key ("key", story_id, published_at) VALUES ({0}, {0}, {0}) '
    "ON CONFLICT DO NOTHING"
)
_INSERT_TOPIC = {
    "sqlite": sqlite.insert(_topic).on_conflict_do_nothing(),
    "postgresql": postgresql.insert(_topic).on_conflict_do_nothing(),
}


@dataclass
class PendingStory:
    """A story this batch creates or merges into."""

    id: int  # stored id, or provisional (see story_batch) until inserted
    published_at: datetime
    image_url: str | None = None
    added: int = 0  # entries this batch attaches (a new story counts its first)
    first_image: str | None = None  # stored story: the first image a merged entry brings
    # Stored story: the first merged entry with a link; the story becomes that entry only
    # if it has no link (`_BUMP_STORY`).
    first_link: Lead | None = None
    keys: set[int] = field(default_factory=set)  # keys it is known to have, stored or added
    new_keys: list[int] = field(default_factory=list)  # keys this batch adds
    topics: set[str] = field(default_factory=set)  # topics this batch adds
    row: dict[str, Any] | None = None  # the insert, for a new story


def write_batch(
    session: Session, stories: Iterable[PendingStory], entry_rows: list[dict[str, Any]]
) -> dict[int, int]:
    """Insert and update what the batch decided; return provisional -> stored story ids."""
    stories = list(stories)
    created = [s for s in stories if s.row is not None]
    real: dict[int, int] = {}
    if created:
        rows = [
            {**s.row, "entry_count": s.added, "image_url": s.image_url}
            for s in created
            if s.row is not None
        ]
        ids = session.execute(_INSERT_STORY, rows).scalars().all()
        real = {s.id: int(i) for s, i in zip(created, ids, strict=True)}
    bumps = [
        {
            "b_id": s.id,
            "b_added": s.added,
            "b_image": s.first_image,
            **(s.first_link.params() if s.first_link else _NO_LEAD),
        }
        for s in stories
        if s.row is None
    ]
    if bumps:
        session.execute(_BUMP_STORY, bumps)
    dialect = session.get_bind().dialect
    _insert_keys(session, dialect, stories, real)
    topic_rows = [
        {"story_id": real.get(s.id, s.id), "topic": t} for s in stories for t in sorted(s.topics)
    ]
    if topic_rows:
        session.execute(_INSERT_TOPIC[dialect.name], topic_rows)
    for row in entry_rows:
        row["story_id"] = real.get(row["story_id"], row["story_id"])
    session.execute(_INSERT_ENTRY, entry_rows)
    return real


def _insert_keys(
    session: Session, dialect: Dialect, stories: Iterable[PendingStory], real: dict[int, int]
) -> None:
    stamp_type = _key.c.published_at.type.dialect_impl(dialect)
    convert = stamp_type.bind_processor(dialect) or (lambda value: value)
    rows = [
        (key, real.get(s.id, s.id), stamp)
        for s in stories
        if s.new_keys
        for stamp in (convert(s.published_at),)
        for key in s.new_keys
    ]
    if rows:
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        session.connection().exec_driver_sql(_INSERT_KEY.format(mark), rows)
