"""What one 📖 extraction costs: `extract_article` CPU time per page, on saved pages.

Run from the repo root:
``python -m bench.bench_extract [--gn1 FOLDER] [--snippets FOLDER] [--every N] [--digest FILE]``.

Readability's 130 test pages (``../shared/data/readability-test-pages``) always; with
``--gn1`` every fourth L3S-GN1 page and with ``--snippets`` every fifth page of
trafilatura's evaluation set (the folders `bench/fulltext_gn1.py` and
`bench/fulltext_snippets.py` read). Each page is extracted once, after ten warm-up calls,
and timed in CPU time of this process (the extraction is single-threaded; CPU time is
less disturbed by other work on a shared machine than wall time, not free of it).

To compare two builds, run this from each checkout in turn under the same load (another
worktree: ``cd OTHER && python -m bench.bench_extract``) and alternate at least twice.
``--digest FILE`` writes each page's result (`repr`), so two builds can be checked for
giving the very same text: ``cmp`` the two files.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import md_table, median, percentile, print_machine
from bench.fulltext_gn1 import load as load_gn1
from bench.fulltext_snippets import load as load_snippets
from bot.fulltext.article import extract_article
from tests.support.fulltextkit import DEFAULT_DATA, load_pages

Pages = list[tuple[str, bytes | str, str]]  # name, page, address
WARM_UP = 10


def page_sets(args: argparse.Namespace) -> dict[str, Pages]:
    sets: dict[str, Pages] = {}
    if DEFAULT_DATA.is_dir():
        sets["Readability's 130 pages"] = [
            (p.name, p.html, f"https://example.com/{p.name}") for p in load_pages(DEFAULT_DATA)
        ]
    if args.gn1:
        pages = load_gn1(Path(args.gn1))[:: args.every or 4]
        sets[f"L3S-GN1, {len(pages)} pages"] = [(p.name, p.html, p.url) for p in pages]
    if args.snippets:
        pages = load_snippets(Path(args.snippets))[:: args.every or 5]
        sets[f"trafilatura's eval, {len(pages)} pages"] = [(p.url, p.html, p.url) for p in pages]
    return sets


def timed(pages: Pages, results: dict[str, str]) -> list[float]:
    """CPU milliseconds of each page's extraction; each result is kept in `results`."""
    times = []
    for name, html, url in pages:
        start = time.process_time()
        result = extract_article(html, url=url)
        times.append(1000 * (time.process_time() - start))
        results[name] = repr(result)
    return times


def row(name: str, times: Sequence[float]) -> list[object]:
    return [
        name,
        len(times),
        f"{median(times):.1f}",
        f"{sum(times) / len(times):.1f}",
        f"{percentile(times, 90):.1f}",
        f"{max(times):.0f}",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gn1", help="L3S-GN1 folder (original/, annotated/, url-mapping.txt)")
    parser.add_argument("--snippets", help="folder with evaldata.json and cache/ or eval/")
    parser.add_argument("--every", type=int, help="take every Nth page of GN1 / snippets")
    parser.add_argument("--digest", help="write each page's result to this JSON file")
    args = parser.parse_args(argv)
    sets = page_sets(args)
    if not sets:
        print(f"bench_extract: no pages (looked in {DEFAULT_DATA})", file=sys.stderr)
        return 2
    print_machine()
    first = next(iter(sets.values()))
    for _, html, url in first[:WARM_UP]:
        extract_article(html, url=url)
    results: dict[str, str] = {}
    rows = [row(name, timed(pages, results)) for name, pages in sets.items()]
    head = ["pages", "n", "median (ms)", "mean (ms)", "p90 (ms)", "max (ms)"]
    print(md_table(head, rows))
    if args.digest:
        Path(args.digest).write_text(json.dumps(results, sort_keys=True), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
