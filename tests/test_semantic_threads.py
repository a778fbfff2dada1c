"""A feed's headlines embedded on two threads: one run per headline, the same vectors.

Needs the model and onnxruntime (`semantic_or_skip`: fails instead of skipping in CI).
"""

from __future__ import annotations

import threading

import pytest

from bot.ingest import semantic
from bot.ingest.embed import packaged_model_dir
from tests.support.dedupkit import semantic_or_skip

# a feed's worth of headlines, of different lengths (the longest are taken first)
HEADLINES = [
    "Floods",
    "Netflix raises subscription prices",
    "Netflix hikes monthly fees",
    "Floods displace thousands in Bangladesh",
    "Kurdish residents in Syria's Qamishli step up patrols as pressure from Damascus grows",
    "Egypt court orders Mubarak release",
    "Iran death toll rises to 12",
    "Syrian fighter pilot defects to Jordan",
    "FAA lifts ban on U.S. flights to Tel Aviv",
    "Easy Rider star Karen Black dies aged 74",
    "Asteroid zips between Earth and satellites",
]


class _MeetingSession:
    """The encoder's session; its first two runs wait for each other (at most 10 s).

    Run one after the other, the first would wait in vain and the barrier
    breaks: the runs must overlap for the batch to finish.
    """

    def __init__(self, session: object) -> None:
        self.session = session
        self.barrier = threading.Barrier(2, timeout=10)
        self.lock = threading.Lock()
        self.runs = 0
        self.threads: set[int] = set()

    def run(self, *args: object, **kwargs: object) -> object:
        with self.lock:
            self.runs += 1
            first_two = self.runs <= 2
            self.threads.add(threading.get_ident())
        if first_two:
            self.barrier.wait()
        return self.session.run(*args, **kwargs)  # type: ignore[attr-defined]


class _FailingSession:
    """The encoder's session, failing on the run of one text's token ids."""

    def __init__(self, session: object, bad_ids: list[int]) -> None:
        self.session, self.bad_ids = session, bad_ids

    def run(self, names: object, feeds: dict[str, object]) -> object:
        if feeds["input_ids"].tolist() == [self.bad_ids]:  # type: ignore[attr-defined]
            raise RuntimeError("run failed")
        return self.session.run(names, feeds)  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def method() -> semantic.SemanticDedup:
    return semantic_or_skip()


def _encoder(threads: int) -> object:
    from bot.ingest.onnx_encoder import OnnxEncoder
    from bot.ingest.onnx_graph import prepared_model

    model = packaged_model_dir()
    assert model is not None
    return OnnxEncoder(model, prepared_model(model), threads=threads)


def test_a_feed_s_headlines_run_on_two_threads_at_once(
    method: semantic.SemanticDedup, monkeypatch: pytest.MonkeyPatch
) -> None:
    encoder = _encoder(threads=2)
    meeting = _MeetingSession(encoder.session)  # type: ignore[attr-defined]
    monkeypatch.setattr(encoder, "session", meeting)
    vectors = encoder.encode(HEADLINES)  # type: ignore[attr-defined]
    assert vectors.shape == (len(HEADLINES), encoder.dim)  # type: ignore[attr-defined]
    assert meeting.runs == len(HEADLINES)  # still one run per headline
    assert len(meeting.threads) == 2 and not meeting.barrier.broken


def test_two_threads_give_the_vectors_of_one_at_a_time_bit_for_bit(
    method: semantic.SemanticDedup,
) -> None:
    np = pytest.importorskip("numpy")
    two, one = _encoder(threads=2), _encoder(threads=1)
    together = two.encode(HEADLINES)  # type: ignore[attr-defined]
    alone = np.stack([one.encode([t])[0] for t in HEADLINES])  # type: ignore[attr-defined]
    assert np.array_equal(together, alone)
    # and so what ingest stores and compares: the shared encoder of the method
    assert np.array_equal(method.embed_texts(HEADLINES), alone)
    for _ in range(3):  # the threads take different headlines each time
        assert np.array_equal(two.encode(HEADLINES[::-1]), alone[::-1])  # type: ignore[attr-defined]


def test_a_run_that_fails_on_the_helper_thread_reaches_the_caller(
    method: semantic.SemanticDedup, monkeypatch: pytest.MonkeyPatch
) -> None:
    encoder = _encoder(threads=2)
    tokens = encoder.tokenize(HEADLINES)  # type: ignore[attr-defined]
    failing = _FailingSession(encoder.session, list(tokens[3].ids))  # type: ignore[attr-defined]
    monkeypatch.setattr(encoder, "session", failing)
    with pytest.raises(RuntimeError, match="run failed"):
        encoder.encode_tokens(tokens)  # type: ignore[attr-defined]
    monkeypatch.setattr(encoder, "session", failing.session)
    assert encoder.encode_tokens(tokens).shape[0] == len(HEADLINES)  # type: ignore[attr-defined]


def test_one_core_means_one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("onnxruntime")
    from bot.ingest import onnx_encoder

    monkeypatch.setattr(onnx_encoder.os, "sched_getaffinity", lambda pid: {0})
    assert onnx_encoder.default_threads() == 1
    monkeypatch.setattr(onnx_encoder.os, "sched_getaffinity", lambda pid: set(range(8)))
    assert onnx_encoder.default_threads() == 2
