"""Nearest stories by headline embedding: sign-bit codes to shortlist, exact cosine to decide.

Each story's unit vector is kept twice: as float16 (for the exact cosine of the
few shortlisted) and as a binary code, the signs of a fixed random projection
of the vector (SimHash: the Hamming distance between two codes estimates the
angle between the vectors). A query XORs its code with every story's code,
counts the differing bits, keeps only the stories that differ in few enough
bits to possibly reach the cosine floor (`bound`), and computes their exact
cosines. The codes are stored word by word (one contiguous uint64 array per
64 bits), so the first pass reads 16 bytes per story instead of 1.5 KB.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

FIRST_WORDS = 2  # the first filter reads 128 bits of each code
SIGMAS = 3.5  # 4.5 cost twice the time at 100 k stories (BENCHMARKS.md "Dedup")
MAX_EXACT = 4096  # exact cosines per query at most
_SEED = 20260120  # the projection is fixed: codes stored in memory only, rebuilt at start


class VectorIndex:
    """Unit vectors of recent stories, in memory; arrays grow by doubling."""

    def __init__(self, dim: int, capacity: int = 1024) -> None:
        import numpy as np

        self._np = np
        self.dim = dim
        self.words = max(1, -(-dim // 64))  # 64-bit words per code: one bit per dimension
        rng = np.random.default_rng(_SEED)
        self._projection = rng.standard_normal((dim, self.words * 64)).astype(np.float32)
        self.size = 0
        self.last_id = 0
        self.span = (float("inf"), float("-inf"))  # earliest and latest published_at indexed
        self.ids = np.zeros(capacity, dtype=np.int64)
        self.times = np.zeros(capacity, dtype=np.float64)  # POSIX seconds of published_at
        self.vectors = np.zeros((capacity, dim), dtype=np.float16)
        self.codes = np.zeros((self.words, capacity), dtype=np.uint64)

    def bytes_per_story(self) -> int:
        """Memory per indexed story: id, date, float16 vector, code."""
        return 8 + 8 + 2 * self.dim + 8 * self.words

    def code(self, vectors: Any) -> Any:
        """Return the codes of (m, dim) vectors as a (words, m) uint64 array."""
        np = self._np
        bits = np.packbits(vectors.astype(np.float32) @ self._projection > 0, axis=1)
        return np.ascontiguousarray(bits.view(np.uint64).T)

    def _reserve(self, extra: int) -> None:
        np = self._np
        capacity = len(self.ids)
        if self.size + extra <= capacity:
            return
        while capacity < self.size + extra:
            capacity *= 2
        n = self.size
        ids, times = np.zeros(capacity, dtype=np.int64), np.zeros(capacity, dtype=np.float64)
        vectors = np.zeros((capacity, self.dim), dtype=np.float16)
        codes = np.zeros((self.words, capacity), dtype=np.uint64)
        ids[:n], times[:n], vectors[:n], codes[:, :n] = (
            self.ids[:n],
            self.times[:n],
            self.vectors[:n],
            self.codes[:, :n],
        )
        self.ids, self.times, self.vectors, self.codes = ids, times, vectors, codes

    def add(self, rows: list[tuple[int, datetime, bytes]]) -> None:
        """Add (story id, published_at, float16 vector bytes) rows."""
        np = self._np
        if not rows:
            return
        self._reserve(len(rows))
        n, m = self.size, len(rows)
        block = np.frombuffer(b"".join(v for _, _, v in rows), dtype=np.float16)
        self.vectors[n : n + m] = block.reshape(m, self.dim)
        self.ids[n : n + m] = [i for i, _, _ in rows]
        self.times[n : n + m] = [t.timestamp() for _, t, _ in rows]
        self.codes[:, n : n + m] = self.code(self.vectors[n : n + m])
        self.size += m
        added = self.times[n : n + m]
        self.span = (min(self.span[0], added.min()), max(self.span[1], added.max()))
        self.last_id = max(self.last_id, int(self.ids[n : n + m].max()))

    def prune(self, keep: int) -> None:
        """Keep the `keep` most recently published vectors (bounded memory, any clock)."""
        np = self._np
        if self.size > keep:
            newest = np.sort(np.argsort(self.times[: self.size])[-keep:])
            self.ids[:keep] = self.ids[newest]
            self.times[:keep] = self.times[newest]
            self.vectors[:keep] = self.vectors[newest]
            self.codes[:, :keep] = self.codes[:, newest]
            self.size = keep
            self.span = (self.times[:keep].min(), self.times[:keep].max())

    def _differing(self, code: Any, words: range, at: Any = None) -> Any:
        """Bits differing from `code` in the given words, for every story (or those `at`)."""
        np = self._np
        n = self.size if at is None else len(at)
        total = np.zeros(n, dtype=np.uint16)
        scratch = np.empty(n, dtype=np.uint64)
        counts = np.empty(n, dtype=np.uint8)
        for word in words:
            stored = self.codes[word, : self.size] if at is None else self.codes[word, at]
            np.bitwise_xor(stored, code[word], out=scratch)
            np.bitwise_count(scratch, out=counts)
            total += counts
        return total

    def nearest(self, vector: Any, lo: datetime, hi: datetime, k: int, floor: float) -> list[int]:
        """Return ids of up to `k` stories in [lo, hi] with cosine ≥ floor, nearest first.

        Two filters before the exact cosine, each keeping nearly every story
        whose cosine reaches `floor` (`bound`):
        the first FIRST_WORDS words of the codes over the whole index, then the
        rest of the words over the stories that passed.
        """
        np = self._np
        if not self.size:
            return []
        vector = np.asarray(vector, dtype=np.float32)
        code = self.code(vector[None, :])[:, 0]
        first = range(min(FIRST_WORDS, self.words))
        distance = self._differing(code, first)
        found = np.flatnonzero(distance <= bound(64 * len(first), floor))
        if len(first) < self.words and len(found):
            rest = self._differing(code, range(len(first), self.words), found)
            distance = distance[found] + rest
            keep = distance <= bound(64 * self.words, floor)
            found, distance = found[keep], distance[keep]
        else:
            distance = distance[found]
        times = self.times[found]
        inside = (times >= lo.timestamp()) & (times <= hi.timestamp())
        found, distance = found[inside], distance[inside]
        if len(found) > MAX_EXACT:  # a floor so low that the codes cannot narrow it down
            closest = np.argpartition(distance, MAX_EXACT)[:MAX_EXACT]
            found = found[closest]
        cosines = self.vectors[found].astype(np.float32) @ vector
        order = np.argsort(-cosines)[:k]
        return [int(self.ids[found[i]]) for i in order if cosines[i] >= floor]


def bound(bits: int, floor: float) -> int:
    """The most differing bits (of `bits`) a story with cosine ≥ floor shows, bar 3.5 sigma.

    Each bit of the code differs with probability angle / π (random
    hyperplanes), so the count is binomial; 3.5 standard deviations above its
    mean it is exceeded by about 1 story in 4,000 at exactly the floor, and 1
    in 600,000 at cosine 0.80 (floor 0.74, 128 bits). Such a story can still be
    a candidate through the story keys.
    """
    if floor <= -1.0:
        return bits
    p = math.acos(min(1.0, floor)) / math.pi
    return min(bits, math.ceil(bits * p + SIGMAS * math.sqrt(bits * p * (1 - p))))
