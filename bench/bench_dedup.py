"""Benchmark ingest's story lookup and insert at 2 k and 10 k stored stories (any sizes by flag).

Run from the repo root: ``python bench/bench_dedup.py [--sizes 2000,10000]``, and for
the semantic method ``python bench/bench_dedup.py --method semantic --sizes 100000``.
Every headline goes through `bot.ingest.stories.ingest_entries` on a scratch
SQLite database (the code a refresh runs: candidate keys, the 48 h window,
`best_match`). Headlines are synthesised from a Zipf-distributed vocabulary of
pseudo-words, so common words recur across stories as they do in real feeds.

The semantic run fills the window directly (stories, entries, keys and vectors
written in bulk; the stored vectors are drawn to resemble real headline
embeddings, `realistic_vectors`, since how many pass the neighbour search's
code filter depends on that), then ingests
SAMPLE_SEMANTIC new entries through `ingest_entries` with the real encoder, ten
per call as a feed's refresh brings them (real headlines from the STS dev set
by default, `--new-headlines synthetic` for pseudo-words), and splits the
time per entry into embedding, neighbour search and the rest (wall clock), with
the process's CPU time per entry beside it (the host is shared: wall time
includes waiting for a core).
"""

from __future__ import annotations

import argparse
import functools
import itertools
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa
from sqlmodel import select

from bot.storage.models import Story
from tests.support.dedupkit import IngestProbe

STORY_COUNT = select(sa.func.count()).select_from(Story)

VOCABULARY = 30_000
SAMPLE = 2_000
ZIPF_OFFSET = 100
SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in ("a", "e", "i", "o", "u", "an", "or")]
T0 = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the results table."""

    stored: int
    ingest_us: float
    merged: int
    db_bytes: float


def make_vocabulary(rng: random.Random) -> list[str]:
    """Return distinct pseudo-words; capitalise one in five like names."""
    words: set[str] = set()
    while len(words) < VOCABULARY:
        words.add("".join(rng.choices(SYLLABLES, k=rng.randint(2, 4))))
    return [w.capitalize() if i % 5 == 0 else w for i, w in enumerate(sorted(words))]


def headlines(rng: random.Random, vocabulary: list[str]) -> Iterator[str]:
    """Yield endless synthetic headlines of 5-10 Zipf-drawn words, some with a number."""
    # Offset Zipf: stop words are gone, so the commonest content word is not "the".
    ranks = range(len(vocabulary))
    cumulative = list(itertools.accumulate(1.0 / (rank + ZIPF_OFFSET) for rank in ranks))
    while True:
        words = rng.choices(vocabulary, cum_weights=cumulative, k=rng.randint(5, 10))
        if rng.random() < 0.3:
            words.insert(rng.randint(0, len(words)), str(rng.randint(2, 500)))
        yield " ".join(words)


def fill(probe: IngestProbe, source: Iterator[str], count: int, start: int) -> None:
    """Ingest `count` headlines, one published every 10 seconds after story `start`."""
    for offset in range(count):
        probe.add(next(source), published_at=T0 + timedelta(seconds=10 * (start + offset)))


def measure(probe: IngestProbe, source: Iterator[str], stored: int) -> tuple[float, int]:
    """Time SAMPLE ingests (lookup, then join or insert); return µs/entry and merges."""
    before = probe.session.exec(STORY_COUNT).one()
    began = time.perf_counter()
    fill(probe, source, SAMPLE, stored)
    ingest_us = (time.perf_counter() - began) / SAMPLE * 1e6
    created = probe.session.exec(STORY_COUNT).one() - before
    return ingest_us, SAMPLE - int(created)


def run(sizes: list[int]) -> list[Row]:
    """Fill a fresh database to each size and measure it."""
    rng = random.Random(20260120)
    source = headlines(rng, make_vocabulary(rng))
    rows = []
    for size in sizes:
        with tempfile.TemporaryDirectory() as scratch:
            path = Path(scratch) / "bench.db"
            with IngestProbe(path) as probe:
                began = time.perf_counter()
                fill(probe, source, size, 0)
                probe.session.commit()
                print(f"filled {size:,} in {time.perf_counter() - began:.0f} s", file=sys.stderr)
                ingest_us, merged = measure(probe, source, size)
                probe.session.commit()
                db_bytes = path.stat().st_size / (size + SAMPLE)
            rows.append(Row(size, ingest_us, merged, db_bytes))
    return rows


SAMPLE_SEMANTIC = 300
FEED_BATCH = 10  # new entries per feed refresh, ingested (and embedded) together


def add_batch(probe: IngestProbe, titles: list[str], at: datetime) -> None:
    """Ingest titles as one feed's new entries, the way a refresh hands them over."""
    from bot.ingest.parser import ParsedEntry
    from bot.ingest.stories import ingest_entries
    from bot.ingest.topics import TopicMatcher

    entries = [
        ParsedEntry(
            guid=f"batch-{at.timestamp()}-{title}",
            link=None,
            title=title,
            summary="",
            published_at=at,
            categories=(),
            author=None,
        )
        for title in titles
    ]
    ingest_entries(
        probe.session,
        feed=probe.feeds[1],
        entries=entries,
        matcher=TopicMatcher.from_topics([]),
        now=at,
        window=probe.window,
        semantic=probe.semantic,
    )


def realistic_vectors(encoder: Any, size: int) -> Any:
    """Return `size` unit vectors distributed like real headline embeddings.

    Drawn from a Gaussian with the mean and covariance of the dev set's
    headlines as the encoder embeds them (mean cosine between two ≈ 0.09, not
    0 as for random directions): the code filter of the neighbour search lets
    through as many stories as it would with real ones (BENCHMARKS.md).
    """
    import numpy as np

    titles = list(dict.fromkeys(itertools.islice(dev_headlines(), 3554)))
    real = encoder.encode(titles)
    rng = np.random.default_rng(7)
    mean, cov = real.mean(axis=0), np.cov(real.T)
    vectors = rng.multivariate_normal(mean, cov, size=size).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def bulk_fill(probe: IngestProbe, source: Iterator[str], size: int, vectors: Any) -> None:
    """Write `size` one-entry stories with keys and the given vectors, one per 1 s."""
    import numpy as np

    from bot.ingest.dedup import candidate_keys, fingerprint
    from bot.storage.models import Entry, StoryKey, StoryVector

    stories, entries, keys, stored = [], [], [], []
    for i in range(size):
        title, at = next(source), T0 + timedelta(seconds=i)
        stories.append({"id": i + 1, "title": title, "published_at": at, "first_seen_at": at})
        entries.append(
            {
                "feed_id": probe.feeds[0].id,
                "identity": f"bulk-{i}",
                "title": title,
                "published_at": at,
                "seen_at": at,
                "story_id": i + 1,
            }
        )
        keys += [
            {"key": k, "story_id": i + 1, "published_at": at}
            for k in set(candidate_keys(fingerprint(title)))
        ]
        stored.append(
            {
                "story_id": i + 1,
                "published_at": at,
                "vector": vectors[i].astype(np.float16).tobytes(),
            }
        )
    for model, rows in (
        (Story, stories),
        (Entry, entries),
        (StoryKey, keys),
        (StoryVector, stored),
    ):
        probe.session.execute(sa.insert(model), rows)
    probe.session.commit()


def _timed(spent: dict[str, float], name: str, fn: Any) -> Any:
    """Wrap `fn` so that the seconds it takes add up in spent[name]."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        began, cpu_began = time.perf_counter(), time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[name] += time.perf_counter() - began
            spent[name + " cpu"] += time.process_time() - cpu_began

    return wrapper


DEV_SET = Path(__file__).resolve().parents[2] / "shared" / "data" / "sts-headlines-dev"


def dev_headlines() -> Iterator[str]:
    """Yield the dev set's real headlines (~11 word pieces each), endlessly."""
    titles = [
        title
        for year in ("2013", "2014")
        for line in (DEV_SET / f"{year}.tsv").read_text(encoding="utf-8").splitlines()
        for title in line.split("\t")[1:3]
    ]
    return itertools.cycle(titles)


def run_semantic(sizes: list[int], new_headlines: str, threads: int | None) -> None:
    """Measure the semantic method's cost per new entry at each window size."""
    from bench._common import print_machine, rss_mib
    from bot.ingest.semantic import SemanticDedup, from_settings
    from bot.settings.model import DedupSettings

    print_machine()
    loaded = from_settings(DedupSettings(method="semantic"))
    if loaded is None:
        raise SystemExit("semantic method unavailable: install '.[semantic]' and the model")
    encoder = loaded.encoder
    if threads is not None:
        encoder.threads = threads  # type: ignore[attr-defined]
    print(f"encoder: {encoder.runtime}, {getattr(encoder, 'threads', 1)} thread(s) per feed batch")
    rng = random.Random(20260120)
    source = headlines(rng, make_vocabulary(rng))
    print(
        "| stories in window | embed ms (CPU) | neighbours ms (CPU) | rest ms | total ms/entry "
        "(CPU) | index MiB (RSS growth) | index bytes/story | SQLite bytes/story |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    stored_vectors = realistic_vectors(loaded.encoder, max(sizes))
    for size in sizes:
        method = SemanticDedup(loaded.encoder)
        spent = dict.fromkeys(["embed", "neighbours", "embed cpu", "neighbours cpu"], 0.0)
        timed = functools.partial(_timed, spent)
        method.embed_many = timed("embed", method.embed_many)  # type: ignore[method-assign]
        method.neighbours = timed("neighbours", method.neighbours)  # type: ignore[method-assign]
        with tempfile.TemporaryDirectory() as scratch:
            path = Path(scratch) / "bench.db"
            with IngestProbe(path, semantic=method) as probe:
                bulk_fill(probe, source, size, stored_vectors[:size])
                before = rss_mib()
                method._sync(probe.session)  # the first look loads the window into memory
                index_mib = rss_mib() - before
                index = method._index
                index_bytes = index.bytes_per_story() * index.size
                spent.update(dict.fromkeys(spent, 0.0))
                at = T0 + timedelta(seconds=size // 2)  # mid-window: every story is inside
                began, cpu_began = time.perf_counter(), time.process_time()
                arriving = dev_headlines() if new_headlines == "dev" else source
                for _ in range(SAMPLE_SEMANTIC // FEED_BATCH):
                    add_batch(probe, [next(arriving) for _ in range(FEED_BATCH)], at)
                total = (time.perf_counter() - began) / SAMPLE_SEMANTIC * 1e3
                cpu = (time.process_time() - cpu_began) / SAMPLE_SEMANTIC * 1e3
                probe.session.commit()
                db_bytes = path.stat().st_size / (size + SAMPLE_SEMANTIC)
        embed, near, embed_cpu, near_cpu = (
            spent[k] / SAMPLE_SEMANTIC * 1e3
            for k in ("embed", "neighbours", "embed cpu", "neighbours cpu")
        )
        print(
            f"| {size:,} | {embed:.1f} ({embed_cpu:.1f}) | {near:.1f} ({near_cpu:.1f}) "
            f"| {total - embed - near:.1f} | {total:.1f} ({cpu:.1f}) | {index_mib:.0f} "
            f"| {index_bytes / size:,.0f} | {db_bytes:,.0f} |"
        )


def main() -> None:
    """Parse sizes, run, print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="2000,10000")
    parser.add_argument("--method", choices=("lexical", "semantic"), default="lexical")
    parser.add_argument(
        "--new-headlines",
        choices=("dev", "synthetic"),
        default="dev",
        help="semantic: what the new entries say (dev: the STS dev set's real headlines, "
        "~11 word pieces; synthetic: pseudo-words, ~30 word pieces)",
    )
    parser.add_argument(
        "--embed-threads",
        type=int,
        default=None,
        help="semantic: threads a feed's headlines are embedded on (default: the encoder's, "
        "up to two)",
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.method == "semantic":
        run_semantic(sizes, args.new_headlines, args.embed_threads)
        return
    rows = run(sizes)
    print(
        f"| stored stories | ingest µs/entry (mean of {SAMPLE:,}) | merged of {SAMPLE:,} "
        "| SQLite bytes/story |"
    )
    print("|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r.stored:,} | {r.ingest_us:.0f} | {r.merged} | {r.db_bytes:,.0f} |")


if __name__ == "__main__":
    main()
