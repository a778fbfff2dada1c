"""Benchmark ingest's story lookup and insert at 2 k and 10 k stored stories (any sizes by flag).

Run from the repo root: ``python bench/bench_dedup.py [--sizes 2000,10000]``.
Every headline goes through `bot.ingest.stories.ingest_entries` on a scratch
SQLite database (the code a refresh runs: candidate keys, the 48 h window,
`best_match`). Headlines are synthesised from a Zipf-distributed vocabulary of
pseudo-words, so common words recur across stories as they do in real feeds.
"""

from __future__ import annotations

import argparse
import itertools
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

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


def main() -> None:
    """Parse sizes, run, print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="2000,10000")
    sizes = [int(s) for s in parser.parse_args().sizes.split(",")]
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
