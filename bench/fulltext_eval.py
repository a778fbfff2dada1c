"""Evaluate the 📖 full text on Mozilla Readability's test pages, against trafilatura alone.

Run from the repo root:
``python bench/fulltext_eval.py [DATA_DIR] [--pages] [--split hash|parity] [--first-tap]``.
Exits 2 with a message when the data (``../shared/data/readability-test-pages``) is absent.

Each page goes through the code a first tap runs: `extract_article` on the saved page,
then what is stored and rendered (`articles.tap_messages`, default settings): the first
tap's messages and those of each "Read on" tap after it (``--first-tap``: the first tap
only). The text scored is what the messages show, without the header (title, source,
link) and the "Continue reading" or paywall line. In the same run the same page goes through
`trafilatura.extract` with its defaults. Both are scored against the words of
`expected.html` (Readability's article): bag-of-words precision, recall and F1 per page,
averaged over pages. The 130 pages are split in two halves, tune on "tune" and report
"test" as the figure for unseen pages: ``--split hash`` (the default) by a stable hash of
the folder name, ``--split parity`` by position in the sorted names (even: tune, odd:
test). A change should not make the held-out half of either split worse.
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.fulltextkit import (
    DEFAULT_DATA,
    HALVES,
    Page,
    Score,
    load_pages,
    production_text,
    score,
    trafilatura_text,
    words,
)

SHORT_RECALL = 0.5  # a page whose recall is below this is listed as "short"
SPLITS = ("hash", "parity")


def halves(pages: Iterable[Page], split: str) -> dict[str, str]:
    """Each page's half ("tune" or "test") under the named split."""
    names = sorted(page.name for page in pages)
    if split == "parity":
        return {name: HALVES[i % 2] for i, name in enumerate(names)}
    by_name = {page.name: page for page in pages}
    return {name: by_name[name].half for name in names}


@dataclass(frozen=True, slots=True)
class PageResult:
    page: Page
    ours: Score
    theirs: Score


def evaluate(
    pages: Iterable[Page], ours: Callable[[Page], str] = production_text
) -> tuple[list[PageResult], float, float]:
    """Score both extractors on each page; also return the seconds each took in all."""
    results, t_ours, t_theirs = [], 0.0, 0.0
    for page in pages:
        start = time.perf_counter()
        mine = words(ours(page))
        middle = time.perf_counter()
        other = words(trafilatura_text(page))
        t_ours += middle - start
        t_theirs += time.perf_counter() - middle
        results.append(PageResult(page, score(mine, page.expected), score(other, page.expected)))
    return results, t_ours, t_theirs


def mean(values: Iterable[float]) -> float:
    values = list(values)
    return sum(values) / len(values) if values else 0.0


def empty_where_trafilatura_finds(results: Iterable[PageResult]) -> list[str]:
    """Pages we return nothing for although trafilatura alone extracts text."""
    return [r.page.name for r in results if r.ours.words == 0 and r.theirs.words > 0]


def _row(label: str, results: list[PageResult]) -> str:
    ours = [r.ours for r in results]
    theirs = [r.theirs for r in results]
    cells = [
        f"{mean(getattr(s, k) for s in group):.3f}"
        for group in (ours, theirs)
        for k in ("precision", "recall", "f1")
    ]
    return f"| {label} | {len(results)} | " + " | ".join(cells) + " |"


def report(
    results: list[PageResult], t_ours: float, t_theirs: float, per_page: bool, split: str = "hash"
) -> None:
    half_of = halves([r.page for r in results], split)
    print(f"Split: {split}\n")
    print("| pages | n | ours P | ours R | **ours F1** | traf. P | traf. R | traf. F1 |")
    print("|---|---|---|---|---|---|---|---|")
    for half in HALVES:
        print(_row(half, [r for r in results if half_of[r.page.name] == half]))
    print(_row("all", results))
    n = len(results)
    print(
        f"\nTime per page: ours {1000 * t_ours / n:.1f} ms, "
        f"trafilatura alone {1000 * t_theirs / n:.1f} ms"
    )
    empty = empty_where_trafilatura_finds(results)
    print(f"\nEmpty where trafilatura finds text ({len(empty)}): {', '.join(empty) or '-'}")
    blank = [r.page.name for r in results if r.ours.words == 0 and r.theirs.words == 0]
    print(f"Empty for both ({len(blank)}): {', '.join(blank) or '-'}")
    short = [r for r in results if r.ours.words > 0 and r.ours.recall < SHORT_RECALL]
    print(f"Short (recall < {SHORT_RECALL}) ({len(short)}):")
    for r in short:
        print(f"  {r.page.name}: ours R {r.ours.recall:.2f}, trafilatura R {r.theirs.recall:.2f}")
    if per_page:
        print("\n| page | half | expected words | ours P/R/F1 | trafilatura P/R/F1 |")
        print("|---|---|---|---|---|")
        for r in sorted(results, key=lambda r: r.ours.f1 - r.theirs.f1):
            o, t = r.ours, r.theirs
            print(
                f"| {r.page.name} | {half_of[r.page.name]} | {sum(r.page.expected.values())} "
                f"| {o.precision:.2f}/{o.recall:.2f}/{o.f1:.2f} "
                f"| {t.precision:.2f}/{t.recall:.2f}/{t.f1:.2f} |"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--pages", action="store_true", help="a table row per page")
    parser.add_argument(
        "--split", choices=SPLITS, default="hash", help="how the pages are cut in two halves"
    )
    parser.add_argument(
        "--first-tap", action="store_true", help='score the first tap only, no "Read on" taps'
    )
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        print(f"{args.data} not found: this evaluation needs ../shared/data", file=sys.stderr)
        return 2
    pages = load_pages(args.data)
    results, t_ours, t_theirs = evaluate(
        pages, functools.partial(production_text, read_on=not args.first_tap)
    )
    report(results, t_ours, t_theirs, args.pages, args.split)
    return 0


if __name__ == "__main__":
    sys.exit(main())
