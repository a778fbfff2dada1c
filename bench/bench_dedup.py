"""Benchmark StoryIndex inserts and lookups at 10 k, 100 k and 1 M stored stories.

Run from the repo root: ``python bench/bench_dedup.py [--sizes 10000,100000,1000000]``.
Headlines are synthesised from a Zipf-distributed vocabulary of pseudo-words, so
common words recur across stories as they do in real feeds.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import random
import sys
import time
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.ingest.dedup import Fingerprint, StoryIndex, fingerprint

VOCABULARY = 30_000
SAMPLE = 2_000
ZIPF_OFFSET = 100
SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in ("a", "e", "i", "o", "u", "an", "or")]
T0 = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the results table."""

    stored: int
    insert_us: float
    find_us: float
    candidates: float
    index_bytes: float
    fingerprint_bytes: float


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


def fill(index: StoryIndex, fps: list[Fingerprint]) -> None:
    """Insert the stories, one published every 10 seconds."""
    for story_id, fp in enumerate(fps):
        index.add(story_id, fp, T0 + timedelta(seconds=10 * story_id))


def fingerprint_bytes(source: Iterator[str], count: int = 10_000) -> float:
    """Return the mean traced size of one fingerprint (title only)."""
    texts = [next(source) for _ in range(count)]
    tracemalloc.start()
    fps = [fingerprint(text) for text in texts]
    traced, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return (traced - sys.getsizeof(fps)) / count


def measure(index: StoryIndex, source: Iterator[str]) -> tuple[float, float, float]:
    """Time SAMPLE inserts and SAMPLE 48 h lookups; return µs/insert, µs/find, key hits/find."""
    start = len(index)
    fps: list[Fingerprint] = [fingerprint(next(source)) for _ in range(SAMPLE)]
    # Like timeit, keep the cyclic GC out of the timings: a full collection over
    # millions of live objects would otherwise land on a few unlucky inserts.
    gc.disable()
    began = time.perf_counter()
    for offset, fp in enumerate(fps):
        index.add(start + offset, fp, T0 + timedelta(seconds=10 * (start + offset)))
    insert_us = (time.perf_counter() - began) / SAMPLE * 1e6
    probes = [fingerprint(next(source)) for _ in range(SAMPLE)]
    now = T0 + timedelta(seconds=10 * len(index))
    began = time.perf_counter()
    for fp in probes:
        index.find(fp, published_at=now)
    find_us = (time.perf_counter() - began) / SAMPLE * 1e6
    gc.enable()
    candidates = sum(len(index.candidates(fp)) for fp in probes) / SAMPLE
    return insert_us, find_us, candidates


def run(sizes: list[int]) -> list[Row]:
    """Fill a fresh index to each size and measure it."""
    rng = random.Random(20260120)
    source = headlines(rng, make_vocabulary(rng))
    per_fingerprint = fingerprint_bytes(source)
    rows = []
    for size in sizes:
        began = time.perf_counter()
        fps = [fingerprint(next(source)) for _ in range(size)]
        # Trace only the index's own structures; fingerprints are measured above.
        index = StoryIndex()
        tracemalloc.start()
        fill(index, fps)
        index_bytes, _ = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"filled {size:,} in {time.perf_counter() - began:.0f} s", file=sys.stderr)
        insert_us, find_us, candidates = measure(index, source)
        rows.append(Row(size, insert_us, find_us, candidates, index_bytes / size, per_fingerprint))
        del index, fps
    return rows


def main() -> None:
    """Parse sizes, run, print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    sizes = [int(s) for s in parser.parse_args().sizes.split(",")]
    rows = run(sizes)
    print(
        "| stored stories | insert µs (mean of 2,000) | find µs (48 h window) | key hits/find "
        "| index bytes/story | + fingerprint bytes |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r.stored:,} | {r.insert_us:.1f} | {r.find_us:.1f} | {r.candidates:.1f} "
            f"| {r.index_bytes:,.0f} | {r.fingerprint_bytes:,.0f} |"
        )


if __name__ == "__main__":
    main()
