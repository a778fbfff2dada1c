"""Evaluate headline dedup on the SemEval STS headlines dev set (EMM news feed).

Run from the repo root: ``python bench/dedup_eval.py [DATA_DIR]``.
Score >= 4 counts as "same story", <= 2 as "different"; the rest is left out.
The threshold sweep uses `similarity`, the score ingest compares; the shipped
numbers come from ingest itself: each pair is stored through
`bot.ingest.stories.ingest_entries` (SQLite scratch database, two feeds) and
counts as "same" when the second headline joined the first one's story.
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.ingest.dedup import SAME_STORY_THRESHOLD, candidate_keys, fingerprint, similarity
from tests.support.dedupkit import T0, WINDOW, IngestProbe

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "sts-headlines-dev"
YEARS = ("2013", "2014")
TARGET_PRECISION = 0.97  # tuning target; the shipped bar is 0.95, the rest is margin
SWEEP = [round(0.30 + 0.025 * i, 3) for i in range(21)]


@dataclass(frozen=True, slots=True)
class Pair:
    """One labelled headline pair with its computed similarity."""

    same: bool
    a: str
    b: str
    score: float
    shares_key: bool
    merged: bool  # ingest put both headlines in one story


@dataclass(frozen=True, slots=True)
class Metrics:
    """Precision, recall and F1 at one threshold."""

    threshold: float
    precision: float
    recall: float
    f1: float


def load_pairs(path: Path, probe: IngestProbe) -> list[Pair]:
    """Read one TSV file, keep the clearly labelled pairs, score them and ingest them."""
    pairs: list[Pair] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        gold, a, b = line.split("\t")[:3]
        label = float(gold)
        if 2 < label < 4:
            continue
        fa, fb = fingerprint(a), fingerprint(b)
        shares = bool(set(candidate_keys(fa)) & set(candidate_keys(fb)))
        merged = ingest_pair(probe, a, b)
        pairs.append(Pair(label >= 4, a, b, similarity(fa, fb), shares, merged))
    return pairs


def ingest_pair(probe: IngestProbe, a: str, b: str) -> bool:
    """Store `a` then `b` (another outlet, an hour later) apart from every other pair."""
    # Each pair gets its own stretch of time, further apart than the dedup window.
    at = T0 + next(_SLOTS) * 3 * WINDOW
    first = probe.add(a, published_at=at, feed=0)
    return probe.add(b, published_at=at + timedelta(hours=1), feed=1) == first


_SLOTS = iter(range(10**9))


def metrics(pairs: list[Pair], threshold: float) -> Metrics:
    """Compute precision, recall and F1 of `score >= threshold` against labels."""
    tp = sum(1 for p in pairs if p.same and p.score >= threshold)
    fp = sum(1 for p in pairs if not p.same and p.score >= threshold)
    positives = sum(1 for p in pairs if p.same)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / positives if positives else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Metrics(threshold, precision, recall, f1)


def ingest_metrics(pairs: list[Pair]) -> Metrics:
    """Precision, recall and F1 of what ingest merged."""
    return metrics(
        [Pair(p.same, p.a, p.b, float(p.merged), p.shares_key, p.merged) for p in pairs], 1.0
    )


def tune(pairs: list[Pair]) -> float:
    """Return the lowest swept threshold whose precision meets the target."""
    return next(t for t in SWEEP if metrics(pairs, t).precision >= TARGET_PRECISION)


def key_recall(pairs: list[Pair], *, threshold: float | None = None) -> float:
    """Fraction of same-story pairs (optionally only those found) sharing a key."""
    chosen = [p for p in pairs if p.same and (threshold is None or p.score >= threshold)]
    return sum(p.shares_key for p in chosen) / len(chosen) if chosen else 1.0


def print_sweep(by_year: dict[str, list[Pair]], everything: list[Pair]) -> None:
    """Print a markdown table of P/R/F1 per threshold, per year and pooled."""
    print("| threshold | " + " | ".join(f"{y} P / R / F1" for y in [*by_year, "all"]) + " |")
    print("|---:|" + "---|" * (len(by_year) + 1))
    for t in SWEEP:
        cells = [metrics(p, t) for p in [*by_year.values(), everything]]
        row = " | ".join(f"{m.precision:.3f} / {m.recall:.3f} / {m.f1:.3f}" for m in cells)
        print(f"| {t:.3f} | {row} |")


def print_cross_validation(by_year: dict[str, list[Pair]]) -> None:
    """Tune on one year, report on the other."""
    print("\n| tuned on | threshold | tested on | precision | recall |")
    print("|---|---:|---|---:|---:|")
    for train, test in ((YEARS[0], YEARS[1]), (YEARS[1], YEARS[0])):
        t = tune(by_year[train])
        m = metrics(by_year[test], t)
        print(f"| {train} | {t:.3f} | {test} | {m.precision:.3f} | {m.recall:.3f} |")


def print_shipped(by_year: dict[str, list[Pair]], everything: list[Pair]) -> None:
    """Report the shipped threshold, key recall and the misses worth reading."""
    t = SAME_STORY_THRESHOLD
    print(f"\nShipped threshold {t:.3f}:")
    for name, pairs in [*by_year.items(), ("all", everything)]:
        m = metrics(pairs, t)
        n_pos = sum(p.same for p in pairs)
        print(
            f"  {name}: precision {m.precision:.3f}  recall {m.recall:.3f}  F1 {m.f1:.3f}"
            f"  (positives {n_pos}, negatives {len(pairs) - n_pos})"
        )
    for name, pairs in [*by_year.items(), ("all", everything)]:
        m = ingest_metrics(pairs)
        print(
            f"  {name} through ingest (bot.ingest.stories): precision {m.precision:.3f}"
            f"  recall {m.recall:.3f}  F1 {m.f1:.3f}"
        )
    negatives = [p for p in everything if not p.same]
    print(
        f"  key recall: {key_recall(everything):.3f} of all same-story pairs, "
        f"{key_recall(everything, threshold=t):.3f} of those above threshold; "
        f"{sum(p.shares_key for p in negatives) / len(negatives):.3f} of different pairs "
        "share a key"
    )
    false_pos = [p for p in everything if not p.same and p.score >= t]
    print("\nFalse positives at the shipped threshold:")
    for p in sorted(false_pos, key=lambda p: -p.score):
        print(f"  {p.score:.3f}  {p.a}  ||  {p.b}")


def main(argv: list[str]) -> int:
    """Run the evaluation; exit 2 with a message when the data is missing."""
    data = Path(argv[1]) if len(argv) > 1 else DEFAULT_DATA
    if not all((data / f"{y}.tsv").is_file() for y in YEARS):
        print(f"dedup_eval: data not found at {data} (expected 2013.tsv, 2014.tsv); skipping.")
        return 2
    with tempfile.TemporaryDirectory() as scratch, IngestProbe(Path(scratch) / "eval.db") as probe:
        by_year = {y: load_pairs(data / f"{y}.tsv", probe) for y in YEARS}
    everything = [p for pairs in by_year.values() for p in pairs]
    print_sweep(by_year, everything)
    print_cross_validation(by_year)
    print_shipped(by_year, everything)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
