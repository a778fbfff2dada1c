"""Benchmark the neighbour search alone: `VectorIndex.nearest_many` at 100 k stories.

Run from the repo root: ``python bench/bench_vector_index.py [--stories 100000]``.
The index holds vectors drawn like real headline embeddings
(`bench_dedup.realistic_vectors`); the queries are dev-set headlines embedded
by the real encoder (no stored story near them) and as many planted
near-duplicates of stored stories (cosine ~0.9), searched ten per call as a
feed's entries are. Prints CPU ms per query for each `FIRST_WORDS` (the words of
the code read for every story), rounds interleaved, median (min–max), and checks
that every setting gives the same answers.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_dedup import dev_headlines, realistic_vectors
from bot.ingest import vector_index
from bot.ingest.embed import load_encoder

T0 = datetime(2026, 1, 1, tzinfo=UTC)
FEED = 10  # queries per call


def main() -> None:
    import numpy as np

    from bench._common import print_machine

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stories", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--first-words", default="2,3")
    args = parser.parse_args()
    print_machine()
    encoder, reason = load_encoder("")
    if encoder is None:
        raise SystemExit(f"no encoder: {reason}")
    vectors = realistic_vectors(encoder, args.stories)
    half = args.queries // 2
    rng = np.random.default_rng(3)
    titles = list(itertools.islice(dev_headlines(), 5000, 5000 + half))
    planted = vectors[rng.choice(args.stories, half, replace=False)]
    planted = planted + 0.03 * rng.standard_normal(planted.shape).astype(np.float32)
    planted /= np.linalg.norm(planted, axis=1, keepdims=True)
    queries = np.concatenate([encoder.encode(titles), planted])
    rows = [
        (i + 1, T0 + timedelta(seconds=i), v.astype(np.float16).tobytes())
        for i, v in enumerate(vectors)
    ]
    window = [(T0 - timedelta(days=1), T0 + timedelta(days=3))] * FEED
    indexes = {}
    for words in (int(w) for w in args.first_words.split(",")):
        vector_index.FIRST_WORDS = words  # read when an index is built
        indexes[words] = vector_index.VectorIndex(encoder.dim)
        indexes[words].add(rows)
    spent: dict[int, list[float]] = {words: [] for words in indexes}
    answers = {}
    for _ in range(args.rounds):
        for words, index in indexes.items():
            began = time.process_time()
            answers[words] = [
                found
                for start in range(0, len(queries), FEED)
                for found in index.nearest_many(queries[start : start + FEED], window, 8, 0.74)
            ]
            spent[words].append((time.process_time() - began) / len(queries) * 1e3)
    assert all(a == answers[min(answers)] for a in answers.values()), "answers differ"
    found = sum(map(len, answers[min(answers)]))
    print(f"{args.stories:,} stories, {len(queries)} queries, {found} neighbours found")
    print("| FIRST_WORDS | CPU ms per query, median (min–max) |\n|---:|---|")
    for words, times in spent.items():
        print(f"| {words} | {statistics.median(times):.3f} ({min(times):.3f}–{max(times):.3f}) |")


if __name__ == "__main__":
    main()
