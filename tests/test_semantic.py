"""Semantic dedup: the encoder, nearest-neighbour candidates, stored vectors, the fallback.

Tests that need the model use `semantic_or_skip` (they fail instead of skipping
in CI, which installs the model); the fallback and start-log tests need none.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from bot.ingest import semantic
from bot.ingest.dedup import candidate_keys, fingerprint, similarity
from bot.ingest.fetcher import Fetcher, FetchPolicy
from bot.ingest.places import places_in
from bot.ingest.refresh import Refresher
from bot.ingest.semantic import embedding_text
from bot.ingest.vector_index import VectorIndex
from bot.settings.model import DedupSettings, Settings
from bot.storage.db import open_database
from tests.support.dedupkit import ISSUES, ONE_STORY, T0, WINDOW, IngestProbe, semantic_or_skip

# Same story, no candidate key in common: only the nearest-neighbour search finds it.
NO_SHARED_KEY = ("Netflix raises subscription prices", "Netflix hikes monthly fees")


@pytest.fixture(scope="module")
def method() -> semantic.SemanticDedup:
    return semantic_or_skip()


@pytest.fixture
def probe(tmp_path: Path, method: semantic.SemanticDedup) -> Iterator[IngestProbe]:
    # A fresh index per database: the in-memory index belongs to one database.
    fresh = semantic.SemanticDedup(method.encoder)
    with IngestProbe(tmp_path / "stories.db", semantic=fresh) as p:
        yield p


def test_embedding_text_is_headline_plus_summary_lead() -> None:
    summary = "Kurdish residents organised night patrols. Officials said more would follow..."
    assert embedding_text("Qamishli Kurds patrol", summary) == (
        "Qamishli Kurds patrol. Kurdish residents organised night patrols."
    )
    assert embedding_text(" Headline only ") == "Headline only"
    long_lead = " ".join(["word"] * 60)
    assert len(embedding_text("H", long_lead).split()) == 1 + semantic.LEAD_WORDS


def test_vectors_are_unit_length_and_rank_paraphrases_first(
    method: semantic.SemanticDedup,
) -> None:
    a = method.embed("Netflix raises subscription prices")
    same = method.embed("Netflix hikes monthly fees")
    other = method.embed("Floods displace thousands in Bangladesh")
    assert a.shape == (method.encoder.dim,)
    assert float(a @ a) == pytest.approx(1.0, abs=1e-4)
    assert float(a @ same) > 0.7 > 0.2 > float(a @ other)
    # float16 storage keeps the cosine to three decimals
    stored = semantic.np_from_bytes(semantic.SemanticDedup.to_bytes(same))
    assert float(a @ stored) == pytest.approx(float(a @ same), abs=2e-3)


def test_nearest_neighbour_finds_a_story_sharing_no_key(probe: IngestProbe) -> None:
    a, b = (fingerprint(t) for t in NO_SHARED_KEY)
    assert not set(candidate_keys(a)) & set(candidate_keys(b))
    first = probe.add(NO_SHARED_KEY[0], published_at=T0)
    assert probe.add(NO_SHARED_KEY[1], published_at=T0 + timedelta(hours=2), feed=1) == first
    # outside the window the neighbour is not proposed
    late = T0 + WINDOW + timedelta(hours=3)
    assert probe.add(NO_SHARED_KEY[1], published_at=late, feed=1) != first


def test_lexical_keeps_that_pair_apart(tmp_path: Path) -> None:
    with IngestProbe(tmp_path / "lexical.db") as lexical:
        first = lexical.add(NO_SHARED_KEY[0], published_at=T0)
        assert lexical.add(NO_SHARED_KEY[1], published_at=T0, feed=1) != first


def test_place_conflict_vetoes_a_close_embedding(probe: IngestProbe) -> None:
    a, b = "Indonesian president to visit UK", "Indonesian president to visit Australia"
    assert places_in(a).countries == {"indonesia", "united kingdom"}
    first = probe.add(a, published_at=T0)
    assert probe.add(b, published_at=T0, feed=1) != first


def test_every_new_story_stores_one_vector(probe: IngestProbe) -> None:
    ids = {probe.add(t, published_at=T0, feed=i % 2) for i, t in enumerate(NO_SHARED_KEY)}
    ids.add(probe.add("Floods displace thousands in Bangladesh", published_at=T0))
    rows = probe.session.execute(sa.text("SELECT story_id, length(vector) FROM story_vector"))
    rows = rows.all()
    assert {r[0] for r in rows} == ids
    assert {r[1] for r in rows} == {2 * probe.semantic.encoder.dim}  # type: ignore[union-attr]


def test_stories_from_before_the_model_still_merge_lexically(probe: IngestProbe) -> None:
    semantic_method, probe.semantic = probe.semantic, None
    first = probe.add("Gunman kills 6 in shooting at Wisconsin Sikh temple", published_at=T0)
    probe.semantic = semantic_method
    found = probe.add("Gunman kills six in shooting at Sikh temple in Wisconsin", published_at=T0)
    assert found == first


def test_lexical_method_and_missing_model_fall_back_with_a_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.ingest.semantic")
    assert semantic.from_settings(DedupSettings(method="lexical")) is None
    empty = tmp_path / "no-model"
    empty.mkdir()
    assert semantic.from_settings(DedupSettings(method="auto", model_path=str(empty))) is None
    assert semantic.from_settings(DedupSettings(method="semantic", model_path=str(empty))) is None
    messages = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert messages[0] == ("INFO", "dedup method: lexical (dedup.method = lexical)")
    assert messages[1][0] == "INFO" and "lacks config.json" in messages[1][1]
    assert messages[2][0] == "WARNING" and "semantic requested" in messages[2][1]
    assert all(m.startswith("dedup method: lexical") for _, m in messages)


def test_refresher_logs_the_method_at_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.ingest.semantic")
    engine = open_database(f"sqlite:///{tmp_path / 'bot.db'}")
    settings = Settings(dedup=DedupSettings(method="lexical"))
    Refresher(engine=engine, fetcher=Fetcher(FetchPolicy()), settings=settings)
    engine.dispose()
    assert "dedup method: lexical (dedup.method = lexical)" in caplog.messages


def test_lexical_folding_of_demonyms_paraphrases_and_compounds() -> None:
    def score(a: str, b: str) -> float:
        return similarity(fingerprint(a), fingerprint(b))

    assert (
        fingerprint("Afghan police chief shot").tokens
        == fingerprint("Afghanistan police chief shot").tokens
    )
    assert "resign" in fingerprint("Coach quits after defeat").tokens
    assert score(
        "EU ministers meet on horsemeat scandal", "EU ministers meet on horse meat scandal"
    ) > (score("EU ministers meet on horsemeat scandal", "EU ministers meet on horse feed scandal"))


def test_index_grows_searches_the_window_and_keeps_the_newest() -> None:
    np = pytest.importorskip("numpy")  # the [semantic] extra; the test extra brings it
    index = VectorIndex(4)
    unit = np.eye(4, dtype=np.float32)
    rows = [
        (i + 1, T0 + timedelta(hours=i), unit[i % 4].astype(np.float16).tobytes())
        for i in range(3000)
    ]
    index.add(rows)
    assert (index.size, index.last_id) == (3000, 3000)
    found = index.nearest(unit[1], T0, T0 + timedelta(hours=10), 8, floor=0.5)
    assert sorted(found) == [2, 6, 10]  # the same direction, inside the window only
    index.prune(100)
    assert index.size == 100 and list(index.ids[:2]) == [2901, 2902]
    assert index.nearest(unit[1], T0, T0 + timedelta(hours=10), 8, floor=0.5) == []


def test_index_arrays_stop_growing_at_their_limit() -> None:
    np = pytest.importorskip("numpy")
    unit = np.eye(4, dtype=np.float16)
    index = VectorIndex(4, limit=3000)
    for start in range(0, 3000, 100):
        index.add(
            [
                (i + 1, T0 + timedelta(hours=i), unit[i % 4].tobytes())
                for i in range(start, start + 100)
            ]
        )
    # doubling alone would have reserved 4,096 rows (the shipped bound: 262,144 for 150,000)
    assert index.size == 3000 and len(index.ids) == 3000


def test_index_drops_stories_older_than_its_horizon_and_shrinks() -> None:
    np = pytest.importorskip("numpy")
    unit = np.eye(4, dtype=np.float32)
    index = VectorIndex(4)
    rows = [
        (i + 1, T0 + timedelta(hours=i), unit[i % 4].astype(np.float16).tobytes())
        for i in range(8000)
    ]
    index.add(rows)
    assert len(index.ids) == 8192
    since = (T0 + timedelta(hours=7000)).timestamp()
    index.prune(100_000, since=since)
    assert index.size == 1000 and (int(index.ids[0]), index.last_id) == (7001, 8000)
    assert len(index.ids) <= 2048  # a quarter or less used: the arrays shrink
    lo, hi = T0 + timedelta(hours=7990), T0 + timedelta(hours=8000)
    assert sorted(index.nearest(unit[1], lo, hi, 8, floor=0.5)) == [7994, 7998]
    # a few stale stories wait for more: each drop moves every row
    index.add([(9001, T0 + timedelta(hours=8001), unit[0].astype(np.float16).tobytes())])
    index.prune(100_000, since=(T0 + timedelta(hours=7010)).timestamp())
    assert index.size == 1001


def test_the_index_lets_go_of_stories_that_retention_deleted(
    tmp_path: Path, method: semantic.SemanticDedup
) -> None:
    """30 days of stories, then retention keeps 9: the index follows, a step at a time."""
    np = pytest.importorskip("numpy")
    from bot.storage.models import Story, StoryVector
    from bot.storage.retention import prune_stories

    engine = open_database(f"sqlite:///{tmp_path / 'stories.db'}")
    rng = np.random.default_rng(7)
    hours = 30 * 24
    with Session(engine) as session:
        for hour in range(hours):  # eight stories an hour, the newest at T0
            stamp = T0 - timedelta(hours=hours - 1 - hour)
            stories = [
                Story(title=f"s{hour}-{k}", published_at=stamp, first_seen_at=stamp)
                for k in range(8)
            ]
            session.add_all(stories)
            session.flush()
            for story in stories:
                vector = rng.standard_normal(method.encoder.dim).astype(np.float32)
                data = semantic.SemanticDedup.to_bytes(vector / np.linalg.norm(vector))
                session.add(StoryVector(story_id=story.id, published_at=stamp, vector=data))
        session.commit()
        fresh = semantic.SemanticDedup(method.encoder)  # as after a start
        query = fresh.embed("Netflix raises subscription prices")[None, :]
        fresh.neighbours(session, query, [T0], WINDOW)
        assert fresh._index.size == 8 * hours

        cutoff = T0 - timedelta(days=9)
        while prune_stories(session, before=cutoff):
            pass
        session.commit()
        fresh.embed_many([])  # the next batch looks again
        fresh.neighbours(session, query, [T0], WINDOW)
        index = fresh._index
        kept = 8 * (9 * 24 + 1)
        assert index.size == kept and index.span[0] == cutoff.timestamp()
        assert len(index.ids) <= 2 * kept  # the arrays shrank with it
    engine.dispose()


def test_pruning_a_story_deletes_its_vector(probe: IngestProbe) -> None:
    from bot.storage.models import Feed
    from bot.storage.retention import prune_stories

    story = probe.add(NO_SHARED_KEY[0], published_at=T0)
    for feed in probe.session.exec(sa.select(Feed)).scalars():
        feed.last_success_at = T0 + timedelta(days=90)  # fetched since: entries are gone
    probe.session.flush()
    assert prune_stories(probe.session, before=T0 + timedelta(days=60)) == 1
    count = "SELECT count(*) FROM story_vector WHERE story_id = :s"
    assert probe.session.execute(sa.text(count), {"s": story}).scalar_one() == 0


def test_a_batch_embeds_each_text_as_alone(method: semantic.SemanticDedup) -> None:
    np = pytest.importorskip("numpy")
    texts = [
        "Floods",
        "Netflix raises subscription prices",
        "Kurdish residents in Syria's Qamishli step up patrols as pressure from Damascus grows",
    ]
    together = method.encoder.encode(texts)  # padded to the longest, masked
    alone = np.stack([method.encoder.encode([t])[0] for t in texts])
    assert np.abs(together - alone).max() < 1e-5


def test_two_outlets_issues_of_one_heading_stay_two_stories(probe: IngestProbe) -> None:
    """The semantic method reads the same summaries: "Morning Briefing" twice is two issues."""
    first, second = (probe.add(t, summary=s, feed=i) for i, (t, s) in enumerate(ISSUES))
    assert first != second
    one, other = (probe.add(t, summary=s, feed=i) for i, (t, s) in enumerate(ONE_STORY))
    assert one == other
