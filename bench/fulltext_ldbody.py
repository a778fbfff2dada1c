"""Score the 📖 full text against the article text publishers declare in their JSON-LD.

Run from the repo root:
``python bench/fulltext_ldbody.py FOLDER [--half diag|check|all] [--min-chars N] [--pages]
[--shingles]``.

FOLDER is the same local copy of trafilatura's evaluation set that
`bench/fulltext_snippets.py` reads (`evaldata.json`, `eval/`, `cache/`), split into the
same two halves by the same hash of each page's address. Of its pages, those whose
JSON-LD holds an `articleBody` of at least `--min-chars` characters are scored here: the
publisher's own article text is the reference, much as a benchmark annotated with the
schema.org `articleBody` of each page judges an extractor. Each page goes through the code
a 📖 tap runs (`tests.support.fulltextkit.reader_text`) and through `trafilatura.extract`
with its defaults; both are compared with the `articleBody` word by word
(`tests.support.fulltextkit.score`: bag-of-words precision, recall, F1; with `--shingles`,
runs of four words, so that order counts).

Two caveats, both printed with the numbers: our extractor reads the same `articleBody` as
a length check and, when both of its passes fall under half of it, as a stand-in, so the
reference is not wholly independent of it; and a publisher's `articleBody` is sometimes
a teaser or holds text the page does not show, which costs every extractor alike.
The JSON-LD is read here with the standard library and lxml alone, not with the bot's
own reader.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import json
import sys
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import lxml.html
import trafilatura
from _pagesets import score_cells
from fulltext_snippets import HALVES, SnippetPage, load

from tests.support.fulltextkit import SHINGLES_HELP, Score, reader_text, score, shingles, words


def _bodies(node: object) -> Iterator[str]:
    """Every string `articleBody` anywhere in a parsed JSON-LD value."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "articleBody" and isinstance(value, str):
                yield value
            else:
                yield from _bodies(value)
    elif isinstance(node, list):
        for value in node:
            yield from _bodies(value)


def declared_body(page: bytes) -> str:
    """The page's longest JSON-LD `articleBody`, as plain text ('' when it has none)."""
    try:
        tree = lxml.html.fromstring(page)
    except (ValueError, lxml.etree.ParserError):
        return ""
    found = []
    for script in tree.xpath('//script[contains(@type, "ld+json")]'):
        try:
            found.extend(_bodies(json.loads(script.text or "", strict=False)))
        except ValueError:
            continue
    body = max(found, key=len, default="")
    if "<" in body:
        with contextlib.suppress(ValueError, lxml.etree.ParserError):
            body = lxml.html.fromstring(body).text_content()
    return html.unescape(body).strip()


def _mean(scores: list[Score]) -> tuple[float, float, float, float]:
    n = len(scores) or 1
    p = sum(s.precision for s in scores) / n
    r = sum(s.recall for s in scores) / n
    f1 = sum(s.f1 for s in scores) / n
    return p, r, f1, (2 * p * r / (p + r) if p + r else 0.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="folder with evaldata.json, eval/ and cache/")
    parser.add_argument("--half", choices=(*HALVES, "all"), default="all")
    parser.add_argument("--min-chars", type=int, default=500, help="shortest articleBody scored")
    parser.add_argument("--pages", action="store_true", help="one line per page")
    parser.add_argument("--no-trafilatura", action="store_true", help="score ours only")
    parser.add_argument("--shingles", action="store_true", help=SHINGLES_HELP)
    args = parser.parse_args(argv)
    measure = shingles if args.shingles else words
    if not (args.folder / "evaldata.json").is_file():
        print(f"{args.folder}/evaldata.json not found: needs a local copy", file=sys.stderr)
        return 2
    pages: list[tuple[SnippetPage, str]] = []
    for page in load(args.folder):
        if args.half in ("all", page.half):
            body = declared_body(page.html)
            if len(body) >= args.min_chars:
                pages.append((page, body))
    print(f"Pages with a JSON-LD articleBody of ≥ {args.min_chars} characters: {len(pages)}")
    print(f"({args.half} half; our extractor also reads that articleBody: see the docstring)\n")
    extractors = [("ours", lambda p: reader_text(p.html, p.url, "Story"))]
    if not args.no_trafilatura:
        extractors.append(("trafilatura", lambda p: trafilatura.extract(p.html, url=p.url) or ""))
    print("| extractor | P | R | F1 (mean of pages) | F1 of mean P, R | empty |")
    print("|---|---|---|---|---|---|")
    per_page: dict[str, list[Score]] = {}
    for label, extract in extractors:
        texts = [extract(page) for page, _ in pages]
        scores = [score(measure(t), measure(b)) for t, (_, b) in zip(texts, pages, strict=True)]
        per_page[label] = scores
        p, r, f1, f1_of_means = _mean(scores)
        empty = sum(not t.strip() for t in texts)
        print(f"| {label} | {p:.3f} | {r:.3f} | **{f1:.4f}** | {f1_of_means:.4f} | {empty} |")
    if args.pages:
        print()
        for i, (page, body) in enumerate(pages):
            print(f"{page.url}  ({len(body)} chars)  {score_cells(per_page, i)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
