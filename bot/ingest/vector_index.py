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
from collections.abc import Sequence
from datetime import datetime
from typing import Any

FIRST_WORDS = 2  # the first filter reads 128 bits of each code (≤ 3: its counts are uint8)
SIGMAS = 3.5  # 4.5 cost twice the time at 100 k stories (BENCHMARKS.md "Dedup")
MAX_EXACT = 4096  # exact cosines per query at most
_SEED = 20260120  # the projection is fixed: codes stored in memory only, rebuilt at start


class VectorIndex:
    """Unit vectors of recent stories, in memory; arrays grow by doubling."""

    def __init__(self, dim: int, capacity: int = 1024, limit: int | None = None) -> None:
        import numpy as np

        self._np = np
        self.dim = dim
        # the arrays never grow past `limit` rows (beyond what one `add` needs):
        # doubling from 1,024 would reserve 262,144 rows for 150,000 (address
        # space: rows never written are not resident)
        self.limit = limit
        self.words = max(1, -(-dim // 64))  # 64-bit words per code: one bit per dimension
        rng = np.random.default_rng(_SEED)
        self._projection = rng.standard_normal((dim, self.words * 64)).astype(np.float32)
        self.size = 0
        self.last_id = 0
        self.span = (float("inf"), float("-inf"))  # earliest and latest published_at indexed
        self.ids = np.zeros(capacity, dtype=np.int64)
        self.times = np.zeros(capacity, dtype=np.float64)  # POSIX seconds of published_at
        self.vectors = np.zeros((capacity, dim), dtype=np.float16)
        self.first = min(FIRST_WORDS, self.words)  # words read for every story
        self.codes = np.zeros((self.words, capacity), dtype=np.uint64)
        # the first pass's buffers (`_first_pass`), sized to the capacity when first used
        self._scratch = np.empty(0, dtype=np.uint64)
        self._counts = np.empty((2, 0), dtype=np.uint8)
        self._passed = np.empty(0, dtype=bool)

    def bytes_per_story(self) -> int:
        """Memory per indexed story: id, date, float16 vector, code, first-pass scratch."""
        return 8 + 8 + 2 * self.dim + 8 * self.words + 8 + 2 + 1

    def code(self, vectors: Any) -> Any:
        """Return the codes of (m, dim) vectors as a (words, m) uint64 array."""
        np = self._np
        bits = np.packbits(vectors.astype(np.float32) @ self._projection > 0, axis=1)
        return np.ascontiguousarray(bits.view(np.uint64).T)

    def _reserve(self, extra: int) -> None:
        capacity = len(self.ids)
        needed = self.size + extra
        if needed <= capacity:
            return
        while capacity < needed:
            capacity *= 2
        if self.limit is not None:
            capacity = max(needed, min(capacity, self.limit))
        self._resize(capacity)

    def _resize(self, capacity: int) -> None:
        """Move the first `size` rows into arrays of `capacity` rows."""
        np = self._np
        n = self.size
        ids, times = np.zeros(capacity, dtype=np.int64), np.zeros(capacity, dtype=np.float64)
        vectors = np.zeros((capacity, self.dim), dtype=np.float16)
        codes = np.zeros((self.words, capacity), dtype=np.uint64)
        ids[:n], times[:n], vectors[:n] = self.ids[:n], self.times[:n], self.vectors[:n]
        codes[:, :n] = self.codes[:, :n]
        self.ids, self.times, self.vectors, self.codes = ids, times, vectors, codes
        if len(self._scratch) > capacity:  # the first pass's buffers follow on next use
            self._scratch = np.empty(0, dtype=np.uint64)
            self._counts = np.empty((2, 0), dtype=np.uint8)
            self._passed = np.empty(0, dtype=bool)

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

    def prune(self, keep: int, since: float | None = None) -> None:
        """Keep at most the `keep` most recently published vectors, none before `since`.

        `since` is in POSIX seconds. Vectors older than it go only once they
        are an eighth of the index (or `keep` is exceeded): each drop moves
        every row, and a refresh calls this once per feed. The arrays shrink
        when a quarter or less of them is used.
        """
        np = self._np
        n = self.size
        times = self.times[:n]
        stale = 0
        if since is not None and n and self.span[0] < since:
            stale = int(np.count_nonzero(times < since))
        if n <= keep and stale < max(1024, n // 8):
            return
        if stale and since is not None:
            order = np.flatnonzero(times >= since)
            if len(order) > keep:
                order = order[np.argsort(times[order], kind="stable")[-keep:]]
        else:
            order = np.argsort(times, kind="stable")[-keep:]
        rows = np.sort(order)
        m = len(rows)
        self.ids[:m] = self.ids[rows]
        self.times[:m] = self.times[rows]
        self.vectors[:m] = self.vectors[rows]
        self.codes[:, :m] = self.codes[:, rows]
        self.size = m
        self.span = (self.times[:m].min(), self.times[:m].max()) if m else (math.inf, -math.inf)
        if m <= len(self.ids) // 4 and len(self.ids) > 1024:
            self._resize(max(1024, 2 * m))

    def _first_pass(self, code: Any, most: int) -> tuple[Any, Any]:
        """Positions of the stories whose first words differ from `code`'s in ≤ `most` bits.

        The one pass over the whole index, with buffers kept between queries
        (no allocation per query); returns the positions and every story's count.
        """
        np = self._np
        n = self.size
        if len(self._scratch) < n:
            self._scratch = np.empty(len(self.ids), dtype=np.uint64)
            self._counts = np.empty((2, len(self.ids)), dtype=np.uint8)
            self._passed = np.empty(len(self.ids), dtype=bool)
        scratch, total, counts = self._scratch[:n], self._counts[0, :n], self._counts[1, :n]
        for word in range(self.first):
            np.bitwise_xor(self.codes[word, :n], code[word], out=scratch)
            np.bitwise_count(scratch, out=counts if word else total)
            if word:
                np.add(total, counts, out=total)
        return np.flatnonzero(np.less_equal(total, most, out=self._passed[:n])), total

    def nearest(self, vector: Any, lo: datetime, hi: datetime, k: int, floor: float) -> list[int]:
        """Return ids of up to `k` stories in [lo, hi] with cosine ≥ floor, nearest first."""
        return self.nearest_many([vector], [(lo, hi)], k, floor)[0]

    def nearest_many(
        self, vectors: Any, windows: Sequence[tuple[datetime, datetime]], k: int, floor: float
    ) -> list[list[int]]:
        """`nearest` for each of `vectors` (a feed's entries) within its (lo, hi) window.

        Two filters before the exact cosine, each keeping nearly every story
        whose cosine reaches `floor` (`bound`): the first FIRST_WORDS words of
        the codes over the whole index, then the rest of the words over the
        stories that passed. Each vector is searched alone (its code from its
        own product), so its answer does not depend on the others.
        """
        np = self._np
        if not self.size:
            return [[] for _ in windows]
        most_first, most = bound(64 * self.first, floor), bound(64 * self.words, floor)
        found_all = []
        for vector, (lo, hi) in zip(vectors, windows, strict=True):
            vector = np.asarray(vector, dtype=np.float32)
            code = self.code(vector[None, :])[:, 0]
            found, counted = self._first_pass(code, most_first)
            distance = counted[found].astype(np.uint16)
            if self.first < self.words and len(found):
                for word in range(self.first, self.words):
                    distance += np.bitwise_count(self.codes[word, found] ^ code[word])
                keep = distance <= most
                found, distance = found[keep], distance[keep]
            times = self.times[found]
            inside = (times >= lo.timestamp()) & (times <= hi.timestamp())
            found, distance = found[inside], distance[inside]
            if len(found) > MAX_EXACT:  # a floor so low that the codes cannot narrow it down
                closest = np.argpartition(distance, MAX_EXACT)[:MAX_EXACT]
                found = found[closest]
            cosines = self.vectors[found].astype(np.float32) @ vector
            order = np.argsort(-cosines)[:k]
            found_all.append([int(self.ids[found[i]]) for i in order if cosines[i] >= floor])
        return found_all


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
