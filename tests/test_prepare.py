"""Entries prepared beside the parse (`bot.ingest.prepare`) store what unprepared ones store.

A refresh's parse workers work out each entry's fingerprint, candidate keys and own
topics, and the one writer uses them instead of computing them again. The worker's
values must be the writer's (the same functions), a worker's entries must store the
same rows, and topics matched with other topic settings must not be used. The workers
also run nicer than the bot, so that the writer comes first on busy cores.
"""

from __future__ import annotations

import os
import pickle
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa

from bench._corpus import build_corpus, rss
from bot.ingest import dedup
from bot.ingest.parse_workers import NICENESS, parse_feed_async, parse_pool
from bot.ingest.parser import ParsedEntry, parse_feed
from bot.ingest.prepare import prepare_entry, prepare_feed
from bot.ingest.topics import TopicMatcher
from bot.settings import Topic
from bot.storage.db import SQLITE_CACHE_KIB, open_database
from tests.test_story_batch import CONTENT_TYPE, MATCHER, T0, dense_tables, stored_tables

OTHER = TopicMatcher.from_topics([Topic("science", "Science", ("budget",))])


def corpus_bodies(feeds: int, items: int) -> list[bytes]:
    return [
        rss(n, feed) for n, feed in enumerate(build_corpus(feeds=feeds, items=items, now=T0).feeds)
    ]


async def test_entries_parsed_in_a_worker_arrive_prepared_as_the_writer_would() -> None:
    bodies = corpus_bodies(3, 20)
    for n, body in enumerate(bodies):
        url = f"https://o{n}/rss"
        parsed = await parse_feed_async(
            body, url=url, content_type=CONTENT_TYPE, now=T0, matcher=MATCHER
        )
        here = parse_feed(body, url=url, content_type=CONTENT_TYPE, now=T0)
        assert parsed == here  # `prepared` is not part of an entry's value
        assert len(parsed.entries) == 20
        for entry in parsed.entries:
            got = entry.prepared
            assert got is not None
            fp = dedup.fingerprint(entry.title, entry.summary)
            assert got.fingerprint == fp  # tokens, weights, summary tokens and places
            assert got.keys == tuple(dedup.candidate_keys(fp))
            assert got.topics == MATCHER.entry_topics(
                categories=entry.categories, title=entry.title, summary=entry.summary
            )
            assert got.topics_of == MATCHER.signature
    unprepared = await parse_feed_async(bodies[0], url="https://o0/rss", content_type=None, now=T0)
    assert all(entry.prepared is None for entry in unprepared.entries)


def as_sent(feeds: list[list[ParsedEntry]], matcher: TopicMatcher) -> list[list[ParsedEntry]]:
    """The entries as a parse worker sends them: prepared, then through pickle."""
    out = []
    for entries in feeds:
        prepared = [replace(e, prepared=prepare_entry(e, matcher)) for e in entries]
        out.append(pickle.loads(pickle.dumps(prepared)))
    return out


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_prepared_entries_store_what_unprepared_ones_store(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    bodies = corpus_bodies(24, 25)
    feeds = [
        list(parse_feed(b, url=f"https://o{n}/rss", content_type=CONTENT_TYPE, now=T0).entries)
        for n, b in enumerate(bodies)
    ]
    runs = []
    for entries in (feeds, as_sent(feeds, MATCHER), as_sent(feeds, OTHER)):
        if backend == "sqlite":
            engine = open_database(f"sqlite:///{tmp_path / f'prepared-{len(runs)}.sqlite3'}")
        else:
            engine = open_database(request.getfixturevalue("pg_url"))
            with engine.begin() as conn:
                conn.execute(sa.text("TRUNCATE feed RESTART IDENTITY CASCADE"))
        runs.append(dense_tables(engine, entries, one_at_a_time=False))
        engine.dispose()
    assert runs[1] == runs[0]
    assert runs[2] == runs[0]  # topics matched with other settings were matched again
    stories, entries, keys, topics = runs[0]
    assert len(entries) == 24 * 25 and len(keys) > len(stories) and topics


def test_the_writer_takes_the_topics_an_entry_brings_only_from_its_own_settings(
    tmp_path: Path,
) -> None:
    # Topics no matcher would find, to see which the writer stored.
    [entry] = parse_feed(
        corpus_bodies(1, 1)[0], url="https://o0/rss", content_type=CONTENT_TYPE, now=T0
    ).entries
    assert not MATCHER.entry_topics(
        categories=entry.categories, title=entry.title, summary=entry.summary
    )
    made = prepare_entry(entry, MATCHER)
    stored = []
    for signature in (MATCHER.signature, OTHER.signature):
        brought = replace(made, topics=frozenset({"business"}), topics_of=signature)
        engine = open_database(f"sqlite:///{tmp_path / f'{signature}.sqlite3'}")
        dense_tables(engine, [[replace(entry, prepared=brought)]], one_at_a_time=False)
        stored.append([row.topic for row in stored_tables(engine)[3]])
        engine.dispose()
    assert stored == [["business"], []]
    assert MATCHER.signature != OTHER.signature
    assert (
        MATCHER.signature
        == TopicMatcher.from_topics(
            [
                Topic("science", "Science", ("earthquake",)),
                Topic("business", "Business", ("rates",)),
            ]
        ).signature
    )


def test_prepare_feed_keeps_the_feed_and_its_entries() -> None:
    parsed = parse_feed(corpus_bodies(1, 5)[0], url="https://o0/rss", content_type=None, now=T0)
    prepared = prepare_feed(parsed, MATCHER)
    assert prepared == parsed
    assert [e.prepared for e in prepared.entries] == [
        prepare_entry(e, MATCHER) for e in parsed.entries
    ]


@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="POSIX process priorities")
async def test_parse_workers_run_nicer_than_the_bot() -> None:
    body = corpus_bodies(1, 2)[0]
    parsed = await parse_feed_async(body, url="https://o0/rss", content_type=CONTENT_TYPE, now=T0)
    assert len(parsed.entries) == 2
    pids = parse_pool().worker_pids()
    assert pids
    ours = os.getpriority(os.PRIO_PROCESS, 0)
    for pid in pids:
        assert os.getpriority(os.PRIO_PROCESS, pid) == min(19, ours + NICENESS)


def test_sqlite_connections_keep_a_larger_page_cache(tmp_path: Path) -> None:
    # The writer's index pages stay in the connection's cache between feeds.
    engine = open_database(f"sqlite:///{tmp_path / 'cache.sqlite3'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -SQLITE_CACHE_KIB
    engine.dispose()
    assert SQLITE_CACHE_KIB > 2000  # SQLite's default: 2,000 KiB


def test_a_fingerprint_survives_pickle_with_its_summary_tokens_derived_or_not() -> None:
    title = "Storm Ciarán: Paris flights cancelled as 120 km/h winds hit Brittany’s coast"
    summary = "Airlines cancelled 1,200 flights; rail lines to Brest and Quimper… closed"
    for derive in (False, True):
        fp = dedup.fingerprint(title, summary)
        if derive:
            _ = fp.summary_tokens, fp.places
        back = pickle.loads(pickle.dumps(fp))
        plain = dedup.fingerprint(title, summary)
        for name in ("tokens", "weights", "specifics", "text", "title", "summary", "weight_of"):
            assert getattr(back, name) == getattr(plain, name)
        assert (back.total, back.letters, back.long) == (plain.total, plain.letters, plain.long)
        assert back.summary_tokens == plain.summary_tokens and back.summary_tokens
        assert back.places == plain.places and back.places.countries
        assert back == plain
        assert dedup.similarity(back, plain) == dedup.similarity(plain, plain)


def test_an_entry_copied_with_other_text_is_not_taken_for_what_it_brings(tmp_path: Path) -> None:
    # `dataclasses.replace` keeps `prepared`: worked out from the old text, it must not count.
    feeds = [
        list(parse_feed(b, url=f"https://o{n}/rss", content_type=CONTENT_TYPE, now=T0).entries)
        for n, b in enumerate(corpus_bodies(6, 10))
    ]
    sent = as_sent(feeds, MATCHER)
    # Each entry takes the next one's title and categories, keeping its own `prepared`.
    moved = [
        [
            replace(e, title=n.title, categories=n.categories)
            for e, n in zip(f, f[1:] + f[:1], strict=True)
        ]
        for f in sent
    ]
    plain = [[replace(e, prepared=None) for e in f] for f in moved]
    stale = [e for f in moved for e in f if e.prepared is not None and not e.prepared.fits(e)]
    assert len(stale) > 50  # of 60 (a feed may list one headline twice)
    runs = []
    for n, entries in enumerate((plain, moved)):
        engine = open_database(f"sqlite:///{tmp_path / f'moved-{n}.sqlite3'}")
        runs.append(dense_tables(engine, entries, one_at_a_time=False))
        engine.dispose()
    assert runs[1] == runs[0]
