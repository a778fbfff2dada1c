"""Check the 📖 full text on a fifth page set, one no setting was ever chosen on.

Run from the repo root:
``python bench/fulltext_newspaper.py FOLDER [--half diag|check|all] [--pages] [--no-trafilatura]
[--shingles]``.

FOLDER is the `tests/data` folder of the newspaper library's repository (codelucas/newspaper,
MIT licence; nothing of it is part of this project: the script reads a local copy, see
BENCHMARKS.md for how to make one, and exits 2 when there is none). It holds
`fulltext_url_list.txt` (145 news article addresses from about 75 sites, 2014–2015),
`html/NAME.html` (each page as downloaded) and `text/NAME.txt` (the article text the
newspaper extractor gave for it, kept by its authors as the expected text; where that
extractor failed they wrote a note in capitals instead, such as "MISSED LAST PARAGRAPH",
or left the file empty). NAME is the address's base domain and a counter, the way
newspaper's own test names its files.

The reference is that expected text, and so one more extractor's opinion, not a human
annotation, as with Readability's pages: it can miss text (a subheading, a list) that
a reader would count as the article, and it costs every extractor the same. Pages are
left out when their expected text is shorter than 300 characters (the shortest text the
📖 button shows as an article, `bot.fulltext.article.MIN_CHARS`): the failure notes,
the empty files, and a few where the kept text is a newsletter box.

Each page goes through the code a 📖 tap runs (`tests.support.fulltextkit.reader_text`:
extraction, storage, rendering, every "Read on" tap; the header with the title is not
scored) and through `trafilatura.extract` with its defaults, given the page's address.
Scores are bag-of-words precision, recall and F1 per page, averaged over pages, as in
`bench/fulltext_gn1.py`; `--shingles` scores runs of four words instead
(`tests.support.fulltextkit.shingles`), so that order counts. Pages are split into two
halves by a stable hash of the site, so that both pages of a site fall in one half: "diag"
(for finding failure modes) and "check" (only measured).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _pagesets import arguments, extractors, half_of, mean_score, score_cells

from tests.support.fulltextkit import SHINGLES_HELP, Score, score, shingles, words

MIN_REFERENCE_CHARS = 300
_COUNTRY_PAIRS = {"co.uk", "com.au", "au.com"}  # newspaper's own file naming


@dataclass(frozen=True, slots=True)
class NewsPage:
    name: str
    site: str
    url: str
    html: bytes
    expected: str

    @property
    def half(self) -> str:
        return half_of(self.site)


def base_domain(url: str) -> str:
    """The name newspaper's test gives a site: the last two labels, three for co.uk and the like."""
    labels = (urlsplit(url).hostname or "").split(".")
    keep = 3 if ".".join(labels[-2:]) in _COUNTRY_PAIRS else 2
    return ".".join(labels[-keep:])


def load(folder: Path) -> tuple[list[NewsPage], int]:
    """The scored pages, and how many were left out for a missing or too short reference."""
    counters: dict[str, int] = {}
    pages, left_out = [], 0
    for line in (folder / "fulltext_url_list.txt").read_text(encoding="utf-8").splitlines():
        url = line.strip()
        if not url:
            continue
        site = base_domain(url)
        counters[site] = counters.get(site, 0) + 1
        name = f"{site}{counters[site]}"
        html, text = folder / "html" / f"{name}.html", folder / "text" / f"{name}.txt"
        expected = text.read_text(encoding="utf-8").strip() if text.is_file() else ""
        if not html.is_file() or len(expected) < MIN_REFERENCE_CHARS:
            left_out += 1
            continue
        pages.append(NewsPage(name, site, url, html.read_bytes(), expected))
    return pages, left_out


def main(argv: list[str] | None = None) -> int:
    parser = arguments(
        __doc__.splitlines()[0], "newspaper's tests/data folder", "one line per page, worst first"
    )
    parser.add_argument("--shingles", action="store_true", help=SHINGLES_HELP)
    args = parser.parse_args(argv)
    measure = shingles if args.shingles else words
    if not (args.folder / "fulltext_url_list.txt").is_file():
        print(f"{args.folder}: no newspaper test data there (needs a local copy)", file=sys.stderr)
        return 2
    loaded, left_out = load(args.folder)
    pages = [p for p in loaded if args.half in ("all", p.half)]
    sites = len({p.site for p in pages})
    print(
        f"Pages: {len(pages)} from {sites} sites ({args.half}); left out for a missing or "
        f"failed reference: {left_out} (of both halves)\n"
    )
    print("| extractor | P | R | F1 (mean of pages) | empty | ms/page |")
    print("|---|---|---|---|---|---|")
    per_page: dict[str, list[Score]] = {}
    for label, extract in extractors(with_trafilatura=not args.no_trafilatura):
        start = time.perf_counter()
        texts = [extract(page.html, page.url) for page in pages]
        ms = 1000 * (time.perf_counter() - start) / max(len(pages), 1)
        scores = [score(measure(t), measure(p.expected)) for t, p in zip(texts, pages, strict=True)]
        per_page[label] = scores
        p, r, f1 = mean_score(scores)
        empty = sum(not t.strip() for t in texts)
        print(f"| {label} | {p:.3f} | {r:.3f} | **{f1:.4f}** | {empty} | {ms:.1f} |")
    if args.pages:
        print()
        order = sorted(range(len(pages)), key=lambda i: per_page["ours"][i].f1)
        for i in order:
            cells = score_cells(per_page, i)
            print(f"{pages[i].name} [{pages[i].half}] {cells}  {pages[i].url}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
