"""The cheaper semantic path: the int8 onnxruntime encoder, its cached graph, the code index.

The encoder tests need the model (`semantic_or_skip`: they fail instead of
skipping in CI); the index tests need only numpy.
"""

from __future__ import annotations

import math
import threading
from datetime import timedelta
from pathlib import Path

import pytest

from bot.ingest import semantic
from bot.ingest.dedup import candidate_keys, fingerprint
from bot.ingest.embed import load_encoder, onnx_available, packaged_model_dir
from bot.ingest.parser import ParsedEntry
from bot.ingest.stories import ingest_entries
from bot.ingest.topics import TopicMatcher
from bot.ingest.vector_index import VectorIndex, bound
from tests.support.dedupkit import T0, WINDOW, IngestProbe, semantic_or_skip

HEADLINES = [
    "Netflix raises subscription prices",
    "Netflix hikes monthly fees",
    "Floods displace thousands in Bangladesh",
    "Kurdish residents in Syria's Qamishli step up patrols as pressure from Damascus grows",
    "Egypt court orders Mubarak release",
]


@pytest.fixture(scope="module")
def method() -> semantic.SemanticDedup:
    return semantic_or_skip()


def test_the_int8_encoder_is_active_and_agrees_with_the_float_model(
    method: semantic.SemanticDedup,
) -> None:
    np = pytest.importorskip("numpy")
    assert onnx_available()  # the [semantic] extra brings onnxruntime and onnx
    assert method.encoder.runtime == "onnxruntime int8"
    plain, reason = load_encoder("", "numpy")
    assert plain is not None and plain.runtime == "numpy float32", reason
    fast, slow = method.encoder.encode(HEADLINES), plain.encode(HEADLINES)
    agreement = (fast * slow).sum(axis=1)
    assert agreement.min() > 0.98  # measured 0.989 at worst on 400 dev-set headlines
    # the ranking of a paraphrase over an unrelated headline is the same
    assert float(fast[0] @ fast[1]) > 0.7 > float(fast[0] @ fast[2])
    assert np.allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-4)


def test_the_start_log_names_the_runtime() -> None:
    encoder, reason = load_encoder("")
    if encoder is None:
        pytest.skip(reason)
    assert reason.endswith(encoder.runtime)
    assert reason.endswith("onnxruntime int8")


def test_the_graph_is_built_once_and_cached_by_the_weights_hash(tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    from bot.ingest.onnx_graph import model_hash, prepared_model

    model = packaged_model_dir()
    if model is None:
        pytest.skip("no packaged model")
    older = tmp_path / f"{model.name}-0123456789abcdef-int8.onnx"
    older.write_bytes(b"a graph of an older version")
    first = prepared_model(model, tmp_path)
    assert first.parent == tmp_path and model_hash(model) in first.name
    built = first.stat().st_mtime_ns
    assert prepared_model(model, tmp_path) == first
    assert first.stat().st_mtime_ns == built  # found, not rebuilt
    # no scratch files left, and the older graph is gone
    assert [p.name for p in tmp_path.iterdir()] == [first.name]


def test_a_paraphrase_earlier_in_the_same_batch_is_found(
    tmp_path: Path, method: semantic.SemanticDedup
) -> None:
    # The table is read once per batch: a story the batch itself created must
    # still be proposed to a later entry of the batch.
    a, b = "Netflix raises subscription prices", "Netflix hikes monthly fees"
    assert not set(candidate_keys(fingerprint(a))) & set(candidate_keys(fingerprint(b)))
    fresh = semantic.SemanticDedup(method.encoder)
    with IngestProbe(tmp_path / "batch.db", semantic=fresh) as probe:
        probe.add("Floods displace thousands in Bangladesh", published_at=T0)  # an older story
        entries = [
            ParsedEntry(
                guid=f"g{i}",
                link=None,
                title=title,
                summary="",
                published_at=T0 + timedelta(minutes=i),
                categories=(),
                author=None,
            )
            for i, title in enumerate([a, "Egypt court orders Mubarak release", b])
        ]
        outcome = ingest_entries(
            probe.session,
            feed=probe.feeds[1],
            entries=entries,
            matcher=TopicMatcher.from_topics([]),
            now=T0,
            window=WINDOW,
            semantic=fresh,
        )
    assert (outcome.new_entries, outcome.new_stories, outcome.merged) == (3, 2, 1)
    assert len(set(outcome.story_ids)) == 2


class _CountingSession:
    """The encoder's onnxruntime session, counting the runs it is asked for."""

    def __init__(self, session: object) -> None:
        self.session, self.runs = session, 0
        self.lock = threading.Lock()  # a feed's texts run on two threads

    def run(self, *args: object, **kwargs: object) -> object:
        with self.lock:
            self.runs += 1
        return self.session.run(*args, **kwargs)  # type: ignore[attr-defined]


def test_a_text_whose_token_ids_were_seen_is_not_run_again(
    method: semantic.SemanticDedup, monkeypatch: pytest.MonkeyPatch
) -> None:
    np = pytest.importorskip("numpy")
    counting = _CountingSession(method.encoder.session)  # type: ignore[attr-defined]
    monkeypatch.setattr(method.encoder, "session", counting)
    fresh = semantic.SemanticDedup(method.encoder)
    a = "Netflix raises subscription prices"
    # the third folds to the first's token ids (uncased model, spacing)
    texts = [a, "Floods displace thousands in Bangladesh", "NETFLIX  raises subscription prices"]
    first = fresh.embed_texts(texts)
    assert counting.runs == 2
    again = fresh.embed_texts([a, texts[1]])
    assert counting.runs == 2
    alone = method.encoder.encode(texts[:2])  # the encoder itself remembers nothing
    assert counting.runs == 4
    # bit for bit what a run gives
    assert np.array_equal(first[[0, 1, 0]], np.stack([alone[0], alone[1], alone[0]]))
    assert np.array_equal(first[2], alone[0]) and np.array_equal(again, alone)


def test_remembered_vectors_are_bounded(
    method: semantic.SemanticDedup, monkeypatch: pytest.MonkeyPatch
) -> None:
    counting = _CountingSession(method.encoder.session)  # type: ignore[attr-defined]
    monkeypatch.setattr(method.encoder, "session", counting)
    fresh = semantic.SemanticDedup(method.encoder, remembered=2)
    fresh.embed_texts(HEADLINES[:3])
    assert counting.runs == 3
    fresh.embed_texts([HEADLINES[2], HEADLINES[1]])  # the two most recent are kept
    assert counting.runs == 3
    fresh.embed_texts([HEADLINES[0]])  # the oldest went
    assert counting.runs == 4


def test_bound_keeps_the_floor_and_shrinks_with_it() -> None:
    assert bound(128, -1.0) == 128
    assert bound(384, 1.0) == math.ceil(0.0)
    assert bound(128, 0.9) < bound(128, 0.74) < bound(128, 0.5) <= 128
    # cosine 0.74 is an angle of 42 degrees: 23.5 % of 128 bits (30.1) differ on
    # average, with a standard deviation of 4.8
    assert bound(128, 0.74) == math.ceil(30.1 + 3.5 * 4.8)


def test_the_code_index_finds_what_brute_force_finds() -> None:
    np = pytest.importorskip("numpy")
    rng = np.random.default_rng(3)
    dim, stories, queries = 384, 20_000, 60
    base = rng.standard_normal((stories, dim)).astype(np.float32)
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    # each query has stories planted at cosines from 0.6 to 0.95 around it
    targets = base[:queries]
    for q in range(queries):
        for j, cosine in enumerate((0.6, 0.7, 0.745, 0.76, 0.8, 0.9, 0.95)):
            noise = rng.standard_normal(dim).astype(np.float32)
            noise -= (noise @ targets[q]) * targets[q]
            noise /= np.linalg.norm(noise)
            base[queries + q * 7 + j] = cosine * targets[q] + math.sqrt(1 - cosine**2) * noise
    index = VectorIndex(dim)
    index.add(
        [
            (i + 1, T0 + timedelta(seconds=i), v.astype(np.float16).tobytes())
            for i, v in enumerate(base)
        ]
    )
    stored = base.astype(np.float16).astype(np.float32)
    lo, hi = T0, T0 + timedelta(days=1)
    for q in range(queries):
        cosines = stored @ targets[q]
        expected = [int(i) + 1 for i in np.argsort(-cosines)[:8] if cosines[i] >= 0.74]
        found = index.nearest(targets[q], lo, hi, 8, floor=0.74)
        assert found == expected
        assert len(found) >= 5  # itself and the planted 0.745 ... 0.95
    # the window still applies: only stories published in its first 30 seconds
    early = index.nearest(targets[40], lo, T0 + timedelta(seconds=30), 8, floor=0.74)
    assert early == []
    assert index.nearest(targets[20], lo, T0 + timedelta(seconds=30), 8, floor=0.74) == [21]


def test_a_feed_searched_at_once_gets_each_entry_s_own_answer() -> None:
    """`nearest_many` (one call per feed, buffers kept) answers as `nearest` and brute force.

    Also across growth (the first pass's buffers are re-sized) and pruning, and
    with each entry's own window.
    """
    np = pytest.importorskip("numpy")
    rng = np.random.default_rng(5)
    dim = 384
    base = rng.standard_normal((3_000, dim)).astype(np.float32)
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    queries = base[:40] + 0.02 * rng.standard_normal((40, dim)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    index = VectorIndex(dim, capacity=16)

    def add(start: int, stop: int) -> None:
        index.add(
            [
                (i + 1, T0 + timedelta(seconds=i), base[i].astype(np.float16).tobytes())
                for i in range(start, stop)
            ]
        )

    def brute(vector: object, lo: int, hi: int) -> list[int]:
        kept = index.ids[: index.size] - 1
        kept = kept[(kept >= lo) & (kept <= hi)]
        cosines = base[kept].astype(np.float16).astype(np.float32) @ vector
        return [int(kept[i]) + 1 for i in np.argsort(-cosines)[:8] if cosines[i] >= 0.74]

    for stop in (20, 1_000, 3_000):  # the index grows between feeds
        add(index.size, stop)
        # odd queries: a window around their own story; even ones: anywhere
        starts = rng.integers(0, stop, size=len(queries))
        spans = [
            (j - 300, j + 300) if j % 2 else (int(s), int(s) + 600) for j, s in enumerate(starts)
        ]
        windows = [(T0 + timedelta(seconds=a), T0 + timedelta(seconds=b)) for a, b in spans]
        at_once = index.nearest_many(queries, windows, 8, floor=0.74)
        assert at_once == [
            index.nearest(q, lo, hi, 8, 0.74) for q, (lo, hi) in zip(queries, windows, strict=True)
        ]
        assert at_once == [brute(q, a, b) for q, (a, b) in zip(queries, spans, strict=True)]
        assert all(j + 1 in found for j, found in enumerate(at_once) if j % 2 and j < stop)
    index.prune(500)  # the 500 latest stay
    assert index.nearest_many(queries[:3], [(T0, T0 + timedelta(days=1))] * 3, 8, 0.74) == [
        [],
        [],
        [],
    ]
    assert index.nearest_many(base[2_900:2_901], [(T0, T0 + timedelta(days=1))], 8, 0.74) == [
        [2_901]
    ]
    assert VectorIndex(64).nearest_many(queries[:1, :64], [(T0, T0)], 8, 0.74) == [[]]
    assert 64 * VectorIndex(dim).first <= 255  # the first pass counts in uint8
