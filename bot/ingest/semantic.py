"""Semantic dedup: headline embeddings, their storage and nearest neighbours in the window.

`SemanticDedup` is built once per process and database (`from_settings`) and
handed to `bot.ingest.stories.ingest_entries`. It embeds each new entry's
headline plus the lead of its summary, proposes the stories whose vectors lie
nearest (within the time window) as extra candidates beside the story keys,
and gives `bot.ingest.dedup.best_match` each candidate's cosine. New stories'
vectors are stored in ``story_vector`` so other workers and later runs see them.

The in-memory index only proposes candidates: every cosine that decides is
recomputed from the stored vectors of the candidates, so an index that is a
little behind (rows another worker has not committed yet) costs recall at
worst, never a wrong merge.

A feed's new entries are decided together (`bot.ingest.story_batch`), and its
new stories are written only at the end: `FeedVectors` keeps their vectors in
memory meanwhile (a small index of its own), so a later entry of the same feed
finds them as it would find stored ones.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from bot.ingest.dedup import SEMANTIC_THRESHOLD, strip_ellipsis
from bot.ingest.embed import Encoder, load_encoder
from bot.ingest.parser import ParsedEntry
from bot.ingest.vector_index import VectorIndex
from bot.settings.model import DedupSettings
from bot.storage.models import StoryVector, table_of

logger = logging.getLogger(__name__)

NEIGHBOURS = 8  # nearest stories proposed per entry, beside the key candidates
# The neighbour search keeps in memory what ``story_vector`` holds (retention
# deletes old stories there), at most MAX_INDEXED vectors (843 B each: ~126 MB);
# beyond it the least recently published go.
MAX_INDEXED = 150_000
_LOAD_ROWS = 4096  # stored vectors read per step of a load (`SemanticDedup._sync`)
LEAD_WORDS = 24  # the summary's lead: its first sentence, at most this many words
# Vectors remembered by token ids (`SemanticDedup.embed_texts`): the same wire
# headline arriving from several feeds is run once. ~1.8 KB each: ~3.7 MB.
REMEMBERED = 2048
_TABLE = table_of(StoryVector)
# Core, built once: the ORM select cost 0.15 ms a call, this 0.02 ms.
_SINCE = (
    sa.select(_TABLE.c.story_id, _TABLE.c.published_at, _TABLE.c.vector)
    .where(_TABLE.c.story_id > sa.bindparam("after"))
    .order_by(_TABLE.c.story_id)
)
# A server-side cursor on PostgreSQL (psycopg would otherwise hold every row of a
# first load at once: peak 487 -> 339 MiB at 100,000); SQLite steps through anyway.
_STREAMED = {"stream_results": True, "max_row_buffer": _LOAD_ROWS}
_OLDEST = sa.select(sa.func.min(_TABLE.c.published_at))  # an index look-up
_VECTORS = sa.select(_TABLE.c.story_id, _TABLE.c.vector).where(
    _TABLE.c.story_id.in_(sa.bindparam("ids", expanding=True))
)
_INSERT = sa.insert(_TABLE)
_CHUNK = 500  # ids per IN list
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")


def embedding_text(title: str, summary: str = "") -> str:
    """Return what is embedded: the headline, then the first sentence of the summary."""
    lead = _SENTENCE_END.split(strip_ellipsis(summary), maxsplit=1)[0] if summary else ""
    words = lead.split()[:LEAD_WORDS]
    return f"{title.strip()}. {' '.join(words)}" if words else title.strip()


class SemanticDedup:
    """Embeddings for ingest: embed, propose neighbours, look up and store vectors."""

    def __init__(
        self,
        encoder: Encoder,
        *,
        threshold: float = SEMANTIC_THRESHOLD,
        remembered: int = REMEMBERED,
    ) -> None:
        self.encoder = encoder
        self.threshold = threshold
        self.remembered = remembered
        self._memory: OrderedDict[bytes, Any] = OrderedDict()  # token ids -> vector, LRU
        self._index = self._new_index()
        self._stale = True  # look for stored vectors before the next search
        self._own = VectorIndex(encoder.dim, capacity=64)  # a feed's new stories (FeedVectors)

    def embed(self, title: str, summary: str = "") -> Any:
        """Return the unit vector of an entry (float32)."""
        return self.embed_texts([embedding_text(title, summary)])[0]

    def embed_many(self, entries: Sequence[ParsedEntry]) -> Any:
        """Return the unit vectors of entries, one row each (a feed's new entries).

        Also marks the index stale: the first neighbour search of the batch
        loads what was stored since the last one.
        """
        self._stale = True
        return self.embed_texts([embedding_text(e.title, e.summary) for e in entries])

    def embed_texts(self, texts: Sequence[str]) -> Any:
        """Return the unit vectors of `texts`; token ids seen lately are not run again.

        Only with an encoder whose vector of a text depends on its token ids
        alone (`Encoder.per_text`): the remembered vector is then the one a new
        run would give, bit for bit. Texts that differ only in what the
        tokenizer folds (case, accents, spacing) share their ids.
        """
        import numpy as np

        encodings = self.encoder.tokenize(texts)
        if not self.encoder.per_text:
            return self.encoder.encode_tokens(encodings)
        keys = [np.asarray(e.ids, dtype=np.int32).tobytes() for e in encodings]
        known = {key: self._memory[key] for key in keys if key in self._memory}
        todo = {key: e for key, e in zip(keys, encodings, strict=True) if key not in known}
        if todo:
            vectors = self.encoder.encode_tokens(list(todo.values()))
            for key, vector in zip(todo, vectors, strict=True):
                known[key] = vector.copy()
        for key in keys:
            self._memory[key] = known[key]
            self._memory.move_to_end(key)
        while len(self._memory) > self.remembered:
            self._memory.popitem(last=False)
        out = np.empty((len(keys), self.encoder.dim), dtype=np.float32)
        for row, key in enumerate(keys):
            out[row] = known[key]
        return out

    def forget_index(self) -> None:
        """Drop the in-memory index; the next search reloads what is stored.

        After a rollback: a transaction that stored several feeds loaded the
        vectors its earlier feeds wrote, and those rows are gone.
        """
        self._index = self._new_index()
        self._stale = True

    def _new_index(self) -> VectorIndex:
        return VectorIndex(self.encoder.dim, limit=MAX_INDEXED + _LOAD_ROWS)

    def _sync(self, session: Session) -> None:
        """Load the vectors stored since the last look (this and other workers).

        Read and pruned a step at a time, so that a first load after a start
        holds one step's rows beside the index, not the whole table. Stories
        that retention deleted leave the index too: they can no longer be
        candidates, and would take the places of nearest ones that can.
        """
        connection = session.connection()
        oldest = connection.execute(_OLDEST).scalar()
        since = oldest.timestamp() if oldest is not None else None
        # stream_results: a server-side cursor on PostgreSQL (psycopg would otherwise
        # hold every row in memory at once); SQLite reads step by step anyway
        result = connection.execute(
            _SINCE, {"after": self._index.last_id}, execution_options=_STREAMED
        )
        for rows in result.partitions(_LOAD_ROWS):
            self._index.add([(int(i), t, bytes(v)) for i, t, v in rows])
            self._index.prune(MAX_INDEXED, since=since)
        self._index.prune(MAX_INDEXED, since=since)

    def neighbours(
        self, session: Session, vectors: Any, stamps: Sequence[datetime], window: timedelta
    ) -> list[list[int]]:
        """Return, for each of a feed's vectors, the ids of the stored stories nearest it.

        Only stories published within `window` of the entry's time (`stamps`)
        count. The stored vectors are read once per batch (`embed_many` marks
        the index stale), not per entry: a batch stores nothing until it is
        decided. Each vector is searched alone: its answer does not depend on
        the others (`VectorIndex.nearest_many`).
        """
        with self.encoder.single_thread():
            if self._stale:
                self._sync(session)
                self._stale = False
            windows = [(stamp - window, stamp + window) for stamp in stamps]
            return self._index.nearest_many(vectors, windows, NEIGHBOURS, floor=self.threshold)

    @staticmethod
    def to_bytes(vector: Any) -> bytes:
        """Serialise a vector for ``story_vector.vector`` (float16: 2 bytes a dimension)."""
        import numpy as np

        return bytes(np.asarray(vector, dtype=np.float16).tobytes())


class FeedVectors:
    """One feed batch's vectors: its entries', the candidates' as stored, its new stories'.

    The decisions of `bot.ingest.story_batch` read it instead of the database:
    the stored stories near each entry are searched up front (the index, loaded
    once), the candidates' stored vectors are read in one statement (`read`), and
    each story the batch creates joins an index of its own (`add`), searched
    beside the stored one with the same code filter, so the neighbours and
    cosines are those the stories would give once stored (float16 included).
    """

    def __init__(
        self,
        session: Session,
        method: SemanticDedup,
        entries: Sequence[ParsedEntry],
        window: timedelta,
    ) -> None:
        self.method, self.window = method, window
        self.vectors = method.embed_many(entries)
        self.stamps = [e.published_at for e in entries]
        self.stored_near = method.neighbours(session, self.vectors, self.stamps, window)
        self.known: dict[int, Any] = {}  # story id -> its vector as stored (float32)
        self.new_rows: list[tuple[int, datetime, bytes]] = []  # (provisional id, time, vector)
        self._own = method._own
        self._own.size, self._own.last_id = 0, 0  # reused: building one costs ~8 ms

    def near_ids(self) -> set[int]:
        return {story_id for near in self.stored_near for story_id in near}

    def read(self, session: Session, story_ids: Iterable[int]) -> None:
        """Read the stored vectors of the stories that can be candidates."""
        wanted = sorted(set(story_ids))
        for start in range(0, len(wanted), _CHUNK):
            ids = wanted[start : start + _CHUNK]
            for i, v in session.connection().execute(_VECTORS, {"ids": ids}).all():
                self.known[int(i)] = np_from_bytes(bytes(v))

    def near(self, index: int) -> list[int]:
        """The stories nearest entry `index`: stored ones and this batch's, best NEIGHBOURS."""
        stored = self.stored_near[index]
        if not self._own.size:
            return stored
        vector, stamp = self.vectors[index], self.stamps[index]
        with self.method.encoder.single_thread():
            lo, hi = stamp - self.window, stamp + self.window
            own = self._own.nearest(vector, lo, hi, NEIGHBOURS, floor=self.method.threshold)
        found = [*stored, *own]
        if len(found) <= NEIGHBOURS:
            return found
        cosine = self.cosines(index, found)
        return sorted(found, key=lambda story_id: -cosine[story_id])[:NEIGHBOURS]

    def cosines(self, index: int, story_ids: Iterable[int]) -> dict[int, float]:
        """The cosine of entry `index` with each of `story_ids` that has a vector."""
        vector = self.vectors[index]
        return {i: float(self.known[i] @ vector) for i in story_ids if i in self.known}

    def add(self, index: int, story_id: int) -> None:
        """Entry `index` starts story `story_id` (provisional until written)."""
        data = SemanticDedup.to_bytes(self.vectors[index])
        row = (story_id, self.stamps[index], data)
        # its code is a BLAS product: on two threads, OpenBLAS's idle worker then
        # spins on the other core for a while, CPU time counted to this process
        with self.method.encoder.single_thread():
            self._own.add([row])
        self.known[story_id] = np_from_bytes(data)
        self.new_rows.append(row)

    def write(self, session: Session, real: dict[int, int]) -> None:
        """Store the new stories' vectors under their stored ids."""
        rows = [
            {"story_id": real[i], "published_at": stamp, "vector": data}
            for i, stamp, data in self.new_rows
        ]
        if rows:
            session.execute(_INSERT, rows)


def np_from_bytes(data: bytes) -> Any:
    """Read a stored vector back as float32."""
    import numpy as np

    return np.frombuffer(data, dtype=np.float16).astype(np.float32)


def from_settings(settings: DedupSettings) -> SemanticDedup | None:
    """Build the semantic method when configured and available; log which method is active."""
    if settings.method == "lexical":
        logger.info("dedup method: lexical (dedup.method = lexical)")
        return None
    encoder, reason = load_encoder(settings.model_path)
    if encoder is None:
        if settings.method == "semantic":
            logger.warning("dedup method: lexical; semantic requested but %s", reason)
        else:
            logger.info("dedup method: lexical (%s)", reason)
        return None
    logger.info("dedup method: semantic (%s)", reason)
    return SemanticDedup(encoder)
