"""Evaluate the 📖 full text on Mozilla Readability's test pages, against trafilatura alone.

Run from the repo root: ``python bench/fulltext_eval.py [DATA_DIR] [--pages]``.
Exits 2 with a message when the data (``../shared/data/readability-test-pages``) is absent.

Each page goes through the code a first tap runs: `extract_article` on the saved page,
then what is stored and rendered (`articles.first_tap_messages`, default settings); the
text scored is what the messages show, without the header (title, source, link) and the
"Continue reading" or paywall line. In the same run the same page goes through
`trafilatura.extract` with its defaults. Both are scored against the words of
`expected.html` (Readability's article): bag-of-words precision, recall and F1 per page,
averaged over pages. The 130 pages are split in two halves by a stable hash of the folder
name: tune on "tune", report "test" as the figure for unseen pages.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import lxml.html
import trafilatura

from bot.ingest.article import extract_article
from bot.render import texts
from bot.render.tghtml import plain_text
from bot.services.articles import StoryRef, first_tap_messages
from bot.settings import FulltextSettings

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "readability-test-pages"
HALVES = ("tune", "test")
SHORT_RECALL = 0.5  # a page whose recall is below this is listed as "short"
# A word: a run of letters and digits, except that each CJK character counts alone (those
# scripts put no spaces between words).
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_WORD = re.compile(f"[{_CJK}]|[^\\W{_CJK}]+")
_NOW = datetime(2026, 1, 1, tzinfo=UTC)
# Closing lines the bot adds after the article's text.
_CLOSING = tuple(t.split("{", 1)[0] for t in (texts.FULLTEXT_CONTINUE, texts.FULLTEXT_PARTIAL))


@dataclass(frozen=True, slots=True)
class Page:
    """One saved page: its folder name, HTML and the expected article's words."""

    name: str
    html: bytes
    expected: Counter[str]

    @property
    def half(self) -> str:
        """Stable half for tuning/testing: the parity of a hash of the folder name."""
        return HALVES[hashlib.blake2b(self.name.encode(), digest_size=2).digest()[0] % 2]

    @property
    def url(self) -> str:
        return f"https://{self.name}.example/article"


@dataclass(frozen=True, slots=True)
class Score:
    """Word-level precision, recall and F1 of one extraction of one page."""

    precision: float
    recall: float
    f1: float
    words: int  # words extracted


def words(text: str) -> Counter[str]:
    """The text's words, lower-cased, as a multiset."""
    return Counter(word.lower() for word in _WORD.findall(text))


def score(got: Counter[str], expected: Counter[str]) -> Score:
    """Bag-of-words overlap. An empty result on an empty expectation counts as perfect."""
    n_got, n_expected = sum(got.values()), sum(expected.values())
    if n_got == 0 and n_expected == 0:
        return Score(1.0, 1.0, 1.0, 0)
    common = sum((got & expected).values())
    precision = common / n_got if n_got else 0.0
    recall = common / n_expected if n_expected else 0.0
    f1 = 2 * precision * recall / (precision + recall) if common else 0.0
    return Score(precision, recall, f1, n_got)


def load_pages(root: Path) -> list[Page]:
    """Every folder with source.html and expected.html, sorted by name."""
    pages = []
    for folder in sorted(p for p in root.iterdir() if (p / "expected.html").is_file()):
        # expected.html is UTF-8 without a charset declaration: decode before parsing.
        expected = lxml.html.fromstring((folder / "expected.html").read_text(encoding="utf-8"))
        pages.append(
            Page(folder.name, (folder / "source.html").read_bytes(), words(expected.text_content()))
        )
    return pages


def shown_body(messages: list[str]) -> str:
    """The article text the messages show: no header block, no closing line."""
    blocks = [block for m in messages for block in plain_text(m).split("\n\n")]
    if len(messages) == 1 and len(blocks) == 1:
        return ""  # a one-line failure ("Couldn't get the article's text ...")
    return "\n\n".join(b for b in blocks[1:] if not b.startswith(_CLOSING))


def production_text(page: Page, fs: FulltextSettings | None = None) -> str:
    """What a first tap on a story linking to this page shows, as plain text."""
    result = extract_article(page.html, url=page.url)
    ref = StoryRef(id=1, title=page.name, link=page.url, source="Source")
    return shown_body(first_tap_messages(ref, result, fs or FulltextSettings(), now=_NOW))


def trafilatura_text(page: Page) -> str:
    """trafilatura alone, its defaults."""
    return trafilatura.extract(page.html, url=page.url) or ""


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


def report(results: list[PageResult], t_ours: float, t_theirs: float, per_page: bool) -> None:
    print("| pages | n | ours P | ours R | **ours F1** | traf. P | traf. R | traf. F1 |")
    print("|---|---|---|---|---|---|---|---|")
    for half in HALVES:
        print(_row(half, [r for r in results if r.page.half == half]))
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
                f"| {r.page.name} | {r.page.half} | {sum(r.page.expected.values())} "
                f"| {o.precision:.2f}/{o.recall:.2f}/{o.f1:.2f} "
                f"| {t.precision:.2f}/{t.recall:.2f}/{t.f1:.2f} |"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--pages", action="store_true", help="a table row per page")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        print(f"{args.data} not found: this evaluation needs ../shared/data", file=sys.stderr)
        return 2
    pages = load_pages(args.data)
    results, t_ours, t_theirs = evaluate(pages)
    report(results, t_ours, t_theirs, args.pages)
    return 0


if __name__ == "__main__":
    sys.exit(main())
